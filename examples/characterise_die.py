"""Characterise a fresh die: program and verify it, map its resistances, calibrate its MAC readout.

    python examples/characterise_die.py                     # the built-in simulated bench
    python examples/characterise_die.py --bench bench.toml  # a real bench, or a served simulation

Three procedures run one after another on one open bench, each stored as
its own run (figures included) the moment its data exists.  Afterwards
``labctl runs list`` shows them and ``labctl runs plot ID`` redraws a figure.
"""

from __future__ import annotations

import argparse

import numpy as np

import labctl
from labctl.bench import default_bench, load_bench

#: short settings for a quick look (and for CI); drop --quick for the full characterisation
QUICK = {
    "write-verify": {},
    "array-map": {"columns": 4, "average": 1},
    "mac-transfer": {"repeats": 1, "windows": 2},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", help="bench file (default: the built-in simulated bench)")
    parser.add_argument("--die-seed", type=int, default=1, help="which simulated die (built-in bench)")
    parser.add_argument("--store", help="run store (default: $LABCTL_STORE or ~/.local/share/labctl)")
    parser.add_argument("--quick", action="store_true", help="short parameters: a minute's look, not a study")
    args = parser.parse_args()

    bench = load_bench(args.bench) if args.bench else default_bench(die_seed=args.die_seed)
    with bench:                                       # leaving the block turns every output off
        for name, quick in QUICK.items():
            params = quick if args.quick else {}
            # the same checks as `labctl run`: parameters, wiring, a rehearsal against the safety limits
            result = labctl.run_procedure(name, bench, store=args.store, seed=args.die_seed, **params)
            print(f"\nrun {result.run_id}: {name} {result.status}")
            for key, value in result.summary.items():
                if isinstance(value, (int, float)):
                    print(f"  {key:24s} {value:.6g}")

            if name == "mac-transfer":
                # a stored run as arrays, for your own analysis
                data = labctl.load_run(result.run_id, store=args.store)
                spread = data.array("mac_error_by_column")          # (64,) MAC units
                worst = int(spread.argmax())
                print(f"  MAC error std by column: median {float(np.median(spread)):.2f}, "
                      f"worst column {worst} ({spread[worst]:.2f} MAC units)")


if __name__ == "__main__":
    main()
