"""The procedures' estimators on data whose truth the test sets: exact recovery, bias, standard errors.

Fast (no bench): the data come from the datasheet's laws written out here,
noise-free (the estimate must be the truth) or with binomial or Gaussian
noise over repeats (the estimate must be unbiased within its spread, and
the reported standard error must be that spread).  These tests are also
what mutation testing runs against the estimators (docs/testing.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from procedures.array_map import branch_statistics
from procedures.endurance import broken_counts, weibull
from benchspec.tdc import decode_nearest as decode, fixed_windows as window_starts, window_table
from procedures.mac_transfer import level_patterns
from procedures.mtj_pads import mtj_share
from procedures.retention import failed_fraction, fit_curve, fit_temperature_law, temperature_shape
from procedures.rv_loop import fit_tmr_bias, sweep
from procedures.switching_probability import fit_thermal

TAU0 = 1e-9


# --- switching-probability -------------------------------------------------------------------
def thermal_p(v, width, vc0, delta):
    """Datasheet 4: P = 1 - exp(-t/tau), tau = tau0 exp(Delta (1 - V/Vc0))."""
    return -np.expm1(-np.asarray(width)[..., None] / (TAU0 * np.exp(delta * (1 - np.asarray(v) / vc0))))


def design(widths, vc0, delta, points=9, span=0.025):
    """Amplitudes around each width's 50 % point (what the coarse sweep finds)."""
    v50 = vc0 * (1 - np.log(np.asarray(widths) / (TAU0 * math.log(2))) / delta)
    return v50[:, None] + np.linspace(-span / 2, span / 2, points)[None, :]


def test_the_switching_fit_recovers_noise_free_probabilities_exactly() -> None:
    widths, vc0, delta = np.array([1e-6, 1e-4, 1e-3]), 0.447, 56.9
    v = design(widths, vc0, delta)
    p = np.array([thermal_p(row, w, vc0, delta) for row, w in zip(v, widths)])
    (vc0_fit, vc0_se), (delta_fit, delta_se) = fit_thermal(v, widths, p, 200)
    assert vc0_fit == pytest.approx(vc0, rel=1e-7) and delta_fit == pytest.approx(delta, rel=1e-7)
    assert 0 < vc0_se < 0.002 and 0 < delta_se < 1


def test_the_switching_fit_is_unbiased_and_its_standard_errors_are_its_spread() -> None:
    """Binomial counts, 300 repeats: the mean within 4 standard errors of the mean, the reported se the spread.

    The old least-squares line through ln(-ln(1-P)) of the points with 0 < P < 1 was
    biased here by +0.26 % in Vc0 and -0.76 in Delta (10 and 14 of these tolerances).
    """
    rng = np.random.default_rng(7)
    widths, vc0, delta, trials = np.array([1e-6, 1e-5, 1e-4]), 0.447, 56.9, 60
    v = design(widths, vc0, delta, points=15, span=0.05)
    p = np.array([thermal_p(row, w, vc0, delta) for row, w in zip(v, widths)])
    fits = np.array([[x for pair in fit_thermal(v, widths, rng.binomial(trials, p) / trials, trials) for x in pair]
                     for _ in range(300)])
    for column, truth in ((0, vc0), (2, delta)):
        spread = fits[:, column].std()
        assert abs(fits[:, column].mean() - truth) < 4 * spread / math.sqrt(len(fits))
        assert fits[:, column + 1].mean() == pytest.approx(spread, rel=0.15)


def test_the_switching_fit_counts_points_that_never_or_always_switched() -> None:
    """Points at 0 and 1 carry information: dropping them moves the fit."""
    widths, vc0, delta = np.array([1e-6, 1e-4]), 0.447, 56.9
    v = design(widths, vc0, delta, points=7, span=0.06)
    p = np.array([thermal_p(row, w, vc0, delta) for row, w in zip(v, widths)])
    counts = np.round(p * 50) / 50
    assert ((counts == 0) | (counts == 1)).sum() >= 4
    full = fit_thermal(v, widths, counts, 50)
    inner = np.where((counts > 0) & (counts < 1), counts, np.nan)
    assert full[0][0] == pytest.approx(vc0, rel=0.01)
    assert not np.isnan(full[0][1])
    assert np.isnan(inner).any()


