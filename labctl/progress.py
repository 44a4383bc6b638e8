"""Progress of a run on the terminal."""

from __future__ import annotations

import sys
from typing import Any


class TerminalProgress:
    """A progress bar on stderr (a line per tenth of a task when stderr is not a terminal).

    A closed stderr (the terminal went away) stops the run as Ctrl-C does.
    """

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, task: str, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        try:
            if self.stream.isatty():
                bar = "#" * int(30 * fraction)
                self.stream.write(f"\r{task:22s} [{bar:30s}] {done}/{total}")
                if done >= total:
                    self.stream.write("\n")
                self.stream.flush()
            elif (task, int(10 * fraction)) != self._last:
                self._last = (task, int(10 * fraction))
                self.stream.write(f"{task}: {done}/{total}\n")
                self.stream.flush()
        except BrokenPipeError:
            from .interrupts import Abort

            raise Abort("the terminal's error stream was closed") from None
