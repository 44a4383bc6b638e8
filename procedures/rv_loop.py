"""rv-loop: R-V hysteresis of the test MTJ with the SMU; fit TMR(V) = TMR0 / (1 + V^2/Vh^2).

The SMU sweeps 0 -> +V_max -> -V_max -> 0, holding each step for its
reading (the hold is what switches the MTJ: P->AP on the way up, AP->P on
the way down).  Below the switching voltages both states are seen at the
same bias (P on the first leg, AP on the return), so TMR(V) = R_AP(V)/R_P(V) - 1
there, and 1/TMR = 1/TMR0 + V^2/(TMR0 Vh^2) is a line in V^2, whose
covariance gives the uncertainties of TMR0 and Vh.  Every point is recorded
as it is read.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Plan, Progress, Record, Set
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import ensure_powered

from .mtj_pads import release, resistance, resistance_at, smu_on


def sweep(v_max: float, step: float) -> np.ndarray:
    up = np.arange(step, v_max + step / 2, step)
    return np.concatenate([up, up[::-1][1:], -up, -up[::-1][1:]])


def plot_rv_loop(data: RunData) -> Any:
    volts = data.last("volts")
    ohms = data.array("ohms")
    fig, (a, b) = figure(1, 2, 11, 4)
    a.plot(volts[:len(ohms)], ohms / 1e3, ".-", ms=3)
    a.set_xlabel("SMU voltage, V")
    a.set_ylabel("MTJ resistance, kOhm")
    a.set_title("R-V loop")
    s = data.summary
    if "tmr" in data:
        v_tmr, tmr = data.last("tmr").T
        b.plot(v_tmr, tmr, "o", ms=3, label="measured")
        if s and np.isfinite(s["tmr0"]):
            grid = np.linspace(0, v_tmr.max() if len(v_tmr) else 0.5, 100)
            b.plot(grid, s["tmr0"] / (1 + grid**2 / s["vh_V"]**2), "-",
                   label=f"TMR0 {s['tmr0']:.3f} ± {s['tmr0_se']:.3f}, Vh {s['vh_V']:.3f} ± {s['vh_se_V']:.3f} V")
        b.legend()
    b.set_xlabel("bias, V")
    b.set_ylabel("TMR")
    return fig


@procedure(needs={"smu": "test_mtj"}, plots=(plot_rv_loop,))
def rv_loop(
    v_max: Annotated[float, Param("sweep amplitude", "V", 0.05, 1.0)] = 0.8,
    step: Annotated[float, Param("voltage step", "V", 0.001, 0.1)] = 0.01,
    nplc: Annotated[float, Param("SMU integration per point (also the hold time)", "PLC", 0.01, 10)] = 1.0,
    pad_resistance: Annotated[float, Param("series resistance of pads and probes", "ohm", 0, 1e3)] = 50.0,
) -> Plan:
    """R-V hysteresis loop of the test MTJ; switching voltages; fit TMR0 and Vh"""
    yield from ensure_powered()
    volts = sweep(v_max, step)
    yield Record("volts", volts, "V", "the SMU's sweep")
    ohms = np.empty_like(volts)
    yield from smu_on(volts[0], nplc)
    try:
        yield from resistance_at(-v_max, volts[0], pad_resistance)          # start from P
        for i, v in enumerate(volts):
            yield Set("smu.source_voltage", float(v))
            ohms[i] = yield from resistance(float(v), pad_resistance)
            yield Record("ohms", ohms[i], "ohm", "MTJ resistance at the sweep's point")
            yield Progress("rv-loop", i + 1, len(volts))
    finally:
        yield from release()
    n = len(volts) // 4 + 1                             # points per leg
    first_up, back_down = ohms[:n], ohms[n - 1:2 * n - 1][::-1]   # P going up, AP coming back
    up_volts = volts[:n]
    threshold = 0.5 * (first_up.min() + back_down.max())
    v_sw_plus = float(up_volts[np.argmax(first_up > threshold)]) if (first_up > threshold).any() else np.nan
    neg, neg_r = volts[2 * n - 1:3 * n - 1], ohms[2 * n - 1:3 * n - 1]
    v_sw_minus = float(neg[np.argmax(neg_r < threshold)]) if (neg_r < threshold).any() else np.nan
    both = up_volts < (v_sw_plus if np.isfinite(v_sw_plus) else up_volts.max()) - step
    tmr = back_down[both] / first_up[both] - 1
    yield Record("tmr", np.column_stack([up_volts[both], tmr]), "", "bias (V) and TMR where both states were seen")
    (tmr0, tmr0_se), (vh, vh_se) = fit_tmr_bias(up_volts[both], tmr)
    return {"tmr0": tmr0, "tmr0_se": tmr0_se, "vh_V": vh, "vh_se_V": vh_se, "v_switch_p_to_ap_V": v_sw_plus,
            "v_switch_ap_to_p_V": v_sw_minus, "r_p_ohm": float(first_up[0]), "r_ap_ohm": float(back_down[0])}


def fit_tmr_bias(v: np.ndarray, tmr: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """((TMR0, se), (Vh, se)) of TMR(V) = TMR0/(1 + V^2/Vh^2): a line 1/TMR = a + b V^2."""
    nan = (float("nan"), float("nan"))
    if len(v) < 4:
        return nan, nan
    (b, a), cov = np.polyfit(v**2, 1 / tmr, 1, cov=True)
    tmr0 = 1 / a
    tmr0_se = float(np.sqrt(cov[1, 1]) / a**2)
    if b <= 0:
        return (float(tmr0), tmr0_se), nan
    vh = np.sqrt(a / b)                              # Vh^2 = a / b
    grad = np.array([-vh / (2 * b), vh / (2 * a)])   # d Vh / d(b, a)
    return (float(tmr0), tmr0_se), (float(vh), float(np.sqrt(grad @ cov @ grad)))
