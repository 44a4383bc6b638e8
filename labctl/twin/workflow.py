"""The twin's workflow steps as functions: characterise a bench, fit, write the twin file (CLI, tests, benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Callable

from ..bench import BenchConfig, builtin_config
from ..engine import execute
from ..registry import get
from ..store import Store
from .file import write_twin
from .fit import TwinFit, fit_runs
from .runs import store_fit


def builtin_benches(die_seed: int, params: str | Path | None = None) -> list[BenchConfig]:
    """The built-in bench of one die twice: SMU on the test pad, then on the test MTJ (the two sessions)."""
    return [builtin_config(die_seed, smu, params=params) for smu in ("test_pad", "test_mtj")]


def characterise(configs: list[BenchConfig], store: Store, quick: bool, seed: int = 0,
                 progress: Callable | None = None, say: Callable[[str], Any] = lambda text: None) -> list[int]:
    """Run ``twin-fit`` on each bench (one per SMU wiring); the run ids.  A built-in bench skips the
    rehearsal (it is its own twin); any other is rehearsed on its simulated twin first."""
    ids = []
    for config in configs:
        with config.open() as bench:
            ident = bench.chip.identify()
            wired = "" if "SMU on" in bench.source else f", SMU on the {config.wiring.smu.replace('_', ' ')}"
            say(f"bench {bench.source}: die {ident.die_id}{wired}")
            result = execute(get("twin-fit"), {"quick": quick}, bench, store, seed=seed, progress=progress,
                             rehearse_first=not config.builtin, draw_figures=False)
        if result.status != "completed":
            raise KeyboardInterrupt(f"twin-fit run {result.run_id} {result.status}")
        if result.run_id is None:
            raise RuntimeError(f"twin-fit on {config.source} started no run ({result.status})")
        ids.append(result.run_id)
    return ids


def fit_and_write(store: Store, run_ids: list[int], output: str | Path) -> tuple[TwinFit, int, Path]:
    """Fit the stored runs, store the fit as a run, write the twin file: (fit, fit run id, file path)."""
    fit = fit_runs(store, run_ids)
    output = Path(output).resolve()
    fit_run = store_fit(store, fit, run_ids, str(output))
    return fit, fit_run, write_twin(output, fit, fit_run, run_ids)
