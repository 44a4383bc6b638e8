"""How long a tile calibration holds: calibration-drift on the built-in simulated bench, for the docs.

    python benchmarks/drift.py [--die 1] [--images 5000] [--seed 1] [--docs]

Runs ``labctl run calibration-drift`` (the shipped perceptron, the default hold
times and temperature steps) and prints its points: the stale and the
recalibrated accuracy at every hold time and temperature, the paired loss with
its 95 % interval, and each step's recalibration interval.  ``--docs`` writes
the table into docs/networks.md between its drift markers and the figure to
docs/figures/calibration_drift.png.  The run is kept in
benchmarks/results/drift-die<D>-seed<S>.sqlite and analysed again on the next call with
the same settings (``--fresh`` measures again).  The last line is JSON: die,
images, points, recalibration_interval_s, mean_loss_points, run_s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing import RESULTS, write_between_markers, write_results

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from labctl.bench import default_bench  # noqa: E402
from labctl.engine import execute  # noqa: E402
from labctl.registry import get  # noqa: E402
from labctl.store import Store  # noqa: E402
from labctl.rundata import read_run  # noqa: E402
from procedures.calibration_drift import analyse, plot_drift, report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS, FIGURE = ROOT / "docs" / "networks.md", ROOT / "docs" / "figures" / "calibration_drift.png"
BEGIN, END = "<!-- drift table: written by benchmarks/drift.py --docs -->", "<!-- end of drift table -->"


def _earlier(store: Store, args: argparse.Namespace) -> int | None:
    """The kept completed run of these settings (the store is this die's and seed's), or None."""
    for info in reversed(store.runs()):
        if info.status == "completed" and info.parameters.get("images") == args.images:
            return info.id
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--die", type=int, default=1)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--docs", action="store_true", help="write the table and the figure into the docs")
    parser.add_argument("--fresh", action="store_true", help="measure again, not from the kept run")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"drift-die{args.die}-seed{args.seed}.sqlite"
    if args.fresh:
        path.unlink(missing_ok=True)
    with Store(path) as store:
        run_id = _earlier(store, args)
        if run_id is None:
            with default_bench(args.die) as bench:
                run_id = execute(get("calibration-drift"), {"images": args.images}, bench, store, seed=args.seed,
                                 rehearse_first=False).run_id
        data = read_run(store, run_id)
        s = {**data.last("summary"), **analyse(data)}        # analysed again: the analysis may have changed
        lines = [f"Measured by `python benchmarks/drift.py --docs`: die {args.die}, {args.images} test digits at "
                 f"every point, seed {args.seed}; calibrated at {s['base_temperature_K']:g} K.", "", "```",
                 *report(s), "```"]
        print("\n".join(lines))
        if args.docs:
            write_between_markers(DOCS, BEGIN, END, lines)
            FIGURE.parent.mkdir(exist_ok=True)
            plot_drift(data).savefig(FIGURE, dpi=100)
    write_results("drift", {"die": args.die, "images": args.images, "points": s["points"],
                            "recalibration_interval_s": s["recalibration_interval_s"],
                            "mean_loss_points": s["mean_loss_points"], "run_s": s["wall_time_s"]})


if __name__ == "__main__":
    main()
