"""mnist-perceptron: the paper's two-layer binary perceptron classifying MNIST test digits on the chip.

The network is the shipped one (``procedures/networks/data/perceptron.npz``),
an imported ``.npz`` (``--network-file``), the network an earlier run
recorded (``--model-run N``), or trained here with numpy (``--train``).  It
is recorded in the run (``network_*``), so any later run, or a campaign over
dies, reuses it by run id.  Its software accuracy (numpy, exact) is the
baseline; then the chip classifies the same test digits through the network
runtime (procedures/networks/chip_runtime.py: tiles programmed once, windows
chosen per tile from the partial sums' distribution, calibration per tile,
column and window measured on this die with training digits, or reused from
``--calibration-run N``).  A list of TDC LSBs or window counts is a sweep:
each programmed tile is read under every setting.

``--hardware-aware`` then trains a second network with the chip's error model
injected (``--error-run N``: a mac-errors or mnist-perceptron run; by default
the model measured by this run's own calibration) and classifies with it on
the chip too.  Chip and software accuracies are recorded beside the paper's
93.23 % and 95.24 %, with time per image at the chip's clock and energy per
image from the supply's rail currents.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from labctl.plan import Context, Load, Plan, Record
from labctl.procedure import Folder, Param, ParameterError, RunId, procedure, seed_param
from labctl.stubs import ensure_powered
from procedures.mnist_plots import (PAPER_CHIP, PAPER_SOFTWARE, plot_accuracy_sweep, plot_confusion,
                                    plot_misclassified, plot_preactivation_errors)
from procedures.networks.chip_network import ChipPass, chip_forward, seeded_subset
from procedures.networks.chip_runtime import Costs, close_session, measure_conditions, open_session
from procedures.networks.error_model import ErrorModel
from procedures.networks.idx import DatasetError, MnistData, check_mnist_folder, load_mnist
from procedures.networks.network import BinaryNetwork, Forward, plain_product
from procedures.networks.npz import load_network
from procedures.networks.stored import (HW_NETWORK_PREFIX, calibrations_from_run, error_model_from_run,
                                        network_digest, network_from_run, record_error_model, record_network)
from benchspec.tdc import TdcSetting
from procedures.networks.train_mlp import TrainingConfig, config_from_description, train

SHIPPED_NETWORK = Path(__file__).parent / "networks" / "data" / "perceptron.npz"
ERROR_EDGES = np.arange(-60, 62, 2) - 1.0       # pre-activation error bins, MAC units
MISCLASSIFIED_KEPT = 64
CLASSES = 10
_TRAINED: dict[str, BinaryNetwork] = {}          # trained networks by (settings, data, error model): the real run
                                                 # reuses what its rehearsal trained


def _validate(params: dict, store: Any) -> None:
    sources = [name for name in ("model_run", "network_file") if params[name] is not None]
    if params["train"]:
        sources.append("train")
    if len(sources) > 1:
        raise ParameterError(f"parameters {' and '.join(sources)}: give one source of the network")
    if params["error_run"] is not None and not params["hardware_aware"]:
        raise ParameterError("parameter error_run: the error model is for hardware-aware training "
                             "(add --hardware-aware true)")
    if params["data"] is not None:
        try:
            check_mnist_folder(params["data"])
        except DatasetError as exc:
            raise ParameterError(f"parameter data: {exc}") from None


def _trained(config: TrainingConfig, data: MnistData, model: ErrorModel | None) -> BinaryNetwork:
    """A network trained on ``data``'s training digits, memoised: a run reuses what its rehearsal trained with
    the same settings, data and error model."""
    h = hashlib.sha256(repr(config).encode() + data.digest().encode())
    if model is not None:
        for value in model.arrays().values():
            h.update(np.ascontiguousarray(value).tobytes())
    key = h.hexdigest()
    if key not in _TRAINED:
        _TRAINED.clear()
        _TRAINED[key] = train(config, data.train_images, data.train_labels, error_model=model).network
    return _TRAINED[key]


def _aware_config(network: BinaryNetwork, epochs: int, seed: int) -> TrainingConfig:
    """Hardware-aware training settings: the network's own (its metadata, else the defaults) with its width
    and encoding, and ``epochs`` and ``seed``."""
    described = network.metadata.get("training")
    config = TrainingConfig() if described is None else config_from_description(described)
    return replace(config, hidden=network.widths[1], encoding=network.encoding, epochs=epochs, seed=seed)


def _network(model_run: int | None, network_file: Path | None, config: TrainingConfig | None,
             data: MnistData) -> Plan:
    """The network to classify with (an earlier run's, a file's, trained with ``config``, or the shipped one),
    and where it came from."""
    if model_run is not None:
        return network_from_run((yield Load(model_run))), f"run {model_run}"
    if network_file is not None:
        return load_network(network_file), str(network_file)
    if config is not None:
        return _trained(config, data, None), "trained in this run"
    return load_network(SHIPPED_NETWORK), "shipped perceptron.npz"


def _calibrations(run_id: int | None, digest: str, die: str) -> Plan:
    """The tile calibrations of an earlier run of the same network on the same die ({} without one)."""
    if run_id is None:
        return {}
    earlier = yield Load(run_id)
    if earlier.last("network_digest") != digest:
        raise ParameterError(f"parameter calibration_run: run {run_id} calibrated another network")
    if earlier.last("conditions", {}).get("die") != die:
        raise ParameterError(f"parameter calibration_run: run {run_id} ran on die "
                             f"{earlier.last('conditions', {}).get('die')}, this chip is {die}: a calibration "
                             "holds on its own die only")
    return calibrations_from_run(earlier)


def _record_pass(name: str, network: BinaryNetwork, chip: ChipPass, software: Forward, settings: list[TdcSetting],
                 images: np.ndarray, labels: np.ndarray) -> Plan:
    """Record every setting's accuracy, confusion matrix and layer errors; misclassified digits of the first."""
    for setting, forward in zip(settings, chip.forwards):
        where = {"network": name, "lsb": setting.lsb, "windows": setting.windows}
        exact = [software.preactivations[0]] + [
            plain_product(i + 1, layer.activate(forward.preactivations[i]), network.layers[i + 1])
            for i, layer in enumerate(network.hidden)]
        for layer, (chip_a, exact_a) in enumerate(zip(forward.preactivations, exact)):
            error = chip_a - exact_a
            yield Record("layer_error", {**where, "layer": layer, "mean": float(error.mean()),
                                         "std": float(error.std()), "exact_std": float(np.std(exact_a)),
                                         "edges": ERROR_EDGES.tolist(),
                                         "counts": np.histogram(error, ERROR_EDGES)[0].tolist()})
        flips = [float(np.mean(layer.activate(c) != layer.activate(s)))
                 for layer, c, s in zip(network.hidden, forward.preactivations, software.preactivations)]
        yield Record("result", {**where, "chip_accuracy": float(np.mean(forward.predictions == labels)),
                                "software_accuracy": float(np.mean(software.predictions == labels)),
                                "agreement": float(np.mean(forward.predictions == software.predictions)),
                                "hidden_flips": flips})
        confusion = np.zeros((CLASSES, CLASSES), np.int64)
        np.add.at(confusion, (labels, forward.predictions), 1)
        yield Record("confusion", confusion, "digits", f"{name} network, {setting.label()}",
                     ("true class", "predicted class"))
    wrong = np.flatnonzero(chip.forwards[0].predictions != labels)[:MISCLASSIFIED_KEPT]
    yield Record("misclassified_images", images[wrong], "grey level", f"{name} network: misclassified test digits",
                 ("digit", "row", "column"))
    yield Record("misclassified_labels", np.stack([labels[wrong], chip.forwards[0].predictions[wrong],
                                                   software.predictions[wrong]], axis=1),
                 description="true class, the chip's, software's", axes=("digit", "true, chip, software"))


