"""Progress of a run: tqdm bars on a terminal (and in a notebook), a plain line per step elsewhere.

The engine reports (task, done, total); a bar per task shows its rate and
remaining time, and the whole run's remaining time comes from the plan's
estimated duration (the rehearsal's wall time) less the time elapsed.  When
stderr is not a terminal, a line per tenth of each task is written instead.
A closed stderr (the terminal went away) stops the run as Ctrl-C does.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from .units import duration


class TerminalProgress:
    """The engine's progress callback: ``progress(task, done, total)``."""

    def __init__(self, stream: Any = None, estimate_s: float | None = None, notebook: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.estimate_s = estimate_s
        self.notebook = notebook
        self.started = time.monotonic()
        self._bars: dict[str, Any] = {}
        self._last: tuple[str, int] = ("", -1)

    def start(self, estimate_s: float | None) -> None:
        """The run begins now and should take about ``estimate_s`` seconds of wall time."""
        self.started, self.estimate_s = time.monotonic(), estimate_s

    def _eta(self) -> str:
        if not self.estimate_s:
            return ""
        elapsed = time.monotonic() - self.started
        if elapsed <= 1.5 * self.estimate_s + 2.0:        # estimates of short runs are rough: no alarm
            return f"run ~{duration(round(max(self.estimate_s - elapsed, 0)))} left"
        return f"run: {duration(round(elapsed))}, past its estimate of {duration(round(self.estimate_s))}"

    def __call__(self, task: str, done: int, total: int) -> None:
        try:
            if self.notebook or self.stream.isatty():
                self._bar(task, done, total)
            else:
                self._line(task, done, total)
        except BrokenPipeError:
            from instruments.interrupts import Abort

            raise Abort("the terminal's error stream was closed") from None

    def _bar(self, task: str, done: int, total: int) -> None:
        if self.notebook:
            from tqdm.notebook import tqdm
        else:
            from tqdm import tqdm
        bar = self._bars.get(task)
        if bar is None:
            bar = self._bars[task] = tqdm(total=total, desc=task, file=self.stream, leave=True,
                                          dynamic_ncols=True)
        bar.total = total
        bar.update(done - bar.n)
        bar.set_postfix_str(self._eta(), refresh=False)
        if done >= total:
            bar.close()
            del self._bars[task]

    def _line(self, task: str, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if (task, int(10 * fraction)) != self._last:
            self._last = (task, int(10 * fraction))
            eta = self._eta()
            self.stream.write(f"{task}: {done}/{total}" + (f" ({eta})" if eta else "") + "\n")
            self.stream.flush()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()
