"""Expected figures written out from the datasheet's laws, independently of sim_chip's code.

Tests compare the model against these; they take their inputs from
``ChipParameters`` (the datasheet numbers) but none of the model's functions.
"""

from __future__ import annotations

import math

import numpy as np

T_REF = 298.15
C_CELL = 2.1e-15          # F per cell (paper)
ROWS = 64


def mean_row_weight(p) -> float:
    """Mean Elmore weight of a row: 1 for the lumped node, the mean of C_below(i)/C for the ladder."""
    r = p.readout
    if r.topology == "lumped":
        return 1.0
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    return float(np.mean((r.line_capacitance_per_cell * (ROWS - np.arange(ROWS)) + r.comparator_capacitance) / c))


def circuit_constants(p) -> tuple[float, float, float]:
    """(C, V_th, I_ref) that put 13 ns on 64 x 13 kOhm and 29 ns on 64 x 26 kOhm.

    Sense node charging through R towards V_r - I_ref R, comparator at V_th:
    t = t_cmp + w R C ln(V_inf / (V_inf - V_th)), w the topology's mean row weight (1 lumped).
    Solved by bisection on I_ref.
    """
    r = p.readout
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    v = p.defaults.v_read
    w = mean_row_weight(p)
    r1 = ROWS * (p.device.r_fet_mean + p.device.r_p_mean)
    r2 = ROWS * (p.device.r_fet_mean + p.device.r_ap_mean)

    def threshold(i_ref: float, r_col: float, t: float) -> float:
        v_inf = v - i_ref * r_col
        return v_inf * (1 - math.exp(-(t - r.comparator_delay) / (w * r_col * c)))

    lo, hi = 0.0, 0.9 * v / r2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if threshold(mid, r1, r.delay_at_mac_max) < threshold(mid, r2, r.delay_at_mac_min):
            lo = mid
        else:
            hi = mid
    return c, threshold(lo, r1, r.delay_at_mac_max), lo


def delay(r_col: np.ndarray, p, v_read: float | None = None, capacitance: float | None = None,
          r_eff: np.ndarray | None = None, threshold=None, i_ref=None) -> np.ndarray:
    """Column delay in s (datasheet 3's stated circuit) at 25 degC; the nominal V_th and I_ref unless given."""
    c, v_th, i_nom = circuit_constants(p)
    c = c if capacitance is None else capacitance
    v_th = v_th if threshold is None else threshold
    i_ref = i_nom if i_ref is None else i_ref
    v = p.defaults.v_read if v_read is None else v_read
    r_col = np.asarray(r_col, dtype=float)
    r_eff = r_col * mean_row_weight(p) if r_eff is None else r_eff
    v_inf = v - i_ref * r_col
    return p.readout.comparator_delay + r_eff * c * np.log(v_inf / (v_inf - v_th))


K_B = 1.380649e-23          # J/K
Q_E = 1.602176634e-19       # C


def voltage_noise(p, temperature: float = T_REF) -> tuple[float, float]:
    """(per-column, common) white noise at the comparator input, V rms, from the sources docs/chip_model.md
    states: per column the sense node's kT/C, the comparator pair's 2 x 4kT gamma/gm over a noise bandwidth
    1/(4 t_cmp), the reference sink's shot noise (factor x 2qI) integrated on C over the MAC = 0 delay;
    common the threshold reference's kT/C_ref and the supply noise times V_th/V_inf at MAC = 0."""
    r, d = p.readout, p.device
    c, v_th, i_ref = circuit_constants(p)
    kt = K_B * temperature
    r_mid = ROWS * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))
    charging = float(delay(r_mid, p)) - r.comparator_delay
    column = kt / c + 2 * 4 * kt * r.comparator_noise_gamma / r.comparator_gm / (4 * r.comparator_delay) \
        + r.reference_noise_factor * 2 * Q_E * i_ref * charging / 2 / c**2
    v_inf = p.defaults.v_read - i_ref * r_mid
    common = kt / r.threshold_reference_capacitance + (r.supply_noise * v_th / v_inf) ** 2
    return math.sqrt(column), math.sqrt(common)