def test_the_switching_fit_refuses_what_cannot_determine_a_line() -> None:
    widths = np.array([1e-6])
    nan = fit_thermal(np.array([[0.3, 0.31, 0.32]]), widths, np.array([[0.0, 0.5, 1.0]]), 10)
    assert all(math.isnan(x) for pair in nan for x in pair)                 # one interior point
    flat = fit_thermal(np.array([[0.3, 0.3, 0.3]]), widths, np.array([[0.2, 0.5, 0.7]]), 10)
    assert all(math.isnan(x) for pair in flat for x in pair)                # no spread in V
    falling = fit_thermal(np.array([[0.3, 0.31, 0.32]]), widths, np.array([[0.9, 0.5, 0.1]]), 100)
    assert all(math.isnan(x) for pair in falling for x in pair)             # switching falls with V


def test_the_mtj_gets_its_share_of_the_generators_open_circuit_amplitude() -> None:
    """50 ohm source and the pads in series with the MTJ (procedures/mtj_pads.py)."""
    assert mtj_share(1.0, 10_000.0, 50.0) == pytest.approx(10_000 / 10_100)
    assert mtj_share(0.4, 8_000.0, 0.0) == pytest.approx(0.4 * 8_000 / 8_050)


# --- rv-loop ----------------------------------------------------------------------------------
def test_the_tmr_bias_fit_recovers_tmr0_and_vh() -> None:
    v = np.arange(0.01, 0.31, 0.01)
    tmr = 1.3 / (1 + v**2 / 0.5**2)
    (tmr0, tmr0_se), (vh, vh_se) = fit_tmr_bias(v, tmr)
    assert tmr0 == pytest.approx(1.3, rel=1e-9) and vh == pytest.approx(0.5, rel=1e-9)
    assert tmr0_se < 1e-9 and vh_se < 1e-9
    rng = np.random.default_rng(3)
    fits = np.array([[x for pair in fit_tmr_bias(v, tmr * (1 + 0.002 * rng.standard_normal(v.size))) for x in pair]
                     for _ in range(300)])
    for column, truth in ((0, 1.3), (2, 0.5)):
        spread = fits[:, column].std()
        assert abs(fits[:, column].mean() - truth) < 4 * spread / math.sqrt(len(fits))
        assert fits[:, column + 1].mean() == pytest.approx(spread, rel=0.15)


def test_the_tmr_bias_fit_needs_four_points_and_a_falling_tmr() -> None:
    v = np.array([0.1, 0.2, 0.3])
    assert all(math.isnan(x) for pair in fit_tmr_bias(v, 1.3 / (1 + v**2 / 0.25)) for x in pair)
    v = np.arange(0.05, 0.3, 0.05)
    (tmr0, _), (vh, vh_se) = fit_tmr_bias(v, 1.0 + v**2)                   # rising: no Vh
    assert tmr0 == pytest.approx(1 / (1 - 0.0), rel=0.1) and math.isnan(vh) and math.isnan(vh_se)


def test_the_rv_sweep_goes_up_down_and_back() -> None:
    volts = sweep(0.3, 0.1)
    assert np.allclose(volts, [0.1, 0.2, 0.3, 0.2, 0.1, -0.1, -0.2, -0.3, -0.2, -0.1])


# --- retention --------------------------------------------------------------------------------
def two_state_fraction(t, mean, cv, h):
    """Failed-cell fraction: (1 - exp(-(a+b) t))/2, averaged over Delta ~ N(mean, cv mean) by quadrature."""
    z = np.linspace(-8, 8, 4001)
    weight = np.exp(-z**2 / 2)
    weight /= weight.sum()
    delta = mean * (1 + cv * z)[:, None]
    rate = (np.exp(-delta * (1 + h) ** 2) + np.exp(-delta * (1 - h) ** 2)) / TAU0
    return (weight[:, None] * 0.5 * -np.expm1(-rate * np.asarray(t)[None, :])).sum(axis=0)


TIMES = np.geomspace(10.0, 1e9, 14)


def test_the_retention_curve_is_the_two_state_chain_averaged_over_delta() -> None:
    for mean, cv, h, rtol in ((40.2, 0.05, 0.03, 1e-5), (46.1, 0.08, 0.0, 5e-4), (43.0, 0.0, 0.1, 1e-12)):
        assert np.allclose(failed_fraction(TIMES, mean, cv, h), two_state_fraction(TIMES, mean, cv, h),
                           rtol=rtol, atol=1e-15)                # Gauss-Hermite nodes against quadrature


