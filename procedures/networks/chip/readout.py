"""Reading a programmed tile: the TDC windows the chip holds, reads under chosen windows, and a tile's calibration.

A tile's **calibration** at one TDC setting places each column's windows on
the distribution of the tile's partial sums over the calibration vectors
(their exact full-column MACs come from the weights, on the host), reads the
calibration vectors, moves the windows of columns whose reads landed more
than ``RECENTRE_CODES`` off centre and reads again (at most ``MAX_READS``
reads), and tabulates code -> mean ideal MAC per window and column.  The
readout maths (window placement, tables, decoding) is ``benchspec.tdc``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, DELAY_PER_MAC_S
from benchspec.tdc import (TdcSetting, calibration_tables, centred_windows, clamped, expected_times,
                           group_centres, observed_centres, off_centre)
from labctl.plan import Call, Plan

RECENTRE_CODES = 2.0              # calibration reads further than this from their window group's centre move it
MAX_READS = 3                     # calibration reads of a tile at one setting (the first, then moves)

#: identifies a tile calibration: (network, layer, row tile, column tile, LSB in s, windows)
CalibrationKey = tuple[str, int, int, int, float, int]


class Windows:
    """The TDC windows the chip holds (as set through this object), so that only changes are sent."""

    def __init__(self, starts: np.ndarray, lsbs: np.ndarray) -> None:
        self.starts = np.array(starts, float)
        self.lsbs = np.array(lsbs, float)

    def set(self, starts: np.ndarray, lsb: float | np.ndarray) -> Plan:
        """Set every column's window (start s, LSB s): nothing if none changes, one column's command if one
        does, else every column in one command."""
        starts = np.broadcast_to(np.asarray(starts, float), (COLUMNS,))
        lsbs = np.broadcast_to(np.asarray(lsb, float), (COLUMNS,))
        changed = np.flatnonzero((starts != self.starts) | (lsbs != self.lsbs))
        if len(changed) == 1:
            j = int(changed[0])
            yield Call("chip.set_tdc_window", float(starts[j]), float(lsbs[j]), j)
        elif len(changed):
            yield Call("chip.set_tdc_windows", starts.copy(), lsbs.copy())
        self.starts[:], self.lsbs[:] = starts, lsbs


@dataclass(frozen=True, eq=False)
class TileCalibration:
    """A tile's windows at one setting: starts (windows, 64) s, LSB s, tables (windows, 64, 16) MAC, and the
    columns whose windows could not be placed where their partial sums are (clamped into the chip's range)."""

    starts: np.ndarray
    lsb: float
    tables: np.ndarray
    #: columns (64,) whose windows had to be clamped into the chip's range (their reads clip on one side)
    unplaced: np.ndarray | None = None


def read(windows: Windows, x: np.ndarray, starts: np.ndarray, lsb: float) -> Plan:
    """Codes (windows, n, 64) uint8 of input vectors ``x`` (n, 64) under each window of ``starts`` (windows, 64)."""
    codes = []
    for window in starts:
        yield from windows.set(window, lsb)
        codes.append(np.asarray((yield Call("chip.mac_batch", x)), np.uint8))
    return np.stack(codes)


def placed_windows(zero_mac_times: np.ndarray, ideal: np.ndarray, setting: TdcSetting,
                   on_partial_sums: bool) -> tuple[np.ndarray, np.ndarray]:
    """Starts (windows, 64) of a tile's windows and the columns that could not be placed: centred on where the
    partial sums ``ideal`` (m, 64) are expected (their median), or on MAC 0 (the power-up window's centre)."""
    macs = np.median(ideal, axis=0) if on_partial_sums else np.zeros(len(zero_mac_times))
    return clamped(centred_windows(expected_times(zero_mac_times, macs), setting), setting.lsb)


def centre_macs(zero_mac_times: np.ndarray, starts: np.ndarray, setting: TdcSetting) -> np.ndarray:
    """The MAC (64,) at each column's window group's centre, at the nominal delay per MAC unit."""
    return (np.asarray(zero_mac_times) - group_centres(starts, setting)) / DELAY_PER_MAC_S


def calibrate(windows: Windows, zero_mac_times: np.ndarray, x: np.ndarray, ideal: np.ndarray,
              setting: TdcSetting, recentre: bool = True, on_partial_sums: bool = True) -> Plan:
    """Windows and tables of the programmed tile from calibration vectors ``x`` (m, 64) with exact
    full-column MACs ``ideal`` (m, 64), each column's delay at MAC 0 being ``zero_mac_times`` (64,) s: windows
    placed (``placed_windows``), read, and with ``recentre`` moved onto the reads and read again (at most
    MAX_READS reads); returns (TileCalibration, the last read's codes, reads)."""
    starts, unplaced = placed_windows(zero_mac_times, ideal, setting, on_partial_sums)
    for reads in range(1, (MAX_READS if recentre else 1) + 1):
        codes = yield from read(windows, x, starts, setting.lsb)
        moved = off_centre(codes, starts, setting, RECENTRE_CODES)
        if not recentre or not moved.any() or reads == MAX_READS:
            break
        centres = np.where(moved, observed_centres(codes, starts, setting.lsb), group_centres(starts, setting))
        starts, unplaced = clamped(centred_windows(centres, setting), setting.lsb)
    return TileCalibration(starts, setting.lsb, calibration_tables(codes, ideal, setting.lsb), unplaced), codes, reads
