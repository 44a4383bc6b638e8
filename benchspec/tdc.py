"""The column readout as a host sees it: TDC codes against MAC, windows, calibration tables, decoding.

Everything about turning a column's 4-bit TDC codes into MAC values is said
here once, for the chip interface (the nominal decode of the power-up
window), ``mac-transfer`` (a calibration over the full range with fixed
overlapping windows) and the network runtime (windows placed on a tile's
partial sums).  Pure functions of arrays; the geometry (columns, codes, the
nominal delay per MAC unit) is the board description's (:mod:`benchspec.mx64`).

A column's delay falls as its MAC rises (about 29 ns at MAC -64 and 13 ns at
+64, ``DELAY_PER_MAC_S`` = 0.125 ns on average); a window starts counting at
``start`` and counts 16 codes of ``lsb`` each, so code k means a delay in
[start + k lsb, start + (k + 1) lsb), and codes 0 and 15 also take every delay
before and after the window (clipped).

- **Calibration tables**: for every window, column and code, the mean ideal
  MAC of the calibration reads that gave the code (the least-squares decode
  under the calibration inputs' distribution).  ``fill_unseen`` gives a code
  never seen the nearest seen code's value moved by the nominal slope.
- **Decoding** under several windows: ``decode_nearest`` lets, per column
  and vector, the window whose code sits nearest the middle of its range
  decide (and decodes a read clipped on both sides of an overlap from the
  codes next to the clip); ``decode_mean`` averages the windows whose code is
  not clipped (each read has its own noise, so two windows that both see a
  value halve its read-noise variance), falling back to ``decode_nearest``.
- **Windows** on a column's expected delays: ``fixed_windows`` spans the
  full MAC range with overlapping windows (mac-transfer); ``centred_windows``
  centres a group of windows on where a column's partial sums are expected
  (the network runtime), ``observed_centres`` / ``off_centre`` say where reads
  actually landed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mx64 import DELAY_AT_MAC_RANGE, DELAY_PER_MAC_S, TDC_CODES, TDC_START_RANGE

#: the middle of a window's codes
MIDDLE_CODE = (TDC_CODES - 1) / 2
#: start-to-start distance of neighbouring windows of a centred group, codes
GROUP_STEP_CODES = 4
#: mac-transfer's windows: start-to-start distance in LSBs, so that neighbours share four codes
FIXED_STEP_CODES = 12


@dataclass(frozen=True)
class TdcSetting:
    """How a tile is read: the TDC LSB (s) and the number of windows each vector is read under."""

    lsb: float
    windows: int = 1

    def __post_init__(self) -> None:
        if not self.lsb > 0 or self.windows < 1:
            raise ValueError(f"TDC setting: LSB {self.lsb!r} s must be > 0 and windows {self.windows} >= 1")

    def label(self) -> str:
        return f"LSB {self.lsb * 1e9:.4g} ns, {self.windows} window{'s' if self.windows > 1 else ''}"


# ------------------------------------------------------------- nominal
def nominal_mac(codes: np.ndarray, lsb: float | np.ndarray) -> np.ndarray:
    """MAC estimates from codes read under a window centred on each column's MAC = 0 (the power-up window):
    code 7.5 is MAC 0, one code is ``lsb`` / ``DELAY_PER_MAC_S`` MAC units, the MAC rising as the code falls.
    Uncalibrated: about +-1 code on a real die; codes 0 and 15 are clipped.  ``lsb`` in s."""
    return (MIDDLE_CODE - np.asarray(codes, float)) * np.asarray(lsb, float) / DELAY_PER_MAC_S


def expected_times(zero_mac_times: np.ndarray, macs: np.ndarray) -> np.ndarray:
    """Delay (s, per column) expected at MACs ``macs`` from each column's delay at MAC 0, at the nominal slope."""
    return np.asarray(zero_mac_times, float) - np.asarray(macs, float) * DELAY_PER_MAC_S


# -------------------------------------------------------------- windows
def fixed_windows(windows: int, lsb: float) -> np.ndarray:
    """Starts (windows,) s of overlapping windows that together span the nominal delays of the whole MAC
    range: the first starts half an LSB before the delay at MAC +64, each next ``FIXED_STEP_CODES`` LSBs
    later (neighbours share 16 - 12 = 4 codes)."""
    first = DELAY_AT_MAC_RANGE[0] - lsb / 2
    return first + FIXED_STEP_CODES * lsb * np.arange(windows)


def centred_windows(centres: np.ndarray, setting: TdcSetting) -> np.ndarray:
    """Starts (windows, 64) s of every column's window group, the group centred on ``centres`` (64,) s,
    neighbours ``GROUP_STEP_CODES`` apart."""
    offsets = (np.arange(setting.windows) - (setting.windows - 1) / 2) * GROUP_STEP_CODES * setting.lsb
    return np.asarray(centres, float)[None, :] - TDC_CODES / 2 * setting.lsb + offsets[:, None]


def clamped(starts: np.ndarray, lsb: float) -> tuple[np.ndarray, np.ndarray]:
    """Window starts moved into the chip's range (``mx64.TDC_START_RANGE``), and which columns (64,) bool could
    not be placed where they were asked (their window then sits at the range's end)."""
    starts = np.asarray(starts, float)
    inside = np.clip(starts, TDC_START_RANGE[0], TDC_START_RANGE[1])
    return inside, (inside != starts).any(axis=0) if inside.ndim > 1 else inside != starts


def group_centres(starts: np.ndarray, setting: TdcSetting) -> np.ndarray:
    """The centre (64,) s of every column's window group (the inverse of ``centred_windows``)."""
    return starts.mean(axis=0) + TDC_CODES / 2 * setting.lsb


