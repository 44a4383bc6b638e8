"""Training of the binary VGG-8 on MNIST with PyTorch (the ``train`` extra); writes the project's ``.npz``.

VGG-8: six 3 x 3 convolutions (padding 1) in three pairs, each pair ending
in a 2 x 2 max-pool, then two dense layers (docs/networks.md):

    28x28 -> conv C1 -> conv C1, pool -> conv C2 -> conv C2, pool -> conv C3 -> conv C3, pool
          -> dense H -> dense 10

Run ``python -m procedures.networks.training.train_vgg8 --help``; the last
line printed is a JSON summary.  With ``--out`` the network is saved with
its provenance (command, seed, data digest, numpy test accuracy, versions).
Without torch (the ``train`` extra) it says how to install it.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

import numpy as np

from labctl.extras import require

from ..chip.error_model import ErrorModel
from ..host.encoding import InputEncoding
from ..host.idx import load_mnist
from .augment import Augmentation
from .command import (Architecture, Schedule, add_schedule_arguments, error_model_of, finish, run_command,
                      schedule_of)
from .train_mlp import split_validation

COMMAND = "procedures.networks.training.train_vgg8"

CHANNELS = (32, 32, 64, 64, 128, 128)
HIDDEN = 256
EPOCHS = 40
CLASSES = 10
QUICK_CHECK = 1000     # test digits whose accuracy is also recorded, for a fast check of a shipped network


def vgg8(channels: tuple[int, ...] = CHANNELS, hidden: int = HIDDEN,
         encoding: InputEncoding = InputEncoding("bitplanes", 2)) -> Architecture:
    """The VGG-8 architecture on 28 x 28 digits: 2 x 2 max-pooling after convolutions 2, 4 and 6."""
    if len(channels) != 6:
        raise ValueError(f"VGG-8 has six convolutions, {len(channels)} channel counts given")
    layers: list[tuple[str, int]] = []
    for pair in (channels[0:2], channels[2:4], channels[4:6]):
        layers += [("conv", pair[0]), ("conv", pair[1]), ("pool", 2)]
    return Architecture((28, 28), encoding, (*layers, ("dense", hidden), ("dense", CLASSES)))


def _rms(model: ErrorModel) -> float:
    """Root-mean-square error (MAC units) of a model over its observed ideal MACs."""
    mean, std = model.moments()
    return round(float(np.sqrt(((mean ** 2 + std ** 2) * model.counts).sum() / model.counts.sum())), 3)


def _parser() -> argparse.ArgumentParser:
    a = Augmentation()
    p = argparse.ArgumentParser(prog=f"python -m {COMMAND}",
                                description="train the binary VGG-8 on MNIST (PyTorch), save it as .npz")
    p.add_argument("--data", type=Path, help="folder with the four standard MNIST files (default: shipped subset)")
    p.add_argument("--channels", default=",".join(map(str, CHANNELS)), help="six convolution widths")
    p.add_argument("--hidden", type=int, default=HIDDEN, help="neurons of the first dense layer")
    p.add_argument("--encoding", choices=("threshold", "bitplanes"), default="bitplanes")
    p.add_argument("--planes", type=int, default=2, help="bit-planes of the first layer (bitplanes encoding)")
    p.add_argument("--no-augmentation", action="store_true", help="train on the digits as they are")
    p.add_argument("--shift", type=float, default=a.shift, help="augmentation: max shift, pixels")
    p.add_argument("--rotation", type=float, default=a.rotation, help="augmentation: max rotation, degrees")
    p.add_argument("--scale", type=float, default=a.scale, help="augmentation: max relative scaling")
    p.add_argument("--validation", type=int, default=0,
                   help="hold out this many training digits and report accuracy on them (no test digits)")
    p.add_argument("--host-layers", default="0",
                   help="layers computed on the host, without errors in hardware-aware training (comma-separated)")
    add_schedule_arguments(p, Schedule(epochs=EPOCHS), threads=1)
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: train, print a JSON summary (last line), optionally save the network."""
    args = _parser().parse_args(argv)
    require("train", f"python -m {COMMAND}")
    from .torch_bnn import fit, provenance, set_threads, to_network

    set_threads(args)
    schedule = schedule_of(args)
    encoding = InputEncoding(args.encoding, args.planes if args.encoding == "bitplanes" else 1)
    arch = vgg8(tuple(int(c) for c in args.channels.split(",")), args.hidden, encoding)
    augmentation = None if args.no_augmentation else Augmentation(args.shift, args.rotation, args.scale)
    error_model = error_model_of(args)
    data = load_mnist(args.data)
    images, labels = data.train_images, data.train_labels
    validation = None
    if args.validation:
        train_idx, val_idx = split_validation(len(images), args.validation)
        validation = (images[val_idx], labels[val_idx])
        images, labels = images[train_idx], labels[train_idx]
    host = {int(k) for k in args.host_layers.split(",") if k.strip()}
    trained = fit(arch, schedule, images, labels, None if augmentation is None else augmentation.apply,
                  error_model, validation, lambda k: k not in host)
    summary: dict = {"data_digest": data.digest(), "training_digits": len(images),
                     "training_s": round(trained.seconds, 1), "history": trained.history}
    metadata = {**provenance(COMMAND, argv, args, schedule), "architecture": "vgg8",
                "augmentation": None if augmentation is None else asdict(augmentation),
                "hardware_aware": error_model is not None, "host_layers": sorted(host),
                "error_model_rms": None if error_model is None else _rms(error_model),
                "data_digest": data.digest(), "training_digits": len(images), "training_s": summary["training_s"]}
    network = to_network(trained.model, images, metadata)
    if validation is not None:
        summary["validation_accuracy"] = network.accuracy(*validation, batch=500)
    else:
        summary["test_accuracy"] = network.accuracy(data.test_images, data.test_labels, batch=500)
        summary[f"test_accuracy_first_{QUICK_CHECK}"] = network.accuracy(data.test_images[:QUICK_CHECK],
                                                                         data.test_labels[:QUICK_CHECK])
        network.metadata.update((k, v) for k, v in summary.items() if k.startswith("test_accuracy"))
    return finish(network, summary, args.out)


if __name__ == "__main__":
    run_command(main)
