"""The board's firmware: SCPI-style commands in, replies out, dispatched from the board's command table.

:class:`Firmware` sits between a byte transport and :class:`Board`: it frames
the incoming bytes, finds each message's row in :mod:`benchspec.mx64`, parses
its arguments and block as the row says, runs the row's handler and encodes
the reply as the row says.  Errors never escape: each goes to the board's
error queue with its SCPI number, a failed query answers at once with an
empty line (the error queue says why), and the chip's state is unchanged.

Adding a command is a row in the table and a handler here.
"""

from __future__ import annotations

import re
import time
from typing import Any
from collections.abc import Callable

import numpy as np

from benchspec import mx64
from benchspec.framing import FramingError, Framer, Message, block
from benchspec.scpi import Header, SCPIError

from .board import Board
from .errors import ChipError

#: A partial message whose block is still incomplete after this long is dropped.
BLOCK_TIMEOUT_S = 2.0

_INT = re.compile(r"[+-]?\d+\Z")

#: one handler per command of the table: (board, arguments..., block as an array or None) -> reply value
HANDLERS: dict[str, Callable[..., Any]] = {
    "identify_board": lambda b: b.identify().idn(),
    "die": lambda b: f'"{b.chip.die_id}"',
    "reset": lambda b: b.reset(),
    "clear_errors": lambda b: b.errors.clear(),
    "complete": lambda b: 1,
    "next_error": lambda b: b.errors.reply().lstrip("+"),
    "error_count": lambda b: len(b.errors),
    "sync": lambda b, token: token,
    "power": lambda b, on: b.power_on() if on else b.power_off(),
    "powered": lambda b: b.powered,
    "write_row": lambda b, row, weights: b.write_row(row, weights),
    "write_array": lambda b, weights: b.write_array(weights),
    "cycle_writes": lambda b, cycles, weights: b.cycle_writes(weights, cycles),
    "verify_row": lambda b, row: b.verify_row(row),
    "verify_array": lambda b: b.verify_array(),
    "mac": lambda b, x: b.mac(x),
    "mac_batch": lambda b, x: b.mac_batch(x),
    "set_tdc_windows": lambda b, windows: b.set_tdc_windows(windows[0], windows[1]),
    "cycle_counter": lambda b: b.cycle_counter(),
    "reset_counter": lambda b: b.reset_counter(),
}


def _argument(arg: mx64.Arg, args: list[str], i: int) -> Any:
    """Argument ``i`` parsed as ``arg`` says (its range is the chip's to check)."""
    if i >= len(args) or not args[i]:
        if arg.optional:
            return None
        raise SCPIError(-109, f"Missing parameter; {arg.name}")
    word = args[i].strip()
    if arg.kind == "float":
        try:
            return float(word)
        except ValueError:
            raise SCPIError(-104, f"Data type error; {arg.name} must be a number, got {word!r}") from None
    if arg.kind == "onoff":
        if word.upper() in ("ON", "1", "OFF", "0"):
            return word.upper() in ("ON", "1")
        raise SCPIError(-224, f"Illegal parameter value; {word!r}, allowed ON, OFF, 1, 0")
    if arg.kind == "column" and word.upper() == "OFF":
        return None
    if not _INT.match(word):
        raise SCPIError(-104, f"Data type error; {arg.name} must be an integer, got {word!r}")
    return int(word)


def _data(spec: mx64.Data, data: bytes | None) -> np.ndarray:
    """The block decoded as ``spec`` says; -161 naming the size it needs."""
    if data is None:
        raise SCPIError(-109, f"Missing parameter; {spec.name} block")
    dtype = np.dtype(mx64.DTYPES[spec.dtype][0])
    row = int(np.prod([s for s in spec.shape if s is not None])) * dtype.itemsize
    count = len(data) // row if None in spec.shape else 1
    if len(data) == 0 or len(data) != count * row:
        need = f"a multiple of {row}" if None in spec.shape else str(row)
        raise SCPIError(-161, f"Invalid block data; {spec.name} needs {need} bytes, got {len(data)}")
    shape = tuple(count if s is None else s for s in spec.shape)
    return np.frombuffer(data, dtype).reshape(shape)


def _reply(kind: str | mx64.Data | None, value: Any) -> bytes | None:
    if kind is None:
        return None
    if isinstance(kind, mx64.Data):
        return block(np.ascontiguousarray(value, np.dtype(mx64.DTYPES[kind.dtype][0])).tobytes())
    if kind == "onoff":
        return b"1" if value else b"0"
    if kind == "floats":
        return ",".join(repr(float(v)) for v in value).encode()
    if kind == "float":
        return repr(float(value)).encode()
    return str(value).encode()


