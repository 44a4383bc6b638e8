"""The twin's fit: chip-model parameters with standard errors, from stored characterisation runs only.

Input: one or more ``twin-fit`` runs (one per SMU wiring); their child runs
are read from the store, never the bench.  Each estimator is stated where it
is computed and in docs/twin.md.  Parameters that no run identifies stay at
the datasheet's values (:data:`NOT_IDENTIFIED` says why).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares, minimize

from benchspec.mx64 import COLUMNS, ROWS
from sim_chip import ChipParameters
from sim_chip.die import Spreads
from sim_chip.readout import column_delay, noise_budget
from sim_chip.switching import switching_probability

from ..rundata import RunData, read_run
from ..store import Store
from ..stubs import MUX_OHM
from .estimators import censored_normal
from .maps import cell_maps

#: the procedures whose runs the fit reads, and the parameters each identifies
IDENTIFIES = {
    "array-map": ("device.r_p_mean", "device.r_ap_mean", "device.r_p_sigma", "device.r_ap_sigma"),
    "readout-delays": ("readout.delay_at_mac_max", "readout.delay_at_mac_min", "readout.comparator_offset_sigma",
                       "readout.comparator_noise_gamma"),
    "energy": ("energy.static_current_vdd", "energy.static_current_vddio"),
    "rv-loop": ("device.v_half_tmr",),
    "switching-probability": ("device.vc0_p_to_ap", "device.delta_mean"),
}

#: parameters a bench cannot separate from others, kept at the datasheet's values, with the reason
NOT_IDENTIFIED = {
    "device.r_fet_mean, device.r_fet_cv": "the SMU reads FET and MTJ in series (every pattern selects both); "
                                          "the branch sums fix R_FET + R_P, so R_P is fitted at the datasheet's "
                                          "R_FET",
    "device.r_pa_correlation, device.resistance_area_cv, device.vc0_cv, device.delta_cv":
        "population spreads seen on one test MTJ only (a single draw)",
    "device.vc0_ap_to_p": "AP->P switching is not measured (switching-probability resets with the SMU and "
                          "pulses P->AP)",
    "device.delta_retention_mean, device.curie_temperature, device.stray_field_ratio":
        "retention bakes: the retention procedure's estimator reads Delta ~3 kT high on this population "
        "(docs/procedures.md), so a bake is not yet a fit input",
    "device.weak_bit_fraction and the defect fractions": "~4 defective MTJs and no weak bits expected per die: "
                                                         "counts too small to fit a rate",
    "readout.column_capacitance_cv, readout.reference_current_mismatch, readout.comparator_delay":
        "absorbed into each column's fitted trip level (one delay offset per column)",
    "readout noise sources other than the comparator's": "the reads measure the total; it is attributed to "
                                                         "comparator_noise_gamma, the other sources at the "
                                                         "datasheet's values",
    "tempcos, drift, 1/f and telegraph noise, breakdown": "one temperature, reads within one millisecond",
    "energy blocks of a MAC": "the supply measures their sum; the split is the model's",
}


@dataclass(frozen=True)
class Estimate:
    """One fitted parameter: value and standard error in its own unit, the runs it came from, how."""

    name: str
    value: float
    stderr: float
    unit: str
    sources: tuple[int, ...]
    method: str


@dataclass
class TwinFit:
    """Everything a fit found: estimates, maps, where they came from and how well the model fits."""

    estimates: dict[str, Estimate] = field(default_factory=dict)
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    die: str = ""
    bench: str = ""
    quality: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def overrides(self) -> dict[str, float]:
        return {name: e.value for name, e in self.estimates.items()}

    def parameters(self) -> ChipParameters:
        return ChipParameters().with_overrides(self.overrides())


class FitError(ValueError):
    """Stored runs a twin cannot be fitted from; the message says which run and why."""


def child_runs(store: Store, run_ids: list[int]) -> dict[str, RunData]:
    """The completed child runs of ``twin-fit`` runs, by procedure (the last of each name wins)."""
    found: dict[str, RunData] = {}
    for run_id in run_ids:
        info = store.run(run_id)
        if info.procedure != "twin-fit":
            raise FitError(f"run {run_id} is a {info.procedure} run, not a twin-fit run")
        for child in store.run_ids(parent=run_id):
            child_info = store.run(child)
            if child_info.status == "completed" and child_info.procedure in IDENTIFIES:
                found[child_info.procedure] = read_run(store, child)
    if not found:
        raise FitError(f"runs {', '.join(map(str, run_ids))} hold no completed characterisation run")
    return found


def fit_runs(store: Store, run_ids: list[int]) -> TwinFit:
    """Fit every parameter the stored runs identify (module docstring)."""
    runs = child_runs(store, run_ids)
    fit = TwinFit(runs={name: data.id for name, data in runs.items()})
    first = store.run(run_ids[0]).provenance
    fit.bench = first.get("bench", {}).get("source", "")
    fit.die = _die(first)
    datasheet = ChipParameters()
    fit.missing = [name for name in IDENTIFIES if name not in runs]
    column_r = None
    if "array-map" in runs:
        column_r = _array_map(fit, runs["array-map"], datasheet)
    base = fit.parameters()
    if "readout-delays" in runs:
        _readout(fit, runs["readout-delays"], base, column_r)
    if "energy" in runs:
        _energy(fit, runs["energy"])
    if "rv-loop" in runs:
        _rv_loop(fit, runs["rv-loop"])
    if "switching-probability" in runs:
        _switching(fit, runs["switching-probability"], fit.parameters())
    return fit


def _die(provenance: dict) -> str:
    """The die id the chip's identity names (``..., die MX64-XXXXXXXX``), or ''."""
    chip = str(provenance.get("identities", {}).get("chip", ""))
    return chip.rpartition("die ")[2].strip() if "die " in chip else ""


