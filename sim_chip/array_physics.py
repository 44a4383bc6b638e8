"""What the array's MTJs see in each operation: branch resistances, write biases, flip rates.

Pure functions of a die, its present MTJ states and the operating point;
:class:`sim_chip.macro.MX64` turns them into operations.  Arrays have
shape (rows, 64, 2) indexed [row, column, side] (side 0: MTJ_L).
Units: ohm, volt, ampere, second, kelvin.
"""

from __future__ import annotations

import numpy as np

from . import physics, switching, write_path
from .die import SHAPE, Die
from .flips import FlipRates
from .parameters import ChipParameters


def read_branches(die: Die, ap: np.ndarray, broken: np.ndarray, read_bias: float, temperature: float,
                  params: ChipParameters) -> np.ndarray:
    """Branch resistances (64, 64, 2), FET included, during a MAC read.

    A MAC biases each MTJ with its share of the column's read bias (a few mV,
    where the FET is linear); the share is taken against the column's mean
    resistance (half the branches in each state).
    """
    dev = params.device
    r_fet = physics.fet_resistance(die.r_fet, temperature, dev)
    r0 = np.where(broken, dev.r_short, physics.mtj_resistance(die.r_p, die.r_ap, ap, 0.0, temperature, dev))
    column = (r_fet + r0).sum(axis=(0, 2)) / 2.0
    v_mtj = read_bias * r0 / column[None, :, None]
    return r_fet + np.where(broken, dev.r_short,
                            physics.mtj_resistance(die.r_p, die.r_ap, ap, v_mtj, temperature, dev))


def idle_branches(die: Die, ap: np.ndarray, broken: np.ndarray, temperature: float,
                  params: ChipParameters) -> np.ndarray:
    """Branch resistances (64, 64, 2) at zero bias."""
    dev = params.device
    r_mtj = physics.mtj_resistance(die.r_p, die.r_ap, ap, 0.0, temperature, dev)
    return physics.fet_resistance(die.r_fet, temperature, dev) + np.where(broken, dev.r_short, r_mtj)


def verify_branches(die: Die, rows: slice, ap: np.ndarray, broken: np.ndarray, verify_bias: float,
                    temperature: float, params: ChipParameters) -> tuple[np.ndarray, np.ndarray]:
    """(branch resistance, current) of ``rows`` under the verify bias; the FET as a transistor.

    The verify current flows in the read-disturb direction (``read_disturb_direction``).
    """
    dev = params.device
    to_ap = params.readout.read_disturb_direction == "P->AP"
    r_on = physics.fet_resistance(die.r_fet[rows], temperature, dev)
    i_sat = write_path.saturation_current(r_on, to_ap, dev)
    _, current = write_path.branch_solve(verify_bias, r_on, i_sat, die.r_p[rows], die.r_ap[rows], ap,
                                         broken, temperature, dev)
    return verify_bias / current, current


def write_bias(die: Die, rows: slice, target_ap: np.ndarray, ap: np.ndarray, broken: np.ndarray,
               v_write: float, temperature: float, params: ChipParameters) -> tuple[np.ndarray, np.ndarray]:
    """(MTJ voltage, current) of every branch of ``rows`` in its half-row pulse toward ``target_ap``.

    Each (row, side) is one pulse of 64 branches, each on its column's write
    lines (:func:`write_path.row_pulse`); the FET's polarity follows the target.
    """
    dev = params.device

    def pulses(a: np.ndarray) -> np.ndarray:   # (k, 64, 2) -> (k, 2, 64): columns last
        return np.swapaxes(a, 1, 2)

    row_index = np.arange(SHAPE[0])[rows]
    r_on = physics.fet_resistance(die.r_fet[rows], temperature, dev)
    i_sat = write_path.saturation_current(r_on, target_ap, dev)
    v_m, current = write_path.row_pulse(v_write, row_index, pulses(r_on), pulses(i_sat), pulses(die.r_p[rows]),
                                        pulses(die.r_ap[rows]), pulses(ap), pulses(broken), temperature, dev)
    return pulses(v_m), pulses(current)


