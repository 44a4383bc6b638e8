"""Which trained face network to ship, and the detection's ``margin`` and ``overlap``, chosen on validation data,
never on test data (the ``faces`` extra; torch is not needed: the candidates are ``.npz`` files).

Every candidate was trained by ``train_faces`` on the same data
(host/faces.py, the same data seed).  On each die of ``--dies`` of the
simulated bench, each candidate's chip layer is calibrated with
``CALIBRATION_PATCHES`` training patches (seeded) and the validation
patches classified with it on the chip (as face-detection does the test
patches).  The validation set is mostly non-faces, so the rule ranks by the
balanced accuracy (the mean of the face and the non-face accuracy) on the
chip, averaged over the dies; ties by the chip's plain accuracy.

The detection settings are then chosen for the pick on the validation
detection image (host/detection.validation_image: a validation photograph
with validation faces pasted in at known boxes), every window scored with
the chip layer on the first die: every pair of MARGINS x OVERLAPS is scored
by F1 of its kept boxes against the pasted faces (a face found by a box
overlapping it by IoU >= 0.5; a box overlapping no face is false), ties by
faces found, then the first listed (smaller margin, then smaller overlap).

The pick is written to ``--out`` with both selections in its metadata
(``selection``, ``detection_selection``) and, the choices made, its test
accuracy (the report).  Run ``python -m procedures.networks.training.select_faces --help``;
the last line printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchspec.tdc import TdcSetting

from ..chip.network import chip_forward, seeded_subset
from ..host.detection import detect, match, pyramid_windows, validation_image
from ..host.faces import FACE, FaceData, load_faces
from ..host.network import BinaryNetwork
from ..host.npz import load_network, save_network
from ..host.selection import Candidate, Selection, grid
from .on_die import die_session

COMMAND = "procedures.networks.training.select_faces"
RANK_BY = ("chip_validation_balanced_mean", "chip_validation_accuracy_mean")
DETECTION_RANK_BY = ("f1", "found")
MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
OVERLAPS = (0.05, 0.1, 0.2, 0.3)
CALIBRATION_PATCHES = 512
SETTING = TdcSetting(0.4e-9)              # face-detection's reading of the chip layer: one window, LSB 0.4 ns
BATCH = 500


def class_figures(prefix: str, predictions: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """``{prefix}_accuracy``, ``{prefix}_face``, ``{prefix}_nonface`` (per-class accuracies) and
    ``{prefix}_balanced`` (their mean), fractions."""
    right = predictions == labels
    face, nonface = float(right[labels == FACE].mean()), float(right[labels != FACE].mean())
    return {f"{prefix}_accuracy": float(right.mean()), f"{prefix}_face": face, f"{prefix}_nonface": nonface,
            f"{prefix}_balanced": (face + nonface) / 2}


def _calibration(data: FaceData) -> np.ndarray:
    return seeded_subset(np.random.default_rng(0), data.train_images, CALIBRATION_PATCHES)


def chip_scores(net: BinaryNetwork, images: np.ndarray, calibration: np.ndarray, die: int) -> np.ndarray:
    """Class scores (n, 2) of ``images`` with the network's chip layer on die ``die``."""
    with die_session(die) as (run, session):
        done = run(chip_forward(session, net, images, calibration, [SETTING], "faces",
                                [int(net.metadata["chip_layer"])], batch=BATCH, keep_preactivations=False))
    return done.forwards[0].scores


def network_figures(net: BinaryNetwork, data: FaceData, dies: list[int]) -> dict[str, Any]:
    """A candidate's validation figures: software, and on the chip per die and averaged over ``dies``."""
    software = net.predict(data.validation_images)
    out: dict[str, Any] = class_figures("software_validation", software, data.validation_labels)
    per_die = [class_figures("chip", chip_scores(net, data.validation_images, _calibration(data), die).argmax(1),
                             data.validation_labels) for die in dies]
    for key in ("accuracy", "balanced"):
        values = [f[f"chip_{key}"] for f in per_die]
        out[f"chip_validation_{key}_mean"] = float(np.mean(values))
        out[f"chip_validation_{key}_by_die"] = values
    return out