def _add(fit: TwinFit, name: str, value: float, stderr: float, data: RunData, method: str) -> None:
    described = {n: (u, span) for n, _, u, _, span in ChipParameters().described()}
    unit, span = described[name]
    low, high = span if span else (-np.inf, np.inf)
    if not low <= value <= high:                  # a twin file must be a valid parameter file
        fit.quality[f"clipped_{name}"] = float(value)
        value = min(max(value, low), high)
    fit.estimates[name] = Estimate(name, float(value), float(stderr), unit, (data.id,), method)


# ------------------------------------------------------------------ array-map
def defect_free_columns(margins: np.ndarray, defect_rate: float) -> np.ndarray:
    """The columns none of whose cells is more likely defective than healthy, (columns,) bool.

    A cell's two margins (``margins`` (2, columns, 64), ohm, the +1 and the -1
    map) add up to (R_AP - R_P) of its left MTJ plus that of its right one,
    FETs cancelled; an MTJ that does not hold both states (stuck or shorted)
    removes its own share, about half.  With the margin sums' median c and
    robust spread s, a healthy cell's sum is ~N(c, s^2) and a defective
    one's ~N(c/2, s^2); with the prior ``defect_rate`` per cell the posterior
    favours a defect below 3c/4 - 2 s^2 ln((1 - rate)/rate)/c.  On a narrow
    population that is close to 3c/4; on a wide one (s a sizeable fraction
    of c) it moves down and no cell is flagged: a defect's column then adds
    less to the spread of the sums than leaving out genuinely wide columns
    takes away (that would select the columns and bias the spread low).
    """
    total = margins[0] + margins[1]
    centre = float(np.median(total))
    spread = 1.4826 * float(np.median(np.abs(total - centre)))
    line = 0.75 * centre - 2 * spread**2 * np.log((1 - defect_rate) / defect_rate) / centre
    return ~(total < line).any(axis=1)


