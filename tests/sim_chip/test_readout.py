"""Column delay and TDC: monotonic codes, programmable windows, verify read."""

from __future__ import annotations

import numpy as np

from conftest import random_signs
from sim_chip import MX64


def level_inputs(w_column: np.ndarray, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs that give every MAC level of one column (first k rows mismatched), repeated."""
    x = np.array([np.where(np.arange(64) < k, -w_column, w_column) for k in range(65)], np.int8)
    return np.repeat(x, repeats, axis=0), 64 - 2 * np.repeat(np.arange(65), repeats)


def test_mean_code_is_monotonic_in_mac_with_the_default_window(chip: MX64) -> None:
    """Default window (13 ns start, 1 ns LSB): codes fall from ~15 at MAC=-64 to ~0 at +64."""
    w = random_signs(np.random.default_rng(2), (64, 64))
    chip.write_array(w)
    for column in (0, 17, 63):
        x, mac = level_inputs(w[:, column], 40)
        codes = chip.mac_batch(x)[:, column].astype(float)
        means = codes.reshape(65, 40).mean(axis=1)           # index k: MAC = 64 - 2k
        assert np.all(np.diff(means) >= -0.15)               # non-decreasing in mismatches
        assert means[-1] - means[0] > 12                     # the window spans the range
        assert np.corrcoef(mac, codes)[0, 1] < -0.97


def test_moving_a_columns_window_shifts_only_its_codes(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(4), (64, 64))
    chip.write_array(w)
    x = random_signs(np.random.default_rng(5), (2000, 64))
    base = chip.mac_batch(x).astype(float)
    chip.set_tdc_window(13e-9 - 2e-9, 1e-9, column=5)      # start 2 LSB earlier
    moved = chip.mac_batch(x).astype(float)
    assert 1.7 < moved[:, 5].mean() - base[:, 5].mean() < 2.3
    others = np.arange(64) != 5
    assert abs(moved[:, others].mean() - base[:, others].mean()) < 0.05


def test_a_finer_lsb_resolves_more_levels(chip: MX64) -> None:
    w = random_signs(np.random.default_rng(6), (64, 64))
    chip.write_array(w)
    x, _ = level_inputs(w[:, 3], 1)
    levels = x[24:40]                                      # 16 levels, ~4 ns of delay
    coarse_codes = chip.mac_batch(levels)[:, 3]
    coarse = len(np.unique(coarse_codes))
    # place 16 codes of 0.25 ns on those levels, from where the coarse codes put them
    first_delay = 13e-9 + (coarse_codes[:4].mean() + 0.5) * 1e-9 - 0.375e-9
    chip.set_tdc_window(first_delay - 0.25e-9, 0.25e-9)
    fine = len(np.unique(chip.mac_batch(levels)[:, 3]))
    assert coarse <= 6 and fine >= 2 * coarse


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
