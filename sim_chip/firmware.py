"""The board's firmware: SCPI-style commands in, replies out (docs/protocol.md).

:class:`Firmware` sits between a byte transport and :class:`Board`: it frames
the incoming bytes, dispatches each command and returns the reply bytes.
Errors never escape: each goes to the board's error queue with its SCPI
number, a failed query answers at once with an empty line (the error queue
says why), and the chip's state is unchanged.
"""

from __future__ import annotations

import re
import time
from typing import Callable

import numpy as np

from .board import Board
from .errors import ChipError
from .scpi_parser import FramingError, Framer, Header, Message

#: A partial message whose block is still incomplete after this long is dropped.
BLOCK_TIMEOUT_S = 2.0

_INT = re.compile(r"[+-]?\d+\Z")


class CommandError(Exception):
    """A command that cannot be executed: SCPI number and text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _block(data: bytes) -> bytes:
    """IEEE 488.2 definite-length block of ``data``."""
    length = str(len(data)).encode()
    return b"#" + str(len(length)).encode() + length + data


def _number(args: list[str], i: int, name: str) -> float:
    try:
        return float(args[i])
    except IndexError:
        raise CommandError(-109, f"Missing parameter; {name}") from None
    except ValueError:
        raise CommandError(-104, f"Data type error; {name} must be a number, got {args[i]!r}") from None


def _integer(args: list[str], i: int, name: str) -> int:
    if i >= len(args):
        raise CommandError(-109, f"Missing parameter; {name}")
    if not _INT.match(args[i]):
        raise CommandError(-104, f"Data type error; {name} must be an integer, got {args[i]!r}")
    return int(args[i])


def _signs(block: bytes | None, count: int, name: str) -> np.ndarray:
    """A block of int8 +1/-1 whose size must be a multiple of ``count``."""
    if block is None:
        raise CommandError(-109, f"Missing parameter; {name} block")
    if len(block) == 0 or len(block) % count:
        raise CommandError(-161, f"Invalid block data; {name} needs a multiple of {count} bytes, got {len(block)}")
    return np.frombuffer(block, np.int8).reshape(-1, count)


class Firmware:
    """Protocol engine of one board connection (one per transport)."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self._framer = Framer()
        self._last_data = time.monotonic()
        self._commands: list[tuple[Header, Callable[[list[str], bytes | None], bytes | None], int]] = []
        for pattern, handler, n_args in self._table():
            self._commands.append((Header(pattern), handler, n_args))

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
        for pattern, handler, n_args in self._commands:
            if pattern.matches(header):
                break
        else:
            self.board.push_error(-113, f"Undefined header; {header!r}")
            return failed
        try:
            if n_args >= 0 and len(args) > n_args:
                raise CommandError(-108, f"Parameter not allowed; {pattern.pattern} takes at most {n_args}")
            if msg.block is not None and not getattr(handler, "takes_block", False):
                raise CommandError(-108, f"Parameter not allowed; {pattern.pattern} takes no block")
            return handler(args, msg.block)
        except CommandError as exc:
            self.board.push_error(exc.code, str(exc))
        except ChipError:
            pass  # the board has queued it already
        return failed

    # -------------------------------------------------------- commands
    def _table(self) -> list[tuple[str, Callable[[list[str], bytes | None], bytes | None], int]]:
        b = self.board

        def text(value: object) -> bytes:
            return str(value).encode()

        def idn(args, block):
            return b.identify().idn().encode()

        def err(args, block):
            code, message = b.next_error()
            return f'{code},"{message.replace(chr(34), chr(39))}"'.encode()

        def power(args, block):
            if not args:
                raise CommandError(-109, "Missing parameter; ON or OFF")
            state = args[0].upper()
            if state in ("ON", "1"):
                b.power_on()
            elif state in ("OFF", "0"):
                b.power_off()
            else:
                raise CommandError(-224, f"Illegal parameter value; {args[0]!r}, allowed ON, OFF, 1, 0")

        def register(name: str, parse: Callable[[list[str], int, str], object]):
            def setter(args, block):
                b.set_register(name, parse(args, 0, name))

            def getter(args, block):
                return text(b.get_register(name))
            return setter, getter

        def tdc(name: str):
            def setter(args, block):
                value = _number(args, 0, name)
                column = _integer(args, 1, "column") if len(args) > 1 else None
                b.set_register(name, value, column)

            def getter(args, block):
                if args:
                    return text(repr(b.get_register(name, _integer(args, 0, "column"))))
                return ",".join(repr(float(v)) for v in b.get_register(name)).encode()
            return setter, getter

        def tmux_set(args, block):
            if args and args[0].upper() == "OFF":
                b.set_register("TMUX", -1)
            else:
                b.set_register("TMUX", _integer(args, 0, "column"))

        def tmux_get(args, block):
            value = b.get_register("TMUX")
            return b"OFF" if value < 0 else text(value)

        def hold_set(args, block):
            b.set_hold_input(_one_vector(block, "HOLD"))

        def hold_get(args, block):
            b.chip.require_power("HOLD?")
            return _block(b.chip.hold_input.tobytes())

        def write_row(args, block):
            row = _integer(args, 0, "row")
            b.write_row(row, _one_vector(block, "weights"))

        def write_array(args, block):
            w = _signs(block, 64, "weights")
            if w.shape[0] != 64:
                raise CommandError(-161, f"Invalid block data; weights need 4096 bytes, got {len(block)}")
            b.write_array(w)

        def write_cycle(args, block):
            cycles = _integer(args, 0, "cycles")
            w = _signs(block, 64, "weights")
            if w.shape[0] != 64:
                raise CommandError(-161, f"Invalid block data; weights need 4096 bytes, got {len(block)}")
            b.cycle_writes(w, cycles)

        def verify_row(args, block):
            return _block(b.verify_row(_integer(args, 0, "row")).tobytes())

        def verify_array(args, block):
            b.chip.require_power("VERify:ARRay?")
            return _block(np.array([b.verify_row(r) for r in range(64)], np.int8).tobytes())

        def mac(args, block):
            return _block(b.mac(_one_vector(block, "input")).tobytes())

        def mac_batch(args, block):
            return _block(b.mac_batch(_signs(block, 64, "inputs")).tobytes())

        def sync(args, block):
            return text(_integer(args, 0, "token"))

        for fn in (hold_set, write_row, write_array, write_cycle, mac, mac_batch):
            fn.takes_block = True

        clock_set, clock_get = register("CLOCK", _number)
        vwrite_set, vwrite_get = register("VWRITE", _number)
        width_set, width_get = register("WIDTH", _integer)
        vread_set, vread_get = register("VREAD", _number)
        vverify_set, vverify_get = register("VVERIFY", _number)
        start_set, start_get = tdc("TDC:START")
        lsb_set, lsb_get = tdc("TDC:LSB")
        return [
            ("*IDN?", idn, 0),
            ("*RST", lambda a, k: b.reset(), 0),
            ("*CLS", lambda a, k: b.clear_errors(), 0),
            ("*OPC?", lambda a, k: b"1", 0),
            ("SYSTem:ERRor[:NEXT]?", err, 0),
            ("SYSTem:ERRor:COUNt?", lambda a, k: text(b.error_count), 0),
            ("SYSTem:SYNC?", sync, 1),
            ("SYSTem:DIE?", lambda a, k: f'"{b.identify().die_id}"'.encode(), 0),
            ("POWer[:STATe]", power, 1),
            ("POWer[:STATe]?", lambda a, k: b"1" if b.powered else b"0", 0),
            ("CONFigure:CLOCk", clock_set, 1), ("CONFigure:CLOCk?", clock_get, 0),
            ("CONFigure:VWRite", vwrite_set, 1), ("CONFigure:VWRite?", vwrite_get, 0),
            ("CONFigure:WIDTh", width_set, 1), ("CONFigure:WIDTh?", width_get, 0),
            ("CONFigure:VREad", vread_set, 1), ("CONFigure:VREad?", vread_get, 0),
            ("CONFigure:VVERify", vverify_set, 1), ("CONFigure:VVERify?", vverify_get, 0),
            ("CONFigure:TDC:STARt", start_set, 2), ("CONFigure:TDC:STARt?", start_get, 1),
            ("CONFigure:TDC:LSB", lsb_set, 2), ("CONFigure:TDC:LSB?", lsb_get, 1),
            ("CONFigure:TMUX", tmux_set, 1), ("CONFigure:TMUX?", tmux_get, 0),
            ("CONFigure:HOLD", hold_set, 0), ("CONFigure:HOLD?", hold_get, 0),
            ("WRITe:ROW", write_row, 1),
            ("WRITe:ARRay", write_array, 0),
            ("WRITe:CYCLe", write_cycle, 1),
            ("VERify:ROW?", verify_row, 1),
            ("VERify:ARRay?", verify_array, 0),
            ("MAC?", mac, 0),
            ("MAC:BATCh?", mac_batch, 0),
            ("COUNter?", lambda a, k: text(b.cycle_counter()), 0),
            ("COUNter:RESet", lambda a, k: b.reset_counter(), 0),
        ]


def _one_vector(block: bytes | None, name: str) -> np.ndarray:
    v = _signs(block, 64, name)
    if v.shape[0] != 1:
        raise CommandError(-161, f"Invalid block data; {name} needs 64 bytes, got {len(block)}")
    return v[0]
