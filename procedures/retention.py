"""retention: bakes at several temperatures in (virtual) time; failed-cell fraction against time; Delta(T).

At each temperature the chuck is brought to the setpoint, the array is
programmed there (so the bake starts from a clean state), then read back at
log-spaced bake times.  Every cell holds one MTJ in P and one in AP.  The
reference layer's stray field h tilts the barrier: out of P it is
Delta (1 + h)^2, out of AP Delta (1 - h)^2 (datasheet section 4), so an MTJ
is a two-state chain with rates a = exp(-Delta (1+h)^2)/tau0 and
b = exp(-Delta (1-h)^2)/tau0.  An MTJ that started in P has left it at time t
with probability a/(a+b) (1 - exp(-(a+b) t)), one that started in AP with
b/(a+b) (1 - exp(-(a+b) t)).  A cell reads wrong when both flipped and reads
either sign when one did, so with independent MTJs its failure probability
is half the sum of the two: (1 - exp(-(a+b) t))/2.  Thermal stability varies
from MTJ to MTJ, so each temperature's curve is fitted with
Delta ~ normal(mean, cv * mean) (Gauss-Hermite average); the mean's standard
error comes from the curvature of chi-squared.  The means are then fitted with the datasheet's temperature
law, Delta(T) = Delta_ref (T_ref/T) m(T)^2, m(T) = 1 - (T/Tc)^1.5
normalised at T_ref = 25 degC, giving Delta at 25 degC and Tc, weighted by
the means' standard errors; the error of Delta at 25 degC includes that of
Tc (:func:`fit_temperature_law`): from 403-423 K it is ~1 (about 1 %),
where a fit at the best Tc alone would claim ~0.1, ten times too little.
Every temperature is recorded when its bake ends, and is a checkpoint.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Checkpoint, Context, Plan, Progress, Read, Record, Set, Wait
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import checkerboard, ensure_powered, hold_chuck_at, program

TAU0 = 1e-9
T_REF = 298.15
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(64)   # 3e-6 relative at cv 0.05, 3e-4 at 0.08
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def failed_fraction(t: np.ndarray, mean: float, cv: float, h: float) -> np.ndarray:
    """Expected failed-cell fraction at bake times ``t`` (s) for Delta ~ N(mean, cv*mean), stray field h."""
    delta = mean * (1 + cv * _NODES)[:, None]
    rate = (np.exp(-delta * (1 + h) ** 2) + np.exp(-delta * (1 - h) ** 2)) / TAU0
    return (_WEIGHTS[:, None] * -0.5 * np.expm1(-rate * t[None, :])).sum(axis=0)


def fit_curve(t: np.ndarray, fraction: np.ndarray, cells: int, h: float) -> tuple[float, float, float]:
    """(mean Delta, its standard error, cv) by weighted least squares on a grid, refined once.

    The standard error is the mean's with the cv free (both fitted from one curve; they correlate).
    """
    sigma = np.sqrt(np.maximum(fraction * (1 - fraction), 1.0 / cells) / cells)

    def chi2(m: float, c: float) -> float:
        return float((((failed_fraction(t, m, c, h) - fraction) / sigma) ** 2).sum())

    def search(means: np.ndarray, cvs: np.ndarray) -> tuple[float, float]:
        _, m, c = min((chi2(m, c), m, c) for m in means for c in cvs)
        return float(m), float(c)

    m0, c0 = search(np.arange(10.0, 100.0, 0.25), np.arange(0.0, 0.16, 0.01))
    m, c = search(np.arange(m0 - 0.3, m0 + 0.3, 0.02), np.arange(max(c0 - 0.01, 0.0), c0 + 0.01, 0.002))
    # standard error of the mean from the curvature of chi-squared in both parameters (the cv is fitted
    # too, and the two correlate): cov = 2 H^-1.  Steps named apart from ``h``, the stray field chi2 reads.
    dm, dc = 0.02, 0.002
    c_mid = max(c, dc)                                              # keep cv - dc >= 0
    f = {(i, k): chi2(m + i * dm, c_mid + k * dc) for i in (-1, 0, 1) for k in (-1, 0, 1)}
    h_mm = (f[1, 0] - 2 * f[0, 0] + f[-1, 0]) / dm**2
    h_cc = (f[0, 1] - 2 * f[0, 0] + f[0, -1]) / dc**2
    h_mc = (f[1, 1] - f[1, -1] - f[-1, 1] + f[-1, -1]) / (4 * dm * dc)
    det = h_mm * h_cc - h_mc**2
    se = float(np.sqrt(2 * h_cc / det)) if h_mm > 0 and det > 0 else float("nan")
    return m, se, c


def temperature_shape(temps: np.ndarray, tc: float) -> np.ndarray:
    """Delta(T) / Delta(T_ref) of the datasheet's law."""
    return (T_REF / temps) * ((1 - (temps / tc) ** 1.5) / (1 - (T_REF / tc) ** 1.5)) ** 2


