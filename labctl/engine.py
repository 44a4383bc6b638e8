"""The run engine: one consumer of plans, for the real run, the dry-run and resume.

:func:`rehearse` drives a plan on the simulated twin of a bench (the built-in
simulated bench with the same roles, wiring, rails, limits and die seed):
every value a driver checks against the safety limits is collected, the
first that breaks one refuses the plan, and the twin's clock measures how
long the run will take.  That is the dry-run, and the check every real run
passes before anything reaches an instrument.  :func:`execute` then drives
the same plan on the real bench: records are stored as they are yielded;
Ctrl-C, SIGTERM, SIGHUP or a broken pipe (:class:`Abort`) turn every output
off and mark the run aborted; an exception marks it failed with its
traceback summary; either way everything recorded so far is kept.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import platform
import random
import re
import sys
import time
import traceback
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Callable

import numpy as np

from instruments.errors import SafetyLimitError

from . import __version__
from .bench import RAILS, Bench, BenchConfig
from instruments.interrupts import Abort, shielded
from .plan import (Call, Checkpoint, Compute, Context, Load, Message, Plot, Progress, Read, Record, RunContext, Set,
                   SubRun, Wait)
from .procedure import ParameterError, Procedure
from .rundata import read_run
from .store import Store
from .nominal_chip import NominalArray
from .targets import resolve

ProgressCallback = Callable[[str, int, int], None]


class RunObserver(Protocol):
    """Told of each part of a run the moment the engine has stored it (a live publisher of the run):
    its start, each record (with the time stored, s since the epoch), its end status.  An observer that
    raises is dropped, with a warning on the run, and the run goes on."""

    def run_started(self, store: Store, run_id: int) -> None: ...
    def recorded(self, store: Store, run_id: int, name: str, value: Any, meta: dict, when: float) -> None: ...
    def run_ended(self, store: Store, run_id: int) -> None: ...
#: MAC vectors a rehearsal really computes per batch; the rest repeat them (their codes steer nothing
#: the safety check or the duration depends on), and their chip time and compute time are extrapolated.
REHEARSAL_MAC_SAMPLE = 2048
#: MAC vectors of the first large batch of a rehearsal, timed to extrapolate the compute time of the rest
REHEARSAL_MAC_COST_SAMPLE = 16384
#: Estimated wall time of one command and reply over a socket or serial link, s.
LINK_ROUND_TRIP_S = 0.4e-3


#: the engine's checkpoint between a plan and its analysis: a run resumed from it runs the analysis only
PLAN_DONE = "plan_done"
#: what :meth:`Interpreter.carry_out` answers for a message that is not about the bench
NOT_FOR_THE_BENCH = object()


class RehearsalError(ParameterError):
    """The plan failed on the simulated twin of the bench, so it is not run on the bench itself."""


class RehearsalInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a signal) during the rehearsal: no run was started and nothing reached the bench."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = f"{reason} during the rehearsal: no run was started, nothing was sent to the bench"


# ------------------------------------------------------------------ messages
class Interpreter:
    """Carries out Set, Read, Call and Wait on a bench; targets as :mod:`labctl.plan` describes them."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench

    def _owner(self, target: str) -> tuple[Any, str]:
        head, _, rest = target.partition(".")
        if not rest:
            raise ParameterError(f"plan target {target!r}: write it as <thing>.<name>")
        if head == "chip":
            owner: Any = self.bench.chip
        elif head == "bench":
            owner = self.bench
        elif head in self.bench.instruments:
            owner = self.bench.instruments[head]
        else:
            raise ParameterError(f"plan target {target!r}: this bench ({self.bench.source}) has no {head}")
        *path, name = rest.split(".")
        for part in path:
            match = re.fullmatch(r"ch(\d+)", part)
            if match is None:
                raise ParameterError(f"plan target {target!r}: {part!r} is not a channel (ch<N>)")
            owner = owner.ch[int(match.group(1))]
        return owner, name

    def set(self, target: str, value: Any) -> None:
        if target.startswith("rail."):
            return self._set_rail(target[5:], value)
        owner, name = self._owner(target)
        setattr(owner, name, value)

    def read(self, target: str) -> Any:
        if target.startswith("rail."):
            rail = self._rail(target[5:])
            if "supply" in self.bench.instruments:
                return self.bench.rail_channel(rail).voltage
            return self.bench.chip.write_voltage
        owner, name = self._owner(target)
        value = getattr(owner, name)
        return value() if callable(value) else value

    def call(self, target: str, args: tuple, kwargs: dict) -> Any:
        owner, name = self._owner(target)
        method = getattr(owner, name)
        if not callable(method):
            raise ParameterError(f"plan target {target!r} is a setting: Set or Read it")
        return method(*args, **kwargs)

    def wait(self, seconds: float) -> None:
        self.bench.wait(seconds)

    def carry_out(self, message: Message) -> Any:
        """Set, Read, Call and Wait on the bench; :data:`NOT_FOR_THE_BENCH` for any other message.

        A stop request (Ctrl-C, a signal) is held until a Set, Read or Call is
        complete, so that no exchange with an instrument is cut in half.
        """
        if isinstance(message, Wait):
            return self.wait(message.seconds)
        if isinstance(message, (Set, Read, Call)):
            resolve(message.target, type(message).__name__)
        with shielded():
            if isinstance(message, Set):
                return self.set(message.target, message.value)
            if isinstance(message, Read):
                return self.read(message.target)
            if isinstance(message, Call):
                return self.call(message.target, message.args, message.kwargs)
        return NOT_FOR_THE_BENCH

    @staticmethod
    def _rail(name: str) -> str:
        if name not in RAILS:
            raise ParameterError(f"plan target rail.{name}: rails are {', '.join(RAILS)}")
        return name

    def _set_rail(self, name: str, volts: float) -> None:
        rail = self._rail(name)
        if "supply" in self.bench.instruments:
            self.bench.rail_channel(rail).voltage = volts
        elif rail == "vwrite":
            self.bench.chip.write_voltage = volts       # the board checks the vwrite limit itself
        else:
            raise ParameterError(f"plan target rail.{rail}: without a supply only the board's vwrite "
                                 "regulator can be set")


