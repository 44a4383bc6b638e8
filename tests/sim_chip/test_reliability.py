"""Barrier breakdown, retention and read disturb."""

from __future__ import annotations

import numpy as np

from conftest import powered, random_signs
from sim_chip import MX64, physics
from sim_chip.die import HEALTHY


def test_write_far_above_the_safe_voltage_breaks_mtjs() -> None:
    chip = powered(3)
    before = chip.broken_mtjs
    chip.set_rails(vwrite=3.0)
    w = random_signs(np.random.default_rng(0), (64, 64))
    chip.write_array(w)
    assert chip.broken_mtjs > before + 1000
    # a broken MTJ is a permanent short: rewriting at nominal voltage does not heal it
    chip.set_rails(vwrite=1.5)
    chip.write_array(-w)
    assert (chip.stored_weights() != -w).sum() > 100
    assert chip.broken_mtjs >= before + 1000


def test_nominal_writes_do_not_break_mtjs() -> None:
    chip = powered(3)
    before = chip.broken_mtjs
    rng = np.random.default_rng(1)
    for _ in range(100):
        chip.write_array(random_signs(rng, (64, 64)))
    assert chip.broken_mtjs == before


def test_breakdown_shows_in_the_column_resistance() -> None:
    chip = powered(8)
    chip.write_array(np.ones((64, 64), np.int8))
    chip.set_test_mux(0)
    intact = chip.test_pad_resistance(0.1)
    chip.set_rails(vwrite=3.0)
    chip.write_row(0, np.ones(64, np.int8))       # stress row 0 again, far too hard
    assert chip.test_pad_resistance(0.1) < intact - 5e3


def test_data_survive_ten_years_at_room_temperature(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(2), (64, 64))
    chip.write_array(w)
    stored = chip.stored_weights()
    chip.advance_idle(10 * 365.25 * 86400)
    assert np.array_equal(chip.stored_weights(), stored)


def test_retention_flips_follow_the_thermal_rate_when_hot() -> None:
    chip = powered(12)
    chip.write_array(random_signs(np.random.default_rng(3), (64, 64)))
    chip.set_temperature(450.0)
    before = chip._ap.copy()
    seconds = 0.2
    chip.advance_idle(seconds)
    toggled = chip._ap != before
    healthy = chip.die.defect == HEALTHY
    delta = physics.thermal_stability(chip.die.delta, 450.0, chip.params.device)
    rate = physics.thermal_flip_rate(delta, chip.params.device)
    p_odd = -0.5 * np.expm1(-2 * rate * seconds)           # two-state telegraph process
    expected = p_odd[healthy].sum()
    assert expected > 100
    assert abs(toggled[healthy].sum() - expected) < 5 * np.sqrt(expected)


def test_idle_time_is_exact_however_it_is_split() -> None:
    a, b = powered(13), powered(13)
    w = random_signs(np.random.default_rng(4), (64, 64))
    for chip in (a, b):
        chip.write_array(w)
        chip.set_temperature(440.0)
    start = a._ap.copy()
    a.advance_idle(1.0)
    for _ in range(4):
        b.advance_idle(0.25)
    assert (a._ap != start).sum() > 10
    assert np.array_equal(a._ap, b._ap)
    assert a.elapsed_seconds == b.elapsed_seconds


def test_raised_verify_bias_disturbs_cells(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(5), (64, 64))
    chip.write_array(w)
    stored = chip.stored_weights()
    for _ in range(50):
        chip.verify_row(7)
    assert np.array_equal(chip.stored_weights(), stored)       # nominal bias: no disturb
    chip.set_verify_bias(0.55)
    for _ in range(50):
        chip.verify_row(7)
    changed = chip.stored_weights() != stored
    assert changed[7].sum() > 5 and changed[np.arange(64) != 7].sum() == 0
