"""pytest plugin for mutation testing (``-p tests.mutation_order``, set in ``[tool.mutmut]``).

mutmut runs a mutant's tests with ``-x``: the first failure kills it.  This
runs them fastest first (by the durations mutmut measured in its stats run,
``mutmut-stats.json`` in its working folder), so that a killed mutant costs
the fastest test that catches it.  Outside mutmut it does nothing.

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
import time
from pathlib import Path

import procedures  # noqa: F401  (see the docstring)


def _mutant() -> str | None:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return name if "__mutmut_" in name else None


_session: dict[str, float] = {"started": 0.0, "tests": 0}


def pytest_sessionstart(session) -> None:
    _session.update(started=time.perf_counter(), tests=0)


def pytest_runtest_logreport(report) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _session["tests"] += 1


def pytest_sessionfinish(session, exitstatus) -> None:
    log, mutant = os.environ.get("LABCTL_MUTATION_LOG"), _mutant()
    if log and mutant:
        line = {"mutant": mutant, "tests": _session["tests"], "exit": int(exitstatus),
                "seconds": round(time.perf_counter() - _session["started"], 4)}
        with open(log, "a") as out:
            out.write(json.dumps(line) + "\n")


def pytest_collection_modifyitems(config, items) -> None:
    if _mutant() is None:
        return
    stats = Path("mutmut-stats.json")
    if not stats.exists():
        return
    durations = json.loads(stats.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, durations.get(f"mutants/{item.nodeid}", 1.0)))
