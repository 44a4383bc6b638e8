"""vgg8-emulation: the binary VGG-8 on MNIST with every 64-row partial sum carrying a measured chip error.

The paper (Jung et al., Nature 601, 2022): "in an emulation of a deeper,
eight-layer VGG-8 network with measured errors, the classification accuracy
improves to 98.86 % (software baseline: 99.28 %)".

1. The error models: from an earlier run (``--error-run``: any run that
   recorded ``error_values``, ``error_probabilities``, ``error_counts``,
   such as mac-errors, or per-layer ``layer_error_*``), or measured now on
   this die through the networks' chip runtime and recorded
   (networks/chip/error_runs.py): the generic model of mac-errors, and one model
   per layer from the network itself on the chip for ``model_images``
   training digits (each tile calibrated with its inputs for
   ``calibration_images`` other training digits), which the emulation
   then uses.
2. Software: the network's plain numpy inference of the test digits.
3. Emulation: the same network with every 64-row column MAC of every tile of
   every binary layer given an error drawn from the model (seeded).
   The layers on the array are all but the network's ``host_layers``
   (metadata; the first layer by default).
4. Validation of the emulator: the first two array layers really on
   the chip for ``validation_images`` digits (the rest on the host), and the
   same slice emulated; the pre-activation errors are compared neuron by
   neuron (Welch z of the neurons' mean and rms error: host/evaluation.agreement)
   and the accuracies given.

Records accuracies beside the paper's, the confusion matrix, every layer's
error histogram, and the validation's histograms and statistics.  The
shipped network was chosen among trained variants on validation digits held
out of the training set (training/select_vgg8.py), never on test digits; its
metadata records the choice and the report repeats it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np

from labctl.plan import Checkpoint, Compute, Context, Load, Plan, Progress, Record
from labctl.plotting import figure
from labctl.procedure import Folder, Param, ParameterError, RunId, procedure, seed_param
from labctl.rundata import RunData, read_run
from procedures.networks.chip.emulation import emulation_product
from procedures.networks.chip.error_model import ErrorModel
from procedures.networks.chip.error_runs import measure_generic_pairs, measure_layer_models, record_generic_model
from procedures.networks.chip.network import chip_forward, seeded_subset
from procedures.networks.chip.pipeline import PIPELINES
from procedures.networks.chip.energy_budget import chip_ops, pass_costs, report_energy
from procedures.networks.chip.session import Costs, Session, chip_session
from procedures.networks.chip.stored import error_models_from_run, holds_error_model
from procedures.networks.host.accuracy import accuracy, paired_gap, table
from procedures.networks.host.evaluation import (ERROR_EDGES, ErrorRecorder, agreement_of, confusion, histogram,
                                                  unit_statistics)
from procedures.networks.host.idx import DatasetError, check_mnist_folder, load_mnist
from procedures.networks.host.layers import Convolution
from procedures.networks.host.network import BinaryNetwork, array_layers
from procedures.networks.host.npz import SHIPPED_VGG8, NetworkFormatError, load_network
from procedures.networks.host.selection import describe
from benchspec.tdc import TdcSetting

PAPER_SOFTWARE = 0.9928
PAPER_EMULATED = 0.9886
BATCH = 250                     # digits per forward pass (bounds the im2col memory)
AGREEMENT_Z = 3.0               # |z| within which chip and emulation agree
GENERIC_MATRICES = 4            # matrices of the generic error model measured for the validation


def _network(path: Path | None) -> BinaryNetwork:
    return load_network(SHIPPED_VGG8 if path is None else path)


def _validate(params: dict, store: Any) -> None:
    try:
        net = _network(params["network"])
    except NetworkFormatError as exc:
        raise ParameterError(f"parameter network: {exc}") from None
    if not any(isinstance(layer, Convolution) for layer in net.layers):
        raise ParameterError("parameter network: not a convolutional network")
    if params["error_run"] is not None and store is not None and not holds_error_model(
            read_run(store, params["error_run"])):
        raise ParameterError(f"parameter error_run: run {params['error_run']} recorded no error model")
    if params["data"] is not None:
        try:
            check_mnist_folder(params["data"])
        except DatasetError as exc:
            raise ParameterError(f"parameter data: {exc}") from None


def chip_slice(session: Session, net: BinaryNetwork, images: np.ndarray, calibration_images: np.ndarray,
               setting: TdcSetting, calibration_vectors: int | None = None) -> Plan:
    """Plan: the validation slice (the first two array layers) on the chip for ``images``; records its
    predictions, and per slice layer the histogram and per-neuron statistics of its pre-activation errors.
    Returns the slice's layers (indices among the weighted layers)."""
    slice_ = sorted(array_layers(net))[:2]
    yield Record("validation_layers", np.array(slice_), "", "layers of the validation slice")
    chip = yield from chip_forward(session, net, images, calibration_images, [setting], "network", slice_,
                                   calibration_vectors=calibration_vectors)
    yield Record("validation_chip_predictions", chip.forwards[0].predictions.astype(np.int8), "class",
                 "the chip's class of every validation digit (the slice on the chip)", ("digit",))
    for layer in slice_:
        hist, stats = yield Compute(_error_statistics, chip.layers[0][layer], stub=_no_statistics)
        yield Record("validation_error_histogram", hist, "values",
                     f"layer {layer} on the chip: pre-activation minus exact", ("error_bin",))
        yield Record("validation_chip_neurons", stats, "MAC", f"layer {layer} on the chip: every neuron's mean "
                     "and rms pre-activation error", ("statistic", "neuron"))
    return slice_