def test_the_retention_fit_recovers_a_noise_free_curve_and_its_standard_error_is_the_curvature() -> None:
    mean, cv, h, cells = 43.13, 0.052, 0.03, 8000
    fraction = two_state_fraction(TIMES, mean, cv, h)
    m, se, c = fit_curve(TIMES, fraction, cells, h)
    assert m == pytest.approx(mean, abs=0.021) and c == pytest.approx(cv, abs=0.0021)
    sigma = np.sqrt(np.maximum(fraction * (1 - fraction), 1 / cells) / cells)
    d_mean = (two_state_fraction(TIMES, mean + 0.01, cv, h) - two_state_fraction(TIMES, mean - 0.01, cv, h)) / 0.02
    d_cv = (two_state_fraction(TIMES, mean, cv + 0.001, h) - two_state_fraction(TIMES, mean, cv - 0.001, h)) / 0.002
    jac = np.column_stack([d_mean, d_cv]) / sigma[:, None]
    cov = np.linalg.inv(jac.T @ jac)                            # mean and cv both fitted
    assert se == pytest.approx(np.sqrt(cov[0, 0]), rel=0.05)
    assert se > 1.2 / np.sqrt((jac[:, 0] ** 2).sum())          # more than at a known cv


def test_the_temperature_law_is_blochs() -> None:
    temps = np.array([300.0, 403.0, 423.0])
    for tc in (600.0, 800.0):
        m = (1 - (temps / tc) ** 1.5) / (1 - (298.15 / tc) ** 1.5)
        assert np.allclose(temperature_shape(temps, tc), 298.15 / temps * m**2, rtol=1e-12)


def test_the_temperature_fit_recovers_delta_and_tc_and_carries_tcs_uncertainty() -> None:
    temps, tc, ref = np.array([403.0, 413.0, 423.0]), 800.0, 90.0
    means = ref * temperature_shape(temps, tc)
    se = np.array([0.13, 0.06, 0.05])
    fit_ref, fit_se, fit_tc, fit_tc_se = fit_temperature_law(temps, means, se)
    assert fit_ref == pytest.approx(ref, rel=1e-9) and fit_tc == tc
    # the covariance of both parameters, from the analytic Jacobian
    m0 = 1 - (298.15 / tc) ** 1.5
    m = 1 - (temps / tc) ** 1.5
    shape = 298.15 / temps * (m / m0) ** 2
    dm = 1.5 * (temps / tc) ** 1.5 / tc
    dm0 = 1.5 * (298.15 / tc) ** 1.5 / tc
    d_shape = shape * 2 * (dm / m - dm0 / m0)
    jac = np.column_stack([shape, ref * d_shape])
    cov = np.linalg.inv(jac.T @ (jac / se[:, None] ** 2))
    assert fit_se == pytest.approx(np.sqrt(cov[0, 0]), rel=0.01)
    assert fit_tc_se == pytest.approx(np.sqrt(cov[1, 1]), rel=0.01)
    assert fit_se > 5 * np.sqrt(1 / ((shape / se) ** 2).sum())       # far more than at a known Tc
    two = fit_temperature_law(temps[:2], means[:2], se[:2])
    assert math.isnan(two[1]) and math.isnan(two[3])


# --- endurance ---------------------------------------------------------------------------------
def test_a_cell_is_broken_from_the_read_back_after_which_it_stays_wrong() -> None:
    bad = np.array([[1, 0, 1, 0], [0, 0, 1, 1], [1, 0, 1, 1]], bool)     # read-backs x cells
    assert broken_counts(bad).tolist() == [1, 2, 3]
    assert broken_counts(np.zeros((3, 5), bool)).tolist() == [0, 0, 0]


def test_the_weibull_fit_recovers_beta_and_eta() -> None:
    cycles = np.geomspace(1e3, 1e9, 8)
    for beta, eta in ((0.8, 6e10), (2.0, 3e8)):
        fraction = -np.expm1(-(cycles / eta) ** beta)
        (b, b_se), e = weibull(cycles, fraction)
        assert b == pytest.approx(beta, rel=1e-9) and e == pytest.approx(eta, rel=1e-9) and b_se < 1e-9
    rng = np.random.default_rng(5)
    noisy = -np.expm1(-(cycles / 6e10) ** 0.8) * np.exp(0.05 * rng.standard_normal(8))
    (b, b_se), _ = weibull(cycles, noisy)
    assert abs(b - 0.8) < 4 * b_se and b_se > 0
    (nan_b, nan_se), nan_eta = weibull(cycles[:4], np.array([0.0, 0.0, 0.01, 0.02]))
    assert math.isnan(nan_b) and math.isnan(nan_se) and math.isnan(nan_eta)


