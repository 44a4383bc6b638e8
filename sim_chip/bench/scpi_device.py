"""A simulated SCPI instrument: headers, arguments, error queue, line sessions.

Each simulated instrument subclasses :class:`SCPIDevice` and registers its
commands with :meth:`SCPIDevice.command`.  Headers match in short or long
form and any case, compound messages (``;``) follow the SCPI rule that a
header without a leading colon is relative to the previous one, and errors
go to the instrument's queue with their standard numbers:

-100 command error, -102 syntax error, -104 data type error, -108
parameter not allowed, -109 missing parameter, -113 undefined header,
-221 settings conflict, -222 data out of range, -224 illegal parameter
value, -350 queue overflow.
"""

from __future__ import annotations

import re
from typing import Callable

from benchspec.framing import FramingError, Framer, Message
from benchspec.scpi import ErrorQueue, Header, SCPIError, split_arguments

Handler = Callable[[list[str]], "str | None"]
_SUFFIX = re.compile(r"(?<=[A-Za-z])(\d+)(?=:|\?|$)")


class SCPIDevice:
    """Base of the simulated instruments."""

    #: ``*IDN?`` reply.
    idn = "SIMULATED,DEVICE,0,0"
    #: Reply terminator.
    terminator = "\n"
    queue_length = 20

    def __init__(self) -> None:
        self.errors = ErrorQueue(self.queue_length)
        self.suffixes: list[int] = []
        self._commands: list[tuple[Header, Handler]] = []
        self.command("*IDN?", lambda a: self.idn)
        self.command("*RST", lambda a: self.reset())
        self.command("*CLS", lambda a: self.errors.clear())
        self.command("*OPC?", lambda a: "1")
        self.command("*OPC", lambda a: None)
        self.command("*WAI", lambda a: None)
        self.command("SYSTem:ERRor[:NEXT]?", lambda a: self.next_error())

    def command(self, pattern: str, handler: Handler) -> None:
        """Register a header pattern (see :class:`~sim_chip.scpi_parser.Header`)."""
        self._commands.append((Header(pattern), handler))

    def reset(self) -> None:
        """``*RST``: subclasses restore their defaults."""

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
        self.suffixes = [int(n) for n in _SUFFIX.findall(header)] if not header.startswith("*") else []
        header = _SUFFIX.sub("", header) if not header.startswith("*") else header
        for pattern, handler in self._commands:
            if pattern.matches(header):
                try:
                    self.before_command()
                    return handler(args)
                except SCPIError as exc:
                    self.push_error(exc.code, str(exc))
                    return None
        self.push_error(-113, f"Undefined header; {header}")
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
                out.append((reply + self.device.terminator).encode())
        return b"".join(out)

    def idle(self) -> None:
        """Nothing to expire: instruments take no blocks."""