class Firmware:
    """Protocol engine of one board connection (one per transport)."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._framer = Framer()
        self._last_data = time.monotonic()
        self._routes: list[tuple[Header, Callable[[list[str], bytes | None], bytes | None], int, bool]] = []
        self._found: dict[str, tuple] = {}           # header text -> its route, once looked up
        for command in mx64.COMMANDS:
            self._route(command.header, self._command(command), len(command.args), command.data is not None)
        for setting in mx64.SETTINGS:
            takes = 2 if setting.per_column else (0 if isinstance(setting.value, mx64.Data) else 1)
            self._route(setting.header, self._setter(setting), takes, isinstance(setting.value, mx64.Data))
            self._route(setting.header + "?", self._getter(setting), 1 if setting.per_column else 0, False)

    def _route(self, pattern: str, handler: Callable, most: int, takes_block: bool) -> None:
        self._routes.append((Header(pattern), handler, most, takes_block))

    # ------------------------------------------------------------ I/O
    def feed(self, data: bytes) -> bytes:
        """Process received bytes; return what the board sends back."""
        now = time.monotonic()
        replies = []
        if self._framer.pending and now - self._last_data > BLOCK_TIMEOUT_S:
            self._report(self._framer.abandon(f"incomplete message dropped after {BLOCK_TIMEOUT_S:g} s"))
        self._last_data = now
        for item in self._framer.feed(data):
            if isinstance(item, FramingError):
                self._report(item)
                continue
            reply = self._execute(item)
            if reply is not None:
                replies.append(reply + b"\n")
        return b"".join(replies)

    def idle(self) -> None:
        """Called when no data arrived for a while: drop stale partial messages."""
        if self._framer.pending and time.monotonic() - self._last_data > BLOCK_TIMEOUT_S:
            self._report(self._framer.abandon(f"incomplete message dropped after {BLOCK_TIMEOUT_S:g} s"))

    def _report(self, error: FramingError | None) -> None:
        if error is not None:
            self.board.push_error(error.code, error.message)

    def _execute(self, msg: Message) -> bytes | None:
        if not msg.text and msg.block is None:
            return None  # empty line
        header, _, rest = msg.text.partition(" ")
        if msg.block is not None and msg.text.endswith(","):
            rest = rest.rstrip().rstrip(",")
        args = [a.strip() for a in rest.split(",")] if rest.strip() else []
        failed = b"" if header.endswith("?") else None      # a failed query answers at once, empty
        route = self._found.get(header) or next((r for r in self._routes if r[0].matches(header)), None)
        if route is None:
            self.board.push_error(-113, f"Undefined header; {header!r}")
            return failed
        self._found[header] = route
        pattern, handler, most, takes_block = route
        try:
            if len(args) > most:
                raise SCPIError(-108, f"Parameter not allowed; {pattern.pattern} takes at most {most}")
            if msg.block is not None and not takes_block:
                raise SCPIError(-108, f"Parameter not allowed; {pattern.pattern} takes no block")
            return handler(args, msg.block)
        except SCPIError as exc:
            self.board.push_error(exc.code, str(exc))
        except ChipError:
            pass  # the board has queued it already
        return failed

    # -------------------------------------------------------- the table
    def _command(self, command: mx64.Command) -> Callable[[list[str], bytes | None], bytes | None]:
        handler = HANDLERS[command.name]

        def run(args: list[str], data: bytes | None) -> bytes | None:
            values = [_argument(a, args, i) for i, a in enumerate(command.args)]
            if command.data is not None:
                values.append(_data(command.data, data))
            return _reply(command.reply, handler(self.board, *values))
        return run

    def _setter(self, setting: mx64.Setting) -> Callable[[list[str], bytes | None], None]:
        def run(args: list[str], data: bytes | None) -> None:
            if isinstance(setting.value, mx64.Data):
                value = _data(setting.value, data)
            else:
                value = _argument(setting.value, args, 0)
            column = _argument(mx64.Arg("column", "int", optional=True), args, 1) if setting.per_column else None
            self.board.set_register(setting.name, value, column)
        return run

    def _getter(self, setting: mx64.Setting) -> Callable[[list[str], bytes | None], bytes | None]:
        def run(args: list[str], data: bytes | None) -> bytes | None:
            column = _argument(mx64.Arg("column", "int", optional=True), args, 0) if setting.per_column else None
            value = self.board.get_register(setting.name, column)
            if isinstance(setting.value, mx64.Data):
                return _reply(setting.value, value)
            if setting.per_column and column is None:
                return _reply("floats", value)
            if setting.value.kind == "column":
                return b"OFF" if value is None else str(value).encode()
            return _reply(setting.value.kind, value)
        return run
