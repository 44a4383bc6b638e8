"""MNIST on the chip: the 10,000 test digits on the in-process simulated chip against plain numpy inference.

In one run, on die ``--die`` with run seed ``--seed``:

1. the shipped network's plain numpy inference of the test digits (``numpy_s``, best of five);
2. ``labctl run mnist-perceptron`` on the built-in in-process bench, after a
   dry run that pays the imports: the run's plan and analysis (program,
   calibrate, classify, analyse: ``chip_s``), the whole run with its figures
   (``run_s``) and then its rehearsal alone on the simulated twin
   (``rehearsal_s``, a dry run);
3. the same run on the same simulated bench served on loopback sockets
   (``socket_s``; the chip's answers are bit-identical, so is the accuracy);
4. a hardware-aware network trained with the error model the first run
   measured (its own calibration) and classified on the chip
   (``hw_aware_chip_accuracy``);
5. on every die of ``--dies`` (default: ``--die`` alone) the optimised and the
   paper-like pipelines (``--pipeline``): gap means with their 95 % Student-t
   half-width over the dies (NaN for one die; ``benchmarks/ablation.py`` runs
   eight).

    OPENBLAS_NUM_THREADS=1 python benchmarks/mnist.py [--images N] [--die D] [--dies 0-7] [--seed S] [--short]


``--short`` is the gate's version: 500 digits, the in-process run and its
rehearsal only (no socket run, no hardware-aware run).

The last line is JSON: chip_accuracy, software_accuracy, hw_aware_chip_accuracy, hw_aware_software_accuracy,
dies, gap_points_mean and gap_points_ci95 (optimised pipeline over the dies), paper_like_chip_accuracy and
paper_like_gap_points_mean (the same for the paper-like pipeline), energy_per_image_full_j and tops_per_w (the
die's run, full system at a batch of 10,000), chip_s, run_s, rehearsal_s, numpy_s, ratio (chip_s / numpy_s),
socket_s, socket_over_inproc,
energy_per_image_j, programming_cycles, time_per_image_s (MAC time at the chip's clock), images,
rehearsal_over_run (rehearsal_s / run_s, goal <= 0.1), and the gate's figures numpy_over_chip
(numpy_s / chip_s) and run_over_total (run_s / (run_s + rehearsal_s)).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from timing import best, timed, write_results

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from labctl.bench import default_bench, load_bench, write_served_bench_file  # noqa: E402
from labctl.campaign import parse_dies  # noqa: E402
from labctl.engine import execute  # noqa: E402
from labctl.registry import get  # noqa: E402
from labctl.store import Store  # noqa: E402
from procedures.networks.host.accuracy import mean_interval  # noqa: E402
from procedures.networks.host.idx import load_mnist  # noqa: E402
from procedures.networks.host.npz import SHIPPED_PERCEPTRON, load_network  # noqa: E402
from sim_chip.bench import World  # noqa: E402
from sim_chip.bench.serve import BenchServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--die", type=int, default=1)
    parser.add_argument("--dies", default=None, help="dies of the pipelines' comparison (default: --die)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--short", action="store_true", help="the gate's version: 500 digits, in process only")
    args = parser.parse_args()
    if args.short:
        args.images = 500
    digits = load_mnist()
    network = load_network(SHIPPED_PERCEPTRON)
    test, labels = digits.test_images[:args.images], digits.test_labels[:args.images]
    software_accuracy = float((network.predict(test) == labels).mean())
    numpy_s = best([timed(lambda: network.predict(test)) for _ in range(5)])
    procedure = get("mnist-perceptron")
    params = {"images": args.images}
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "runs.sqlite") as store:
        with default_bench(args.die) as bench:
            execute(procedure, params, bench, store, seed=args.seed, dry_run=True)     # imports paid here
            local, run_s = _timed_execute(procedure, params, bench, store, seed=args.seed, rehearse_first=False)
            _, rehearsal_s = _timed_execute(procedure, params, bench, store, seed=args.seed, dry_run=True)
        if args.short:
            s = local.summary
            write_results("mnist", {"images": args.images, "chip_s": s["wall_time_s"], "run_s": round(run_s, 2),
                                    "rehearsal_s": round(rehearsal_s, 2), "numpy_s": round(numpy_s, 3),
                                    "ratio": round(s["wall_time_s"] / numpy_s, 1),
                                    **_gate_figures(s, numpy_s, run_s, rehearsal_s)}, short=True)
            return
        with BenchServer(World(args.die), pty=False) as server:
            write_served_bench_file(Path(tmp) / "bench.toml", server.resources(), die_seed=args.die)
            with load_bench(Path(tmp) / "bench.toml") as bench:
                remote = execute(procedure, params, bench, store, seed=args.seed)
        with default_bench(args.die) as bench:
            aware = execute(procedure, {**params, "hardware_aware": True, "error_run": local.run_id}, bench, store,
                            seed=args.seed, rehearse_first=False)
        dies = parse_dies(args.dies) if args.dies else [args.die]
        pipelines = {"optimised": [], "paper-like": []}
        for die in dies:
            for pipeline, summaries in pipelines.items():
                if die == args.die and pipeline == "optimised":
                    summaries.append(local.summary)
                    continue
                with default_bench(die) as bench:
                    summaries.append(execute(procedure, {**params, "pipeline": pipeline}, bench, store,
                                             seed=args.seed, rehearse_first=False, draw_figures=False).summary)
    s, a = local.summary, aware.summary
    chip_s, socket_s = s["wall_time_s"], remote.summary["wall_time_s"]
    assert remote.summary["chip_accuracy"] == s["chip_accuracy"] and s["software_accuracy"] == software_accuracy
    print(f"software (numpy)          {software_accuracy:8.2%}   {numpy_s:7.3f} s")
    print(f"chip, in process          {s['chip_accuracy']:8.2%}   {chip_s:7.2f} s (the run with its figures "
          f"{run_s:.2f} s; its rehearsal {rehearsal_s:.2f} s)")
    print(f"chip, over sockets        {remote.summary['chip_accuracy']:8.2%}   {socket_s:7.2f} s")
    print(f"hardware-aware, chip      {a['hw_aware_chip_accuracy']:8.2%}   "
          f"(software {a['hw_aware_software_accuracy']:.2%}; run {aware.summary['wall_time_s']:.0f} s with training)")
    print(f"per image: {s['time_per_image_s'] * 1e6:.2f} us of MAC, {s['energy_per_image_J'] * 1e9:.3f} nJ; "
          f"{s['programming_cycles']} tiles programmed")
    gap, gap_ci = mean_interval([x["gap_points"] for x in pipelines["optimised"]])
    paper_like = mean_interval([x["chip_accuracy"] for x in pipelines["paper-like"]])
    paper_like_gap = mean_interval([x["gap_points"] for x in pipelines["paper-like"]])
    print(f"dies {args.dies or args.die}: gap {gap:.2f} ± {gap_ci:.2f} points optimised, "
          f"{paper_like_gap[0]:.2f} ± {paper_like_gap[1]:.2f} paper-like (chip {paper_like[0]:.2%})")
    write_results("mnist", {
        "images": args.images, "chip_accuracy": s["chip_accuracy"], "software_accuracy": software_accuracy,
        "hw_aware_chip_accuracy": a["hw_aware_chip_accuracy"],
        "hw_aware_software_accuracy": a["hw_aware_software_accuracy"],
        "chip_s": round(chip_s, 2), "run_s": round(run_s, 2), "rehearsal_s": round(rehearsal_s, 2),
        "numpy_s": round(numpy_s, 3), "ratio": round(chip_s / numpy_s, 1), "socket_s": round(socket_s, 2),
        "socket_over_inproc": round(socket_s / chip_s, 2), "energy_per_image_j": s["energy_per_image_J"],
        "programming_cycles": s["programming_cycles"], "time_per_image_s": s["time_per_image_s"],
        "dies": len(dies), "gap_points_mean": gap, "gap_points_ci95": gap_ci,
        "paper_like_chip_accuracy": paper_like[0], "paper_like_gap_points_mean": paper_like_gap[0],
        "energy_per_image_full_j": s["energy_per_image_full_j"], "tops_per_w": s["tops_per_w"],
        **_gate_figures(s, numpy_s, run_s, rehearsal_s)})


def _timed_execute(*args: object, **kwargs: object) -> tuple[object, float]:
    """``execute``'s result and its wall time, s."""
    started = time.perf_counter()
    result = execute(*args, **kwargs)
    return result, time.perf_counter() - started


def _gate_figures(summary: dict, numpy_s: float, run_s: float, rehearsal_s: float) -> dict:
    """The ratios: the rehearsal against the whole run it checks (figures included), both timed alone."""
    return {"rehearsal_over_run": round(rehearsal_s / run_s, 3),
            "numpy_over_chip": round(numpy_s / summary["wall_time_s"], 5),
            "run_over_total": round(run_s / (run_s + rehearsal_s), 4)}


if __name__ == "__main__":
    main()
