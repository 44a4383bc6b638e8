"""Energy per operation by block, data-dependent MAC energy, and the charge drawn from each rail."""

from __future__ import annotations

import numpy as np
import pytest

from chips import random_signs
from datasheet import circuit_constants
from sim_chip import MX64
from sim_chip.energy import efficiency, mac_energy_per_vector


def approx(expected, rel: float = 1e-6):
    """pytest.approx without its absolute floor of 1e-12: energies here are 1e-15 .. 1e-7 J."""
    return pytest.approx(expected, rel=rel, abs=0)


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
    assert blocks["row_drivers"] == approx(toggles * e.row_driver_capacitance * vdd**2, rel=1e-12)
    assert blocks["tdc"] == approx(n * 64 * e.tdc_energy_per_conversion
                                          + int(codes.sum()) * e.tdc_energy_per_lsb, rel=1e-9)
    assert blocks["comparators"] == approx(n * 64 * e.comparator_energy)
    assert blocks["control"] == approx(n * e.control_energy_per_clock)
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
    assert late["tdc"] - early["tdc"] == approx(int(codes_late.sum()) * e.tdc_energy_per_lsb, rel=1e-9)


def test_efficiency_near_the_paper_in_both_conventions(chip: MX64) -> None:
    """Random matrix and inputs on a real die: the laws at the batch's own toggles and codes, and the
    column delays at MAC = 0 (their share is 1 %); about the paper's ~400 TOPS/W, a MAC as 2 operations."""
    from datasheet import delay, mac_energy_blocks
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    q_write = chip.energy.charge["vwrite"]
    vdd_before = chip.energy.energy["vdd"]
    n = 10000
    x = random_signs(np.random.default_rng(1), (n, 64))
    last = chip._last_input.copy()
    codes = chip.mac_batch(x)
    per_vector = chip.energy.last_energy / n
    d = chip.params.device
    t_mac0 = float(delay(64 * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean)), chip.params))
    toggles = np.count_nonzero(x[0] != last) + np.count_nonzero(np.diff(x, axis=0))
    expected = sum(mac_energy_blocks(chip.params, 0.9, n, toggles, int(codes.sum()), n * 64 * t_mac0,
                                     chip.die.column_capacitance.sum()).values()) / n
    assert per_vector == approx(expected, rel=0.003)
    report = efficiency(per_vector)
    assert report["energy_per_mac_J"] == approx(per_vector / 4096)
    assert report["tops_per_watt_2ops"] == approx(400, rel=0.1)     # paper: ~400 TOPS/W (calibrated)
    assert report["tops_per_watt_1op"] == approx(report["tops_per_watt_2ops"] / 2)
    assert chip.energy.charge["vwrite"] == q_write      # MACs draw nothing from V_WRITE
    static = chip.params.energy.static_current_vdd * 0.9 * n / chip.clock_hz
    assert chip.energy.energy["vdd"] - vdd_before == approx(n * per_vector + static, rel=1e-9)


def test_write_energy_comes_from_v_write(chip: MX64) -> None:
    """V_WRITE times every branch's current (the write path, checked by test_write_path) over its pulse."""
    w = np.ones(64, np.int8)
    full = chip.stored_weights()
    full[0] = w
    _, current = chip.write_bias(full)                  # row 0's two half-row pulses, from the present state
    before, vdd_before = chip.energy.charge["vwrite"], chip.energy.energy["vdd"]
    chip.write_row(0, w)
    joules = chip.energy.energy["vwrite"]
    width = chip.write_width_clocks / chip.clock_hz
    assert joules == approx(1.5 * current[0].sum() * width, rel=1e-9)
    assert 128 * 1.5 * 50e-6 * width < joules < 128 * 1.5 * 90e-6 * width    # FET-limited branches
    assert chip.energy.charge["vwrite"] - before == approx(joules / 1.5)
    assert chip.energy.blocks["write"] == approx(joules)
    control = 2 * chip.params.energy.control_energy_per_clock
    static = chip.params.energy.static_current_vdd * 0.9 * 2 / chip.clock_hz
    assert chip.energy.energy["vdd"] - vdd_before == approx(control + static, rel=1e-9)


