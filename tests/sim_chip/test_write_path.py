"""The write path: access FETs that saturate, each column's write lines, the drivers' buses and their IR drop."""

from __future__ import annotations

import numpy as np
import pytest

from chips import powered, random_signs
from sim_chip import ChipParameters

IDEAL = ChipParameters.ideal()


def fet_current(v_ds, r_on, i_sat, lam):
    """Datasheet 4's transistor, as parameters.py states it: I_sat tanh(V/(R_on I_sat)) (1 + lambda V)."""
    return i_sat * np.tanh(v_ds / (r_on * i_sat)) * (1 + lam * v_ds)


def mtj_resistance(r_p, r_ap, is_ap, v, vh=0.5):
    tmr = (r_ap / r_p - 1) / (1 + (v / vh) ** 2)
    return np.where(is_ap, r_p * (1 + tmr), r_p)


def test_each_branch_satisfies_kirchhoff_with_the_fet_as_a_transistor() -> None:
    chip = powered(7)
    w = np.where(np.arange(64)[None, :] % 3 == 0, -1, 1) * np.ones((64, 1), np.int8)
    v_mtj, current = chip.write_bias(w.astype(np.int8))
    d, dev = chip.die, chip.params.device
    target = np.stack([w == -1, w == 1], axis=-1)
    r_m = np.where(d.defect == 3, dev.r_short, mtj_resistance(d.r_p, d.r_ap, chip._ap, v_mtj))
    assert np.allclose(current, v_mtj / r_m, rtol=1e-6)                 # the MTJ's own law
    i_sat = np.where(target, dev.fet_isat_p_to_ap, dev.fet_isat_ap_to_p) * dev.r_fet_mean / d.r_fet
    # the buses: column j's driver sees V_write less 2 r_bus times the currents of the segments up to j; its
    # own two lines drop 2 r_line (row + 1) times its own current on the way to the row and back
    downstream = np.cumsum(current[:, ::-1, :], axis=1)[:, ::-1, :]
    rows = np.arange(64)[:, None, None]
    v_branch = 1.5 - 2 * dev.write_bus_resistance * np.cumsum(downstream, axis=1) \
        - 2 * dev.write_line_resistance * (rows + 1) * current
    assert np.allclose(current, fet_current(v_branch - v_mtj, d.r_fet, i_sat, dev.fet_output_conductance),
                       rtol=1e-6, atol=1e-12)


def test_the_fet_limits_the_write_current() -> None:
    """Doubling the write voltage raises the current far less than a 3 kOhm resistor would."""
    w = np.ones((64, 64), np.int8)
    currents = {}
    for v in (0.05, 1.5, 3.0):
        chip = powered(1, IDEAL)
        chip.set_rails(vwrite=v)
        v_mtj, current = chip.write_bias(-w)            # P -> AP on the left, AP -> P on the right
        currents[v] = current[0, 0, 0], v_mtj[0, 0, 0]
    dev = IDEAL.device
    i_small, _ = currents[0.05]
    assert i_small == pytest.approx(0.05 / (dev.r_fet_mean + dev.r_p_mean), rel=0.01)   # linear at low bias
    (i_nom, v_nom), (i_high, _) = currents[1.5], currents[3.0]
    assert i_nom < dev.fet_isat_p_to_ap * 1.3                   # saturated
    assert v_nom < 0.7 * dev.v_breakdown                        # the MTJ is far from breakdown at nominal
    assert i_high / i_nom < 1.5                                 # a resistor would double it
    linear = 1.5 * dev.r_p_mean / (dev.r_p_mean + dev.r_fet_mean)
    assert v_nom < linear - 0.1


def test_ir_drop_follows_the_buses_along_the_columns_and_each_columns_lines_along_the_rows() -> None:
    """Identical branches: the buses drop 2 r_bus I (64 j - j (j - 1) / 2 + ...) at column j (the far column
    sees least), a column's own lines 2 r_line (i + 1) I at row i (the far row sees least); one pulse writes
    both polarities, each column's driver choosing its own."""
    chip = powered(1, IDEAL)
    w = np.where(np.arange(64)[None, :] % 2 == 0, 1, -1) * np.ones((64, 1))
    chip.write_array(-w.astype(np.int8))
    v_mtj, current = chip.write_bias(w.astype(np.int8))        # even columns P->AP on the right, odd AP->P on the left
    dev = IDEAL.device
    for side, columns in ((1, slice(0, None, 2)), (0, slice(1, None, 2))):
        along_columns = v_mtj[0, columns, side]
        assert np.all(np.diff(along_columns) < 0)              # every pulse falls towards the far column
        along_rows = v_mtj[:, 0 if side else 1, side]
        assert np.all(np.diff(along_rows) < 0)                 # and towards the far row
    lines = 2 * dev.write_line_resistance * 64 * current[63, 0, 1]
    assert 0.005 < lines < 0.05                                # ~80 uA over 128 ohm of line at the far row
    assert 0 < v_mtj[0, 0, 1] - v_mtj[63, 0, 1] < lines        # the FET absorbs part of the drop


def test_writing_one_row_leaves_the_other_rows_alone() -> None:
    """write_row(r) programs row r (write errors far below one in 64) and no other."""
    chip = powered(23)
    w = random_signs(np.random.default_rng(24), (64, 64))
    chip.write_array(w)
    before = chip.stored_weights()
    new = -w[37]
    chip.write_row(37, new)
    after = chip.stored_weights()
    others = np.arange(64) != 37
    assert np.array_equal(after[others], before[others])
    assert (after[37] != new).sum() <= 1


def test_an_ideal_die_switches_only_under_a_pulse_that_switches_more_often_than_not() -> None:
    """The golden reference writes deterministically: at 0.3 V on V_WRITE the MTJs see well under
    their critical voltage and nothing switches; at the nominal rail every MTJ does."""
    chip = powered(4, IDEAL)
    w = random_signs(np.random.default_rng(9), (64, 64))
    chip.write_array(w)
    chip.set_rails(vwrite=0.3)
    chip.write_array(-w)
    assert np.array_equal(chip.stored_weights(), w)
    chip.set_rails(vwrite=IDEAL.defaults.v_write)
    chip.write_array(-w)
    assert np.array_equal(chip.stored_weights(), -w)