def observed_centres(codes: np.ndarray, starts: np.ndarray, lsb: float) -> np.ndarray:
    """Where each column's reads lie (64,) s: the median code's time, in the window where it is nearest
    the window's middle.  ``codes`` (windows, n, 64), ``starts`` (windows, 64)."""
    median = np.median(codes, axis=1)                                   # (windows, 64)
    best = np.abs(median - MIDDLE_CODE).argmin(axis=0)
    columns = np.arange(codes.shape[2])
    return starts[best, columns] + (median[best, columns] + 0.5) * lsb


def off_centre(codes: np.ndarray, starts: np.ndarray, setting: TdcSetting, tolerance_codes: float) -> np.ndarray:
    """Columns (64,) bool whose reads lie more than ``tolerance_codes`` from their window group's centre."""
    shift = observed_centres(codes, starts, setting.lsb) - group_centres(starts, setting)
    return np.abs(shift) > tolerance_codes * setting.lsb


# --------------------------------------------------------------- tables
def window_table(codes: np.ndarray, ideal: np.ndarray) -> np.ndarray:
    """Mean ideal MAC per (column, code) of one window's reads (codes (n, 64), ideal (n, 64)); NaN where a
    code never occurred."""
    columns = codes.shape[1]
    flat = (np.arange(columns)[None, :] * TDC_CODES + codes.astype(np.int64)).ravel()
    sums = np.bincount(flat, weights=np.asarray(ideal, float).ravel(), minlength=columns * TDC_CODES)
    counts = np.bincount(flat, minlength=columns * TDC_CODES)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan).reshape(columns, TDC_CODES)


def fill_unseen(tables: np.ndarray, lsb: float) -> np.ndarray:
    """Tables (..., 16) with every NaN code replaced by the nearest seen code's value moved by the nominal
    slope, -lsb / DELAY_PER_MAC_S MAC units per code (a column that saw no code stays NaN)."""
    seen = ~np.isnan(tables)
    code = np.arange(TDC_CODES)
    distance = np.abs(code[:, None] - code[None, :]) + np.where(seen[..., None, :], 0, 10 * TDC_CODES)
    nearest = distance.argmin(axis=-1)
    value = np.take_along_axis(tables, nearest, axis=-1)
    return np.where(seen, tables, value - (code - nearest) * lsb / DELAY_PER_MAC_S)


def calibration_tables(codes: np.ndarray, ideal: np.ndarray, lsb: float) -> np.ndarray:
    """Tables (windows, 64, 16) of codes (windows, n, 64) read for inputs with ideal MACs ``ideal`` (n, 64),
    codes never seen filled in (``fill_unseen``)."""
    return fill_unseen(np.stack([window_table(w, ideal) for w in codes]), lsb)


# -------------------------------------------------------------- decoding
def decode_nearest(codes: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """MAC estimates (n, 64) from codes (windows, n, 64) under tables (windows, 64, 16).

    Per column and vector the window whose code sits nearest the middle of
    its range decides.  When every window clipped, the read fell where one
    window's reads ran past its end (code 15) and the next one's stopped
    before its start (code 0): each window is a read of its own, and with
    overlapping windows a read near the overlap can do both.  A table's
    clipped codes are the mean of everything beyond the window, tens of MAC
    away, so such a read is decoded from the codes next to the clip instead:
    the mean of code 14 of the last window that read 15 and code 1 of the
    first that read 0 (only one of them if the other has no such window or no
    calibrated value).  Reads beyond every window take the clipped code of
    the window at that end (the first for code 0, the last for 15).
    """
    windows, top = codes.shape[0], TDC_CODES - 1
    cols = np.arange(codes.shape[2])[None, :]
    if windows == 1:
        return tables[0][cols, codes[0]]
    values = np.stack([tables[w][cols, codes[w]] for w in range(windows)])    # (windows, n, 64)
    clipped = (codes == 0) | (codes == top)
    score = np.abs(codes - MIDDLE_CODE) + 100.0 * clipped
    score = np.where(np.isnan(values), np.inf, score)
    best = score.argmin(axis=0)
    high, low = codes == top, codes == 0
    best = np.where(high.all(axis=0), windows - 1, best)                      # beyond every window: the last
    out = np.take_along_axis(values, best[None], axis=0)[0]
    w_index = np.arange(windows)[:, None, None]
    last_high = np.where(high, w_index, -1).max(axis=0)                       # (n, 64), -1: none
    first_low = np.where(low, w_index, windows).min(axis=0)                   # windows: none
    between = clipped.all(axis=0) & (last_high >= 0) & (first_low < windows) & (last_high < first_low)
    if between.any():
        n_idx, j_idx = np.nonzero(between)
        inner = np.stack([tables[last_high[n_idx, j_idx], j_idx, top - 1], tables[first_low[n_idx, j_idx], j_idx, 1]])
        known = np.isfinite(inner)
        with np.errstate(invalid="ignore"):
            mean = np.where(known, inner, 0.0).sum(axis=0) / known.sum(axis=0)
        out[n_idx, j_idx] = np.where(known.any(axis=0), mean, out[n_idx, j_idx])
    return out


def decode_mean(codes: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """MAC estimates (n, 64) from codes (windows, n, 64) under tables (windows, 64, 16): the mean of the
    windows whose code is not clipped, or where every window clipped, ``decode_nearest``."""
    if codes.shape[0] == 1:
        return decode_nearest(codes, tables)
    columns = np.arange(codes.shape[2])[None, :]
    values = np.stack([table[columns, c] for table, c in zip(tables, codes)])     # (windows, n, 64)
    inside = (codes > 0) & (codes < TDC_CODES - 1)
    count = inside.sum(axis=0)
    mean = np.where(inside, values, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(count > 0, mean, decode_nearest(codes, tables))
