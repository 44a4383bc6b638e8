"""The column readout (benchspec.tdc): window placement, calibration tables, decoding."""

from __future__ import annotations

import numpy as np
import pytest

from benchspec.mx64 import DELAY_PER_MAC_S
from benchspec.tdc import (GROUP_STEP_CODES, TdcSetting, calibration_tables, centred_windows, decode_mean,
                           expected_times, group_centres, nominal_mac, observed_centres, off_centre)


@pytest.mark.parametrize("windows", [1, 2, 3, 6])
def test_window_groups_are_centred_and_spaced(windows) -> None:
    setting = TdcSetting(0.4e-9, windows)
    centres = np.linspace(15e-9, 20e-9, 64)
    starts = centred_windows(centres, setting)
    assert starts.shape == (windows, 64)
    assert np.allclose(group_centres(starts, setting), centres, atol=0)
    assert np.allclose(np.diff(starts, axis=0), GROUP_STEP_CODES * 0.4e-9, atol=0)
    span_middle = (starts[0] + starts[-1] + 16 * 0.4e-9) / 2            # first code's start to last code's end
    assert np.allclose(span_middle, centres, atol=0)


def test_expected_times_fall_with_the_mac() -> None:
    assert np.allclose(expected_times(np.full(64, 17e-9), np.full(64, 8.0)), 16e-9, atol=0)


def test_observed_centres_and_the_recentre_rule() -> None:
    setting = TdcSetting(0.5e-9)
    starts = centred_windows(np.full(64, 20e-9), setting)                  # codes 0..15 from 16 ns
    codes = np.full((1, 9, 64), 7, np.uint8)
    codes[0, :, 5] = 12                                                  # column 5 reads 4.5 codes late
    assert np.allclose(observed_centres(codes, starts, 0.5e-9)[[0, 5]], [19.75e-9, 22.25e-9], atol=0)
    assert np.flatnonzero(off_centre(codes, starts, setting, 2.0)).tolist() == [5]


def test_tables_hold_the_mean_ideal_mac_and_extrapolate_unseen_codes_with_the_slope() -> None:
    lsb = 0.4e-9
    codes = np.zeros((1, 3, 64), np.uint8)
    ideal = np.zeros((3, 64))
    codes[0, :, 0], ideal[:, 0] = [3, 3, 6], [10, 12, 2]
    table = calibration_tables(codes, ideal, lsb)[0, 0]
    slope = lsb / DELAY_PER_MAC_S                                        # 3.2 MAC units per code
    assert table[3] == 11 and table[6] == 2
    assert table[4] == pytest.approx(11 - slope)                         # nearest seen code 3 (tie: the lower)
    assert table[5] == pytest.approx(2 + slope)                          # nearest seen code 6
    assert table[0] == pytest.approx(11 + 3 * slope) and table[15] == pytest.approx(2 - 9 * slope)
    assert np.allclose(calibration_tables(codes, ideal, lsb)[0, 1], -slope * np.arange(16))   # column 1: 0 at 0


def test_windows_average_where_unclipped_and_otherwise_the_most_central_decides() -> None:
    tables = np.stack([np.tile(np.arange(16.0), (64, 1)), np.tile(100 + np.arange(16.0), (64, 1))])
    codes = np.zeros((2, 3, 64), np.uint8)
    codes[:, 0] = [[5], [9]]          # both inside: the mean of 5 and 109
    codes[:, 1] = [[15], [3]]         # the first clipped: the second alone
    codes[:, 2] = [[15], [0]]         # both clipped at the overlap: the codes beside the clip, (14 + 101) / 2
    decoded = decode_mean(codes, tables)
    assert decoded[:, 0].tolist() == [57.0, 103.0, 57.5]
    one = codes[:1]
    assert np.array_equal(decode_mean(one, tables[:1]), one[0].astype(float))


def test_the_nominal_decode_of_the_power_up_window() -> None:
    assert DELAY_PER_MAC_S == pytest.approx(0.125e-9)                  # 16 ns over 128 MAC units
    assert nominal_mac(np.array([7.5, 0.0, 15.0]), 0.4e-9).tolist() == pytest.approx([0.0, 24.0, -24.0])


def test_window_starts_beyond_the_chip_s_range_are_clamped_and_reported() -> None:
    from benchspec.mx64 import TDC_START_RANGE
    from benchspec.tdc import clamped
    setting = TdcSetting(0.4e-9, 2)
    centres = np.full(64, 20e-9)
    centres[3], centres[7] = -1.43e-9, 70e-9                   # a large offset: below 0 s, and beyond 60 ns
    starts, unplaced = clamped(centred_windows(centres, setting), setting.lsb)
    assert np.flatnonzero(unplaced).tolist() == [3, 7]
    assert starts.min() == TDC_START_RANGE[0] and starts.max() == TDC_START_RANGE[1]
    assert np.array_equal(starts[:, 0], centred_windows(centres, setting)[:, 0])    # the others untouched
