"""Window placement, calibration tables and replicas of the tile readout (pure functions)."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.tile_readout import (SECONDS_PER_MAC, STEP_CODES, TdcSetting, calibration_tables,
                                              decode_windows, expected_times, group_centres, merge_replicas,
                                              observed_centres, off_centre, replica_count, window_starts,
                                              with_replicas)


@pytest.mark.parametrize("windows", [1, 2, 3, 6])
def test_window_groups_are_centred_and_spaced(windows) -> None:
    setting = TdcSetting(0.4e-9, windows)
    centres = np.linspace(15e-9, 20e-9, 64)
    starts = window_starts(centres, setting)
    assert starts.shape == (windows, 64)
    assert np.allclose(group_centres(starts, setting), centres, atol=0)
    assert np.allclose(np.diff(starts, axis=0), STEP_CODES * 0.4e-9, atol=0)
    span_middle = (starts[0] + starts[-1] + 16 * 0.4e-9) / 2            # first code's start to last code's end
    assert np.allclose(span_middle, centres, atol=0)


def test_expected_times_fall_with_the_mac() -> None:
    assert np.allclose(expected_times(np.full(64, 17e-9), np.full(64, 8.0)), 16e-9, atol=0)


def test_observed_centres_and_the_recentre_rule() -> None:
    setting = TdcSetting(0.5e-9)
    starts = window_starts(np.full(64, 20e-9), setting)                  # codes 0..15 from 16 ns
    codes = np.full((1, 9, 64), 7, np.uint8)
    codes[0, :, 5] = 12                                                  # column 5 reads 4.5 codes late
    assert np.allclose(observed_centres(codes, starts, 0.5e-9)[[0, 5]], [19.75e-9, 22.25e-9], atol=0)
    assert np.flatnonzero(off_centre(codes, starts, setting)).tolist() == [5]


def test_tables_hold_the_mean_ideal_mac_and_extrapolate_unseen_codes_with_the_slope() -> None:
    lsb = 0.4e-9
    codes = np.zeros((1, 3, 64), np.uint8)
    ideal = np.zeros((3, 64))
    codes[0, :, 0], ideal[:, 0] = [3, 3, 6], [10, 12, 2]
    table = calibration_tables(codes, ideal, lsb)[0, 0]
    slope = lsb / SECONDS_PER_MAC                                        # 3.2 MAC units per code
    assert table[3] == 11 and table[6] == 2
    assert table[4] == pytest.approx(11 - slope)                         # nearest seen code 3 (tie: the lower)
    assert table[5] == pytest.approx(2 + slope)                          # nearest seen code 6
    assert table[0] == pytest.approx(11 + 3 * slope) and table[15] == pytest.approx(2 - 9 * slope)
    assert np.allclose(calibration_tables(codes, ideal, lsb)[0, 1], -slope * np.arange(16))   # column 1: 0 at 0


def test_replicas_fill_narrow_tiles_and_average_back() -> None:
    assert [replica_count(n) for n in (10, 32, 33, 64, 1)] == [6, 2, 1, 1, 64]
    rng = np.random.default_rng(0)
    tile = np.ones((64, 64), np.int8)
    tile[:, :10] = rng.choice(np.array([-1, 1], np.int8), (64, 10))
    filled = with_replicas(tile, 10, 6)
    assert all(np.array_equal(filled[:, 10 * k:10 * k + 10], tile[:, :10]) for k in range(6))
    assert (filled[:, 60:] == 1).all()
    values = np.tile(np.arange(10.0), (3, 6))
    values = np.concatenate([values + np.repeat(np.arange(6.0), 10) - 2.5, np.zeros((3, 4))], axis=1)
    assert np.allclose(merge_replicas(values, 10, 6), np.arange(10.0))


def test_windows_average_where_unclipped_and_otherwise_the_most_central_decides() -> None:
    tables = np.stack([np.tile(np.arange(16.0), (64, 1)), np.tile(100 + np.arange(16.0), (64, 1))])
    codes = np.zeros((2, 3, 64), np.uint8)
    codes[:, 0] = [[5], [9]]          # both inside: the mean of 5 and 109
    codes[:, 1] = [[15], [3]]         # the first clipped: the second alone
    codes[:, 2] = [[15], [0]]         # both clipped at the overlap: the codes beside the clip, (14 + 101) / 2
    decoded = decode_windows(codes, tables)
    assert decoded[:, 0].tolist() == [57.0, 103.0, 57.5]
    one = codes[:1]
    assert np.array_equal(decode_windows(one, tables[:1]), one[0].astype(float))
