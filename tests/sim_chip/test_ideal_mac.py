"""Ideal mode is the golden reference: the exact popcount MAC."""

from __future__ import annotations

import numpy as np

from conftest import random_signs
from sim_chip import MX64

LSB = 0.25e-9          # s: one mismatch (MAC step of 2) at nominal resistances
FIRST_START = 12.875e-9  # s: half an LSB before the MAC=+64 delay


def decode_mismatches(chip: MX64, x: np.ndarray) -> np.ndarray:
    """Number of mismatches per column from five overlapping TDC windows.

    Window k starts 14 levels after window k-1, so every level 0..64 falls
    strictly inside at least one window (codes 0..14 are unambiguous).
    """
    result = np.full((x.shape[0], 64), -1)
    for k in range(5):
        chip.set_tdc_window(FIRST_START + 14 * k * LSB, LSB)
        codes = chip.mac_batch(x).astype(int)
        fresh = (result < 0) & ((codes < 15) | (k == 4))
        result[fresh] = 14 * k + codes[fresh]
    return result


def popcount_mac(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """MAC via numpy popcount: 64 - 2 * popcount(bits(x) XOR bits(w))."""
    xb = np.packbits(x > 0, axis=1)                    # (n, 8) bytes
    wb = np.packbits(w > 0, axis=0)                    # (8, 64) bytes, per column
    mismatches = np.bitwise_count(xb[:, :, None] ^ wb[None, :, :]).sum(axis=1, dtype=np.int64)
    return 64 - 2 * mismatches


def test_ideal_writes_are_exact(ideal_chip: MX64) -> None:
    w = random_signs(np.random.default_rng(3), (64, 64))
    ideal_chip.write_array(w)
    assert np.array_equal(np.array([ideal_chip.verify_row(r) for r in range(64)]), w)


def test_ideal_mac_equals_numpy_popcount(ideal_chip: MX64) -> None:
    rng = np.random.default_rng(7)
    for _ in range(3):
        w = random_signs(rng, (64, 64))
        ideal_chip.write_array(w)
        x = random_signs(rng, (300, 64))
        # extremes and every level of column 0
        levels = np.array([np.where(np.arange(64) < k, -w[:, 0], w[:, 0]) for k in range(65)], np.int8)
        x = np.vstack([x, levels])
        mac = 64 - 2 * decode_mismatches(ideal_chip, x)
        assert np.array_equal(mac, popcount_mac(x, w))
        assert np.array_equal(mac, x.astype(int) @ w.astype(int))
    assert set(mac[-65:, 0]) == set(range(-64, 65, 2))


def test_ideal_codes_in_default_window_follow_the_datasheet_delay(ideal_chip: MX64) -> None:
    """Default window 13 ns + 1 ns LSB: 4 MAC levels (2 per step) per code, 0 at MAC=+64."""
    w = np.ones((64, 64), np.int8)
    ideal_chip.write_array(w)
    x = np.array([np.where(np.arange(64) < k, -1, 1) for k in range(65)], np.int8)
    codes = ideal_chip.mac_batch(x)[:, 0].astype(int)
    mismatches = np.arange(65)
    assert codes[0] == 0 and codes[-1] == 15
    assert np.all(np.diff(codes) >= 0)
    assert np.all(np.abs(codes - np.minimum(mismatches // 4, 15)) <= 1)
