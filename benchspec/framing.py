"""IEEE 488.2 definite-length blocks and the byte-stream framing of SCPI messages: one implementation for
the board's driver, its firmware, the simulated instruments and the SCPI terminal.

A block is ``#<d><d digits of length><length bytes>`` and can hold any
byte, newlines included.  :class:`Framer` turns a stream of bytes into
command messages (ASCII text ending in a newline, whose last argument may be
a block); framing errors are reported with their SCPI numbers and the
stream resynchronises at the next newline.  :func:`read_block` reads one
block reply from a transport.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Callable

MAX_LINE = 4096                 # bytes of ASCII in one message
MAX_BLOCK = 16 * 1024 * 1024    # bytes in one binary block
_PRINTABLE = re.compile(rb"[^\x20-\x7e\t\r]")


def block(data: bytes) -> bytes:
    """``data`` as a definite-length block."""
    length = str(len(data)).encode()
    return b"#" + str(len(length)).encode() + length + data


class BlockError(ValueError):
    """A reply that is not a well-formed definite-length block."""


def read_block(read: Callable[[int], bytes]) -> bytes:
    """The payload of one block whose ``#`` has been read: ``read(n)`` returns exactly n bytes (or raises)."""
    try:
        digits = int(read(1))
        length = int(read(digits))
    except ValueError:
        raise BlockError("malformed block header") from None
    return read(length)


@dataclass(frozen=True)
class Message:
    """One command message: its text (header and ASCII arguments) and optional block."""

    text: str
    block: bytes | None


@dataclass(frozen=True)
class FramingError:
    """A malformed message that was dropped: SCPI number and description."""

    code: int
    message: str


class Framer:
    """Incremental splitter of a byte stream into :class:`Message` objects."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._discarding = False   # dropping bytes up to the next newline
        self._skip = 0             # block bytes still to drop (oversized block)

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message | FramingError]:
        """Add received bytes; return the complete messages (and framing errors) in order."""
        self._buf += data
        out: list[Message | FramingError] = []
        while True:
            item = self._next()
            if item is None:
                return out
            out.append(item)

    def abandon(self, reason: str) -> FramingError | None:
        """Drop a partial message (the block it waits for never completed)."""
        if not self._buf and not self._skip:
            return None
        self._buf.clear()
        self._skip = 0
        self._discarding = False
        return FramingError(-161, f"Invalid block data; {reason}")

    def _next(self) -> Message | FramingError | None:
        buf = self._buf
        if self._skip:
            n = min(self._skip, len(buf))
            del buf[:n]
            self._skip -= n
            if self._skip:
                return None
            self._discarding = True
        if self._discarding:
            nl = buf.find(b"\n")
            if nl < 0:
                buf.clear()
                return None
            del buf[:nl + 1]
            self._discarding = False
        hash_at = buf.find(b"#")
        nl = buf.find(b"\n")
        if nl >= 0 and (hash_at < 0 or nl < hash_at):
            return self._take_text(nl)
        if hash_at < 0:
            if len(buf) > MAX_LINE:
                buf.clear()
                self._discarding = True
                return FramingError(-363, f"Input buffer overrun; line longer than {MAX_LINE} bytes")
            return None
        if hash_at > MAX_LINE:
            del buf[:hash_at]
            self._discarding = True
            return FramingError(-363, f"Input buffer overrun; line longer than {MAX_LINE} bytes")
        return self._take_block(hash_at)

    def _take_text(self, nl: int) -> Message | FramingError:
        raw = bytes(self._buf[:nl])
        del self._buf[:nl + 1]
        if len(raw) > MAX_LINE:
            return FramingError(-363, f"Input buffer overrun; line longer than {MAX_LINE} bytes")
        if _PRINTABLE.search(raw):
            return FramingError(-101, "Invalid character; non-printable byte outside a block")
        return Message(raw.decode("ascii").strip(), None)

    def _take_block(self, at: int) -> Message | FramingError | None:
        buf = self._buf
        if len(buf) < at + 2:
            return None
        digits = buf[at + 1] - 0x30
        if not 1 <= digits <= 9:
            self._discarding = True
            del buf[:at + 1]   # keep the byte after '#': it may be the newline that ends the message
            return FramingError(-161, "Invalid block data; '#' must be followed by a digit 1-9 "
                                      "(only definite-length blocks)")
        if len(buf) < at + 2 + digits:
            return None
        length_text = bytes(buf[at + 2:at + 2 + digits])
        if not length_text.isdigit():
            self._discarding = True
            del buf[:at + 2]
            return FramingError(-161, f"Invalid block data; length field {length_text!r} is not {digits} digits")
        length = int(length_text)
        start = at + 2 + digits
        if length > MAX_BLOCK:
            head = bytes(buf[:at])
            del buf[:start]
            self._skip = length
            if _PRINTABLE.search(head):
                return FramingError(-101, "Invalid character; non-printable byte outside a block")
            return FramingError(-223, f"Too much data; block of {length} bytes, at most {MAX_BLOCK}")
        if len(buf) < start + length + 1:
            return None
        head = bytes(buf[:at])
        block = bytes(buf[start:start + length])
        nl = buf.find(b"\n", start + length)
        if nl < 0:
            if len(buf) - (start + length) > MAX_LINE:
                del buf[:]
                self._discarding = True
                return FramingError(-363, "Input buffer overrun; no newline after block")
            return None
        tail = bytes(buf[start + length:nl])
        del buf[:nl + 1]
        if _PRINTABLE.search(head):
            return FramingError(-101, "Invalid character; non-printable byte outside a block")
        if tail.strip():
            return FramingError(-102, "Syntax error; data after the block")
        return Message(head.decode("ascii").strip(), block)
