"""mnist-perceptron: the paper's two-layer binary perceptron classifying MNIST test digits on the chip.

The network is the shipped one (``procedures/networks/data/perceptron.npz``),
an imported ``.npz`` (``--network-file``), the network an earlier run
recorded (``--model-run N``), or trained here with numpy (``--train``).  It
is recorded in the run (``network_*``), so any later run, or a campaign over
dies, reuses it by run id.  Its software accuracy (numpy, exact) is the
baseline; then the chip classifies the same test digits through the network
runtime (procedures/networks/chip/: tiles programmed once, windows
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

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np

from benchspec.tdc import TdcSetting
from labctl.plan import Checkpoint, Compute, Context, Load, Plan, Progress, Record
from labctl.procedure import Folder, Param, ParameterError, RunId, procedure, seed_param
from labctl.rundata import RunData, read_run
from procedures.mnist_plots import (PAPER_CHIP, PAPER_SOFTWARE, plot_accuracy_sweep, plot_confusion,
                                    plot_misclassified, plot_preactivation_errors)
from procedures.networks.chip.energy_budget import chip_ops, pass_costs, report_energy
from procedures.networks.chip.error_model import ErrorModel
from procedures.networks.chip.network import ChipPass, chip_forward, seeded_subset
from procedures.networks.chip.pipeline import PIPELINES
from procedures.networks.chip.session import Costs, Session, chip_session
from procedures.networks.chip.stored import (HW_NETWORK_PREFIX, calibrations_from_run, error_model_from_run,
                                             network_digest, network_from_run, record_error_model, record_network)
from procedures.networks.host.accuracy import accuracy, paired_gap, table
from procedures.networks.host.idx import DatasetError, MnistData, check_mnist_folder, load_mnist
from procedures.networks.host.network import BinaryNetwork, plain_product
from procedures.networks.host.npz import SHIPPED_PERCEPTRON, load_network
from procedures.networks.training.train_mlp import TrainingConfig, config_from_description, train

ERROR_EDGES = np.arange(-60, 62, 2) - 1.0       # pre-activation error bins, MAC units
MISCLASSIFIED_KEPT = 64
CLASSES = 10


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
        if not params["train"] and not params["foreign_data"]:     # the network must know these digits
            if params["model_run"] is not None and store is not None:
                network, source = network_from_run(read_run(store, params["model_run"])), f"run {params['model_run']}"
            elif params["network_file"] is not None:
                network, source = load_network(params["network_file"]), str(params["network_file"])
            else:
                network, source = load_network(SHIPPED_PERCEPTRON), "shipped perceptron.npz"
            _foreign_data(network, source, load_mnist(params["data"]), params["data"], False)


def _train(config: TrainingConfig, data: MnistData, model: ErrorModel | None) -> BinaryNetwork:
    """A network trained on ``data``'s training digits (hardware-aware with ``model``)."""
    return train(config, data.train_images, data.train_labels, error_model=model).network


def _untrained(config: TrainingConfig, data: MnistData, model: ErrorModel | None) -> BinaryNetwork:
    """The rehearsal's stand-in for ``_train``: a network of the same shape, not trained."""
    return train(replace(config, epochs=0), data.train_images[:config.batch], data.train_labels[:config.batch]).network


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
        return (yield Compute(_train, config, data, None, stub=_untrained)), "trained in this run"
    return load_network(SHIPPED_PERCEPTRON), "shipped perceptron.npz"


def _foreign_data(network: BinaryNetwork, source: str, digits: MnistData, folder: Path | None,
                  accepted: bool) -> str | None:
    """Refuse to classify a data set the network was not trained on (its metadata's ``data_digest``), unless
    ``accepted``: then the warning the run records.  None when the data sets agree or the network says nothing."""
    trained_on = network.metadata.get("data_digest")
    if trained_on is None or trained_on == digits.digest():
        return None
    text = (f"the network ({source}) was trained on data set {trained_on[:12]}, not on "
            f"{'the shipped digits' if folder is None else folder} (data set {digits.digest()[:12]})")
    if not accepted:
        raise ParameterError(f"parameter data: {text}; train a network on these digits (--train true), or "
                             "classify them anyway with --foreign-data true")
    return text + ": classified anyway (--foreign-data true)"


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


