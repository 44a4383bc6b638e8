"""The chip as a fast rehearsal sees it: the datasheet's nominal behaviour instead of the model's physics.

A procedure whose bench messages do not depend on the chip's physics (the
network procedures: they set rails once and place TDC windows from exact
partial sums) may be rehearsed with its array operations answered
nominally (``@procedure(rehearsal="nominal")``): a write stores its matrix,
a verify reads it back, a MAC's code is where the exact MAC's nominal delay
falls in the column's window.  Every argument is still checked as the board
checks it (shapes, +1/-1 values, window ranges, power), the chip clocks each
operation takes are counted into the bench time, and the first operation of
each kind runs on the simulated twin's full model so that the compute time of
the others can be extrapolated.  The rehearsal's settings, rails and
instruments are the twin's as always: only the array's physics is skipped.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from benchspec.mx64 import COLUMNS, DELAY_PER_MAC_S, ROWS, TDC_CODES, TDC_LSB_RANGE, TDC_START_RANGE
from instruments.errors import CommandError

#: MAC vectors of a batch the nominal array computes; the rest repeat them
SAMPLE = 2048
#: the operations answered nominally, and the chip clocks each takes (``width``: the write pulse in clocks)
NOMINAL = {
    "chip.write_array": lambda w, n: 2 * ROWS * w,
    "chip.write_row": lambda w, n: 2 * w,
    "chip.verify_array": lambda w, n: ROWS,
    "chip.verify_row": lambda w, n: 1,
    "chip.mac_batch": lambda w, n: n,
    "chip.mac": lambda w, n: 1,
    "chip.set_tdc_window": lambda w, n: 0,
    "chip.set_tdc_windows": lambda w, n: 0,
}


def _signs(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as int8 +1/-1 of ``shape`` (or n x shape[1:] for a batch), refused as the board refuses it."""
    array = np.asarray(value)
    if array.shape != shape and not (shape[0] == -1 and array.ndim == 2 and array.shape[1] == shape[1]):
        raise CommandError("MX64 board (nominal rehearsal)", name, -222, f"{name}: shape {array.shape}, expected "
                           f"{tuple(s if s > 0 else 'n' for s in shape)}")
    if array.dtype.kind not in "iub" or not (np.abs(array.astype(np.int16, copy=False)) == 1).all():
        raise CommandError("MX64 board (nominal rehearsal)", name, -222, f"{name}: values must be +1 or -1")
    return array.astype(np.int8)


