"""The ``labctl`` command line.

Every refusal is one line on stderr and exit status 2, given before a bench
is opened where it can be.  SIGTERM, SIGHUP and a closed output pipe stop a
run as Ctrl-C does: every output off, the run marked aborted, its data kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

from . import __version__
from .extras import MissingExtra, require
from .units import duration


class _Output:
    """stdout that turns a closed pipe (``labctl ... | head``) into an abort, then goes quiet."""

    def __init__(self) -> None:
        self.closed = False

    def print(self, *args: Any) -> None:
        if self.closed:
            return
        try:
            print(*args, file=sys.stdout, flush=True)
        except BrokenPipeError:
            from instruments.interrupts import Abort

            self.closed = True
            raise Abort("the output pipe was closed") from None


OUT = _Output()


def _err(text: str) -> None:
    """A line on stderr; nothing if stderr is gone (the run has already been stopped safely)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass


def _fail(command: str, exc: BaseException | str, status: int = 2) -> int:
    _err(f"labctl {command}: {exc}")
    return status


# ------------------------------------------------------------------ benches
def _bench_config(args: argparse.Namespace) -> Any:
    """The bench named by --bench (read and checked, not opened), or the built-in simulated bench."""
    from .bench import BenchConfigError, builtin_config, read_bench_config

    if args.bench:
        if getattr(args, "params_file", None):
            raise BenchConfigError("--params is for the built-in bench; a bench file names its served die's "
                                   "parameter file in [simulation] params")
        return read_bench_config(args.bench)
    return builtin_config(args.die_seed, args.smu, params=getattr(args, "params_file", None))


def _store(args: argparse.Namespace, read_only: bool = False) -> Any:
    from .store import Store

    return Store(args.store, read_only=read_only)


def _existing_store(args: argparse.Namespace) -> Any:
    """The store read-only if it exists (dry-runs look up earlier runs there), else None."""
    from .store import resolve_store_path

    return _store(args, read_only=True) if resolve_store_path(args.store).is_file() else None


# --------------------------------------------------------------- procedures
def _procedures(args: argparse.Namespace) -> int:
    """List the procedures and their parameters (types, units, ranges, defaults), or describe one."""
    from .procedure import ParameterError
    from .registry import get, procedures

    if args.name:
        try:
            found = [get(args.name)]
        except ParameterError as exc:
            return _fail("procedures", exc)
    else:
        found = list(procedures().values())
    for k, proc in enumerate(found):
        if k:
            OUT.print("")
        for line in proc.describe():
            OUT.print(line)
    return 0


def _parse_params(extra: list[str]) -> dict[str, str]:
    """``--name value`` (or ``--name=value``) pairs after the procedure name."""
    params: dict[str, str] = {}
    it = iter(extra)
    for token in it:
        if not token.startswith("--"):
            raise ValueError(f"expected --name value, got {token!r}")
        name, eq, value = token[2:].partition("=")
        if not eq:
            following = next(it, None)
            if following is None:
                raise ValueError(f"--{name} needs a value")
            value = following
        params[name.replace("-", "_")] = value
    return params


def _print_summary(procedure: Any, summary: dict) -> None:
    if procedure.report is not None:
        for line in procedure.report(summary):
            OUT.print(line)
        return
    for key, value in summary.items():
        if not isinstance(value, dict):
            OUT.print(f"  {key:24s} {_readable(value)}")


