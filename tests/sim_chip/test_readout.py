"""The readout circuit, its topology, tempcos and noise; the TDC windows; the verify read."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chips import powered, random_signs
from datasheet import circuit_constants, codes_match, delay, read_level_resistances
from sim_chip import MX64, ChipParameters
from sim_chip.rng import gaussian16

IDEAL = ChipParameters.ideal()


def level_inputs(w_column: np.ndarray, repeats: int = 1) -> np.ndarray:
    """Inputs that give every MAC level of one column (first k rows mismatched, k = 0..64), repeated."""
    x = np.array([np.where(np.arange(64) < k, -w_column, w_column) for k in range(65)], np.int8)
    return np.repeat(x, repeats, axis=0)


def ideal_codes(chip: MX64, x: np.ndarray, start: float, lsb: float) -> np.ndarray:
    chip.set_tdc_window(start, lsb)
    return chip.mac_batch(x)


def test_delay_is_the_stated_circuit_with_a_positive_intercept() -> None:
    """Ideal die: the code of every level is floor((t - start)/lsb) with t from the circuit in datasheet.py."""
    p = IDEAL
    chip = powered(1, p)
    chip.write_array(np.ones((64, 64), np.int8))
    x = level_inputs(np.ones(64, np.int8))
    d = p.device
    nominal = delay(64 * (d.r_fet_mean + np.array([d.r_p_mean, d.r_ap_mean])), p)
    assert nominal[0] == pytest.approx(13e-9, rel=1e-9, abs=0) and nominal[1] == pytest.approx(29e-9, rel=1e-9, abs=0)
    assert delay(0.0, p) == pytest.approx(p.readout.comparator_delay, abs=0)          # no negative intercept
    t = delay(read_level_resistances(p, np.arange(65)), p)
    assert np.all(np.diff(t, 2) > 0)                                              # steps grow with R
    lsb = 1 / 16 * 1e-9
    for start in (12.5e-9, 20e-9, 27.5e-9):
        codes = ideal_codes(chip, x, start, lsb)[:, 0].astype(int)
        assert codes_match(codes, (t - start) / lsb)


def test_read_bias_changes_the_delay_as_the_circuit_says() -> None:
    chip = powered(1, IDEAL)
    chip.write_array(np.ones((64, 64), np.int8))
    x = np.ones((1, 64), np.int8)                                  # MAC = +64
    chip.set_read_bias(0.3)
    r_col = 64 * (IDEAL.device.r_fet_mean + IDEAL.device.r_p_mean)
    t = float(delay(r_col, IDEAL, v_read=0.3))
    assert t < 13e-9
    code = ideal_codes(chip, x, 8e-9, 0.125e-9)[:, 0]
    assert codes_match(code, np.array([(t - 8e-9) / 0.125e-9]))


def test_ladder_topology_weights_rows_near_the_driver() -> None:
    """Distributed RC: one mismatch on row 0 delays more than on row 63, by the Elmore weights; lumped: equal."""
    for topology in ("lumped", "ladder"):
        p = ChipParameters.ideal().with_overrides({"readout.topology": topology})
        chip = powered(1, p)
        chip.write_array(np.ones((64, 64), np.int8))
        base = np.ones(64, np.int8)
        first, last = base.copy(), base.copy()
        first[0], last[63] = -1, -1
        r = p.readout
        c_total = 64 * r.line_capacitance_per_cell + r.comparator_capacitance
        if topology == "lumped":
            lsb = 1 / 16 * 1e-9
            codes = ideal_codes(chip, np.array([base, first, last]), 12.5e-9, lsb)[:, 0]
            assert codes[1] == codes[2] > codes[0]
            continue
        # find each vector's delay by scanning the window start (1/64 ns steps)
        def delay_of(v: np.ndarray, chip=chip) -> float:
            lo, hi = 0.0, 40e-9
            while hi - lo > 1e-9 / 64:
                mid = 0.5 * (lo + hi)
                code = ideal_codes(chip, v[None, :], mid, 1e-9)[0, 0]
                lo, hi = (mid, hi) if code > 0 else (lo, mid)     # code 1 from t >= start + 1 LSB
            return hi + 1e-9
        below = r.line_capacitance_per_cell * (64 - np.arange(64)) + r.comparator_capacitance
        weights = below / c_total                              # Elmore: capacitance below each row
        d = p.device
        r_low, r_high = d.r_fet_mean + d.r_p_mean, d.r_fet_mean + d.r_ap_mean
        for v in (base, first, last):
            r_rows = np.where(v == 1, r_low, r_high)
            expected = delay(r_rows.sum(), p, r_eff=(weights * r_rows).sum())
            assert delay_of(v) == pytest.approx(expected, abs=2e-11)
        t0, t_first, t_last = (delay_of(v) for v in (base, first, last))
        assert t_first - t0 > 5 * (t_last - t0) > 0             # row 0 counts far more than row 63
        assert t0 == pytest.approx(13e-9, abs=3e-11)      # calibrated on the paper's delays, like the lumped node


def test_tdc_comparator_and_reference_tempcos() -> None:
    """With the array's tempcos off, heating moves codes only through the TDC, the comparator's delay and the
    reference sink's current (I_ref (1 + a_ref (T - T_ref)): V_inf falls)."""
    flat = {"device.r_p_tempco": 0.0, "device.tmr_tempco": 0.0, "device.r_fet_tempco": 0.0, "stochastic": False}
    p = ChipParameters().with_overrides(flat)
    chip = powered(1, p)
    chip.write_array(np.ones((64, 64), np.int8))
    x = level_inputs(np.ones(64, np.int8))
    r = p.readout
    r_col = read_level_resistances(p, np.arange(65))
    start, lsb = 12.5e-9, 0.25e-9
    for temperature in (298.15, 373.15):
        chip.set_temperature(temperature)
        codes = ideal_codes(chip, x, start, lsb)[:, 0].astype(int)
        dt = temperature - 298.15
        _, _, i_ref = circuit_constants(p)
        t = delay(r_col, p, i_ref=i_ref * (1 + r.reference_current_tempco * dt)) \
            + r.comparator_delay * r.comparator_delay_tempco * dt
        scale = 1 + r.tdc_lsb_tempco * dt
        assert codes_match(codes, (t - start * scale) / (lsb * scale))


