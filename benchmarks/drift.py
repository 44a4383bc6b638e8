"""How long a tile calibration holds: calibration-drift on the built-in simulated bench, for the docs.

    python benchmarks/drift.py [--die 1] [--images 5000] [--seed 1] [--docs]

Runs ``labctl run calibration-drift`` (the shipped perceptron; ``--study time``:
the default hold times and temperature steps, ``--study temperature``: one
hold and steps of 1, 2 and 5 K either side) and prints its points: the stale and the
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
from labctl.rundata import read_run  # noqa: E402
from labctl.store import Store  # noqa: E402
from procedures.calibration_drift import analyse, plot_drift, report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "networks.md"
#: what each study measures (calibration-drift's parameters) and where --docs writes it (markers, figure or None)
STUDIES = {
    "time": ({"hold_times": [1.0, 60.0, 3600.0, 86400.0, 604800.0, 2600000.0], "temperature_steps": [0.0, 10.0, -10.0]},
             ("<!-- drift table: written by benchmarks/drift.py --docs -->", "<!-- end of drift table -->"),
             ROOT / "docs" / "figures" / "calibration_drift.png"),
    "temperature": ({"hold_times": [60.0], "temperature_steps": [0.0, 1.0, 2.0, 5.0, -1.0, -2.0, -5.0]},
                    ("<!-- temperature table: written by benchmarks/drift.py --study temperature --docs -->",
                     "<!-- end of temperature table -->"), None),
}


def _earlier(store: Store, args: argparse.Namespace) -> int | None:
    """The kept completed run of these settings (the store is this die's and seed's), or None."""
    for info in reversed(store.runs()):
        wanted = {"images": args.images, **STUDIES[args.study][0]}
        if info.status == "completed" and all(info.parameters.get(k) == v for k, v in wanted.items()):
            return info.id
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--die", type=int, default=1)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--docs", action="store_true", help="write the table and the figure into the docs")
    parser.add_argument("--fresh", action="store_true", help="measure again, not from the kept run")
    parser.add_argument("--study", choices=sorted(STUDIES), default="time",
                        help="time: the default hold times and +-10 K; temperature: one hold, small steps")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"drift-die{args.die}-seed{args.seed}.sqlite"
    params, markers, figure = STUDIES[args.study]
    if args.fresh:
        path.unlink(missing_ok=True)
    with Store(path) as store:
        run_id = _earlier(store, args)
        if run_id is None:
            with default_bench(args.die) as bench:
                run_id = execute(get("calibration-drift"), {"images": args.images, **params}, bench, store,
                                 seed=args.seed, rehearse_first=False).run_id
        data = read_run(store, run_id)
        s = {**data.last("summary"), **analyse(data)}        # analysed again: the analysis may have changed
        command = "--docs" if args.study == "time" else f"--study {args.study} --docs"
        lines = [f"Measured by `python benchmarks/drift.py {command}`: die {args.die}, {args.images} test digits at "
                 f"every point, seed {args.seed}; calibrated at {s['base_temperature_K']:g} K.", "", "```",
                 *report(s), "```"]
        print("\n".join(lines))
        if args.docs:
            write_between_markers(DOCS, *markers, lines)
            if figure is not None:
                figure.parent.mkdir(exist_ok=True)
                plot_drift(data).savefig(figure, dpi=100)
    write_results(f"drift-{args.study}", {"die": args.die, "images": args.images, "points": s["points"],
                            "recalibration_interval_s": s["recalibration_interval_s"],
                            "mean_loss_points": s["mean_loss_points"], "run_s": s["wall_time_s"]})


if __name__ == "__main__":
    main()
