"""Energy per operation and the charge drawn from each rail."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import random_signs
from sim_chip import MX64


def test_mac_energy_and_efficiency(chip: MX64) -> None:
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    q_write = chip.energy.charge["vwrite"]
    vdd_before = chip.energy.energy["vdd"]
    n = 10000
    chip.mac_batch(random_signs(np.random.default_rng(1), (n, 64)))
    per_vector = chip.energy.last_energy / n
    assert 10e-12 < per_vector < 40e-12
    tops_per_watt = 2 * 4096 / per_vector / 1e12
    assert 200 < tops_per_watt < 800                   # paper: ~400 TOPS/W
    assert chip.energy.charge["vwrite"] == q_write      # MACs draw nothing from V_WRITE
    static = chip.params.energy.static_current_vdd * 0.9 * n / chip.clock_hz
    assert chip.energy.energy["vdd"] - vdd_before == pytest.approx(n * per_vector + static, rel=1e-9)


def test_write_energy_comes_from_v_write(chip: MX64) -> None:
    before = chip.energy.charge["vwrite"]
    chip.write_row(0, np.ones(64, np.int8))
    joules = chip.energy.energy["vwrite"]
    # 128 branches of ~13-26 kOhm at 1.5 V for one 90 ns clock each
    assert 128 * 1.5**2 / 30e3 * 90e-9 < joules < 128 * 1.5**2 / 10e3 * 90e-9
    assert chip.energy.charge["vwrite"] - before == pytest.approx(joules / 1.5)


def test_read_bias_raises_mac_energy(chip: MX64) -> None:
    x = np.ones((100, 64), np.int8)
    chip.mac_batch(x)
    low = chip.energy.last_energy
    chip.set_read_bias(1.0)
    chip.mac_batch(x)
    assert chip.energy.last_energy > low
