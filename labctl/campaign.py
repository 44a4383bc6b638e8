"""Campaigns: one procedure over many simulated dies (and sweep points), on a Dask cluster.

Each task runs the procedure's plan unchanged on a fresh in-process
simulated bench of one die, in a Dask worker, and returns its summary and
the records the procedure marks as campaign outputs.  Only the client writes
the store: one ``campaign`` run, and a child run per task the moment its
result arrives (the results that have arrived together are stored in one
transaction: a task is stored whole or not at all).  A task that raises is a failed child run with its error;
a worker that dies has its tasks rerun by Dask, and a result is stored once.
Running the same campaign again skips the tasks already completed (its new
run says which run it resumes).

Tasks are independent and deterministic: a task's seed is drawn from the
campaign seed, the die and the sweep point, so a task gives bit-identical
results to running the procedure alone on that die with that seed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

import numpy as np

from .procedure import ParameterError, Procedure
from .store import Store

#: runs that hold a campaign are recorded under this procedure name
CAMPAIGN = "campaign"


@dataclass(frozen=True)
class Task:
    die: int
    point: dict                    #: the sweep point's parameters ({} without a sweep)
    seed: int

    @property
    def key(self) -> str:
        return json.dumps([self.die, self.point], sort_keys=True)


@dataclass
class CampaignSpec:
    """What to run: a procedure, dies, fixed parameters, a sweep, a seed."""

    procedure: str
    dies: list[int]
    parameters: dict = field(default_factory=dict)
    sweep: dict[str, list] = field(default_factory=dict)
    seed: int = 0
    smu: str = "test_pad"
    yield_if: str | None = None           #: the yield figure's condition (analysis only, not the key)
    wafer_figure: str | None = None       #: the summary figure the wafer map shows

    def points(self) -> list[dict]:
        names = list(self.sweep)
        return [dict(zip(names, values)) for values in itertools.product(*(self.sweep[n] for n in names))] or [{}]

    def tasks(self) -> list[Task]:
        return [Task(die, point, task_seed(self.seed, die, i)) for i, point in enumerate(self.points())
                for die in self.dies]

    def key(self) -> str:
        """Identifies the campaign: the same procedure, dies, parameters, sweep and seed."""
        text = json.dumps([self.procedure, self.dies, self.parameters, self.sweep, self.seed, self.smu],
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def as_parameters(self) -> dict:
        return {"procedure": self.procedure, "dies": self.dies, "parameters": self.parameters,
                "sweep": self.sweep, "seed": self.seed, "smu": self.smu, "key": self.key(),
                "yield_if": self.yield_if, "wafer_figure": self.wafer_figure}


def task_seed(campaign_seed: int, die: int, point: int) -> int:
    """The seed of one task: the same campaign, die and sweep point always give the same."""
    return int(np.random.default_rng([campaign_seed, die, point]).integers(2**31))


def parse_dies(text: str) -> list[int]:
    """``0-199``, ``3,5,7`` or a mix (``0-9,20``): the die seeds, each once, in order."""
    dies: list[int] = []
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            dies += list(range(int(low), int(high) + 1)) if dash else [int(low)]
    except ValueError:
        raise ParameterError(f"--dies {text!r}: write die seeds as 0-199, 3,5,7 or 0-9,20") from None
    if not dies or min(dies) < 0:
        raise ParameterError(f"--dies {text!r}: at least one die, seeds >= 0")
    return list(dict.fromkeys(dies))


def check(spec: CampaignSpec, procedure: Procedure, store: Store | None = None) -> None:
    """Everything checked before a worker starts: parameters, every sweep point rehearsed on the first
    die's simulated bench (the safety limits), and the yield condition against the summary's figures."""
    from instruments.errors import SafetyLimitError

    from .bench import builtin_config
    from .campaign_plots import Condition
    from .engine import rehearse
    from .procedure import suggest

    condition = Condition.parse(spec.yield_if) if spec.yield_if else None
    config = builtin_config(spec.dies[0], spec.smu)
    procedure.check_bench(config.roles, config.wiring, config.source)
    for name in spec.sweep:
        if name in spec.parameters:
            raise ParameterError(f"--sweep {name} and --param {name}: give it once")
    figures: set[str] = set()
    for point in spec.points():
        params = procedure.resolve({**spec.parameters, **point}, store, options=True)
        label = ", ".join(f"{k}={v}" for k, v in point.items())
        try:
            rehearsal = rehearse(procedure, params, config, spec.seed, store=store)
        except SafetyLimitError as exc:
            raise ParameterError(f"{'--sweep ' + label if label else 'the campaign'}: refused before the "
                                 f"campaign starts: {exc}") from None
        figures |= {k for k, v in rehearsal.summary.items() if isinstance(v, (int, float))
                    and not isinstance(v, bool)}
    named: list[tuple[str, str | None]] = [("--yield-if", condition.name if condition else None),
                                           ("--wafer-figure", spec.wafer_figure)]
    for option, figure_name in named:
        if figure_name is not None and figure_name not in figures:
            raise ParameterError(f"{option} {figure_name!r}: not a figure of {procedure.name}'s summary"
                                 f"{suggest(figure_name, figures)}; its figures: {', '.join(sorted(figures))}")


def referred_runs(procedure: Procedure, spec: CampaignSpec, store: Store) -> dict[int, dict]:
    """The earlier runs the campaign's parameters refer to (a trained network, a calibration), read from
    the client's store for the workers, whose stores hold nothing else: procedure, parameters,
    provenance, records and their metadata, by run id."""
    from .procedure import RunId

    found: dict[int, dict] = {}
    for point in spec.points():
        params = procedure.resolve({**spec.parameters, **point}, store)    # checks that the runs exist
        for name, parameter in procedure.parameters.items():
            if parameter.kind is not RunId or params[name] is None:
                continue
            for run_id in params[name] if parameter.is_list else [params[name]]:
                if run_id not in found:
                    info = store.run(run_id)
                    found[run_id] = {"procedure": info.procedure, "parameters": info.parameters,
                                     "provenance": info.provenance, "records": list(store.records(run_id)),
                                     "meta": store.record_meta(run_id)}
    return found


# ------------------------------------------------------------------ workers
def _copy_referred(store: Store, procedure: Procedure, parameters: dict, referred: dict[int, dict]) -> dict:
    """Store copies of the referred runs in a task's own store; the parameters with their new run ids."""
    from .procedure import RunId

    new_ids = {}
    for run_id, run in referred.items():
        new_ids[run_id] = store.begin_run(run["procedure"], run["parameters"], run["provenance"])
        for name, value in run["records"]:
            store.record(new_ids[run_id], name, value, run["meta"].get(name))
        store.event(new_ids[run_id], "completed")
    params = procedure.resolve(parameters)
    for name, parameter in procedure.parameters.items():
        if parameter.kind is RunId and params[name] is not None:
            params[name] = [new_ids[i] for i in params[name]] if parameter.is_list else new_ids[params[name]]
    return params