# --- array-map ---------------------------------------------------------------------------------
def synthetic_die(rng, columns=64):
    """FET, R_P and R_AP of every MTJ, (side, column, row): the datasheet's spreads, ln R_P and ln R_AP
    correlated 0.95 (what makes a cell's two margins add up to a narrow 2 (R_AP - R_P))."""
    shape = (2, columns, 64)
    z1, z2 = rng.standard_normal(shape), rng.standard_normal(shape)
    s_p, s_ap = np.sqrt(np.log1p((1593 / 10e3) ** 2)), np.sqrt(np.log1p((1994 / 23e3) ** 2))
    r_p = 10e3 * np.exp(s_p * z1 - s_p**2 / 2)
    r_ap = 23e3 * np.exp(s_ap * (0.95 * z1 + np.sqrt(1 - 0.95**2) * z2) - s_ap**2 / 2)
    return rng.normal(3e3, 150, shape), r_p, r_ap


def sums_and_margins(fet, r_p, r_ap, plus_left_mtj=None):
    """(low sums, high sums, margins) of the +1 map (left in P, right in AP) and the -1 map (the reverse).

    ``plus_left_mtj``: the left MTJs' resistance during the +1 map, if not R_P (a write that missed).
    """
    left_plus = r_p[0] if plus_left_mtj is None else plus_left_mtj
    low = np.stack([(fet[0] + left_plus).sum(axis=1), (fet[1] + r_p[1]).sum(axis=1)])
    high = np.stack([(fet[1] + r_ap[1]).sum(axis=1), (fet[0] + r_ap[0]).sum(axis=1)])
    margins = np.stack([fet[1] + r_ap[1] - fet[0] - left_plus, fet[0] + r_ap[0] - fet[1] - r_p[1]])
    return low, high, margins


def test_branch_statistics_are_unbiased_with_honest_standard_errors() -> None:
    rng = np.random.default_rng(11)
    results = []
    for _ in range(300):
        fet, r_p, r_ap = synthetic_die(rng)
        stats, used = branch_statistics(*sums_and_margins(fet, r_p, r_ap))
        assert used.all() and stats["sigma_columns"] == 64
        results.append((stats["r_low_sigma_ohm"], stats["r_low_sigma_se_ohm"], stats["r_high_sigma_ohm"],
                        stats["r_high_sigma_se_ohm"], stats["r_low_mean_ohm"], stats["r_high_mean_ohm"]))
    results = np.array(results)
    sigma_low, sigma_high = np.hypot(150, 1593), np.hypot(150, 1994)
    assert results[:, 0].mean() == pytest.approx(sigma_low, rel=0.01)
    assert results[:, 2].mean() == pytest.approx(sigma_high, rel=0.01)
    assert results[:, 1].mean() == pytest.approx(results[:, 0].std(), rel=0.15)
    assert results[:, 3].mean() == pytest.approx(results[:, 2].std(), rel=0.15)
    assert results[:, 1].mean() == pytest.approx(sigma_low / math.sqrt(2 * 126), rel=0.02)    # both maps pooled
    assert results[:, 4].mean() == pytest.approx(13e3, abs=5) and results[:, 5].mean() == pytest.approx(26e3, abs=5)


def test_branch_statistics_leave_out_columns_with_a_cell_that_does_not_hold_both_states() -> None:
    rng = np.random.default_rng(12)
    fet, r_p, r_ap = synthetic_die(rng)
    r_p[0, 5, 10] = r_ap[0, 5, 10] = 150.0              # column 5: left MTJ of row 10 shorted
    r_ap[1, 9, 3] = r_p[1, 9, 3]                        # column 9: right MTJ of row 3 stuck in P
    missed = r_p[0].copy()
    missed[20, 7] = r_ap[0, 20, 7]                      # column 20: the +1 write left row 7's left MTJ in AP
    low, high, margins = sums_and_margins(fet, r_p, r_ap, missed)
    stats, used = branch_statistics(low, high, margins)
    assert np.flatnonzero(~used).tolist() == [5, 9, 20] and stats["sigma_columns"] == 61
    clean = np.ones(64, bool)
    clean[[5, 9, 20]] = False
    assert stats["r_low_mean_ohm"] == pytest.approx(low[:, clean].mean() / 64, rel=1e-12)
    assert stats["r_high_mean_ohm"] == pytest.approx(high[:, clean].mean() / 64, rel=1e-12)
    pooled = np.concatenate([low[m, clean] - low[m, clean].mean() for m in (0, 1)])
    assert stats["r_low_sigma_ohm"] == pytest.approx(np.sqrt((pooled**2).sum() / (2 * 61 - 2) / 64), rel=1e-12)
    with_defects, _ = branch_statistics(low, high, np.full_like(margins, 13e3))     # nothing flagged
    assert with_defects["sigma_columns"] == 64
    assert with_defects["r_high_sigma_ohm"] > stats["r_high_sigma_ohm"]         # what the defects did
    assert with_defects["r_high_mean_ohm"] < stats["r_high_mean_ohm"] - 5


