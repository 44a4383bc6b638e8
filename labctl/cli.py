"""The ``labctl`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

from . import __version__


def _open_bench(args: argparse.Namespace):
    """The bench named by --bench, or the built-in simulated bench."""
    from .bench import default_bench, load_bench

    return load_bench(args.bench) if args.bench else default_bench(args.die_seed)


def _demo(args: argparse.Namespace) -> int:
    """Power up the bench, program and verify a random matrix, check the MAC against the ideal."""
    from instruments.errors import InstrumentError

    from .bench import BenchConfigError

    rng = np.random.default_rng(args.seed)
    try:
        bench = _open_bench(args)
    except (InstrumentError, BenchConfigError) as exc:
        print(f"labctl demo: {exc}", file=sys.stderr)
        return 2
    try:
        with bench:
            chip = bench.chip
            ident = chip.identify()
            print(f"bench   {bench.source}")
            print(f"board   {ident.manufacturer},{ident.model},{ident.serial},{ident.firmware}")
            print(f"die     {ident.die_id}")
            bench.power_up()
            chip.reset_counter()
            weights = rng.choice(np.array([-1, 1], np.int8), size=(64, 64))
            chip.write_array(weights)
            read = chip.verify_array()
            print(f"write   64x64 random +-1 matrix: {int((read != weights).sum())} bit errors after one pass "
                  f"({chip.cycle_counter()} clocks with the verify)")
            x = rng.choice(np.array([-1, 1], np.int8), size=(args.vectors, 64))
            bench.supply.ch[bench.wiring.vdd].measure_current()        # start of the averaging window
            codes = chip.mac_batch(x).astype(float)
            amps = bench.supply.ch[bench.wiring.vdd].measure_current()
            ideal = x.astype(np.int64) @ read.astype(np.int64)         # MAC of what the array holds
            r = [np.corrcoef(ideal[:, j], codes[:, j])[0, 1] for j in range(64) if ideal[:, j].std() > 0]
            print(f"mac     {args.vectors} random vectors: TDC code vs ideal MAC correlation "
                  f"{np.mean(r):+.3f} (mean over columns; -1 is perfect, codes fall as MAC rises)")
            print(f"supply  VDD current {amps * 1e6:.1f} uA averaged over the batch and the reading")
            bench.power_down()
    except InstrumentError as exc:
        print(f"labctl demo: {exc}", file=sys.stderr)
        return 1
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


def _sim_params(args: argparse.Namespace) -> int:
    """List every calibration input of the chip model with its unit and source."""
    from sim_chip import ChipParameters

    for name, value, unit, source in ChipParameters().describe():
        print(f"{name:38s} {value!s:>12} {unit:6s} {source}")
    return 0


def _sim_serve(args: argparse.Namespace) -> int:
    """Serve the simulated bench (board and instruments) until interrupted."""
    import signal
    import threading

    from sim_chip.bench import World
    from sim_chip.bench.serve import BenchServer

    from .bench import write_bench_file

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
            instruments = {k: v for k, v in resources.items() if k not in ("board", "board_pty", "clock")}
            write_bench_file(args.write_bench, resources["board"], instruments, resources["clock"],
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labctl", description="MX64 test-bench controller")
    parser.add_argument("--version", action="version", version=f"labctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on the built-in simulated bench")
    _bench_options(demo)
    demo.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs")
    demo.add_argument("--vectors", type=int, default=10000, help="MAC vectors in the sanity check")
    demo.set_defaults(func=_demo)

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
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
