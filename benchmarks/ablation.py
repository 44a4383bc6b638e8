"""The MNIST ablation over dies: the paper-like pipeline, then each optimised-runtime step added, with its cost.

Four ``labctl campaign`` runs of mnist-perceptron over the same dies, on an
embedded Dask cluster:

1. ``--pipeline`` paper-like, tile-windows, tile-tables and replicas (the
   shipped network);
2. ``--pipeline`` optimised (the shipped network);
3. ``--pipeline`` optimised with ``--network-file`` the shipped
   hardware-aware perceptron (``perceptron_hw.npz``: trained once, with the
   error model of a development die outside the ablation's dies; its
   provenance says which and how);
4. ``--pipeline`` optimised with ``--hardware-aware true``: on each die, the
   shipped network's pass measures the die's error model on its calibration
   (training) digits, a network is trained with it (numpy, 40 epochs, the
   shipped network's training settings) and classified on the same die.

The rows, each adding one step to the row above (docs/networks.md):

    paper-like                    one die-level table, fixed windows on MAC 0, no replicas
    + tile windows                windows placed on each tile's partial sums
    + tile tables                 a calibration table per tile
    + replicas                    padding columns hold copies, averaged
    + recalibration               windows moved onto their calibration reads: the
                                  optimised pipeline, with the shipped network
    + hardware-aware training     the shipped hardware-aware network
    + ... on the die's own errors a hardware-aware network per die (4. above);
                                  its costs add the first pass's programming
                                  and calibration

For each row: chip accuracy and the chip-software gap as mean and 95 %
Student-t half-width over the dies (the dies share the test digits, whose own
sampling, about +-0.4 points paired, is common to every row), and the
hardware cost per die: tiles programmed, MAC clocks per image, calibration
reads, numbers the host holds to decode (tables and window starts), and the
full-system energy per image at a batch of 10,000.

    python benchmarks/ablation.py [--dies 0-7] [--images 10000] [--workers 2] [--docs]

The campaigns are kept in ``benchmarks/results/ablation.sqlite``: an
interrupted benchmark resumes where it stopped, a finished one is read back
(``--fresh`` starts over).  ``--docs`` writes the table, and the full-system
energy per image of the optimised pipeline by part and batch, into
docs/networks.md between their markers.  The last line is JSON: dies, images, rows (each
row's figures), paper_like_chip_accuracy, gap_points_mean and gap_points_ci95
(the optimised pipeline, shipped network), energy_per_image_full_j and
tops_per_w (the same).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # two workers on two cores: no BLAS threads fighting them

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))      # a Dask worker re-imports this file with the parent's path
from timing import RESULTS, write_between_markers, write_results  # noqa: E402

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from labctl.campaign import CampaignSpec, parse_dies, previous_runs, run_campaign, start_client  # noqa: E402
from labctl.campaign_plots import load_campaign  # noqa: E402
from labctl.store import Store  # noqa: E402
from procedures.networks.host.accuracy import mean_interval  # noqa: E402
from procedures.networks.host.npz import SHIPPED_HW_PERCEPTRON  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs" / "networks.md"
BEGIN, END = "<!-- ablation table: written by benchmarks/ablation.py --docs -->", "<!-- end of ablation table -->"
ENERGY = ("<!-- energy table: written by benchmarks/ablation.py --docs -->", "<!-- end of energy table -->")
#: the parts of an image's energy (energy_budget.full_energy's), as the table names them
PARTS = (("mac_j", "MAC (the inference reads), measured"),
         ("calibration_j", "tile calibration, measured, spread over the run's images"),
         ("leakage_j", "leakage over the chip time, measured idle power"),
         ("host_decoding_j", "host decoding and accumulation, estimated"))

#: each row of the table: the campaign and the pipeline it reads
ROWS = {
    "paper-like": ("plain", "paper-like"),
    "+ tile windows": ("plain", "tile-windows"),
    "+ tile tables": ("plain", "tile-tables"),
    "+ replicas": ("plain", "replicas"),
    "+ recalibration": ("recal", "optimised"),
    "+ hardware-aware training": ("aware", "optimised"),
    "+ hardware-aware training on the die's own errors": ("own", "optimised"),
}
SHIPPED_ROW = "+ recalibration"        # the optimised pipeline with the shipped network
COSTS = ("programming_cycles", "inference_clocks", "calibration_reads", "host_table_entries",
         "energy_per_image_full_j", "tops_per_w")


def campaigns(dies: list[int], images: int) -> dict[str, CampaignSpec]:
    fixed = {"images": images}
    return {"plain": CampaignSpec("mnist-perceptron", dies, fixed,
                                  {"pipeline": ["paper-like", "tile-windows", "tile-tables", "replicas"]}, seed=1),
            "recal": CampaignSpec("mnist-perceptron", dies, fixed, {"pipeline": ["optimised"]}, seed=1),
            "aware": CampaignSpec("mnist-perceptron", dies, {**fixed, "network_file": str(SHIPPED_HW_PERCEPTRON)},
                                  {"pipeline": ["optimised"]}, seed=1),
            "own": CampaignSpec("mnist-perceptron", dies, {**fixed, "hardware_aware": True},
                                {"pipeline": ["optimised"]}, seed=1)}


#: what the last row adds to the die's first pass: its programming and calibration count too
SUMMED_COSTS = ("programming_cycles", "calibration_reads")


def _figures(summary: dict, campaign: str) -> dict:
    """A task's accuracies and costs as its row counts them: the die's own hardware-aware network (trained
    with the error model of the die's first pass, on training digits) against its own software; its costs
    are the classification's, with both passes' programming and calibration."""
    if campaign != "own":
        return summary
    aware = summary["hw_aware_costs"]
    return {**aware, **{k: summary[k] + aware[k] for k in SUMMED_COSTS},
            "chip_accuracy": summary["hw_aware_chip_accuracy"],
            "software_accuracy": summary["hw_aware_software_accuracy"],
            "gap_points": 100 * (summary["hw_aware_software_accuracy"] - summary["hw_aware_chip_accuracy"])}


def run(spec: CampaignSpec, store: Store, workers: int) -> int:
    """The campaign's run id: run (or finish) it, or the finished one already in the store."""
    earlier = previous_runs(store, spec)
    if earlier and store.run(earlier[-1]).status == "completed":
        return earlier[-1]
    client, cluster = start_client(None, workers)
    try:
        result = run_campaign(spec, store, client,
                              progress=lambda n, total: print(f"  {spec.sweep['pipeline']}: {n}/{total}",
                                                              file=sys.stderr))
    finally:
        client.close()
        cluster.close()
    if result.failed:
        raise SystemExit(f"{result.failed} task(s) failed; see `labctl runs show {result.run_id}`")
    return result.run_id


def rows(tasks: dict[str, list], images: int) -> list[dict]:
    """The ablation's rows from each campaign's tasks (by campaign name)."""
    out = []
    for label, (campaign, pipeline) in ROWS.items():
        summaries = [_figures(t.summary, campaign) for t in tasks[campaign] if t.point["pipeline"] == pipeline]
        accuracy = mean_interval([s["chip_accuracy"] for s in summaries])
        gap = mean_interval([s["gap_points"] for s in summaries])
        row = {"step": label, "pipeline": pipeline, "hardware_aware": campaign in ("aware", "own"),
               "dies": len(summaries),
               "chip_accuracy_mean": accuracy[0], "chip_accuracy_ci95": accuracy[1],
               "gap_points_mean": gap[0], "gap_points_ci95": gap[1],
               "software_accuracy": float(np.mean([s["software_accuracy"] for s in summaries]))}
        for key in COSTS:
            values = [c.get(key) for c in summaries]
            row[key] = None if None in values else float(np.mean(values))
        row["mac_clocks_per_image"] = row.pop("inference_clocks") / images
        out.append(row)
    return out


def table(rows_: list[dict], dies: list[int], images: int) -> list[str]:
    """The ablation as a Markdown table."""
    lines = [f"Measured by `python benchmarks/ablation.py --docs` on dies {dies[0]}-{dies[-1]} "
             f"({len(dies)} dies), {images} test digits each.",
             "Mean over the dies with its 95 % Student-t interval (software: the network's own, numpy); the gap is "
             "the network's software minus its chip accuracy; costs are per die (the mean).", "",
             "| step | chip accuracy (%) | software (%) | gap (points) | tiles programmed | MAC clocks / image "
             "| calibration reads | host numbers | full energy / image (nJ, batch 10,000) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows_:
        energy = "-" if r["energy_per_image_full_j"] is None else f"{r['energy_per_image_full_j'] * 1e9:.2f}"
        lines.append(f"| {r['step']} | {100 * r['chip_accuracy_mean']:.2f} ± {100 * r['chip_accuracy_ci95']:.2f} "
                     f"| {100 * r['software_accuracy']:.2f} "
                     f"| {r['gap_points_mean']:.2f} ± {r['gap_points_ci95']:.2f} | {r['programming_cycles']:.0f} "
                     f"| {r['mac_clocks_per_image']:.0f} | {r['calibration_reads']:.0f} "
                     f"| {r['host_table_entries']:.0f} | {energy} |")
    return lines


def energy_table(summaries: list[dict], dies: list[int], images: int) -> list[str]:
    """The full-system energy per image (the optimised pipeline, shipped network) by part and batch, the mean
    over the dies, as Markdown (nJ)."""
    parts = {k: 1e9 * float(np.mean([s["energy_parts_j"][k] for s in summaries]))
             for k in summaries[0]["energy_parts_j"]}
    totals = {b: 1e9 * float(np.mean([s["energy_per_image_full_by_batch_j"][b] for s in summaries]))
              for b in summaries[0]["energy_per_image_full_by_batch_j"]}
    mac = 1e9 * float(np.mean([s["energy_per_image_mac_j"] for s in summaries]))
    tops = float(np.mean([s["tops_per_w"] for s in summaries]))
    lines = [f"Measured by `python benchmarks/ablation.py --docs`: the optimised pipeline and the shipped network on "
             f"dies {dies[0]}-{dies[-1]}, {images} test digits each; mean over the dies, nJ per image.", "",
             "| part | " + " | ".join(f"batch of {int(b):,}" for b in totals) + " |",
             "|---|" + "---|" * len(totals)]
    for key, label in PARTS:
        lines.append(f"| {label} | " + " | ".join(f"{parts[key]:.3f}" for _ in totals) + " |")
    lines.append("| programming every tile (measured), shared by the batch | "
                 + " | ".join(f"{parts[f'programming_at_batch_{b}_j']:.3f}" for b in totals) + " |")
    lines.append("| **full system** | " + " | ".join(f"**{t:.3f}**" for t in totals.values()) + " |")
    lines += ["", f"MAC only: {mac:.3f} nJ per image; the full system at a batch of {int(list(totals)[-1]):,}: "
              f"{tops:.1f} TOPS/W (2 operations per multiply-accumulate of the network's layers)."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dies", default="0-7", help="die seeds, e.g. 0-7 (at least 8 for the docs' table)")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--docs", action="store_true", help="write the table into docs/networks.md")
    parser.add_argument("--fresh", action="store_true", help="forget earlier campaigns of this benchmark")
    args = parser.parse_args()
    dies = parse_dies(args.dies)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "ablation.sqlite"
    if args.fresh:
        path.unlink(missing_ok=True)
    with Store(path) as store:
        run_ids = {}
        for name, spec in campaigns(dies, args.images).items():
            if name == "aware" and not SHIPPED_HW_PERCEPTRON.is_file():
                raise SystemExit(f"{SHIPPED_HW_PERCEPTRON} is missing: the hardware-aware row classifies with it "
                                 "(docs/networks.md says how it is trained)")
            run_ids[name] = run(spec, store, args.workers)
        tasks = {name: load_campaign(store, run_id).tasks for name, run_id in run_ids.items()}
    measured = rows(tasks, args.images)
    shipped = [t.summary for t in tasks["recal"]]
    lines, energy = table(measured, dies, args.images), energy_table(shipped, dies, args.images)
    print("\n".join(lines + [""] + energy))
    if args.docs:
        write_between_markers(DOCS, BEGIN, END, lines)
        write_between_markers(DOCS, *ENERGY, energy)
    optimised = next(r for r in measured if r["step"] == SHIPPED_ROW)
    write_results("ablation", {
        "dies": len(dies), "images": args.images, "rows": measured,
        "paper_like_chip_accuracy": measured[0]["chip_accuracy_mean"],
        "gap_points_mean": optimised["gap_points_mean"], "gap_points_ci95": optimised["gap_points_ci95"],
        "energy_per_image_full_j": optimised["energy_per_image_full_j"], "tops_per_w": optimised["tops_per_w"]})


if __name__ == "__main__":
    main()
