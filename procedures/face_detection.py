"""face-detection: a ten-layer binary network classifies face / non-face patches with one layer on the chip.

The paper (Jung et al., Nature 601, 2022): "we also use the array to
implement a single layer in a ten-layer neural network to realize face
detection with an accuracy of 93.4 %".

The layer on the array is the network's first dense layer (layer 7, 576
inputs x 128 outputs: 18 full 64 x 64 tiles, no padding), the largest weight
matrix of the network; every other layer runs on the host.  The layer runs
through the networks' chip runtime (networks/chip/): each tile
programmed once, its windows placed on its partial sums and calibrated with
the layer's inputs for ``calibration_patches`` training patches; the
detection pass reuses those calibrations.

1. Classification of the test patches (networks/host/faces.py) in software and
   with the layer on the chip; accuracies (all patches, faces, non-faces) with
   their 95 % Wilson intervals, beside the paper's.
2. Detection: every 25 x 25 window of an image pyramid over scikit-image's
   astronaut (networks/host/detection.py) classified with the layer on the chip;
   windows whose face score beats the non-face score by ``margin`` are
   candidates, non-maximum suppression keeps the best of overlapping ones.
   The picture with the kept boxes is the run's detection figure.

The network, and the default ``margin`` and ``overlap``, were chosen on
validation data (training/select_faces.py), never on the test patches or the
astronaut; the network's metadata records both choices and the report
repeats them.

Needs the ``faces`` extra (scikit-image, which ships the data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np

from labctl.plan import Checkpoint, Compute, Context, Plan, Record
from labctl.plotting import figure
from labctl.extras import MissingExtra, require
from labctl.procedure import Param, ParameterError, procedure
from labctl.rundata import RunData
from procedures.networks.chip.network import chip_forward, seeded_subset
from procedures.networks.chip.pipeline import PIPELINES
from procedures.networks.chip.energy_budget import chip_ops, pass_costs, report_energy
from procedures.networks.chip.session import Session, chip_session
from procedures.networks.host.accuracy import accuracy, paired_gap, table
from procedures.networks.host.evaluation import ERROR_EDGES, confusion, histogram
from procedures.networks.host.network import BinaryNetwork
from procedures.networks.host.npz import SHIPPED_FACES, NetworkFormatError, load_network
from procedures.networks.host.selection import describe, from_record
from benchspec.tdc import TdcSetting

PAPER_ACCURACY = 0.934
BATCH = 500                   # windows per host pass


def _network(path: Path | None) -> BinaryNetwork:
    return load_network(SHIPPED_FACES if path is None else path)


def detection_settings(net: BinaryNetwork, margin: float | None, overlap: float | None) -> tuple[float, float]:
    """(margin, overlap): those given, else the ones the network's ``detection_selection`` picked on validation
    data; ParameterError when neither is there."""
    record = net.metadata.get("detection_selection")
    picked = from_record(record).pick.figures if record else {}
    margin = picked.get("margin") if margin is None else margin
    overlap = picked.get("overlap") if overlap is None else overlap
    if margin is None or overlap is None:
        name = "margin" if margin is None else "overlap"
        raise ParameterError(f"parameter {name}: the network records no detection settings chosen on validation "
                             f"data (metadata 'detection_selection'); give --{name}")
    return float(margin), float(overlap)


def _validate(params: dict, store: Any) -> None:
    try:
        net = _network(params["network"])
    except NetworkFormatError as exc:
        raise ParameterError(f"parameter network: {exc}") from None
    layer = net.metadata.get("chip_layer")
    if not isinstance(layer, int) or not 0 <= layer < len(net.weighted):
        raise ParameterError("parameter network: its metadata names no 'chip_layer'")
    detection_settings(net, params["margin"], params["overlap"])
    try:
        require("faces", "face-detection")
    except MissingExtra as exc:
        raise ParameterError(str(exc)) from None


def plot_detection(data: RunData) -> Any:
    """The astronaut with the boxes kept (on-chip layer in the loop) and the true face."""
    image = np.asarray(data.last("image"))
    boxes = np.atleast_2d(np.asarray(data.last("detections")))
    truth = np.asarray(data.last("face_box"))
    fig, ax = figure(1, 1, 6.4, 6.4)
    ax.imshow(image)
    ax.add_patch(_rectangle(truth, "white", "--"))
    for top, left, height, width, score in boxes.reshape(-1, 5):
        ax.add_patch(_rectangle((top, left, height, width), "lime", "-"))
        ax.text(left, top - 4, f"{score:.1f}", color="lime", fontsize=7)
    s = data.summary or {}
    if s:
        ax.set_title(f"{s['detections']} detection(s), best overlap with the face {s['best_overlap']:.2f}; "
                     f"patch accuracy chip {100 * s['chip_accuracy']:.1f} % (paper {100 * PAPER_ACCURACY:.1f} %)",
                     fontsize=8)
    ax.axis("off")
    return fig


def _rectangle(box: Any, colour: str, style: str) -> Any:
    from matplotlib.patches import Rectangle

    top, left, height, width = box
    return Rectangle((left, top), width, height, fill=False, edgecolor=colour, linestyle=style, linewidth=1.6)


def plot_confusion(data: RunData) -> Any:
    """Confusion matrices of the test patches, software and with the layer on the chip."""
    fig, axes = figure(1, 2, 8, 3.6)
    for ax, name in zip(axes, ("software", "chip")):
        counts = np.asarray(data.last(f"confusion_{name}"))
        ax.imshow(counts, cmap="Blues")
        for (i, j), c in np.ndenumerate(counts):
            ax.text(j, i, str(c), ha="center", va="center", color="k" if c < counts.max() / 2 else "w")
        ax.set_xticks([0, 1], ["non-face", "face"])
        ax.set_yticks([0, 1], ["non-face", "face"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        s = data.summary or {}
        if s:
            ax.set_title(f"{name}: {100 * s[f'{name}_accuracy']:.1f} %", fontsize=9)
    return fig


def plot_chip_layer_errors(data: RunData) -> Any:
    """The on-chip layer: decoded minus ideal column MAC, and the pre-activation errors, on the test patches."""
    fig, axes = figure(1, 2, 10, 3.6)
    for ax, name, label in zip(axes, ("column_error_histogram", "preactivation_error_histogram"),
                               ("decoded − ideal 64-row column MAC", "chip − exact pre-activation")):
        h = np.asarray(data.last(name))
        centres = 0.5 * (ERROR_EDGES[1:] + ERROR_EDGES[:-1])
        mean = (h * centres).sum() / max(h.sum(), 1)
        std = np.sqrt(max((h * centres ** 2).sum() / max(h.sum(), 1) - mean ** 2, 0.0))
        ax.stairs(h, ERROR_EDGES, fill=True)
        ax.set_yscale("log")
        ax.set_xlabel(f"{label} (MAC)")
        ax.set_title(f"mean {mean:+.2f}, std {std:.2f}", fontsize=9)
    return fig


def _chip_layer_histograms(result: Any, outputs: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The on-chip layer's column-error and pre-activation-error histograms and pre-activation error std."""
    error = result.preactivations - result.exact
    return (histogram(result.decoded[:, :, :outputs] - result.ideal[:, :, :outputs]), histogram(error),
            float(np.std(error)))


