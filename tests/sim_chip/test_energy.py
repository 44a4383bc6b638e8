"""Energy per operation by block, data-dependent MAC energy, and the charge drawn from each rail."""

from __future__ import annotations

import math

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


def tdc_fixed(chip: MX64, vdd: float = 0.9) -> float:
    """A vector's TDC energy that does not depend on its codes: the shared start line up to the latest window
    start (one stage of C_stage per 1/64 ns) and 64 conversions (reset and copy of 4 flip-flops), J."""
    e = chip.params.energy
    return (max(chip.tdc_start.max(), 0.0) / (1e-9 / 64) * e.tdc_stage_capacitance
            + 64 * 2 * 4 * e.tdc_flipflop_capacitance) * vdd**2


def test_mac_energy_follows_the_stated_circuit(chip: MX64) -> None:
    """Each block from its own law (docs/chip_model.md): toggles x C_row VDD^2; the TDC's start line and
    conversions per vector, a ring period and two counter toggles per counted LSB; the lines' charge to each
    column's own trip level plus its sink for its delay, and each comparator's bias for the same delay."""
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    e, r, vdd = chip.params.energy, chip.params.readout, 0.9
    x = random_signs(np.random.default_rng(1), (20_000, 64))
    last = chip._last_input.copy()
    blocks, codes = mac_blocks(chip, x)
    n = x.shape[0]
    toggles = np.count_nonzero(x[0] != last) + np.count_nonzero(np.diff(x, axis=0))
    assert blocks["row_drivers"] == approx(toggles * e.row_driver_capacitance * vdd**2, rel=1e-12)
    per_lsb = (e.tdc_ring_stages * e.tdc_stage_capacitance + 2 * e.tdc_flipflop_capacitance) * vdd**2
    assert blocks["tdc"] == approx(n * tdc_fixed(chip) + int(codes.sum()) * per_lsb, rel=1e-9)
    assert blocks["control"] == approx(n * e.control_energy_per_clock)
    c, v_th, i_ref = circuit_constants(chip.params)
    d = chip.die
    charge = vdd * n * float(np.dot(d.column_capacitance, v_th + d.comparator_offset))
    i_tail = 2 * r.comparator_gm / r.comparator_gm_over_id
    # the sink and the comparators run for the same delays: their energies stand as I_ref to I_tail (the sinks'
    # 1 % mismatch aside), and the delays lie in the readout's span
    assert (blocks["column_lines"] - charge) / blocks["comparators"] == pytest.approx(i_ref / i_tail, rel=0.01)
    summed = blocks["comparators"] / (vdd * i_tail * 64 * n)
    assert 10e-9 < summed < 32e-9


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
    chip.set_tdc_window(0.0, 1e-9)                       # every read counts 9 .. 15 (offsets)
    late, codes_late = mac_blocks(chip, x)
    assert codes_early.max() == 0 and codes_late.min() >= 9
    e = chip.params.energy
    per_lsb = (e.tdc_ring_stages * e.tdc_stage_capacitance + 2 * e.tdc_flipflop_capacitance) * 0.81
    start_line = 40e-9 / (1e-9 / 64) * e.tdc_stage_capacitance * 0.81            # the early window's, per vector
    assert late["tdc"] - early["tdc"] == approx(int(codes_late.sum()) * per_lsb - len(x) * start_line, rel=1e-9)


