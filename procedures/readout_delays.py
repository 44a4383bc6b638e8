"""readout-delays: every column's delay and read noise at three MAC levels, from repeated reads of one vector.

The array is programmed all +1; three input vectors then give every column
the same MAC: all +1 (MAC +64, the 64 P branches), rows 0-31 at +1 and
32-63 at -1 (MAC 0), all -1 (MAC -64, the 64 AP branches).  A vector read
again and again sees the same column resistance each time, so the spread of
its codes is the readout's noise alone, and their centre the column's delay.

Each level is located per column in three steps: a 4 ns LSB window from 0 s
(16 codes cover 0-64 ns), a 1 ns window placed 8 codes below that estimate,
then the measuring window, ``lsb`` wide per code, placed 8 codes below the
second estimate, read ``reads`` times.  The measuring window's codes are
recorded as a count per column and code, with the starts and LSB the chip
reports (the start DAC's and LSB's own steps): code k of a column means a
delay in [start + k lsb, start + (k + 1) lsb), code 0 anything below
start + lsb and code 15 anything from start + 15 lsb on.  The host fits a
normal distribution to each column's counts by maximum likelihood
(:func:`labctl.twin.estimators.censored_normal`).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS, TDC_CODES, TDC_START_RANGE
from labctl.plan import Call, Plan, Progress, Read, Record
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import ensure_powered

LEVELS = {"plus": 64, "zero": 0, "minus": -64}
_LOCATE = ((4e-9, 32), (1e-9, 32))           # (LSB, reads) of the two locating windows


def level_vector(mac: int) -> np.ndarray:
    """The input vector that gives every column of an all +1 array this MAC (+64, 0 or -64)."""
    x = np.ones(ROWS, np.int8)
    x[(ROWS + mac) // 2:] = -1
    return x


def plot_readout_delays(data: RunData) -> Any:
    fig, (a, b) = figure(1, 2, 11, 4)
    for name in LEVELS:
        counts = data.last(f"codes_{name}")
        starts, lsb = data.last(f"starts_{name}"), data.last(f"lsb_{name}")
        centre = starts + lsb * ((counts * (np.arange(TDC_CODES) + 0.5)).sum(axis=1) / counts.sum(axis=1))
        a.plot(np.arange(COLUMNS), centre * 1e9, ".", label=f"MAC {LEVELS[name]:+d}")
        b.plot(counts.sum(axis=0), ".-", label=f"MAC {LEVELS[name]:+d}")
    a.set(xlabel="column", ylabel="mean code as a delay, ns", title="column delays")
    a.legend(fontsize=7)
    b.set(xlabel="code of the measuring window", ylabel="reads, all columns",
          title="codes around each column's delay")
    return fig


def _centre(codes: np.ndarray, starts: np.ndarray, lsb: np.ndarray) -> np.ndarray:
    """Each column's mean delay estimate from codes (reads, 64), s."""
    return starts + lsb * (codes.mean(axis=0) + 0.5)


def _window_starts(estimate: np.ndarray, lsb: float) -> np.ndarray:
    """Window starts 8 codes below each column's estimate (s), within the start DAC's range: a column slower
    than the last window reads code 15 throughout and the fit leaves it out."""
    return np.clip(estimate - 8 * lsb, *TDC_START_RANGE)


@procedure(plots=(plot_readout_delays,), rehearsal="nominal")
def readout_delays(
    reads: Annotated[int, Param("reads of each level's vector in the measuring window", low=16, high=100_000)] = 2000,
    lsb: Annotated[float, Param("LSB of the measuring window", "s", 0.0625e-9, 1e-9)] = 0.25e-9,
) -> Plan:
    """every column's delay and read noise at MAC +64, 0 and -64 (repeated reads of one vector)"""
    yield from ensure_powered()
    yield Call("chip.write_array", np.ones((ROWS, COLUMNS), np.int8))
    stored = yield Call("chip.verify_array")
    yield Record("weights", stored, description="the array as the chip holds it (written all +1)",
                 axes=("row", "column"))
    before = (yield Read("chip.tdc_start")), (yield Read("chip.tdc_lsb"))
    try:
        for k, (name, mac) in enumerate(LEVELS.items()):
            x = level_vector(mac)
            estimate = np.zeros(COLUMNS)
            for step, (width, count) in enumerate(_LOCATE):
                starts = _window_starts(estimate, width) if step else np.zeros(COLUMNS)
                yield Call("chip.set_tdc_windows", starts, np.full(COLUMNS, width))
                codes = yield Call("chip.mac_batch", np.repeat(x[None], count, axis=0))
                estimate = _centre(codes, (yield Read("chip.tdc_start")), (yield Read("chip.tdc_lsb")))
            yield Call("chip.set_tdc_windows", _window_starts(estimate, lsb), np.full(COLUMNS, lsb))
            starts, widths = (yield Read("chip.tdc_start")), (yield Read("chip.tdc_lsb"))
            codes = yield Call("chip.mac_batch", np.repeat(x[None], reads, axis=0))
            counts = np.stack([np.bincount(codes[:, j], minlength=TDC_CODES) for j in range(COLUMNS)])
            yield Record(f"input_{name}", x, description=f"the input vector of MAC {mac:+d}", axes=("row",))
            yield Record(f"starts_{name}", np.asarray(starts, float), "s", "measuring window start of each column",
                         ("column",))
            yield Record(f"lsb_{name}", np.asarray(widths, float), "s", "measuring window LSB of each column",
                         ("column",))
            yield Record(f"codes_{name}", counts, "reads", f"reads of each code, MAC {mac:+d}", ("column", "code"))
            yield Progress("readout-delays", k + 1, len(LEVELS))
    finally:
        yield Call("chip.set_tdc_windows", np.asarray(before[0], float), np.asarray(before[1], float))
    return {"reads": reads, "lsb_s": lsb}