# ----------------------------------------------------------------- driving
def drive(plan: Any, handle: Callable[[Message], Any]) -> Any:
    """Send each message of ``plan`` to ``handle`` and its answer back; return the plan's return value.

    An exception while a message is carried out (Ctrl-C included) is thrown
    into the plan, so that its ``finally`` clauses run and may still yield
    messages (putting a rail back, say).
    """
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            message = plan.throw(error) if error is not None else plan.send(reply)
        except StopIteration as stop:
            return stop.value
        reply, error = None, None
        try:
            reply = handle(message)
        except BaseException as exc:
            error = exc


def run_direct(plan: Any, bench: Bench, seed: int = 0) -> Any:
    """Carry out a plan's bench messages at once, storing nothing (the console's commands); its result."""
    interpreter = Interpreter(bench)
    context = _context(bench, seed, None)

    def handle(message: Message) -> Any:
        answer = interpreter.carry_out(message)
        if answer is not NOT_FOR_THE_BENCH:
            return answer
        if isinstance(message, Compute):
            return message.function(*message.args, **message.kwargs)
        return context if isinstance(message, Context) else None

    return drive(plan, handle)


def _context(bench: Bench, seed: int, resume: dict | None, kept: Any = None) -> RunContext:
    """A run's context; the plan gets its own copy of the checkpoint (the rehearsal's changes stay there)."""
    return RunContext(seed, np.random.default_rng(seed), copy.deepcopy(resume), frozenset(bench.instruments),
                      bench.wiring, bench.rails, bench.limits, kept)