def _record_chip_pass(name: str, chip: ChipPass, settings: list[TdcSetting], costs: dict) -> Plan:
    """What the chip gave for the test digits under every setting, as measured: predictions and every layer's
    decoded pre-activations (the analysis works from these), and the pass's costs."""
    for setting, forward in zip(settings, chip.forwards):
        yield Record("chip_pass", {"network": name, "lsb": setting.lsb, "windows": setting.windows})
        yield Record("chip_predictions", forward.predictions.astype(np.int8), "class", f"{name} network, "
                     f"{setting.label()}: the chip's class of every test digit", ("digit",))
        for layer, a in enumerate(forward.preactivations):
            yield Record(f"chip_preactivations_{layer}", np.asarray(a, np.float32), "MAC",
                         f"layer {layer}'s decoded pre-activations on the chip", ("digit", "neuron"))
    yield Record("pass_costs", {"network": name, **costs})


def _test_digits(data: RunData) -> tuple[np.ndarray, np.ndarray, MnistData]:
    digits = load_mnist(data.parameters["data"])
    images = data.parameters["images"]
    return digits.test_images[:images], digits.test_labels[:images].astype(np.int64), digits


def analyse(data: RunData) -> Plan:
    """Software beside the chip for every pass and setting: accuracies with their intervals, per-layer
    pre-activation errors, hidden-neuron flips, confusion matrices, misclassified digits."""
    test, labels, _ = _test_digits(data)
    passes = data.all("chip_pass")
    networks = {"default": network_from_run(data)}
    if any(p["network"] == "hardware-aware" for p in passes):
        networks["hardware-aware"] = network_from_run(data, HW_NETWORK_PREFIX)
    software = {name: net.forward(test) for name, net in networks.items()}
    summary: dict[str, Any] = {}
    results = []
    for k, where in enumerate(passes):
        net, sw = networks[where["network"]], software[where["network"]]
        predictions = np.asarray(data.all("chip_predictions")[k], np.int64)
        chip = [np.asarray(data.all(f"chip_preactivations_{layer}")[k], np.float64)
                for layer in range(len(net.weighted))]
        exact = [sw.preactivations[0]] + [plain_product(i + 1, layer.activation(chip[i]), net.weighted[i + 1].weights)
                                          for i, layer in enumerate(net.hidden)]
        for layer, (chip_a, exact_a) in enumerate(zip(chip, exact)):
            error = chip_a - exact_a
            yield Record("layer_error", {**where, "layer": layer, "mean": float(error.mean()),
                                         "std": float(error.std()), "exact_std": float(np.std(exact_a)),
                                         "edges": ERROR_EDGES.tolist(),
                                         "counts": np.histogram(error, ERROR_EDGES)[0].tolist()})
        flips = [float(np.mean(layer.activation(c) != layer.activation(s)))
                 for layer, c, s in zip(net.hidden, chip, sw.preactivations)]
        chip_right, software_right = predictions == labels, sw.predictions == labels
        gap, gap_ci = paired_gap(software_right, chip_right)
        result = {**where, "chip_accuracy": float(chip_right.mean()), "software_accuracy": float(software_right.mean()),
                  "agreement": float(np.mean(predictions == sw.predictions)), "hidden_flips": flips,
                  **accuracy("chip", chip_right), **accuracy("software", software_right),
                  "gap_points": gap, "gap_points_ci95": gap_ci}
        yield Record("result", result)
        results.append(result)
        confusion = np.zeros((CLASSES, CLASSES), np.int64)
        np.add.at(confusion, (labels, predictions), 1)
        yield Record("confusion", confusion, "digits", f"{where['network']} network, lsb {where['lsb'] * 1e9:.3g} ns, "
                     f"{where['windows']} window(s)", ("true class", "predicted class"))
        if where["network"] not in summary:              # the first setting of each network: its figures
            summary[where["network"]] = result
            wrong = np.flatnonzero(predictions != labels)[:MISCLASSIFIED_KEPT]
            yield Record("misclassified_images", test[wrong], "grey level",
                         f"{where['network']} network: misclassified test digits", ("digit", "row", "column"))
            yield Record("misclassified_labels", np.stack([labels[wrong], predictions[wrong], sw.predictions[wrong]],
                                                          axis=1),
                         description="true class, the chip's, software's", axes=("digit", "true, chip, software"))
        yield Progress("analysis", k + 1, len(passes))
    default = summary["default"]
    out: dict[str, Any] = {key: default[key] for key in ("chip_accuracy", "chip_accuracy_ci95", "software_accuracy",
                                                         "software_accuracy_ci95", "gap_points", "gap_points_ci95")}
    out["sweep"] = [{"lsb": r["lsb"], "windows": r["windows"], "chip_accuracy": r["chip_accuracy"]}
                    for r in results if r["network"] == "default"]
    if "hardware-aware" in summary:
        aware = summary["hardware-aware"]
        gap, gap_ci = paired_gap(software["default"].predictions == labels,
                                 np.asarray(data.all("chip_predictions")[len(out["sweep"])]) == labels)
        out.update({"hw_aware_chip_accuracy": aware["chip_accuracy"],
                    "hw_aware_chip_accuracy_ci95": aware["chip_accuracy_ci95"],
                    "hw_aware_software_accuracy": aware["software_accuracy"],
                    "hw_aware_gap_points": gap, "hw_aware_gap_points_ci95": gap_ci})
    return out


