"""rv-loop: R-V hysteresis of the test MTJ with the SMU; fit TMR(V) = TMR0 / (1 + V^2/Vh^2).

The SMU sweeps 0 -> +V_max -> -V_max -> 0, holding each step for its
reading (the hold is what switches the MTJ: P->AP on the way up, AP->P on
the way down).  Below the switching voltages both states are seen at the
same bias (P on the first leg, AP on the return), so TMR(V) = R_AP(V)/R_P(V) - 1
there, and 1/TMR = 1/TMR0 + V^2/(TMR0 Vh^2) is a line in V^2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, Plan, Procedure, RunContext

from .common import ensure_powered, figure
from .mtj_pads import TestStructure


class RVLoop(Procedure):
    name = "rv-loop"
    summary = "R-V hysteresis loop of the test MTJ; switching voltages; fit TMR0 and Vh"
    needs = ("smu",)
    parameters = (
        Parameter("v_max", float, 0.8, "sweep amplitude", "V", low=0.05, high=1.0),
        Parameter("step", float, 0.01, "voltage step", "V", low=0.001, high=0.1),
        Parameter("nplc", float, 1.0, "SMU integration per point (also the hold time)", "PLC", low=0.01, high=10),
        Parameter("pad_resistance", float, 50.0, "series resistance of pads and probes", "ohm", low=0, high=1e3),
    )

    @staticmethod
    def sweep(v_max: float, step: float) -> np.ndarray:
        up = np.arange(step, v_max + step / 2, step)
        return np.concatenate([up, up[::-1][1:], -up, -up[::-1][1:]])

    def plan(self, params: dict, bench: Any) -> Plan:
        points = len(self.sweep(params["v_max"], params["step"]))
        plan = Plan(steps=[f"{points} SMU points: 0 -> +{params['v_max']} -> -{params['v_max']} -> 0 V"])
        plan.send("smu_voltage", params["v_max"], -params["v_max"])
        plan.duration_s = points * params["nplc"] / 50.0
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        ensure_powered(ctx.bench)
        volts = self.sweep(params["v_max"], params["step"])
        mtj = TestStructure(ctx.bench, volts[0], params["pad_resistance"], params["nplc"])
        ohms = np.empty_like(volts)
        try:
            mtj.resistance(-params["v_max"])                 # start from P
            for i, v in enumerate(volts):
                ohms[i] = mtj.resistance(float(v))
                ctx.progress("rv-loop", i + 1, len(volts))
        finally:
            mtj.close()
        n = len(volts) // 4 + 1                             # points per leg
        first_up, back_down = ohms[:n], ohms[n - 1:2 * n - 1][::-1]   # P going up, AP coming back
        up_volts = volts[:n]
        threshold = 0.5 * (first_up.min() + back_down.max())
        v_sw_plus = float(up_volts[np.argmax(first_up > threshold)]) if (first_up > threshold).any() else np.nan
        neg = volts[2 * n - 1:3 * n - 1]
        neg_r = ohms[2 * n - 1:3 * n - 1]
        v_sw_minus = float(neg[np.argmax(neg_r < threshold)]) if (neg_r < threshold).any() else np.nan
        both = up_volts < (v_sw_plus if np.isfinite(v_sw_plus) else up_volts.max()) - params["step"]
        tmr = back_down[both] / first_up[both] - 1
        tmr0, vh = fit_tmr_bias(up_volts[both], tmr)
        ctx.record("volts", volts)
        ctx.record("ohms", ohms)
        ctx.record("tmr", np.column_stack([up_volts[both], tmr]))
        self._plot(ctx, volts, ohms, up_volts[both], tmr, tmr0, vh)
        return {"tmr0": tmr0, "vh_V": vh, "v_switch_p_to_ap_V": v_sw_plus, "v_switch_ap_to_p_V": v_sw_minus,
                "r_p_ohm": float(first_up[0]), "r_ap_ohm": float(back_down[0])}

    @staticmethod
    def _plot(ctx: RunContext, volts, ohms, v_tmr, tmr, tmr0: float, vh: float) -> None:
        fig, (a, b) = figure(1, 2, 11, 4)
        a.plot(volts, ohms / 1e3, ".-", ms=3)
        a.set_xlabel("SMU voltage, V")
        a.set_ylabel("MTJ resistance, kOhm")
        a.set_title("R-V loop")
        b.plot(v_tmr, tmr, "o", ms=3, label="measured")
        grid = np.linspace(0, v_tmr.max() if len(v_tmr) else 0.5, 100)
        b.plot(grid, tmr0 / (1 + grid**2 / vh**2), "-", label=f"TMR0 {tmr0:.3f}, Vh {vh:.3f} V")
        b.set_xlabel("bias, V")
        b.set_ylabel("TMR")
        b.legend()
        ctx.plot("rv_loop", fig)


def fit_tmr_bias(v: np.ndarray, tmr: np.ndarray) -> tuple[float, float]:
    """(TMR0, Vh) from TMR(V) = TMR0/(1 + V^2/Vh^2): a line 1/TMR = a + b V^2."""
    if len(v) < 3:
        return float("nan"), float("nan")
    b, a = np.polyfit(v**2, 1 / tmr, 1)
    tmr0 = 1 / a
    return float(tmr0), float(np.sqrt(1 / (b * tmr0))) if b > 0 else float("nan")