def test_a_weak_mtj_that_holds_both_states_keeps_its_column() -> None:
    """The rule is a quarter of the median, not an outlier test: on a chip-like die (margin sums spread
    ~4 % of their median) a cell with 22 % of its margin missing (an MTJ of low TMR, more than five
    robust deviations out) is a healthy column's branch; one with 30 % missing is left out."""
    rng = np.random.default_rng(14)
    fet, r_p, r_ap = synthetic_die(rng)
    total = sums_and_margins(fet, r_p, r_ap)[2].sum(axis=0)
    centre = np.median(total)
    robust = 1.4826 * np.median(np.abs(total - centre))
    weak = total[11, 30] - 0.22 * centre
    assert weak < centre - 5 * robust and weak > 0.75 * centre         # an outlier, above the rule's line
    r_ap[0, 11, 30] -= 0.22 * centre                                    # weak: kept
    r_ap[1, 40, 2] -= 0.3 * centre                                      # lost too much: left out
    stats, used = branch_statistics(*sums_and_margins(fet, r_p, r_ap))
    assert np.flatnonzero(~used).tolist() == [40] and stats["sigma_columns"] == 63


def test_branch_statistics_need_three_columns() -> None:
    rng = np.random.default_rng(13)
    stats, used = branch_statistics(*sums_and_margins(*synthetic_die(rng, columns=2)))
    assert used.all() and stats["r_low_mean_ohm"] == pytest.approx(13e3, rel=0.05)
    assert math.isnan(stats["r_low_sigma_ohm"]) and math.isnan(stats["r_high_sigma_se_ohm"])


# --- mac-transfer ------------------------------------------------------------------------------
def test_level_patterns_mismatch_the_first_k_rows_of_each_column() -> None:
    w = np.where(np.random.default_rng(1).random((64, 64)) < 0.5, -1, 1).astype(np.int8)
    x = level_patterns(w)
    assert x.shape == (64 * 65, 64)
    mac = x.astype(int) @ w.astype(int)
    for j in (0, 17, 63):
        assert mac[j * 65:(j + 1) * 65, j].tolist() == list(range(64, -65, -2))


def test_windows_are_twelve_lsb_apart_from_the_first_start() -> None:
    assert np.allclose(window_starts(3, 0.25e-9), 12.875e-9 + np.array([0, 3e-9, 6e-9]))


def test_the_calibration_table_is_the_mean_ideal_mac_of_each_code() -> None:
    codes = np.zeros((6, 64), np.uint8)
    codes[:, 0] = [3, 3, 3, 7, 15, 0]
    ideal = np.zeros((6, 64))
    ideal[:, 0] = [10, 12, 14, -5, -60, 60]
    table = window_table(codes, ideal)
    assert table[0, 3] == 12 and table[0, 7] == -5 and table[0, 15] == -60 and table[0, 0] == 60
    assert np.isnan(table[0, 1]) and np.isnan(table[1, 3]) and table[1, 0] == 0


def test_decoding_takes_the_window_whose_code_is_nearest_the_middle() -> None:
    table = np.stack([np.tile(np.arange(16.0), (64, 1)), np.tile(np.arange(16.0) + 100, (64, 1))])
    codes = np.zeros((2, 5, 64), np.uint8)
    codes[0, :, 0] = [7, 2, 15, 0, 15]
    codes[1, :, 0] = [1, 9, 0, 0, 15]
    out = decode(codes, table)
    # middle wins; a read past window 0's end and before window 1's start: between code 14 of the one and
    # code 1 of the other; before every window: the first window's 0; past every window: the last's 15
    assert out[:, 0].tolist() == [7.0, 109.0, (14.0 + 101.0) / 2, 0.0, 115.0]
    table[1, 0, 9] = np.nan
    assert decode(codes, table)[1, 0] == 2.0                # a code never calibrated is not used
    table[1, 0, 1] = np.nan
    assert decode(codes, table)[2, 0] == 14.0               # the other side of the clip alone


