"""pytest plugin for mutation testing (``-p tests.mutation_order``, set in ``[tool.mutmut]``).

mutmut runs a mutant's tests with ``-x``: the first failure kills it.  This
runs them fastest first (by the durations mutmut measured in its stats run,
``mutmut-stats.json`` in its working folder), so that a killed mutant costs
the fastest test that catches it.  It also stops a test that runs more than
``SLOWER`` times its measured duration plus a second: the mutant hung it
(an event search that never ends, a fixed point that never converges), and
the session ends with mutmut's "timeout" status at once, instead of after
mutmut's own limit for all the tests that reach the function (a multiple of
their summed durations).  A hang inside one NumPy call, where no Python
signal handler runs, meets a CPU-time limit a little later instead: the
kernel's SIGXCPU ends the process, which mutmut also counts as a timeout.
Outside mutmut it does nothing.

With ``LABCTL_MUTATION_LOG`` set (``benchmarks/mutation.py --log FILE``)
it appends one JSON line per mutant: its name, the tests run, the exit
status and the seconds its pytest session took, to see where a run's time
goes.

It also imports ``procedures`` while mutmut's ``mutants/`` folder heads
``sys.path``: pytest later puts ``tests/`` there (for ``tests/conftest.py``),
where the package ``tests/procedures`` would take the name, and the
procedures' modules would then come from the editable install's finder, the
unmutated tree (in the normal suite that is what happens, harmlessly).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

import procedures  # noqa: F401  (see the docstring)

#: a test this many times slower than measured (plus one second) is hung by the mutant
SLOWER = 5.0
#: mutmut's exit status for a timeout (mutmut.stats.status_by_exit_code)
TIMEOUT_STATUS = 36

_session: dict = {"started": 0.0, "tests": 0, "durations": {}, "hung": None}


class MutantHung(Exception):
    """A test ran far longer than it does on the unmutated code."""


def _mutant() -> str | None:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return name if "__mutmut_" in name else None


def _measured(nodeid: str) -> float | None:
    durations = _session["durations"]
    return durations.get(nodeid, durations.get(f"mutants/{nodeid}"))


def pytest_sessionstart(session) -> None:
    _session.update(started=time.perf_counter(), tests=0, hung=None)


def pytest_collection_modifyitems(config, items) -> None:
    if _mutant() is None:
        return
    stats = Path("mutmut-stats.json")
    if not stats.exists():
        return
    _session["durations"] = json.loads(stats.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: _measured(item.nodeid) or 1.0)


def _hung(signum, frame) -> None:
    raise MutantHung(f"the test ran more than {SLOWER:g} times its measured duration plus 1 s")


@contextmanager
def _deadline(seconds: float):
    """SIGALRM after ``seconds`` of wall time, and SIGXCPU (fatal) a little after that much CPU time."""
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + 2 * seconds) + 2     # the MAC's worker threads count too
    resource.setrlimit(resource.RLIMIT_CPU, (cpu if soft == resource.RLIM_INFINITY else min(cpu, soft), hard))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _timed(item):
    """Run a test's phase (its fixtures' setup, its call) under the deadline of its measured duration."""
    measured = _measured(item.nodeid) if _mutant() else None
    if measured is None:
        yield
        return
    with _deadline(SLOWER * measured + 1.0):
        outcome = yield
    if outcome.excinfo is not None and outcome.excinfo[0] is MutantHung:
        _session["hung"] = item.nodeid


pytest_runtest_setup = pytest.hookimpl(hookwrapper=True)(_timed)
pytest_runtest_call = pytest.hookimpl(hookwrapper=True)(_timed)


def pytest_runtest_logreport(report) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _session["tests"] += 1


def pytest_sessionfinish(session, exitstatus) -> None:
    mutant = _mutant()
    if mutant and _session["hung"]:
        session.exitstatus = exitstatus = TIMEOUT_STATUS
    log = os.environ.get("LABCTL_MUTATION_LOG")
    if log and mutant:
        line = {"mutant": mutant, "tests": _session["tests"], "exit": int(exitstatus),
                "seconds": round(time.perf_counter() - _session["started"], 4), "hung": _session["hung"]}
        with open(log, "a") as out:
            out.write(json.dumps(line) + "\n")