def _array_map(fit: TwinFit, data: RunData, p: ChipParameters) -> dict[int, tuple[float, float]]:
    """Means and spreads of the branch populations less the datasheet's FET; the per-cell maps.

    Columns: those :func:`defect_free_columns` keeps (the datasheet's defect
    rate as the prior).  Means: the average branch of their sums, standard
    error sd(sums)/sqrt(n)/64.  Spreads: the pooled variance of the sums
    (each weight map about its own mean, 2n - 2 degrees of freedom) over 64,
    less the SMU's read noise (read_noise_rel of each sum, averaged
    ``average`` times) and the FET's variance; standard error from the
    variance's sqrt(2/dof), propagated.  Returns each mapped column's (sum
    of P branches, sum of AP branches) of the all +1 array, ohm (MUX
    subtracted): the column resistances at MAC +64 and -64.
    """
    labels = ("plus", "minus")
    low = np.array([data.array(f"column_low_sum_{s}") for s in labels])
    high = np.array([data.array(f"column_high_sum_{s}") for s in labels])
    margins = np.array([data.array(f"margin_weight_{s}") for s in labels])
    f = p.defects
    clean = defect_free_columns(margins, 2 * (f.stuck_p + f.stuck_ap + f.shorted))
    d, r = p.device, p.readout
    fet_var = (d.r_fet_cv * d.r_fet_mean) ** 2
    average = data.parameters.get("average", 1)
    n = int(clean.sum())
    if n < 3:
        raise FitError(f"array-map run {data.id}: {n} clean columns, at least 3 are needed")
    for sums, mean_name, sigma_name in ((low[:, clean], "device.r_p_mean", "device.r_p_sigma"),
                                        (high[:, clean], "device.r_ap_mean", "device.r_ap_sigma")):
        mean_se = float(sums.std(ddof=1) / np.sqrt(sums.size) / ROWS)
        _add(fit, mean_name, float(sums.mean()) / ROWS - d.r_fet_mean, mean_se, data,
             f"mean branch of {n} defect-free columns' sums less the datasheet's R_FET")
        dof = sums.size - 2
        sums_var = float(((sums - sums.mean(axis=1, keepdims=True)) ** 2).sum() / dof)
        noise_var = float(((r.read_noise_rel * (sums + MUX_OHM)) ** 2 / average).mean())
        branch_var = (sums_var - noise_var) / ROWS - fet_var
        sigma = float(np.sqrt(max(branch_var, 1.0)))
        se = sums_var / ROWS * np.sqrt(2 / dof) / (2 * sigma)
        _add(fit, sigma_name, sigma, se, data, "pooled spread of the column sums / 8, less read noise and the FET's")
    fit.quality["array_map_clean_columns"] = n
    noise = r.read_noise_rel * (low[0] + MUX_OHM) * np.sqrt(1 + 1 / average)
    fit.maps.update(cell_maps(low, margins, fit.parameters(), noise, clean, rng=np.random.default_rng(data.id)))
    return {j: (float(low[0, j]), float(high[0, j])) for j in range(low.shape[1]) if clean[j]}