def write_survival(die: Die, rows: slice, target_ap: np.ndarray, current: np.ndarray, width: float,
                   temperature: float, params: ChipParameters) -> np.ndarray:
    """Probability that a pulse of ``width`` s driving ``current`` (A) through each MTJ leaves it short of
    ``target_ap``: overdrive I / Ic0 of the target's direction."""
    dev = params.device
    ic0 = physics.critical_current(np.where(target_ap, die.ic0_p_to_ap[rows], die.ic0_ap_to_p[rows]),
                                   temperature, dev)
    delta_sw = physics.thermal_stability(die.delta[rows], temperature, dev)
    out_of_p, out_of_ap = physics.state_barriers(physics.thermal_stability(die.delta_retention[rows],
                                                                            temperature, dev), dev)
    return switching.survival(current / ic0, width, delta_sw, np.where(target_ap, out_of_p, out_of_ap), dev)


def flip_rates(die: Die, frozen: np.ndarray, read_bias: float, verify_bias: float, temperature: float,
               clock_hz: float, params: ChipParameters) -> FlipRates:
    """Retention and read-disturb rates for the present operating point (``frozen``: stuck or broken).

    Idle: out of P at a ~ exp(-B_P)/tau0, out of AP at b ~ exp(-B_AP)/tau0
    (zero bias: the retention barriers with the stray field;
    :func:`switching.thermal_rate`).  Disturb: the hazard of one read pulse
    (one clock) on an MTJ in the state the read current pushes out of, less
    what idle time gives in that clock, at the overdrive I/Ic0 of its read
    current.  A MAC cell's bias is its share of the read bias against its
    column's mean resistance; a verify read biases the whole branch.
    """
    if not params.stochastic:
        return FlipRates.zero(clock_hz)
    dev, T = params.device, temperature
    delta_sw = physics.thermal_stability(die.delta, T, dev)
    out_of_p, out_of_ap = physics.state_barriers(physics.thermal_stability(die.delta_retention, T, dev), dev)
    a = switching.thermal_rate(0.0, delta_sw, out_of_p, dev)
    b = switching.thermal_rate(0.0, delta_sw, out_of_ap, dev)
    from_p = params.readout.read_disturb_direction == "P->AP"
    ic0 = physics.critical_current(die.ic0_p_to_ap if from_p else die.ic0_ap_to_p, T, dev)
    barrier, idle_out = (out_of_p, a) if from_p else (out_of_ap, b)
    period = 1.0 / clock_hz
    r_fet = physics.fet_resistance(die.r_fet, T, dev)
    r_mtj = physics.mtj_resistance(die.r_p, die.r_ap, not from_p, 0.0, T, dev)   # in the susceptible state
    r_p0 = physics.mtj_resistance(die.r_p, die.r_ap, False, 0.0, T, dev)
    r_ap0 = physics.mtj_resistance(die.r_p, die.r_ap, True, 0.0, T, dev)
    column = (r_fet + 0.5 * (r_p0 + r_ap0)).sum(axis=(0, 2)) / 2.0
    i_sat = write_path.saturation_current(r_fet, from_p, dev)
    _, i_verify = write_path.branch_solve(verify_bias, r_fet, i_sat, die.r_p, die.r_ap, not from_p,
                                          np.zeros(die.r_p.shape, bool), T, dev)
    v_mac = read_bias * r_mtj / column[None, :, None]
    i_mac = v_mac / physics.mtj_resistance(die.r_p, die.r_ap, not from_p, v_mac, T, dev)

    def extra(current: np.ndarray) -> np.ndarray:
        hazard = switching.pulse_hazard(current / ic0, period, delta_sw, barrier, dev) - idle_out * period
        return np.where(frozen, 0.0, np.maximum(hazard, 0.0))

    idle = np.where(frozen, 0.0, a + b)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_ap = np.where(idle > 0, a / idle, 0.0)
    return FlipRates(idle, p_ap, extra(i_mac), extra(i_verify), clock_hz, from_p)
