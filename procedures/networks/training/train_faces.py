"""Training of the ten-layer binary face / non-face classifier with PyTorch (the ``train`` and ``faces`` extras).

Ten layers (docs/networks.md): seven 3 x 3 convolutions (padding 1) and
three dense layers on 25 x 25 grey patches, 4 bit-planes in:

    25x25 -> conv 16 -> conv 16, pool -> conv 32 -> conv 32, pool -> conv 64 -> conv 64, pool
          -> conv 64 (3 x 3 map) -> dense 128 (layer 7, on the chip) -> dense 64 -> dense 2

Run ``python -m procedures.networks.training.train_faces --help``; the last
line printed is a JSON summary.  With ``--out`` the network is saved with
its provenance (command, seed, data digest, numpy validation and test
accuracy, versions).  Which trained network is shipped is chosen on the
validation patches only (training/select_faces.py).
Without torch or scikit-image it says how to install them.
"""

from __future__ import annotations

import argparse

from labctl.extras import require

from ..host.encoding import InputEncoding
from ..host.faces import SIZE, load_faces
from .command import (Architecture, Schedule, add_schedule_arguments, error_model_of, finish, run_command,
                      schedule_of)

COMMAND = "procedures.networks.training.train_faces"

#: the layer that runs on the array: the first dense layer, 576 x 128 (18 full tiles)
CHIP_LAYER = 7


def face_net() -> Architecture:
    """The ten-layer face network (ten weighted layers; 2 x 2 max-pooling after convolutions 2, 4 and 6)."""
    layers: list[tuple[str, int]] = []
    for channels in (16, 32, 64):
        layers += [("conv", channels), ("conv", channels), ("pool", 2)]
    layers += [("conv", 64), ("dense", 128), ("dense", 64), ("dense", 2)]
    return Architecture((SIZE, SIZE), InputEncoding("bitplanes", 4), tuple(layers))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m {COMMAND}",
                                description="train the ten-layer binary face classifier (PyTorch), save it as .npz")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the data split and photograph patches")
    add_schedule_arguments(p, Schedule(epochs=12, batch=50, learning_rate=0.005, init_scale=1.0))
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: train, print a JSON summary (last line), optionally save the network."""
    args = _parser().parse_args(argv)
    require("train", f"python -m {COMMAND}")
    require("faces", f"python -m {COMMAND}")
    from .torch_bnn import fit, provenance, set_threads, to_network

    set_threads(args)
    schedule = schedule_of(args)
    arch = face_net()
    error_model = error_model_of(args)
    data = load_faces(args.data_seed)
    trained = fit(arch, schedule, data.train_images, data.train_labels, None, error_model,
                  noisy=lambda k: k == CHIP_LAYER)
    metadata = {**provenance(COMMAND, argv, args, schedule), "architecture": "face10",
                "chip_layer": CHIP_LAYER, "data_seed": args.data_seed, "hardware_aware": error_model is not None,
                "data_digest": data.digest(), "training_patches": len(data.train_images),
                "training_s": round(trained.seconds, 1)}
    network = to_network(trained.model, data.train_images, metadata)
    network.metadata["validation_accuracy"] = network.accuracy(data.validation_images, data.validation_labels)
    network.metadata["test_accuracy"] = network.accuracy(data.test_images, data.test_labels)
    summary = {"data_digest": data.digest(), "training_s": metadata["training_s"],
               "validation_accuracy": network.metadata["validation_accuracy"],
               "test_accuracy": network.metadata["test_accuracy"], "history": trained.history}
    return finish(network, summary, args.out)


if __name__ == "__main__":
    run_command(main)
