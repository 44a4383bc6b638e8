"""The ``labctl`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

from . import __version__


def _demo(args: argparse.Namespace) -> int:
    """Power up the simulated chip, program and verify a random matrix, check the MAC."""
    from sim_chip import MX64, Board

    rng = np.random.default_rng(args.seed)
    board = Board(MX64(seed=args.die_seed))
    ident = board.identify()
    print(f"board   {ident.idn()}")
    print(f"die     {ident.die_id} (simulated, die seed {args.die_seed})")
    board.power_on()

    weights = rng.choice(np.array([-1, 1], np.int8), size=(64, 64))
    board.write_array(weights)
    read = np.array([board.verify_row(r) for r in range(64)])
    print(f"write   64x64 random +-1 matrix: {int((read != weights).sum())} bit errors after one pass "
          f"({board.cycle_counter()} clocks)")

    x = rng.choice(np.array([-1, 1], np.int8), size=(args.vectors, 64))
    codes = board.mac_batch(x).astype(float)
    ideal = x.astype(np.int64) @ read.astype(np.int64)   # MAC of what the array holds
    r = [np.corrcoef(ideal[:, j], codes[:, j])[0, 1] for j in range(64) if ideal[:, j].std() > 0]
    print(f"mac     {args.vectors} random vectors: TDC code vs ideal MAC correlation "
          f"{np.mean(r):+.3f} (mean over columns; -1 is perfect, codes fall as MAC rises)")
    print(f"energy  {board.chip.energy.last_energy / args.vectors * 1e12:.1f} pJ per 64x64 MAC vector")
    board.power_off()
    return 0


def _sim_params(args: argparse.Namespace) -> int:
    """List every calibration input of the chip model with its unit and source."""
    from sim_chip import ChipParameters

    for name, value, unit, source in ChipParameters().describe():
        print(f"{name:38s} {value!s:>12} {unit:6s} {source}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labctl", description="MX64 test-bench controller")
    parser.add_argument("--version", action="version", version=f"labctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on the built-in simulated bench")
    demo.add_argument("--die-seed", type=int, default=1, help="seed of the simulated die (default 1)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs")
    demo.add_argument("--vectors", type=int, default=10000, help="MAC vectors in the sanity check")
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("sim", help="the simulated chip")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    params = sim_sub.add_parser("params", help="list the chip model's calibration inputs")
    params.set_defaults(func=_sim_params)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