def _error_statistics(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """A chip layer's pre-activation error: histogram, and per neuron mean and rms (2, neurons)."""
    errors = result.preactivations - result.exact
    return histogram(errors), unit_statistics(errors.T)


def _no_statistics(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """The rehearsal's stand-in for ``_error_statistics``."""
    return np.zeros(len(ERROR_EDGES) - 1, np.int64), np.zeros((2, result.preactivations.shape[1]))


def validate_emulation(data: RunData, net: BinaryNetwork, images: np.ndarray, labels: np.ndarray,
                       models: dict[str, ErrorModel | dict[int, ErrorModel]], seed: int) -> Plan:
    """Analysis: the validation slice emulated with each of ``models`` beside what the chip gave (recorded by
    ``chip_slice``); records each model's histograms and returns the summary entries."""
    slice_ = [int(k) for k in data.last("validation_layers")]
    chip_neurons = data.all("validation_chip_neurons")
    predictions = np.asarray(data.last("validation_chip_predictions"), np.int64)
    out: dict[str, Any] = {"validation_images": len(images), **accuracy("validation_chip", predictions == labels)}
    for k, layer in enumerate(slice_):
        out[f"validation_layer{layer}_chip_mean"] = float(chip_neurons[k][0].mean())
        out[f"validation_layer{layer}_chip_rms"] = float(chip_neurons[k][1].mean())
    for name, model in models.items():
        recorder = ErrorRecorder(emulation_product(model, seed + 1, frozenset(slice_)), len(net.weighted),
                                 keep=frozenset(slice_))
        emulated = net.forward(images, recorder)
        out[f"validation_{name}_accuracy"] = float((emulated.predictions == labels).mean())
        agrees = True
        for k, layer in enumerate(slice_):
            result = agreement_of(np.asarray(chip_neurons[k]), unit_statistics(recorder.kept[layer].T))
            yield Record("validation_error_histogram", histogram(recorder.kept[layer]), "values",
                         f"layer {layer} emulated with the {name} model: pre-activation minus exact", ("error_bin",))
            for key, value in (("mean", result.mean_b), ("rms", result.rms_b), ("mean_z", result.mean_z),
                               ("rms_z", result.rms_z)):
                out[f"validation_layer{layer}_{name}_{key}"] = value
            agrees = agrees and result.agrees(AGREEMENT_Z)
        out[f"validation_{name}_agrees"] = agrees
    return out


def plot_confusion(data: RunData) -> Any:
    """Confusion matrix of the emulated network on the test digits."""
    counts = np.asarray(data.last("confusion_emulated"))
    fig, ax = figure(1, 1, 5.6, 4.8)
    image = ax.imshow(np.log10(counts + 1), cmap="Blues")
    for (i, j), c in np.ndenumerate(counts):
        ax.text(j, i, str(c), ha="center", va="center", fontsize=6, color="k" if i != j else "w")
    ax.set_xticks(range(counts.shape[1]))
    ax.set_yticks(range(counts.shape[0]))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    s = data.summary or {}
    if s:
        ax.set_title(f"emulated {100 * s['emulated_accuracy']:.2f} % (software {100 * s['software_accuracy']:.2f} %;"
                     f" paper {100 * PAPER_EMULATED:.2f} / {100 * PAPER_SOFTWARE:.2f} %)", fontsize=8)
    fig.colorbar(image, ax=ax, label="log10(count + 1)")
    return fig


def plot_layer_errors(data: RunData) -> Any:
    """Every layer's emulated-minus-exact pre-activation histogram (the first layer per bit-plane)."""
    histograms = np.atleast_2d(np.asarray(data.last("layer_error_histogram")))
    rows = (len(histograms) + 3) // 4
    fig, axes = figure(rows, 4, 12, 2.6 * rows)
    centres = 0.5 * (ERROR_EDGES[1:] + ERROR_EDGES[:-1])
    for layer, ax in enumerate(np.ravel(axes)):
        if layer >= len(histograms):
            ax.axis("off")
            continue
        h = histograms[layer]
        mean = (h * centres).sum() / max(h.sum(), 1)
        std = np.sqrt(max((h * centres ** 2).sum() / max(h.sum(), 1) - mean ** 2, 0.0))
        ax.stairs(h, ERROR_EDGES, fill=True)
        ax.set_yscale("log")
        ax.set_title(f"layer {layer}: mean {mean:+.2f}, std {std:.2f}", fontsize=8)
        ax.set_xlabel("emulated − exact pre-activation (MAC)", fontsize=7)
    return fig


def plot_validation(data: RunData) -> Any:
    """Chip against emulation on the validation slice: pre-activation error histograms of its layers."""
    if "validation_error_histogram" not in data:
        fig, ax = figure(1, 1, 5, 1.5)
        ax.text(0.5, 0.5, "no validation on the chip in this run (validation_images = 0)", ha="center")
        ax.axis("off")
        return fig
    histograms = np.asarray(data.array("validation_error_histogram"))
    slice_ = np.atleast_1d(data.last("validation_layers"))
    layers = len(slice_)
    models = len(histograms) // layers - 1
    names = [k[len("validation_"):-len("_agrees")] for k in (data.summary or {}) if k.endswith("_agrees")]
    fig, axes = figure(1, layers, 5 * layers, 3.6)
    colours = ("tab:blue", "tab:green", "tab:red")
    for layer, ax in enumerate(np.atleast_1d(axes)):
        h = histograms[layer]
        ax.stairs(h / max(h.sum(), 1), ERROR_EDGES, label="chip", color="tab:orange", lw=1.6)
        for m in range(models):
            h = histograms[layers + m * layers + layer]
            label = f"emulated, {names[m]} model" if m < len(names) else f"emulated {m}"
            ax.stairs(h / max(h.sum(), 1), ERROR_EDGES, label=label, color=colours[m % 3], lw=1.0)
        ax.set_yscale("log")
        ax.set_xlim(-30, 30)
        ax.set_xlabel("pre-activation minus exact (MAC)")
        ax.set_ylabel("fraction")
        ax.set_title(f"layer {slice_[layer]}", fontsize=9)
        ax.legend(fontsize=7)
    return fig


def analyse(data: RunData) -> Plan:
    """The generic model fitted from the measured pairs; the emulator validated against the chip's slice; the
    test digits in software and emulated (accuracies with their intervals, confusion matrices, every layer's
    emulated error)."""
    p = data.parameters
    net = _network(p["network"])
    digits = load_mnist(p["data"])
    test_images, test_labels = digits.test_images[:p["images"]], digits.test_labels[:p["images"]]
    on_array = array_layers(net)
    if p["error_run"] is None:
        compared: dict[str, ErrorModel | dict[int, ErrorModel]] = {"generic": (yield from record_generic_model(data))}
        models = compared["layer"] = error_models_from_run(data)
    else:
        models = error_models_from_run((yield Load(p["error_run"])))
        compared = {"run": models}
    validation: dict[str, Any] = {}
    if p["validation_images"]:
        validation = yield from validate_emulation(data, net, digits.test_images[:p["validation_images"]],
                                                   digits.test_labels[:p["validation_images"]], compared,
                                                   p["emulation_seed"])
    software = np.empty(len(test_images), np.int64)
    emulated = np.empty(len(test_images), np.int64)
    recorder = ErrorRecorder(emulation_product(models, p["emulation_seed"], on_array), len(net.weighted))
    for start in range(0, len(test_images), BATCH):
        batch = test_images[start: start + BATCH]
        software[start: start + len(batch)] = net.predict(batch)
        emulated[start: start + len(batch)] = net.predict(batch, recorder)
        yield Progress("emulation", start + len(batch), len(test_images))
    classes = net.classes
    yield Record("confusion_software", confusion(test_labels, software, classes), "digits",
                 "software: true class (row) against predicted class (column)", ("true", "predicted"))
    yield Record("confusion_emulated", confusion(test_labels, emulated, classes), "digits",
                 "emulated: true class (row) against predicted class (column)", ("true", "predicted"))
    yield Record("error_bin_edges", ERROR_EDGES, "MAC")
    yield Record("layer_error_histogram", recorder.histograms, "values",
                 "per layer: emulated minus exact product (first layer per bit-plane)", ("layer", "error_bin"))
    mean, std = recorder.moments()
    software_right, emulated_right = software == test_labels, emulated == test_labels
    gap, gap_ci = paired_gap(software_right, emulated_right)
    return {**accuracy("software", software_right), **accuracy("emulated", emulated_right),
            "gap_points": gap, "gap_points_ci95": gap_ci, "accuracy_gap": gap / 100,
            "images": len(test_images), "error_models": "per layer" if isinstance(models, dict) else "generic",
            "array_layers": sorted(on_array),
            "layer_error_mean": [round(float(m), 4) for m in mean],
            "layer_error_std": [round(float(s), 4) for s in std],
            "network_recorded_accuracy": net.metadata.get("test_accuracy"),
            "selection": net.metadata.get("selection"), **validation}


def report(summary: dict) -> list[str]:
    """Emulated and software accuracy beside the paper's, in points with 95 % intervals; the validation."""
    lines = table(("emulated", "software"), [
        ("this network", {"a": summary["emulated_accuracy"], "a_ci": summary.get("emulated_accuracy_ci95"),
                          "b": summary["software_accuracy"], "b_ci": summary.get("software_accuracy_ci95"),
                          "gap": summary["gap_points"], "gap_ci": summary.get("gap_points_ci95")}),
        ("paper", {"a": PAPER_EMULATED, "b": PAPER_SOFTWARE, "gap": 100 * (PAPER_SOFTWARE - PAPER_EMULATED)})],
        f"{summary['images']} test digits, {summary['error_models']} error models")
    for name in ("layer", "generic", "run"):
        if f"validation_{name}_agrees" in summary:
            lines.append(f"  validation on the chip ({summary['validation_images']} digits, two layers): the {name} "
                         f"model {'agrees' if summary[f'validation_{name}_agrees'] else 'does NOT agree'} with "
                         "the chip's errors")
    lines += describe(summary.get("selection"), "network chosen on validation digits")
    return lines + report_energy(summary, "the validation slice's")


@procedure(plots=(plot_confusion, plot_layer_errors, plot_validation), validate=_validate, analysis=analyse,
           report=report, rehearsal="nominal", resumes="after each generic matrix and after the layers' error models")
def vgg8_emulation(
    error_run: Annotated[RunId | None, Param("use the error model(s) this earlier run recorded "
                                             "(default: measure them now)")] = None,
    network: Annotated[Path | None, Param("binary network .npz (default: the shipped VGG-8)")] = None,
    data: Annotated[Folder | None, Param("folder with the four standard MNIST files (default: the shipped subset)")]
        = None,
    images: Annotated[int, Param("test digits classified", low=1, high=10000)] = 10000,
    emulation_seed: Annotated[int, seed_param("seed of the emulated errors")] = 0,
    model_images: Annotated[int, Param("training digits run through the whole network on the chip to measure "
                                       "the per-layer error models", low=1, high=1000)] = 50,
    validation_images: Annotated[int, Param("test digits whose first two array layers also run on the chip (0: none)",
                                            low=0, high=10000)] = 100,
    calibration_images: Annotated[int, Param("training digits whose layer inputs calibrate every tile (not among "
                                             "the model digits)", low=4, high=1000)] = 64,
    calibration_vectors: Annotated[int, Param("calibration vectors of a tile at most (a convolution gives one per "
                                              "position)", low=64, high=1_000_000)] = 4096,
    generic_vectors: Annotated[int, Param("input vectors of each of the generic model's 4 matrices", low=64,
                                          high=1_000_000)] = 2000,
    lsb: Annotated[float, Param("TDC LSB of the windows", "s", 0.0625e-9, 4e-9)] = 0.4e-9,
    windows: Annotated[int, Param("TDC windows each vector is read under", low=1, high=9)] = 2,
    pipeline: Annotated[str, Param("how the chip's layers are read: the paper's way (paper-like), or with the "
                                   "optimised runtime's steps added one by one (docs/networks.md)",
                                   choices=tuple(PIPELINES))] = "optimised",
) -> Plan:
    """binary VGG-8 on MNIST, emulated with the chip's measured MAC errors, validated on the chip"""
    net = _network(network)
    digits = load_mnist(data)
    context = yield Context()
    state = context.resume or {}
    setting = TdcSetting(lsb, windows)
    calibration = seeded_subset(context.rng, digits.train_images[model_images:], calibration_images)  # not model
    on_array = array_layers(net)

    def on_chip(session: Session) -> Plan:
        if error_run is None and "models" not in state.get("done", []):
            yield from measure_generic_pairs(session, setting, GENERIC_MATRICES, generic_vectors, context.rng,
                                             state.get("matrices", 0))
            yield Record("array_layers", np.array(sorted(on_array)), "", "layers on the array (the rest on the host)")
            yield from measure_layer_models(session, net, digits.train_images[:model_images], calibration,
                                            on_array, setting, calibration_vectors=calibration_vectors)
            yield Checkpoint({"done": ["models"]})
        if not validation_images:
            return {}
        session.costs = Costs()                          # the slice's own costs
        slice_ = yield from chip_slice(session, net, digits.test_images[:validation_images], calibration, setting,
                                       calibration_vectors)
        costs = pass_costs(session, validation_images, chip_ops(net, slice_), "network")
        yield Record("pass_costs", costs)
        return costs

    _, costs = yield from chip_session(on_chip, {"lsb_s": lsb, "windows": windows, "pipeline": pipeline},
                                       PIPELINES[pipeline])
    return {"paper_software_accuracy": PAPER_SOFTWARE, "paper_emulated_accuracy": PAPER_EMULATED,
            "error_run": error_run, "emulation_seed": emulation_seed, **costs}
