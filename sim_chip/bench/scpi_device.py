"""A simulated SCPI instrument: it answers its model's command set (:mod:`benchspec.models`) as the real one does.

Every quantity of the command set is set and queried here from its row
(range, choices, channel addressing, reply format, value at ``*RST``); a
subclass adds only the physics: its measurements, and the hooks
:meth:`SCPIDevice.validate` (conflicts between settings), :meth:`SCPIDevice.changed`
(what a new value does to the world) and :meth:`SCPIDevice.current` (a value
that moves by itself).  Headers match in short or long form and any case;
compound messages (``;``) follow the SCPI rule that a header without a
leading colon is relative to the previous one; the IEEE 488.2 common
commands and the model's identification queries are answered; errors go to
the instrument's queue with their standard numbers, and an unknown command
queues -113 and answers nothing.
"""

from __future__ import annotations

import math
import re
from typing import Any
from collections.abc import Callable

from benchspec.framing import FramingError, Framer, Message
from benchspec.instrument import CommandSet, Quantity
from benchspec.scpi import ErrorQueue, Header, SCPIError, boolean, channel_list, number, split_arguments, unquoted

Handler = Callable[[list[str]], "str | None"]
_SUFFIX = re.compile(r"(?<=[A-Za-z])(\d+)(?=:|\?|$)")
OVERFLOW = 9.9e37                      #: what SCPI instruments answer for infinity