def column_noise_correlation(params: ChipParameters) -> float:
    chip = powered(2, params)
    chip.write_array(np.ones((64, 64), np.int8))
    x = np.tile(level_inputs(np.ones(64, np.int8))[32], (4000, 1))      # MAC = 0 on every column
    codes = chip.mac_batch(x).astype(float)
    return float(np.corrcoef(codes[:, 10], codes[:, 40])[0, 1])


def test_noise_has_a_part_common_to_all_columns() -> None:
    """The supply's noise moves every column's trip level at once; the comparators', the nodes' kT/C and the
    sinks' shot noise move each column's alone.  At the defaults the common part is small: the correlation
    between two columns is its share of the variance, common^2 / (common^2 + column^2) (datasheet.py)."""
    from datasheet import voltage_noise
    only_common = ChipParameters().with_overrides({"readout.supply_noise": 0.02})
    only_column = ChipParameters().with_overrides({"readout.supply_noise": 0.0, "readout.clock_jitter": 0.0,
                                                   "readout.threshold_reference_capacitance": 1e-10})
    assert column_noise_correlation(only_common) > 0.8
    assert abs(column_noise_correlation(only_column)) < 0.05
    column, common = voltage_noise(ChipParameters())
    assert abs(column_noise_correlation(ChipParameters()) - common**2 / (common**2 + column**2)) < 0.05


def test_normal_draws_have_untruncated_tails() -> None:
    """4M draws: about 27 beyond 4.5 sigma (a +-4.3 sigma cut would give none) and a unit variance."""
    words = np.random.default_rng(0).bit_generator.random_raw(1_000_000)
    z = gaussian16(words, key=7, first_lane=0)
    beyond = int((np.abs(z) > 4.5).sum())
    assert 10 < beyond < 50
    assert z.std() == pytest.approx(1.0, abs=0.002)


@pytest.mark.parametrize("centre", [0, 20])
def test_power_up_window_is_centred_on_each_columns_mac_zero(centre: int) -> None:
    """Datasheet 3: each column's 16 codes centred on its MAC = 0 (or the configured ``tdc_centre_mac``) by the
    factory calibration through the readout: reads at that MAC on random weights land on code 7.5 within
    the calibration's statistics and the window's granularity, in every column, whatever its offset."""
    chip = powered(5, ChipParameters().with_overrides({"defaults.tdc_centre_mac": float(centre)}))
    lsb = round(0.4e-9 * 256e9) / 256e9
    assert np.allclose(chip.tdc_lsb, lsb, rtol=0, atol=1e-21)
    assert np.ptp(chip.tdc_start) > 3e-9                          # per-column starts: offsets of ns
    assert np.allclose(chip.tdc_start, np.round(chip.tdc_start * 64e9) / 64e9, rtol=0, atol=1e-21)  # on the DAC
    w = random_signs(np.random.default_rng(3), (64, 64))
    chip.write_array(w)
    w = chip.stored_weights()
    rng = np.random.default_rng(4)
    mismatched = (64 - centre) // 2
    means = []
    for j in range(0, 64, 7):     # MAC = centre on column j: (64 - centre) / 2 random rows mismatched
        x = np.array([w[:, j] * np.where(rng.permutation(64) < mismatched, -1, 1) for _ in range(300)], np.int8)
        means.append(chip.mac_batch(x)[:, j].mean())
    assert np.all(np.abs(np.array(means) - 7.5) < 0.8)