def _costs(costs: Costs, images: int, clock_hz: float) -> dict:
    """Programming cycles, chip clocks and energy per image of a pass."""
    clocks = costs.program_clocks + costs.calibration_clocks + costs.inference_clocks
    per_image = None if costs.inference_joules is None else costs.inference_joules / images
    return {"programming_cycles": costs.tiles_programmed, "cells_wrong": costs.cells_wrong,
            "program_clocks": costs.program_clocks, "calibration_clocks": costs.calibration_clocks,
            "inference_clocks": costs.inference_clocks, "mac_vectors_per_image": costs.inference_vectors / images,
            "time_per_image_s": costs.inference_clocks / images / clock_hz,
            "chip_time_per_image_s": clocks / images / clock_hz, "energy_per_image_J": per_image,
            "programming_energy_J": costs.program_joules, "calibration_energy_J": costs.calibration_joules}


def report(summary: dict) -> list[str]:
    """Chip, software and paper side by side."""
    lines = [f"                     chip       software   gap (points)   ({summary['images']} test digits)",
             f"  this network       {summary['chip_accuracy']:8.2%}   {summary['software_accuracy']:8.2%}   "
             f"{summary['gap_points']:6.2f}",
             f"  paper              {PAPER_CHIP:8.2%}   {PAPER_SOFTWARE:8.2%}   "
             f"{100 * (PAPER_SOFTWARE - PAPER_CHIP):6.2f}"]
    if summary.get("hw_aware_chip_accuracy") is not None:
        lines.append(f"  hardware-aware     {summary['hw_aware_chip_accuracy']:8.2%}   "
                     f"{summary['hw_aware_software_accuracy']:8.2%}   {summary['hw_aware_gap_points']:6.2f}"
                     "   (gap to the first network's software accuracy)")
    for point in summary["sweep"][1:]:
        lines.append(f"  LSB {point['lsb'] * 1e9:.3g} ns, {point['windows']} window(s): {point['chip_accuracy']:.2%}")
    energy = summary["energy_per_image_J"]
    lines.append(f"  per image: {summary['time_per_image_s'] * 1e6:.1f} us of MAC at the chip's clock, "
                 + ("no supply to measure energy" if energy is None else f"{energy * 1e9:.2f} nJ")
                 + f"; {summary['programming_cycles']} tiles programmed")
    return lines


