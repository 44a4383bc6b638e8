"""What every benchmark shares: timing side by side, repeated, and its figures kept as JSON.

A figure measured on a shared machine moves with the load, so the
benchmarks time the things they compare in the same rounds, interleaved,
and keep the best round of each (the least disturbed; the median is kept
beside it).  Each benchmark writes its figures to
``benchmarks/results/<name>.json`` (``<name>.short.json`` for the gate's
short version; the folder is not committed) and prints them as its last
line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def sized_arguments(doc: str, size: tuple[str, int, int], rounds: tuple[int, int],
                    short: str) -> argparse.Namespace:
    """A side-by-side benchmark's command line: its size option, ``--rounds`` and ``--short`` (the gate's
    version, which sets both to their short values).  ``size`` is (option, default, short value),
    ``rounds`` (default, short value) and ``short`` says what the short version does."""
    option, size_default, size_short = size
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(option, type=int, default=size_default)
    parser.add_argument("--rounds", type=int, default=rounds[0])
    parser.add_argument("--short", action="store_true", help=f"the gate's version: {short}")
    args = parser.parse_args()
    if args.short:
        setattr(args, option.lstrip("-"), size_short)
        args.rounds = rounds[1]
    return args


def timed(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter) -> float:
    """Time of one call on ``clock`` (wall time; ``time.process_time`` for this process's CPU time), s."""
    start = clock()
    fn()
    return clock() - start


def side_by_side(jobs: dict[str, Callable[[], object]], rounds: int,
                 clock: Callable[[], float] = time.perf_counter) -> dict[str, list[float]]:
    """Each job once per round, in turn, ``rounds`` times: every job's times (s) on ``clock``, in round order."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            times[name].append(timed(job, clock))
    return times


def best(times: list[float]) -> float:
    """The least disturbed of repeated times."""
    return min(times)


def median(times: list[float]) -> float:
    return statistics.median(times)


def small_calls_seconds(calls: int = 50_000) -> float:
    """This machine's unit for interpreter-bound work (procedures, plans, drivers): ``calls`` small numpy
    calls on 64 elements from a Python loop, best of three, s."""
    a = np.linspace(0.0, 1.0, 64)

    def run() -> None:
        for _ in range(calls):
            np.add(a, a)
    return best([timed(run) for _ in range(3)])


def one_core() -> None:
    """Keep this process (and what it starts) on one core: a loopback round trip between two threads is then
    never one across cores, which on this machine is at times three times slower (the gate's short round
    trips; Linux only, elsewhere nothing)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def write_results(name: str, figures: dict, short: bool = False) -> Path:
    """Print ``figures`` as one JSON line and keep them (with the time and the machine's load) in results/."""
    record = {**figures, "short": short, "written": time.strftime("%Y-%m-%d %H:%M:%S"),
              "load_average": round(os.getloadavg()[0], 2)}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}{'.short' if short else ''}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(figures))
    return path


def read_results(name: str) -> dict | None:
    """A benchmark's latest figures: its full run's if there is one, else its short run's, else None."""
    for path in (RESULTS / f"{name}.json", RESULTS / f"{name}.short.json"):
        if path.exists():
            return json.loads(path.read_text())
    return None


def write_between_markers(path: Path, begin: str, end: str, lines: list[str]) -> None:
    """Replace what lies between the ``begin`` and ``end`` marker lines of a document with ``lines``: the
    benchmarks' tables in the docs are written, not copied by hand."""
    text = path.read_text()
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no markers {begin} ... {end}")
    path.write_text(pattern.sub(lambda _: "\n".join([begin, *lines, end]), text))
