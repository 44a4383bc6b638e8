"""Driver of the MX64 evaluation board over any pyserial port (docs/protocol.md).

Works on a USB virtual serial port (``/dev/ttyACM0``, ``COM3``), on
``socket://host:port`` and on any other pyserial URL.  Every command is sent
together with ``SYST:ERR?`` so that one round trip both runs it and
reports its error; bulk data travels as IEEE 488.2 definite-length blocks.
After a timeout the driver resynchronises with ``SYST:SYNC? <token>`` so
that a late reply is never taken as the answer to a later command.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from dataclasses import dataclass

import numpy as np
import serial

from .errors import CommandError, LinkError, LinkTimeout
from .interrupts import shielded

#: Largest number of input vectors sent in one MAC:BATCh? command (4 MiB block).
MAX_BATCH = 65536
_ERROR_REPLY = re.compile(rb'[+-]?\d+,"')


@dataclass(frozen=True)
class BoardIdentity:
    """Who is on the other end: the board and the die it carries."""

    manufacturer: str
    model: str
    serial: str
    firmware: str
    die_id: str


def block(data: bytes) -> bytes:
    """IEEE 488.2 definite-length block."""
    length = str(len(data)).encode()
    return b"#" + str(len(length)).encode() + length + data


def as_signs(name: str, value: object, shape: tuple[int | None, ...], instrument: str) -> np.ndarray:
    """int8 array of +1/-1 with the given shape, or a CommandError naming ``name``."""
    a = np.asarray(value)
    ok_shape = a.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, a.shape)) and a.size
    if not ok_shape or a.dtype.kind not in "iuf" or not np.all((a == 1) | (a == -1)):
        want = " x ".join("N" if s is None else str(s) for s in shape)
        raise CommandError(instrument, name, -222,
                           f"refused before sending: {name} must be an array of shape ({want}) "
                           f"holding only -1/+1, got shape {a.shape} dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int8)


class MX64Board:
    """The board behind a pyserial URL, with the chip interface of :mod:`labctl.chip`."""

    def __init__(self, url: str, timeout: float = 5.0, baudrate: int = 115200,
                 resync_timeout: float = 10.0) -> None:
        """Open ``url``; ``timeout`` (s) bounds every read, ``resync_timeout`` (s) a resynchronisation."""
        self.url = url
        self.resync_timeout = resync_timeout
        self.name = f"MX64 board at {url}"
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout, write_timeout=timeout)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"{self.name}: cannot open the port: {exc}") from None
        self._tokens = itertools.count(random.SystemRandom().randrange(1, 10**8))
        self.resync()

    # ------------------------------------------------------------- link
    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> "MX64Board":
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

    def _read(self, n: int) -> bytes:
        try:
            data = self._port.read(n)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.name}: port vanished while reading: {exc}") from None
        if len(data) < n:
            raise LinkTimeout(f"{self.name}: timed out after {len(data)} of {n} bytes")
        return data

    def _read_line(self) -> bytes:
        try:
            line = self._port.read_until(b"\n")
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.name}: port vanished while reading: {exc}") from None
        if not line.endswith(b"\n"):
            raise LinkTimeout(f"{self.name}: timed out waiting for a reply line (got {line[:40]!r})")
        return line[:-1]

    def _read_reply(self) -> tuple[bool, bytes]:
        """One reply: (False, ASCII line) or (True, payload of a definite-length block)."""
        head = self._read(1)
        if head == b"\n":
            return False, b""
        if head != b"#":
            return False, head + self._read_line()
        try:
            digits = int(self._read(1))
            length = int(self._read(digits))
        except ValueError:
            raise LinkError(f"{self.name}: malformed block header in reply") from None
        payload = self._read(length)
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
            self._write(b"SYST:SYNC? " + token + b"\n")
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

    def _transact(self, command: str, payload: bytes | None, query: bool) -> bytes | None:
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

    def command(self, command: str, payload: bytes | None = None) -> None:
        """Send a command (and optional block); raise CommandError if the board refuses it."""
        self._transact(command, payload, query=False)

    def query(self, command: str, payload: bytes | None = None) -> bytes:
        """Send a query (and optional block); return its reply (block payload or line)."""
        return self._transact(command, payload, query=True)

    # ------------------------------------------------------ chip interface
    def identify(self) -> BoardIdentity:
        maker, model, serial_no, firmware = self.query("*IDN?").decode().split(",")
        return BoardIdentity(maker, model, serial_no, firmware, self.query("SYST:DIE?").decode().strip('"'))

    def reset(self) -> None:
        self.command("*RST")

    def power_on(self) -> None:
        self.command("POW ON")

    def power_off(self) -> None:
        self.command("POW OFF")

    def is_powered(self) -> bool:
        return self.query("POW?") == b"1"

    def set_clock(self, hz: float) -> None:
        self.command(f"CONF:CLOC {hz!r}")

    def clock(self) -> float:
        return float(self.query("CONF:CLOC?"))

    def set_write_voltage(self, volts: float) -> None:
        self.command(f"CONF:VWR {volts!r}")

    def write_voltage(self) -> float:
        return float(self.query("CONF:VWR?"))

    def set_write_width(self, clocks: int) -> None:
        self.command(f"CONF:WIDT {int(clocks)}")

    def write_width(self) -> int:
        return int(self.query("CONF:WIDT?"))

    def set_read_bias(self, volts: float) -> None:
        self.command(f"CONF:VRE {volts!r}")

    def read_bias(self) -> float:
        return float(self.query("CONF:VRE?"))

    def set_verify_bias(self, volts: float) -> None:
        self.command(f"CONF:VVER {volts!r}")

    def verify_bias(self) -> float:
        return float(self.query("CONF:VVER?"))

    def set_tdc_window(self, start: float, lsb: float, column: int | None = None) -> None:
        where = "" if column is None else f",{int(column)}"
        self.command(f"CONF:TDC:STAR {start!r}{where}")
        self.command(f"CONF:TDC:LSB {lsb!r}{where}")

    def tdc_windows(self) -> tuple[np.ndarray, np.ndarray]:
        start = np.array(self.query("CONF:TDC:STAR?").split(b","), float)
        lsb = np.array(self.query("CONF:TDC:LSB?").split(b","), float)
        return start, lsb

    def select_test_mux(self, column: int | None) -> None:
        self.command("CONF:TMUX OFF" if column is None else f"CONF:TMUX {int(column)}")

    def hold_input(self, x: np.ndarray) -> None:
        self.command("CONF:HOLD", as_signs("x", x, (64,), self.name).tobytes())

    def write_row(self, row: int, weights: np.ndarray) -> None:
        self.command(f"WRIT:ROW {int(row)}", as_signs("weights", weights, (64,), self.name).tobytes())

    def write_array(self, weights: np.ndarray) -> None:
        self.command("WRIT:ARR", as_signs("weights", weights, (64, 64), self.name).tobytes())

    def cycle_writes(self, weights: np.ndarray, cycles: int) -> None:
        """Endurance cycling on the board: -weights then weights, ``cycles`` times; ends holding weights."""
        self.command(f"WRIT:CYCL {int(cycles)}", as_signs("weights", weights, (64, 64), self.name).tobytes())

    def verify_row(self, row: int) -> np.ndarray:
        return np.frombuffer(self.query(f"VER:ROW? {int(row)}"), np.int8).copy()

    def verify_array(self) -> np.ndarray:
        return np.frombuffer(self.query("VER:ARR?"), np.int8).reshape(64, 64).copy()

    def mac(self, x: np.ndarray) -> np.ndarray:
        return np.frombuffer(self.query("MAC?", as_signs("x", x, (64,), self.name).tobytes()), np.uint8).copy()

    def mac_batch(self, x: np.ndarray) -> np.ndarray:
        x = as_signs("x", x, (None, 64), self.name)
        parts = [np.frombuffer(self.query("MAC:BATC?", x[i:i + MAX_BATCH].tobytes()), np.uint8)
                 for i in range(0, x.shape[0], MAX_BATCH)]
        return np.concatenate(parts).reshape(-1, 64)

    def cycle_counter(self) -> int:
        return int(self.query("COUN?"))

    def reset_counter(self) -> None:
        self.command("COUN:RES")

    def errors(self) -> list[tuple[int, str]]:
        """Drain the board's error queue (normally empty: every command checks its own)."""
        found = []
        for _ in range(64):
            code, _, text = self._read_after("SYST:ERR?").partition(",")
            if int(code) == 0:
                break
            found.append((int(code), text.strip('"')))
        return found

    def _read_after(self, query: str) -> str:
        self._write(query.encode() + b"\n")
        try:
            return self._read_line().decode()
        except LinkTimeout:
            self.resync()
            raise
