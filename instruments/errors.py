"""Errors raised by the instrument and board drivers."""

from __future__ import annotations


class InstrumentError(Exception):
    """Base class of every driver error."""


class CommandError(InstrumentError):
    """An instrument refused a command, or the driver refused to send it.

    Carries the instrument's name, the command, the SCPI error number and
    the instrument's own error text.
    """

    def __init__(self, instrument: str, command: str, code: int, message: str) -> None:
        self.instrument, self.command, self.code, self.message = instrument, command, code, message
        super().__init__(f"{instrument}: {command!r} failed with {code}, {message}")


class LinkError(InstrumentError):
    """The connection to an instrument failed (port vanished, no answer)."""


class LinkTimeout(LinkError):
    """No complete reply within the timeout (the link has been resynchronised)."""


class OutOfRange(InstrumentError, ValueError):
    """A value the instrument cannot take; refused before anything is sent."""

    def __init__(self, instrument: str, name: str, value: object, allowed: str) -> None:
        self.instrument, self.name, self.value, self.allowed = instrument, name, value, allowed
        super().__init__(f"{instrument}: {name} = {value!r} refused before sending; allowed {allowed}")


class SafetyLimitError(OutOfRange):
    """A value beyond the bench's safety limits; refused before anything is sent."""

    def __init__(self, instrument: str, name: str, value: object, allowed: str) -> None:
        super().__init__(instrument, name, value, allowed)
        self.args = (f"{instrument}: {name} = {value!r} exceeds the bench safety limit {allowed}; "
                     "nothing was sent",)