# ------------------------------------------------------------------ readout
def _readout(fit: TwinFit, data: RunData, p: ChipParameters, column_r: dict | None) -> None:
    """Delays, offsets and read noise (module docstring of :mod:`procedures.readout_delays`, docs/twin.md).

    Every column's delay and noise at MAC +64 and -64 by maximum likelihood
    (:func:`censored_normal`); then one reference current for the chip and
    one trip level per column by least squares of the delay law
    t = t_cmp + R C ln(V_inf/(V_inf - V_th,j)), V_inf = V_r - I_ref R, over
    every column, at the column's measured resistance (array-map; the
    nominal one at the fitted means where the column was not mapped).  The
    chip's V_th is the trip levels' mean (the offsets have mean zero), the
    offset spread their variance less what else each level carries
    (:func:`_trip_nuisance`), each column's offset its level less the mean.
    The two delays of the model's calibration follow from V_th and I_ref at
    nominal resistances.  The noise: sigma_t times the node's slope at the
    trip is the trip level's noise in volts; its mean square less the other
    sources' gives the comparator's thermal noise, i.e. gamma.  Standard
    errors of the delays, the offset spread and gamma: jackknife over the
    columns (every refit of the law without one column), which carries the
    offsets' sampling, the reference current's error and the unmapped
    columns' resistances into each; gamma's adds the common noise's
    realised variance (one draw per read, shared by every column).
    """
    d, r = p.device, p.readout
    v_r, t_cmp = p.defaults.v_read, r.comparator_delay
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    levels = {"plus": 64, "minus": -64, "zero": 0}
    mu = np.full((3, COLUMNS), np.nan)
    mu_se, sig, sig_se = mu.copy(), mu.copy(), mu.copy()
    for k, name in enumerate(levels):
        counts, starts, lsbs = data.array(f"codes_{name}"), data.array(f"starts_{name}"), data.array(f"lsb_{name}")
        for j in range(COLUMNS):
            mu[k, j], mu_se[k, j], sig[k, j], sig_se[k, j] = censored_normal(counts[j], starts[j], lsbs[j])
    r1 = ROWS * (d.r_fet_mean + d.r_p_mean)
    r2 = ROWS * (d.r_fet_mean + d.r_ap_mean)
    resistance = np.array([[r1, r2, 0.5 * (r1 + r2)]] * COLUMNS).T
    for j, (low, high) in (column_r or {}).items():
        resistance[:, j] = (low, high, 0.5 * (low + high))
    ok = np.isfinite(mu[:2]).all(axis=0)
    if ok.sum() < 8:
        raise FitError(f"readout-delays run {data.id}: only {int(ok.sum())} columns gave both delays")
    # what an unmapped column's sums may differ from the nominal ones: 64 branches of the fitted spreads
    r_var = np.array([[ROWS * ((d.r_fet_cv * d.r_fet_mean) ** 2 + d.r_p_sigma**2)],
                      [ROWS * ((d.r_fet_cv * d.r_fet_mean) ** 2 + d.r_ap_sigma**2)]]) * np.ones((2, COLUMNS))
    r_var[:, list(column_r or {})] = 0.0
    cols = np.flatnonzero(ok)

    def law(subset: np.ndarray, start: tuple[float, np.ndarray] | None = None) -> tuple[float, np.ndarray, float]:
        """(I_ref, trip levels, rms residual in ns) of the delay law fitted to these columns' two delays;
        ``start``: (I_ref, trip levels) to start from (by default each level from its +64 delay)."""
        rr, measured = resistance[:2, subset], mu[:2, subset]
        m = len(subset)

        def parts(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            levels_v = theta[1:] * 1e-3
            v_inf = v_r - theta[0] * 1e-9 * rr
            ratio = np.clip(levels_v / v_inf, -0.99, 0.999999)
            return levels_v, v_inf, ratio

        def residuals(theta: np.ndarray) -> np.ndarray:                  # ns, (2 m,)
            _, _, ratio = parts(theta)
            return ((t_cmp + rr * c * -np.log1p(-ratio) - measured) * 1e9).ravel()

        def jacobian(theta: np.ndarray) -> np.ndarray:                   # ns per nA and per mV
            levels_v, v_inf, _ = parts(theta)
            gap = v_inf - levels_v
            jac = np.zeros((2 * m, m + 1))
            jac[:, 0] = (rr * c * rr * levels_v / (v_inf * gap)).ravel()
            jac[np.arange(2 * m), 1 + np.tile(np.arange(m), 2)] = (rr * c / gap * 1e6).ravel()
            return jac

        if start is None:
            i_start = 0.3 * v_r / float(rr[1].mean())
            v_start = (v_r - i_start * rr[0]) * -np.expm1(-(measured[0] - t_cmp) / (rr[0] * c))
        else:
            i_start, v_start = start
        found = least_squares(residuals, np.concatenate([[i_start * 1e9], v_start * 1e3]), jac=jacobian,
                              method="lm", x_scale="jac")
        rms = float(np.sqrt((found.fun**2).sum() / max(found.fun.size - found.x.size, 1)))
        return found.x[0] * 1e-9, found.x[1:] * 1e-3, rms

    def nominal(vth: float, iref: float) -> np.ndarray:
        return column_delay(np.array([r1, r2]), np.array([r1, r2]), np.full(2, c), v_r, d.t_ref, p,
                            threshold=vth, reference_current=iref)

    def estimates(subset: np.ndarray, start: tuple[float, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, float, np.ndarray, float]:
        """(the two nominal delays and the offset spread, I_ref, trip levels, rms residual) of these columns."""
        i_ref, trip, rms = law(subset, start)
        nuisance = _trip_nuisance(p, resistance[:2, subset], trip, i_ref, c, mu_se[:2, subset], r_var[:, subset])
        offset_var = float(trip.var(ddof=1) - nuisance.mean())
        return (np.append(nominal(float(trip.mean()), i_ref), np.sqrt(max(offset_var, 1e-10))),
                i_ref, trip, rms)

    values, i_ref, trip, rms = estimates(cols)
    n = len(cols)
    subsets = [np.delete(cols, k) for k in range(n)]
    refits = [estimates(subset, (i_ref, np.delete(trip, k))) for k, subset in enumerate(subsets)]
    leave_one_out = np.array([refit[0] for refit in refits])
    se = np.sqrt((n - 1) / n * ((leave_one_out - leave_one_out.mean(axis=0)) ** 2).sum(axis=0))
    # the nominal resistances are the fitted means: their errors move the nominal delays too
    for name, k in (("device.r_p_mean", 0), ("device.r_ap_mean", 1)):
        if name in fit.estimates:
            step = ROWS * fit.estimates[name].stderr
            moved = column_delay(np.array([r1, r2]) + step * np.eye(2)[k], np.array([r1, r2]) + step * np.eye(2)[k],
                                 np.full(2, c), v_r, d.t_ref, p, threshold=float(trip.mean()),
                                 reference_current=i_ref)
            se[:2] = np.hypot(se[:2], moved - values[:2])
    v_th = float(trip.mean())
    levels_all = np.full(COLUMNS, np.nan)
    levels_all[cols] = trip
    used = cols
    fit.quality["readout_columns"] = n
    fit.quality["readout_delay_rms_residual_ns"] = rms
    method = (f"delay law at nominal R with the mean trip level and the reference current of {n} columns "
              "(jackknife standard error over the columns)")
    _add(fit, "readout.delay_at_mac_max", values[0], se[0], data, method)
    _add(fit, "readout.delay_at_mac_min", values[1], se[1], data, method)
    _add(fit, "readout.comparator_offset_sigma", values[2], se[2], data,
         f"spread of {n} columns' fitted trip levels less what column capacitance, sink mismatch and the delays' "
         "errors add (jackknife standard error over the columns)")
    fit.maps["comparator_offset"] = levels_all - v_th
    # read noise: trip-level noise in volts at each level of the columns the delay law was fitted to
    fitted = fit.parameters()
    fitted = dataclasses.replace(fitted, readout=dataclasses.replace(fitted.readout, comparator_noise_gamma=1.0))
    budget = noise_budget(fitted, d.t_ref, v_r)
    other = budget.ktc**2 + budget.reference**2 + budget.common**2

    def mean_noise(subset: np.ndarray, iref: float, levels_v: np.ndarray) -> float:
        """Mean square trip-level noise (V^2) of these columns less the clock's jitter, with their delay law."""
        slope = (v_r - iref * resistance[:, subset] - levels_v) / (resistance[:, subset] * c)
        return float(np.nanmean((sig[:, subset] * slope) ** 2 - (budget.jitter * slope) ** 2))

    mean_v2 = mean_noise(used, i_ref, trip)
    # the jackknife over the columns carries the reference current's and trip levels' errors into the slopes;
    # the common noise is one draw per read for every column: its realised variance is shared, not averaged
    again = np.array([mean_noise(subset, refit[1], refit[2]) for subset, refit in zip(subsets, refits)])
    reads = float(np.mean([data.array(f"codes_{name}").sum(axis=1).mean() for name in levels]))
    shared_se = budget.common**2 * np.sqrt(2 / (reads - 1) / len(levels))
    mean_se = float(np.hypot(np.sqrt((n - 1) / n * ((again - again.mean()) ** 2).sum()), shared_se))
    gamma = (mean_v2 - other) / budget.comparator**2
    _add(fit, "readout.comparator_noise_gamma", gamma, mean_se / budget.comparator**2, data,
         "mean square trip-level noise less kT/C, sink and common noise, over the comparator's at gamma = 1 "
         "(jackknife standard error over the columns and the common noise's realised variance)")
    fit.quality["readout_noise_uV"] = float(np.sqrt(mean_v2) * 1e6)


def _trip_nuisance(p: ChipParameters, resistance: np.ndarray, trip: np.ndarray, i_ref: float, c: float,
                   delay_se: np.ndarray, resistance_var: np.ndarray) -> np.ndarray:
    """Variance (V^2) each column's fitted trip level has besides its comparator offset, (columns,).

    One trip level per column absorbs the column's own capacitance (spread
    column_capacitance_cv) and sink (reference_current_mismatch), datasheet
    values, and the errors of its two measured delays: each moves delay t_L
    (L = +64, -64) by dt_L, and the least-squares level moves by
    sum_L g_L dt_L / sum_L g_L^2, g_L = dt_L/dV_th = R_L C/(V_inf,L - V_th):
    dt_L = (t_L - t_cmp) eps for a relative capacitance error eps, and
    R_L C V_th I_ref R_L/(V_inf,L (V_inf,L - V_th)) delta for a relative sink error delta, and
    (the same two terms) / R_L times dR_L for an error dR_L of the column's resistance (an unmapped
    column is read at the nominal one).  ``resistance`` (2, columns) ohm, ``delay_se`` (2, columns) s,
    ``resistance_var`` (2, columns) ohm^2.
    """
    r = p.readout
    v_inf = p.defaults.v_read - i_ref * resistance
    gap = v_inf - trip
    g = resistance * c / gap
    charging = resistance * c * np.log(v_inf / gap)
    sink = resistance * c * trip * i_ref * resistance / (v_inf * gap)
    norm = (g**2).sum(axis=0)

    def project(dt: np.ndarray) -> np.ndarray:
        return (g * dt).sum(axis=0) / norm

    independent = np.nan_to_num(delay_se) ** 2 + ((charging + sink) / resistance) ** 2 * resistance_var
    return (project(charging) ** 2 * r.column_capacitance_cv**2 + project(sink) ** 2 * r.reference_current_mismatch**2
            + (g**2 * independent).sum(axis=0) / norm**2)


# ------------------------------------------------------------------ energy, test MTJ
def _energy(fit: TwinFit, data: RunData) -> None:
    """Static currents: the idle window's average rail currents (the supply's 7-digit reading as the error)."""
    idle = data.last("idle_amps")
    for rail, name in (("vdd", "energy.static_current_vdd"), ("vddio", "energy.static_current_vddio")):
        amps = float(idle[rail])
        _add(fit, name, amps, max(abs(amps) * 1e-6, 1e-12), data, "average idle current of the rail")


def _rv_loop(fit: TwinFit, data: RunData) -> None:
    """Vh from the run's fit against the SMU's voltage, rescaled to the MTJ's share in AP (pads in series)."""
    s = data.summary
    pads = data.parameters.get("pad_resistance", 50.0)
    share = s["r_ap_ohm"] / (s["r_ap_ohm"] + pads)
    if not np.isfinite(s["vh_V"]):
        fit.missing.append(f"rv-loop run {data.id}: Vh not identified (no bias dependence seen)")
        return
    _add(fit, "device.v_half_tmr", s["vh_V"] * share, s["vh_se_V"] * share, data,
         "1/TMR linear in V^2 (the run's fit), at the MTJ's share of the bias")


def test_mtj_switching(data: RunData, p: ChipParameters, retention_factor: float) -> tuple[np.ndarray, np.ndarray]:
    """(Vc0 in V, Delta) of the test MTJ and their covariance, by binomial maximum likelihood with the model's
    switching law (:func:`sim_chip.switching.switching_probability`: the linear Neel-Brown barrier, the
    exponent-2 barrier anchored on the retention Delta, the critical passage and precession) as the forward
    model.  The overdrive P->AP is V/Vc0 (R_P does not depend on the bias); the test MTJ's retention Delta is
    ``retention_factor`` times the population's datasheet delta_retention_mean."""
    d = p.device
    widths = np.asarray(data.all("width"), float)
    volts = [np.asarray(v, float) for v in data.all("mtj_voltages")]
    fractions = [np.asarray(f, float) for f in data.all("probability")]
    trials = float(data.parameters["trials"])
    delta_ret = d.delta_retention_mean * retention_factor

    def nll(theta: np.ndarray) -> float:
        vc0, delta = theta
        total = 0.0
        for width, v, f in zip(widths, volts, fractions):
            prob = np.clip(switching_probability(v / vc0, width, np.asarray(delta), np.asarray(delta_ret), d),
                           1e-12, 1 - 1e-12)
            total -= trials * float((f * np.log(prob) + (1 - f) * np.log1p(-prob)).sum())
        return total

    start = np.array([data.summary["vc0_V"], data.summary["delta"]])
    if not np.all(np.isfinite(start)):
        start = np.array([d.vc0_p_to_ap, d.delta_mean])
    found = minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-9, "maxiter": 4000})
    theta = found.x
    steps = np.abs(theta) * 1e-3
    hess = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * steps[i], np.eye(2)[j] * steps[j]
            hess[i, j] = (nll(theta + ei + ej) - nll(theta + ei - ej) - nll(theta - ei + ej)
                          + nll(theta - ei - ej)) / (4 * steps[i] * steps[j])
    return theta, np.linalg.pinv(hess)


