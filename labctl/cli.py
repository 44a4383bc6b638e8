"""The ``labctl`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

from . import __version__


def _demo(args: argparse.Namespace) -> int:
    """Power up a chip, program and verify a random matrix, check the MAC against the ideal."""
    from instruments.errors import InstrumentError

    from .chip import open_chip

    rng = np.random.default_rng(args.seed)
    try:
        chip = open_chip(args.chip)
    except (InstrumentError, ValueError) as exc:
        print(f"labctl demo: {exc}", file=sys.stderr)
        return 2
    try:
        ident = chip.identify()
        print(f"board   {ident.manufacturer},{ident.model},{ident.serial},{ident.firmware}  ({args.chip})")
        print(f"die     {ident.die_id}")
        chip.power_on()
        chip.reset_counter()
        weights = rng.choice(np.array([-1, 1], np.int8), size=(64, 64))
        chip.write_array(weights)
        read = chip.verify_array()
        print(f"write   64x64 random +-1 matrix: {int((read != weights).sum())} bit errors after one pass "
              f"({chip.cycle_counter()} clocks with the verify)")
        x = rng.choice(np.array([-1, 1], np.int8), size=(args.vectors, 64))
        codes = chip.mac_batch(x).astype(float)
        ideal = x.astype(np.int64) @ read.astype(np.int64)   # MAC of what the array holds
        r = [np.corrcoef(ideal[:, j], codes[:, j])[0, 1] for j in range(64) if ideal[:, j].std() > 0]
        print(f"mac     {args.vectors} random vectors: TDC code vs ideal MAC correlation "
              f"{np.mean(r):+.3f} (mean over columns; -1 is perfect, codes fall as MAC rises)")
        chip.power_off()
    except InstrumentError as exc:
        print(f"labctl demo: {exc}", file=sys.stderr)
        return 1
    finally:
        chip.close()
    return 0


def _sim_params(args: argparse.Namespace) -> int:
    """List every calibration input of the chip model with its unit and source."""
    from sim_chip import ChipParameters

    for name, value, unit, source in ChipParameters().describe():
        print(f"{name:38s} {value!s:>12} {unit:6s} {source}")
    return 0


def _sim_serve(args: argparse.Namespace) -> int:
    """Serve the simulated board on a TCP port and a pseudo-terminal until interrupted."""
    import signal
    import threading

    from sim_chip import MX64, Board
    from sim_chip.serve import SimServer

    board = Board(MX64(seed=args.die_seed))
    try:
        server = SimServer(board, host=args.host, port=args.port, pty=not args.no_pty)
    except OSError as exc:
        print(f"labctl sim serve: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with server:
        print(f"simulated MX64 board, die {board.chip.die_id} (die seed {args.die_seed})")
        for name, resource in server.resources().items():
            print(f"  {name:14s} {resource}")
        print("serving; Ctrl-C to stop", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("stopped", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labctl", description="MX64 test-bench controller")
    parser.add_argument("--version", action="version", version=f"labctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on the built-in simulated bench")
    demo.add_argument("--chip", default="sim", help="chip spec: 'sim', 'sim:<die seed>', or a serial "
                      "port / pyserial URL of a board, e.g. socket://127.0.0.1:5025 (default: sim)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs")
    demo.add_argument("--vectors", type=int, default=10000, help="MAC vectors in the sanity check")
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("sim", help="the simulated chip")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    params = sim_sub.add_parser("params", help="list the chip model's calibration inputs")
    params.set_defaults(func=_sim_params)
    serve = sim_sub.add_parser("serve", help="serve the simulated board over TCP and a pseudo-terminal")
    serve.add_argument("--die-seed", type=int, default=1, help="seed of the simulated die (default 1)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve.add_argument("--no-pty", action="store_true", help="do not open a pseudo-terminal")
    serve.set_defaults(func=_sim_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