# --------------------------------------------------------------- rehearsal
@dataclass
class Rehearsal:
    """What a plan did on the simulated twin of a bench."""

    checks: list[tuple[str, float]] = field(default_factory=list)   #: (limit, value) in order
    bench_s: float = 0.0          #: bench time the run will take (chip, instruments, waits), s
    wall_s: float = 0.0           #: estimated wall time on the bench, s
    messages: int = 0
    mac_vectors: int = 0
    summary: dict = field(default_factory=dict)   #: what the plan returned on the twin (its figures' names)

    def limits_checked(self) -> dict[str, tuple[float, float]]:
        """Per limit, the lowest and highest value the run sends."""
        spans: dict[str, tuple[float, float]] = {}
        for name, value in self.checks:
            low, high = spans.get(name, (value, value))
            spans[name] = (min(low, value), max(high, value))
        return spans


class _RehearsalHandler:
    def __init__(self, twin: Bench, context: RunContext, rehearsal: Rehearsal, store: Store | None,
                 nominal: bool = False) -> None:
        self.twin, self.context, self.rehearsal, self.store = twin, context, rehearsal, store
        self.interpreter = Interpreter(twin)
        #: the array answered at its nominal behaviour (``@procedure(rehearsal="nominal")``), else None
        self.array = NominalArray(twin.chip) if nominal else None
        self.children = 0                       #: child runs of the plan being rehearsed so far
        self.skipped_chip_s = 0.0
        self.skipped_compute_s = 0.0
        self.seconds_per_vector: float | None = None

    def __call__(self, message: Message) -> Any:
        self.rehearsal.messages += 1
        if isinstance(message, Call) and message.target == "chip.mac_batch":     # counted whoever answers it
            self.rehearsal.mac_vectors += len(message.args[0] if message.args else message.kwargs["x"])
        if self.array is not None and isinstance(message, Call) and self.array.handles(message.target):
            resolve(message.target, "Call")
            return self.array.call(message.target, message.args, message.kwargs)
        if isinstance(message, Call) and message.target == "chip.mac_batch":
            return self._mac_batch(*message.args, **message.kwargs)
        if self.array is not None and isinstance(message, (Set, Call)):
            self.array.changed()
        answer = self.interpreter.carry_out(message)
        if answer is not NOT_FOR_THE_BENCH:
            return answer
        if isinstance(message, Context):
            return self.context
        if isinstance(message, Compute):
            return (message.stub or message.function)(*message.args, **message.kwargs)
        if isinstance(message, Load):
            return _load(self.store, message.run_id)
        if isinstance(message, SubRun):
            from .registry import get

            child = get(message.name)
            params = child.resolve(message.parameters)
            child.check_bench(self.twin.instruments, self.twin.wiring, self.twin.source)
            self.children += 1
            parent = self.context, self.children
            self.context = _context(self.twin, child_seed(self.context.seed, message.key or str(self.children)),
                                    None)
            self.children = 0
            try:
                return {**(drive(child(**params), self) or {}), "run_id": None}
            finally:
                self.context, self.children = parent
        return None                           # Record, Checkpoint, Progress, Plot: nothing to store

    def _mac_batch(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        n = len(x)
        chip = self.twin.chip
        if n <= REHEARSAL_MAC_SAMPLE:
            return chip.mac_batch(x)
        sample = REHEARSAL_MAC_SAMPLE
        if self.seconds_per_vector is None:    # a batch large enough that the cost per vector has settled
            sample = min(n, REHEARSAL_MAC_COST_SAMPLE)
            started = time.perf_counter()
            codes = chip.mac_batch(x[:sample])
            self.seconds_per_vector = (time.perf_counter() - started) / sample
        else:
            codes = chip.mac_batch(x[:sample])
        skipped = n - sample
        self.skipped_compute_s += self.seconds_per_vector * skipped
        self.skipped_chip_s += skipped / chip.clock_hz
        return np.resize(codes, (n, codes.shape[1]))


def _load(store: Store | None, run_id: int) -> Any:
    if store is None:
        raise ParameterError(f"run {run_id} is needed, and there is no run store")
    return read_run(store, run_id)


def rehearse(procedure: Procedure, params: dict, config: BenchConfig, seed: int = 0,
             resume: dict | None = None, store: Store | None = None, kept: Any = None) -> Rehearsal:
    """Run the plan on the simulated twin of ``config``'s bench; refuse it if a set breaks a limit.

    Raises :class:`SafetyLimitError` naming the limit, or :class:`RehearsalError`
    if the plan fails on the twin.
    """
    rehearsal = Rehearsal()
    if resume is not None and PLAN_DONE in resume:            # only the analysis is left: nothing reaches the bench
        return rehearsal
    with config.twin().open() as twin:
        procedure.check_bench(twin.instruments, twin.wiring, config.source)
        twin.checks.log = rehearsal.checks
        handler = _RehearsalHandler(twin, _context(twin, seed, resume, kept), rehearsal, store,
                                    nominal=procedure.rehearsal == "nominal")
        started_wall, started_bench = time.perf_counter(), twin.clock.now()
        try:
            rehearsal.summary = drive(procedure(**params), handler) or {}
        except SafetyLimitError:
            raise
        except (ParameterError, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise RehearsalError(f"procedure {procedure.name} fails on the simulated twin of the bench, so it is "
                                 f"not run: {type(exc).__name__}: {exc}") from exc
        finally:
            twin.checks.log = None             # closing the twin is not the plan's doing
        nominal_chip_s, nominal_compute_s = (handler.array.chip_s, handler.array.compute_s) if handler.array \
            else (0.0, 0.0)
        rehearsal.bench_s = twin.clock.now() - started_bench + handler.skipped_chip_s + nominal_chip_s
        compute_s = time.perf_counter() - started_wall + handler.skipped_compute_s + nominal_compute_s
    rehearsal.wall_s = _wall_estimate(config, rehearsal, compute_s)
    return rehearsal


def _wall_estimate(config: BenchConfig, rehearsal: Rehearsal, compute_s: float) -> float:
    """In process: the twin's own compute time.  Over links: plus a round trip per message.  On real
    time: plus the bench time itself."""
    if config.builtin:
        return compute_s
    wall = compute_s + rehearsal.messages * 2 * LINK_ROUND_TRIP_S
    return wall if config.clock is not None else wall + rehearsal.bench_s


# --------------------------------------------------------------- real runs
@dataclass
class RunResult:
    run_id: int | None
    status: str                    #: completed, aborted, dry-run
    summary: dict = field(default_factory=dict)
    rehearsal: Rehearsal | None = None


def provenance(bench: Bench, procedure: Procedure, params: dict, seed: int) -> dict:
    """Everything needed to know what produced a run's data."""
    return {
        "software": {"labctl": __version__, "python": platform.python_version(), "numpy": np.__version__},
        "host": platform.node(),
        "chip_model": _chip_model(bench),
        "bench": {"source": bench.source, "virtual_time": bench.virtual,
                  "wiring": dataclasses.asdict(bench.wiring), "rails": dataclasses.asdict(bench.rails),
                  "limits": dataclasses.asdict(bench.limits)},
        "identities": bench.identities(),
        "settings": bench.settings(),
        "procedure": procedure.name,
        "parameters": params,
        "seed": seed,
        "bench_time_at_start": bench.clock.now(),
    }


def _chip_model(bench: Bench) -> dict:
    """The simulated die's parameter file and its overrides ({} for a real chip or the model's own values)."""
    path = bench.config.params if bench.config is not None else None
    if path is None:
        return {}
    from .params_file import read_params_file

    given = read_params_file(path)
    return {"params_file": str(path), "overrides": given.overrides, "twin": given.twin}


def child_seed(parent_seed: int, key: str) -> int:
    """The seed of a parent run's child run named by ``key``: the same parent seed and key, the same seed."""
    return int(np.random.default_rng([parent_seed, zlib.crc32(key.encode())]).integers(2**31))


def _failure_summary(exc: BaseException) -> str:
    """``Type: message (at file:line in function)`` of the innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})" \
        if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


class _RunHandler:
    """Carries out one run's messages on the real bench, storing what it yields at once."""

    def __init__(self, engine: _Engine, procedure: Procedure, run_id: int, context: RunContext) -> None:
        self.engine, self.procedure, self.run_id, self.context = engine, procedure, run_id, context
        self._progress_stored = 0.0
        self.children = 0                       #: child runs started so far

    def __call__(self, message: Message) -> Any:
        engine, store = self.engine, self.engine.store
        answer = engine.interpreter.carry_out(message)
        if answer is not NOT_FOR_THE_BENCH:
            return answer
        if isinstance(message, Record):
            with shielded():
                when = time.time()
                store.record(self.run_id, message.name, message.value, message.meta(), when=when)
            return engine.tell("recorded", self.run_id, message.name, message.value, message.meta(), when)
        if isinstance(message, Checkpoint):
            return store.checkpoint(self.run_id, message.state)
        if isinstance(message, Progress):
            return self._progress(message)
        if isinstance(message, Plot):
            return engine.draw(self.procedure, self.run_id, message.name) if engine.draw_figures else None
        if isinstance(message, Load):
            return _load(store, message.run_id)
        if isinstance(message, Context):
            return self.context
        if isinstance(message, SubRun):
            return engine.child(self, message)
        if isinstance(message, Compute):
            return message.function(*message.args, **message.kwargs)
        raise ParameterError(f"plan of {self.procedure.name} yielded {message!r}, which is not a plan message")

    def _progress(self, message: Progress) -> None:
        self.engine.progress(message.task, message.done, message.total)
        now = time.monotonic()
        if message.done >= message.total or now - self._progress_stored >= 0.25:
            self._progress_stored = now
            self.engine.store.progress(self.run_id, message.task, message.done, message.total)


class _AnalysisHandler:
    """Carries out an analysis's messages: records and progress of its run; never the bench."""

    def __init__(self, run: _RunHandler) -> None:
        self.run = run

    def __call__(self, message: Message) -> Any:
        if isinstance(message, (Record, Progress, Plot, Load, Context, Compute)):
            return self.run(message)
        raise ParameterError(f"the analysis of {self.run.procedure.name} yielded {message!r}: an analysis works on "
                             "the run's records, never the bench")


class _Engine:
    def __init__(self, bench: Bench, store: Store, progress: ProgressCallback, seed: int,
                 draw_figures: bool = True, observer: RunObserver | None = None) -> None:
        self.bench, self.store, self.progress, self.seed = bench, store, progress, seed
        self.draw_figures = draw_figures
        self.observer = observer
        self.interpreter = Interpreter(bench)
        self.warnings: list[str] = []
        self.first_run_id: int | None = None
        #: figures of completed runs being drawn in the background: (run id, name, future)
        self.figures: list[tuple[int, str, Future]] = []
        self._drawer: ThreadPoolExecutor | None = None

    def run(self, procedure: Procedure, params: dict, resume_state: dict | None, resumed_from: int | None,
            parent: int | None = None, seed: int | None = None) -> tuple[int, dict]:
        """Drive one run to its end; (run id, summary).  Aborts and failures are marked, then raised."""
        seed = self.seed if seed is None else seed
        run_id = self.store.begin_run(procedure.name, params, provenance(self.bench, procedure, params, seed),
                                      resumed_from, parent)
        self.first_run_id = self.first_run_id or run_id
        self.tell("run_started", run_id)
        kept = None
        if resumed_from is not None:
            self.store.carry_over(resumed_from, run_id)
            kept = read_run(self.store, run_id)
            if self.observer is not None:             # what the run starts with, as the rest: told as stored
                for when, name, value, meta in self.store.record_rows(run_id):
                    self.tell("recorded", run_id, name, value, meta, when)
        handler = _RunHandler(self, procedure, run_id, _context(self.bench, seed, resume_state, kept))
        started = time.perf_counter()
        try:
            if resume_state is not None and PLAN_DONE in resume_state:    # the plan had ended: analysis only
                summary = resume_state[PLAN_DONE]
            else:
                summary = drive(procedure(**params), handler) or {}
            if procedure.analysis is not None:
                self.store.checkpoint(run_id, {PLAN_DONE: summary})
                analysis = procedure.analysis(read_run(self.store, run_id))
                found: Any = drive(analysis, _AnalysisHandler(handler)) if inspect.isgenerator(analysis) else analysis
                summary = {**summary, **(found or {})}
        except KeyboardInterrupt as exc:
            self.bench.safe_state()
            reason = exc.reason if isinstance(exc, Abort) else "interrupted by the user (Ctrl-C)"
            self.store.event(run_id, "aborted", f"{reason}; outputs off, data kept")
            self.tell("run_ended", run_id)
            raise
        except BaseException as exc:
            self.bench.safe_state()
            self.store.event(run_id, "failed", _failure_summary(exc) + "; outputs off, data kept")
            self.tell("run_ended", run_id)
            raise
        summary = {**summary, "wall_time_s": round(time.perf_counter() - started, 3)}
        when = time.time()
        self.store.record(run_id, "summary", summary, when=when)
        self.tell("recorded", run_id, "summary", summary, {}, when)
        self.store.event(run_id, "completed")
        self.tell("run_ended", run_id)
        if self.draw_figures and procedure.plots:        # drawn beside what follows, kept by keep_figures
            from .plotting import render

            data = read_run(self.store, run_id)
            self.figures += [(run_id, name, self._drawing().submit(render, procedure, data, name))
                             for name in procedure.plots]
        return run_id, summary

    def _drawing(self) -> Any:
        if self._drawer is None:
            self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labctl-figures")
        return self._drawer

    def keep_figures(self) -> None:
        """Wait for the figures being drawn and keep them in the store and beside it (warnings on their runs)."""
        from .plotting import keep

        figures, self.figures = self.figures, []
        for run_id, name, future in figures:
            image = future.result()
            self._warn(run_id, image if isinstance(image, str) else keep(self.store, run_id, name, image))
        if self._drawer is not None:
            self._drawer.shutdown()
            self._drawer = None

    def tell(self, what: str, run_id: int, *args: Any) -> None:
        """Tell the observer what was just stored; drop it, with a warning on the run, if it fails."""
        if self.observer is None:
            return
        try:
            getattr(self.observer, what)(self.store, run_id, *args)
        except Exception as exc:
            self.observer = None
            warning = f"the run's observer failed and was dropped ({type(exc).__name__}: {exc}); the run goes on"
            self.warnings.append(warning)
            self.store.event(run_id, "warning", warning)

    def child(self, parent: _RunHandler, message: SubRun) -> dict:
        from .registry import get

        procedure = get(message.name)
        params = procedure.resolve(message.parameters, self.store)
        procedure.check_bench(self.bench.instruments, self.bench.wiring, self.bench.source)
        parent.children += 1
        seed = child_seed(parent.context.seed, message.key or str(parent.children))
        run_id, summary = self.run(procedure, params, None, None, parent=parent.run_id, seed=seed)
        return {**summary, "run_id": run_id}

    def draw(self, procedure: Procedure, run_id: int, name: str) -> None:
        """Draw a figure now (a plan's Plot message: the live view)."""
        from .plotting import draw

        self._warn(run_id, draw(self.store, procedure, run_id, name))

    def _warn(self, run_id: int, warning: str | None) -> None:
        if warning:
            self.warnings.append(warning)
            self.store.event(run_id, "warning", warning)
            try:
                print(f"labctl: warning: {warning}", file=sys.stderr)
            except BrokenPipeError:
                pass


def check_resume(store: Store, run_id: int, procedure: Procedure, bench: Bench) -> tuple[dict, int, dict]:
    """(parameters, seed, checkpoint) of an aborted run to resume here; refuse what would mix data."""
    earlier = store.run(run_id)
    if earlier.procedure != procedure.name:
        raise ParameterError(f"run {run_id} is a {earlier.procedure} run, not {procedure.name}")
    if earlier.status == "completed":
        raise ParameterError(f"run {run_id} completed: there is nothing to resume")
    if earlier.status == "running":
        raise ParameterError(f"run {run_id} is still running ({earlier.detail})")
    then = earlier.provenance.get("identities", {}).get("chip")
    now = bench.identities()["chip"]
    if then != now:
        raise ParameterError(f"run {run_id} ran on {then}; this bench has {now}: resuming would mix two chips' "
                             "data (choose the same die or bench)")
    source = earlier.provenance.get("bench", {}).get("source")
    if source != bench.source:
        raise ParameterError(f"run {run_id} ran on the bench {source!r}, this is {bench.source!r}")
    state = store.last_checkpoint(run_id)
    if not procedure.resumes and not (state and PLAN_DONE in state):
        raise ParameterError(f"run {run_id}: {procedure.name} does not resume (it is short: start it again)")
    if state is None:
        raise ParameterError(f"run {run_id} stopped before its first checkpoint ({procedure.name} checkpoints "
                             f"{procedure.resumes}): nothing to resume from, start it again")
    return earlier.parameters, earlier.provenance.get("seed", 0), state


def execute(procedure: Procedure, given: dict[str, Any], bench: Bench, store: Store | None,
            seed: int | None = None, dry_run: bool = False, progress: ProgressCallback | None = None,
            resume: int | None = None, rehearse_first: bool = True, draw_figures: bool = True,
            observer: RunObserver | None = None) -> RunResult:
    """Check a procedure, rehearse it on the bench's simulated twin, then run it on ``bench``.

    Parameters, bench needs and the safety limits are checked before any
    message reaches an instrument; ``dry_run`` stops after the rehearsal.
    An aborted run returns status ``aborted``; a failed one raises after
    being marked failed.  ``rehearse_first=False`` is for runs on a fresh
    simulated bench only (campaign tasks): the drivers still refuse any set
    beyond the limits, but mid-run.  ``observer`` is told of each part of the
    run as it is stored (:class:`RunObserver`: a live publisher).
    """
    if not rehearse_first and not (bench.config and bench.config.builtin):
        raise ParameterError("only a run on the built-in simulated bench may skip the rehearsal")
    resume_state = None
    if resume is not None:
        if store is None:
            raise ParameterError("resume needs a run store")
        earlier_params, earlier_seed, resume_state = check_resume(store, resume, procedure, bench)
        given = {**earlier_params, **given}
        seed = earlier_seed if seed is None else seed
    params = procedure.resolve(given, store)
    procedure.check_bench(bench.instruments, bench.wiring, bench.source)
    seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
    rehearsal = None
    if rehearse_first or dry_run:
        if bench.config is None:
            raise ParameterError("this bench has no configuration to rehearse on: open it with load_bench() or "
                                 "default_bench()")
        kept = read_run(store, resume, through_checkpoint=True) if resume is not None and store else None
        try:
            rehearsal = rehearse(procedure, params, bench.config, seed, resume_state, store, kept)
        except KeyboardInterrupt as exc:
            raise RehearsalInterrupted(getattr(exc, "reason", "interrupted by the user (Ctrl-C)")) from None
    if dry_run:
        return RunResult(None, "dry-run", {}, rehearsal)
    if store is None:
        raise ParameterError("a run needs a store")
    start = getattr(progress, "start", None)
    if start is not None:                       # a progress display that shows the run's time left
        start(rehearsal.wall_s if rehearsal else None)
    engine = _Engine(bench, store, progress or (lambda *a: None), seed, draw_figures, observer)
    try:
        run_id, summary = engine.run(procedure, params, resume_state, resume)
    except KeyboardInterrupt:
        return RunResult(engine.first_run_id, "aborted", {}, rehearsal)
    finally:
        engine.keep_figures()                # every completed run's figures, whatever happened after it
    return RunResult(run_id, "completed", summary, rehearsal)