def slope(r_col, p, capacitance=None, threshold=None, i_ref=None, r_eff=None) -> np.ndarray:
    """The sense node's slope at the trip point (V_inf - V_th) / (R_eff C), V/s, at the nominal read bias."""
    c, v_th, i_nom = circuit_constants(p)
    c = c if capacitance is None else capacitance
    v_th = v_th if threshold is None else threshold
    i_ref = i_nom if i_ref is None else i_ref
    r_col = np.asarray(r_col, dtype=float)
    r_eff = r_col * mean_row_weight(p) if r_eff is None else r_eff
    return (p.defaults.v_read - i_ref * r_col - v_th) / (r_eff * c)


def column_delays_at_mac0(die, p) -> np.ndarray:
    """Each column's delay (64,) in s at half its cells mismatched (every branch at the mean of its P and AP
    resistances, a shorted MTJ at r_short), with its own capacitance, trip level and sink current, at 25 degC."""
    _, v_th, i_ref = circuit_constants(p)
    r_mtj = np.where(die.defect == 3, p.device.r_short, 0.5 * (die.r_p + die.r_ap))
    r_col = (die.r_fet + r_mtj).sum(axis=(0, 2)) / 2
    return delay(r_col, p, capacitance=die.column_capacitance, threshold=v_th + die.comparator_offset,
                 i_ref=i_ref * (1 + die.reference_mismatch))


def timing_noise_of_the_die(chip, x: np.ndarray) -> np.ndarray:
    """Each column's read-to-read timing noise (64,) in s for input x (64,) on a die at 25 degC: its voltage
    noise over its own node's slope (its resistance in the present states, capacitance, trip level and sink
    current), the clock jitter in quadrature."""
    p, die = chip.params, chip.die
    _, v_th, i_ref = circuit_constants(p)
    column, common = voltage_noise(p)
    r_mtj = np.where(chip._broken, p.device.r_short, np.where(chip._ap, die.r_ap, die.r_p))
    branch = die.r_fet + r_mtj
    r_col = np.where(x[:, None] == 1, branch[:, :, 0], branch[:, :, 1]).sum(axis=0)
    s = slope(r_col, p, die.column_capacitance, v_th + die.comparator_offset, i_ref * (1 + die.reference_mismatch))
    return np.sqrt((column**2 + common**2) / s**2 + p.readout.clock_jitter**2)


def read_level_resistances(p, levels: np.ndarray) -> np.ndarray:
    """Column resistance of an ideal die at k = ``levels`` mismatches, each MTJ at its MAC read bias.

    The read bias splits over the chain; an MTJ's share is taken against the
    column's mean resistance (half the branches in each state), which lowers
    R_AP by TMR(V) = TMR0/(1 + V^2/Vh^2).
    """
    d = p.device
    mean_column = ROWS * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))
    v_ap = p.defaults.v_read * d.r_ap_mean / mean_column
    r_ap = d.r_p_mean * (1 + (d.r_ap_mean / d.r_p_mean - 1) / (1 + (v_ap / d.v_half_tmr) ** 2))
    return ROWS * (d.r_fet_mean + d.r_p_mean) + np.asarray(levels) * (r_ap - d.r_p_mean)


def codes_match(codes: np.ndarray, units: np.ndarray, slack: float = 0.01) -> bool:
    """Codes equal clip(floor(units), 0, 15), except within ``slack`` of a code boundary (either side)."""
    expected = np.clip(np.floor(units), 0, 15)
    near = np.abs(units - np.round(units)) < slack
    return bool(np.all((codes == expected) | (near & (np.abs(codes - expected) <= 1))))


def barriers_from_p_and_ap(delta_retention: float, h: float) -> tuple[float, float]:
    """Zero-bias barriers out of P and out of AP with a stray field h (in units of H_k)."""
    return delta_retention * (1 + h) ** 2, delta_retention * (1 - h) ** 2


def bloch_delta(delta_ref, temperature: float, tc: float):
    """Delta(T) = Delta_ref (T_ref/T) (m(T)/m(T_ref))^2, m = 1 - (T/Tc)^1.5."""
    m = (1 - (temperature / tc) ** 1.5) / (1 - (T_REF / tc) ** 1.5)
    return delta_ref * (T_REF / temperature) * m**2