@procedure(plots=(plot_confusion, plot_preactivation_errors, plot_misclassified, plot_accuracy_sweep),
           validate=_validate, report=report, campaign=("result",))
def mnist_perceptron(
    images: Annotated[int, Param("test digits classified (the first ones)", low=1, high=1_000_000)] = 10_000,
    calibration_images: Annotated[int, Param("training digits that calibrate every tile", low=16,
                                             high=1_000_000)] = 1000,
    lsbs: Annotated[list[float], Param("TDC LSB of the windows; a list is a sweep", "s", 0.0625e-9, 4e-9)] = (0.4e-9,),
    windows: Annotated[list[int], Param("TDC windows each vector is read under; a list is a sweep", low=1,
                                        high=9)] = (1,),
    replicate: Annotated[bool, Param("fill a narrow layer's padding columns with copies, averaged")] = True,
    calibration_run: Annotated[RunId | None, Param("reuse the tile calibrations of this earlier run (same "
                                                   "network, same die)", record="tile_tables")] = None,
    model_run: Annotated[RunId | None, Param("classify with the network this earlier run recorded",
                                             record="network_digest")] = None,
    network_file: Annotated[Path | None, Param("classify with this network .npz (docs/networks.md)")] = None,
    train: Annotated[bool, Param("train the network here (numpy) instead of loading the shipped one")] = False,
    hidden: Annotated[int, Param("hidden neurons when training", low=16, high=4096)] = 512,
    epochs: Annotated[int, Param("training epochs (also of hardware-aware training)", low=1, high=1000)] = 40,
    train_seed: Annotated[int, seed_param("training seed (also of hardware-aware training)")] = 0,
    hardware_aware: Annotated[bool, Param("also train a network with the chip's error model and run it")] = False,
    error_run: Annotated[RunId | None, Param("hardware-aware training with this run's error model (mac-errors or "
                                             "mnist-perceptron)", record="error_values")] = None,
    data: Annotated[Folder | None, Param("folder with the four standard MNIST files (default: the shipped subset)")]
    = None,
) -> Plan:
    """the two-layer binary perceptron classifying MNIST test digits on the chip, beside software and the paper"""
    yield from ensure_powered()
    rng = (yield Context()).rng
    digits = load_mnist(data)
    if images > len(digits.test_images):
        raise ParameterError(f"parameter images: {images} asked, the test set holds {len(digits.test_images)}")
    config = TrainingConfig(hidden=hidden, epochs=epochs, seed=train_seed) if train else None
    network, source = yield from _network(model_run, network_file, config, digits)
    yield from record_network(network)
    test, labels = digits.test_images[:images], digits.test_labels[:images].astype(np.int64)
    calibration = seeded_subset(rng, digits.train_images, calibration_images)
    software = network.forward(test)
    conditions = yield from measure_conditions()
    yield Record("conditions", {**conditions, "network_source": source, "data_digest": digits.digest()})
    settings = [TdcSetting(lsb, count) for lsb in lsbs for count in windows]
    reuse = yield from _calibrations(calibration_run, network_digest(network), conditions["die"])
    session = yield from open_session(replicate, reuse)
    try:
        chip = yield from chip_forward(session, network, test, calibration, settings)
        yield from _record_pass("default", network, chip, software, settings, test, labels)
        costs = _costs(session.costs, images, conditions["clock_hz"])
        summary: dict[str, Any] = {"images": images, "network_source": source}
        if len(chip.ideal):                      # this run's own calibration: its error model
            own = yield from record_error_model(chip.ideal, chip.decoded)
        if hardware_aware:
            model = own if error_run is None and len(chip.ideal) else \
                error_model_from_run((yield Load(calibration_run if error_run is None else error_run)))
            aware = _trained(_aware_config(network, epochs, train_seed), digits, model)
            yield from record_network(aware, HW_NETWORK_PREFIX)
            aware_software = aware.forward(test)
            session.costs = Costs()
            aware_chip = yield from chip_forward(session, aware, test, calibration, settings[:1], "hardware-aware")
            yield from _record_pass("hardware-aware", aware, aware_chip, aware_software, settings[:1], test, labels)
            summary["hw_aware_chip_accuracy"] = float(np.mean(aware_chip.forwards[0].predictions == labels))
            summary["hw_aware_software_accuracy"] = float(np.mean(aware_software.predictions == labels))
            summary["hw_aware_costs"] = _costs(session.costs, images, conditions["clock_hz"])
    finally:
        yield from close_session(session)
    accuracy = [float(np.mean(f.predictions == labels)) for f in chip.forwards]
    software_accuracy = float(np.mean(software.predictions == labels))
    summary.update({"chip_accuracy": accuracy[0], "software_accuracy": software_accuracy,
                    "gap_points": 100 * (software_accuracy - accuracy[0]),
                    "paper_chip_accuracy": PAPER_CHIP, "paper_software_accuracy": PAPER_SOFTWARE,
                    "sweep": [{"lsb": s.lsb, "windows": s.windows, "chip_accuracy": a}
                              for s, a in zip(settings, accuracy)],
                    **costs, "die": conditions["die"], "temperature_K": conditions["temperature_K"]})
    if "hw_aware_chip_accuracy" in summary:
        summary["hw_aware_gap_points"] = 100 * (software_accuracy - summary["hw_aware_chip_accuracy"])
    return summary