def entropy_and_error(codes: np.ndarray, mac: np.ndarray) -> tuple[float, float]:
    bits, sq = [], []
    for j in range(64):
        count = np.bincount(codes[:, j], minlength=16)
        p = count[count > 0] / count.sum()
        bits.append(float(-(p * np.log2(p)).sum()))
        mean = np.bincount(codes[:, j], weights=mac[:, j], minlength=16) / np.maximum(count, 1)
        sq.append(np.mean((mean[codes[:, j]] - mac[:, j]) ** 2))
    return float(np.mean(bits)), float(np.sqrt(np.mean(sq)))


def test_power_up_window_uses_more_bits_than_the_full_range_window() -> None:
    """Random partial sums (sigma ~8): ~3.5 bits used and ~3.5 MAC RMS error, against ~2.2 bits and ~4.0."""
    chip = powered(5)
    rng = np.random.default_rng(1)
    chip.write_array(random_signs(rng, (64, 64)))
    w = chip.stored_weights()
    x = random_signs(rng, (60_000, 64))
    mac = x.astype(int) @ w.astype(int)
    bits_default, err_default = entropy_and_error(chip.mac_batch(x), mac)
    chip.set_tdc_window(13e-9, 1e-9)
    bits_full, err_full = entropy_and_error(chip.mac_batch(x), mac)
    assert bits_default > 3.2 and bits_full < 2.5
    assert err_default < err_full - 0.2


def test_full_range_window_codes_are_monotonic_in_mac(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(2), (64, 64))
    chip.write_array(w)
    chip.set_tdc_window(13e-9, 1e-9)
    for column in (0, 17, 63):
        x = level_inputs(w[:, column], 40)
        codes = chip.mac_batch(x)[:, column].astype(float)
        means = codes.reshape(65, 40).mean(axis=1)           # index k: MAC = 64 - 2k
        assert np.all(np.diff(means) >= -0.15)               # non-decreasing in mismatches
        assert means[-1] - means[0] > 12                     # the window spans the range


def test_moving_a_columns_window_shifts_only_its_codes(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(4), (64, 64))
    chip.write_array(w)
    x = random_signs(np.random.default_rng(5), (2000, 64))
    base = chip.mac_batch(x).astype(float)
    start, lsb = float(chip.tdc_start[5]), float(chip.tdc_lsb[5])
    chip.set_tdc_window(start - 2 * lsb, lsb, column=5)      # start 2 LSB earlier
    moved = chip.mac_batch(x).astype(float)
    assert 1.7 < moved[:, 5].mean() - base[:, 5].mean() < 2.3
    others = np.arange(64) != 5
    assert abs(moved[:, others].mean() - base[:, others].mean()) < 0.05


def test_codes_are_four_bit(chip: MX64) -> None:
    x = random_signs(np.random.default_rng(0), (5000, 64))
    codes = chip.mac_batch(x)
    assert codes.dtype == np.uint8 and codes.max() <= 15 and codes.shape == (5000, 64)


def test_verify_reads_the_stored_sign_and_misreads_defects(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(8), (64, 64))
    chip.write_array(w)
    read = np.array([chip.verify_row(r) for r in range(64)])
    assert np.array_equal(read, chip.stored_weights())
    assert (read != w).sum() <= 8        # a handful of defective cells at most


