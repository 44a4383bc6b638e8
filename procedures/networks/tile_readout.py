"""Reading a tile's column MACs through the TDC: window placement, calibration tables, decoding, replicas.

Pure functions (no chip, no plan messages); ``chip_runtime`` drives the chip with them.

- **Windows.** A column's delay falls as its MAC rises (datasheet: about 29 ns
  at MAC -64 and 13 ns at +64, so ``SECONDS_PER_MAC`` = 0.125 ns on average).
  Each column of a tile gets a group of ``windows`` TDC windows of 16 codes,
  neighbours ``STEP_CODES`` = 4 codes apart (each further window widens the
  range by 4 codes and reads the partial sums once more where they overlap),
  the group centred on the time where the column's partial sums are
  expected: its delay at MAC 0 (the chip's power-up window is centred there)
  moved by the median ideal MAC of the calibration vectors.  Where the
  calibration reads land more than ``RECENTRE_CODES`` from that centre, the
  group is moved onto them and the vectors read again.
- **Calibration tables.** For every window, column and code: the mean ideal
  full-column MAC of the calibration reads that gave the code (the
  least-squares decode under the calibration vectors' distribution, which is
  the data's).  A code never seen takes the nearest seen code's value moved by
  the nominal slope, -lsb / SECONDS_PER_MAC MAC units per code.
- **Decoding** averages, per column and vector, the values of the windows
  whose code is not clipped (each read has its own noise, so two windows
  that both see a partial sum halve its read-noise variance); where every
  window clipped, the window whose code sits nearest its middle decides.
- **Replicas.** A column tile with at most 32 real outputs (an output layer of
  10 classes) fills its padding columns with copies of its real columns; the
  host averages the copies' decoded MACs.  The copies sit on other cells and
  comparators, so their errors are partly independent, at no extra MAC clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from procedures.mac_transfer import decode, window_table

from .tiling import COLUMNS

SECONDS_PER_MAC = 0.125e-9   # s per MAC unit: 16 ns from MAC +64 to -64 (datasheet section 3)
CODES = 16                   # 4-bit TDC
STEP_CODES = 4               # start-to-start distance of neighbouring windows, codes
RECENTRE_CODES = 2.0         # reads further than this from the window group's centre move it, codes
MAX_READS = 3                # calibration reads of a tile at one setting (the first, then moves)


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


def expected_times(zero_mac_times: np.ndarray, macs: np.ndarray) -> np.ndarray:
    """Delay (s, per column) expected at full-column MACs ``macs`` from each column's delay at MAC 0."""
    return np.asarray(zero_mac_times, float) - np.asarray(macs, float) * SECONDS_PER_MAC


def window_starts(centres: np.ndarray, setting: TdcSetting) -> np.ndarray:
    """Starts (windows, 64) s of every column's window group, the group centred on ``centres`` (64,) s."""
    offsets = (np.arange(setting.windows) - (setting.windows - 1) / 2) * STEP_CODES * setting.lsb
    return np.asarray(centres, float)[None, :] - CODES / 2 * setting.lsb + offsets[:, None]


def group_centres(starts: np.ndarray, setting: TdcSetting) -> np.ndarray:
    """The centre (64,) s of every column's window group (the inverse of ``window_starts``)."""
    return starts.mean(axis=0) + CODES / 2 * setting.lsb


def observed_centres(codes: np.ndarray, starts: np.ndarray, lsb: float) -> np.ndarray:
    """Where each column's reads lie (64,) s: the median code's time, in the window where it is nearest
    the window's middle.  ``codes`` (windows, n, 64), ``starts`` (windows, 64)."""
    median = np.median(codes, axis=1)                                   # (windows, 64)
    best = np.abs(median - (CODES - 1) / 2).argmin(axis=0)
    columns = np.arange(codes.shape[2])
    return starts[best, columns] + (median[best, columns] + 0.5) * lsb


def off_centre(codes: np.ndarray, starts: np.ndarray, setting: TdcSetting) -> np.ndarray:
    """Columns (64,) bool whose reads lie more than RECENTRE_CODES from their window group's centre."""
    shift = observed_centres(codes, starts, setting.lsb) - group_centres(starts, setting)
    return np.abs(shift) > RECENTRE_CODES * setting.lsb


def calibration_tables(codes: np.ndarray, ideal: np.ndarray, lsb: float) -> np.ndarray:
    """Tables (windows, 64, 16): mean ideal full-column MAC per window, column and code (module doc).

    ``codes`` (windows, n, 64) of the calibration vectors, ``ideal`` (n, 64) their full-column MACs.
    """
    tables = np.stack([window_table(codes[w], ideal) for w in range(codes.shape[0])])
    seen = ~np.isnan(tables)
    code = np.arange(CODES)
    distance = np.abs(code[:, None] - code[None, :]) + np.where(seen[..., None, :], 0, 10 * CODES)
    nearest = distance.argmin(axis=-1)                                   # (windows, 64, 16)
    value = np.take_along_axis(tables, nearest, axis=-1)
    return np.where(seen, tables, value - (code - nearest) * lsb / SECONDS_PER_MAC)


def decode_windows(codes: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """Decoded full-column MACs (n, 64) of codes (windows, n, 64) under tables (windows, 64, 16): the mean of
    the windows whose code is not clipped (neither 0 nor 15), or where every window clipped, the value of
    the one whose code is nearest its middle (``procedures.mac_transfer.decode``)."""
    if codes.shape[0] == 1:
        return decode(codes, tables)
    columns = np.arange(codes.shape[2])[None, :]
    values = np.stack([table[columns, c] for table, c in zip(tables, codes)])     # (windows, n, 64)
    inside = (codes > 0) & (codes < CODES - 1)
    count = inside.sum(axis=0)
    mean = np.where(inside, values, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(count > 0, mean, decode(codes, tables))


def replica_count(real_columns: int) -> int:
    """Copies of a column tile's real columns that fit the array (1 when more than half are real)."""
    return COLUMNS // real_columns if real_columns <= COLUMNS // 2 else 1


def with_replicas(tile_weights: np.ndarray, real_columns: int, copies: int) -> np.ndarray:
    """The tile's 64 x 64 weights with its first ``real_columns`` columns copied ``copies`` times side by side
    (the remaining padding columns keep their weights)."""
    out = np.array(tile_weights, np.int8)
    for k in range(1, copies):
        out[:, k * real_columns:(k + 1) * real_columns] = out[:, :real_columns]
    return out


def merge_replicas(values: np.ndarray, real_columns: int, copies: int) -> np.ndarray:
    """The mean over copies (n, real_columns) of a tile's decoded column MACs (n, 64)."""
    n = len(values)
    return values[:, :copies * real_columns].reshape(n, copies, real_columns).mean(axis=1)
