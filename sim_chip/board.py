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
from typing import Any, TypeVar
from collections.abc import Callable

import numpy as np

from benchspec import mx64
from benchspec.scpi import ErrorQueue, Identity

from . import validation
from .errors import ChipError, InvalidArgument, NotPowered, UnknownRegister
from .macro import MX64

F = TypeVar("F", bound=Callable[..., Any])
SETTINGS = {s.name: s for s in mx64.SETTINGS}


def _reported(method: F) -> F:
    """Queue any ChipError the command raises, then re-raise it."""
    @functools.wraps(method)
    def wrapper(self: Board, *args: Any, **kwargs: Any) -> Any:
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
        self.errors = ErrorQueue(mx64.ERROR_QUEUE_LENGTH)
        self._vwrite = chip.params.defaults.v_write
        self.regulators_on = False

    # ------------------------------------------------------------ errors
    def push_error(self, code: int, message: str) -> None:
        """Append to the error queue; on overflow the newest entry becomes -350."""
        self.errors.push(code, message)

    def next_error(self) -> tuple[int, str]:
        """Oldest queued error, or (0, 'No error')."""
        return self.errors.pop()

    # ---------------------------------------------------------- identity
    def identify(self) -> Identity:
        return Identity(mx64.MANUFACTURER, mx64.MODEL, self.serial, mx64.FIRMWARE_VERSION, self.chip.die_id)

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

    # --------------------------------------------------------- settings
    @_reported
    def set_register(self, name: str, value: Any, column: int | None = None) -> None:
        """Write a setting of :data:`benchspec.mx64.SETTINGS` (per-column ones: one column, or all)."""
        setting = self._setting(name, column)
        c = self.chip
        if setting.name == "write_voltage":
            self._require_onboard("write_voltage")
            volts = validation.number("write_voltage", value, *mx64.VWRITE_RANGE, "V")
            if self.regulators_on:
                c.set_rails(vwrite=volts)
            self._vwrite = volts
        elif setting.per_column:
            starts, lsbs = c.tdc_start.copy(), c.tdc_lsb.copy()
            target = starts if setting.name == "tdc_start" else lsbs
            for j in range(mx64.COLUMNS) if column is None else [column]:
                target[j] = value
                c.set_tdc_window(float(starts[j]), float(lsbs[j]), j)
        else:
            {"clock_hz": c.set_clock, "write_width": c.set_write_width, "read_bias": c.set_read_bias,
             "verify_bias": c.set_verify_bias, "test_mux": c.set_test_mux,
             "held_input": c.set_hold_input}[setting.name](value)

    @_reported
    def set_tdc_windows(self, starts: np.ndarray, lsbs: np.ndarray) -> None:
        """Every column's TDC window at once: starts and LSBs (64 each, s)."""
        self.chip.set_tdc_windows(starts, lsbs)

    @_reported
    def get_register(self, name: str, column: int | None = None) -> Any:
        """Read a setting; per-column ones give one column, or all 64."""
        setting = self._setting(name, column)
        c = self.chip
        if setting.name == "write_voltage":
            return c.rails["vwrite"] if self.supply == "external" else self._vwrite
        if setting.per_column:
            values = c.tdc_start if setting.name == "tdc_start" else c.tdc_lsb
            return float(values[column]) if column is not None else values.copy()
        if setting.name == "held_input":
            c.require_power("held_input")
        return {"clock_hz": lambda: c.clock_hz, "write_width": lambda: c.write_width_clocks,
                "read_bias": lambda: c.read_bias, "verify_bias": lambda: c.verify_bias,
                "test_mux": lambda: c.test_mux, "held_input": lambda: c.hold_input.copy()}[setting.name]()

    def _setting(self, name: str, column: int | None) -> mx64.Setting:
        setting = SETTINGS.get(str(name).lower())
        if setting is None:
            raise UnknownRegister(str(name), list(SETTINGS))
        if column is not None:
            if not setting.per_column:
                raise InvalidArgument("column", column, f"none: {setting.name} is not a per-column setting")
            validation.index("column", column, mx64.COLUMNS)
        return setting

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
    def verify_array(self) -> np.ndarray:
        """Every row's verify, row by row (64 clocks)."""
        return self.chip.verify_array()

    @_reported
    def mac(self, x: np.ndarray) -> np.ndarray:
        return self.chip.mac(x)

    @_reported
    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        return self.chip.mac_batch(x)

    @_reported
    def cycle_counter(self) -> int:
        self.chip.require_power("cycle_counter")
        return self.chip.cycle_counter

    @_reported
    def reset_counter(self) -> None:
        self.chip.reset_counter()
