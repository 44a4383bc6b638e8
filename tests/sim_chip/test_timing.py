"""Clock costs, the cycle counter and model time."""

from __future__ import annotations

import numpy as np
import pytest

from chips import powered, random_signs
from sim_chip import CLOCKS, MX64


def test_clock_costs(chip: MX64) -> None:
    rng = np.random.default_rng(0)
    assert chip.cycle_counter == 0
    chip.write_array(random_signs(rng, (64, 64)))
    assert chip.cycle_counter == 128 == CLOCKS["write_array"]
    chip.write_row(3, random_signs(rng, (64,)))
    assert chip.cycle_counter == 130
    chip.verify_row(3)
    assert chip.cycle_counter == 131
    chip.mac(random_signs(rng, (64,)))
    assert chip.cycle_counter == 132
    chip.mac_batch(random_signs(rng, (1000, 64)))
    assert chip.cycle_counter == 1132


def test_write_width_sets_the_pulse_and_its_clocks(chip: MX64) -> None:
    chip.set_write_width(5)
    chip.write_row(0, np.ones(64, np.int8))
    assert chip.cycle_counter == 10


def test_counter_resets_but_model_time_goes_on(chip: MX64) -> None:
    chip.mac_batch(np.ones((111, 64), np.int8))
    t = chip.elapsed_seconds
    assert t == pytest.approx(111 / 11.1e6)
    chip.reset_counter()
    assert chip.cycle_counter == 0
    chip.set_clock(5e6)
    chip.mac_batch(np.ones((10, 64), np.int8))
    assert chip.cycle_counter == 10
    assert chip.elapsed_seconds == pytest.approx(t + 10 / 5e6)
    chip.advance_idle(3600.0)
    assert chip.elapsed_seconds == pytest.approx(t + 10 / 5e6 + 3600)


def test_power_cycle_resets_registers_and_counter_keeps_data() -> None:
    chip = powered(2)
    w = random_signs(np.random.default_rng(1), (64, 64))
    chip.write_array(w)
    chip.set_read_bias(0.5)
    stored = chip.stored_weights()
    chip.set_rails(vdd=0.0)
    assert not chip.powered
    chip.set_rails(vdd=0.9)
    assert chip.cycle_counter == 0 and chip.read_bias == 0.25
    assert np.array_equal(chip.stored_weights(), stored)
