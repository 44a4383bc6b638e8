"""switching-probability: P(P->AP) of the test MTJ against pulse amplitude at several widths; fit Vc0, Delta.

Thermal regime (datasheet section 4): P = 1 - exp(-t/tau), tau = tau0 exp(Delta (1 - V/Vc0)), so

    ln(-ln(1 - P)) = ln(t/tau0) - Delta + (Delta/Vc0) V

is linear in the MTJ voltage V for every width t: a binomial model with
the complementary log-log link and the offset ln(t/tau0).  It is fitted by
maximum likelihood over every point (those that switched never or always
included) by Fisher scoring; Delta is minus the intercept, Vc0 Delta over
the slope, and their standard errors come from the inverse Fisher
information.  tau0 is taken as the datasheet's 1 ns.

A least-squares line through ln(-ln(1 - P)) of the points with 0 < P < 1
would be biased: the transform of a binomial fraction is, and dropping the
points at 0 and 1 keeps the low fractions that came out high and the high
ones that came out low, so the line comes out too flat (by about a
quarter of a per cent in Vc0 and 0.8 in Delta at the default design,
against a tenth of that for the likelihood fit:
tests/estimators/test_estimators.py).

Each trial resets the MTJ to P with the SMU (-0.8 V), fires one pulse and
reads the state with the SMU at a small bias.  For every width a coarse
sweep (10 trials a point over v_min .. v_max) finds the transition, then
``points`` amplitudes across ``span`` around it get ``trials`` each.  The
fit is most precise when the span covers the 5-95 % band (about 0.03 V on
a nominal MTJ) and the widths are decades apart: Vc0 is an extrapolation
to tau = tau0.  Above x = V/Vc0 of about 0.92 the model's thermal barrier
stops at its floor (docs/chip_model.md), so widths below ~1 us leave the
datasheet's law.  Each finished width is recorded and is a checkpoint: an
interrupted run resumes with the next width.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Checkpoint, Context, Plan, Progress, Record
from labctl.plotting import figure
from labctl.procedure import Param, ParameterError, procedure
from labctl.rundata import RunData
from labctl.stubs import ensure_powered

from .mtj_pads import arm_pulses, fire, mtj_share, release, resistance, resistance_at, smu_on

TAU0 = 1e-9
RESET_V = -0.8
READ_V = 0.02


def _validate(params: dict, store: Any) -> None:
    if params["v_min"] >= params["v_max"]:
        raise ParameterError(f"parameters v_min and v_max: v_min ({params['v_min']:g} V) must be below "
                             f"v_max ({params['v_max']:g} V)")


def plot_switching_probability(data: RunData) -> Any:
    v, p, widths = data.array("mtj_voltages"), data.array("probability"), data.all("width")
    v, p = np.atleast_2d(v), np.atleast_2d(p)
    s = data.summary
    fig, ax = figure(1, 1, 6.5, 4.5)
    grid = np.linspace(v.min(), v.max(), 200)
    for w, volts, row in zip(widths, v, p):
        line, = ax.plot(volts, row, "o", label=f"{w:g} s")
        if s and np.isfinite(s["delta"]):
            model = -np.expm1(-w / (TAU0 * np.exp(s["delta"] * (1 - grid / s["vc0_V"]))))
            ax.plot(grid, model, "-", color=line.get_color())
    ax.set_xlabel("voltage across the MTJ, V")
    ax.set_ylabel("P(P->AP)")
    if s:
        ax.set_title(f"fit: Vc0 = {s['vc0_V']:.4f} ± {s['vc0_se_V']:.4f} V, "
                     f"Delta = {s['delta']:.1f} ± {s['delta_se']:.1f}")
    ax.legend(title="pulse width")
    return fig


@procedure(needs={"smu": "test_mtj", "generator": None}, plots=(plot_switching_probability,),
           validate=_validate, resumes="after each pulse width")
def switching_probability(
    v_min: Annotated[float, Param("lowest pulse amplitude", "V", 0.0, 1.2)] = 0.22,
    v_max: Annotated[float, Param("highest pulse amplitude", "V", 0.0, 1.2)] = 0.46,
    points: Annotated[int, Param("amplitudes per width in the fine sweep", low=3, high=101)] = 15,
    span: Annotated[float, Param("amplitude span of the fine sweep", "V", 0.005, 0.5)] = 0.05,
    widths: Annotated[list[float], Param("pulse widths", "s", 1e-9, 1.0)] = (1e-6, 1e-5, 1e-4),
    trials: Annotated[int, Param("pulses per point", low=10, high=10000)] = 60,
    pad_resistance: Annotated[float, Param("series resistance of pads and probes", "ohm", 0, 1e3)] = 50.0,
) -> Plan:
    """test-MTJ switching probability against pulse amplitude and width; fit Vc0 and Delta"""
    yield from ensure_powered()
    state = (yield Context()).resume
    yield from smu_on(READ_V, 0.1)
    try:
        yield from resistance_at(RESET_V, READ_V, pad_resistance)
        if state is None:
            state = {"grid": [], "rows": [], "r_p": (yield from resistance(READ_V, pad_resistance))}  # P resistance
            yield Record("r_p", state["r_p"], "ohm", "the MTJ's resistance in P at the read bias, pads subtracted")
        r_p = state["r_p"]

        def fractions(amplitudes: np.ndarray, width: float, count: int) -> Plan:
            """Switched fraction of ``count`` pulses at each amplitude."""
            found = []
            for amplitude in amplitudes:
                yield from arm_pulses(float(amplitude), width)
                hits = 0
                for _ in range(count):
                    yield from resistance_at(RESET_V, READ_V, pad_resistance)
                    yield from fire()
                    hits += (yield from resistance(READ_V, pad_resistance)) > 1.25 * r_p    # above: AP
                found.append(hits / count)
            return found

        coarse = np.linspace(v_min, v_max, points)
        for i, width in enumerate(widths):
            if i < len(state["rows"]):                               # measured before an interruption
                continue
            p_coarse = yield from fractions(coarse, width, 10)
            centre = float(np.interp(0.5, p_coarse, coarse)) if max(p_coarse) >= 0.5 else v_max
            fine = np.linspace(max(v_min, centre - span / 2), min(v_max, centre + span / 2), points)
            measured = yield from fractions(fine, width, trials)
            state["grid"].append(fine.tolist())
            state["rows"].append(measured)
            yield Record("width", width, "s")
            yield Record("amplitudes", fine, "V", "generator amplitude (open circuit)")
            yield Record("mtj_voltages", mtj_share(fine, r_p, pad_resistance), "V", "voltage across the MTJ")
            yield Record("probability", np.array(measured), "", f"fraction of {trials} pulses that switched P->AP")
            yield Checkpoint(state)
            yield Progress("switching-probability", i + 1, len(widths))
    finally:
        yield from release()
    v_mtj = mtj_share(np.array(state["grid"]), r_p, pad_resistance)
    (vc0, vc0_se), (delta, delta_se) = fit_thermal(v_mtj, np.array(widths), np.array(state["rows"]), trials)
    return {"vc0_V": vc0, "vc0_se_V": vc0_se, "delta": delta, "delta_se": delta_se, "r_p_ohm": r_p,
            "trials": int(np.size(state["rows"]) * trials)}


def fit_thermal(v: np.ndarray, widths: np.ndarray, p: np.ndarray,
                trials: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """((Vc0, se), (Delta, se)) from P (widths, points) at MTJ voltages v (widths, points).

    Maximum likelihood of the binomial counts ``p * trials`` under
    P = 1 - exp(-exp(ln(t/tau0) + a + b V)), a = -Delta, b = Delta/Vc0,
    by Fisher scoring from the line through the points with 0 < P < 1;
    the standard errors from the inverse Fisher information (Vc0 = -a/b by
    first-order propagation).  NaN when fewer than two points lie strictly
    between 0 and 1 (the slope is then not identified), when the points
    carry too little information to invert it, or when P falls with V.
    """
    p = np.asarray(p, dtype=float)
    tt = np.broadcast_to(np.asarray(widths, dtype=float)[:, None], p.shape).ravel()
    v, p = np.broadcast_to(np.asarray(v, dtype=float), p.shape).ravel(), p.ravel()
    nan = (float("nan"), float("nan"))
    ok = (p > 0) & (p < 1)
    if ok.sum() < 2 or np.ptp(v[ok]) == 0:
        return nan, nan
    n, k = float(trials), p * trials
    offset = np.log(tt / TAU0)
    x = np.column_stack([np.ones_like(v), v])
    slope, intercept = np.polyfit(v[ok], np.log(-np.log1p(-p[ok])) - offset[ok], 1)
    beta = np.array([intercept, slope])

    def terms(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(log-likelihood, score, Fisher information) at b."""
        mu = np.exp(np.minimum(offset + x @ b, 50.0))               # -ln(1 - P)
        prob = -np.expm1(-mu)
        var = np.maximum(prob * (1 - prob), 1e-300)
        slope_p = mu * np.exp(-mu)                                  # dP/d(eta)
        loglik = float(np.sum(k * np.log(np.maximum(prob, 1e-300)) - (n - k) * mu))
        score = x.T @ ((k - n * prob) / var * slope_p)
        info = x.T @ ((n * slope_p**2 / var)[:, None] * x)
        return loglik, score, info

    loglik, score, info = terms(beta)
    try:
        for _ in range(100):
            step = np.linalg.solve(info, score)
            for _ in range(30):                                     # halve until the likelihood rises
                trial = terms(beta + step)
                if trial[0] >= loglik:
                    break
                step = step / 2
            beta = beta + step
            loglik, score, info = trial
            if np.all(np.abs(step) <= 1e-10 * (1 + np.abs(beta))):
                break
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:                                   # too few informative points
        return nan, nan
    a, b = beta
    if not (b > 0 and np.all(np.isfinite(cov)) and cov[0, 0] >= 0):
        return nan, nan
    grad = np.array([-1 / b, a / b**2])                             # d(-a/b)/d(a, b)
    vc0_se = float(np.sqrt(grad @ cov @ grad))
    return (float(-a / b), vc0_se), (float(-a), float(np.sqrt(cov[0, 0])))