def fit_temperature_law(temps: np.ndarray, means: np.ndarray,
                        se: np.ndarray) -> tuple[float, float, float, float]:
    """(Delta at 25 degC, its standard error, Tc, its standard error) of Delta(T) = Delta_ref shape(T; Tc).

    Weighted least squares (weights 1/se^2): for every Tc on a 1 K grid the
    best Delta_ref is linear, the Tc with the least chi-squared wins.  The
    standard errors come from the covariance of both parameters, (J^T W J)^-1
    with the Jacobian J = (shape, Delta_ref d shape/d Tc): bakes over a few
    tens of kelvin pin Tc only loosely, and the extrapolation to 25 degC
    carries that uncertainty (a fit at fixed Tc would report ~10 times less
    than the estimate's true spread).
    """
    w = 1.0 / np.asarray(se, dtype=float) ** 2
    grid = np.arange(450.0, 3000.0, 1.0)
    shapes = temperature_shape(temps[None, :], grid[:, None])                # (Tc, temperature)
    refs = (w * shapes * means).sum(axis=1) / (w * shapes * shapes).sum(axis=1)
    chi2 = (w * (refs[:, None] * shapes - means) ** 2).sum(axis=1)
    best = int(np.argmin(chi2))
    ref, tc = float(refs[best]), float(grid[best])
    step = 0.5
    d_shape = (temperature_shape(temps, tc + step) - temperature_shape(temps, tc - step)) / (2 * step)
    jac = np.column_stack([temperature_shape(temps, tc), ref * d_shape])
    info = jac.T @ (w[:, None] * jac)
    if len(temps) < 3 or abs(np.linalg.det(info)) < 1e-12 * np.prod(np.diag(info)):
        return ref, float("nan"), tc, float("nan")           # two temperatures cannot fix both
    cov = np.linalg.inv(info)
    return ref, float(np.sqrt(cov[0, 0])), tc, float(np.sqrt(cov[1, 1]))


def plot_retention(data: RunData) -> Any:
    times = data.last("bake_times")
    fig, ax = figure(1, 1, 6.5, 4.5)
    grid = np.geomspace(times[0], times[-1], 200)
    s = data.summary
    for temp, fractions in zip(data.all("temperature"), data.all("failed_fraction")):
        line, = ax.semilogx(times, fractions, "o", label=f"{temp:g} K")
        if f"delta_{temp:g}K" in s:
            ax.semilogx(grid, failed_fraction(grid, s[f"delta_{temp:g}K"], s[f"delta_cv_{temp:g}K"],
                                              data.parameters["stray_field"]), "-", color=line.get_color())
    ax.set_xlabel("bake time, s")
    ax.set_ylabel("failed cells (fraction)")
    title = "retention"
    if s and np.isfinite(s.get("delta_at_25C", np.nan)):
        title += f": Delta(25 °C) = {s['delta_at_25C']:.1f} ± {s['delta_at_25C_se']:.1f}"
    ax.set_title(title)
    ax.legend()
    return fig


@procedure(needs={"thermo": None}, plots=(plot_retention,), resumes="after each temperature")
def retention(
    temperatures: Annotated[list[float], Param("bake temperatures", "K", 200.0, 1500.0)] = (403.0, 413.0, 423.0),
    bake_time: Annotated[float, Param("longest bake at each temperature", "s", 1.0, 1e10)] = 1e9,
    points: Annotated[int, Param("read-backs per temperature, log-spaced from 10 s", low=2, high=200)] = 14,
    tolerance: Annotated[float, Param("temperature reached when within this", "K", 0.01, 10)] = 0.5,
    stray_field: Annotated[float, Param("reference-layer stray field over the anisotropy field, assumed",
                                        "", 0.0, 0.3)] = 0.03,
) -> Plan:
    """bakes at several temperatures (virtual time on the simulated bench); fit Delta(T)"""
    yield from ensure_powered()
    times = np.geomspace(10.0, bake_time, points)
    weights = checkerboard()
    state = (yield Context()).resume
    if state is None:
        state = {"done": [], "fractions": [], "cells": []}
        yield Record("bake_times", times, "s", "time since the start of each bake of every read-back")
    try:
        for i, temp in enumerate(temperatures):
            if temp in state["done"]:
                continue
            yield from hold_chuck_at(temp, tolerance)
            good = yield from program(weights)
            start, fractions = (yield Read("bench.now")), []
            for t in times:
                yield Wait(max(0.0, start + t - (yield Read("bench.now"))))
                read = yield Call("chip.verify_array")
                fractions.append(float(((read != weights) & good).sum() / good.sum()))
            state["done"].append(temp)
            state["fractions"].append(fractions)
            state["cells"].append(int(good.sum()))
            yield Record("temperature", temp, "K")
            yield Record("failed_fraction", np.array(fractions), "", "failed cells at each read-back",
                         ("bake_times",))
            yield Checkpoint(state)
            yield Progress("retention", i + 1, len(temperatures))
    finally:
        yield Set("thermo.ch1.heater_range", "off")
    fits = {temp: fit_curve(times, np.array(f), n, stray_field)
            for temp, f, n in zip(state["done"], state["fractions"], state["cells"])}
    done = np.array(sorted(fits))
    result: dict[str, float] = {}
    if len(done) >= 2:
        means, ses = np.array([fits[t][0] for t in done]), np.array([fits[t][1] for t in done])
        delta_ref, delta_ref_se, tc, tc_se = fit_temperature_law(done, means, ses)
        result = {"delta_at_25C": delta_ref, "delta_at_25C_se": delta_ref_se, "curie_temperature_K": tc,
                  "curie_temperature_se_K": tc_se}
    for temp in done:
        m, se, c = fits[temp]
        result.update({f"delta_{temp:g}K": m, f"delta_se_{temp:g}K": se, f"delta_cv_{temp:g}K": c})
    return result