def test_the_documented_breakdown_is_the_laws_at_random_inputs() -> None:
    """energy.mac_energy_breakdown (random inputs, nominal die) block by block against datasheet.py's laws."""
    from datasheet import delay, mac_energy_blocks
    from sim_chip import ChipParameters
    from sim_chip.energy import mac_energy_breakdown
    p = ChipParameters()
    d = p.device
    r_mac0 = 64 * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))     # half the cells mismatched
    t_mac0 = float(delay(r_mac0, p))
    expected = mac_energy_blocks(p, 0.9, 1, toggles=32, counted_lsbs=64 * 7.5, summed_delay=64 * t_mac0)
    got = mac_energy_breakdown(0.25, 0.9, p)
    assert set(got) == set(expected)
    for block, joules in expected.items():
        assert got[block] == approx(joules, rel=1e-6), block
    # the figures docs/chip_model.md quotes: 1.66, 0.22, 1.28, 14.6, 2.0 pJ; 19.76 pJ = 415 TOPS/W
    assert expected["row_drivers"] == pytest.approx(1.66e-12, abs=0.005e-12)
    assert expected["tdc"] == pytest.approx(14.56e-12, abs=0.005e-12)
    total = sum(expected.values())
    assert mac_energy_per_vector(0.25, 0.9, p) == approx(total, rel=1e-6)
    assert total == pytest.approx(19.76e-12, abs=0.05e-12)
    report = efficiency(total)
    assert report["tops_per_watt_2ops"] == approx(2 * 4096 / total / 1e12, rel=1e-9)
    assert report["energy_per_mac_J"] == approx(total / 4096, rel=1e-9)


def test_every_block_and_the_vdd_rail_follow_the_laws_on_an_ideal_die() -> None:
    """Ideal die: each vector's column delay from its mismatch count (datasheet.py), codes as read;
    the blocks and what VDD delivered (blocks plus static current) match, so none is lost on the way;
    after VDD moves within its tolerance the same laws hold at the new VDD."""
    from datasheet import delay, mac_energy_blocks, read_level_resistances
    from sim_chip import ChipParameters
    from chips import powered
    p = ChipParameters.ideal()
    chip = powered(3, p)
    rng = np.random.default_rng(4)
    w = random_signs(rng, (64, 64))
    chip.write_array(w)
    for vdd in (0.9, 0.95):
        chip.set_rails(vdd=vdd, vddio=1.8, vwrite=p.defaults.v_write)
        x = random_signs(rng, (9_000, 64))                    # three chunks
        last = chip._last_input.copy()
        e_vdd, q_vdd, blocks_before = chip.energy.energy["vdd"], chip.energy.charge["vdd"], dict(chip.energy.blocks)
        codes = chip.mac_batch(x)
        blocks = {k: chip.energy.blocks[k] - blocks_before[k] for k in blocks_before}
        mismatches = (64 - x.astype(int) @ w.astype(int)) // 2
        t = delay(read_level_resistances(p, mismatches), p)
        toggles = np.count_nonzero(x[0] != last) + np.count_nonzero(np.diff(x, axis=0))
        expected = mac_energy_blocks(p, vdd, len(x), toggles, int(codes.sum()), float(t.sum()))
        for block, joules in expected.items():
            assert blocks[block] == approx(joules, rel=1e-5), (vdd, block)
        assert blocks["write"] == blocks["verify"] == 0.0
        static = p.energy.static_current_vdd * vdd * len(x) / chip.clock_hz
        assert blocks["static"] == approx(static + p.energy.static_current_vddio * 1.8 * len(x) / chip.clock_hz)
        assert chip.energy.energy["vdd"] - e_vdd == approx(sum(expected.values()) + static, rel=1e-6)
        assert chip.energy.charge["vdd"] - q_vdd == approx((sum(expected.values()) + static) / vdd, rel=1e-6)


def test_the_documented_breakdown_takes_any_toggles_and_mean_code() -> None:
    from datasheet import delay, mac_energy_blocks
    from sim_chip import ChipParameters
    from sim_chip.energy import mac_energy_breakdown
    p = ChipParameters().with_overrides({"readout.comparator_capacitance": 9e-15})
    d = p.device
    r_mac0 = 64 * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))
    expected = mac_energy_blocks(p, 0.8, 1, toggles=10, counted_lsbs=64 * 3.0, summed_delay=64 * float(delay(r_mac0, p)))
    got = mac_energy_breakdown(0.25, 0.8, p, toggles=10, mean_code=3.0)
    for block, joules in expected.items():
        assert got[block] == approx(joules), block
    assert mac_energy_per_vector(0.25, 0.8, p, 10, 3.0) == approx(sum(expected.values()))
