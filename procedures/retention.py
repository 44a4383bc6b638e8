"""retention: bakes at several temperatures in (virtual) time; failed-cell fraction against time; Delta(T).

At each temperature the chuck is brought to the setpoint, the array is
programmed there (so the bake starts from a clean state), then read back at
log-spaced bake times.  A cell reads wrong when one of its MTJs flipped
(then it reads either sign) or both did, so its failure probability equals
one MTJ's probability of an odd number of flips, (1 - exp(-2 r t))/2, with
r = exp(-Delta)/tau0.  Thermal stability varies from MTJ to MTJ, so each
temperature's curve is fitted with Delta ~ normal(mean, cv * mean)
(Gauss-Hermite average).  The means are then fitted with the datasheet's
temperature law, Delta(T) = Delta_ref (T_ref/T) m(T)^2, m(T) = 1 - (T/Tc)^1.5
normalised at T_ref = 25 degC, giving Delta at 25 degC.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, Plan, Procedure, RunContext

from .array_ops import checkerboard, program
from .common import ensure_powered, figure, float_list

TAU0 = 1e-9
T_REF = 298.15
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def failed_fraction(t: np.ndarray, mean: float, cv: float) -> np.ndarray:
    """Expected failed-cell fraction at bake times ``t`` (s) for Delta ~ N(mean, cv*mean)."""
    delta = mean * (1 + cv * _NODES)[:, None]
    rate = np.exp(-delta) / TAU0
    return (_WEIGHTS[:, None] * -0.5 * np.expm1(-2 * rate * t[None, :])).sum(axis=0)


def fit_curve(t: np.ndarray, fraction: np.ndarray, cells: int) -> tuple[float, float]:
    """(mean Delta, cv) by weighted least squares on a grid, refined once."""
    sigma = np.sqrt(np.maximum(fraction * (1 - fraction), 1.0 / cells) / cells)

    def search(means: np.ndarray, cvs: np.ndarray) -> tuple[float, float]:
        errors = [(float((((failed_fraction(t, m, c) - fraction) / sigma) ** 2).sum()), m, c)
                  for m in means for c in cvs]
        _, m, c = min(errors)
        return float(m), float(c)

    m0, c0 = search(np.arange(10.0, 70.0, 0.25), np.arange(0.0, 0.16, 0.01))
    return search(np.arange(m0 - 0.3, m0 + 0.3, 0.02), np.arange(max(c0 - 0.01, 0.0), c0 + 0.01, 0.002))


def fit_temperature_law(temps: np.ndarray, means: np.ndarray) -> tuple[float, float]:
    """(Delta at 25 degC, Tc) of Delta(T) = Delta_ref (T_ref/T) m(T)^2 by least squares over Tc."""
    best = (np.inf, np.nan, np.nan)
    for tc in np.arange(450.0, 3000.0, 5.0):
        shape = (T_REF / temps) * ((1 - (temps / tc) ** 1.5) / (1 - (T_REF / tc) ** 1.5)) ** 2
        ref = float((shape * means).sum() / (shape * shape).sum())
        err = float(((ref * shape - means) ** 2).sum())
        if err < best[0]:
            best = (err, ref, tc)
    return best[1], best[2]


class Retention(Procedure):
    name = "retention"
    summary = "bakes at several temperatures (virtual time on the simulated bench); fit Delta(T)"
    needs = ("thermo",)
    parameters = (
        Parameter("temperatures", str, "383,403,423", "bake temperatures, comma-separated", "K"),
        Parameter("bake_time", float, 360_000.0, "longest bake at each temperature", "s", low=1.0, high=1e9),
        Parameter("points", int, 14, "read-backs per temperature, log-spaced from 10 s", low=2, high=200),
        Parameter("tolerance", float, 0.5, "temperature reached when within this", "K", low=0.01, high=10),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        temps = float_list(params, "temperatures")
        plan = Plan(steps=[f"at {t:g} K: heat, program, bake {params['bake_time']:g} s with "
                           f"{params['points']} read-backs" for t in temps])
        plan.send("temperature", *temps)
        plan.send("vwrite", bench.rails.vwrite)
        plan.duration_s = len(temps) * (params["bake_time"] + 600.0)
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        bench, chip = ctx.bench, ctx.chip
        ensure_powered(bench)
        temps = float_list(params, "temperatures")
        times = np.geomspace(10.0, params["bake_time"], params["points"])
        weights = checkerboard()
        state = ctx.resume_state or {"done": [], "fractions": [], "cells": []}
        thermo = bench.thermo
        try:
            for i, temp in enumerate(temps):
                if temp in state["done"]:
                    continue
                rise = temp - 298.15
                thermo.set_heater_range("low" if rise <= 20 else "medium" if rise <= 80 else "high")
                thermo.set_setpoint(temp)
                thermo.wait_for_temperature(temp, tolerance=params["tolerance"], poll=10.0)
                good = program(chip, weights)
                start, fractions = bench.clock.now(), []
                for t in times:
                    bench.wait(max(0.0, start + t - bench.clock.now()))
                    fractions.append(float(((chip.verify_array() != weights) & good).sum() / good.sum()))
                state["done"].append(temp)
                state["fractions"].append(fractions)
                state["cells"].append(int(good.sum()))
                ctx.record(f"failed_fraction_{temp:g}K", np.array(fractions))
                ctx.checkpoint(state)
                ctx.progress("retention", i + 1, len(temps))
        finally:
            thermo.set_heater_range("off")
        fits = [fit_curve(times, np.array(f), n) for f, n in zip(state["fractions"], state["cells"])]
        means = np.array([m for m, _ in fits])
        order = np.argsort(state["done"])
        done = np.array(state["done"])[order]
        delta_ref, tc = fit_temperature_law(done, means[order]) if len(done) >= 2 else (np.nan, np.nan)
        ctx.record("bake_times", times)
        ctx.record("temperatures", done)
        ctx.record("delta_mean_fit", means[order])
        ctx.record("delta_cv_fit", np.array([c for _, c in fits])[order])
        self._plot(ctx, times, done, np.array(state["fractions"])[order], fits, order)
        result = {"delta_at_25C": delta_ref, "curie_temperature_K": tc}
        for temp, (m, c) in zip(done, (fits[k] for k in order)):
            result[f"delta_{temp:g}K"] = m
            result[f"delta_cv_{temp:g}K"] = c
        return result

    @staticmethod
    def _plot(ctx: RunContext, times, temps, fractions, fits, order) -> None:
        fig, ax = figure(1, 1, 6.5, 4.5)
        grid = np.geomspace(times[0], times[-1], 200)
        for temp, f, k in zip(temps, fractions, order):
            line, = ax.semilogx(times, f, "o", label=f"{temp:g} K")
            ax.semilogx(grid, failed_fraction(grid, *fits[k]), "-", color=line.get_color())
        ax.set_xlabel("bake time, s")
        ax.set_ylabel("failed cells")
        ax.set_title("retention")
        ax.legend()
        ctx.plot("retention", fig)