def test_test_pad_reads_the_die_column_with_fresh_relative_noise_of_the_stated_size() -> None:
    """At a small bias the pad sees the selected branches' FETs and MTJs in their states plus the
    multiplexer (from the die's own values); each read carries fresh noise of read_noise_rel: the mean of
    400 reads within 4 standard errors, their relative spread within 5 standard errors of a spread."""
    chip = powered(17)
    w = random_signs(np.random.default_rng(18), (64, 64))
    chip.write_array(w)
    x = random_signs(np.random.default_rng(19), (64,))
    chip.set_test_mux(21)
    chip.set_hold_input(x)
    rows, side = np.arange(64), (x == -1).astype(int)
    d = chip.die
    mtj = np.where(chip._ap[rows, 21, side], d.r_ap[rows, 21, side], d.r_p[rows, 21, side])
    expected = float((d.r_fet[rows, 21, side] + mtj).sum()) + chip.params.readout.test_mux_resistance
    reads = np.array([chip.test_pad_resistance(0.01) for _ in range(400)])
    rel = chip.params.readout.read_noise_rel
    assert abs(reads.mean() - expected) < 4 * rel * expected / math.sqrt(reads.size)
    assert reads.std(ddof=1) / expected == pytest.approx(rel, rel=5 / math.sqrt(2 * (reads.size - 1)))


def test_test_pad_sees_the_selected_column_resistance(ideal_chip: MX64) -> None:
    w = np.ones((64, 64), np.int8)
    ideal_chip.write_array(w)
    ideal_chip.set_test_mux(9)
    ideal_chip.set_hold_input(np.ones(64, np.int8))              # all cells low
    r_low = ideal_chip.test_pad_resistance(0.1)
    x = np.ones(64, np.int8)
    x[0] = -1                                                    # row 0 of column 9 high
    ideal_chip.set_hold_input(x)
    r_one_high = ideal_chip.test_pad_resistance(0.1)
    assert abs(r_low - (64 * 13e3 + 500)) < 50
    assert abs((r_one_high - r_low) - 13e3) < 50                # isolates row 0's branches
    ideal_chip.set_test_mux(None)
    assert ideal_chip.test_pad_resistance(0.1) == float("inf")


def test_circuit_constants_are_physical_and_agree_with_an_independent_solution() -> None:
    from sim_chip.readout import readout_circuit
    c, v_th, i_ref = circuit_constants(ChipParameters())
    model = readout_circuit(ChipParameters())
    assert model.capacitance == pytest.approx(64 * 2.1e-15 + 5e-15, abs=0) == pytest.approx(c, abs=0)
    assert model.threshold == pytest.approx(v_th, rel=1e-6) and model.reference_current == pytest.approx(i_ref, rel=1e-6, abs=0)
    assert 0 < v_th < 0.25 and 0 < i_ref < 0.25 / (64 * 26e3)    # trips below the read bias, sinks less than the column


def test_a_shorted_mtj_decides_its_cells_stored_sign() -> None:
    """stored_weights: the branch whose MTJ is a 150 ohm short is the low one, whatever was written."""
    chip = powered(3)                                           # shorts: (7, 47) and (27, 63) left, (27, 27) right
    shorted = np.argwhere(chip.die.defect == 3)
    chip.write_array(-np.ones((64, 64), np.int8))               # left AP, right P: a left short reads +1
    stored = chip.stored_weights()
    assert (shorted[:, 2] == 0).any()
    for row, column, side in shorted:
        other = chip.die.defect[row, column, 1 - side]
        if other == 0:
            assert stored[row, column] == (1 if side == 0 else -1)        # left shorted: left low, w = +1


def test_a_column_whose_comparator_never_trips_reads_full_scale_and_draws_one_clock() -> None:
    """Read bias 0.07 V: V_inf = V_r - I_ref R falls below V_th for high-resistance columns (datasheet.py's
    circuit): they never trip, read code 15, and their line draws the reference current for the whole clock,
    while the low-resistance columns beside them trip within the clock and draw it until their own delay."""
    p = ChipParameters.ideal()
    chip = powered(1, p)
    chip.write_array(np.tile(np.array([1, -1], np.int8), (64, 32)))         # +1, -1, +1, ... columns
    chip.set_read_bias(0.07)
    _, v_th, i_ref = circuit_constants(p)
    r_high, r_low = read_level_resistances(p, np.array([64, 0]))
    assert 0.07 - i_ref * r_high < v_th < 0.07 - i_ref * r_low    # the +1 columns never trip, the -1 ones do
    start = 30e-9
    chip.set_tdc_window(start, 4e-9)
    before = dict(chip.energy.blocks)
    codes = chip.mac_batch(-np.ones((10, 64), np.int8))       # +1 columns all mismatched, -1 columns matched
    assert np.all(codes[:, 0::2] == 15)
    c = chip.die.column_capacitance
    t_low = delay(r_low, p, v_read=0.07, capacitance=c[1::2])
    assert np.all(t_low < 1 / chip.clock_hz)
    assert np.all(codes[:, 1::2] == np.floor((t_low - start) / 4e-9))
    lines = chip.energy.blocks["column_lines"] - before["column_lines"]
    vdd = chip.rails["vdd"]
    expected = vdd * (10 * c.sum() * v_th + i_ref * 10 * (32 / chip.clock_hz + t_low.sum()))
    assert lines == pytest.approx(expected, rel=1e-5, abs=0)              # the kernel's delays are float32