def choose_network(paths: list[Path], data: FaceData, dies: list[int]) -> Selection:
    """The selection among the candidate files ``paths`` on ``data``'s validation patches; reads neither its test
    patches nor any test figure of the candidates."""
    candidates = []
    for path in paths:
        net = load_network(path)
        if net.metadata.get("data_digest") != data.digest():
            raise ValueError(f"{path}: not trained on this face data (data digest differs; train it with train_faces "
                             "and the same --data-seed)")
        found = network_figures(net, data, dies)
        print(json.dumps({"candidate": str(path), **found}), flush=True)
        candidates.append(Candidate(Path(path).stem, str(net.metadata.get("command", "")), found))
    return Selection(tuple(candidates), RANK_BY,
                     f"the {len(data.validation_labels)} validation patches "
                     f"({int(data.validation_labels.sum())} faces), chip layer on dies "
                     f"{', '.join(map(str, dies))} ({CALIBRATION_PATCHES} training patches calibrate it)")


def choose_detection(net: BinaryNetwork, data: FaceData, die: int, stride: int = 3) -> Selection:
    """The detection's margin and overlap chosen on the validation detection image (module doc)."""
    image, truths = validation_image(data.validation_images[data.validation_labels == FACE])
    windows = pyramid_windows(image, stride=stride)
    scores = chip_scores(net, windows.patches, _calibration(data), die)
    score = scores[:, 1] - scores[:, 0]
    candidates = []
    for settings in grid(("margin", "overlap"), (MARGINS, OVERLAPS)):
        kept = detect(windows.boxes, score, settings["margin"], settings["overlap"])
        found, false = match(windows.boxes[kept], truths)
        f1 = 2 * found / (2 * found + (len(truths) - found) + false)
        candidates.append(Candidate(f"margin={settings['margin']:g},overlap={settings['overlap']:g}",
                                    "face-detection settings",
                                    {**settings, "found": found, "false_boxes": false, "f1": f1}))
    return Selection(tuple(candidates), DETECTION_RANK_BY,
                     f"the validation detection image (host/detection.validation_image: {len(truths)} validation "
                     f"faces pasted into a validation photograph), {len(windows.boxes)} windows at stride "
                     f"{stride}, chip layer on die {die}")


def ship(path: Path, network: Selection, detection: Selection, data: FaceData, out: Path) -> dict[str, Any]:
    """Write the picked candidate ``path`` to ``out`` with both selections and, the choices made, its test
    accuracy in its metadata; the metadata."""
    net = load_network(path)
    net.metadata["selection"] = network.record()
    net.metadata["detection_selection"] = detection.record()
    net.metadata["test_accuracy"] = net.accuracy(data.test_images, data.test_labels)
    save_network(net, out)
    return net.metadata


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m {COMMAND}", description="choose the face network to ship and "
                                "the detection's margin and overlap, on validation data")
    p.add_argument("candidates", type=Path, nargs="+", help="candidate networks (.npz from train_faces)")
    p.add_argument("--dies", default="1,2,3", help="dies of the simulated bench the candidates are measured on")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the face data the candidates were trained on")
    p.add_argument("--out", type=Path, help="write the pick here, with its selections")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: choose, print a JSON summary (last line), optionally ship the pick."""
    args = _parser().parse_args(argv)
    data = load_faces(args.data_seed)
    dies = [int(d) for d in args.dies.split(",")]
    network = choose_network(args.candidates, data, dies)
    pick = next(p for p in args.candidates if Path(p).stem == network.pick.name)
    detection = choose_detection(load_network(pick), data, dies[0])
    summary: dict[str, Any] = {"selection": network.record(), "detection_selection": detection.record()}
    if args.out is not None:
        meta = ship(pick, network, detection, data, args.out)
        summary.update(saved=str(args.out), test_accuracy=meta["test_accuracy"])
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
