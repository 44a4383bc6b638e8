"""Driver of the MX64 evaluation board (docs/protocol.md), its methods and settings made from the board's
command table (:mod:`benchspec.mx64`).

Works on any link with pyserial's interface: a USB virtual serial port
(``/dev/ttyACM0``, ``COM3``), ``socket://host:port`` or any other pyserial
URL, or an :class:`InProcessLink` into a firmware object (the simulated board
in process: the same protocol, without a socket).  Every command is sent
together with ``SYST:ERR?`` so that one round trip both runs it and reports
its error; bulk data travels as IEEE 488.2 definite-length blocks.  After a
timeout the driver resynchronises with ``SYST:SYNC? <token>`` so that a late
reply is never taken as the answer to a later command.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
import time
from typing import Any, Literal, Protocol, overload

import numpy as np
import serial

from benchspec import mx64
from benchspec.framing import BlockError, block, read_block
from benchspec.scpi import Identity, short_form

from .errors import CommandError, LinkError, LinkTimeout
from .interrupts import shielded
from .scpi import Limits
from .sealed import Sealed, checked_setattr

MAX_BATCH = mx64.MAX_BATCH
_header = functools.cache(short_form)      # a row's header as sent, worked out once
_DRAIN = 1 << 16       # bytes asked of the port at once when taking what has arrived
_ERROR_REPLY = re.compile(rb'[+-]?\d+,"')


class Link(Protocol):
    """What the driver needs of a transport (pyserial's interface)."""

    timeout: float | None

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int) -> bytes: ...
    def read_until(self, expected: bytes) -> bytes: ...
    def reset_input_buffer(self) -> None: ...
    def close(self) -> None: ...


class InProcessLink:
    """A link into a firmware object in the same process (``feed(bytes) -> reply bytes``)."""

    def __init__(self, firmware: Any) -> None:
        self._firmware = firmware
        self._buffer = bytearray()
        self.timeout: float | None = 0.0

    def write(self, data: bytes) -> int:
        self._buffer += self._firmware.feed(bytes(data))
        return len(data)

    def read(self, size: int) -> bytes:
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def read_until(self, expected: bytes = b"\n") -> bytes:
        at = self._buffer.find(expected)
        end = len(self._buffer) if at < 0 else at + len(expected)
        return self.read(end)

    def reset_input_buffer(self) -> None:
        self._buffer.clear()

    def close(self) -> None:
        """Nothing to release."""