def test_the_switching_fit_of_a_short_run_is_nan_rather_than_an_error() -> None:
    """Ten pulses a point (the rehearsal's short run): whatever the counts, numbers or NaN, never a crash."""
    rng = np.random.default_rng(8)
    widths = np.array([1e-5, 1e-4])
    v = design(widths, 0.447, 56.9, points=5, span=0.05)
    for _ in range(200):
        counts = rng.integers(0, 11, v.shape) / 10
        (vc0, vc0_se), (delta, delta_se) = fit_thermal(v, widths, counts, 10)
        assert math.isnan(vc0) or (vc0 > 0 and vc0_se >= 0)
    stuck = np.array([[0.0, 0.1, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.9, 1.0]])
    fit_thermal(v, widths, stuck, 10)


# --- edges and branches the tests above do not reach ---------------------------------------------
def test_a_wide_healthy_spread_raises_the_threshold_to_five_robust_deviations() -> None:
    """With R_P and R_AP uncorrelated the margin sums spread ~3.6 kOhm: the threshold is then five robust
    standard deviations below the median, not a quarter of it, so one missing state (-13 kOhm) is kept
    and two (-26 kOhm) are not."""
    rng = np.random.default_rng(21)
    shape = (2, 64, 64)
    fet, r_p, r_ap = rng.normal(3e3, 150, shape), rng.normal(10e3, 1593, shape), rng.normal(23e3, 1994, shape)
    r_ap[1, 7, 2] = r_p[1, 7, 2]                        # one MTJ stuck in P: sum -13 kOhm, kept
    r_ap[1, 9, 4], r_ap[0, 9, 4] = r_p[1, 9, 4], r_p[0, 9, 4]   # both: -26 kOhm, left out
    low, high, margins = sums_and_margins(fet, r_p, r_ap)
    total = margins[0] + margins[1]
    robust = 1.4826 * np.median(np.abs(total - np.median(total)))
    assert 5 * robust > 0.25 * np.median(total)                         # the branch under test
    stats, used = branch_statistics(low, high, margins)
    assert np.flatnonzero(~used).tolist() == [9]
    kept = np.median(total) - 5 * robust
    assert total[7, 2] > kept and total[9, 4] < kept


def test_branch_statistics_with_no_or_three_clean_columns() -> None:
    rng = np.random.default_rng(22)
    fet, r_p, r_ap = synthetic_die(rng, columns=4)
    r_ap[1, 0, 0] = r_p[1, 0, 0]                        # column 0 left out: three clean columns
    stats, used = branch_statistics(*sums_and_margins(fet, r_p, r_ap))
    assert used.sum() == 3 and np.isfinite(stats["r_low_sigma_ohm"]) and stats["r_low_sigma_se_ohm"] > 0
    r_ap[1, :, 0] = r_p[1, :, 0]                        # every column has a cell without its AP state
    low, high, margins = sums_and_margins(fet, r_p, r_ap)
    stats, used = branch_statistics(low, high, margins)
    assert not used.any() and stats["sigma_columns"] == 0
    assert all(math.isnan(stats[k]) for k in ("r_low_mean_ohm", "r_high_mean_ohm", "r_low_sigma_ohm"))


def test_the_weibull_fit_leaves_out_fractions_of_zero_and_one_and_needs_three() -> None:
    cycles = np.geomspace(1e3, 1e9, 7)
    fraction = -np.expm1(-(cycles / 3e8) ** 1.5)
    fraction[0], fraction[-1] = 0.0, 1.0
    (beta, _), eta = weibull(cycles, fraction)
    (beta_inner, _), eta_inner = weibull(cycles[1:-1], fraction[1:-1])
    assert beta == beta_inner == pytest.approx(1.5) and eta == eta_inner
    (three, se), _ = weibull(cycles[1:4], fraction[1:4])
    assert three == pytest.approx(1.5) and se < 1e-9
    (two, _), _ = weibull(cycles[1:3], fraction[1:3])
    assert math.isnan(two)