def _run_procedure(args: argparse.Namespace, name: str, params: dict[str, Any], label: str) -> int:
    """Check everything, then dry-run or run one procedure (``labctl run`` and ``labctl demo``)."""
    from instruments.errors import InstrumentError, SafetyLimitError

    from .bench import BenchConfigError
    from .engine import RehearsalInterrupted, execute, rehearse
    from .progress import TerminalProgress
    from .procedure import ParameterError
    from .registry import get
    from .store import StoreError

    try:
        procedure = get(name)
        config = _bench_config(args)
        procedure.check_bench(config.roles, config.wiring, config.source)
        if args.dry_run:
            store = _existing_store(args)
            resolved = procedure.resolve(params, store, options=True)
            try:
                rehearsal = rehearse(procedure, resolved, config, args.seed or 0, store=store)
            except KeyboardInterrupt as exc:
                raise RehearsalInterrupted(getattr(exc, "reason", "interrupted by the user (Ctrl-C)")) from None
        else:
            store = _store(args)
            if args.resume is None:
                procedure.resolve(params, store, options=True)
    except (ValueError, BenchConfigError, StoreError, SafetyLimitError) as exc:
        return _fail(label, f"refused before touching any instrument: {exc}" if isinstance(exc, SafetyLimitError)
                     else exc)
    if args.dry_run:
        OUT.print(f"{name}: parameters and plan within the limits of {config.source} "
                  f"(rehearsed on its simulated twin, die seed {config.die_seed})")
        bounds = config.limits.bounds()
        for limit, (low, high) in rehearsal.limits_checked().items():
            lowest, highest, unit = bounds[limit]
            sent = f"{low:g}" + (f" .. {high:g}" if high != low else "")
            OUT.print(f"  sends {limit:15s} {sent} {unit}".rstrip() + f"  (limit {lowest:g} .. {highest:g} {unit})")
        OUT.print(f"  {rehearsal.messages} messages, {rehearsal.mac_vectors} MAC vectors")
        OUT.print(f"  estimated duration: {duration(rehearsal.bench_s)} of bench time "
                  f"({'virtual' if config.builtin or config.clock else 'real'}), "
                  f"about {duration(rehearsal.wall_s)} of wall time"
                  + (", then its analysis and figures on the host" if procedure.analysis or procedure.plots else ""))
        return 0
    try:
        observer, publisher = _publisher(args.publish) if args.publish else (None, None)
    except ValueError as exc:
        return _fail(label, f"--publish: {exc}")
    try:
        with store, config.open() as bench:
            ident = bench.chip.identify()
            OUT.print(f"bench {bench.source}: {ident.model} {ident.serial}, die {ident.die_id}")
            progress = TerminalProgress()
            try:
                result = execute(procedure, params, bench, store, seed=args.seed, progress=progress,
                                 resume=args.resume, observer=observer)
            finally:
                progress.close()
                if publisher is not None:
                    publisher.close()
            plots = store.plot_dir(result.run_id).parent
    except (ParameterError, SafetyLimitError) as exc:
        return _fail(label, f"refused before touching any instrument: {exc}")
    except (InstrumentError, BenchConfigError, StoreError) as exc:
        return _fail(label, exc, 1)
    if result.status != "completed":
        _err(f"labctl {label}: run {result.run_id} aborted: every output is off, the data taken are kept")
        return 130
    OUT.print(f"run {result.run_id}: {name} completed")
    _print_summary(procedure, result.summary)
    OUT.print(f"runs in {store.path}; plots in {plots}")
    return 0


def _publisher(address: str) -> tuple[Any, Any]:
    """(run observer, 0MQ publisher) sending a run's documents to the 0MQ proxy at ``address``."""
    require("bluesky", "--publish")
    from .bluesky.publish import DocumentPublisher, ZmqPublisher

    publisher = ZmqPublisher(address)
    if not publisher.connected:
        _err(f"labctl: warning: no 0MQ proxy answered at {address}; documents are queued until one does")
    return DocumentPublisher(publisher), publisher


def _run(args: argparse.Namespace) -> int:
    """Run one procedure (or dry-run it) on a bench; ``--help`` shows the procedure's own parameters."""
    if args.help:
        from .procedure import ParameterError
        from .registry import get

        OUT.print(args.parser.format_help().rstrip())
        try:
            lines = get(args.name).describe()
        except ParameterError as exc:
            return _fail("run", exc)
        OUT.print("\nprocedure " + lines[0])
        for line in lines[1:]:
            OUT.print(line)
        return 0
    try:
        params = _parse_params(args.params)
    except ValueError as exc:
        return _fail("run", exc)
    return _run_procedure(args, args.name, params, "run")


def _demo(args: argparse.Namespace) -> int:
    """The main job: write-verify, mac-transfer, array-map and energy, as one parent run."""
    args.resume = args.publish = None
    args.seed = 0 if args.seed is None else args.seed
    return _run_procedure(args, "demo", {"seed": args.seed}, "demo")