def as_signs(name: str, value: object, shape: tuple[int | None, ...], instrument: str) -> np.ndarray:
    """int8 array of +1/-1 with the given shape, or a CommandError naming ``name`` (nothing is sent)."""
    a = np.asarray(value)
    ok_shape = a.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, a.shape)) and a.size
    if not ok_shape or a.dtype.kind not in "iuf" or not np.all((a == 1) | (a == -1)):
        want = " x ".join("N" if s is None else str(s) for s in shape)
        raise CommandError(instrument, name, -222,
                           f"refused before sending: {name} must be an array of shape ({want}) "
                           f"holding only -1/+1, got shape {a.shape} dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int8)


def as_block(spec: mx64.Data, value: object, instrument: str) -> bytes:
    """A block argument's bytes: +1/-1 signs (``as_signs``), or finite numbers of the block's shape."""
    if spec.dtype == "signs":
        return as_signs(spec.name, value, spec.shape, instrument).tobytes()
    a = np.asarray(value, dtype=float)
    if a.shape != tuple(spec.shape) or not np.isfinite(a).all():
        raise CommandError(instrument, spec.name, -222, f"refused before sending: {spec.name} must be finite numbers "
                                                        f"of shape {spec.shape}, got shape {a.shape}")
    return np.ascontiguousarray(a, np.dtype(mx64.DTYPES[spec.dtype][0])).tobytes()


def _argument(arg: mx64.Arg, value: Any) -> str:
    if arg.kind == "onoff":
        return "ON" if value else "OFF"
    if arg.kind == "column" and value is None:
        return "OFF"
    if arg.kind == "float":
        return repr(float(value))
    return str(int(value))


def _parse(kind: str | mx64.Data | None, reply: bytes | None) -> Any:
    if kind is None or reply is None:
        return None
    if isinstance(kind, mx64.Data):
        values = np.frombuffer(reply, np.dtype(mx64.DTYPES[kind.dtype][0]))
        return values.reshape(tuple(-1 if s is None else s for s in kind.shape)).copy()
    text = reply.decode()
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "onoff":
        return text.strip() == "1"
    if kind == "floats":
        return np.array(text.split(","), float)
    return text


class MX64Board(metaclass=Sealed):
    """The board behind a link: the chip interface of :mod:`labctl.chip`.

    Its operations and settings are the rows of :mod:`benchspec.mx64`;
    ``chip.write_width = 2``, ``codes = chip.mac_batch(x)``.  Assigning anything else is refused.
    """

    __setattr__ = checked_setattr

    def __init__(self, url: str | Link, timeout: float = 5.0, baudrate: int = 115200,
                 resync_timeout: float = 10.0, name: str | None = None) -> None:
        """Open ``url`` (a pyserial URL or port name, or a link); ``timeout`` (s) bounds every read,
        ``resync_timeout`` (s) a resynchronisation."""
        self.url = url if isinstance(url, str) else type(url).__name__
        self.resync_timeout = resync_timeout
        #: the bench safety limits its settings are checked against before anything is sent (a bench sets them)
        self.limits = Limits()
        self.name = name or f"MX64 board at {self.url}"
        if isinstance(url, str):
            try:
                self._port: Link = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout,
                                                         write_timeout=timeout)
            except (serial.SerialException, OSError, ValueError) as exc:
                raise LinkError(f"{self.name}: cannot open the port: {exc}") from None
        else:
            self._port = url
        self._tokens = itertools.count(random.SystemRandom().randrange(1, 10**8))
        self._inbox = bytearray()          # received bytes not yet taken as a reply
        self.resync()

    # ------------------------------------------------------------- link
    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> MX64Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except serial.SerialTimeoutException:
            raise LinkTimeout(f"{self.name}: write timed out") from None
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.name}: port vanished while writing: {exc}") from None

    def _receive(self, want: int) -> None:
        """Add to the inbox: wait (up to the port's timeout) for a byte, then take what the port already holds.

        Two port reads a reply however long its lines (pyserial's own
        ``read_until`` reads one byte at a time): the second with the
        timeout at 0, which returns at once with what has arrived.
        """
        port = self._port
        try:
            data = port.read(1)
            if data:
                timeout = port.timeout
                port.timeout = 0
                try:
                    data += port.read(max(want - 1, _DRAIN))
                finally:
                    port.timeout = timeout
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.name}: port vanished while reading: {exc}") from None
        if not data:
            raise LinkTimeout(f"{self.name}: timed out waiting for a reply (got {bytes(self._inbox[:40])!r})")
        self._inbox += data

    def _read(self, n: int) -> bytes:
        inbox = self._inbox
        while len(inbox) < n:
            self._receive(n - len(inbox))
        data = bytes(inbox[:n])
        del inbox[:n]
        return data

    def _read_line(self) -> bytes:
        inbox = self._inbox
        end = inbox.find(b"\n")
        while end < 0:
            self._receive(1)
            end = inbox.find(b"\n")
        line = bytes(inbox[:end])
        del inbox[:end + 1]
        return line

    def _read_reply(self) -> tuple[bool, bytes]:
        """One reply: (False, ASCII line) or (True, payload of a definite-length block)."""
        head = self._read(1)
        if head == b"\n":
            return False, b""
        if head != b"#":
            return False, head + self._read_line()
        try:
            payload = read_block(self._read)
        except BlockError:
            raise LinkError(f"{self.name}: malformed block header in reply") from None
        if self._read(1) != b"\n":
            raise LinkError(f"{self.name}: block reply not followed by a newline")
        return True, payload

    def resync(self) -> None:
        """Discard anything in flight until the board echoes a fresh token.

        Waits up to ``resync_timeout`` seconds for the board to finish what
        it was doing (a long batch, say); raises LinkTimeout if it never
        answers.  The token is decimal text between newlines, which no
        binary reply (codes 0..15, signs 0x01/0xFF) can contain.
        """
        token = str(next(self._tokens)).encode()
        marker = b"\n" + token + b"\n"
        timeout = self._port.timeout
        self._port.timeout = 0.05
        deadline = time.monotonic() + self.resync_timeout
        try:
            self._port.reset_input_buffer()
            self._inbox.clear()
            self._write(f"{_header(mx64.command('sync').header)} ".encode() + token + b"\n")
            seen = b"\n"
            while time.monotonic() < deadline:
                try:
                    seen = seen[-len(marker):] + self._port.read(1 << 16)
                except (serial.SerialException, OSError) as exc:
                    raise LinkError(f"{self.name}: port vanished while resynchronising: {exc}") from None
                if marker in seen:
                    return
            raise LinkTimeout(f"{self.name}: no answer to a resynchronisation within {self.resync_timeout:g} s")
        finally:
            self._port.timeout = timeout

    @overload
    def transact(self, command: str, payload: bytes | None, query: Literal[True]) -> bytes: ...
    @overload
    def transact(self, command: str, payload: bytes | None, query: bool) -> bytes | None: ...

    def transact(self, command: str, payload: bytes | None, query: bool) -> bytes | None:
        """Send a command (and its block) with SYST:ERR?; its reply, or CommandError with the board's text."""
        message = command.encode() + ((b" " if " " not in command else b",") + block(payload)
                                      if payload is not None else b"") + b"\nSYST:ERR?\n"
        try:
            with shielded():                        # a stop request waits for the whole exchange
                self._write(message)
                is_block, reply = self._read_reply() if query else (False, None)
                if reply is not None and not is_block and _ERROR_REPLY.match(reply):
                    error, reply = reply, None      # the query failed: no reply, only the error
                else:
                    error = self._read_line()
        except LinkTimeout:
            self.resync()
            raise
        code, _, text = error.decode(errors="replace").partition(",")
        if int(code) != 0:
            raise CommandError(self.name, command, int(code), text.strip('"'))
        if query and reply is None:
            raise CommandError(self.name, command, 0, "query returned no reply")
        return reply

    # ------------------------------------------------ the table, as methods
    def _run(self, row: mx64.Command, *values: Any) -> Any:
        data = values[len(row.args)] if row.data is not None else None
        words = [_argument(a, v) for a, v in zip(row.args, values) if not (a.optional and v is None)]
        header = _header(row.header)
        command = f"{header} {','.join(words)}" if words else header
        payload = as_block(row.data, data, self.name) if row.data else None
        return _parse(row.reply, self.transact(command, payload, row.query))

    def identify(self) -> Identity:
        """Who is on the other end: the board and the die it carries."""
        ident = Identity.parse(self._run(mx64.command("identify_board")))
        return Identity(ident.manufacturer, ident.model, ident.serial, ident.firmware,
                        self._run(mx64.command("die")).strip('"'))

    def power_on(self) -> None:
        """Rails on (the board's regulators; with bench supplies: check they power the chip)."""
        self._run(mx64.command("power"), True)

    def power_off(self) -> None:
        self._run(mx64.command("power"), False)

    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        """TDC codes (n, 64) for n inputs (n x 64 of +1/-1), in commands of at most MAX_BATCH vectors."""
        x = as_signs("x", x, (None, 64), self.name)
        header = _header(mx64.command("mac_batch").header)
        return np.concatenate([np.frombuffer(self.transact(header, x[i:i + MAX_BATCH].tobytes(), True), np.uint8)
                               for i in range(0, x.shape[0], MAX_BATCH)]).reshape(-1, 64)

    def set_tdc_windows(self, starts_s: np.ndarray, lsbs_s: np.ndarray) -> None:
        """Every column's TDC window in one command: starts and LSBs, 64 each, s."""
        self._run(mx64.command("set_tdc_windows"), np.stack([np.broadcast_to(np.asarray(starts_s, float), (64,)),
                                                             np.broadcast_to(np.asarray(lsbs_s, float), (64,))]))

    def set_tdc_window(self, start_s: float, lsb_s: float, column: int | None = None) -> None:
        """A column's TDC window (every column's when ``column`` is None): start and LSB, s."""
        self._set_per_column("tdc_start", start_s, column)
        self._set_per_column("tdc_lsb", lsb_s, column)

    def _set_per_column(self, name: str, value: float, column: int | None) -> None:
        setting = mx64.setting(name)
        where = "" if column is None else f",{int(column)}"
        self.transact(f"{_header(setting.header)} {float(value)!r}{where}", None, False)

    def errors(self) -> list[tuple[int, str]]:
        """Drain the board's error queue (normally empty: every command checks its own)."""
        found = []
        for _ in range(64):
            self._write(b"SYST:ERR?\n")
            try:
                code, _, text = self._read_line().decode().partition(",")
            except LinkTimeout:
                self.resync()
                raise
            if int(code) == 0:
                break
            found.append((int(code), text.strip('"')))
        return found


