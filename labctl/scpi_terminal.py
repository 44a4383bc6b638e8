"""``labctl scpi RESOURCE``: a raw SCPI terminal on an instrument or the board.

Type a command; a query (with ``?``) prints its reply; after every line the
instrument's error query (``SYST:ERR?`` unless told otherwise) is checked and
an error is printed.  VISA resource strings go through PyVISA (pyvisa-py);
``socket://``, ``loop://``, ``/dev/...`` and ``COM...`` through pyserial.
Binary block replies are printed as their length and first bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchspec.framing import BlockError, read_block
from instruments.errors import InstrumentError, LinkError, LinkTimeout
from instruments.scpi import VISA_RESOURCE, VisaAdapter

from .limit_watch import LimitWatch, command_set_of

try:
    import readline
except ImportError:  # pragma: no cover
    readline = None  # type: ignore[assignment]

SERIAL_PREFIXES = ("socket://", "loop://", "rfc2217://", "/dev/", "COM")


class SerialLineAdapter:
    """A pyserial port with newline-terminated messages."""

    def __init__(self, url: str, timeout: float, termination: str) -> None:
        import serial

        self._serial = serial
        self.resource = url
        self.term = termination.encode()
        try:
            self.port = serial.serial_for_url(url, timeout=timeout, write_timeout=timeout)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"{url}: cannot open: {exc}") from None

    def write(self, command: str) -> None:
        try:
            self.port.write(command.encode() + self.term)
        except (self._serial.SerialException, OSError) as exc:
            raise LinkError(f"{self.resource}: {exc}") from None

    def query(self, command: str) -> str:
        self.write(command)
        try:
            head = self.port.read(1)
            if head == b"#":                                # definite-length block
                data = read_block(self.port.read)
                self.port.read(1)
                more = " ..." if len(data) > 16 else ""
                return f"<block of {len(data)} bytes: {data[:16].hex(' ')}{more}>"
            line = head if head == self.term[-1:] else head + self.port.read_until(self.term[-1:])
        except (self._serial.SerialException, OSError, ValueError, BlockError) as exc:
            raise LinkError(f"{self.resource}: {exc}") from None
        if not line.endswith(self.term[-1:]):
            raise LinkTimeout(f"{self.resource}: no reply to {command!r} (timeout)")
        return line.decode(errors="replace").strip()

    def close(self) -> None:
        self.port.close()


def _confirm(problems: list[str]) -> bool:
    """Say what a line would break and ask whether to send it anyway (no, unless the user types y)."""
    for problem in problems:
        print(f"warning: {problem}")
    try:
        return input("beyond the bench's safety limits: send it anyway? [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def open_resource(resource: str, timeout: float, termination: str) -> Any:
    if resource.startswith(SERIAL_PREFIXES):
        return SerialLineAdapter(resource, timeout, termination)
    return VisaAdapter(resource, read_termination=termination, write_termination=termination, timeout=timeout)


def run_terminal(resource: str, timeout: float = 5.0, termination: str = "\n",
                 error_query: str | None = "SYST:ERR?", history: Path | None = None,
                 limits: Any = None) -> int:
    """The terminal on ``resource``; it identifies the instrument (``*IDN?``) before its prompt.  ``limits``
    (the drivers' :class:`~instruments.scpi.Limits` of a bench) makes it ask before sending a value beyond
    one to an instrument whose model it knows."""
    if not resource.startswith(SERIAL_PREFIXES) and not VISA_RESOURCE.fullmatch(resource):
        print(f"labctl scpi: {resource}: neither a VISA resource (TCPIP::host::port::SOCKET, GPIB0::5::INSTR, "
              "USB0::...) nor a serial port (socket://host:port, /dev/ttyACM0, COM3)", file=sys.stderr)
        return 2
    try:
        adapter = open_resource(resource, timeout, termination)
        identity = adapter.query("*IDN?")
    except LinkTimeout:
        print(f"labctl scpi: {resource}: no reply to *IDN? within {timeout:g} s (is it an instrument, and is "
              "--termination right? Lake Shore: \\r\\n)", file=sys.stderr)
        adapter.close()
        return 1
    except InstrumentError as exc:
        print(f"labctl scpi: {exc}", file=sys.stderr)
        return 1
    if readline is not None and history is not None and history.exists():
        readline.read_history_file(history)
    spec = command_set_of(identity) if limits is not None else None
    watch = LimitWatch(spec, limits) if spec is not None and limits is not None else None
    print(f"SCPI terminal on {resource}: {identity}; queries end in '?'; exit or Ctrl-D to leave")
    if spec is not None and watch is not None:
        print(f"  a {spec.role} ({', '.join(spec.models)}): lines that set a value beyond a bench safety limit "
              "ask before they are sent")
    try:
        while True:
            try:
                line = input("scpi> ").strip()
            except EOFError:
                print()
                break
            except KeyboardInterrupt:
                print()
                continue
            if not line:
                continue
            if line.lower() in ("exit", "quit"):
                break
            problems = watch.breaches(line) if watch is not None else []
            if watch is not None and problems and not _confirm(problems):
                watch.forget()
                print("not sent")
                continue
            try:
                try:
                    if "?" in line:
                        reply = adapter.query(line)
                        print(reply if reply else "(empty reply: the query failed)")
                    else:
                        adapter.write(line)
                except LinkTimeout as exc:
                    print(f"no reply: {exc}")         # a refused query answers nothing: ask why
                if error_query:
                    reply = adapter.query(error_query)
                    if reply.split(",")[0].strip().lstrip("+") not in ("0", ""):
                        print(f"error: {reply}")
            except LinkTimeout as exc:
                print(f"no reply: {exc}")
            except LinkError as exc:
                print(f"link lost: {exc}", file=sys.stderr)
                return 1
    finally:
        adapter.close()
        if readline is not None and history is not None:
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)
    return 0
