"""Barrier breakdown, retention (spec and statistics), stray-field asymmetry and read disturb."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from chips import powered, random_signs
from datasheet import barriers_from_p_and_ap, bloch_delta
from datasheet import survival as datasheet_survival
from sim_chip import MX64, ChipParameters
from sim_chip.die import HEALTHY, STUCK_AP, STUCK_P

TEN_YEARS = 10 * 365.25 * 86400


def test_cycling_far_above_the_safe_voltage_breaks_mtjs() -> None:
    """V_WRITE = 3.3 V: the E-model's hazard exp((|V| - 1.5 V)/30 mV)/5 ms (datasheet 4, written out here)
    at each MTJ's voltage in the two writes of a cycle (the write path, test_write_path), accumulated over
    1e5 cycles: ~2,070 MTJs break, as many as the count of independent Exp(1) thresholds crossed."""
    from sim_chip import array_physics
    chip = powered(3)
    before = chip.broken_mtjs
    chip.set_rails(vwrite=3.3)
    w = random_signs(np.random.default_rng(0), (64, 64))
    d, dev = chip.die, chip.params.device
    hazard = np.zeros((64, 64, 2))
    for weights in (-w, w):
        target = np.stack([weights < 0, weights > 0], axis=2)
        v_mtj, _ = array_physics.write_bias(d, slice(None), target, ~target, chip._broken, 3.3, 298.15, chip.params)
        hazard += np.exp((np.abs(v_mtj) - dev.v_breakdown) / dev.v_breakdown_slope) / dev.tau_breakdown_at_vbd \
            / chip.clock_hz
    p_break = -np.expm1(-hazard * 100_000)[d.defect == HEALTHY]
    chip.cycle_writes(w, 100_000)
    expected, sd = p_break.sum(), np.sqrt((p_break * (1 - p_break)).sum())
    assert abs(chip.broken_mtjs - before - expected) < 5 * sd
    assert expected > 1000
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
    chip.set_rails(vwrite=3.3)
    chip.cycle_writes(np.ones((64, 64), np.int8), 200_000)     # stress every row, far too hard
    assert chip.test_pad_resistance(0.1) < intact - 5e3


def test_data_survive_ten_years_at_room_temperature(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(2), (64, 64))
    chip.write_array(w)
    stored = chip.stored_weights()
    chip.advance_idle(TEN_YEARS)
    assert np.array_equal(chip.stored_weights(), stored)


def test_array_meets_the_retention_spec_of_ten_years_at_85_c() -> None:
    """Datasheet 4: no flip in the array over 10 years at 85 degC; the expectation says why."""
    expected, flips = 0.0, 0
    for seed in range(4):
        chip = powered(seed)
        chip.write_array(random_signs(np.random.default_rng(seed), (64, 64)))
        d, dev = chip.die, chip.params.device
        delta = bloch_delta(d.delta_retention, 358.15, dev.curie_temperature)
        out_p, out_ap = barriers_from_p_and_ap(delta, dev.stray_field_ratio)
        rate = np.where(chip._ap, np.exp(-out_ap), np.exp(-out_p)) / dev.tau0     # the Neel-Brown rate at zero bias
        expected += float(-np.expm1(-rate * TEN_YEARS)[d.defect == HEALTHY].sum())
        before = chip._ap.copy()
        chip.set_temperature(358.15)
        chip.advance_idle(TEN_YEARS)
        flips += int((chip._ap != before).sum())
    assert expected < 0.05 and flips == 0
    hot = powered(0)                                  # the same die fails at 125 degC: the spec binds at 85
    hot.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    before = hot._ap.copy()
    hot.set_temperature(398.15)
    hot.advance_idle(TEN_YEARS)
    assert (hot._ap != before).sum() > 20


def two_state_change(a: np.ndarray, b: np.ndarray, from_ap: np.ndarray, seconds: float) -> np.ndarray:
    """P(state differs after ``seconds``) of a two-state chain, P->AP at a, AP->P at b."""
    lam = a + b
    other = np.where(from_ap, b, a) / lam
    return other * -np.expm1(-lam * seconds)


def retention_change(chip: MX64, temperature: float, from_ap: np.ndarray, seconds: float) -> np.ndarray:
    """P(each MTJ's state differs after ``seconds`` at ``temperature``, K), from the datasheet's retention law:
    the Bloch law of each MTJ's retention Delta, the stray field's asymmetric barriers, attempts at 1/tau0."""
    d, dev = chip.die, chip.params.device
    out_p, out_ap = barriers_from_p_and_ap(bloch_delta(d.delta_retention, temperature, dev.curie_temperature),
                                           dev.stray_field_ratio)
    return two_state_change(np.exp(-out_p) / dev.tau0, np.exp(-out_ap) / dev.tau0, from_ap, seconds)


def test_retention_flips_follow_the_asymmetric_thermal_rates_when_hot() -> None:
    """Stray field: AP (barrier Delta (1-h)^2) flips faster than P (Delta (1+h)^2), both as computed here."""
    chip = powered(28)                  # a die with stuck and broken MTJs
    chip.write_array(random_signs(np.random.default_rng(3), (64, 64)))
    temperature, seconds = 485.0, 3e4
    chip.set_temperature(temperature)
    before = chip._ap.copy()
    chip.advance_idle(seconds)
    changed = chip._ap != before
    d = chip.die
    healthy = (d.defect == HEALTHY) & ~chip._broken
    p = retention_change(chip, temperature, before, seconds)
    for state in (False, True):
        sel = healthy & (before == state)
        expected = p[sel].sum()
        assert expected > 100
        assert abs(changed[sel].sum() - expected) < 5 * math.sqrt(expected)
    assert changed[healthy & before].sum() > 2 * changed[healthy & ~before].sum()
    stuck = (d.defect == STUCK_P) | (d.defect == STUCK_AP)
    assert stuck.sum() >= 3 and chip._broken.sum() >= 2 and not (stuck & chip._broken).any()
    assert not changed[stuck | chip._broken].any()          # stuck and broken MTJs have no thermal flips


def test_idle_time_is_exact_however_it_is_split() -> None:
    """1e4 s against ten of 1e3 s (the issue's case, hot enough to flip here), random splits, many flips per MTJ;
    at 500 K pieces under a second."""
    rng = np.random.default_rng(9)
    for temperature, total, splits in ((440.0, 1e4, [np.full(10, 1e3), rng.dirichlet(np.ones(7)) * 1e4]),
                                       (490.0, 3e3, [np.full(3, 1e3), rng.dirichlet(np.ones(5)) * 3e3]),
                                       (500.0, 2.0, [np.full(8, 0.25), rng.dirichlet(np.ones(4)) * 2.0])):
        chips = [powered(13) for _ in range(1 + len(splits))]
        w = random_signs(np.random.default_rng(4), (64, 64))
        for chip in chips:
            chip.write_array(w)
            chip.set_temperature(temperature)
        start = chips[0]._ap.copy()
        chips[0].advance_idle(total)
        for chip, pieces in zip(chips[1:], splits):
            for piece in pieces:
                chip.advance_idle(float(piece))
        assert (chips[0]._ap != start).sum() > 10
        for chip in chips[1:]:
            assert np.array_equal(chips[0]._ap, chip._ap)
            assert math.isclose(chips[0].elapsed_seconds, chip.elapsed_seconds, rel_tol=1e-12)


def test_the_test_mtj_does_not_depend_on_how_idle_time_is_split() -> None:
    a, b = MX64(14), MX64(14)
    for chip in (a, b):
        chip.set_temperature(490.0)
    states_a, states_b = [], []
    for _ in range(30):
        a.advance_idle(200.0)
        for _ in range(4):
            b.advance_idle(50.0)
        states_a.append(a.test_mtj.is_ap)
        states_b.append(b.test_mtj.is_ap)
    assert states_a == states_b and len(set(states_a)) == 2


def test_interleaving_of_macs_verifies_and_idle_time_gives_identical_states() -> None:
    """The same clocks grouped differently: MAC batches split anywhere, verifies between, idle time split."""
    x = random_signs(np.random.default_rng(11), (3000, 64))

    def run(cuts: list[int], idle_pieces: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        chip = powered(15)
        chip.write_array(random_signs(np.random.default_rng(16), (64, 64)))
        chip.set_temperature(490.0)
        chip.set_clock(1e6)
        written = chip._ap.copy()
        codes, verified = [], []
        for lo, hi in zip([0] + cuts, cuts + [len(x)]):
            codes.append(chip.mac_batch(x[lo:hi]))
            if hi in (1000, 2000):
                verified.append([chip.verify_row(r) for r in (3, 40)])
                for _ in range(idle_pieces):
                    chip.advance_idle(20.0 / idle_pieces)
        return chip._ap, np.vstack(codes), np.array(verified), int((chip._ap != written).sum())

    ref = run([1000, 2000], 1)
    assert ref[3] > 0                                   # thermal flips happened along the way
    for cuts, pieces in (([1, 500, 1000, 1999, 2000, 2001], 4), ([250 * k for k in range(1, 12)], 3)):
        other = run(cuts, pieces)
        for a, b in zip(ref[:3], other[:3]):
            assert np.array_equal(a, b)


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


def expected_laws():
    """tests/procedures/expected.py (the FET as a transistor, by bisection), loaded by path: the folder is
    a package named ``procedures`` that must not shadow the real one."""
    path = Path(__file__).resolve().parents[1] / "procedures" / "expected.py"
    spec = importlib.util.spec_from_file_location("expected_procedure_laws", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verify_reads_disturb_each_p_mtj_by_the_switching_law_per_read() -> None:
    """Three verify passes over every other row at 0.5 V: each P MTJ there (the read current pushes P
    towards AP) flips with 1 - S^3, S the datasheet's survival of one clock at its own MTJ voltage (FET +
    MTJ solved in the test); the other rows are not touched.  The count of flipped P MTJs is within 5
    binomial standard deviations of the sum (~240 of ~1,000, sigma ~13)."""
    expected = expected_laws()
    chip = powered(31)
    rows, cols = np.indices((64, 64))
    w = np.where((rows + cols) % 2 == 0, 1, -1).astype(np.int8)
    chip.write_array(w)
    p_side = np.where(w == 1, 0, 1)                                   # w = +1: left MTJ in P
    pick = lambda a: np.take_along_axis(a, p_side[..., None], axis=2)[..., 0]
    d, dev = chip.die, chip.params.device
    start = pick(chip._ap)
    bias, passes, read = 0.5, 3, np.arange(64) % 2 == 0
    chip.set_verify_bias(bias)
    for _ in range(passes):
        for r in np.flatnonzero(read):
            chip.verify_row(int(r))
    flipped = pick(chip._ap) & ~start
    i_sat = dev.fet_isat_p_to_ap * dev.r_fet_mean / d.r_fet
    v_m = expected.branch_mtj_voltage(bias, pick(d.r_fet), pick(i_sat), pick(d.r_p), pick(d.r_ap), False, dev)
    barrier = pick(d.delta_retention) * (1 + dev.stray_field_ratio) ** 2
    i_m = v_m / pick(d.r_p)                                            # in P: R_P has no bias dependence
    s = datasheet_survival(i_m / pick(d.ic0_p_to_ap), 1 / chip.clock_hz, pick(d.delta), barrier, dev)
    p = -np.expm1(passes * np.log(s))
    mask = (pick(d.defect) == HEALTHY) & ~start & ~pick(chip._stuck | chip._broken)
    assert not flipped[~read].any()
    mask &= read[:, None]
    mean, var = p[mask].sum(), (p * (1 - p))[mask].sum()
    assert mean > 150
    assert abs(flipped[mask].sum() - mean) < 5 * math.sqrt(var)


@pytest.mark.parametrize("width", [1, 2])
def test_cycle_writes_in_closed_form_equal_the_writes_one_by_one(width: int) -> None:
    """cycle_writes(w, n): n - 1 cycles in closed form, the last pulse by pulse; against n cycles of
    write_array(-w), write_array(w): the same clocks, time, final states, breakdown stress and write energy."""
    v_write = 2.2                                               # stress that shows, few breakdowns
    a, b = powered(31), powered(31)
    w = random_signs(np.random.default_rng(32), (64, 64))
    for chip in (a, b):
        chip.set_rails(vwrite=v_write)
        chip.set_write_width(width)
        chip.write_array(w)
    a.cycle_writes(w, 4)
    for _ in range(4):
        b.write_array(-w)
        b.write_array(w)
    assert a.cycle_counter == b.cycle_counter and math.isclose(a.elapsed_seconds, b.elapsed_seconds, rel_tol=1e-12)
    assert np.array_equal(a._broken, b._broken) and np.array_equal(a._ap, b._ap)
    same = np.isclose(a._bd_stress, b._bd_stress, rtol=1e-6, atol=0)
    assert same.mean() > 0.999 and (a._bd_stress > 0).mean() > 0.99
    assert a._bd_stress.sum() == pytest.approx(b._bd_stress.sum(), rel=1e-4, abs=0)
    stuck = (a.die.defect == 1) | (a.die.defect == 2)
    assert np.allclose(a._bd_stress[stuck], b._bd_stress[stuck], rtol=1e-6)
    for block in ("write", "control", "static"):
        assert a.energy.blocks[block] == pytest.approx(b.energy.blocks[block], rel=1e-4, abs=0), block
    assert a.energy.charge["vwrite"] == pytest.approx(b.energy.charge["vwrite"], rel=1e-4, abs=0)


def test_breakdowns_in_closed_form_are_the_ones_written_out() -> None:
    """At 3.3 V MTJs break within the cycles: the closed form breaks the MTJs whose stress crosses their
    thresholds, as writing every cycle does (the write path changes a little as MTJs break), and keeps
    the fabrication shorts."""
    a, b = powered(33), powered(33)
    w = random_signs(np.random.default_rng(34), (64, 64))
    for chip in (a, b):
        chip.set_rails(vwrite=3.3)
        chip.write_array(w)
    fab = a._broken.copy()
    a.cycle_writes(w, 40)
    for _ in range(40):
        b.write_array(-w)
        b.write_array(w)
    new_a, new_b = a._broken & ~fab, b._broken & ~fab
    assert fab.sum() >= 1 and (a._broken & fab).sum() == fab.sum()
    assert new_b.sum() > 200
    assert (new_a & new_b).sum() >= 0.95 * max(new_a.sum(), new_b.sum())


def test_retention_flips_land_in_the_rows_not_written_while_a_row_is_written() -> None:
    """A die with retention Delta 80 at 500 K, 1 MHz, 255-clock pulses: 100 writes of row 0 take 51 ms, in
    which the other rows' MTJs flip by the two-state law of that time (no read selects them: the flips are
    settled at each write)."""
    chip = powered(12, ChipParameters().with_overrides({"device.delta_retention_mean": 80.0}))
    chip.write_array(random_signs(np.random.default_rng(4), (64, 64)))
    temperature = 500.0
    chip.set_temperature(temperature)
    chip.set_clock(1e6)
    chip.set_write_width(255)
    before, start = chip._ap.copy(), chip.elapsed_seconds
    row = random_signs(np.random.default_rng(5), (64,))
    for _ in range(100):
        chip.write_row(0, row)
    seconds = chip.elapsed_seconds - start
    assert seconds == pytest.approx(100 * 2 * 255 / 1e6, rel=1e-12)
    healthy = ((chip.die.defect == HEALTHY) & ~chip._broken)[1:]
    p = retention_change(chip, temperature, before, seconds)[1:][healthy]
    changed = (chip._ap != before)[1:][healthy]
    mean, var = p.sum(), (p * (1 - p)).sum()
    assert mean > 100
    assert abs(changed.sum() - mean) < 5 * math.sqrt(var)
