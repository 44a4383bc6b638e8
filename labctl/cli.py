"""The ``labctl`` command line."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Sequence


from . import __version__


def _open_bench(args: argparse.Namespace):
    """The bench named by --bench, or the built-in simulated bench."""
    from .bench import default_bench, load_bench

    return load_bench(args.bench) if args.bench else default_bench(args.die_seed)


def _open_store(args: argparse.Namespace):
    from .store import Store

    return Store(args.store)


def _demo(args: argparse.Namespace) -> int:
    """The main job: write-verify, mac-transfer, array-map and energy on a bench, with a summary."""
    from instruments.errors import InstrumentError
    from procedures import PROCEDURES

    from .bench import BenchConfigError
    from .engine import TerminalProgress, execute
    from .procedure import ParameterError
    from .store import StoreError

    try:
        store = _open_store(args)
        bench = _open_bench(args)
    except (InstrumentError, BenchConfigError, StoreError) as exc:
        print(f"labctl demo: {exc}", file=sys.stderr)
        return 2
    steps = (("write-verify", {"matrix_seed": args.seed}), ("mac-transfer", {"matrix_seed": args.seed + 1}),
             ("array-map", {}), ("energy", {}))
    results = {}
    try:
        with store, bench:
            ident = bench.chip.identify()
            print(f"bench   {bench.source}: {ident.model} {ident.serial}, die {ident.die_id}")
            for name, params in steps:
                result = execute(PROCEDURES[name](), params, bench, store, seed=args.seed,
                                 progress=TerminalProgress())
                results[name] = result
                if result.status != "completed":
                    print(f"labctl demo: {name} {result.status}; data kept in run {result.run_id}", file=sys.stderr)
                    return 130
            bench.power_down()
    except (InstrumentError, ParameterError) as exc:
        print(f"labctl demo: {exc}", file=sys.stderr)
        return 1
    wv, mt, am, en = (results[n].summary for n, _ in steps)
    print(f"write   {wv['bit_errors']} residual bit errors ({wv['first_pass_errors']} after the first pass, "
          f"{wv['passes']} passes, {wv['pulses']} pulses, {wv['clocks']} clocks)")
    print(f"mac     error decoded-ideal: mean {mt['mac_error_mean']:+.2f}, std {mt['mac_error_std']:.2f} "
          f"MAC units; {100 * mt['exact_fraction']:.0f} % exact over {mt['reads']} reads")
    print(f"array   R_low {am['r_low_mean_ohm'] / 1e3:.2f} kOhm (sigma {am['r_low_sigma_ohm'] / 1e3:.2f}), "
          f"R_high {am['r_high_mean_ohm'] / 1e3:.2f} kOhm (sigma {am['r_high_sigma_ohm'] / 1e3:.2f})")
    print(f"energy  {en['energy_per_vector_J'] * 1e12:.1f} pJ per 64x64 MAC vector "
          f"({en['energy_per_mac_J'] * 1e15:.2f} fJ per MAC, {en['tops_per_watt']:.0f} TOPS/W)")
    ids = ", ".join(str(r.run_id) for r in results.values())
    print(f"runs    {ids} in {store.path}; plots in {store.path.parent / 'plots'}")
    return 0


def _bench_check(args: argparse.Namespace) -> int:
    """Open a bench, identify every instrument and the chip, close it safely."""
    from instruments.errors import InstrumentError

    from .bench import BenchConfigError

    try:
        with _open_bench(args) as bench:
            print(f"bench   {bench.source} ({'virtual' if bench.virtual else 'real'} time)")
            for role, idn in bench.identities().items():
                print(f"  {role:10s} {idn}")
    except (InstrumentError, BenchConfigError) as exc:
        print(f"labctl bench check: {exc}", file=sys.stderr)
        return 2
    return 0


def _console(args: argparse.Namespace) -> int:
    """Interactive session on a bench."""
    from instruments.errors import InstrumentError

    from .bench import BenchConfigError
    from .console import run_console

    try:
        bench = _open_bench(args)
    except (InstrumentError, BenchConfigError) as exc:
        print(f"labctl console: {exc}", file=sys.stderr)
        return 2
    return run_console(bench, Path(args.history) if args.history else _data_dir() / "console_history")


def _scpi(args: argparse.Namespace) -> int:
    """Raw SCPI terminal on one resource."""
    from .scpi_terminal import run_terminal

    termination = args.termination.encode().decode("unicode_escape")
    return run_terminal(args.resource, args.timeout, termination,
                        None if args.no_error_check else args.error_query,
                        Path(args.history) if args.history else _data_dir() / "scpi_history")


def _data_dir() -> Path:
    from .store import default_store_path

    return default_store_path().parent


def _procedures(args: argparse.Namespace) -> int:
    """List the procedures and their parameters."""
    from procedures import PROCEDURES

    for name, cls in PROCEDURES.items():
        needs = f"  (needs: {', '.join(cls.needs)})" if cls.needs else ""
        print(f"{name}: {cls.summary}{needs}")
        for p in cls.parameters:
            default = f"{p.default!r}" + (f" {p.unit}" if p.unit else "")
            print(f"    --{p.name.replace('_', '-'):18s} {p.doc}; default {default}; {p.describe_range()}")
    return 0


def _parse_params(extra: list[str]) -> dict[str, str]:
    """``--name value`` pairs after the procedure name."""
    params: dict[str, str] = {}
    it = iter(extra)
    for token in it:
        if not token.startswith("--"):
            raise ValueError(f"expected --name value, got {token!r}")
        name, eq, value = token[2:].partition("=")
        if not eq:
            value = next(it, None)
            if value is None:
                raise ValueError(f"--{name} needs a value")
        params[name.replace("-", "_")] = value
    return params


def _run(args: argparse.Namespace) -> int:
    """Run one procedure (or dry-run it) on a bench."""
    from instruments.errors import InstrumentError, SafetyLimitError
    from procedures import PROCEDURES

    from .bench import BenchConfigError
    from .engine import TerminalProgress, execute
    from .procedure import ParameterError
    from .store import StoreError

    if args.name not in PROCEDURES:
        print(f"labctl run: unknown procedure {args.name!r}; known: {', '.join(PROCEDURES)}", file=sys.stderr)
        return 2
    procedure = PROCEDURES[args.name]()
    try:
        params = _parse_params(args.params)
        resolved = procedure.resolve(params) if args.resume is None else None
        store = None if args.dry_run else _open_store(args)
        bench = _open_bench(args)
    except (ValueError, InstrumentError, BenchConfigError, StoreError) as exc:
        print(f"labctl run: {exc}", file=sys.stderr)
        return 2
    try:
        with bench:
            result = execute(procedure, params if resolved is None else resolved, bench, store, seed=args.seed,
                             dry_run=args.dry_run, progress=TerminalProgress(), resume=args.resume)
    except (ParameterError, SafetyLimitError) as exc:
        print(f"labctl run: refused before touching any instrument: {exc}", file=sys.stderr)
        return 2
    except InstrumentError as exc:
        print(f"labctl run: {exc}", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.close()
    if result.status == "dry-run":
        print(f"{args.name}: parameters and plan within the limits of {bench.source}")
        for step in result.plan.steps:
            print(f"  - {step}")
        for limit, value in result.plan.setpoints:
            print(f"  sends {limit} = {value:g}")
        print(f"  estimated duration {result.plan.duration_s:.3g} s")
        return 0
    print(f"run {result.run_id}: {args.name} {result.status}")
    for key, value in result.summary.items():
        print(f"  {key:24s} {value:.6g}" if isinstance(value, float) else f"  {key:24s} {value}")
    return 0 if result.status == "completed" else 130


def _runs(args: argparse.Namespace) -> int:
    """List, show or export stored runs."""
    import datetime as dt

    from .export import export_csv, export_hdf5
    from .store import StoreError

    def when(t: float | None) -> str:
        return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t else "-"

    try:
        with _open_store(args) as store:
            if args.runs_command == "list":
                for info in store.runs():
                    print(f"{info.id:5d}  {info.procedure:22s} {info.status:10s} {when(info.started)}  "
                          f"{when(info.ended)}")
            elif args.runs_command == "show":
                info = store.run(args.id)
                print(f"run {info.id}: {info.procedure}, {info.status} {info.detail}".rstrip())
                print(f"  started {when(info.started)}, ended {when(info.ended)}")
                print(f"  parameters {info.parameters}")
                print(f"  seed {info.provenance.get('seed')}, bench {info.provenance.get('bench', {}).get('source')}")
                for role, idn in info.provenance.get("identities", {}).items():
                    print(f"  {role:10s} {idn}")
                for name, kind, size in store.record_names(info.id):
                    print(f"  record {name:28s} {kind:6s} {size} bytes")
                for name, media, data in store.files(info.id):
                    print(f"  file   {name:28s} {media} {len(data)} bytes")
                summary = [v for n, v in store.records(info.id) if n == "summary"]
                for key, value in (summary[-1] if summary else {}).items():
                    print(f"  {key:24s} {value}")
            else:
                store.run(args.id)
                target = Path(args.output) if args.output else Path(f"run-{args.id}" + (".h5" if args.format == "hdf5" else ""))
                out = export_hdf5(store, args.id, target) if args.format == "hdf5" else export_csv(store, args.id, target)
                print(f"run {args.id} exported to {out}")
    except StoreError as exc:
        print(f"labctl runs: {exc}", file=sys.stderr)
        return 2
    return 0


def _sim_params(args: argparse.Namespace) -> int:
    """List every calibration input of the chip model with its unit and source."""
    from sim_chip import ChipParameters

    for name, value, unit, source in ChipParameters().describe():
        print(f"{name:38s} {value!s:>12} {unit:6s} {source}")
    return 0


def _sim_serve(args: argparse.Namespace) -> int:
    """Serve the simulated bench (board and instruments) until interrupted."""
    import threading

    from sim_chip.bench import World
    from sim_chip.bench.serve import BenchServer

    from .bench import write_served_bench_file

    world = World(die_seed=args.die_seed)
    try:
        server = BenchServer(world, host=args.host, pty=not args.no_pty)
    except OSError as exc:
        print(f"labctl sim serve: cannot listen on {args.host}: {exc.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        resources = server.resources()
        print(f"simulated bench, die {world.chip.die_id} (die seed {args.die_seed})")
        for name, resource in resources.items():
            print(f"  {name:10s} {resource}")
        if args.write_bench:
            write_served_bench_file(args.write_bench, resources,
                                    note=f"simulated bench served by labctl sim serve (die seed {args.die_seed})")
            print(f"bench file written to {args.write_bench}")
        print("serving; Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("stopped", flush=True)
    return 0


def _bench_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bench", metavar="FILE", help="bench file (default: the built-in simulated bench)")
    parser.add_argument("--die-seed", type=int, default=1, help="die seed of the built-in simulated bench")


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="PATH", default=None,
                        help="run store (default $LABCTL_STORE or ~/.local/share/labctl/runs.sqlite)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labctl", description="MX64 test-bench controller")
    parser.add_argument("--version", action="version", version=f"labctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on the built-in simulated bench")
    _bench_options(demo)
    _store_option(demo)
    demo.add_argument("--seed", type=int, default=0, help="seed of the matrices and inputs (default 0)")
    demo.set_defaults(func=_demo)

    console = sub.add_parser("console", help="interactive session on a bench")
    _bench_options(console)
    console.add_argument("--history", metavar="PATH", help="history file (default beside the run store)")
    console.set_defaults(func=_console)

    scpi = sub.add_parser("scpi", help="raw SCPI terminal on an instrument or the board")
    scpi.add_argument("resource", help="VISA resource (TCPIP::host::port::SOCKET, ...) or pyserial URL / port")
    scpi.add_argument("--timeout", type=float, default=5.0, help="reply timeout, s (default 5)")
    scpi.add_argument("--termination", default="\\n", help="message terminator (default \\n; Lake Shore: \\r\\n)")
    scpi.add_argument("--error-query", default="SYST:ERR?", help="checked after every line (default SYST:ERR?)")
    scpi.add_argument("--no-error-check", action="store_true", help="do not query the error queue")
    scpi.add_argument("--history", metavar="PATH", help="history file (default beside the run store)")
    scpi.set_defaults(func=_scpi)

    procs = sub.add_parser("procedures", help="list the procedures and their parameters")
    procs.set_defaults(func=_procedures)

    run = sub.add_parser("run", help="run one procedure: labctl run NAME [--param value ...]")
    run.add_argument("name", help="procedure name (see labctl procedures)")
    _bench_options(run)
    _store_option(run)
    run.add_argument("--dry-run", action="store_true", help="check parameters and plan against the limits only")
    run.add_argument("--seed", type=int, default=None, help="seed of the run's random numbers (default: fresh)")
    run.add_argument("--resume", type=int, metavar="RUN_ID", help="resume an aborted run from its last checkpoint")
    run.set_defaults(func=_run)

    runs = sub.add_parser("runs", help="stored runs")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True)
    for name, text in (("list", "list the runs"), ("show", "show one run"), ("export", "export one run")):
        p = runs_sub.add_parser(name, help=text)
        _store_option(p)
        if name != "list":
            p.add_argument("id", type=int, help="run id")
        if name == "export":
            p.add_argument("--format", choices=("hdf5", "csv"), default="hdf5")
            p.add_argument("--output", help="file (hdf5) or folder (csv); default run-ID[.h5]")
        p.set_defaults(func=_runs)

    bench = sub.add_parser("bench", help="bench files and instruments")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    check = bench_sub.add_parser("check", help="identify every instrument and the chip of a bench")
    _bench_options(check)
    check.set_defaults(func=_bench_check)

    sim = sub.add_parser("sim", help="the simulated chip and bench")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    params = sim_sub.add_parser("params", help="list the chip model's calibration inputs")
    params.set_defaults(func=_sim_params)
    serve = sim_sub.add_parser("serve", help="serve the simulated board and instruments on loopback sockets")
    serve.add_argument("--die-seed", type=int, default=1, help="seed of the simulated die (default 1)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--no-pty", action="store_true", help="do not open a pseudo-terminal for the board")
    serve.add_argument("--write-bench", metavar="FILE", help="write a bench file with every resource string")
    serve.set_defaults(func=_sim_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None and hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)    # quietly stop when piped into head
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        args.params = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted; outputs are off and the data kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
