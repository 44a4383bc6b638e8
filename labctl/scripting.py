"""Running procedures from a script or a notebook: ``labctl.run_procedure``.

The same checks and the same engine as ``labctl run``: parameters and the
bench's needs are checked, the plan is rehearsed on the bench's simulated
twin (safety limits), then it runs and every record is stored the moment it
exists.  Bench and store may be given open, by path, or left to the
defaults (the built-in simulated bench, the default run store).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .bench import Bench, default_bench, load_bench
from .engine import RunObserver, RunResult, execute
from .progress import TerminalProgress
from .registry import get
from .store import Store


def run_procedure(name: str, bench: Bench | str | Path | None = None, *, store: Store | str | Path | None = None,
                  seed: int | None = None, progress: bool = True, notebook: bool = False,
                  dry_run: bool = False, observer: RunObserver | None = None, **params: Any) -> RunResult:
    """Run procedure ``name`` with ``params`` (its parameters by name, as values or strings).

    ``bench``: an open :class:`~labctl.bench.Bench`, a bench file, or None
    for the built-in simulated bench (opened and closed here).  ``store``: an
    open :class:`~labctl.store.Store`, a path, or None for the default store.
    ``progress`` shows a bar (in a notebook with ``notebook=True``).  Returns
    the run's id, status and summary; ``labctl.load_run(result.run_id)``
    gives its data.  Errors (a bad parameter, a refused limit) raise before
    any instrument is touched.  ``observer`` is told of each part of the run
    as it is stored (``labctl.bluesky.publish.DocumentPublisher``: Bluesky
    callbacks follow the run).
    """
    procedure = get(name)
    owned_bench = not isinstance(bench, Bench)
    opened = bench if isinstance(bench, Bench) else default_bench() if bench is None else load_bench(bench)
    bar = TerminalProgress(notebook=notebook) if progress else None
    try:
        if isinstance(store, Store):
            return execute(procedure, params, opened, store, seed=seed, dry_run=dry_run, progress=bar,
                           observer=observer)
        with Store(store) as opened_store:
            return execute(procedure, params, opened, opened_store, seed=seed, dry_run=dry_run, progress=bar,
                           observer=observer)
    finally:
        if bar is not None:
            bar.close()
        if owned_bench:
            opened.close()
