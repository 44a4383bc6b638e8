"""A store the Bluesky bridge's tests share: a mac-transfer run (a histogram with bin edges, a calibration
recorded per window) and a hand-made run holding every kind of value a record takes."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.bench import default_bench
from labctl.engine import execute
from labctl.registry import get
from labctl.store import Store


@pytest.fixture(scope="session")
def stored(tmp_path_factory):
    """A store with a mac-transfer run and a hand-made run holding every kind of value a record takes."""
    path = tmp_path_factory.mktemp("store") / "runs.sqlite"
    with Store(path) as store, default_bench(2) as bench:
        mac = execute(get("mac-transfer"), {"repeats": 1, "windows": 2}, bench, store, seed=1,
                      draw_figures=False).run_id
        made = store.begin_run("hand-made", {"n": 3, "path": None}, {"host": "h", "seed": 4})
        store.record(made, "trace", np.linspace(0, 1, 20_000), {"unit": "V", "description": "a long trace",
                                                                "axes": ["sample"]})
        for i in range(3):
            store.record(made, "column", np.arange(64, dtype=np.int16) * i, {"unit": "codes", "axes": ["column"]})
            store.record(made, "count", i, {"unit": "bits"})
            store.record(made, "level", 0.5 * i)
        store.record(made, "flag", True)
        store.record(made, "note", "text")
        store.record(made, "ragged", np.zeros(3), {"axes": ["a", "b"]})
        store.record(made, "summary", {"errors": 2, "nested": {"x": [1, 2.5]}, "none": None})
        store.record(made, "mixed", [1, "two", None])
        store.record(made, "nan", np.array([np.nan, np.inf, -1.0]))
        store.event(made, "warning", "a figure could not be drawn")
        store.event(made, "aborted", "interrupted by the user (Ctrl-C); outputs off, data kept")
    return path, mac, made


