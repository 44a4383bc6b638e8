"""What the procedures should measure on a die, from the datasheet's laws and the die's own parameters.

Written independently of sim_chip's functions (tests/sim_chip/datasheet.py
holds the readout circuit and the switching law, reused here): a
procedure's estimate is compared with these, with a tolerance from its
own statistics.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim_chip"))
from datasheet import survival

T_REF = 298.15


def fet_current(v_ds, r_on, i_sat, lam):
    """Datasheet 4's access FET (docs/chip_model.md): I_sat tanh(V/(R_on I_sat)) (1 + lambda V)."""
    return i_sat * np.tanh(v_ds / (r_on * i_sat)) * (1 + lam * v_ds)


def mtj_resistance(r_p, r_ap, is_ap, v, vh):
    """Datasheet 1: TMR(V) = TMR0 / (1 + V^2/Vh^2), R_P flat."""
    return np.where(is_ap, r_p * (1 + (r_ap / r_p - 1) / (1 + (np.asarray(v) / vh) ** 2)), r_p)


def branch_mtj_voltage(v_branch, r_on, i_sat, r_p, r_ap, is_ap, dev):
    """MTJ voltage of FET + MTJ under ``v_branch``: I_fet(V - V_m) = V_m / R_mtj(V_m), by bisection."""
    lo, hi = np.zeros_like(r_p), np.full_like(r_p, v_branch)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        excess = fet_current(v_branch - mid, r_on, i_sat, dev.fet_output_conductance) \
            - mid / mtj_resistance(r_p, r_ap, is_ap, mid, dev.v_half_tmr)
        lo, hi = np.where(excess > 0, mid, lo), np.where(excess > 0, hi, mid)
    return 0.5 * (lo + hi)


def read_disturb_flips(die, params, bias: float, reads: int, clock_hz: float) -> tuple[float, float]:
    """(expected cells, variance) read wrong in most of five nominal verifies after ``reads`` verify passes
    at ``bias`` on a checkerboard.

    Each pass biases every branch once for one clock; the read current pushes P towards AP (the only
    susceptible state), so each cell's P MTJ flips with 1 - exp(-reads h), h = -ln S(V_m/Vc0, one clock)
    (datasheet 4, at the overdrive I/Ic0 with the die's Ic0, Delta and retention barrier).  A flipped cell holds two AP MTJs and
    the verify (sign of R_R - R_L + offset + noise) reads it wrong with the chance that gives.
    """
    from sim_chip.die import HEALTHY
    dev, r = params.device, params.readout
    rows, cols = np.indices((64, 64))
    w = np.where((rows + cols) % 2 == 0, 1, -1)
    p_side = np.where(w == 1, 0, 1)                      # w = +1: left in P
    pick = lambda a, side: np.take_along_axis(a, side[..., None], axis=2)[..., 0]
    r_on = die.r_fet
    i_sat = dev.fet_isat_p_to_ap * dev.r_fet_mean / r_on
    v_m = branch_mtj_voltage(bias, pick(r_on, p_side), pick(i_sat, p_side), pick(die.r_p, p_side),
                             pick(die.r_ap, p_side), False, dev)
    barrier = pick(die.delta_retention, p_side) * (1 + dev.stray_field_ratio) ** 2
    i_m = v_m / pick(die.r_p, p_side)                                # in P: R_P has no bias dependence
    s = survival(i_m / pick(die.ic0_p_to_ap, p_side), 1 / clock_hz, pick(die.delta, p_side), barrier, dev)
    p_flip = -np.expm1(reads * np.log(s))
    # both MTJs in AP, read at the nominal verify bias
    v0 = params.defaults.v_verify
    v_ap = branch_mtj_voltage(v0, r_on, i_sat, die.r_p, die.r_ap, True, dev)
    r_branch = v0 / fet_current(v0 - v_ap, r_on, i_sat, dev.fet_output_conductance)
    diff = r_branch[:, :, 1] - r_branch[:, :, 0] + die.sense_offset[None, :]
    z = diff / r.sense_noise_sigma
    right = 0.5 * (1 + np.vectorize(math.erf)(w * z / math.sqrt(2)))   # one read gives the written sign
    wrong_most = sum(math.comb(5, k) * (1 - right) ** k * right ** (5 - k) for k in (3, 4, 5))
    p_cell = p_flip * wrong_most
    healthy = (die.defect == HEALTHY).all(axis=2)
    return float(p_cell[healthy].sum()), float((p_cell * (1 - p_cell))[healthy].sum())


