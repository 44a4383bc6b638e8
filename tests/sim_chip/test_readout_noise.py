"""Readout noise and offsets from voltage sources through the sense node's slope, measured through the chip
interface (the board's command protocol, as a host would), and the slow (1/f, telegraph) noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from datasheet import circuit_constants, delay, slope, timing_noise_of_the_die
from labctl.inprocess import simulated_chip
from sim_chip import MX64, ChipParameters
from sim_chip.slow_noise import OCTAVES, SlowNoise, Traps


def place_windows(board, x: np.ndarray, lsb: float) -> None:
    """Every column's 16 codes of LSB ``lsb`` around its mean delay for the vector x (64,): a coarse window of
    2 ns codes, then twice at ``lsb`` (as mac-transfer does, through the protocol)."""
    reads = np.tile(x, (400, 1))
    board.set_tdc_window(0.0, 4e-9)
    centre = (board.mac_batch(reads).mean(axis=0) + 0.5) * 4e-9
    for width in (1e-9, lsb, lsb):
        for j in range(64):
            board.set_tdc_window(float(max(centre[j] - 8 * width, 0.0)), width, j)
        centre = np.array(board.tdc_start) + (board.mac_batch(reads).mean(axis=0) + 0.5) * np.array(board.tdc_lsb)


def timing_of(board, x: np.ndarray, lsb: float, n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """(mean delay, standard deviation) per column (64,) of n reads of x, s, from the codes (Sheppard's
    correction for the LSB)."""
    place_windows(board, x, lsb)
    codes = board.mac_batch(np.tile(x, (n, 1))).astype(float)
    assert np.mean((codes == 0) | (codes == 15)) < 2e-3                   # nothing worth speaking of clipped
    lsbs, starts = np.array(board.tdc_lsb), np.array(board.tdc_start)
    sigma = np.sqrt(codes.var(axis=0, ddof=1) * lsbs**2 - lsbs**2 / 12)
    return starts + (codes.mean(axis=0) + 0.5) * lsbs, sigma


@pytest.fixture(scope="module")
def measured():
    """Reads at MAC = +64 (x = +1 on all-+1 weights) and MAC = -64 (x = -1), through the board's protocol."""
    board = simulated_chip(11)
    board.power_on()
    board.write_array(np.ones((64, 64), np.int8))
    plus, minus = np.ones(64, np.int8), -np.ones(64, np.int8)
    chip = MX64(11)                                     # the same die, for the test's formulas (its truth)
    chip.set_rails(vdd=0.9, vddio=1.8, vwrite=1.5)
    chip.write_array(np.ones((64, 64), np.int8))
    return {64: timing_of(board, plus, 0.15e-9), -64: timing_of(board, minus, 0.3e-9), "chip": chip,
            "x": {64: plus, -64: minus}}


def test_timing_noise_depends_on_the_mac_by_the_slopes_at_the_trip_point(measured) -> None:
    """Datasheet 3: the voltage noise at the comparator (kT/C, the comparator's thermal noise, the sink's shot
    noise; the common supply and reference noise) over the node's slope (V_inf - V_th)/(R C): every column's
    spread as datasheet.py writes it out, and MAC = -64 noisier than MAC = +64 by the slopes' ratio, ~2.3."""
    chip = measured["chip"]
    for mac in (64, -64):
        expected = timing_noise_of_the_die(chip, measured["x"][mac])
        ratio = measured[mac][1] / expected
        assert np.median(ratio) == pytest.approx(1.0, abs=0.02) and np.all(np.abs(ratio - 1) < 0.06), mac
    d, p = chip.params.device, chip.params
    ratio = measured[-64][1].mean() / measured[64][1].mean()
    slopes = slope(64 * (d.r_fet_mean + d.r_p_mean), p) / slope(64 * (d.r_fet_mean + d.r_ap_mean), p)
    assert ratio == pytest.approx(slopes, rel=0.03) and 2.0 < ratio < 2.6


