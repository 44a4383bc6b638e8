"""The factory calibration of the power-up TDC windows, measured through the readout.

What a tester does to each die at final test, before its fuse table is
blown (datasheet 3: per-column starts come from calibration): it writes
every weight to +1 and reads input vectors whose MAC is the window centre
on every column (``(64 - centre)/2`` rows at -1, a fresh random choice of
rows per vector, so each column's reads average over its cells), and it
places each column's 16 codes around the mean delay it measured:

1. a coarse window (start 0, LSB 4 ns: 0-64 ns) finds each delay to a few ns;
2. a 1 ns window, then the power-up LSB (twice), each centred on the last
   estimate, refines it; a window whose mean code sits at an end is clipped
   and is moved and read again;
3. start = estimate - 8 LSB, on the start DAC.

Only the readout's own interface is used (:class:`ReadoutPort`: write the
array, set windows, read codes): the calibration never sees a resistance,
a capacitance or an offset.  :func:`fuse_table` runs it on a twin of the
die (the same seed, maps and parameters, with noise streams of its own:
the tester's reads are not the user's) and remembers the result by die, as
a fuse table would be (the twin is built by the caller: :class:`sim_chip.macro.MX64`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS, TDC_CODES, TDC_LSB_RANGE, TDC_LSB_STEP, TDC_START_RANGE, TDC_START_STEP

from .parameters import ChipParameters

READS = 512                 #: calibration vectors per window setting
STEPS = (4e-9, 1e-9, None, None)   #: LSB of each refinement (None: the power-up LSB)
_SEED = 0xFAC7             #: the tester's pattern generator


class Maps(Protocol):
    """Measured maps a die was built from (:class:`sim_chip.die.DieMaps`): only their identity matters here."""

    def digest(self) -> str: ...


class ReadoutPort(Protocol):
    """What the calibration may use: the chip's readout interface, nothing of its physics."""

    def write_array(self, weights: np.ndarray) -> None: ...

    def set_tdc_window(self, start: float, lsb: float, column: int | None = None) -> None: ...

    def mac_batch(self, x: np.ndarray) -> np.ndarray: ...


def calibration_inputs(centre_mac: float, reads: int = READS) -> np.ndarray:
    """Input vectors (reads, 64) int8 whose MAC on an all-+1 array is ``centre_mac``: the rows at -1 drawn
    afresh for each vector."""
    mismatched = int(round((ROWS - centre_mac) / 2))
    order = np.random.default_rng(_SEED).random((reads, ROWS)).argsort(axis=1)
    return np.where(order < mismatched, -1, 1).astype(np.int8)


def _quantise(value: np.ndarray, step: float) -> np.ndarray:
    return np.round(value / step) * step


def calibrate(port: ReadoutPort, centre_mac: float, lsb: float, reads: int = READS) -> np.ndarray:
    """Power-up TDC starts (64,) in s: each column's window of LSB ``lsb`` centred on its mean delay at
    MAC ``centre_mac``, measured through ``port`` (module docstring)."""
    port.write_array(np.ones((ROWS, COLUMNS), np.int8))
    x = calibration_inputs(centre_mac, reads)
    lsb = float(_quantise(np.clip(lsb, *TDC_LSB_RANGE), TDC_LSB_STEP))
    half = TDC_CODES / 2
    estimate = np.full(COLUMNS, half * STEPS[0])                  # centre of the coarse 0-64 ns window
    for step in STEPS:
        width = lsb if step is None else step
        for _ in range(4):                                      # move windows that clipped, read again
            start = np.clip(_quantise(estimate - half * width, TDC_START_STEP), *TDC_START_RANGE)
            for j in range(COLUMNS):
                port.set_tdc_window(float(start[j]), width, j)
            mean = port.mac_batch(x).mean(axis=0)
            estimate = start + (mean + 0.5) * width
            clipped = (mean < 0.5) | (mean > TDC_CODES - 1.5)
            if not clipped.any():
                break
            estimate = np.where(clipped, start + np.where(mean < 0.5, -half, TDC_CODES + half) * width,
                                estimate)                       # the next window: one window earlier or later
    return np.clip(_quantise(estimate - half * lsb, TDC_START_STEP), *TDC_START_RANGE)


_FUSES: dict[tuple[int, ChipParameters, str], np.ndarray] = {}


def fuse_table(seed: int, params: ChipParameters, maps: Maps | None, tester: Callable[[], ReadoutPort]) -> np.ndarray:
    """The factory-calibrated power-up starts (64,) in s of the die of this seed, parameters and maps, measured
    on ``tester()`` (a powered twin of the die with the tester's own noise) the first time they are asked."""
    key = (seed, params, "" if maps is None else maps.digest())
    found = _FUSES.get(key)
    if found is None:
        if len(_FUSES) >= 512:
            _FUSES.clear()
        d = params.defaults
        found = _FUSES[key] = calibrate(tester(), d.tdc_centre_mac, d.tdc_lsb)
    return found.copy()
