"""The twin's fit and check as stored runs: records a monitor and ``labctl runs show`` display."""

from __future__ import annotations

import platform
import time
from typing import Any

import numpy as np

from .. import __version__
from ..store import Store
from .fit import NOT_IDENTIFIED, TwinFit


def _provenance(kind: str, source_runs: list[int], extra: dict | None = None) -> dict:
    return {"software": {"labctl": __version__, "python": platform.python_version(), "numpy": np.__version__},
            "host": platform.node(), "procedure": kind, "source_runs": source_runs, **(extra or {})}


def store_fit(store: Store, fit: TwinFit, source_runs: list[int], output: str) -> int:
    """Store a fit as a ``twin-estimate`` run (no bench: it read only ``source_runs``); its run id.

    Records: one per fitted parameter (value, standard error, unit, source
    runs, method), the maps, what was not identified, and a summary.
    """
    started = time.perf_counter()
    run_id = store.begin_run("twin-estimate", {"source_runs": source_runs, "output": output},
                             _provenance("twin-estimate", source_runs, {"bench": {"source": fit.bench}}))
    for name, e in fit.estimates.items():
        store.record(run_id, name, {"value": e.value, "stderr": e.stderr, "unit": e.unit,
                                    "source_runs": list(e.sources), "method": e.method},
                     {"unit": e.unit, "description": f"fitted {name} with its standard error"})
    for name, array in fit.maps.items():
        store.record(run_id, f"map_{name}", np.asarray(array),
                     {"unit": "V" if name == "comparator_offset" else "ohm",
                      "description": f"measured map {name} (NaN: not measured)",
                      "axes": ["column"] if np.ndim(array) == 1 else ["row", "column", "side"]})
    store.record(run_id, "not_identified", NOT_IDENTIFIED)
    summary = {"parameters": len(fit.estimates), "die": fit.die, "bench": fit.bench, **fit.quality,
               "characterisation_runs": fit.runs, "not_measured": fit.missing, "twin_file": output,
               "wall_time_s": round(time.perf_counter() - started, 3)}
    store.record(run_id, "summary", summary)
    store.event(run_id, "completed")
    return run_id


def store_check(store: Store, results: list[Any], source_runs: list[int], twin_file: str,
                figures: dict[str, bytes]) -> int:
    """Store a check's comparisons as a ``twin-check`` run (a table record and a figure per comparison)."""
    run_id = store.begin_run("twin-check", {"twin": twin_file, "source_runs": source_runs},
                             _provenance("twin-check", source_runs))
    for result in results:
        store.record(run_id, f"comparison_{result.name}", result.row(),
                     {"description": f"{result.name}: measured against the twin's prediction"})
    for name, png in figures.items():
        store.attach(run_id, name, png)
    failed = [r.name for r in results if not r.passed]
    store.record(run_id, "summary", {"comparisons": len(results), "failed": failed,
                                     "likely_causes": {r.name: r.likely_cause for r in results if not r.passed}})
    store.event(run_id, "completed" if not failed else "completed", "" if not failed else
                "bands failed: " + ", ".join(failed))
    return run_id
