"""How an instrument's command set is described: once, for its driver and its simulated twin.

A :class:`CommandSet` holds what the manual says of a model: its
identification, terminator, error reporting, channels, and every
:class:`Quantity` it holds (a value set with ``<header> <value>`` and read
with ``<header>?``, with its unit, range or choices and its value at
``*RST``).  The driver's settings are made from the quantities
(``instruments.scpi``); the simulated instrument answers them from the same
rows (``sim_chip.bench.scpi_device``) and adds only the physics of its
measurements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Mapping

from .scpi import short_form


@dataclass(frozen=True)
class Ramp:
    """A setting that moves in steps of at most ``step`` (its unit), ``dwell`` s apart, while the
    quantity ``while_on`` (an output) reads true; otherwise in one command."""

    step: float
    dwell: float
    while_on: str | None = None


@dataclass(frozen=True)
class Quantity:
    """A value the instrument holds.

    ``header`` is the manual's pattern; a ``{ch}`` after a node marks where a
    channel number goes (``SOURce{ch}:VOLTage:HIGH``).  ``channels`` says how a
    channel is addressed: ``""`` (none), ``"suffix"`` (the ``{ch}`` node),
    ``"list"`` (a channel list after the value, ``VOLT 1.5,(@3)``, or alone in
    the query) or ``"first"`` (the first argument, ``SETP 1,300``).  ``kind``
    is float, int, bool, choice (``choices`` maps accepted spellings to what
    is sent and stored) or text.  ``high`` may be per channel.  ``limit``
    names the bench safety limit a driver checks (``{ch}`` is filled in).
    """

    name: str
    header: str
    doc: str
    unit: str = ""
    kind: str = "float"
    low: float | None = None
    high: float | Mapping[int, float] | None = None
    choices: Mapping[Any, Any] | None = None
    labels: Mapping[str, str] | None = None   #: how a driver shows a reply (RANGE? 2 -> medium)
    default: Any = 0.0
    reply: str = "{:+.6E}"             #: how the instrument writes the value in a query reply
    limit: str | None = None
    channels: str = ""
    settable: bool = True
    ramp: Ramp | None = None
    quoted: bool = False               #: a string parameter: sent in double quotes
    def top(self, channel: int | None) -> float | None:
        """The upper bound (of a channel, where it depends on it)."""
        if isinstance(self.high, Mapping):
            return self.high[channel or 1]
        return self.high

    def pattern(self) -> str:
        """The header as the simulated instrument matches it (channel suffixes are stripped first)."""
        return self.header.replace("{ch}", "")

    def command(self, query: bool) -> str:
        """What the driver sends, with ``{ch}`` and ``{value}`` to fill in (short form)."""
        required = re.sub(r"\[([^\]]*\{ch\}[^\]]*)\]", r"\1", self.header)    # a node that carries the channel
        head = short_form(required.replace("{ch}", "CHMARK")).replace("CHMARK", "{ch}")
        if query:
            return {"": head + "?", "suffix": head + "?", "list": head + "? (@{ch})",
                    "first": head + "? {ch}"}[self.channels]
        return {"": head + " {value}", "suffix": head + " {value}", "list": head + " {value},(@{ch})",
                "first": head + " {ch},{value}"}[self.channels]

    def format(self, value: Any) -> str:
        """The value as the instrument writes it in a reply."""
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind in ("choice", "text"):
            return self.reply.format(value) if self.reply != "{:+.6E}" else str(value)
        return self.reply.format(value)


@dataclass(frozen=True)
class CommandSet:
    """One instrument model as its manual describes it."""

    models: tuple[str, ...]            #: model names a driver accepts in ``*IDN?``
    idn: str                           #: what the simulated one answers to ``*IDN?``
    role: str                          #: its place on the bench: supply, smu, generator, thermo, dmm
    terminator: str = "\n"
    error_query: str = "SYST:ERR?"     #: how errors are read (``*ESR?``: the status register)
    channels: tuple[int, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    #: answers to IEEE 488.2 and identification queries besides ``*IDN?`` (``*OPT?``, ``*LANG?`` ...)
    answers: Mapping[str, str] = field(default_factory=dict)

    def quantity(self, name: str) -> Quantity:
        return next(q for q in self.quantities if q.name == name)

    def of_channels(self) -> tuple[Quantity, ...]:
        return tuple(q for q in self.quantities if q.channels)

    def of_instrument(self) -> tuple[Quantity, ...]:
        return tuple(q for q in self.quantities if not q.channels)