def test_the_tmr_bias_fit_with_four_points_a_wide_vh_and_its_standard_error() -> None:
    v = np.array([0.05, 0.1, 0.15, 0.2])
    (tmr0, _), (vh, _) = fit_tmr_bias(v, 1.3 / (1 + v**2 / 1.2**2))          # b = 1/(TMR0 Vh^2) < 1
    assert tmr0 == pytest.approx(1.3) and vh == pytest.approx(1.2)
    rng = np.random.default_rng(4)
    v = np.arange(0.01, 0.31, 0.01)
    fits = np.array([[x for pair in fit_tmr_bias(v, 1.3 / (1 + v**2 / 0.25) * (1 + 0.002 * rng.standard_normal(v.size)))
                      for x in pair] for _ in range(1500)])
    assert fits[:, 1].mean() == pytest.approx(fits[:, 0].std(), rel=0.06)
    assert fits[:, 3].mean() == pytest.approx(fits[:, 2].std(), rel=0.06)


def test_the_temperature_fit_off_the_grids_step_and_with_noise() -> None:
    temps, se = np.array([403.0, 413.0, 423.0]), np.array([0.13, 0.06, 0.05])
    means = 88.0 * temperature_shape(temps, 801.0)
    ref, _, tc, _ = fit_temperature_law(temps, means, se)
    assert tc == 801.0 and ref == pytest.approx(88.0, rel=1e-9)


def test_the_retention_fit_of_a_noisy_curve_and_of_one_without_failures() -> None:
    """With binomial noise chi-squared is not zero at the minimum: the curvature there is the information."""
    rng = np.random.default_rng(6)
    mean, cv, h, cells = 43.13, 0.05, 0.03, 4000
    exact = two_state_fraction(TIMES, mean, cv, h)
    fraction = rng.binomial(cells, exact) / cells
    m, se, c = fit_curve(TIMES, fraction, cells, h)
    sigma = np.sqrt(np.maximum(fraction * (1 - fraction), 1 / cells) / cells)
    step_m, step_c = 0.02, 0.002

    def chi2(mm, cc):
        return (((failed_fraction(TIMES, mm, cc, h) - fraction) / sigma) ** 2).sum()

    hmm = (chi2(m + step_m, c) - 2 * chi2(m, c) + chi2(m - step_m, c)) / step_m**2
    hcc = (chi2(m, c + step_c) - 2 * chi2(m, c) + chi2(m, c - step_c)) / step_c**2
    hmc = (chi2(m + step_m, c + step_c) - chi2(m + step_m, c - step_c) - chi2(m - step_m, c + step_c)
           + chi2(m - step_m, c - step_c)) / (4 * step_m * step_c)
    assert chi2(m, c) > 1
    assert se == pytest.approx(np.sqrt(2 * hcc / (hmm * hcc - hmc**2)), rel=1e-6)
    assert abs(m - mean) < 4 * se
    flat = fit_curve(TIMES, np.zeros_like(TIMES), cells, h)
    assert math.isnan(flat[1]) or flat[1] > 100                # nothing failed: no information on the mean


def test_the_retention_fit_finds_a_mean_between_the_coarse_grids_points() -> None:
    """The coarse grid (0.25 apart) is refined at 0.02 within +-0.3: a mean 0.38 from the nearest whole
    number is found to the fine step, whatever coarse step finds the start."""
    mean, cv, h = 37.62, 0.05, 0.03
    m, _, c = fit_curve(TIMES, two_state_fraction(TIMES, mean, cv, h), 8000, h)
    assert m == pytest.approx(mean, abs=0.021) and c == pytest.approx(cv, abs=0.0021)


def test_a_retention_curve_failed_from_the_first_read_has_no_standard_error() -> None:
    """Half the cells wrong at every read-back (Delta far below the bakes' scale): chi-squared is flat,
    the mean is not determined, and its error is NaN rather than an exception."""
    m, se, c = fit_curve(TIMES, np.full_like(TIMES, 0.5), 4000, 0.03)
    assert math.isnan(se) and m < 11


def test_tables_and_patterns_have_their_shapes_and_types() -> None:
    w = np.ones((64, 64), np.int8)
    assert level_patterns(w).dtype == np.int8
    codes = np.full((4, 64), 3, np.uint8)                           # codes below 15 only
    codes[1] = 5
    table = window_table(codes, np.arange(4.0)[:, None] * np.ones(64))
    assert table.shape == (64, 16) and table.dtype == np.float64
    assert table[0, 3] == pytest.approx(5 / 3) and table[0, 5] == 1.0 and np.isnan(table[0, 15])