def test_offsets_are_comparator_voltages_worth_more_time_where_the_slope_is_shallow(measured) -> None:
    """Each column's mean delay is the stated circuit's with its trip level moved by its comparator's offset
    and its sink's mismatch (die truth, read by the test only; the slow noise aside); an offset of v costs
    v/slope, so the columns' deviations from the nominal circuit grow ~2.3x from MAC = +64 to MAC = -64."""
    chip = measured["chip"]
    die, p = chip.die, chip.params
    _, v_th, i_ref = circuit_constants(p)
    r_mtj = np.where(die.defect == 3, p.device.r_short, np.where(chip._ap, die.r_ap, die.r_p))
    branch = die.r_fet + r_mtj
    deviation = {}
    for mac, side in ((64, 0), (-64, 1)):
        r_col = branch[:, :, side].sum(axis=0)
        own = delay(r_col, p, capacitance=die.column_capacitance, threshold=v_th + die.comparator_offset,
                    i_ref=i_ref * (1 + die.reference_mismatch))
        # to within the slow noise (1/f and telegraph traps, ~50 uV at the threshold: ~0.07 ns at MAC = -64)
        assert np.all(np.abs(measured[mac][0] - own) < 0.25e-9) and np.median(np.abs(measured[mac][0] - own)) < 0.06e-9
        deviation[mac] = own - delay(r_col, p, capacitance=die.column_capacitance)
    gain = np.polyfit(deviation[64], deviation[-64], 1)[0]
    assert gain == pytest.approx(slope(64 * 13e3, p) / slope(64 * 26e3, p), rel=0.05)
    assert np.std(deviation[64]) > 1e-9                                # offsets of mV: ns of delay


def test_the_readout_drifts_with_temperature_between_calibration_and_use() -> None:
    """Windows calibrated at 25 degC, read at 35 degC (array tempcos off): each column's delay moves by its
    comparator's offset drift, the sink's tempco and the comparator's delay tempco, and the TDC's LSB tempco
    scales its window: datasheet.py's delay at both temperatures, in codes of the scaled window."""
    p = ChipParameters().with_overrides({"device.r_p_tempco": 0.0, "device.tmr_tempco": 0.0,
                                         "device.r_fet_tempco": 0.0})
    chip = MX64(12, p)
    chip.set_rails(vdd=0.9, vddio=1.8, vwrite=1.5)
    chip.write_array(np.ones((64, 64), np.int8))
    die, r = chip.die, p.readout
    _, v_th, i_ref = circuit_constants(p)
    x = np.where(np.arange(64) < 32, 1, -1).astype(np.int8)                  # MAC = 0 on every column
    r_col = (die.r_fet + np.where(chip._ap, die.r_ap, die.r_p))[np.arange(64), :, (x == -1).astype(int)].sum(axis=0)
    starts, lsbs = chip.tdc_start.copy(), chip.tdc_lsb.copy()
    codes = {}
    for kelvin in (298.15, 308.15):
        chip.set_temperature(kelvin)
        codes[kelvin] = chip.mac_batch(np.tile(x, (8000, 1))).mean(axis=0)
    dt = 10.0
    scale = 1 + r.tdc_lsb_tempco * dt
    t_hot = delay(r_col, p, capacitance=die.column_capacitance,
                  threshold=v_th + die.comparator_offset + die.offset_drift * dt,
                  i_ref=i_ref * (1 + die.reference_mismatch) * (1 + r.reference_current_tempco * dt)) \
        + r.comparator_delay * r.comparator_delay_tempco * dt
    t_cold = delay(r_col, p, capacitance=die.column_capacitance, threshold=v_th + die.comparator_offset,
                   i_ref=i_ref * (1 + die.reference_mismatch))
    inside = (codes[298.15] > 1) & (codes[298.15] < 14) & (codes[308.15] > 1) & (codes[308.15] < 14)
    moved = (codes[308.15] - codes[298.15])[inside]
    predicted = ((t_hot - starts * scale) / (lsbs * scale) - (t_cold - starts) / lsbs)[inside]
    assert inside.sum() > 50
    assert np.all(np.abs(moved - predicted) < 0.08)
    assert np.abs(predicted).mean() > 0.3                                   # the drift is codes, not noise