def _no_histograms(result: Any, outputs: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The rehearsal's stand-in for ``_chip_layer_histograms``."""
    return np.zeros(len(ERROR_EDGES) - 1, np.int64), np.zeros(len(ERROR_EDGES) - 1, np.int64), 0.0


def _test_subset(labels: np.ndarray, patches: int | None) -> np.ndarray:
    """Indices of the test patches a run classifies: all of them, or ``patches`` evenly spaced over the
    held-out set (so both classes keep their share)."""
    if patches is None or patches >= len(labels):
        return np.arange(len(labels))
    return np.linspace(0, len(labels) - 1, patches).round().astype(np.int64)


def analyse(data: RunData) -> Plan:
    """Software beside the chip on the test patches (accuracies with intervals, confusion matrices), and the
    detection over the photograph from the chip's window scores."""
    from procedures.networks.host.detection import ASTRONAUT_FACE, MATCH_OVERLAP, detect, overlap as iou
    from procedures.networks.host.detection import pyramid_windows
    from procedures.networks.host.faces import FACE, load_faces, photo
    from skimage import data as images

    net = _network(data.parameters["network"])
    faces = load_faces(int(net.metadata.get("data_seed", 0)))
    tested = _test_subset(faces.test_labels, data.parameters.get("test_patches"))
    labels = faces.test_labels[tested]
    software = net.forward(faces.test_images[tested]).predictions
    chip = np.asarray(data.last("chip_predictions"), np.int64)
    yield Record("confusion_software", confusion(labels, software, 2), "patches",
                 "true class (row: non-face, face) against predicted (column)", ("true", "predicted"))
    yield Record("confusion_chip", confusion(labels, chip, 2), "patches",
                 "true class (row: non-face, face) against predicted (column)", ("true", "predicted"))
    chip_right, software_right = chip == labels, software == labels
    is_face = labels == FACE
    gap, gap_ci = paired_gap(software_right, chip_right)
    margin, limit = detection_settings(net, data.parameters["margin"], data.parameters["overlap"])
    search = pyramid_windows(photo("astronaut"), stride=data.parameters["stride"])
    scores = np.asarray(data.last("chip_window_scores"), np.float64)
    score = scores[:, 1] - scores[:, 0]
    candidates = np.flatnonzero(score > margin)
    kept = detect(search.boxes, score, margin, limit)
    boxes = np.column_stack([search.boxes[kept], score[kept]]) if kept.size else np.zeros((0, 5))
    truth = np.array(ASTRONAUT_FACE, np.float64)
    overlaps = iou(truth, search.boxes[kept]) if kept.size else np.zeros(0)
    yield Record("image", images.astronaut(), "grey level", "the photograph searched", ("row", "column", "rgb"))
    yield Record("face_box", truth, "px", "the true face: top, left, height, width")
    yield Record("detections", boxes, "px", "kept boxes: top, left, height, width, score", ("box", "field"))
    return {**accuracy("software", software_right), **accuracy("chip", chip_right),
            **accuracy("software_face", software_right[is_face]), **accuracy("chip_face", chip_right[is_face]),
            **accuracy("software_nonface", software_right[~is_face]), **accuracy("chip_nonface", chip_right[~is_face]),
            "gap_points": gap, "gap_points_ci95": gap_ci,
            "test_patches": len(labels), "test_faces": int(labels.sum()),
            "margin": margin, "overlap": limit, "selection": net.metadata.get("selection"),
            "detection_selection": net.metadata.get("detection_selection"),
            "search_windows": len(search.patches), "candidates": int(candidates.size),
            "detections": int(kept.size), "best_overlap": float(overlaps.max()) if kept.size else 0.0,
            "face_found": bool((overlaps >= MATCH_OVERLAP).any()),
            "false_detections": int((overlaps < MATCH_OVERLAP).sum())}


def _row(summary: dict, name: str) -> dict:
    return {"a": summary.get(f"chip{name}_accuracy"), "a_ci": summary.get(f"chip{name}_accuracy_ci95"),
            "b": summary.get(f"software{name}_accuracy"), "b_ci": summary.get(f"software{name}_accuracy_ci95")}


def report(summary: dict) -> list[str]:
    """Chip and software on the test patches (all, faces, non-faces), beside the paper, in points with 95 %
    intervals; the detection; what was chosen on validation data."""
    faces = summary["test_faces"]
    lines = table(("chip", "software"), [
        ("all patches", {**_row(summary, ""), "gap": summary["gap_points"], "gap_ci": summary.get("gap_points_ci95")}),
        (f"faces ({faces})", _row(summary, "_face")),
        (f"non-faces ({summary['test_patches'] - faces})", _row(summary, "_nonface")),
        ("paper", {"a": PAPER_ACCURACY})], f"{summary['test_patches']} test patches")
    lines.append(f"  detection (margin {summary['margin']:g}, overlap {summary['overlap']:g}): "
                 f"{summary['detections']} boxes kept of {summary['candidates']} candidates in "
                 f"{summary['search_windows']} windows; the face {'found' if summary['face_found'] else 'missed'} "
                 f"(best overlap {summary['best_overlap']:.2f}), {summary['false_detections']} false boxes")
    lines += describe(summary.get("selection"), "network chosen on validation data")
    lines += describe(summary.get("detection_selection"), "detection settings chosen on validation data")
    return lines + report_energy(summary, "the chip layer's")


@procedure(plots=(plot_detection, plot_confusion, plot_chip_layer_errors), validate=_validate, analysis=analyse,
           report=report, rehearsal="nominal", resumes="after the test patches, then after the photograph")
def face_detection(
    network: Annotated[Path | None, Param("face network .npz (default: the shipped one)")] = None,
    lsb: Annotated[float, Param("TDC LSB of the chip layer's windows", "s", 0.0625e-9, 4e-9)] = 0.4e-9,
    windows: Annotated[int, Param("TDC windows each vector is read under", low=1, high=9)] = 1,
    calibration_patches: Annotated[int, Param("training patches whose layer inputs calibrate every tile",
                                              low=16, high=10_000)] = 512,
    test_patches: Annotated[int | None, Param("held-out patches classified, evenly spaced over the test set "
                                              "(default: all of them)", low=16, high=100_000)] = None,
    stride: Annotated[int, Param("sliding-window step in the rescaled images", "px", 1, 25)] = 3,
    margin: Annotated[float | None, Param("face score minus non-face score a window needs to be a candidate "
                                          "(default: the network's, chosen on validation data)",
                                          low=-100, high=100)] = None,
    overlap: Annotated[float | None, Param("non-maximum suppression: largest overlap (IoU) two kept boxes may "
                                           "have (default: the network's, chosen on validation data)",
                                           low=0.0, high=1.0)] = None,
    pipeline: Annotated[str, Param("how the chip's layers are read: the paper's way (paper-like), or with the "
                                   "optimised runtime's steps added one by one (docs/networks.md)",
                                   choices=tuple(PIPELINES))] = "optimised",
) -> Plan:
    """face / non-face patches and sliding-window face detection, one layer of ten on the chip"""
    from procedures.networks.host.detection import pyramid_windows
    from procedures.networks.host.faces import load_faces, photo

    context = yield Context()
    net = _network(network)
    chip = [int(net.metadata["chip_layer"])]
    setting = TdcSetting(lsb, windows)
    faces = load_faces(int(net.metadata.get("data_seed", 0)))
    calibration = seeded_subset(context.rng, faces.train_images, calibration_patches)
    tested = faces.test_images[_test_subset(faces.test_labels, test_patches)]
    done = (context.resume or {}).get("done", [])
    outputs = net.weighted[chip[0]].outputs

    def classify(session: Session) -> Plan:
        if "patches" in done:
            costs = context.kept.last("pass_costs")
        else:
            patches = yield from chip_forward(session, net, tested, calibration, [setting], "faces", chip,
                                              keep_columns=True)
            costs = pass_costs(session, len(tested), chip_ops(net, chip), "faces")
            yield Record("pass_costs", costs)
            yield Record("chip_predictions", patches.forwards[0].predictions.astype(np.int8), "class",
                         "the chip's class of every test patch (0 non-face, 1 face)", ("patch",))
            columns, preactivations, error_std = yield Compute(_chip_layer_histograms, patches.layers[0][chip[0]],
                                                               outputs, stub=_no_histograms)
            yield Record("error_bin_edges", ERROR_EDGES, "MAC")
            yield Record("column_error_histogram", columns, "column MACs",
                         "on-chip layer: decoded minus ideal 64-row column MAC", ("error_bin",))
            yield Record("preactivation_error_histogram", preactivations, "values",
                         "on-chip layer: chip minus exact pre-activation", ("error_bin",))
            yield Record("chip_preactivation_error_std", error_std, "MAC")
            yield Checkpoint({"done": ["patches"]})
        search = pyramid_windows(photo("astronaut"), stride=stride)
        detection = yield from chip_forward(session, net, search.patches, calibration, [setting], "faces", chip,
                                            batch=BATCH, keep_preactivations=False)
        yield Record("chip_window_scores", detection.forwards[0].scores.astype(np.float32), "",
                     "class scores (non-face, face) of every search window, the chip layer in the loop",
                     ("window", "class"))
        return costs

    _, costs = yield from chip_session(classify, {"lsb_s": lsb, "windows": windows, "pipeline": pipeline},
                                       PIPELINES[pipeline])
    return {"paper_accuracy": PAPER_ACCURACY, "chip_layer": chip[0], **(costs or {})}