def test_decoding_prefers_any_unclipped_code_and_breaks_ties_towards_the_first_window() -> None:
    table = np.stack([np.tile(np.arange(16.0), (64, 1)), np.tile(np.arange(16.0) + 100, (64, 1))])
    codes = np.zeros((2, 3, 64), np.uint8)
    codes[0, :, 0] = [15, 7, 14]
    codes[1, :, 0] = [3, 8, 0]
    out = decode(codes, table)
    assert out[:, 0].tolist() == [103.0, 7.0, 14.0]          # unclipped beats clipped; 7 and 8 tie: the first
    between = np.zeros((2, 2, 64), np.uint8)
    between[0], between[1] = 15, 0                           # every read in every column between the windows
    table[0, 5, 14], table[1, 9, 1] = 20.0, np.nan           # column 5: other values; column 9: one side only
    out = decode(between, table)
    assert out[0, 0] == (14.0 + 101.0) / 2 and out[0, 5] == (20.0 + 101.0) / 2 and out[0, 9] == 14.0
    table[0, 9, 14] = np.nan                                  # neither side calibrated: the clipped value
    assert decode(between, table)[0, 9] == 15.0


def binomial_loglik(v, widths, p, trials, vc0, delta):
    """Log-likelihood of the counts ``p * trials`` under datasheet 4's law (the constant left out)."""
    law = np.clip(thermal_p(v, widths, vc0, delta) if np.ndim(v) == 1 else
                  np.array([thermal_p(row, w, vc0, delta) for row, w in zip(v, widths)]), 1e-300, 1 - 1e-16)
    k = np.asarray(p) * trials
    return float(np.sum(k * np.log(law) + (trials - k) * np.log1p(-law)))


def test_the_switching_fit_is_the_maximum_of_the_binomial_likelihood() -> None:
    """On noisy counts the fit is where the binomial likelihood of the law peaks: the Newton step of that
    likelihood, taken by finite differences in the test, is under 1 % of a standard error.  An estimating
    equation that is merely unbiased (a wrongly weighted score) or a search stopped early lands tenths of a
    standard error away."""
    rng = np.random.default_rng(12)
    widths, vc0, delta, trials = np.array([1e-6, 1e-5, 1e-4]), 0.447, 56.9, 60
    v = design(widths, vc0, delta, points=15, span=0.05)
    p = rng.binomial(trials, np.array([thermal_p(row, w, vc0, delta) for row, w in zip(v, widths)])) / trials
    (vc0_fit, vc0_se), (delta_fit, delta_se) = fit_thermal(v, widths, p, trials)
    theta, scale = np.array([vc0_fit, delta_fit]), np.array([vc0_se, delta_se])

    def loglik(t):
        return binomial_loglik(v, widths, p, trials, *(theta + t * scale))   # t in standard errors

    h = 0.05
    grad = np.array([(loglik(h * e) - loglik(-h * e)) / (2 * h) for e in np.eye(2)])
    hess = np.array([[(loglik(h * (a + b)) - loglik(h * (a - b)) - loglik(h * (b - a)) + loglik(-h * (a + b)))
                      / (4 * h * h) for b in np.eye(2)] for a in np.eye(2)])
    newton = np.linalg.solve(-hess, grad)                   # from the fit to the maximum, in standard errors
    assert np.all(np.abs(newton) < 0.01)
    # the curvature there is the information the standard errors came from (in these units, 1 on the diagonal)
    assert np.diag(np.linalg.inv(-hess)) == pytest.approx([1.0, 1.0], rel=0.02)


def test_two_points_strictly_between_zero_and_one_determine_the_law() -> None:
    """The law has two parameters: two interior points fix it exactly (and one, or none, gives NaN)."""
    widths, vc0, delta = np.array([1e-5]), 0.447, 56.9
    v = design(widths, vc0, delta, points=4, span=0.012)
    p = np.array([thermal_p(v[0], widths[0], vc0, delta)])
    assert np.all((p > 0.01) & (p < 0.99))
    (vc0_fit, vc0_se), (delta_fit, delta_se) = fit_thermal(v[:, 1:3], widths, p[:, 1:3], 1000)
    assert vc0_fit == pytest.approx(vc0, rel=1e-7) and delta_fit == pytest.approx(delta, rel=1e-6)
    assert vc0_se > 0 and delta_se > 0
    outside = np.array([[0.0, 1.0, 1.0]])                                  # none inside: NaN, not an error
    assert all(math.isnan(x) for pair in fit_thermal(v[:, :3], widths, outside, 100) for x in pair)
