"""Which trained VGG-8 to ship, chosen on validation digits, never on test digits (the ``train`` extra is not
needed: the candidates are ``.npz`` files).

Every candidate was trained by ``train_vgg8 --validation N`` on the same
split of the shipped training digits (``train_mlp.split_validation``, seed
0).  For each candidate, on one die of the simulated bench:

1. per-layer error models measured as vgg8-emulation measures them (the
   network's array layers on the chip for ``--model-digits`` digits of the
   training split, each tile calibrated with ``--calibration-digits`` other
   digits of the training split);
2. the N held-out validation digits in plain numpy and emulated with those
   models (seed ``--emulation-seed``).

The rule (host/selection.py): highest emulated validation accuracy, ties by
software validation accuracy.  The pick is written to ``--out`` with the
selection in its metadata (``selection``) and, the choice made, its test
accuracy (the report).  Run ``python -m procedures.networks.training.select_vgg8 --help``;
the last line printed is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchspec.tdc import TdcSetting

from ..chip.emulation import emulation_product
from ..chip.error_runs import measure_layer_models
from ..host.idx import MnistData, load_mnist
from ..host.network import BinaryNetwork, array_layers
from ..host.npz import load_network, save_network
from ..host.selection import Candidate, Selection
from .on_die import die_session
from .train_mlp import split_validation

COMMAND = "procedures.networks.training.select_vgg8"
RANK_BY = ("emulated_validation_accuracy", "software_validation_accuracy")
BATCH = 250
QUICK_CHECK = 1000
#: vgg8-emulation's reading of the array layers: TDC LSB (s) and windows per vector, calibration vectors per tile
SETTING, CALIBRATION_VECTORS = TdcSetting(0.4e-9, 2), 4096


def validation_split(data: MnistData, held_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training-split digits, validation digits, validation labels) of ``data``'s training set, as
    ``train_vgg8 --validation held_out`` split it; no test digit."""
    train_idx, val_idx = split_validation(len(data.train_images), held_out)
    return data.train_images[train_idx], data.train_images[val_idx], data.train_labels[val_idx]


def figures(net: BinaryNetwork, training: np.ndarray, validation: np.ndarray, labels: np.ndarray, die: int,
            model_digits: int, calibration_digits: int, calibration_vectors: int, seed: int) -> dict[str, float]:
    """A candidate's validation figures: software and emulated accuracy (error models measured on ``die``)."""
    on_array = array_layers(net)
    with die_session(die) as (run, session):
        models = run(measure_layer_models(session, net, training[:model_digits],
                                          training[model_digits: model_digits + calibration_digits], on_array,
                                          SETTING, calibration_vectors=calibration_vectors))
    software = net.accuracy(validation, labels, batch=BATCH)
    emulated = net.accuracy(validation, labels, emulation_product(models, seed, on_array), batch=BATCH)
    return {"software_validation_accuracy": software, "emulated_validation_accuracy": emulated,
            "gap_points": round(100 * (software - emulated), 4)}


def choose(paths: list[Path], data: MnistData, held_out: int, die: int = 1, model_digits: int = 50,
           calibration_digits: int = 64, calibration_vectors: int = CALIBRATION_VECTORS,
           seed: int = 0) -> Selection:
    """The selection among the candidate files ``paths`` on ``held_out`` validation digits of ``data``'s
    training set (module doc); reads neither ``data``'s test digits nor any test figure of the candidates."""
    training, validation, labels = validation_split(data, held_out)
    candidates = []
    for path in paths:
        net = load_network(path)
        meta = net.metadata
        if meta.get("data_digest") != data.digest() or meta.get("training_digits") != len(training):
            raise ValueError(f"{path}: not trained on this data's training split with {held_out} digits held out "
                             f"(its training digits: {meta.get('training_digits')}; train it with "
                             f"train_vgg8 --validation {held_out})")
        found = figures(net, training, validation, labels, die, model_digits, calibration_digits,
                        calibration_vectors, seed)
        print(json.dumps({"candidate": str(path), **found}), flush=True)
        candidates.append(Candidate(Path(path).stem, str(meta.get("command", "")), found))
    return Selection(tuple(candidates), RANK_BY,
                     f"{held_out} of the {len(data.train_images)} training digits held out "
                     f"(train_mlp.split_validation, seed 0); per-layer error models measured on die {die} from "
                     f"{model_digits} training-split digits, tiles calibrated with {calibration_digits} others; "
                     f"emulation seed {seed}")


def ship(path: Path, selection: Selection, data: MnistData, out: Path) -> dict[str, Any]:
    """Write the picked candidate ``path`` to ``out`` with the selection and, the choice made, its test
    accuracy in its metadata; the metadata."""
    net = load_network(path)
    net.metadata["selection"] = selection.record()
    net.metadata["test_accuracy"] = net.accuracy(data.test_images, data.test_labels, batch=BATCH)
    net.metadata[f"test_accuracy_first_{QUICK_CHECK}"] = net.accuracy(data.test_images[:QUICK_CHECK],
                                                                      data.test_labels[:QUICK_CHECK])
    save_network(net, out)
    return net.metadata


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m {COMMAND}",
                                description="choose the VGG-8 to ship among trained candidates, on validation digits")
    p.add_argument("candidates", type=Path, nargs="+", help="candidate networks (.npz from train_vgg8 --validation)")
    p.add_argument("--validation", type=int, default=2000, help="training digits the candidates held out")
    p.add_argument("--data", type=Path, help="folder with the four standard MNIST files (default: shipped subset)")
    p.add_argument("--die", type=int, default=1, help="die of the simulated bench the error models are measured on")
    p.add_argument("--model-digits", type=int, default=50)
    p.add_argument("--calibration-digits", type=int, default=64)
    p.add_argument("--emulation-seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="write the pick here, with its selection")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: choose, print a JSON summary (last line), optionally ship the pick."""
    args = _parser().parse_args(argv)
    data = load_mnist(args.data)
    selection = choose(args.candidates, data, args.validation, args.die, args.model_digits, args.calibration_digits,
                       seed=args.emulation_seed)
    summary: dict[str, Any] = {"selection": selection.record()}
    if args.out is not None:
        pick = next(p for p in args.candidates if Path(p).stem == selection.pick.name)
        meta = ship(pick, selection, data, args.out)
        summary.update(saved=str(args.out), test_accuracy=meta["test_accuracy"])
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
