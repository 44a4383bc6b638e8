"""In-process backend of the chip interface: the simulated board called directly.

The fast path for simulation and tests.  It raises exactly what the board
backend raises: :class:`instruments.errors.CommandError` with the board's
SCPI error number.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import numpy as np

from instruments.errors import CommandError
from instruments.mx64_board import BoardIdentity, as_signs
from sim_chip import MX64, Board, ChipError, ChipParameters

F = TypeVar("F", bound=Callable[..., Any])


def _as_command_error(method: F) -> F:
    """Turn the simulator's errors into the CommandError the board backend raises."""
    @functools.wraps(method)
    def wrapper(self: "InProcessChip", *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ChipError as exc:
            self._board.next_error()  # it was reported here; keep the queue as the wire would
            raise CommandError(self.name, method.__name__, exc.scpi_code, str(exc)) from None
    return wrapper  # type: ignore[return-value]


class InProcessChip:
    """The simulated board called directly, with the :class:`Chip` interface."""

    def __init__(self, board: Board) -> None:
        self._board = board
        self.name = f"MX64 board (in-process simulation, die {board.chip.die_id})"

    @property
    def board(self) -> Board:
        """The simulated board (for the simulated bench's own wiring, not for procedures)."""
        return self._board

    def identify(self) -> BoardIdentity:
        i = self._board.identify()
        return BoardIdentity(i.manufacturer, i.model, i.serial, i.firmware, i.die_id)

    @_as_command_error
    def reset(self) -> None:
        self._board.reset()

    @_as_command_error
    def power_on(self) -> None:
        self._board.power_on()

    @_as_command_error
    def power_off(self) -> None:
        self._board.power_off()

    def is_powered(self) -> bool:
        return self._board.powered

    @_as_command_error
    def set_clock(self, hz: float) -> None:
        self._board.set_register("CLOCK", hz)

    @_as_command_error
    def clock(self) -> float:
        return float(self._board.get_register("CLOCK"))

    @_as_command_error
    def set_write_voltage(self, volts: float) -> None:
        self._board.set_register("VWRITE", volts)

    @_as_command_error
    def write_voltage(self) -> float:
        return float(self._board.get_register("VWRITE"))

    @_as_command_error
    def set_write_width(self, clocks: int) -> None:
        self._board.set_register("WIDTH", clocks)

    @_as_command_error
    def write_width(self) -> int:
        return int(self._board.get_register("WIDTH"))

    @_as_command_error
    def set_read_bias(self, volts: float) -> None:
        self._board.set_register("VREAD", volts)

    @_as_command_error
    def read_bias(self) -> float:
        return float(self._board.get_register("VREAD"))

    @_as_command_error
    def set_verify_bias(self, volts: float) -> None:
        self._board.set_register("VVERIFY", volts)

    @_as_command_error
    def verify_bias(self) -> float:
        return float(self._board.get_register("VVERIFY"))

    @_as_command_error
    def set_tdc_window(self, start: float, lsb: float, column: int | None = None) -> None:
        self._board.set_register("TDC:START", start, column)
        self._board.set_register("TDC:LSB", lsb, column)

    @_as_command_error
    def tdc_windows(self) -> tuple[np.ndarray, np.ndarray]:
        return self._board.get_register("TDC:START"), self._board.get_register("TDC:LSB")

    @_as_command_error
    def select_test_mux(self, column: int | None) -> None:
        self._board.set_register("TMUX", -1 if column is None else column)

    @_as_command_error
    def hold_input(self, x: np.ndarray) -> None:
        self._board.set_hold_input(as_signs("x", x, (64,), self.name))

    @_as_command_error
    def write_row(self, row: int, weights: np.ndarray) -> None:
        self._board.write_row(row, as_signs("weights", weights, (64,), self.name))

    @_as_command_error
    def write_array(self, weights: np.ndarray) -> None:
        self._board.write_array(as_signs("weights", weights, (64, 64), self.name))

    @_as_command_error
    def cycle_writes(self, weights: np.ndarray, cycles: int) -> None:
        self._board.cycle_writes(as_signs("weights", weights, (64, 64), self.name), cycles)

    @_as_command_error
    def verify_row(self, row: int) -> np.ndarray:
        return self._board.verify_row(row)

    @_as_command_error
    def verify_array(self) -> np.ndarray:
        self._board.chip.require_power("verify_array")
        return np.array([self._board.verify_row(r) for r in range(64)], np.int8)

    @_as_command_error
    def mac(self, x: np.ndarray) -> np.ndarray:
        return self._board.mac(as_signs("x", x, (64,), self.name))

    @_as_command_error
    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        return self._board.mac_batch(as_signs("x", x, (None, 64), self.name))

    @_as_command_error
    def cycle_counter(self) -> int:
        return self._board.cycle_counter()

    @_as_command_error
    def reset_counter(self) -> None:
        self._board.reset_counter()

    def errors(self) -> list[tuple[int, str]]:
        found = []
        while (entry := self._board.next_error())[0] != 0:
            found.append(entry)
        return found

    def close(self) -> None:
        """Nothing to release in process."""


def simulated_chip(die_seed: int = 1, params: Any = None, supply: str = "onboard",
                   ideal: bool = False) -> InProcessChip:
    """A fresh simulated die on a simulated board, in process (``ideal``: the golden-reference chip)."""
    if ideal:
        params = ChipParameters.ideal()
    return InProcessChip(Board(MX64(die_seed, params), supply=supply))