def run_task(procedure_name: str, parameters: dict, die: int, seed: int, smu: str,
             outputs: tuple[str, ...], referred: dict[int, dict] | None = None) -> dict:
    """One task, in a worker: the plan on a fresh simulated bench of die ``die``; what the client stores.
    ``referred``: the earlier runs the parameters refer to (``referred_runs``)."""
    from .bench import default_bench
    from .engine import execute
    from .registry import get

    started = time.perf_counter()
    procedure = get(procedure_name)
    with Store(":memory:") as store, default_bench(die, smu=smu) as bench:
        identity = bench.identities()["chip"]
        copies = set()
        try:
            if referred:
                parameters = _copy_referred(store, procedure, parameters, referred)
                copies = set(store.run_ids())
            result = execute(procedure, parameters, bench, store, seed=seed, rehearse_first=False,
                             draw_figures=False)
            status, error = result.status, ""
            summary = result.summary
        except Exception as exc:             # recorded as a failed task; the campaign goes on
            status, error, summary = "failed", f"{type(exc).__name__}: {exc}", {}
        own = [run_id for run_id in store.run_ids() if run_id not in copies]
        records = [(name, value) for run_id in own for name, value in store.records(run_id) if name in outputs]
        meta = {name: m for run_id in own for name, m in store.record_meta(run_id).items()}
    return {"status": status, "error": error, "summary": summary, "records": records, "meta": meta,
            "chip": identity, "seconds": time.perf_counter() - started}


# ------------------------------------------------------------------ client
@dataclass
class CampaignResult:
    run_id: int
    status: str                    #: completed, aborted
    tasks: int
    done_before: int               #: tasks completed by earlier runs of the same campaign
    completed: int
    failed: int
    seconds: float
    task_seconds: float            #: the tasks' own run time, summed
    store_seconds: float           #: time the client spent writing results


def previous_runs(store: Store, spec: CampaignSpec) -> list[int]:
    """Runs of the same campaign, oldest first."""
    return [i for i in store.run_ids() if (info := store.run(i)).procedure == CAMPAIGN
            and info.parameters.get("key") == spec.key()]


