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


def circuit_constants(p) -> tuple[float, float, float]:
    """(C, V_th, I_ref) that put 13 ns on 64 x 13 kOhm and 29 ns on 64 x 26 kOhm.

    Sense node charging through R towards V_r - I_ref R, comparator at V_th:
    t = t_cmp + R C ln(V_inf / (V_inf - V_th)).  Solved by bisection on I_ref.
    """
    r = p.readout
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    v = p.defaults.v_read
    r1 = ROWS * (p.device.r_fet_mean + p.device.r_p_mean)
    r2 = ROWS * (p.device.r_fet_mean + p.device.r_ap_mean)

    def threshold(i_ref: float, r_col: float, t: float) -> float:
        v_inf = v - i_ref * r_col
        return v_inf * (1 - math.exp(-(t - r.comparator_delay) / (r_col * c)))

    lo, hi = 0.0, 0.9 * v / r2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if threshold(mid, r1, r.delay_at_mac_max) < threshold(mid, r2, r.delay_at_mac_min):
            lo = mid
        else:
            hi = mid
    return c, threshold(lo, r1, r.delay_at_mac_max), lo


def delay(r_col: np.ndarray, p, v_read: float | None = None, capacitance: float | None = None,
          r_eff: np.ndarray | None = None) -> np.ndarray:
    """Column delay in s (datasheet 3's stated circuit) at 25 degC."""
    c, v_th, i_ref = circuit_constants(p)
    c = c if capacitance is None else capacitance
    v = p.defaults.v_read if v_read is None else v_read
    r_col = np.asarray(r_col, dtype=float)
    r_eff = r_col if r_eff is None else r_eff
    v_inf = v - i_ref * r_col
    return p.readout.comparator_delay + r_eff * c * np.log(v_inf / (v_inf - v_th))


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


def survival(x, width, delta_sw, delta_ret, dev):
    """Datasheet 4 switching: probability that a pulse at overdrive x = V/Vc0 leaves the MTJ unswitched.

    Neel-Brown rate exp(-B)/tau0, B = max(Delta_sw (1-x), Delta_ret (1-x)^2, B_min), times the
    precessional (Sun) survival 1 - exp(-(pi^2 Delta_ret/4) exp(-2 (x-1) t / tau_D)) above Vc0.
    """
    x = np.asarray(x, dtype=float)
    under = 1 - x
    b = np.maximum(np.maximum(delta_sw * under, delta_ret * np.maximum(under, 0) ** 2), dev.neel_brown_min_barrier)
    thermal = np.exp(-width * np.exp(-b) / dev.tau0)
    arg = 0.25 * math.pi**2 * delta_ret * np.exp(-2 * np.maximum(x - 1, 0) * width / dev.tau_precession)
    prec = np.where(x > 1, -np.expm1(-arg), 1.0)
    return thermal * prec


def mac_energy_blocks(p, vdd: float, vectors: int, toggles: float, counted_lsbs: float, summed_delay: float,
                      column_capacitance_sum: float | None = None) -> dict[str, float]:
    """Energy (J) by block of ``vectors`` MAC reads, from the laws docs/chip_model.md states.

    Row drivers C_row VDD^2 per input toggle; each column VDD (C_j V_th + I_ref t_j) (its sense node
    charged to the threshold plus the reference sink until the trip), ``summed_delay`` being the sum
    of t_j over columns and vectors; a comparator decision and a TDC conversion per column plus an
    energy per counted LSB; control per clock.
    """
    e = p.energy
    c, v_th, i_ref = circuit_constants(p)
    c_sum = ROWS * c if column_capacitance_sum is None else column_capacitance_sum
    return {"row_drivers": e.row_driver_capacitance * vdd**2 * toggles,
            "column_lines": vdd * (c_sum * v_th * vectors + i_ref * summed_delay),
            "comparators": 64 * e.comparator_energy * vectors,
            "tdc": 64 * e.tdc_energy_per_conversion * vectors + e.tdc_energy_per_lsb * counted_lsbs,
            "control": e.control_energy_per_clock * vectors}