def _switching(fit: TwinFit, data: RunData, p: ChipParameters) -> None:
    """The population's Vc0 (P->AP) and Delta from the test MTJ's, conditioned on its measured R_P.

    The test MTJ's own values by :func:`test_mtj_switching`.  It is one draw
    of the population (docs/chip_model.md): with z_P its R_P's standard
    score, ln Vc0 ~ N(ln Vc0_pop + (s_RA^2/s_P) z_P - s_V^2/2, s_A^2 (1 -
    (s_A/s_P)^2) + s_J^2) and Delta ~ Delta_pop (1 - k s_A (s_A/s_P) z_P)
    with relative spread sqrt((k s_A)^2 (1 - (s_A/s_P)^2) + cv^2); the
    population value is the one that puts the measurement at the
    conditional mean, its error the fit's and the conditional spread together.
    """
    s, d = data.summary, p.device
    sp = Spreads.of(d)
    s_ra2 = sp.r_p**2 - sp.area**2
    share = sp.area / sp.r_p
    z_p = (np.log(s["r_p_ohm"] / d.r_p_mean) + 0.5 * sp.r_p**2) / sp.r_p
    k = d.delta_area_exponent
    factor = 1 - k * sp.area * share * z_p
    (vc0_test, delta_test), cov = test_mtj_switching(data, p, factor)
    if not (np.all(np.isfinite(cov)) and cov[0, 0] > 0 and cov[1, 1] > 0):
        fit.missing.append(f"switching-probability run {data.id}: its maximum-likelihood fit did not converge")
        return
    s_v2 = s_ra2 + sp.jc0**2
    residual = sp.area**2 * (1 - share**2) + sp.jc0**2
    vc0 = vc0_test * np.exp(-(s_ra2 / sp.r_p) * z_p + 0.5 * s_v2)
    vc0_se = vc0 * np.sqrt(residual + cov[0, 0] / vc0_test**2)
    _add(fit, "device.vc0_p_to_ap", vc0, vc0_se, data, "test MTJ's Vc0 (binomial ML, the model's switching law), "
         "population given its R_P")
    rel = np.sqrt((k * sp.area) ** 2 * (1 - share**2) + d.delta_cv**2)
    delta = delta_test / factor
    _add(fit, "device.delta_mean", delta, np.hypot(delta * rel, np.sqrt(cov[1, 1]) / factor), data,
         "test MTJ's Delta (binomial ML, the model's switching law), population given its R_P")


def datasheet_value(name: str) -> Any:
    """A parameter's value in the model's own parameters (the datasheet's)."""
    return {n: v for n, v, _, _, _ in ChipParameters().described()}[name]