def completed_tasks(store: Store, campaign_runs: Iterable[int]) -> set[str]:
    done = set()
    for run_id in campaign_runs:
        for child in store.run_ids(parent=run_id):
            info = store.run(child)
            if info.status == "completed":
                done.add(json.dumps([info.provenance["task"]["die"], info.provenance["task"]["point"]],
                                    sort_keys=True))
    return done


def run_campaign(spec: CampaignSpec, store: Store, client: Any,
                 progress: Callable[[int, int], None] | None = None, checked: bool = False) -> CampaignResult:
    """Run a campaign's tasks on ``client`` (a dask.distributed Client), storing each result as it comes;
    :func:`check` first, unless the caller has (``checked``)."""
    from distributed import as_completed

    from .registry import get

    procedure = get(spec.procedure)
    if not checked:
        check(spec, procedure, store)
    earlier = previous_runs(store, spec)
    if earlier and store.run(earlier[-1]).status == "completed":
        raise ParameterError(f"this campaign is complete already (run {earlier[-1]}); change a parameter or "
                             "the seed to run another")
    done = completed_tasks(store, earlier)
    tasks = [t for t in spec.tasks() if t.key not in done]
    outputs = tuple(procedure.campaign_records)
    referred = referred_runs(procedure, spec, store)
    shared = client.scatter([referred], broadcast=True)[0] if referred else None
    run_id = store.begin_run(CAMPAIGN, spec.as_parameters(), {"client": "labctl campaign",
                                                               "scheduler": str(client.scheduler.address)},
                             resumed_from=earlier[-1] if earlier else None)
    started = time.perf_counter()
    counts = {"completed": 0, "failed": 0}
    task_seconds = store_seconds = 0.0
    futures = {}
    try:
        for task in tasks:
            future = client.submit(run_task, spec.procedure, {**spec.parameters, **task.point}, task.die, task.seed,
                                   spec.smu, outputs, shared,
                                   key=f"task-{spec.key()}-run{run_id}-{task.die}-{task.key}",  # a rerun's own keys
                                   retries=2, pure=False)
            futures[future] = task
        n = 0
        for batch in as_completed(futures).batches():      # every result that has arrived, at once
            results = [(futures.pop(future), _result(future)) for future in batch]
            t0 = time.perf_counter()
            with store.transaction():            # stored whole or not at all, one commit per batch
                for task, result in results:
                    _store_task(store, run_id, spec, task, result)
                n += len(results)
                store.progress(run_id, "campaign", n, len(tasks))
            store_seconds += time.perf_counter() - t0
            for _, result in results:
                task_seconds += result["seconds"]
                counts["completed" if result["status"] == "completed" else "failed"] += 1
            if progress is not None:
                progress(n, len(tasks))
    except KeyboardInterrupt as exc:
        client.cancel(list(futures))
        reason = getattr(exc, "reason", "interrupted by the user (Ctrl-C)")
        store.event(run_id, "aborted", f"{reason}; the tasks stored are kept, a rerun skips them")
        status = "aborted"
    else:
        summary = {"tasks": len(spec.tasks()), "completed_before": len(done), **counts}
        store.record(run_id, "summary", summary)
        store.event(run_id, "completed")
        status = "completed"
    return CampaignResult(run_id, status, len(spec.tasks()), len(done), counts["completed"], counts["failed"],
                          time.perf_counter() - started, task_seconds, store_seconds)


def _result(future: Any) -> dict:
    """A task's result, or a failed result carrying the error Dask reports (a task that kept killing its
    worker, say)."""
    if future.status == "error":
        exc = future.exception()
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "summary": {}, "records": [],
                "meta": {}, "chip": "", "seconds": 0.0}
    return future.result()


def _store_task(store: Store, run_id: int, spec: CampaignSpec, task: Task, result: dict) -> None:
    provenance = {"seed": task.seed, "task": {"die": task.die, "point": task.point},
                  "identities": {"chip": result["chip"]}, "campaign": run_id}
    child = store.begin_run(spec.procedure, {**spec.parameters, **task.point}, provenance, parent=run_id)
    for name, value in result["records"]:
        store.record(child, name, value, result["meta"].get(name))
    if result["status"] == "completed":
        store.record(child, "summary", result["summary"])
        store.event(child, "completed")
    else:
        store.event(child, "failed", result["error"] or result["status"])


def start_client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A Client on ``scheduler``, or on an embedded LocalCluster of ``workers`` processes: (client, cluster)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    # tasks of tens of milliseconds: queue them on the workers, so none waits for the scheduler between two
    dask.config.set({"distributed.scheduler.worker-saturation": float("inf")})
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=40)
    return Client(cluster), cluster