def test_efficiency_follows_from_the_circuit_in_both_conventions() -> None:
    """Random matrix and inputs on an ideal die (no offsets: every column's delay known from its mismatches):
    the laws at the batch's own toggles, codes and delays; TOPS/W in both conventions; nothing from V_WRITE."""
    from datasheet import delay, mac_energy_blocks, read_level_resistances
    from sim_chip import ChipParameters
    from chips import powered
    p = ChipParameters.ideal()
    chip = powered(0, p)
    w = random_signs(np.random.default_rng(0), (64, 64))
    chip.write_array(w)
    q_write = chip.energy.charge["vwrite"]
    vdd_before = chip.energy.energy["vdd"]
    n = 10000
    x = random_signs(np.random.default_rng(1), (n, 64))
    last = chip._last_input.copy()
    codes = chip.mac_batch(x)
    per_vector = chip.energy.last_energy / n
    t = delay(read_level_resistances(p, (64 - x.astype(int) @ w.astype(int)) // 2), p)
    toggles = np.count_nonzero(x[0] != last) + np.count_nonzero(np.diff(x, axis=0))
    expected = sum(mac_energy_blocks(p, 0.9, n, toggles, int(codes.sum()), float(t.sum()),
                                     float(chip.tdc_start.max())).values()) / n
    assert per_vector == approx(expected, rel=1e-5)
    report = efficiency(per_vector)
    assert report["energy_per_mac_J"] == approx(per_vector / 4096)
    assert report["tops_per_watt_2ops"] == approx(2 * 4096 / per_vector / 1e12)
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


def nominal_expectation(p, vdd: float, toggles: float, mean_code: float) -> dict[str, float]:
    """datasheet.py's laws for one vector on a nominal die: every column at its MAC = 0 delay, the power-up
    window (start 8 LSB before it)."""
    from datasheet import delay, mac_energy_blocks
    d = p.device
    t_mac0 = float(delay(64 * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean)), p))   # half the cells mismatched
    return mac_energy_blocks(p, vdd, 1, toggles, 64 * mean_code, 64 * t_mac0, t_mac0 - 8 * p.defaults.tdc_lsb)


def test_the_documented_breakdown_is_the_laws_at_random_inputs() -> None:
    """energy.mac_energy_breakdown (random inputs, nominal die) block by block against datasheet.py's laws,
    and the figures docs/chip_model.md quotes."""
    from sim_chip import ChipParameters
    from sim_chip.energy import mac_energy_breakdown
    p = ChipParameters()
    expected = nominal_expectation(p, 0.9, 32, 7.5)
    got = mac_energy_breakdown(0.25, 0.9, p)
    assert set(got) == set(expected)
    for block, joules in expected.items():
        assert got[block] == approx(joules, rel=1e-6), block
    # docs/chip_model.md: 1.66, 0.22, 9.44, 9.59, 2.0 pJ; 22.90 pJ = 358 TOPS/W
    for block, pj in (("row_drivers", 1.66), ("column_lines", 0.22), ("comparators", 9.44), ("tdc", 9.59),
                      ("control", 2.0)):
        assert expected[block] == pytest.approx(pj * 1e-12, abs=0.005e-12), block
    total = sum(expected.values())
    assert mac_energy_per_vector(0.25, 0.9, p) == approx(total, rel=1e-6)
    assert total == pytest.approx(22.90e-12, abs=0.01e-12)
    report = efficiency(total)
    assert report["tops_per_watt_2ops"] == approx(2 * 4096 / total / 1e12, rel=1e-9) == approx(358, rel=0.002)
    assert report["energy_per_mac_J"] == approx(total / 4096, rel=1e-9)