def rv_switch_steps(volts: np.ndarray, hold: float, mtj: dict, params, pad: float, to_ap: bool) -> np.ndarray:
    """Probability that the test MTJ has switched by each step of a sweep leg (each step held ``hold`` s).

    P->AP from R_P on a positive leg, AP->P from R_AP (bias-dependent) on a negative one; the MTJ gets
    its share of the SMU's voltage through the pads.
    """
    dev = params.device
    r_p, r_ap = mtj["r_p"], mtj["r_ap"]
    v = np.abs(volts)
    v_m = v.copy()
    for _ in range(50):
        r = mtj_resistance(r_p, r_ap, not to_ap, v_m, dev.v_half_tmr)
        v_m = v * r / (r + pad)
    h = dev.stray_field_ratio
    current = v_m / mtj_resistance(r_p, r_ap, not to_ap, v_m, dev.v_half_tmr)     # in the state it leaves
    if to_ap:
        s = survival(current / mtj["ic0_p_to_ap"], hold, mtj["delta"], mtj["delta_retention"] * (1 + h) ** 2, dev)
    else:
        s = survival(current / mtj["ic0_ap_to_p"], hold, mtj["delta"], mtj["delta_retention"] * (1 - h) ** 2, dev)
    return -np.expm1(np.cumsum(np.log(s)))


def pattern_delays(die, ap: np.ndarray, broken: np.ndarray, x: np.ndarray, params) -> np.ndarray:
    """Noiseless delays (n, 64), s, of input vectors x (n, 64) on a die holding ``ap`` / ``broken`` MTJs:
    each column's series chain (x_i = +1 selects the left branch of row i) through datasheet 3's circuit
    with the column's own capacitance, trip level (comparator offset) and sink current (mismatch).  (The
    MTJs' share of the read bias, a few mV, is left out: it moves R_AP by 1e-4; so is the slow noise, tens
    of uV.)  The reads' slopes at the trip point go with them (``slopes``, V/s), for their noise."""
    from datasheet import circuit_constants, delay, slope
    r_mtj = np.where(broken, params.device.r_short, np.where(ap, die.r_ap, die.r_p))
    branch = die.r_fet + r_mtj                                             # (row, column, side)
    left, right = branch[:, :, 0], branch[:, :, 1]
    r_col = (x == 1).astype(float) @ left + (x == -1).astype(float) @ right
    _, v_th, i_ref = circuit_constants(params)
    column = dict(capacitance=die.column_capacitance[None, :], threshold=(v_th + die.comparator_offset)[None, :],
                  i_ref=(i_ref * (1 + die.reference_mismatch))[None, :])
    delays = delay(r_col, params, **column).view(PatternDelays)
    delays.slopes = slope(r_col, params, **column)
    return delays


class PatternDelays(np.ndarray):
    """Delays (s) that carry the slopes (V/s) of their reads at the trip point."""

    slopes: np.ndarray


def mac_transfer_error(params, lsb: float, windows: int, delays: np.ndarray, ideal: np.ndarray,
                       seed: int = 0) -> np.ndarray:
    """mac-transfer's decoded-minus-ideal MACs (n, 64) given the reads' noiseless delays (n, 64, from
    :func:`pattern_delays`, with their slopes) and ideal MACs, under the datasheet's Gaussian read noise: the
    voltage noise (per column and common) over each read's slope, and the jitter, a fresh read per window.

    The procedure's own table and decoder (mac_transfer.window_table, decode) turn the codes into MACs.
    """
    from benchspec.tdc import decode_nearest as decode, fixed_windows as window_starts, window_table
    from datasheet import voltage_noise
    rng = np.random.default_rng(seed)
    column, common = voltage_noise(params)
    codes, tables = [], []
    for start in window_starts(windows, lsb):
        volts = common * rng.standard_normal((len(delays), 1)) + column * rng.standard_normal(delays.shape)
        noise = volts / delays.slopes + params.readout.clock_jitter * rng.standard_normal((len(delays), 1))
        c = np.clip(np.floor((np.asarray(delays) + noise - start) / lsb), 0, 15).astype(np.uint8)
        codes.append(c)
        tables.append(window_table(c, ideal))
    return decode(np.stack(codes), np.stack(tables)) - ideal