def test_flicker_noise_grows_by_an_octaves_power_per_doubling_of_the_time_apart() -> None:
    """The Voss sum of unit generators (generator j holds for 2^j blocks): v(b + 2^k) - v(b) differs in
    generator j with probability min(1, 2^(k-j)), so its variance is sum_j 2 min(1, 2^(k-j)) ~ 2 k + 4: it
    rises by 2 (an octave's power, twice) per doubling of the gap, as 1/f noise does."""
    noise = SlowNoise(1234, Traps.none())
    blocks = np.arange(0, 2**14, 41)
    values = np.array([noise._voss(int(b)) for b in blocks])                        # (n, 64) unit sums
    later = {k: np.array([noise._voss(int(b) + 2**k) for b in blocks]) for k in (4, 8)}
    var = {k: float(np.var(later[k] - values)) for k in later}
    for k in later:
        assert var[k] == pytest.approx(sum(2 * min(1.0, 2.0 ** (k - j)) for j in range(OCTAVES)), rel=0.15)
    assert var[8] - var[4] == pytest.approx(8.0, rel=0.25)


def test_telegraph_traps_spend_their_stated_fraction_of_time_filled() -> None:
    """A trap of capture time tau_c and emission time tau_e is filled tau_e/(tau_c + tau_e) of the time, each
    state a pure function of the block (the same in any order)."""
    rng = np.random.default_rng(0)
    traps = Traps.draw(rng, 2.0, 20e-6, 1.0, 1e-4)
    noise = SlowNoise(99, traps)
    order = np.arange(0, 400_000, 997)
    states = np.array([noise._telegraph(int(b))[0] for b in order])               # (n, 64, slots), zero mean
    fast = (traps.tau_capture < 1.0) & (traps.tau_emission < 1.0)                  # hundreds of events in 400 s
    assert fast.sum() > 50 and np.abs(states.mean(axis=0)[fast]).max() < 0.15
    filled = states + (traps.tau_emission / (traps.tau_capture + traps.tau_emission))[None]
    assert np.all((np.abs(filled) < 1e-12) | (np.abs(filled - 1) < 1e-12))        # each trap empty or filled
    again = SlowNoise(99, traps)
    for b in order[::-7][:20]:
        assert np.array_equal(again.parts(int(b))[1], noise.parts(int(b))[1])
    shift = noise.threshold_shift(123, 5e-6, 0.026)
    assert shift.shape == (64,) and np.all(np.isfinite(shift))
    present = traps.step_volts > 0
    assert 1.5 < present.sum(axis=1).mean() < 2.5 and (traps.step_relative > 0).sum(axis=1).mean() > 0.5


def test_a_chip_reads_its_slow_noise_by_model_time() -> None:
    """Reads an hour apart see each column's trip level moved by its slow noise (1/f and traps); the codes of
    the same reads taken as one batch, one by one, or split by idle time in between are the same."""
    a, b = MX64(13), MX64(13)
    for chip in (a, b):
        chip.set_rails(vdd=0.9, vddio=1.8, vwrite=1.5)
        chip.write_array(np.ones((64, 64), np.int8))
    x = np.tile(np.where(np.arange(64) < 32, 1, -1).astype(np.int8), (3000, 1))
    first = a.mac_batch(x)
    singles = np.array([b.mac(v) for v in x])
    assert np.array_equal(first, singles)
    a.advance_idle(3600.0)
    b.advance_idle(1800.0)
    b.advance_idle(1800.0)
    assert np.array_equal(a.mac_batch(x), b.mac_batch(x))
    levels = [a._levels_of(a._kernel, a._clock, 1)[0][2]]
    a.advance_idle(3600.0)
    a.mac(x[0])
    levels.append(a._levels_of(a._kernel, a._clock, 1)[0][2])
    assert not np.array_equal(*levels) and np.abs(levels[1] - levels[0]).max() < 1e-3 * math.e