class NominalArray:
    """The array operations of a rehearsal twin, answered nominally (module doc)."""

    def __init__(self, twin_chip: Any) -> None:
        self.chip = twin_chip
        self.weights = np.ones((ROWS, COLUMNS), np.int8)
        self.starts = np.zeros(COLUMNS)              #: each column's window (read from the twin at the first use)
        self.lsbs = np.zeros(COLUMNS)
        self.zero_mac = np.zeros(COLUMNS)            #: each column's delay at MAC 0: the power-up window's centre
        self._windows_read = False
        self.seconds: dict[str, float] = {}          #: the full model's compute time of the first of each kind, s
        self.chip_s = 0.0                            #: chip time of the operations answered nominally, s
        self.compute_s = 0.0                         #: the full model's compute time they would have taken, s
        self._state: tuple[bool, int, float] | None = None   #: (powered, write width, clock Hz) until a change

    def handles(self, target: str) -> bool:
        return target in NOMINAL

    def changed(self) -> None:
        """Something else reached the twin (a rail, a setting): read its power and settings again."""
        self._state = None

    def _chip_state(self) -> tuple[bool, int, float]:
        if self._state is None:
            self._state = (bool(self.chip.powered), int(self.chip.write_width), float(self.chip.clock_hz))
        return self._state

    def _windows(self) -> None:
        if not self._windows_read:
            self._windows_read = True
            self.starts = np.array(self.chip.tdc_start, float)
            self.lsbs = np.array(self.chip.tdc_lsb, float)
            self.zero_mac = self.starts + TDC_CODES / 2 * self.lsbs

    def call(self, target: str, args: tuple, kwargs: dict) -> Any:
        """Carry out ``target`` nominally; the first call of each kind on the twin's model, timed."""
        powered, width, clock_hz = self._chip_state()
        if not powered:
            raise CommandError("MX64 board (nominal rehearsal)", target, -241, "chip is not powered")
        self._windows()
        n = len(args[0]) if target == "chip.mac_batch" else 1
        clocks = NOMINAL[target](width, n)
        if target not in self.seconds:
            started = time.perf_counter()
            answer = getattr(self.chip, target.partition(".")[2])(*args, **kwargs)
            self.seconds[target] = (time.perf_counter() - started) / max(n, 1)
            self._follow(target, args)
            return answer
        self.compute_s += self.seconds[target] * n
        self.chip_s += clocks / clock_hz
        return getattr(self, "_" + target.partition(".")[2])(*args, **kwargs)

    def _follow(self, target: str, args: tuple) -> None:
        """Keep the state the twin's model just took (its first operation of a kind)."""
        if target == "chip.write_array":
            self.weights = _signs("weights", args[0], (ROWS, COLUMNS))
        elif target == "chip.write_row":
            self.weights[int(args[0])] = _signs("weights", args[1], (COLUMNS,))
        elif target in ("chip.set_tdc_window", "chip.set_tdc_windows"):
            getattr(self, "_" + target.partition(".")[2])(*args)

    def _write_array(self, weights: Any) -> None:
        self.weights = _signs("weights", weights, (ROWS, COLUMNS))

    def _write_row(self, row: int, weights: Any) -> None:
        if not 0 <= int(row) < ROWS:
            raise CommandError("MX64 board (nominal rehearsal)", "write_row", -222, f"row {row} outside 0..{ROWS - 1}")
        self.weights[int(row)] = _signs("weights", weights, (COLUMNS,))

    def _verify_array(self) -> np.ndarray:
        return self.weights.copy()

    def _verify_row(self, row: int) -> np.ndarray:
        return self.weights[int(row)].copy()

    def _mac_batch(self, x: Any) -> np.ndarray:
        """Codes of the first ``SAMPLE`` vectors, repeated for the rest (as the physical rehearsal answers a
        large batch: nothing the rehearsal checks depends on them)."""
        x = np.asarray(x)
        signs = _signs("x", x[:SAMPLE], (-1, ROWS)).astype(np.float32)
        macs = signs @ self.weights.astype(np.float32)
        delay = self.zero_mac[None, :] - macs * DELAY_PER_MAC_S
        codes = np.clip(np.floor((delay - self.starts[None, :]) / self.lsbs[None, :]), 0, TDC_CODES - 1)
        return np.resize(codes.astype(np.uint8), (len(x), COLUMNS))

    def _mac(self, x: Any) -> np.ndarray:
        return self._mac_batch(np.asarray(x)[None, :])[0]

    def _set_tdc_windows(self, starts: Any, lsbs: Any) -> None:
        for column, (start, lsb) in enumerate(zip(np.broadcast_to(starts, (COLUMNS,)),
                                                  np.broadcast_to(lsbs, (COLUMNS,)))):
            self._set_tdc_window(start, lsb, column)

    def _set_tdc_window(self, start: float, lsb: float, column: int | None = None) -> None:
        for name, value, (low, high) in (("start", start, TDC_START_RANGE), ("lsb", lsb, TDC_LSB_RANGE)):
            if not low <= float(value) <= high:
                raise CommandError("MX64 board (nominal rehearsal)", "set_tdc_window", -222,
                                   f"set_tdc_window: {name} {float(value):.4g} s outside {low:g} .. {high:g} s")
        where = slice(None) if column is None else int(column)
        self.starts[where], self.lsbs[where] = float(start), float(lsb)

