"""Typed errors of the MX64 model and its board.

Every error carries an SCPI-style error number so that the board's error
queue (and, later, its wire protocol) can report it with the standard code.
"""

from __future__ import annotations


class ChipError(Exception):
    """Base class of every error raised by the chip model or its board."""

    #: SCPI error number reported in the board's error queue.
    scpi_code: int = -200  # "Execution error"


class InvalidArgument(ChipError, ValueError):
    """An argument is outside its allowed range, shape or set of values.

    The message names the argument, what was given and what is allowed.
    """

    scpi_code = -222  # "Data out of range"

    def __init__(self, name: str, given: object, allowed: str) -> None:
        self.name = name
        self.given = given
        self.allowed = allowed
        super().__init__(f"{name}: got {given!s}, allowed {allowed}")


class NotPowered(ChipError, RuntimeError):
    """An operation was requested while the chip is unpowered."""

    scpi_code = -241  # "Hardware missing"

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        super().__init__(f"{operation}: chip is not powered ({reason})")


class UnknownRegister(ChipError, KeyError):
    """A configuration register name that the board does not have."""

    scpi_code = -113  # "Undefined header"

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"register {name!r} does not exist; known: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]
