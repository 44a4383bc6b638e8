"""Energy per operation by block, data-dependent MAC energy, and the charge drawn from each rail."""

from __future__ import annotations

import numpy as np
import pytest

from chips import random_signs
from datasheet import circuit_constants
from sim_chip import MX64
from sim_chip.energy import efficiency, mac_energy_per_vector


def mac_blocks(chip: MX64, x: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    before = dict(chip.energy.blocks)
    codes = chip.mac_batch(x)
    return {k: chip.energy.blocks[k] - before[k] for k in before}, codes


def test_mac_energy_follows_the_stated_circuit(chip: MX64) -> None:
    """Each block from its own law: toggles x C_row VDD^2, TDC per counted LSB, lines from the readout circuit."""
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    e, vdd = chip.params.energy, 0.9
    x = random_signs(np.random.default_rng(1), (20_000, 64))
    last = chip._last_input.copy()
    blocks, codes = mac_blocks(chip, x)
    n = x.shape[0]
    toggles = np.count_nonzero(x[0] != last) + np.count_nonzero(np.diff(x, axis=0))
    assert blocks["row_drivers"] == pytest.approx(toggles * e.row_driver_capacitance * vdd**2, rel=1e-12)
    assert blocks["tdc"] == pytest.approx(n * 64 * e.tdc_energy_per_conversion
                                          + int(codes.sum()) * e.tdc_energy_per_lsb, rel=1e-9)
    assert blocks["comparators"] == pytest.approx(n * 64 * e.comparator_energy)
    assert blocks["control"] == pytest.approx(n * e.control_energy_per_clock)
    _, v_th, i_ref = circuit_constants(chip.params)
    # each column charges C V_th plus what the reference sinks until the trip (13 .. 29 ns): from VDD
    low = vdd * n * (chip.die.column_capacitance.sum() * v_th + 64 * i_ref * 13e-9)
    high = vdd * n * (chip.die.column_capacitance.sum() * v_th + 64 * i_ref * 29e-9)
    assert low < blocks["column_lines"] < high


def test_repeated_inputs_cost_less_than_random_ones(chip: MX64) -> None:
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    x = random_signs(np.random.default_rng(1), (10_000, 64))
    random_blocks, _ = mac_blocks(chip, x)
    same_blocks, _ = mac_blocks(chip, np.tile(x[-1], (10_000, 1)))
    assert same_blocks["row_drivers"] == 0.0
    assert sum(same_blocks.values()) < sum(random_blocks.values()) - 1e-12 * 10_000   # > 1 pJ per vector less


def test_tdc_energy_grows_with_the_counted_lsbs(chip: MX64) -> None:
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    x = random_signs(np.random.default_rng(2), (5_000, 64))
    chip.set_tdc_window(40e-9, 1e-9)                     # every read stops before the window: code 0
    early, codes_early = mac_blocks(chip, x)
    chip.set_tdc_window(0.0, 1e-9)                       # every read counts 13 .. 15
    late, codes_late = mac_blocks(chip, x)
    assert codes_early.max() == 0 and codes_late.min() >= 12
    e = chip.params.energy
    assert late["tdc"] - early["tdc"] == pytest.approx(int(codes_late.sum()) * e.tdc_energy_per_lsb, rel=1e-9)


def test_efficiency_near_the_paper_in_both_conventions(chip: MX64) -> None:
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    q_write = chip.energy.charge["vwrite"]
    vdd_before = chip.energy.energy["vdd"]
    n = 10000
    chip.mac_batch(random_signs(np.random.default_rng(1), (n, 64)))
    per_vector = chip.energy.last_energy / n
    assert 10e-12 < per_vector < 40e-12
    report = efficiency(per_vector)
    assert report["energy_per_mac_J"] == pytest.approx(per_vector / 4096)
    assert 200 < report["tops_per_watt_2ops"] < 800               # paper: ~400 TOPS/W, a MAC as 2 operations
    assert report["tops_per_watt_1op"] == pytest.approx(report["tops_per_watt_2ops"] / 2)
    assert per_vector == pytest.approx(mac_energy_per_vector(0.25, 0.9, chip.params), rel=0.1)
    assert chip.energy.charge["vwrite"] == q_write      # MACs draw nothing from V_WRITE
    static = chip.params.energy.static_current_vdd * 0.9 * n / chip.clock_hz
    assert chip.energy.energy["vdd"] - vdd_before == pytest.approx(n * per_vector + static, rel=1e-9)


def test_write_energy_comes_from_v_write(chip: MX64) -> None:
    before = chip.energy.charge["vwrite"]
    chip.write_row(0, np.ones(64, np.int8))
    joules = chip.energy.energy["vwrite"]
    # 128 branches limited to ~50-100 uA by their FETs, at 1.5 V for one 90 ns clock each
    assert 128 * 1.5 * 40e-6 * 90e-9 < joules < 128 * 1.5 * 110e-6 * 90e-9
    assert chip.energy.charge["vwrite"] - before == pytest.approx(joules / 1.5)
    assert chip.energy.blocks["write"] == pytest.approx(joules)
