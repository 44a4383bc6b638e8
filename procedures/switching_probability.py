"""switching-probability: P(P->AP) of the test MTJ against pulse amplitude at several widths; fit Vc0, Delta.

Thermal regime (datasheet section 4): P = 1 - exp(-t/tau), tau = tau0 exp(Delta (1 - V/Vc0)), so

    ln(-ln(1 - P)) - ln(t/tau0) = -Delta + (Delta/Vc0) V

is a straight line in the MTJ voltage V for every width t: one least-squares
line through all points with 0 < P < 1 gives Delta (minus the intercept) and
Vc0 (Delta over the slope).  tau0 is taken as the datasheet's 1 ns.  Each
trial resets the MTJ to P with the SMU (-0.8 V), fires one pulse and reads
the state with the SMU at a small bias.  For every width a coarse sweep
(10 trials a point over v_min .. v_max) finds the transition, then ``points``
amplitudes across ``span`` around it get ``trials`` each.  Each finished
width is a checkpoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, ParameterError, Plan, Procedure, RunContext

from .common import ensure_powered, figure, float_list
from .mtj_pads import TestStructure

TAU0 = 1e-9
RESET_V = -0.8


class SwitchingProbability(Procedure):
    name = "switching-probability"
    summary = "test-MTJ switching probability against pulse amplitude and width; fit Vc0 and Delta"
    needs = ("smu", "generator")
    parameters = (
        Parameter("v_min", float, 0.22, "lowest pulse amplitude", "V", low=0.0, high=1.2),
        Parameter("v_max", float, 0.46, "highest pulse amplitude", "V", low=0.0, high=1.2),
        Parameter("points", int, 15, "amplitudes per width in the fine sweep", low=3, high=101),
        Parameter("span", float, 0.05, "amplitude span of the fine sweep", "V", low=0.005, high=0.5),
        Parameter("widths", str, "1e-6,1e-5,1e-4", "pulse widths, comma-separated", "s"),
        Parameter("trials", int, 60, "pulses per point", low=10, high=10000),
        Parameter("pad_resistance", float, 50.0, "series resistance of pads and probes", "ohm", low=0, high=1e3),
    )

    @staticmethod
    def _widths(params: dict) -> list[float]:
        widths = float_list(params, "widths")
        if min(widths) <= 0:
            raise ParameterError("parameter widths: every width must be positive")
        return widths

    def plan(self, params: dict, bench: Any) -> Plan:
        widths = self._widths(params)
        n = len(widths) * params["points"] * (params["trials"] + 10)
        plan = Plan(steps=["coarse sweep per width to find the transition",
                           f"fine sweeps: {n} trials in all, each a reset with the SMU, one pulse, a read"])
        plan.send("pulse_amplitude", params["v_min"], params["v_max"])
        plan.send("pulse_width", *widths)
        plan.send("smu_voltage", RESET_V, 0.02)
        plan.duration_s = n * (3 * 0.1 / 50 + 10 * max(widths))
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        ensure_powered(ctx.bench)
        widths = self._widths(params)
        mtj = TestStructure(ctx.bench, 0.02, params["pad_resistance"])
        try:
            mtj.resistance(RESET_V)
            r_p = mtj.resistance()                                   # the P resistance
            threshold = 1.25 * r_p                                   # anything above is AP

            def fraction(amplitude: float, width: float, trials: int) -> float:
                mtj.arm_pulses(amplitude, width)
                hits = 0
                for _ in range(trials):
                    mtj.resistance(RESET_V)
                    mtj.fire()
                    hits += mtj.resistance() > threshold
                return hits / trials

            coarse = np.linspace(params["v_min"], params["v_max"], params["points"])
            state = ctx.resume_state or {"grid": [], "rows": []}
            grid, rows = state["grid"], state["rows"]
            for i, width in enumerate(widths):
                if i < len(rows):
                    continue                                         # measured before an interruption
                p_coarse = np.array([fraction(float(a), width, 10) for a in coarse])
                centre = float(np.interp(0.5, p_coarse, coarse)) if p_coarse.max() >= 0.5 else params["v_max"]
                half = params["span"] / 2
                fine = np.linspace(max(params["v_min"], centre - half), min(params["v_max"], centre + half),
                                   params["points"])
                measured = [fraction(float(a), width, params["trials"]) for a in fine]
                grid.append(fine.tolist())
                rows.append(measured)
                ctx.checkpoint(state)
                ctx.progress("switching-probability", i + 1, len(widths))
        finally:
            mtj.close()
        amplitudes = np.array(grid)                                   # (widths, points)
        probability = np.array(rows)
        v_mtj = mtj.mtj_share(amplitudes, r_p)
        vc0, delta = fit_thermal(v_mtj, np.array(widths), probability)
        ctx.record("amplitudes", amplitudes)
        ctx.record("mtj_voltages", v_mtj)
        ctx.record("widths", np.array(widths))
        ctx.record("probability", probability)
        self._plot(ctx, v_mtj, widths, probability, vc0, delta)
        return {"vc0_V": vc0, "delta": delta, "r_p_ohm": r_p, "trials": int(probability.size * params["trials"])}

    @staticmethod
    def _plot(ctx: RunContext, v: np.ndarray, widths: list[float], p: np.ndarray, vc0: float, delta: float) -> None:
        fig, ax = figure(1, 1, 6.5, 4.5)
        grid = np.linspace(v.min(), v.max(), 200)
        for w, volts, row in zip(widths, v, p):
            line, = ax.plot(volts, row, "o", label=f"{w:g} s")
            model = -np.expm1(-w / (TAU0 * np.exp(delta * (1 - grid / vc0))))
            ax.plot(grid, model, "-", color=line.get_color())
        ax.set_xlabel("voltage across the MTJ, V")
        ax.set_ylabel("P(P->AP)")
        ax.set_title(f"fit: Vc0 = {vc0:.3f} V, Delta = {delta:.1f}")
        ax.legend(title="pulse width")
        ctx.plot("switching_probability", fig)


def fit_thermal(v: np.ndarray, widths: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(Vc0, Delta) from P (widths, points) at MTJ voltages v (widths, points) (module docstring)."""
    vv = v
    tt = np.broadcast_to(widths[:, None], p.shape)
    ok = (p > 0) & (p < 1)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    y = np.log(-np.log1p(-p[ok])) - np.log(tt[ok] / TAU0)
    weights = np.sqrt(p[ok] * (1 - p[ok]))              # points near 0 or 1 carry little information
    slope, intercept = np.polyfit(vv[ok], y, 1, w=weights)
    delta = -intercept
    return float(delta / slope), float(delta)