def test_a_column_beyond_the_kernels_exact_range_is_refused() -> None:
    """The kernel sums I_ref R in 2^-27 V steps in float32: beyond 2^24 steps (0.125 V, ~4 MOhm a column
    at the calibrated I_ref) it refuses rather than round.  (A die far off its calibration: R_P x 6.)"""
    from sim_chip import InvalidArgument
    from datasheet import circuit_constants
    p = ChipParameters.ideal()
    _, _, i_ref = circuit_constants(p)
    for factor, refused in ((6.0, True), (4.5, False)):
        chip = powered(1, p)
        chip.die.r_p[:] *= factor                                   # every MTJ is in P after fabrication
        column = 64 * (p.device.r_fet_mean + factor * p.device.r_p_mean)
        assert (i_ref * column >= 2.0**24 * 2.0**-27) == refused
        chip.set_tdc_window(0.0, 4e-9)                              # a new kernel
        if refused:
            with pytest.raises(InvalidArgument, match="exact range"):
                chip.mac(np.ones(64, np.int8))
        else:
            assert chip.mac(np.ones(64, np.int8)).shape == (64,)


def test_the_common_read_noise_has_untruncated_tails() -> None:
    """A million clocks of the two draws common to all columns (voltage and jitter): unit variance, ~7 draws
    beyond 4.5 sigma (the outer bins of the 16-bit table are redrawn exactly; a cut at +-4.3 sigma would
    leave none), independent of each other."""
    from sim_chip.kernel import ReadNoise
    from sim_chip.rng import DenseStream, derive_key
    noise = ReadNoise(DenseStream(derive_key(3, "mac-noise")), 11, 12)
    draws = noise.common(0, 1_000_000)
    for z in (d.astype(float) for d in draws):
        assert np.all(np.isfinite(z)) and abs(z.mean()) < 0.005 and z.std() == pytest.approx(1.0, abs=0.003)
        beyond = int((np.abs(z) > 4.5).sum())
        assert 1 <= beyond <= 20 and np.abs(z).max() > 4.3
    assert abs(np.corrcoef(*draws)[0, 1]) < 0.005
    assert np.array_equal(noise.common(5, 10)[0], draws[0][5:15])   # keyed on the clock, not on the call


def branch_current(v, r_on, i_sat, r_p, r_ap, is_ap, dev):
    """FET (tanh law) + MTJ (TMR(V)) in series under v, by bisection on the MTJ voltage; the current."""
    lo, hi = np.zeros_like(r_p), np.full_like(r_p, v)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        r_m = np.where(is_ap, r_p * (1 + (r_ap / r_p - 1) / (1 + (mid / dev.v_half_tmr) ** 2)), r_p)
        i_fet = i_sat * np.tanh((v - mid) / (r_on * i_sat)) * (1 + dev.fet_output_conductance * (v - mid))
        lo, hi = np.where(i_fet > mid / r_m, mid, lo), np.where(i_fet > mid / r_m, hi, mid)
    v_m = 0.5 * (lo + hi)
    return v_m / np.where(is_ap, r_p * (1 + (r_ap / r_p - 1) / (1 + (v_m / dev.v_half_tmr) ** 2)), r_p)