def report(summary: dict) -> list[str]:
    """Chip, software and paper side by side, in points with 95 % intervals."""
    rows = [("this network", {"a": summary["chip_accuracy"], "a_ci": summary.get("chip_accuracy_ci95"),
                              "b": summary["software_accuracy"], "b_ci": summary.get("software_accuracy_ci95"),
                              "gap": summary["gap_points"], "gap_ci": summary.get("gap_points_ci95")})]
    if summary.get("hw_aware_chip_accuracy") is not None:
        rows.append(("hardware-aware", {"a": summary["hw_aware_chip_accuracy"],
                                        "a_ci": summary.get("hw_aware_chip_accuracy_ci95"),
                                        "b": summary["hw_aware_software_accuracy"],
                                        "gap": summary["hw_aware_gap_points"],
                                        "gap_ci": summary.get("hw_aware_gap_points_ci95")}))
    rows.append(("paper", {"a": PAPER_CHIP, "b": PAPER_SOFTWARE, "gap": 100 * (PAPER_SOFTWARE - PAPER_CHIP)}))
    aware = "; the hardware-aware gap is to the first network's software" if len(rows) > 2 else ""
    warning = [f"  warning: {summary['warning']}"] if summary.get("warning") else []
    lines = warning + table(("chip", "software"), rows, f"{summary['images']} test digits{aware}")
    for point in summary["sweep"][1:]:
        lines.append(f"  LSB {point['lsb'] * 1e9:.3g} ns, {point['windows']} window(s): chip "
                     f"{100 * point['chip_accuracy']:.2f} %")
    return lines + report_energy(summary, "the network's")


@procedure(plots=(plot_confusion, plot_preactivation_errors, plot_misclassified, plot_accuracy_sweep),
           validate=_validate, report=report, campaign=("result",), analysis=analyse, rehearsal="nominal",
           resumes="after each network's pass over the test digits")
