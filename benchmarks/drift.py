"""How long a tile calibration holds: calibration-drift on the built-in simulated bench, for the docs.

    python benchmarks/drift.py [--die 1] [--images 5000] [--seed 1] [--docs]

Runs ``labctl run calibration-drift`` (the shipped perceptron, the default hold
times and temperature steps) and prints its points: the stale and the
recalibrated accuracy at every hold time and temperature, the paired loss with
its 95 % interval, and each step's recalibration interval.  ``--docs`` writes
the table into docs/networks.md between its drift markers and the figure to
docs/figures/calibration_drift.png.  The last line is JSON: die, images,
points, recalibration_interval_s, run_s.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from timing import write_between_markers, write_results

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from labctl.bench import default_bench  # noqa: E402
from labctl.engine import execute  # noqa: E402
from labctl.registry import get  # noqa: E402
from labctl.store import Store  # noqa: E402
from procedures.calibration_drift import report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS, FIGURE = ROOT / "docs" / "networks.md", ROOT / "docs" / "figures" / "calibration_drift.png"
BEGIN, END = "<!-- drift table: written by benchmarks/drift.py --docs -->", "<!-- end of drift table -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--die", type=int, default=1)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--docs", action="store_true", help="write the table and the figure into the docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "runs.sqlite") as store:
        with default_bench(args.die) as bench:
            result = execute(get("calibration-drift"), {"images": args.images}, bench, store, seed=args.seed,
                             rehearse_first=False)
        s = result.summary
        lines = [f"Measured by `python benchmarks/drift.py --docs`: die {args.die}, {args.images} test digits at "
                 f"every point, seed {args.seed}; calibrated at {s['base_temperature_K']:g} K.", "", "```",
                 *report(s), "```"]
        print("\n".join(lines))
        if args.docs:
            write_between_markers(DOCS, BEGIN, END, lines)
            FIGURE.parent.mkdir(exist_ok=True)
            shutil.copyfile(store.plot_dir(result.run_id) / "drift.png", FIGURE)
    write_results("drift", {"die": args.die, "images": args.images, "points": s["points"],
                            "recalibration_interval_s": s["recalibration_interval_s"],
                            "run_s": s["wall_time_s"]})


if __name__ == "__main__":
    main()