def test_verify_reads_the_sign_of_the_branch_difference_plus_its_offset_and_costs_its_energy() -> None:
    """Sense offsets of ~20 kOhm (more than a margin): each cell reads sign(R_R - R_L + offset), the branches
    at the verify bias with the FET as a transistor (solved here, the current from the bit line into the
    MTJ's free layer: the FET's P->AP saturation current), except within the sense noise; the verify draws
    V_ver x the branch currents for half a clock plus 50 fJ a column."""
    p = ChipParameters().with_overrides({"readout.sense_offset_sigma": 20e3})
    chip = powered(3, p)                                         # a die with shorted MTJs
    w = random_signs(np.random.default_rng(5), (64, 64))
    chip.write_array(w)
    d, dev = chip.die, p.device
    ap = chip._ap.copy()
    i_sat = dev.fet_isat_p_to_ap * dev.r_fet_mean / d.r_fet
    current = branch_current(0.1, d.r_fet, i_sat, d.r_p, d.r_ap, ap, dev)
    healthy = (d.defect == 0).all(axis=2)
    r_branch = 0.1 / current
    diff = r_branch[:, :, 1] - r_branch[:, :, 0] + d.sense_offset[None, :]
    before = chip.energy.blocks["verify"]
    read = np.array([chip.verify_row(r) for r in range(64)])
    clear = healthy & (np.abs(diff) > 4 * p.readout.sense_noise_sigma)
    assert np.array_equal(read[clear], np.where(diff > 0, 1, -1)[clear])
    assert (read != chip.stored_weights())[clear].sum() > 100              # the offsets do misread cells
    spent = chip.energy.blocks["verify"] - before
    broken = chip._broken                                  # a broken MTJ is a short in its branch
    every = branch_current(0.1, d.r_fet, i_sat, np.where(broken, dev.r_short, d.r_p),
                           np.where(broken, dev.r_short, d.r_ap), ap & ~broken, dev)
    assert broken.any() and np.allclose(every[~broken], current[~broken], rtol=1e-12, atol=0)
    expected = 0.1 * every.sum() * 0.5 / chip.clock_hz + 64 * 64 * 50e-15
    assert spent == pytest.approx(expected, rel=1e-6, abs=0)


def test_a_broken_mtj_reads_as_a_short_in_the_mac() -> None:
    """Ideal die with one MTJ broken by hand (row 0, column 5, left): column 5 selects it with x_0 = +1 and
    its resistance drops by R_P - 150 ohm, which the fine window shows against datasheet.py's delay."""
    p = ChipParameters.ideal()
    chip = powered(1, p)
    chip._broken[0, 5, 0] = True
    chip.set_tdc_window(12.5e-9, 1 / 16 * 1e-9)                            # a new kernel, a fine LSB
    d = p.device
    r_nominal = 64 * (d.r_fet_mean + d.r_p_mean)
    codes = chip.mac(np.ones(64, np.int8)).astype(int)
    t = delay(np.array([r_nominal, r_nominal - d.r_p_mean + d.r_short]), p)
    assert codes_match(codes[[4, 5]], (t - 12.5e-9) / (1 / 16 * 1e-9))
    assert codes[5] <= codes[4] - 2


def test_reset_returns_every_register_to_power_up_and_reads_through_the_power_up_window() -> None:
    """Datasheet: reset restores the power-up registers (the array keeps its data): the same codes as
    before the window and bias moved (an ideal die has no noise), the test pad disconnected, the cycle
    counter from 0."""
    chip = powered(2, IDEAL)
    rng = np.random.default_rng(8)
    chip.write_array(random_signs(rng, (64, 64)))
    x = random_signs(rng, (300, 64))
    power_up = chip.mac_batch(x)
    registers = (chip.tdc_start.copy(), chip.tdc_lsb.copy(), chip.read_bias, chip.clock_hz)
    chip.set_tdc_window(13e-9, 1e-9)
    chip.set_read_bias(0.15)
    chip.set_clock(5e6)
    chip.set_test_mux(3)
    chip.set_hold_input(-np.ones(64, np.int8))
    assert np.isfinite(chip.test_pad_resistance(0.1))
    assert not np.array_equal(chip.mac_batch(x), power_up)
    chip.reset()
    assert chip.cycle_counter == 0
    assert np.array_equal(chip.tdc_start, registers[0]) and np.array_equal(chip.tdc_lsb, registers[1])
    assert (chip.read_bias, chip.clock_hz) == registers[2:]
    assert chip.test_pad_resistance(0.1) == float("inf")
    assert np.array_equal(chip.hold_input, np.ones(64))
    assert np.array_equal(chip.mac_batch(x), power_up)
    assert chip.cycle_counter == len(x)


def test_a_broken_mtj_decides_its_cells_verify_read() -> None:
    """Ideal die, one MTJ broken by hand (row 0, column 5, left): its branch is a short whichever sign
    is written, so the verify read of that cell no longer follows the data while its neighbours do."""
    chip = powered(1, IDEAL)
    chip._broken[0, 5, 0] = True
    reads = []
    for sign in (1, -1):
        w = np.full((64, 64), sign, np.int8)
        chip.write_array(w)
        reads.append(chip.verify_row(0))
        assert np.array_equal(np.delete(reads[-1], 5), np.delete(w[0], 5))
    assert reads[0][5] == reads[1][5]