def mnist_perceptron(
    images: Annotated[int, Param("test digits classified (the first ones)", low=1, high=1_000_000)] = 10_000,
    calibration_images: Annotated[int, Param("training digits that calibrate every tile", low=16,
                                             high=1_000_000)] = 1000,
    lsbs: Annotated[list[float], Param("TDC LSB of the windows; a list is a sweep", "s", 0.0625e-9, 4e-9)] = (0.4e-9,),
    windows: Annotated[list[int], Param("TDC windows each vector is read under; a list is a sweep", low=1,
                                        high=9)] = (1,),
    pipeline: Annotated[str, Param("how the chip's layers are read: the paper's way (paper-like), or with the "
                                   "optimised runtime's steps added one by one (docs/networks.md)",
                                   choices=tuple(PIPELINES))] = "optimised",
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
    foreign_data: Annotated[bool, Param("classify --data with a network trained on another data set (recorded as "
                                        "a warning)")] = False,
) -> Plan:
    """the two-layer binary perceptron classifying MNIST test digits on the chip, beside software and the paper"""
    context = yield Context()
    digits = load_mnist(data)
    if images > len(digits.test_images):
        raise ParameterError(f"parameter images: {images} asked, the test set holds {len(digits.test_images)}")
    done = (context.resume or {}).get("passes", [])
    kept = context.kept
    warning = kept.last("warning") if kept is not None else None
    if kept is None:
        config = TrainingConfig(hidden=hidden, epochs=epochs, seed=train_seed) if train else None
        network, source = yield from _network(model_run, network_file, config, digits)
        warning = _foreign_data(network, source, digits, data, foreign_data)
        yield from record_network(network)
        if warning:
            yield Record("warning", warning)
    else:                                                    # resumed: the network the interrupted run recorded
        network, source = network_from_run(kept), kept.last("conditions")["network_source"]
    test = digits.test_images[:images]
    calibration = seeded_subset(context.rng, digits.train_images, calibration_images)
    settings = [TdcSetting(lsb, count) for lsb in lsbs for count in windows]

    def on_chip(session: Session) -> Plan:
        session.reuse.update((yield from _calibrations(calibration_run, network_digest(network),
                                                       session.conditions["die"])))
        own = None
        if "default" in done:                             # measured before an interruption
            costs = kept.last("pass_costs")
            own = error_model_from_run(kept) if "error_values" in kept else None
        else:
            chip = yield from chip_forward(session, network, test, calibration, settings)
            costs = pass_costs(session, images, chip_ops(network))
            yield from _record_chip_pass("default", chip, settings, costs)
            if len(chip.calibration_ideal):               # this run's own calibration: its error model
                own = yield from record_error_model(chip.calibration_ideal, chip.calibration_decoded)
            yield Checkpoint({"passes": ["default"]})
        if not hardware_aware:
            return costs
        if error_run is not None or own is None and calibration_run is not None:
            own = error_model_from_run((yield Load(calibration_run if error_run is None else error_run)))
        aware = yield Compute(_train, _aware_config(network, epochs, train_seed), digits, own, stub=_untrained)
        yield from record_network(aware, HW_NETWORK_PREFIX)
        session.costs = Costs()
        aware_chip = yield from chip_forward(session, aware, test, calibration, settings[:1], "hardware-aware")
        aware_costs = pass_costs(session, images, chip_ops(network))
        yield from _record_chip_pass("hardware-aware", aware_chip, settings[:1], aware_costs)
        return {**costs, "hw_aware_costs": aware_costs}

    conditions, summary = yield from chip_session(
        on_chip, {"network_source": source, "data_digest": digits.digest(), "pipeline": pipeline},
        PIPELINES[pipeline])
    return {"images": images, "network_source": source, "paper_chip_accuracy": PAPER_CHIP,
            **({"warning": warning} if warning else {}),
            "paper_software_accuracy": PAPER_SOFTWARE, **summary, "die": conditions["die"],
            "temperature_K": conditions["temperature_K"]}
