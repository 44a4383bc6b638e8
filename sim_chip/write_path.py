"""The write path of one half-row pulse: access FETs as transistors, the columns' write lines and buses.

Units: volt, ampere, ohm.  Arrays are broadcast over any leading axes;
the last axis runs over the 64 columns of a row, driver side first.

Access FET (datasheet 4: it saturates and limits the current in writes).
A tanh compact model of the output characteristic (Curtice, IEEE Trans.
MTT 28, 448, 1980) with channel-length modulation:

    I(V_DS) = I_sat tanh(V_DS / (R_on I_sat)) (1 + lambda V_DS)

Linear with the on-resistance R_on at small V_DS (read biases), saturating
near I_sat above V_DS ~ R_on I_sat ~ 0.3 V.  Each FET's I_sat scales with
its drive strength, I_sat = I_sat,nom R_on,nom / R_on (the spread of R_on
is the spread of the drive); the P->AP and AP->P polarities have their own
I_sat (source degeneration).

Branch.  FET and MTJ in series under the branch voltage V: the MTJ voltage
V_m solves I(V - V_m) = V_m / R_mtj(V_m) (unique: the left side falls and
the right side rises with V_m), found by Newton steps.

Write lines (datasheet 4: IR drop; one pulse writes both polarities).
Each column has its own pair of write lines (bit line and source line)
running along it from its write driver at the row-0 edge, so each column's
driver sets its own polarity: the line it drives to V_WRITE and the one it
grounds decide whether its cell is written toward AP or P.  A pulse's
current flows from the V_WRITE bus through the column's driver, up one line
to the selected row, through the branch, and back down the other line to
the ground bus.  So column j's branch in row i sees

    V_ij = V_write - 2 r_bus sum_{k<=j} sum_{m>=k} I_m - 2 r_line (i + 1) I_j,

the buses (each r_bus per column pitch, fed from the column-0 end) carrying
the currents of columns k..63 in segment k, the column's lines (each
r_line per row pitch) its own current.  Solved by fixed-point iteration
with the branch currents (the loop gain is ~0.1: four rounds settle to
< 0.1 uV).
"""

from __future__ import annotations

import numpy as np

from . import physics
from .parameters import DeviceParameters

_NEWTON_STEPS = 4  # branch solve: relative current error < 1e-6 from the linear divider
_LINE_ROUNDS = 4   # IR-drop fixed point: < 0.1 uV


def saturation_current(r_on: np.ndarray, to_ap: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """I_sat in A of FETs of on-resistance ``r_on`` (at temperature) in the polarity that writes AP or P."""
    return np.where(to_ap, p.fet_isat_p_to_ap, p.fet_isat_ap_to_p) * (p.r_fet_mean / r_on)


def fet_current(v_ds: np.ndarray, r_on: np.ndarray, i_sat: np.ndarray, p: DeviceParameters) -> np.ndarray:
    """Drain current in A of access FETs at drain-source voltage ``v_ds`` >= 0 (module docstring)."""
    return i_sat * np.tanh(v_ds / (r_on * i_sat)) * (1.0 + p.fet_output_conductance * v_ds)


def branch_solve(v_branch: np.ndarray | float, r_on: np.ndarray, i_sat: np.ndarray, r_p: np.ndarray,
                 r_ap: np.ndarray, is_ap: np.ndarray, broken: np.ndarray, temperature: float,
                 p: DeviceParameters) -> tuple[np.ndarray, np.ndarray]:
    """(MTJ voltage in V, branch current in A) of FET + MTJ branches under ``v_branch`` >= 0 V.

    Newton steps on f(V_m) = I(V - V_m) - V_m / R_mtj(V_m), kept inside
    [0, V]; f falls strictly with V_m, so they converge from the linear
    divider in a few steps.  A broken MTJ is the fixed
    resistance ``r_short``.
    """
    v_total = np.broadcast_to(np.asarray(v_branch, dtype=float), np.broadcast(r_on, r_p).shape)
    lam, knee = p.fet_output_conductance, r_on * i_sat
    rp, tmr0 = physics.mtj_at_temperature(r_p, r_ap, temperature, p)
    r_m = np.where(broken, p.r_short, physics.mtj_resistance_at_bias(rp, tmr0, is_ap, 0.0, p))
    v_m = v_total * r_m / (r_m + r_on)
    def mtj_current(v: np.ndarray) -> np.ndarray:
        return v / np.where(broken, p.r_short, physics.mtj_resistance_at_bias(rp, tmr0, is_ap, v, p))

    for _ in range(_NEWTON_STEPS):
        v_ds = v_total - v_m
        th = np.tanh(v_ds / knee)
        g_fet = i_sat * ((1.0 - th**2) / knee * (1.0 + lam * v_ds) + th * lam)
        i_m = mtj_current(v_m)
        g_mtj = (mtj_current(v_m + 1e-6) - i_m) / 1e-6
        f = i_sat * th * (1.0 + lam * v_ds) - i_m
        v_m = np.clip(v_m + f / (g_fet + g_mtj), 0.0, v_total)
    return v_m, fet_current(v_total - v_m, r_on, i_sat, p)


def bus_drop(currents: np.ndarray, r_bus: float) -> np.ndarray:
    """IR drop in V at each column (last axis) on the V_WRITE and ground buses, for branch currents in A."""
    downstream = np.cumsum(currents[..., ::-1], axis=-1)[..., ::-1]   # segment k carries columns k..63
    return 2.0 * r_bus * np.cumsum(downstream, axis=-1)


def row_pulse(v_write: float, rows: np.ndarray, r_on: np.ndarray, i_sat: np.ndarray, r_p: np.ndarray,
              r_ap: np.ndarray, is_ap: np.ndarray, broken: np.ndarray, temperature: float,
              p: DeviceParameters) -> tuple[np.ndarray, np.ndarray]:
    """(MTJ voltages in V, branch currents in A) of half-row pulses at ``v_write`` on the write drivers.

    Arrays have the 64 columns of one pulse on the last axis and the pulses'
    rows ``rows`` (one per pulse, broadcast against the leading axes) first.
    """
    v_branch = np.full(np.broadcast(r_on, r_p).shape, float(v_write))
    r_lines = 2.0 * p.write_line_resistance * (np.asarray(rows, dtype=float) + 1.0)
    r_lines = r_lines.reshape(r_lines.shape + (1,) * (v_branch.ndim - r_lines.ndim))
    for _ in range(_LINE_ROUNDS):
        _, current = branch_solve(v_branch, r_on, i_sat, r_p, r_ap, is_ap, broken, temperature, p)
        v_branch = np.maximum(v_write - bus_drop(current, p.write_bus_resistance) - current * r_lines, 0.0)
    return branch_solve(v_branch, r_on, i_sat, r_p, r_ap, is_ap, broken, temperature, p)
