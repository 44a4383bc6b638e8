"""SCPI as the simulated instruments, the board's firmware and the drivers share it: header patterns,
argument parsing with the standard error numbers, the error queue, the identification.

Standard error numbers (SCPI-99): -100 command error, -101 invalid
character, -102 syntax error, -104 data type error, -108 parameter not
allowed, -109 missing parameter, -113 undefined header, -161 invalid block
data, -221 settings conflict, -222 data out of range, -223 too much data,
-224 illegal parameter value, -241 hardware missing, -350 queue overflow,
-363 input buffer overrun.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from collections.abc import Sequence


class SCPIError(Exception):
    """A command failed: SCPI number and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Identity:
    """Who answers: the four fields of ``*IDN?``, and the die a board carries (else empty)."""

    manufacturer: str
    model: str
    serial: str
    firmware: str
    die_id: str = ""

    def idn(self) -> str:
        """The IEEE 488.2 identification string."""
        return f"{self.manufacturer},{self.model},{self.serial},{self.firmware}"

    @classmethod
    def parse(cls, idn: str, die_id: str = "") -> Identity:
        parts = [p.strip() for p in idn.split(",")] + ["", "", "", ""]
        return cls(parts[0], parts[1], parts[2], parts[3], die_id)


class ErrorQueue:
    """The instrument's error queue: oldest first; on overflow the newest entry becomes -350."""

    def __init__(self, length: int) -> None:
        self.length = length
        self._entries: deque[tuple[int, str]] = deque()

    def push(self, code: int, message: str) -> None:
        if len(self._entries) >= self.length:
            self._entries[-1] = (-350, "Queue overflow")
        else:
            self._entries.append((code, message))

    def pop(self) -> tuple[int, str]:
        """The oldest error, or (0, 'No error')."""
        return self._entries.popleft() if self._entries else (0, "No error")

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def reply(self) -> str:
        """``SYSTem:ERRor?``'s reply: the oldest error as ``<number>,"<text>"``."""
        code, message = self.pop()
        return f'{code:+d},"{message.replace(chr(34), chr(39))}"'


# ----------------------------------------------------------------- arguments
def _argument(args: Sequence[str], i: int, name: str) -> str:
    """Argument ``i`` as given, or SCPI error -109 naming the missing ``name``."""
    if i >= len(args) or not args[i]:
        raise SCPIError(-109, f"Missing parameter; {name}")
    return args[i]


def number(args: Sequence[str], i: int, name: str, low: float, high: float,
           default: float | None = None) -> float:
    """Argument ``i`` as a number in [low, high]; MIN, MAX and DEF are accepted."""
    word = _argument(args, i, name).strip().upper()
    if word in ("MIN", "MINIMUM"):
        return low
    if word in ("MAX", "MAXIMUM"):
        return high
    if word in ("DEF", "DEFAULT") and default is not None:
        return default
    try:
        value = float(word)
    except ValueError:
        raise SCPIError(-104, f"Data type error; {name} expects a number, got {args[i]!r}") from None
    if not low <= value <= high:
        raise SCPIError(-222, f"Data out of range; {name} {value:g} outside {low:g} to {high:g}")
    return value


def boolean(args: Sequence[str], i: int, name: str) -> bool:
    """Argument ``i`` as ON/OFF/1/0."""
    word = _argument(args, i, name).strip().upper()
    if word in ("ON", "1"):
        return True
    if word in ("OFF", "0"):
        return False
    raise SCPIError(-224, f"Illegal parameter value; {name} expects ON or OFF, got {args[i]!r}")


def unquoted(text: str) -> str:
    """A string argument without its quotes: SCPI takes 'single' and "double" quotes alike."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def choice(args: Sequence[str], i: int, name: str, options: dict[str, str]) -> str:
    """Argument ``i`` (quoted or not) as one of ``options`` (accepted spellings -> canonical value)."""
    word = unquoted(_argument(args, i, name)).upper()
    if word not in options:
        raise SCPIError(-224, f"Illegal parameter value; {name} {args[i]!r}")
    return options[word]


def channel_list(text: str, allowed: Sequence[int]) -> list[int]:
    """SCPI channel list ``(@1)``, ``(@1,3)`` or ``(@1:3)``."""
    m = re.fullmatch(r"\(@([\d,:\s]+)\)", text.strip())
    if not m:
        raise SCPIError(-104, f"Data type error; channel list expected, got {text!r}")
    channels: list[int] = []
    for part in m.group(1).split(","):
        first, _, last = part.strip().partition(":")
        channels.extend(range(int(first), int(last or first) + 1))
    bad = [c for c in channels if c not in allowed]
    if bad:
        raise SCPIError(-222, f"Data out of range; channel {bad[0]} not in {list(allowed)}")
    return channels


def short_form(pattern: str) -> str:
    """The short form of a header pattern, as a driver sends it: ``SYSTem:ERRor[:NEXT]?`` -> ``SYST:ERR?``."""
    bare = re.sub(r"\[[^\]]*\]", "", pattern)
    query = bare.endswith("?")
    nodes = [node for node in bare.rstrip("?").split(":") if node]
    short = ":".join("".join(c for c in node if c.isupper() or c == "*" or c.isdigit()) or node for node in nodes)
    return short + ("?" if query else "")


def split_arguments(text: str) -> list[str]:
    """Comma-separated arguments; commas inside ``(@...)`` and inside either kind of quotes do not split."""
    args, depth, quote, current = [], 0, "", ""
    for ch in text:
        if ch in "\"'" and (not quote or ch == quote):
            quote = "" if quote else ch
        elif ch == "(" and not quote:
            depth += 1
        elif ch == ")" and not quote:
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip() or args:
        args.append(current.strip())
    return args


class Header:
    """An SCPI header pattern such as ``SYSTem:ERRor[:NEXT]?``.

    Each mnemonic matches its short form (the capitals) or its long form,
    in any case; bracketed nodes are optional; a trailing ``?`` is a query.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.query = pattern.endswith("?")
        parts = re.findall(r"(\[?):?([A-Za-z*]+)\]?", pattern.rstrip("?"))
        nodes = []
        for optional, mnemonic in parts:
            short = "".join(c for c in mnemonic if c.isupper() or c == "*")
            forms = sorted({short, mnemonic.upper()}, key=len, reverse=True)
            nodes.append(("(?:" + "|".join(map(re.escape, forms)) + ")", bool(optional)))
        regex, leading = ":?", True
        for alt, optional in nodes:
            if leading and optional:          # e.g. [SOURce:]VOLTage: the node and its colon may go
                regex += f"(?:{alt}:)?"
            elif leading:
                regex += alt
                leading = False
            else:
                regex += f"(?::{alt})?" if optional else f":{alt}"
        regex += r"\?" if self.query else ""
        self._regex = re.compile(regex + r"\Z", re.IGNORECASE)

    def matches(self, header: str) -> bool:
        return self._regex.match(header) is not None
