"""The write path: access FETs that saturate, the row's write lines and their IR drop."""

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
    # the line: the branch voltage at column j is V_write less 2 r times the currents of the segments up to j
    downstream = np.cumsum(current[:, ::-1, :], axis=1)[:, ::-1, :]
    v_branch = 1.5 - 2 * dev.write_line_resistance * np.cumsum(downstream, axis=1)
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


def test_ir_drop_along_the_row_follows_the_ladder() -> None:
    """Identical branches: the drop at column j is 2 r I (64 j - j (j - 1) / 2 + ...), the far end sees least."""
    chip = powered(1, IDEAL)
    v_mtj, current = chip.write_bias(-np.ones((64, 64), np.int8))
    left = v_mtj[0, :, 0]
    assert np.all(np.diff(left) < 0)                            # monotonic fall towards the far end
    r = IDEAL.device.write_line_resistance
    i = current[0, :, 0]
    drop = 2 * r * np.array([sum(i[k:].sum() for k in range(j + 1)) for j in range(64)])
    assert drop[-1] == pytest.approx(2 * r * i.mean() * 64 * 65 / 2, rel=0.02)
    assert 0.03 < drop[-1] < 0.3                               # ~7 mA per half row on ~0.25 ohm per pitch
    assert 0 < v_mtj[0, 0, 0] - v_mtj[0, -1, 0] < drop[-1]          # the FET absorbs part of the drop


def test_writing_one_row_leaves_the_other_rows_alone() -> None:
    """write_row(r) programs row r (write errors ~1e-4 a cell: at most one of 64 wrong) and no other."""
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
