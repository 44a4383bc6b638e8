"""Ideal mode is the golden reference: the exact popcount MAC."""

from __future__ import annotations

import numpy as np

from chips import random_signs
from sim_chip import MX64

LSB = 0.125e-9                      # s: finer than the smallest MAC step (~0.22 ns)
STARTS = 12.5e-9 + 14 * LSB * np.arange(10)   # overlapping windows over ~12.5 .. 31 ns


def signatures(chip: MX64, x: np.ndarray) -> np.ndarray:
    """Codes of every vector under every window, (n, 64, windows)."""
    out = []
    for start in STARTS:
        chip.set_tdc_window(float(start), LSB)
        out.append(chip.mac_batch(x))
    return np.stack(out, axis=-1)


def decode_mismatches(chip: MX64, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mismatches per column by matching each column's codes under all windows against its 65 levels."""
    result = np.full((x.shape[0], 64), -1)
    observed = signatures(chip, x)
    for j in range(64):
        levels = np.array([np.where(np.arange(64) < k, -w[:, j], w[:, j]) for k in range(65)], np.int8)
        table = {sig.tobytes(): k for k, sig in enumerate(signatures(chip, levels)[:, j])}
        assert len(table) == 65                               # every level has its own code signature
        result[:, j] = [table.get(sig.tobytes(), -1) for sig in observed[:, j]]
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
    """Any vector's codes equal those of the level pattern with its number of mismatches: exact popcount."""
    rng = np.random.default_rng(7)
    for _ in range(2):
        w = random_signs(rng, (64, 64))
        ideal_chip.write_array(w)
        x = random_signs(rng, (300, 64))
        x = np.vstack([x, np.ones((1, 64), np.int8), -np.ones((1, 64), np.int8)])
        mac = 64 - 2 * decode_mismatches(ideal_chip, x, w)
        assert np.array_equal(mac, popcount_mac(x, w))
        assert np.array_equal(mac, x.astype(int) @ w.astype(int))
