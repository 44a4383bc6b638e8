"""The run engine: check, dry-run, run with progress, abort cleanly, resume, keep provenance."""

from __future__ import annotations

import dataclasses
import platform
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from instruments.errors import SafetyLimitError

from . import __version__
from .bench import Bench
from .procedure import ParameterError, Plan, Procedure, RunContext
from .store import Store

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class RunResult:
    run_id: int | None
    status: str                    #: completed, aborted, dry-run
    summary: dict = field(default_factory=dict)
    plan: Plan | None = None


def check_plan(plan: Plan, bench: Bench) -> None:
    """Refuse a plan any of whose setpoints breaks the bench's safety limits."""
    bounds = bench.limits.bounds()
    for name, value in plan.setpoints:
        low, high, unit = bounds[name]
        if not low <= value <= high:
            raise SafetyLimitError("plan", name, value, f"{low:g} .. {high:g} {unit}")


class TerminalProgress:
    """A progress bar on stderr (a line per task when stderr is not a terminal)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self._last: tuple[str, int] = ("", -1)

    def __call__(self, task: str, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if self.stream.isatty():
            bar = "#" * int(30 * fraction)
            self.stream.write(f"\r{task:22s} [{bar:30s}] {done}/{total}")
            if done >= total:
                self.stream.write("\n")
            self.stream.flush()
        elif (task, int(10 * fraction)) != self._last:
            self._last = (task, int(10 * fraction))
            self.stream.write(f"{task}: {done}/{total}\n")


def provenance(bench: Bench, procedure: Procedure, params: dict, seed: int) -> dict:
    """Everything needed to know what produced a run's data."""
    return {
        "software": {"labctl": __version__, "python": platform.python_version(), "numpy": np.__version__},
        "host": platform.node(),
        "bench": {"source": bench.source, "virtual_time": bench.virtual,
                  "wiring": dataclasses.asdict(bench.wiring), "rails": dataclasses.asdict(bench.rails),
                  "limits": dataclasses.asdict(bench.limits)},
        "identities": bench.identities(),
        "procedure": procedure.name,
        "parameters": params,
        "seed": seed,
        "bench_time_at_start": bench.clock.now(),
    }


def execute(procedure: Procedure, given: dict[str, Any], bench: Bench, store: Store | None,
            seed: int | None = None, dry_run: bool = False, progress: ProgressCallback | None = None,
            resume: int | None = None) -> RunResult:
    """Run a procedure on a bench, recording into a store.

    Parameters and the plan are checked before any instrument is touched.
    Ctrl-C aborts cleanly (outputs off, data kept, run marked aborted); any
    other exception marks the run failed and is raised.
    """
    resume_state = None
    if resume is not None:
        if store is None:
            raise ParameterError("resume needs a run store")
        earlier = store.run(resume)
        if earlier.procedure != procedure.name:
            raise ParameterError(f"run {resume} is a {earlier.procedure} run, not {procedure.name}")
        given = {**earlier.parameters, **given}
        seed = earlier.provenance.get("seed") if seed is None else seed
        resume_state = store.last_checkpoint(resume)
        if resume_state is None:
            raise ParameterError(f"run {resume} has no checkpoint to resume from")
    params = procedure.resolve(given)
    missing = [role for role in procedure.needs if role not in bench.instruments]
    if missing:
        raise ParameterError(f"procedure {procedure.name} needs a {', '.join(missing)} on the bench "
                             f"({bench.source} has {', '.join(bench.instruments) or 'none'})")
    plan = procedure.plan(params, bench)
    check_plan(plan, bench)
    if dry_run:
        return RunResult(None, "dry-run", {}, plan)
    if store is None:
        raise ParameterError("a run needs a store")
    seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
    run_id = store.begin_run(procedure.name, params, provenance(bench, procedure, params, seed), resume)
    ctx = RunContext(bench, store, run_id, seed, progress or (lambda *a: None), resume_state,
                     store.path.parent / "plots" / f"run-{run_id}")
    started = time.perf_counter()
    try:
        summary = procedure.run(ctx, params)
    except KeyboardInterrupt:
        bench.safe_state()
        store.event(run_id, "aborted", "interrupted by the user; outputs off, data kept")
        return RunResult(run_id, "aborted", {}, plan)
    except BaseException as exc:
        bench.safe_state()
        store.event(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    summary = {**summary, "wall_time_s": round(time.perf_counter() - started, 3)}
    store.record(run_id, "summary", summary)
    store.event(run_id, "completed")
    return RunResult(run_id, "completed", summary, plan)