def test_the_tdc_and_comparator_energies_follow_their_circuit_inputs() -> None:
    """Doubling the ring's stage capacitance doubles its part of an LSB; the start line scales with the window
    start; the comparator energy with its bias current 2 gm/(gm/I_D), which also sets its noise."""
    from sim_chip import ChipParameters
    from sim_chip.energy import mac_energy_breakdown
    base = ChipParameters()
    e = base.energy
    stages = base.with_overrides({"energy.tdc_stage_capacitance": 2 * e.tdc_stage_capacitance})
    lsb_ring = e.tdc_ring_stages * e.tdc_stage_capacitance * 0.81
    got, doubled = mac_energy_breakdown(0.25, 0.9, base), mac_energy_breakdown(0.25, 0.9, stages)
    start = nominal_expectation(base, 0.9, 32, 7.5)["tdc"] - 64 * 7.5 * (lsb_ring + 2 * e.tdc_flipflop_capacitance
                                                                        * 0.81) - 64 * 8 * e.tdc_flipflop_capacitance * 0.81
    assert doubled["tdc"] - got["tdc"] == approx(64 * 7.5 * lsb_ring + start, rel=1e-9)
    strong = base.with_overrides({"readout.comparator_gm": 2 * base.readout.comparator_gm})
    assert mac_energy_breakdown(0.25, 0.9, strong)["comparators"] == approx(2 * got["comparators"], rel=1e-9)


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
        expected = mac_energy_blocks(p, vdd, len(x), toggles, int(codes.sum()), t.sum(axis=0),
                                     float(chip.tdc_start.max()))
        for block, joules in expected.items():
            assert blocks[block] == approx(joules, rel=1e-5), (vdd, block)
        assert blocks["write"] == blocks["verify"] == 0.0
        static = p.energy.static_current_vdd * vdd * len(x) / chip.clock_hz
        assert blocks["static"] == approx(static + p.energy.static_current_vddio * 1.8 * len(x) / chip.clock_hz)
        assert chip.energy.energy["vdd"] - e_vdd == approx(sum(expected.values()) + static, rel=1e-6)
        assert chip.energy.charge["vdd"] - q_vdd == approx((sum(expected.values()) + static) / vdd, rel=1e-6)


def test_the_documented_breakdown_takes_any_toggles_and_mean_code() -> None:
    from sim_chip import ChipParameters
    from sim_chip.energy import mac_energy_breakdown
    p = ChipParameters().with_overrides({"readout.comparator_capacitance": 9e-15})
    expected = nominal_expectation(p, 0.8, 10, 3.0)
    got = mac_energy_breakdown(0.25, 0.8, p, toggles=10, mean_code=3.0)
    for block, joules in expected.items():
        assert got[block] == approx(joules), block
    assert mac_energy_per_vector(0.25, 0.8, p, 10, 3.0) == approx(sum(expected.values()))


def test_the_ladder_lines_hold_the_chain_nodes_charge_not_the_lumped_nodes() -> None:
    """Ladder: each chain node n holds c V_n,inf (1 - exp(-t/tau_n)), tau_n = sum_{k<=n} r_k C_below(k) (its
    Elmore constant; the sense node's is the delay law's), V_n,inf = V_r - I_ref R_{<=n}: written out here
    for a nominal column at its MAC = 0 delay; more than the lumped C V_th, and the same delays (both
    topologies calibrated on the paper's 13 and 29 ns)."""
    from datasheet import circuit_constants, delay
    from sim_chip import ChipParameters
    from sim_chip.energy import mac_energy_breakdown
    lumped, ladder = ChipParameters(), ChipParameters().with_overrides({"readout.topology": "ladder"})
    d, r = ladder.device, ladder.readout
    for p in (lumped, ladder):
        c, _, _ = circuit_constants(p)
        for ohms, t in ((d.r_fet_mean + d.r_p_mean, 13e-9), (d.r_fet_mean + d.r_ap_mean, 29e-9)):
            assert float(delay(64 * ohms, p)) == pytest.approx(t, rel=1e-9)
    c, v_th, i_ref = circuit_constants(ladder)
    row = d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean)
    t = float(delay(64 * row, ladder)) - r.comparator_delay
    below = r.line_capacitance_per_cell * (64 - np.arange(64)) + r.comparator_capacitance
    tau = np.cumsum(row * below)
    v_inf = 0.25 - i_ref * row * np.arange(1, 65)
    node_c = np.full(64, r.line_capacitance_per_cell)
    node_c[-1] += r.comparator_capacitance
    q = float(np.sum(node_c * v_inf * -np.expm1(-t / tau)))
    assert v_inf[-1] * -math.expm1(-t / tau[-1]) == pytest.approx(v_th, rel=1e-6)     # the sense node trips
    sink = i_ref * (t + r.comparator_delay)
    assert mac_energy_breakdown(0.25, 0.9, ladder)["column_lines"] == approx(64 * 0.9 * (q + sink), rel=1e-6)
    assert q > 1.5 * c * v_th