_COMPOSED = {"identify_board", "die", "power", "mac_batch", "next_error", "sync", "error_count", "complete",
             "set_tdc_windows"}


def _operation(row: mx64.Command) -> Any:
    """A row as the driver's method (a state read: a read-only property)."""
    def run(self: MX64Board, *values: Any) -> Any:
        return self._run(row, *values)
    run.__name__ = row.name
    run.__doc__ = f"{row.doc} ({row.header})"
    return property(run, doc=run.__doc__) if row.reading else run


def _setting_property(setting: mx64.Setting) -> property:
    """A setting as the driver's property: the query reads it, assigning sends it."""
    header = _header(setting.header)
    value = setting.value

    def get(self: MX64Board) -> Any:
        reply = self.transact(header + "?", None, True)
        if isinstance(value, mx64.Data) or setting.per_column:
            return _parse(value if isinstance(value, mx64.Data) else "floats", reply)
        if value.kind == "column":
            return None if reply == b"OFF" else int(reply)
        return _parse(value.kind, reply)

    def put(self: MX64Board, new: Any) -> None:
        if setting.per_column:
            self._set_per_column(setting.name, new, None)
        elif isinstance(value, mx64.Data):
            self.transact(header, as_signs(value.name, new, value.shape, self.name).tobytes(), False)
        else:
            if setting.limit is not None and isinstance(new, (int, float)) and not isinstance(new, bool):
                self.limits.check(self.name, setting.limit, float(new))
            self.transact(f"{header} {_argument(value, new)}", None, False)

    unit = getattr(value, "unit", "")
    return property(get, put, doc=setting.doc + (f", {unit}" if unit else "") + f" ({setting.header})")


for _row in mx64.COMMANDS:
    if _row.name not in _COMPOSED:
        setattr(MX64Board, _row.name, _operation(_row))
for _setting in mx64.SETTINGS:
    setattr(MX64Board, _setting.name, _setting_property(_setting))
