"""What the PyTorch training commands (train_vgg8, train_faces) share without needing torch: the architecture
they train, the optimiser's schedule and its options, the hardware-aware error model, how a command starts (a
missing extra is a one-line install hint, not a traceback) and ends (the network saved, a JSON summary).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labctl.extras import MissingExtra

from ..chip.error_model import ErrorModel, gaussian_model
from ..host.encoding import InputEncoding
from ..host.network import BinaryNetwork
from ..host.npz import save_network


@dataclass(frozen=True)
class Architecture:
    """A binary network to train: image (height, width), one grey channel; its input encoding; its layers in
    order, each (kind, size): a weighted kind with its outputs (``("conv", 32)``: a 3 x 3 convolution, padding 1,
    to 32 channels; ``("dense", 10)``), a host kind with its size (``("pool", 2)``).  torch_bnn.BLOCKS trains
    every kind named here."""

    input_shape: tuple[int, int]
    encoding: InputEncoding
    layers: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Schedule:
    """Optimiser settings: Adam on the latent weights with a cosine decay of the step to zero."""

    epochs: int = 20
    batch: int = 100                  # images per gradient step
    learning_rate: float = 0.003      # initial Adam step
    label_smoothing: float = 0.1
    seed: int = 0
    init_scale: float = 0.01          # latent weights start uniform in +/- init_scale


def add_schedule_arguments(parser: argparse.ArgumentParser, defaults: Schedule, threads: int = 2) -> None:
    """The training command line's schedule, seed, threads, error model and output options."""
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch", type=int, default=defaults.batch)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    parser.add_argument("--init-scale", type=float, default=defaults.init_scale,
                        help="latent weights start in +/- this")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="training seed")
    parser.add_argument("--threads", type=int, default=threads,
                        help="torch threads (the result depends on it: the shipped network's is in its metadata)")
    parser.add_argument("--error-model", type=Path,
                        help=".npz with an error model's arrays (ErrorModel.arrays()): hardware-aware training")
    parser.add_argument("--error-sigma", type=float, help="hardware-aware training with Gaussian errors of this "
                        "sigma (MAC units) per 64-row partial sum (without --error-model)")
    parser.add_argument("--out", type=Path, help="write the trained network here (.npz, docs/networks.md)")


def schedule_of(args: argparse.Namespace) -> Schedule:
    """The Schedule the parsed options of ``add_schedule_arguments`` give."""
    return Schedule(args.epochs, args.batch, args.learning_rate, args.label_smoothing, args.seed, args.init_scale)


def error_model_of(args: argparse.Namespace) -> ErrorModel | None:
    """The error model of hardware-aware training: ``--error-model``'s file, else a Gaussian of
    ``--error-sigma``, else None."""
    if args.error_model is not None:
        with np.load(args.error_model, allow_pickle=False) as npz:
            return ErrorModel.from_arrays(dict(npz))
    return None if args.error_sigma is None else gaussian_model(args.error_sigma)


def finish(network: BinaryNetwork, summary: dict, out: Path | None) -> dict:
    """A command's end: the network saved to ``out`` if given (``saved`` in the summary), the summary printed as
    JSON (the last line) and returned."""
    if out is not None:
        summary["saved"] = str(save_network(network, out))
    print(json.dumps(summary))
    return summary


def run_command(main: Callable[[], Any]) -> None:
    """Run a training command's ``main``; a missing extra ends it with its install hint on one line."""
    try:
        main()
    except MissingExtra as exc:
        sys.exit(f"error: {exc}")
