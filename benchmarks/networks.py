"""Emulated VGG-8 against plain numpy inference of the 10,000 MNIST test digits; the face network on the chip;
both over dies, beside the paper-like pipeline, with their full-system energy.

In one run, on the built-in simulated bench (dies DIES):

1. per die, the MAC error models measured on the chip as vgg8-emulation
   measures them (networks/chip/error_runs.py: the VGG-8's array layers, all
   but the first, on the chip for 50 training digits, one model per layer),
   and the cost and full-system energy of that pass (all array layers on the
   chip);
2. the shipped VGG-8's plain numpy inference of the 10,000 test digits,
   timed; the same network emulated with each die's models (every 64-row
   partial sum of every array layer with a drawn error, seed 0), timed on
   die 1; the same with models measured under the paper-like pipeline
   (docs/networks.md) on die 1;
3. per die, the shipped face network's test patches in software and with
   its chip layer on the chip, optimised and paper-like (needs the
   ``faces`` extra), and the chip layer's full-system energy.

    python benchmarks/networks.py [--short] [--vgg8-images N] [--networks vgg8,faces] [--docs]

``--short`` is the gate's version: error models from 2 digits on die 1 with
the smallest calibration (4 digits, 64 vectors a tile), 200 test digits,
no face network.  ``--vgg8-images N`` emulates the first N test digits on
each die (the emulation takes about ten times numpy's time);
``--networks`` runs one of the two parts; ``--docs`` writes each part's
table into docs/networks.md between its markers.  The last line is JSON: ``dies``; for ``vgg8_`` and
``face_``: ``software_accuracy`` (with ``_ci95``: Wilson [low, high]),
``chip_accuracy_mean`` (VGG-8: emulated with each die's models; faces: the
chip layer on each die) with ``_ci95`` (half-width of Student's t interval
over the dies) and ``_by_die``, ``gap_points_mean`` and
``gap_points_ci95`` (software minus chip per die, points),
``paper_like_chip_accuracy`` (VGG-8: emulated with die 1's paper-like
models; faces: mean over the dies), ``energy_per_image_full_j`` and
``tops_per_w`` (die 1, optimised, batch of 10,000; the pass's own
operations); faces also per class (``chip_face_accuracy_mean``,
``chip_nonface_accuracy_mean``); and the timing: emulation_s, numpy_s,
ratio (goal <= 2), numpy_over_emulation (the gate's figure).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from timing import best, side_by_side, write_between_markers, write_results

# this file's name is the package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from benchspec.tdc import TdcSetting  # noqa: E402
from labctl.bench import default_bench  # noqa: E402
from labctl.engine import run_direct  # noqa: E402
from procedures.face_detection import face_detection  # noqa: E402
from procedures.networks.chip.emulation import emulation_product  # noqa: E402
from procedures.networks.chip.energy_budget import chip_ops, pass_costs  # noqa: E402
from procedures.networks.chip.error_runs import measure_layer_models  # noqa: E402
from procedures.networks.chip.network import chip_forward, seeded_subset  # noqa: E402
from procedures.networks.chip.pipeline import PIPELINES  # noqa: E402
from procedures.networks.chip.session import chip_session  # noqa: E402
from procedures.networks.host.accuracy import mean_interval, wilson  # noqa: E402
from procedures.networks.host.idx import load_mnist  # noqa: E402
from procedures.networks.host.network import array_layers  # noqa: E402
from procedures.networks.host.npz import SHIPPED_FACES, SHIPPED_VGG8, load_network  # noqa: E402
from procedures.vgg8_emulation import vgg8_emulation  # noqa: E402

DIES = (1, 2, 3, 4, 5)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "networks.md"
VGG8_MARKERS = ("<!-- VGG-8 table: written by benchmarks/networks.py --networks vgg8 --docs -->",
                "<!-- end of VGG-8 table -->")
FACE_MARKERS = ("<!-- face table: written by benchmarks/networks.py --networks faces --docs -->",
                "<!-- end of face table -->")
BATCH = 250
MODEL_DIGITS = 50
_VGG8 = {name: p.default for name, p in vgg8_emulation.parameters.items()}    # the procedures' defaults
_FACES = {name: p.default for name, p in face_detection.parameters.items()}
CALIBRATION_VECTORS = _VGG8["calibration_vectors"]
CALIBRATION_IMAGES = _VGG8["calibration_images"]     # training digits (after the model digits) that calibrate the tiles
SETTING = TdcSetting(_VGG8["lsb"], _VGG8["windows"])
FACE_SETTING = TdcSetting(_FACES["lsb"], _FACES["windows"])


def on_die(die: int, pipeline: str, work: Any) -> Any:
    """What ``work(session)`` returns, run in a chip session with ``pipeline`` on die ``die``."""
    with default_bench(die) as bench:
        return run_direct(chip_session(work, {"pipeline": pipeline}, PIPELINES[pipeline]), bench)[1]


def vgg8_models(vgg8, digits, die: int, pipeline: str, model_digits: int, calibration: tuple[int, int]) -> tuple:
    """(per-layer error models, the pass's costs) of the VGG-8's array layers on die ``die``."""
    layers = array_layers(vgg8)

    def work(session):
        models = yield from measure_layer_models(
            session, vgg8, digits.train_images[:model_digits],
            digits.train_images[model_digits: model_digits + calibration[0]], layers, SETTING,
            calibration_vectors=calibration[1])
        return models, pass_costs(session, model_digits, chip_ops(vgg8, layers), "network")

    return on_die(die, pipeline, work)


def faces_on_die(net, faces, die: int, pipeline: str) -> tuple[np.ndarray, dict]:
    """(predictions of the test patches, the pass's costs) with the face network's chip layer on die ``die``."""
    chip = [int(net.metadata["chip_layer"])]
    calibration = seeded_subset(np.random.default_rng(0), faces.train_images, _FACES["calibration_patches"])

    def work(session):
        done = yield from chip_forward(session, net, faces.test_images, calibration, [FACE_SETTING], "faces", chip)
        return done.forwards[0].predictions, pass_costs(session, len(faces.test_images), chip_ops(net, chip), "faces")

    return on_die(die, pipeline, work)


def over_dies(prefix: str, software: float, software_ci: tuple[float, float], chip: list[float],
              costs: dict) -> dict[str, Any]:
    """The JSON figures of one network over the dies (module doc)."""
    mean, half = mean_interval(chip)
    gap, gap_half = mean_interval([100 * (software - c) for c in chip])
    return {f"{prefix}_software_accuracy": software, f"{prefix}_software_accuracy_ci95": list(software_ci),
            f"{prefix}_chip_accuracy_mean": mean, f"{prefix}_chip_accuracy_ci95": half,
            f"{prefix}_chip_accuracy_by_die": chip, f"{prefix}_gap_points_mean": gap,
            f"{prefix}_gap_points_ci95": gap_half,
            f"{prefix}_energy_per_image_full_j": costs["energy_per_image_full_j"],
            f"{prefix}_tops_per_w": costs["tops_per_w"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the gate's version: 2 model digits, 200 test digits")
    parser.add_argument("--vgg8-images", type=int, default=10_000, help="test digits emulated on each die")
    parser.add_argument("--networks", default="vgg8,faces", help="the parts to run (vgg8, faces)")
    parser.add_argument("--docs", action="store_true", help="write the parts' tables into docs/networks.md")
    args = parser.parse_args()
    vgg8, digits = load_network(SHIPPED_VGG8), load_mnist()
    if args.short:
        models, _ = vgg8_models(vgg8, digits, DIES[0], "optimised", 2, (4, 64))
        _short(vgg8, models, digits.test_images[:200], digits.test_labels[:200])
        return
    parts = set(args.networks.split(","))
    figures: dict[str, Any] = {"dies": list(DIES)}
    if "vgg8" in parts:
        figures.update(_vgg8(vgg8, digits, args.vgg8_images))
        if args.docs:
            write_between_markers(DOCS, *VGG8_MARKERS, vgg8_lines(figures))
    if "faces" in parts:
        figures.update(_faces())
        if args.docs:
            write_between_markers(DOCS, *FACE_MARKERS, face_lines(figures))
    write_results("networks", figures)


def _vgg8(vgg8, digits, count: int) -> dict[str, Any]:
    """The VGG-8's figures over the dies (module doc) on the first ``count`` test digits."""
    calibration = (CALIBRATION_IMAGES, CALIBRATION_VECTORS)
    images, labels = digits.test_images[:count], digits.test_labels[:count]
    on_array = array_layers(vgg8)
    start = time.perf_counter()
    software = vgg8.predict(images, batch=BATCH) == labels
    numpy_s = time.perf_counter() - start
    emulated, vgg8_costs, emulation_s = [], {}, 0.0
    for die in DIES:
        models, costs = vgg8_models(vgg8, digits, die, "optimised", MODEL_DIGITS, calibration)
        start = time.perf_counter()
        emulated.append(float((vgg8.predict(images, emulation_product(models, 0, on_array), batch=BATCH)
                               == labels).mean()))
        if die == DIES[0]:
            emulation_s, vgg8_costs = time.perf_counter() - start, costs
        print(f"VGG-8 die {die}: emulated {100 * emulated[-1]:6.2f} %", flush=True)
    paper_models, _ = vgg8_models(vgg8, digits, DIES[0], "paper-like", MODEL_DIGITS, calibration)
    paper_like = float((vgg8.predict(images, emulation_product(paper_models, 0, on_array), batch=BATCH)
                        == labels).mean())
    figures = {**over_dies("vgg8", float(software.mean()), wilson(int(software.sum()), len(labels)), emulated,
                           vgg8_costs),
               "vgg8_paper_like_chip_accuracy": paper_like,
               "emulation_s": round(emulation_s, 1), "numpy_s": round(numpy_s, 1),
               "ratio": round(emulation_s / numpy_s, 2), "numpy_over_emulation": round(numpy_s / emulation_s, 4),
               "images": int(len(images))}
    print(f"VGG-8 software {100 * software.mean():6.2f} %, emulated {100 * np.mean(emulated):6.2f} % (mean of "
          f"{len(DIES)} dies), paper-like {100 * paper_like:6.2f} %; numpy {numpy_s:.1f} s, emulation "
          f"{emulation_s:.1f} s", flush=True)
    return figures


def _faces() -> dict[str, Any]:
    """The face network's figures over the dies (module doc)."""
    from procedures.networks.host.faces import FACE, load_faces

    net = load_network(SHIPPED_FACES)
    faces = load_faces(int(net.metadata.get("data_seed", 0)))
    labels, is_face = faces.test_labels, faces.test_labels == FACE
    software = net.predict(faces.test_images) == labels
    chip, paper_like, per_class, face_costs = [], [], {"face": [], "nonface": []}, {}
    first_die: dict[str, list[float]] = {}
    for die in DIES:
        predictions, costs = faces_on_die(net, faces, die, "optimised")
        right = predictions == labels
        if not first_die:
            first_die = {"all": _with_wilson(right), "face": _with_wilson(right[is_face]),
                         "nonface": _with_wilson(right[~is_face])}
        chip.append(float(right.mean()))
        per_class["face"].append(float(right[is_face].mean()))
        per_class["nonface"].append(float(right[~is_face].mean()))
        face_costs = face_costs or costs
        paper_predictions, _ = faces_on_die(net, faces, die, "paper-like")
        paper_like.append(float((paper_predictions == labels).mean()))
        print(f"faces die {die}: chip {100 * chip[-1]:6.2f} % (faces {100 * per_class['face'][-1]:.1f} %, "
              f"non-faces {100 * per_class['nonface'][-1]:.2f} %), paper-like {100 * paper_like[-1]:6.2f} %",
              flush=True)
    out = over_dies("face", float(software.mean()), wilson(int(software.sum()), len(labels)), chip, face_costs)
    for name, values in per_class.items():
        mean, half = mean_interval(values)
        out[f"face_chip_{name}_accuracy_mean"], out[f"face_chip_{name}_accuracy_ci95"] = mean, half
        out[f"face_chip_{name}_accuracy_by_die"] = values
    out.update({f"face_die1_{name}_accuracy_with_ci95": v for name, v in first_die.items()})
    out.update(face_software_face_accuracy_with_ci95=_with_wilson(software[is_face]),
               face_software_nonface_accuracy_with_ci95=_with_wilson(software[~is_face]))
    mean, half = mean_interval(paper_like)
    out.update(face_paper_like_chip_accuracy=mean, face_paper_like_chip_accuracy_ci95=half,
               face_test_patches=int(len(labels)), face_test_faces=int(is_face.sum()))
    return out


def _with_wilson(right: np.ndarray) -> list[float]:
    """[accuracy, Wilson 95 % low, high] of boolean outcomes."""
    return [float(right.mean()), *wilson(int(right.sum()), len(right))]


def _percent(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


def vgg8_lines(f: dict[str, Any]) -> list[str]:
    """The VGG-8's table for docs/networks.md from its figures."""
    low, high = f["vgg8_software_accuracy_ci95"]
    return [f"Measured by `python benchmarks/networks.py --networks vgg8 --vgg8-images {f['images']} --docs` on "
            f"dies {DIES[0]}-{DIES[-1]}.", "",
            f"| first {f['images']:,} test digits | accuracy | 95 % interval |", "| --- | --- | --- |",
            f"| software (numpy) | {_percent(f['vgg8_software_accuracy'])} | {_percent(low)}–{_percent(high)} "
            "(Wilson) |",
            f"| emulated, dies {DIES[0]}–{DIES[-1]} (mean) | **{_percent(f['vgg8_chip_accuracy_mean'])}** "
            f"| ± {100 * f['vgg8_chip_accuracy_ci95']:.2f} points (t, over dies) |",
            "| … per die | " + " / ".join(_percent(a) for a in f["vgg8_chip_accuracy_by_die"]) + " | |",
            f"| software minus emulated, dies {DIES[0]}–{DIES[-1]} | **{f['vgg8_gap_points_mean']:.2f} points** "
            f"| ± {f['vgg8_gap_points_ci95']:.2f} (t, over dies) |",
            f"| emulated with die {DIES[0]}'s paper-like models | {_percent(f['vgg8_paper_like_chip_accuracy'])} | |",
            "| paper (60,000 training digits; its own chip) | 98.86 % emulated, 99.28 % software, gap 0.42 | |", "",
            f"Full-system energy of the array layers (die {DIES[0]}, the pass over the {MODEL_DIGITS} model digits, "
            "programming shared by a batch of 10,000, the calibration spread over the pass's digits, host decoding "
            f"estimated): {f['vgg8_energy_per_image_full_j'] * 1e6:.2f} µJ per digit, {f['vgg8_tops_per_w']:.1f} "
            f"TOPS/W. Emulating took {f['emulation_s']} s against {f['numpy_s']} s of numpy inference on die "
            f"{DIES[0]} (ratio {f['ratio']})."]


def face_lines(f: dict[str, Any]) -> list[str]:
    """The face network's table for docs/networks.md from its figures."""
    def cell(v: list[float], digits: int = 2) -> str:
        return f"{_percent(v[0], digits)} ({100 * v[1]:.{digits}f}–{100 * v[2]:.{digits}f})"

    n, faces = f["face_test_patches"], f["face_test_faces"]
    sw = [f["face_software_accuracy"], *f["face_software_accuracy_ci95"]]
    dies = f"dies {DIES[0]}–{DIES[-1]}"
    return ["Measured by `python benchmarks/networks.py --networks faces --docs`.", "",
            f"| | all {n:,} patches | {faces} faces | {n - faces:,} non-faces |", "| --- | --- | --- | --- |",
            f"| software (numpy) | {cell(sw)} | {cell(f['face_software_face_accuracy_with_ci95'])} "
            f"| {cell(f['face_software_nonface_accuracy_with_ci95'])} |",
            f"| chip layer, die {DIES[0]} | {cell(f['face_die1_all_accuracy_with_ci95'])} "
            f"| {cell(f['face_die1_face_accuracy_with_ci95'])} | {cell(f['face_die1_nonface_accuracy_with_ci95'])} |",
            f"| chip layer, {dies}, mean ± t interval | **{_percent(f['face_chip_accuracy_mean'])} ± "
            f"{100 * f['face_chip_accuracy_ci95']:.2f}** | {_percent(f['face_chip_face_accuracy_mean'], 1)} ± "
            f"{100 * f['face_chip_face_accuracy_ci95']:.1f} | {_percent(f['face_chip_nonface_accuracy_mean'])} ± "
            f"{100 * f['face_chip_nonface_accuracy_ci95']:.2f} |",
            "| … per die | " + " / ".join(f"{100 * a:.2f}" for a in f["face_chip_accuracy_by_die"]) + " % | "
            + " / ".join(f"{100 * a:.1f}" for a in f["face_chip_face_accuracy_by_die"]) + " % | |",
            f"| paper-like pipeline, {dies} | {_percent(f['face_paper_like_chip_accuracy'])} ± "
            f"{100 * f['face_paper_like_chip_accuracy_ci95']:.2f} | | |",
            f"| software minus chip, {dies} | {f['face_gap_points_mean']:+.2f} ± {f['face_gap_points_ci95']:.2f} "
            "points | | |",
            "| paper (one layer on the chip; its own data set) | 93.4 % | | |", "",
            f"Full-system energy of the chip layer (die {DIES[0]}, batch of 10,000, host decoding estimated, "
            f"`energy_budget.full_energy`): {f['face_energy_per_image_full_j'] * 1e9:.2f} nJ per patch, "
            f"{f['face_tops_per_w']:.1f} TOPS/W over the chip layer's operations."]


def _short(vgg8, models, images: np.ndarray, labels: np.ndarray) -> None:
    """The gate's figures: numpy inference and emulation of a few digits, side by side, best of three rounds."""
    times = side_by_side({"numpy": lambda: vgg8.accuracy(images, labels, batch=BATCH),
                          "emulation": lambda: vgg8.accuracy(images, labels, emulation_product(
                              models, 0, frozenset(models)), batch=BATCH)}, rounds=3)
    numpy_s, emulation_s = best(times["numpy"]), best(times["emulation"])
    write_results("networks", {"emulation_s": round(emulation_s, 2), "numpy_s": round(numpy_s, 2),
                               "ratio": round(emulation_s / numpy_s, 2),
                               "numpy_over_emulation": round(numpy_s / emulation_s, 4), "images": int(len(images))},
                  short=True)


if __name__ == "__main__":
    main()