# --------------------------------------------------------------------- runs
def _when(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def _runs(args: argparse.Namespace) -> int:
    """List, show, plot or export stored runs (the store is only read, except for figures drawn again)."""
    from .export import ExportError, export_csv, export_hdf5
    from .store import StoreError

    from .store import resolve_store_path

    if args.runs_command == "list" and not resolve_store_path(args.store).exists():
        OUT.print(f"no runs: there is no run store at {resolve_store_path(args.store)} yet (labctl demo makes one)")
        return 0
    try:
        writes = args.runs_command == "plot" and args.output is None
        with _store(args, read_only=not writes) as store:
            if args.runs_command == "list":
                _list(store, args)
            elif args.runs_command == "show":
                _show(store, args.id)
            elif args.runs_command == "plot":
                return _plot(store, args.id, Path(args.output) if args.output else None)
            else:
                store.run(args.id)
                suffix = {"hdf5": ".h5", "bluesky": ".jsonl", "netcdf": ".nc"}.get(args.format, "")
                target = Path(args.output) if args.output else Path(f"run-{args.id}{suffix}")
                export = {"hdf5": export_hdf5, "csv": export_csv}.get(args.format) or _optional_export(args.format)
                OUT.print(f"run {args.id} exported to {export(store, args.id, target, force=args.force)}")
                children = store.run_ids(parent=args.id)
                if children:
                    OUT.print(f"  with its child runs {', '.join(map(str, children))} ({_NESTED[args.format]})")
    except (StoreError, ExportError, ValueError) as exc:
        if isinstance(exc, StoreError) and "not writable" in str(exc) and args.runs_command == "plot":
            return _fail("runs", f"{exc}; draw the figures elsewhere with --output DIR")
        return _fail("runs", exc)
    return 0


#: where an export of each format holds a run's child runs
_NESTED = {"hdf5": "/children/run-N inside it", "csv": "run-N/ inside it",
           "netcdf": "groups children/run-N inside it", "bluesky": "their documents after the run's"}


def _optional_export(kind: str) -> Any:
    """The export of a format of the bluesky extra: NetCDF, or event-model documents (JSONL)."""
    require("bluesky", f"--format {kind}")
    if kind == "netcdf":
        from .netcdf import export_netcdf

        return export_netcdf
    from .bluesky.jsonl import export_bluesky

    def documents(store: Any, run_id: int, target: Path, force: bool) -> str:
        path, hdf5 = export_bluesky(store, run_id, target, force)
        return f"{path}" + (f" (arrays too large for an event in {hdf5})" if hdf5 else "")

    return documents


def _day(text: str, option: str) -> float:
    """A --since/--until date (YYYY-MM-DD, or YYYY-MM-DD HH:MM) as seconds since the epoch."""
    for form in ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return dt.datetime.strptime(text, form).timestamp()
        except ValueError:
            continue
    raise ValueError(f"{option} {text!r}: write a date as YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")


def _die(info: Any) -> str:
    found = re.search(r"die (\S+)", str(info.provenance.get("identities", {}).get("chip", "")))
    return found.group(1) if found else "-"


def _list(store: Any, args: argparse.Namespace) -> None:
    """The runs that match the filters, oldest first, with a header; says so when there are none."""
    since = _day(args.since, "--since") if args.since else None
    until = _day(args.until, "--until") + (86400 if len(args.until) == 10 else 0) if args.until else None
    found, total = store.list_runs(limit=args.limit, procedure=args.procedure, status=args.status, die=args.die,
                                   since=since, until=until, top_level=args.top)
    filters = any(v is not None for v in (args.procedure, args.status, args.die, args.since, args.until)) or args.top
    if not found:
        OUT.print(f"no runs {'match these filters ' if filters else ''}in {store.path}"
                  + ("" if filters else " (labctl demo makes some)"))
        return
    OUT.print(f"{'id':>5s}  {'procedure':22s} {'status':11s} {'started':19s}  {'ended':19s}  {'die':17s} parent")
    for info in reversed(found):
        OUT.print(f"{info.id:5d}  {info.procedure:22s} {info.status:11s} {_when(info.started):19s}  "
                  f"{_when(info.ended):19s}  {_die(info):17s} {info.parent or ''}".rstrip())
    if total > len(found):
        OUT.print(f"(the latest {len(found)} of {total} runs; --limit N for more)")


def _show(store: Any, run_id: int) -> None:
    from .procedure import typed

    info = store.run(run_id)
    OUT.print(f"run {info.id}: {info.procedure}, {info.status} {info.detail}".rstrip())
    if info.resumed_from:
        OUT.print(f"  resumed from run {info.resumed_from}")
    if info.parent:
        OUT.print(f"  child of run {info.parent}")
    children = store.run_ids(parent=info.id)
    if children:
        OUT.print(f"  child runs {', '.join(map(str, children))}")
    OUT.print(f"  started {_when(info.started)}, ended {_when(info.ended)}")
    OUT.print("  parameters " + (" ".join(f"--{name.replace('_', '-')} {typed(value)}"
                                          for name, value in info.parameters.items()) or "none"))
    OUT.print(f"  seed {info.provenance.get('seed')}, bench {info.provenance.get('bench', {}).get('source')}")
    for role, idn in info.provenance.get("identities", {}).items():
        OUT.print(f"  {role:10s} {idn}")
    for when, status, detail in store.events(info.id):
        OUT.print(f"  event  {_when(when)} {status} {detail}".rstrip())
    for name, kind, size in store.record_names(info.id):
        OUT.print(f"  record {name:28s} {kind:6s} {size} bytes")
    for name, media, data in store.files(info.id):
        OUT.print(f"  file   {name:28s} {media} {len(data)} bytes")
    summary = [v for n, v in store.records(info.id) if n == "summary"]
    for key, value in (summary[-1] if summary else {}).items():
        if not isinstance(value, dict):
            OUT.print(f"  {key:24s} {_readable(value)}")


def _readable(value: Any) -> str:
    """A summary value as people read it: numbers to six significant digits (-0.1, not -0.10000000000000009)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_readable(v) for v in value) + "]"
    return str(value)


def _plot(store: Any, run_id: int, output: Path | None = None) -> int:
    """Draw every figure of a run again from its stored records: into the store and beside it, or into
    ``output`` only (a store that is not ours to write)."""
    from .plotting import draw
    from .registry import get

    info = store.run(run_id)
    if info.procedure == "campaign":
        from .campaign_plots import draw_campaign

        warnings = draw_campaign(store, run_id, output)
        for warning in warnings:
            _err(f"labctl runs plot: {warning}")
        OUT.print(f"run {run_id}: campaign figures drawn to {output or store.plot_dir(run_id)}")
        return 1 if warnings else 0
    procedure = get(info.procedure)
    failed = 0
    for name in procedure.plots:
        problem = draw(store, procedure, run_id, name, output)
        if problem:
            failed += 1
            _err(f"labctl runs plot: {problem}")
        else:
            OUT.print(f"run {run_id}: {name}.png drawn to {output or store.plot_dir(run_id)}")
    return 1 if failed else 0


# ---------------------------------------------------------------- campaigns
def _key_values(items: list[str], option: str) -> dict[str, str]:
    found = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"{option} {item!r}: write it as name=value")
        found[name.strip().replace("-", "_")] = value.strip()
    return found


def _sweep_values(procedure: Any, sweep: dict[str, list[str]]) -> dict[str, list]:
    """Each swept parameter's values parsed and range-checked; refusals name ``--sweep NAME``."""
    from .procedure import ParameterError, option, suggest

    typed = {}
    for name, values in sweep.items():
        parameter = procedure.parameters.get(name)
        if parameter is None:
            raise ParameterError(f"--sweep {name}: {procedure.name} has no such parameter"
                                 f"{suggest(name, procedure.parameters)}; its parameters: "
                                 f"{', '.join(map(option, procedure.parameters))}")
        try:
            typed[name] = [parameter.parse(v) for v in values]
        except ParameterError as exc:
            raise ParameterError(f"--sweep {name}: {str(exc).removeprefix(f'parameter {name}: ')}") from None
    return typed


def _campaign(args: argparse.Namespace) -> int:
    """One procedure over many simulated dies (and sweep points) on Dask."""
    require("campaign", "labctl campaign")
    from .campaign import CampaignSpec, check, parse_dies, run_campaign, start_client
    from .campaign_plots import Condition, load_campaign, yield_by_point
    from .procedure import ParameterError
    from .progress import TerminalProgress
    from .registry import get
    from .store import StoreError

    try:
        procedure = get(args.procedure)
        sweep = {name: values.split(",") for name, values in _key_values(args.sweep, "--sweep").items()}
        spec = CampaignSpec(args.procedure, parse_dies(args.dies), _key_values(args.param, "--param"), sweep,
                            args.seed, args.smu, args.yield_if, args.wafer_figure)
        spec.sweep = _sweep_values(procedure, sweep)
        store = _store(args)
        OUT.print(f"campaign {spec.procedure}: rehearsing {len(spec.points())} sweep point(s) on the simulated bench")
        check(spec, procedure, store)
    except (ValueError, StoreError) as exc:
        return _fail("campaign", exc)
    OUT.print(f"campaign {spec.procedure}: {len(spec.dies)} dies x {len(spec.points())} sweep points = "
              f"{len(spec.tasks())} tasks")
    client, cluster = start_client(args.scheduler, args.workers)
    try:
        if client.dashboard_link:
            OUT.print(f"Dask dashboard: {client.dashboard_link}")
        bar = TerminalProgress()
        with store:
            result = run_campaign(spec, store, client, progress=lambda done, total: bar("campaign", done, total),
                                  checked=True)
            from .campaign_plots import draw_campaign
            for warning in draw_campaign(store, result.run_id):
                _err(f"labctl campaign: warning: {warning}")
            data = load_campaign(store, result.run_id)
    except ParameterError as exc:
        return _fail("campaign", exc)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    OUT.print(f"run {result.run_id}: campaign {result.status}: {result.completed} tasks completed, {result.failed} "
              f"failed, {result.done_before} done by earlier runs; {result.seconds:.1f} s")
    if spec.yield_if:
        for point, fraction, dies in yield_by_point(data, Condition.parse(spec.yield_if)):
            label = ", ".join(f"{k} = {v}" for k, v in point.items()) or "all"
            OUT.print(f"  yield {100 * fraction:5.1f} % of {dies} dies with {spec.yield_if}  ({label})")
    OUT.print(f"figures in {store.plot_dir(result.run_id)}")
    return 0 if result.status == "completed" else 130


# ------------------------------------------------------------------ servers
def _store_and_socket(command: str, args: argparse.Namespace) -> tuple[Path, socket.socket, str] | None:
    """The existing store ``--store`` names (or the default), a socket bound to ``--host`` and ``--port`` and
    its address; or None after saying which is missing."""
    from .store import resolve_store_path

    path = resolve_store_path(args.store)
    if not path.is_file():
        _fail(command, f"no run store at {path} (run something first, or give --store)")
        return None
    bound = _listen(command, args)
    return None if bound is None else (path, *bound)


def _listen(command: str, args: argparse.Namespace) -> tuple[socket.socket, str] | None:
    """A socket bound to ``--host`` and ``--port`` (0: a free port) and its address, or None after saying
    why not, before anything else is printed."""
    try:
        listening = socket.create_server((args.host, args.port), family=socket.AF_INET6 if ":" in args.host
                                         else socket.AF_INET)
    except OSError as exc:
        hint = f" (another {command}? choose one with --port N)" if exc.errno == errno.EADDRINUSE else ""
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        _fail(command, f"cannot listen on {args.host} port {args.port}: {reason}{hint}")
        return None
    port = listening.getsockname()[1]
    return listening, f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{port}"


def _serve(listening: socket.socket, app: Any) -> int:
    """Serve an ASGI application on a bound socket until Ctrl-C."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    with listening:
        server.run(sockets=[listening])
    return 0


def _serve_store(command: str, args: argparse.Namespace,
                 open_app: Callable[[Path, str], tuple[Any, str, str | None]]) -> int:
    """Serve an application of the store read-only until Ctrl-C.  ``open_app(store, address)`` gives the
    application, the line that says where it is, and what every request needs when it is bound beyond
    this machine (None on loopback)."""
    served = _store_and_socket(command, args)
    if served is None:
        return 2
    path, listening, address = served
    app, where, credential = open_app(path, address)
    OUT.print(where)
    if credential:
        OUT.print(f"  bound beyond this machine: every request needs that {credential}")
    return _serve(listening, app)


def _monitor(args: argparse.Namespace) -> int:
    """Serve the browser monitor of a store (read-only) until Ctrl-C."""
    import secrets

    require("monitor", "labctl monitor")
    from .monitor.app import create_app

    def open_app(path: Path, address: str) -> tuple[Any, str, str | None]:
        loopback = args.host in ("127.0.0.1", "localhost", "::1")
        token = None if loopback else secrets.token_urlsafe(24)
        where = f"labctl monitor of {path} at {address}/" + (f"?token={token}" if token else "")
        return create_app(path, token), where, token and "token"
    return _serve_store("monitor", args, open_app)


def _serve_tiled(args: argparse.Namespace) -> int:
    """Serve the run store read-only through Tiled until Ctrl-C."""
    require("bluesky", "labctl serve-tiled")
    from .bluesky.tiled_server import tiled_app

    def open_app(path: Path, address: str) -> tuple[Any, str, str | None]:
        app, key = tiled_app(path, args.host)
        where = (f"labctl Tiled server of {path} at {address}/api/v1 (read-only)\n"
                 f"  from tiled.client import from_uri; client = from_uri({address!r}"
                 + (f", api_key={key!r})" if key else ")"))
        return app, where, key and "API key"
    return _serve_store("serve-tiled", args, open_app)


# -------------------------------------------------------------- bench, sim
def _bench_check(args: argparse.Namespace) -> int:
    """Open a bench, identify every instrument and the chip, check the protections, close it safely."""
    from instruments.errors import InstrumentError

    from .bench import BenchConfigError

    try:
        with _bench_config(args).open() as bench:
            OUT.print(f"bench   {bench.source} ({'virtual' if bench.virtual else 'real'} time)")
            for role, idn in bench.identities().items():
                OUT.print(f"  {role:10s} {idn}")
            if args.clear_protection and "supply" in bench.instruments:
                cleared = bench.clear_protection()
                OUT.print(f"  cleared the over-voltage protection of CH{', CH'.join(map(str, cleared))}"
                          if cleared else "  no protection was tripped")
            bench.check_protection()
            OUT.print("  protections clear")
    except (InstrumentError, BenchConfigError) as exc:
        return _fail("bench check", exc)
    return 0


def _console(args: argparse.Namespace) -> int:
    """Interactive session on a bench."""
    from instruments.errors import InstrumentError

    from .bench import BenchConfigError
    from .console import run_console

    try:
        bench = _bench_config(args).open()
    except (InstrumentError, BenchConfigError) as exc:
        return _fail("console", exc)
    return run_console(bench, Path(args.history) if args.history else _data_dir() / "console_history", args.plain)


def _scpi(args: argparse.Namespace) -> int:
    """Raw SCPI terminal on one resource."""
    from .scpi_terminal import run_terminal

    from .bench import BenchConfigError

    try:
        config = _bench_config(args)
    except BenchConfigError as exc:
        return _fail("scpi", exc)
    termination = args.termination.encode().decode("unicode_escape")
    return run_terminal(args.resource, args.timeout, termination,
                        None if args.no_error_check else args.error_query,
                        Path(args.history) if args.history else _data_dir() / "scpi_history",
                        config.limits.for_drivers(config.wiring))


def _data_dir() -> Path:
    from .store import resolve_store_path

    return resolve_store_path(None).parent


def _sim_params(args: argparse.Namespace) -> int:
    """List every input of the chip model with its value, unit, range and source; with ``--params``, the
    values a parameter file makes effective, overridden ones marked ``*``."""
    from .params_file import ParamsFileError, inputs, read_params_file

    try:
        given = read_params_file(args.params_file) if args.params_file else None
    except ParamsFileError as exc:
        return _fail("sim params", exc)
    effective = inputs(given.parameters() if given else None)
    for name, spec in effective.items():
        mark = "*" if given and name in given.overrides else " "
        span = f"{spec.low:g}..{spec.high:g}" if spec.low is not None and spec.high is not None else ""
        OUT.print(f"{mark} {name:38s} {_readable(spec.value):>12} {spec.unit:6s} {span:>14s}  {spec.source}")
    if given:
        OUT.print(f"(* overridden by {given.path})")
    return 0


def _sim_reset(args: argparse.Namespace) -> int:
    """Put a served simulation's die back to its fabricated state (a bench file with a virtual clock)."""
    from instruments.errors import InstrumentError

    from .bench import BenchConfigError, read_bench_config
    from .clock import RemoteVirtualClock
    from instruments.scpi import VisaAdapter

    try:
        config = read_bench_config(args.bench)
        if config.clock is None:
            return _fail("sim reset", f"{args.bench} is not a served simulation (no virtual clock)")
        clock = RemoteVirtualClock(VisaAdapter(config.clock))
        try:
            clock.refabricate()
        finally:
            clock.close()
    except (InstrumentError, BenchConfigError) as exc:
        return _fail("sim reset", exc)
    OUT.print(f"{args.bench}: the die is as fabricated, every instrument at power-on, time zero")
    return 0


def _sim_serve(args: argparse.Namespace) -> int:
    """Serve the simulated bench (board and instruments) until interrupted."""
    import threading

    from benchspec.wiring import Wiring
    from sim_chip.bench import World
    from sim_chip.bench.serve import BenchServer

    from .bench import write_served_bench_file

    from .bench import BenchConfigError, chip_model

    params = Path(args.params_file).resolve() if args.params_file else None
    try:
        model, maps = chip_model(params)
        world = World(die_seed=args.die_seed, params=model, wiring=Wiring(smu=args.smu), maps=maps)
    except BenchConfigError as exc:
        return _fail("sim serve", exc)
    try:
        server = BenchServer(world, host=args.host, pty=not args.no_pty, port=args.port)
    except OSError as exc:
        where = f"{args.host} port {args.port}" if args.port else args.host
        return _fail("sim serve", f"cannot listen on {where}: {exc.strerror}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        resources = server.resources()
        OUT.print(f"simulated bench, die {world.chip.die_id} (die seed {args.die_seed}), SMU on the "
                  f"{args.smu.replace('_', ' ')}")
        for name, resource in resources.items():
            OUT.print(f"  {name:10s} {resource}")
        if args.write_bench:
            write_served_bench_file(args.write_bench, resources, die_seed=args.die_seed,
                                    wiring=Wiring(smu=args.smu), params=params,
                                    note=f"simulated bench served by labctl sim serve (die seed {args.die_seed})")
            OUT.print(f"bench file written to {args.write_bench}")
        OUT.print("serving; Ctrl-C to stop")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    OUT.print("stopped")
    return 0


# ------------------------------------------------------------------- parser
def _seed(text: str) -> int:
    """A seed option's value: an integer 0 .. 2**32 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer (a seed is 0 .. 4294967295)") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{value} is out of range (a seed is 0 .. 4294967295)")
    return value


def _bench_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bench", metavar="FILE", help="bench file (default: the built-in simulated bench)")
    parser.add_argument("--die-seed", type=int, default=1, help="die seed of the built-in simulated bench")
    parser.add_argument("--smu", choices=("test_pad", "test_mtj"), default="test_pad",
                        help="what the built-in bench's SMU is wired to (default test_pad)")
    parser.add_argument("--params", metavar="FILE", dest="params_file",
                        help="the built-in bench's chip-model parameters: a TOML of overrides (labctl sim params "
                             "lists the names)")


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="PATH", default=None,
                        help="run store: a file, or a folder holding runs.sqlite "
                             "(default $LABCTL_STORE or ~/.local/share/labctl/runs.sqlite)")


def _command_group(sub: Any, name: str, text: str) -> Any:
    """A command with subcommands of its own (``labctl NAME SUBCOMMAND``): their subparsers."""
    return sub.add_parser(name, help=text).add_subparsers(dest=f"{name}_command", required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labctl", description="MX64 test-bench controller")
    parser.add_argument("--version", action="version", version=f"labctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on the built-in simulated bench")
    _bench_options(demo)
    _store_option(demo)
    demo.add_argument("--seed", type=_seed, default=None,
                      help="seed of the matrices, inputs and run, child runs included (default 0)")
    demo.add_argument("--dry-run", action="store_true", help="rehearse on the simulated twin only")
    demo.set_defaults(func=_demo)

    console = sub.add_parser("console", help="interactive session on a bench")
    _bench_options(console)
    console.add_argument("--history", metavar="PATH", help="history file (default beside the run store)")
    console.add_argument("--plain", action="store_true", help="the standard library's console, not IPython")
    console.set_defaults(func=_console)

    scpi = sub.add_parser("scpi", help="raw SCPI terminal on an instrument or the board")
    scpi.add_argument("resource", help="VISA resource (TCPIP::host::port::SOCKET, ...) or pyserial URL / port")
    scpi.add_argument("--timeout", type=float, default=5.0, help="reply timeout, s (default 5)")
    scpi.add_argument("--termination", default="\\n", help="message terminator (default \\n; Lake Shore: \\r\\n)")
    scpi.add_argument("--error-query", default="SYST:ERR?", help="checked after every line (default SYST:ERR?)")
    scpi.add_argument("--no-error-check", action="store_true", help="do not query the error queue")
    scpi.add_argument("--history", metavar="PATH", help="history file (default beside the run store)")
    scpi.add_argument("--bench", metavar="FILE", help="the bench whose safety limits lines are checked against "
                                                      "(default: the built-in bench's)")
    scpi.set_defaults(die_seed=1, smu="test_pad")
    scpi.set_defaults(func=_scpi)

    procs = sub.add_parser("procedures", help="list the procedures and their parameters")
    procs.add_argument("name", nargs="?", help="describe this procedure only")
    procs.set_defaults(func=_procedures)

    run = sub.add_parser("run", help="run one procedure: labctl run NAME [--param value ...]", add_help=False,
                         usage="labctl run NAME [--param value ...] [options]")
    run.add_argument("-h", "--help", action="store_true", help="show the options, and NAME's parameters")
    run.add_argument("name", help="procedure name (see labctl procedures)")
    run.set_defaults(parser=run)
    _bench_options(run)
    _store_option(run)
    run.add_argument("--dry-run", action="store_true",
                     help="rehearse on the bench's simulated twin: limits checked, duration estimated")
    run.add_argument("--seed", type=_seed, default=None, help="seed of the run's random numbers (default: fresh)")
    run.add_argument("--resume", type=int, metavar="RUN_ID", help="resume an aborted run from its last checkpoint")
    run.add_argument("--publish", metavar="HOST:PORT", help="send the run's event-model documents, as they are "
                                                            "stored, to a 0MQ proxy (the bluesky extra)")
    run.set_defaults(func=_run)

    campaign = sub.add_parser("campaign", help="one procedure over many simulated dies, on Dask")
    campaign.add_argument("procedure", help="procedure name (see labctl procedures)")
    campaign.add_argument("--dies", required=True, help="die seeds: 0-199, 3,5,7 or a mix")
    campaign.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                          help="a parameter of every task (repeatable)")
    campaign.add_argument("--sweep", action="append", default=[], metavar="NAME=V1,V2,...",
                          help="a parameter swept over values: every die at every value (repeatable)")
    campaign.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler (tcp://host:8786)")
    campaign.add_argument("--workers", type=int, default=2, help="worker processes of the embedded cluster")
    campaign.add_argument("--seed", type=_seed, default=0, help="campaign seed (each task's seed derives from it)")
    campaign.add_argument("--smu", choices=("test_pad", "test_mtj"), default="test_pad",
                          help="what the SMU of every simulated bench is wired to")
    campaign.add_argument("--yield-if", metavar="CONDITION",
                          help="yield condition on a summary figure, e.g. bit_errors<=0")
    campaign.add_argument("--wafer-figure", metavar="NAME", help="summary figure the wafer map shows")
    _store_option(campaign)
    campaign.set_defaults(func=_campaign)

    for name, text, port, credential, func in (
            ("monitor", "browse the run store, live, in a web browser", 8765, "token", _monitor),
            ("serve-tiled", "serve the run store read-only through Tiled (the bluesky extra)", 8000, "API key",
             _serve_tiled)):
        server = sub.add_parser(name, help=text)
        _store_option(server)
        server.add_argument("--host", default="127.0.0.1",
                            help=f"address to bind (default 127.0.0.1; any other needs the printed {credential})")
        server.add_argument("--port", type=int, default=port, help=f"TCP port (default {port})")
        server.set_defaults(func=func)

    runs_sub = _command_group(sub, "runs", "stored runs")
    for name, text in (("list", "list the runs"), ("show", "show one run"), ("export", "export one run"),
                       ("plot", "draw a run's figures again from its stored data")):
        p = runs_sub.add_parser(name, help=text)
        _store_option(p)
        if name != "list":
            p.add_argument("id", type=int, help="run id")
        else:
            p.add_argument("--procedure", help="only runs of this procedure")
            p.add_argument("--status", choices=("running", "completed", "aborted", "failed", "interrupted"),
                           help="only runs in this state")
            p.add_argument("--die", metavar="DIE_ID", help="only runs on this die (e.g. MX64-4E084C08)")
            p.add_argument("--since", metavar="DATE", help="only runs started on or after DATE (YYYY-MM-DD[ HH:MM])")
            p.add_argument("--until", metavar="DATE", help="only runs started before the end of DATE")
            p.add_argument("--top", action="store_true", help="only top-level runs (no child runs)")
            p.add_argument("--limit", type=int, default=100, help="at most this many, the latest (default 100)")
        if name == "plot":
            p.add_argument("--output", metavar="DIR", help="draw the figures into DIR only (the store is then only "
                                                           "read: another user's, or a read-only one)")
        if name == "export":
            p.add_argument("--format", choices=("hdf5", "csv", "netcdf", "bluesky"), default="hdf5",
                           help="hdf5 (default), csv, netcdf (xarray), bluesky (event-model documents, JSONL); "
                                "the last two need the bluesky extra")
            p.add_argument("--output", help="file (hdf5, netcdf, bluesky) or folder (csv); "
                                            "default run-ID.h5, run-ID, run-ID.nc, run-ID.jsonl")
            p.add_argument("--force", action="store_true",
                           help="replace an earlier export of labctl's at the target (never anything else)")
        p.set_defaults(func=_runs)

    bench_sub = _command_group(sub, "bench", "bench files and instruments")
    check = bench_sub.add_parser("check", help="identify every instrument and the chip of a bench")
    _bench_options(check)
    check.add_argument("--clear-protection", action="store_true",
                       help="clear tripped over-voltage protections (outputs stay off)")
    check.set_defaults(func=_bench_check)

    sim_sub = _command_group(sub, "sim", "the simulated chip and bench")
    params = sim_sub.add_parser("params", help="list the chip model's inputs (value, unit, range, source)")
    params.add_argument("--params", metavar="FILE", dest="params_file",
                        help="show the values this parameter file makes effective")
    params.set_defaults(func=_sim_params)
    reset = sim_sub.add_parser("reset", help="put a served simulation's die back to its fabricated state")
    reset.add_argument("--bench", metavar="FILE", required=True, help="the bench file of the served simulation")
    reset.set_defaults(func=_sim_reset)
    serve = sim_sub.add_parser("serve", help="serve the simulated board and instruments on loopback sockets")
    serve.add_argument("--die-seed", type=int, default=1, help="seed of the simulated die (default 1)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0,
                       help="the board's TCP port; the instruments take the next five (default: free ports)")
    serve.add_argument("--smu", choices=("test_pad", "test_mtj"), default="test_pad",
                       help="what the SMU is wired to (default test_pad)")
    serve.add_argument("--no-pty", action="store_true", help="do not open a pseudo-terminal for the board")
    serve.add_argument("--write-bench", metavar="FILE", help="write a bench file with every resource string")
    serve.add_argument("--params", metavar="FILE", dest="params_file",
                       help="build the die with this chip-model parameter file (a TOML of overrides, or a twin file)")
    serve.set_defaults(func=_sim_serve)

    from .twin.commands import add_parser as add_twin_parser

    add_twin_parser(sub, _store_option)
    return parser


#: commands that only read (the store, the registry, the model's inputs): a closed pipe ends them quietly
READ_ONLY = ("procedures", "runs list", "runs show", "runs export", "sim params")


def _command(args: argparse.Namespace) -> str:
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if sub else args.command


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        args.params = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if argv is None and args.command not in ("sim", "monitor", "serve-tiled"):   # the command itself, not a test
        from instruments.interrupts import install

        install()
    command = _command(args)
    try:
        return args.func(args)
    except MissingExtra as exc:
        return _fail(command, exc)
    except KeyboardInterrupt as exc:
        from .engine import RehearsalInterrupted

        if OUT.closed and command in READ_ONLY:
            return 0                                   # `labctl runs show 9 | head -1`
        reason = getattr(exc, "reason", "interrupted by the user (Ctrl-C)")
        if isinstance(exc, RehearsalInterrupted) or command in READ_ONLY:
            _err(f"labctl {command}: {reason}")
        else:
            _err(f"labctl {command}: {reason}; every output is off and the data kept")
        return 130
    finally:
        if OUT.closed:        # nothing more can be written there, not even at interpreter exit
            sys.stdout = open("/dev/null", "w")


if __name__ == "__main__":
    sys.exit(main())