class SCPIDevice:
    """Base of the simulated instruments: the command set's quantities, the common commands, errors."""

    queue_length = 20

    def __init__(self, spec: CommandSet) -> None:
        self.spec = spec
        self.errors = ErrorQueue(self.queue_length)
        self.status = {"ESE": 0, "SRE": 0}
        self.suffixes: list[int] = []
        self.values: dict[tuple[str, int | None], Any] = {}
        self._commands: list[tuple[Header, Handler]] = []
        self._found: dict[str, Handler | None] = {}
        c = self.command
        c("*IDN?", lambda a: self.spec.idn)
        c("*RST", lambda a: self.reset())
        c("*CLS", lambda a: self.errors.clear())
        c("*OPC?", lambda a: "1")
        c("*OPC", lambda a: None)
        c("*WAI", lambda a: None)
        c("*TST?", lambda a: "0")
        c("*STB?", lambda a: str(32 if len(self.errors) else 0))
        for register in ("ESE", "SRE"):
            c(f"*{register}", lambda a, r=register: self.status.__setitem__(r, int(number(a, 0, r, 0, 255))))
            c(f"*{register}?", lambda a, r=register: str(self.status[r]))
        c("SYSTem:ERRor[:NEXT]?", lambda a: self.next_error())
        for header, answer in spec.answers.items():
            c(header, lambda a, text=answer: text)
        for quantity in spec.quantities:
            if quantity.settable:
                c(quantity.pattern(), lambda a, q=quantity: self._set(q, a))
            c(quantity.pattern() + "?", lambda a, q=quantity: self._query(q, a))
        self.reset()

    def command(self, pattern: str, handler: Handler) -> None:
        """Register a header pattern (see :class:`~benchspec.scpi.Header`)."""
        self._commands.append((Header(pattern), handler))
        self._found.clear()

    # ------------------------------------------------------------ quantities
    def reset(self) -> None:
        """``*RST``: every quantity to its value at reset (subclasses also reset their physics)."""
        for q in self.spec.quantities:
            for ch in (self.spec.channels if q.channels else (None,)):
                self.values[(q.name, ch)] = self.initial(q, ch)

    def initial(self, q: Quantity, channel: int | None) -> Any:
        """A quantity's value at ``*RST`` (a default of None: its top of range)."""
        return q.top(channel) if q.default is None else q.default

    def value(self, name: str, channel: int | None = None) -> Any:
        return self.values[(name, channel)]

    def store(self, name: str, value: Any, channel: int | None = None) -> None:
        """Change a quantity as the instrument itself does (a protection trips, a ramp ends)."""
        self.values[(name, channel)] = value

    def validate(self, name: str, channel: int | None, value: Any) -> None:
        """Refuse a value that conflicts with other settings (SCPIError -221); subclasses."""

    def changed(self, name: str, channel: int | None) -> None:
        """A quantity changed: what that does to the world; subclasses."""

    def current(self, name: str, channel: int | None) -> Any:
        """A quantity's value for a query (subclasses: values that move by themselves)."""
        return self.value(name, channel)

    def selected(self) -> int:
        """The channel a command without a channel list addresses (the supply's INSTrument:SELect)."""
        return self.spec.channels[0] if self.spec.channels else 0

    def _channels(self, q: Quantity, args: list[str], query: bool) -> tuple[list[int | None], list[str]]:
        """The channels a command addresses, and its arguments without the channel part."""
        if q.channels == "suffix":
            n = self.suffix()
            if n not in self.spec.channels:
                raise SCPIError(-113, f"Undefined header; channel {n}")
            return [n], args
        if q.channels == "first":
            if not args:
                raise SCPIError(-109, f"Missing parameter; {q.name} needs a channel")
            return [int(number(args, 0, "channel", min(self.spec.channels), max(self.spec.channels)))], args[1:]
        if q.channels == "list":
            at = 0 if query else 1
            if len(args) > at and args[at].startswith("("):
                return list(channel_list(args[at], self.spec.channels)), args[:at]
            if len(args) > at:
                raise SCPIError(-108, "Parameter not allowed")
            return [self.selected()], args
        return [None], args

    def _parse(self, q: Quantity, args: list[str], channel: int | None) -> Any:
        if not args or not args[0]:
            raise SCPIError(-109, f"Missing parameter; {q.name}")
        if len(args) > 1:
            raise SCPIError(-108, f"Parameter not allowed; {q.name} takes one value")
        word = unquoted(args[0]).upper()
        if q.choices is not None and word in q.choices:
            return q.choices[word]
        if q.kind == "choice":
            raise SCPIError(-224, f"Illegal parameter value; {q.name} {args[0]!r}")
        if q.kind == "bool":
            return boolean(args, 0, q.name)
        if q.kind == "text":
            return unquoted(args[0])
        low = -math.inf if q.low is None else q.low
        high = q.top(channel)
        default = q.default if isinstance(q.default, (int, float)) and not isinstance(q.default, bool) else None
        value = number(args, 0, q.name, low, math.inf if high is None else high, default)
        return int(value) if q.kind == "int" else value

    def _set(self, q: Quantity, args: list[str]) -> None:
        channels, rest = self._channels(q, args, query=False)
        values = [self._parse(q, rest, ch) for ch in channels]
        for ch, value in zip(channels, values):
            self.validate(q.name, ch, value)
        for ch, value in zip(channels, values):
            self.values[(q.name, ch)] = value
            self.changed(q.name, ch)

    def _query(self, q: Quantity, args: list[str]) -> str:
        channels, rest = self._channels(q, args, query=True)
        if rest:
            raise SCPIError(-108, f"Parameter not allowed; {q.name}?")
        return ",".join(self._reply(q, self.current(q.name, ch)) for ch in channels)

    @staticmethod
    def _reply(q: Quantity, value: Any) -> str:
        if isinstance(value, float) and math.isinf(value):
            return f"{OVERFLOW:+.1E}"
        return q.format(value)

    # ------------------------------------------------------------ messages
    def push_error(self, code: int, message: str) -> None:
        self.errors.push(code, message)

    def suffix(self, default: int = 1) -> int:
        """The numeric suffix of the current header's first node that had one (channel)."""
        return self.suffixes[0] if self.suffixes else default

    def next_error(self) -> str:
        return self.errors.reply()

    def before_command(self) -> None:
        """Hook run before every command (the world brings itself up to date)."""

    def handle_line(self, line: str) -> str | None:
        """Execute one program message; return the reply text (without terminator) or None."""
        replies: list[str] = []
        path = ""
        for segment in line.split(";"):
            segment = segment.strip()
            if not segment:
                continue
            header, _, rest = segment.partition(" ")
            if not header.startswith((":", "*")) and path:
                header = path + ":" + header
            if not header.startswith("*"):
                path = header.lstrip(":").rsplit(":", 1)[0] if ":" in header.lstrip(":") else ""
            reply = self._execute(header, split_arguments(rest))
            if reply is not None:
                replies.append(reply)
        return ";".join(replies) if replies else None

    def _execute(self, header: str, args: list[str]) -> str | None:
        # numeric suffixes (SOURce2, OUTPut1, TRIGger2) select channels: strip and keep them
        common = header.startswith("*")
        self.suffixes = [] if common else [int(n) for n in _SUFFIX.findall(header)]
        header = header if common else _SUFFIX.sub("", header)
        if header not in self._found:
            self._found[header] = next((h for p, h in self._commands if p.matches(header)), None)
        handler = self._found[header]
        if handler is None:
            self.push_error(-113, f"Undefined header; {header}")
            return None
        try:
            self.before_command()
            return handler(args)
        except SCPIError as exc:
            self.push_error(exc.code, str(exc))
            return None


class LineSession:
    """A connection to a :class:`SCPIDevice`: bytes in, reply bytes out."""

    def __init__(self, device: SCPIDevice) -> None:
        self.device = device
        self._framer = Framer()

    def feed(self, data: bytes) -> bytes:
        out = []
        for item in self._framer.feed(data):
            if isinstance(item, FramingError):
                self.device.push_error(item.code, item.message)
                continue
            if isinstance(item, Message) and item.block is not None:
                self.device.push_error(-108, "Parameter not allowed; binary block")
                continue
            reply = self.device.handle_line(item.text)
            if reply is not None:
                out.append((reply + self.device.spec.terminator).encode())
        return b"".join(out)

    def idle(self) -> None:
        """Nothing to expire: instruments take no blocks."""