#: Mean passage time at I = Ic0 over tau_D sqrt(Delta): 2 int_0^sqrt(D) F(u) / (u (2 - u/sqrt(D))) du / sqrt(D)...
#: ~1.44 for Delta of 40-100 (F Dawson's integral; test_switching checks it against the integral).
CRITICAL_K = 1.44


def survival(x, width, delta_sw, delta_ret, dev):
    """Datasheet 4 switching: probability that a pulse at overdrive x = I/Ic0 leaves the MTJ unswitched.

    Thermal branch: a Poisson rate 1/(tau0 exp(B) + T_p), B = max(Delta_sw (1-x), Delta_ret (1-x)^2) below
    x = 1 and 0 above, T_p = T_c (1 + exp(-sqrt(Delta_ret) (x-1)+))/2 the passage from the top,
    T_c = K tau_D sqrt(Delta_ret); times the precessional (Sun) survival
    1 - exp(-(pi^2 Delta_ret/4) exp(-2 (x-1) t / tau_D)) above x = 1.
    """
    x = np.asarray(x, dtype=float)
    under = np.maximum(1 - x, 0)
    b = np.maximum(delta_sw * under, delta_ret * under**2)
    t_p = CRITICAL_K * dev.tau_precession * np.sqrt(delta_ret) * (1 + np.exp(-np.sqrt(delta_ret)
                                                                           * np.maximum(x - 1, 0))) / 2
    thermal = np.exp(-width / (dev.tau0 * np.exp(b) + t_p))
    arg = 0.25 * math.pi**2 * delta_ret * np.exp(-2 * np.maximum(x - 1, 0) * width / dev.tau_precession)
    prec = np.where(x > 1, -np.expm1(-arg), 1.0)
    return thermal * prec


def mac_energy_blocks(p, vdd: float, vectors: int, toggles: float, counted_lsbs: float, delays, max_start: float,
                      capacitance=None, thresholds=None, i_ref=None) -> dict[str, float]:
    """Energy (J) by block of ``vectors`` MAC reads of the lumped readout, from the laws docs/chip_model.md states.

    Row drivers C_row VDD^2 per input toggle; each column VDD (C_j V_th,j + I_ref,j t_j) (its sense node
    charged to its trip level plus the reference sink until the decision), ``delays`` being each column's t_j
    summed over the reads (64,) (or their total, with the nominal I_ref); each comparator's input pair biased
    at 2 gm / (gm/I_D) for its delay; the TDC's start line (one stage of C_stage per 1/64 ns up to the latest
    window start ``max_start``), a conversion (reset and copy of 4 flip-flops) per column, and per counted LSB a
    ring-oscillator period (M stages of C_stage) and two counter toggles of C_ff; control per clock.
    ``capacitance``, ``thresholds`` and ``i_ref`` default to the nominal circuit's, every column alike.
    """
    e, r = p.energy, p.readout
    c, v_th, i_nom = circuit_constants(p)
    capacitance = np.full(ROWS, c) if capacitance is None else capacitance
    thresholds = np.full(ROWS, v_th) if thresholds is None else thresholds
    delays = np.asarray(delays, dtype=float)
    sink = i_nom * float(np.sum(delays)) if i_ref is None else float(np.dot(i_ref, delays))
    v2 = vdd**2
    start_line = max_start / (1e-9 / 64) * e.tdc_stage_capacitance * v2
    conversion = 64 * 2 * 4 * e.tdc_flipflop_capacitance * v2
    per_lsb = (e.tdc_ring_stages * e.tdc_stage_capacitance + 2 * e.tdc_flipflop_capacitance) * v2
    return {"row_drivers": e.row_driver_capacitance * v2 * toggles,
            "column_lines": vdd * (float(np.dot(capacitance, thresholds)) * vectors + float(sink)),
            "comparators": vdd * 2 * r.comparator_gm / r.comparator_gm_over_id * float(np.sum(delays)),
            "tdc": (start_line + conversion) * vectors + per_lsb * counted_lsbs,
            "control": e.control_energy_per_clock * vectors}
