"""The chip interface: one typed surface for the MX64, whatever is behind it.

Every procedure talks to a :class:`Chip`, and one class implements it: the
board driver, :class:`instruments.mx64_board.MX64Board`, whose operations and
settings are the rows of the board's command table
(:mod:`benchspec.mx64`).  Behind it: the real board on its USB serial port,
``socket://`` to a served simulation (``labctl sim serve``), a
pseudo-terminal, or the simulated board in this process
(:func:`open_chip` ``("sim")``: the same protocol without a socket).  All
raise :class:`instruments.errors.CommandError` with the board's SCPI error
number (-222 out of range, -241 not powered, ...), and link errors.

Units: volts, seconds, hertz, clocks; weights and inputs are +1/-1 (int8);
TDC codes are 0..15.  Settings are attributes: ``chip.write_width = 2``.
"""

from __future__ import annotations

from typing import Protocol, cast, runtime_checkable

import numpy as np

from benchspec.scpi import Identity
from benchspec.tdc import nominal_mac
from instruments.mx64_board import MX64Board
from instruments.scpi import Limits


@runtime_checkable
class Chip(Protocol):
    """The MX64 as procedures see it."""

    # identity and power
    def identify(self) -> Identity: ...              # board and die
    def reset(self) -> None: ...                     # settings to defaults, counter to 0; the array keeps its data
    def power_on(self) -> None: ...
    def power_off(self) -> None: ...
    @property
    def powered(self) -> bool: ...                   # VDD and VDDIO within 10 % of nominal

    # settings (assign to change)
    clock_hz: float                                  # chip clock, Hz
    write_voltage: float                             # write rail from the board's regulator, V
    write_width: int                                 # write pulse, clocks
    read_bias: float                                 # across a column during MAC, V
    verify_bias: float                               # across a branch during verify, V
    tdc_start: np.ndarray                            # per column, s (assign one number: every column)
    tdc_lsb: np.ndarray                              # per column, s
    test_mux: int | None                             # column routed to the analog test pad, or None
    limits: Limits                                   # bench safety limits checked before a limited setting is sent
    held_input: np.ndarray                           # (64,) row input held while the pad is measured
    def set_tdc_window(self, start_s: float, lsb_s: float, column: int | None = None) -> None: ...
    def set_tdc_windows(self, starts_s: np.ndarray, lsbs_s: np.ndarray) -> None: ...   # all 64 in one command

    # the array
    def write_row(self, row: int, weights: np.ndarray) -> None: ...          # (64,), 2 x write_width clocks
    def write_array(self, weights: np.ndarray) -> None: ...                  # (64, 64), 128 x write_width
    def cycle_writes(self, cycles: int, weights: np.ndarray) -> None: ...    # endurance: -w then w, cycles times
    def verify_row(self, row: int) -> np.ndarray: ...                        # (64,) signs, 1 clock
    def verify_array(self) -> np.ndarray: ...                                # (64, 64) signs, 64 clocks
    def mac(self, x: np.ndarray) -> np.ndarray: ...                          # (64,) codes, 1 clock
    def mac_batch(self, x: np.ndarray) -> np.ndarray: ...                    # (n, 64) codes, n clocks
    @property
    def cycle_counter(self) -> int: ...                                      # clocks since reset
    def reset_counter(self) -> None: ...

    # errors and the link
    def clear_errors(self) -> None: ...
    def errors(self) -> list[tuple[int, str]]: ...
    def close(self) -> None: ...


def as_chip(board: MX64Board) -> Chip:
    """The board driver, typed as the :class:`Chip` it is.

    Its settings and operations are made from the board's command table when
    the class is created, which a type checker cannot see;
    ``tests/labctl/test_chip_interface.py`` checks that the two surfaces agree.
    """
    return cast(Chip, board)


#: MAC estimates from codes read under the power-up window (uncalibrated): :func:`benchspec.tdc.nominal_mac`
decode = nominal_mac


def open_chip(spec: str, timeout: float = 5.0, ideal: bool = False) -> Chip:
    """Open a chip from a spec string.

    ``sim`` or ``sim:<die seed>``: the simulated board in process; ``ideal=True`` gives the ideal chip
    (no variation, defects, noise or write errors: its MAC is the exact popcount, the golden
    reference).  Anything else is a pyserial port name or URL (``/dev/ttyACM0``, ``COM3``,
    ``socket://127.0.0.1:5025``, ``loop://``) with the board behind it.
    """
    if spec == "sim" or spec.startswith("sim:"):
        from .inprocess import simulated_chip

        seed = spec.partition(":")[2] or "1"
        if not seed.isdigit():
            raise ValueError(f"chip spec {spec!r}: the die seed after 'sim:' must be an integer")
        return as_chip(simulated_chip(int(seed), ideal=ideal))
    if ideal:
        raise ValueError(f"chip spec {spec!r}: only a simulated chip ('sim') can be ideal")
    return as_chip(MX64Board(spec, timeout=timeout))
