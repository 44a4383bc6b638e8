"""pytest plugin for mutation testing (``-p tests.mutation_order``, set in ``[tool.mutmut]``).

mutmut runs a mutant's tests with ``-x``: the first failure kills it.  This
runs them fastest first (by the durations mutmut measured in its stats run,
``mutmut-stats.json`` in its working folder), so that a killed mutant costs
the fastest test that catches it.  Outside mutmut it does nothing.

It also imports ``procedures`` while mutmut's ``mutants/`` folder heads
``sys.path``: pytest later puts ``tests/`` there (for ``tests/conftest.py``),
where the package ``tests/procedures`` would take the name, and the
procedures' modules would then come from the editable install's finder, the
unmutated tree (in the normal suite that is what happens, harmlessly).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import procedures  # noqa: F401  (see the docstring)


def pytest_collection_modifyitems(config, items) -> None:
    if not os.environ.get("MUTANT_UNDER_TEST") or "__mutmut_" not in os.environ["MUTANT_UNDER_TEST"]:
        return
    stats = Path("mutmut-stats.json")
    if not stats.exists():
        return
    durations = json.loads(stats.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, durations.get(f"mutants/{item.nodeid}", 1.0)))
