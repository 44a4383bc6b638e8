"""Command layer of the MX64 evaluation board's microcontroller.

This is what the board's firmware does with a command once it has been
parsed, independent of any transport (the wire protocol is a separate
layer).  The board powers the chip from its own regulators, holds the
configuration registers, runs operations on the chip and keeps an error
queue of (SCPI number, message) pairs.  Every failed command raises a typed
:class:`~sim_chip.errors.ChipError` *and* is queued, and leaves the chip's
state unchanged.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import numpy as np

from . import validation
from .errors import ChipError, InvalidArgument, NotPowered, UnknownRegister
from .macro import MX64, READ_BIAS_RANGE, TDC_LSB_RANGE, TDC_START_RANGE, VERIFY_BIAS_RANGE, WRITE_WIDTH_MAX

FIRMWARE_VERSION = "1.0.0"
BOARD_MODEL = "MX64-EVB"
MANUFACTURER = "LABCTL"
ERROR_QUEUE_LENGTH = 32
#: Range of the board's V_WRITE regulator, V.  Safety limits are the host's job.
VWRITE_RANGE = (0.0, 3.3)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Identity:
    """What ``*IDN?`` reports."""

    manufacturer: str
    model: str
    serial: str
    firmware: str
    die_id: str

    def idn(self) -> str:
        """IEEE 488.2 identification string; the die id travels in the model field."""
        return f"{self.manufacturer},{self.model},{self.serial},{self.firmware}"


@dataclass(frozen=True)
class Register:
    """One configuration register: unit, allowed values, whether it is per column."""

    name: str
    unit: str
    allowed: str
    per_column: bool = False


REGISTERS = {r.name: r for r in (
    Register("CLOCK", "Hz", "1e6 .. 17.2e6"),
    Register("VWRITE", "V", f"{VWRITE_RANGE[0]} .. {VWRITE_RANGE[1]} (on-board regulator)"),
    Register("WIDTH", "clock", f"1 .. {WRITE_WIDTH_MAX}"),
    Register("VREAD", "V", f"{READ_BIAS_RANGE[0]} .. {READ_BIAS_RANGE[1]}"),
    Register("VVERIFY", "V", f"{VERIFY_BIAS_RANGE[0]} .. {VERIFY_BIAS_RANGE[1]}"),
    Register("TDC:START", "s", f"{TDC_START_RANGE[0]:g} .. {TDC_START_RANGE[1]:g} in 1/64 ns steps", True),
    Register("TDC:LSB", "s", f"{TDC_LSB_RANGE[0]:g} .. {TDC_LSB_RANGE[1]:g} in 1/256 ns steps", True),
    Register("TMUX", "", "column 0 .. 63, or -1 for disconnected"),
)}


def _reported(method: F) -> F:
    """Queue any ChipError the command raises, then re-raise it."""
    @functools.wraps(method)
    def wrapper(self: "Board", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ChipError as exc:
            self.push_error(exc.scpi_code, str(exc))
            raise
    return wrapper  # type: ignore[return-value]


class Board:
    """The evaluation board around one :class:`MX64`.

    ``supply="onboard"``: the board's regulators power the chip
    (:meth:`power_on`).  ``supply="external"``: bench supplies drive the
    rails through :meth:`MX64.set_rails` and the board's regulators are
    not fitted.
    """

    def __init__(self, chip: MX64, serial: str | None = None, supply: str = "onboard") -> None:
        if supply not in ("onboard", "external"):
            raise InvalidArgument("supply", supply, "'onboard' or 'external'")
        self.supply = supply
        self.serial = serial or f"EVB{chip.seed:06d}"
        self.insert(chip)

    def insert(self, chip: MX64) -> None:
        """A die in the socket and the board at power-on: regulators off, no errors queued."""
        self.chip = chip
        self._errors: deque[tuple[int, str]] = deque()
        self._vwrite = chip.params.defaults.v_write
        self.regulators_on = False

    # ------------------------------------------------------------ errors
    def push_error(self, code: int, message: str) -> None:
        """Append to the error queue; on overflow the newest entry becomes -350."""
        if len(self._errors) >= ERROR_QUEUE_LENGTH:
            self._errors[-1] = (-350, "Queue overflow")
            return
        self._errors.append((code, message))

    def next_error(self) -> tuple[int, str]:
        """Oldest queued error, or (0, 'No error')."""
        return self._errors.popleft() if self._errors else (0, "No error")

    def clear_errors(self) -> None:
        """``*CLS``: empty the error queue."""
        self._errors.clear()

    @property
    def error_count(self) -> int:
        return len(self._errors)

    # ---------------------------------------------------------- identity
    def identify(self) -> Identity:
        return Identity(MANUFACTURER, BOARD_MODEL, self.serial, FIRMWARE_VERSION, self.chip.die_id)

    # ------------------------------------------------------------- power
    @_reported
    def power_on(self) -> None:
        """Enable the on-board regulators: VDD, VDDIO nominal and V_WRITE as programmed.

        With external supplies there is nothing to switch: the command
        succeeds if the bench supplies power the chip and fails otherwise.
        """
        if self.supply == "external":
            self.chip.require_power("power_on")
            return
        d = self.chip.params.defaults
        self.chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=self._vwrite)
        self.regulators_on = True

    @_reported
    def power_off(self) -> None:
        """Disable the on-board regulators (the array keeps its data); external rails stay as they are."""
        if self.supply == "external":
            return
        self.chip.set_rails(vdd=0.0, vddio=0.0, vwrite=0.0)
        self.regulators_on = False

    @property
    def powered(self) -> bool:
        return self.chip.powered

    def _require_onboard(self, what: str) -> None:
        if self.supply != "onboard":
            raise NotPowered(what, "rails are supplied externally; the board's V_WRITE regulator is not fitted")

    @_reported
    def reset(self) -> None:
        """``*RST``: registers to defaults, cycle counter to zero; the array keeps its data."""
        self.chip.reset()

    # --------------------------------------------------------- registers
    @_reported
    def set_register(self, name: str, value: Any, column: int | None = None) -> None:
        """Write a configuration register (see :data:`REGISTERS`)."""
        reg = self._register(name, column)
        c = self.chip
        if reg.name == "VWRITE":
            self._require_onboard("VWRITE")
            volts = validation.number("VWRITE", value, *VWRITE_RANGE, "V")
            if self.regulators_on:
                c.set_rails(vwrite=volts)
            self._vwrite = volts
        elif reg.name == "CLOCK":
            c.set_clock(value)
        elif reg.name == "WIDTH":
            c.set_write_width(value)
        elif reg.name == "VREAD":
            c.set_read_bias(value)
        elif reg.name == "VVERIFY":
            c.set_verify_bias(value)
        elif reg.name in ("TDC:START", "TDC:LSB"):
            cols = range(64) if column is None else [column]
            starts, lsbs = c.tdc_start.copy(), c.tdc_lsb.copy()
            target = starts if reg.name == "TDC:START" else lsbs
            for j in cols:
                target[j] = value
            for j in cols:
                c.set_tdc_window(float(starts[j]), float(lsbs[j]), j)
        elif reg.name == "TMUX":
            column_or_off = validation.integer("TMUX", value, -1, 63, "")
            c.set_test_mux(None if column_or_off < 0 else column_or_off)

    @_reported
    def get_register(self, name: str, column: int | None = None) -> Any:
        """Read a configuration register; per-column registers return one column or all 64."""
        reg = self._register(name, column)
        c = self.chip
        if reg.name == "VWRITE":
            return c.rails["vwrite"] if self.supply == "external" else self._vwrite
        if reg.per_column:
            values = c.tdc_start if reg.name == "TDC:START" else c.tdc_lsb
            return float(values[column]) if column is not None else values.copy()
        return {"CLOCK": lambda: c.clock_hz, "WIDTH": lambda: c.write_width_clocks,
                "VREAD": lambda: c.read_bias, "VVERIFY": lambda: c.verify_bias,
                "TMUX": lambda: -1 if c.test_mux is None else c.test_mux}[reg.name]()

    def _register(self, name: str, column: int | None) -> Register:
        reg = REGISTERS.get(str(name).upper())
        if reg is None:
            raise UnknownRegister(str(name), list(REGISTERS))
        if column is not None:
            if not reg.per_column:
                raise InvalidArgument("column", column, f"none: {reg.name} is not a per-column register")
            validation.index("column", column, 64)
        return reg

    # -------------------------------------------------------- operations
    @_reported
    def write_row(self, row: int, weights: np.ndarray) -> None:
        self.chip.write_row(row, weights)

    @_reported
    def write_array(self, weights: np.ndarray) -> None:
        self.chip.write_array(weights)

    @_reported
    def cycle_writes(self, weights: np.ndarray, cycles: int) -> None:
        self.chip.cycle_writes(weights, cycles)

    @_reported
    def verify_row(self, row: int) -> np.ndarray:
        return self.chip.verify_row(row)

    @_reported
    def mac(self, x: np.ndarray) -> np.ndarray:
        return self.chip.mac(x)

    @_reported
    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        return self.chip.mac_batch(x)

    @_reported
    def set_hold_input(self, x: np.ndarray) -> None:
        self.chip.set_hold_input(x)

    @_reported
    def cycle_counter(self) -> int:
        self.chip.require_power("cycle_counter")
        return self.chip.cycle_counter

    @_reported
    def reset_counter(self) -> None:
        self.chip.reset_counter()
