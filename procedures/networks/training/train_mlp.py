"""Training of the two-layer binary perceptron (inputs -> hidden -> classes), numpy only.

- Weights: latent real weights in [-1, 1], binarised by sign in the forward
  pass, updated with the binary weights' gradient (straight-through
  estimator, BinaryConnect); Adam with a cosine learning-rate decay.
- Hidden activations: batch normalisation, then sign; the gradient passes
  where the normalised value is within [-1, 1] (hard-tanh straight-through).
- Output: batch normalisation of the class pre-activations, softmax
  cross-entropy with label smoothing.
- Inputs: the network's input encoding (threshold or bit-planes); training
  digits are re-augmented every epoch when an Augmentation is given.
- Hardware-aware: with an ErrorModel, the forward pass uses the emulated
  pre-activations (every 64-row column MAC of every tile with a drawn error,
  chip/emulation.py); the backward pass treats the errors as additive noise.
- Folding: at the end (and for every validation), the batch-normalisation
  statistics are measured on the un-augmented training digits (through the
  emulation when hardware-aware) and folded into thresholds, signs and
  output scales (docs/networks.md).

Deterministic under ``seed``: initialisation, shuffling, augmentation and
error draws use separate streams spawned from it.

Run ``python -m procedures.networks.training.train_mlp --help`` for the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..chip.emulation import EmulatedProduct
from ..chip.error_model import ErrorModel
from ..host.encoding import InputEncoding
from ..host.idx import load_mnist
from ..host.layers import Dense, Scores, Threshold
from ..host.network import BinaryNetwork, LayerProduct, first_layer_preactivations, plain_product
from ..host.npz import save_network
from .augment import Augmentation

BN_EPSILON = 1e-5
CLASSES = 10
# float32 sums differ with the BLAS thread count, and training amplifies the difference:
# a network is bit-reproducible only under the same settings, so the command records them
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class TrainingConfig:
    """Settings of one training run (defaults: chosen on a validation split, docs/networks.md)."""

    hidden: int = 512                    # hidden neurons (a multiple of 64 fills the array's columns)
    encoding: InputEncoding = field(default_factory=InputEncoding)
    epochs: int = 40
    batch: int = 50                      # digits per gradient step
    learning_rate: float = 0.05          # Adam step at the start, decayed by a cosine to 0 at the end
    label_smoothing: float = 0.1         # probability mass spread over the other classes
    augmentation: Augmentation | None = field(default_factory=Augmentation)
    seed: int = 0


@dataclass
class _Parameters:
    """Latent weights (float32 in [-1, 1]) and batch-norm scales and offsets."""

    w1: np.ndarray
    w2: np.ndarray
    gamma1: np.ndarray
    beta1: np.ndarray
    gamma2: np.ndarray
    beta2: np.ndarray

    def names(self) -> list[str]:
        return ["w1", "w2", "gamma1", "beta1", "gamma2", "beta2"]


class _Adam:
    """Adam on every parameter, then the latent weights clipped to [-1, 1]."""

    def __init__(self, params: _Parameters, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.m = {k: np.zeros_like(getattr(params, k)) for k in params.names()}
        self.v = {k: np.zeros_like(getattr(params, k)) for k in params.names()}
        self.b1, self.b2, self.eps, self.t = beta1, beta2, eps, 0

    def step(self, params: _Parameters, grads: dict[str, np.ndarray], lr: float) -> None:
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for k, g in grads.items():
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1 - self.b2) * g * g
            p = getattr(params, k)
            p -= lr * (self.m[k] / c1) / (np.sqrt(self.v[k] / c2) + self.eps)
        np.clip(params.w1, -1, 1, out=params.w1)
        np.clip(params.w2, -1, 1, out=params.w2)


def _binary(w: np.ndarray) -> np.ndarray:
    """sign(w) as int8 +1/-1 (0 -> +1)."""
    return (w >= 0).view(np.int8) * np.int8(2) - np.int8(1)


def _batch_norm(a: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, tuple]:
    mean, var = a.mean(axis=0), a.var(axis=0)
    inv = 1.0 / np.sqrt(var + BN_EPSILON)
    xhat = (a - mean) * inv
    return gamma * xhat + beta, (xhat, inv, gamma)


def _batch_norm_backward(dy: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, inv, gamma = cache
    dgamma, dbeta = (dy * xhat).sum(axis=0), dy.sum(axis=0)
    dx = dy * gamma
    da = inv * (dx - dx.mean(axis=0) - xhat * (dx * xhat).mean(axis=0))
    return da, dgamma, dbeta


def _loss_gradient(scores: np.ndarray, labels: np.ndarray, smoothing: float) -> tuple[float, np.ndarray]:
    """Mean smoothed cross-entropy and its gradient with respect to the scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.full(scores.shape, smoothing / (CLASSES - 1), np.float32)
    target[np.arange(len(labels)), labels] = 1.0 - smoothing
    loss = float(-(target * logp).sum(axis=1).mean())
    return loss, (np.exp(logp) - target) / len(labels)


def _step(params: _Parameters, config: TrainingConfig, images: np.ndarray, labels: np.ndarray,
          product: LayerProduct) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients of one batch (forward through ``product``, straight-through backward)."""
    encoding = config.encoding
    v = encoding.values_of(images).astype(np.float32)
    wb1, wb2 = _binary(params.w1), _binary(params.w2)
    a1 = first_layer_preactivations(encoding, images, wb1, product).astype(np.float32)
    y1, cache1 = _batch_norm(a1, params.gamma1, params.beta1)
    h = np.where(y1 >= 0, 1, -1).astype(np.int8)
    a2 = product(1, h, wb2).astype(np.float32)
    scores, cache2 = _batch_norm(a2, params.gamma2, params.beta2)
    loss, dscores = _loss_gradient(scores, labels, config.label_smoothing)
    da2, dgamma2, dbeta2 = _batch_norm_backward(dscores, cache2)
    dw2 = h.T.astype(np.float32) @ da2
    dy1 = (da2 @ wb2.T.astype(np.float32)) * (np.abs(y1) <= 1)
    da1, dgamma1, dbeta1 = _batch_norm_backward(dy1, cache1)
    dw1 = v.T @ da1
    return loss, {"w1": dw1, "w2": dw2, "gamma1": dgamma1, "beta1": dbeta1, "gamma2": dgamma2, "beta2": dbeta2}


def _fold(params: _Parameters, encoding: InputEncoding, images: np.ndarray, product: LayerProduct,
         metadata: dict | None = None) -> BinaryNetwork:
    """The inference network: batch-norm statistics measured on ``images`` folded into thresholds and signs
    (hidden, ``Threshold.folded``) and scales and offsets (output, ``Scores.folded``)."""
    wb1, wb2 = _binary(params.w1), _binary(params.w2)
    a1 = first_layer_preactivations(encoding, images, wb1, product).astype(np.float64)
    reach = encoding.max_value() * wb1.shape[0] + 1.0
    hidden = Dense(wb1, Threshold.folded(a1.mean(axis=0), np.sqrt(a1.var(axis=0) + BN_EPSILON),
                                         params.gamma1.astype(np.float64), params.beta1.astype(np.float64), reach))
    a2 = product(1, hidden.activation(a1), wb2).astype(np.float64)
    output = Dense(wb2, Scores.folded(a2.mean(axis=0), np.sqrt(a2.var(axis=0) + BN_EPSILON),
                                      params.gamma2.astype(np.float64), params.beta2.astype(np.float64)))
    return BinaryNetwork(encoding, tuple(images.shape[1:]), (hidden, output), metadata or {})


def split_validation(count: int, held_out: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (training, validation) of ``count`` digits with ``held_out`` drawn for validation by ``seed``."""
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[held_out:]), np.sort(order[:held_out])


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """The trained network, per-epoch history (loss, validation accuracy 0..1 when given) and wall time, s."""

    network: BinaryNetwork
    history: list[dict[str, float]]
    seconds: float


def train(config: TrainingConfig, images: np.ndarray, labels: np.ndarray,
          validation: tuple[np.ndarray, np.ndarray] | None = None,
          error_model: ErrorModel | None = None) -> TrainingResult:
    """Train on uint8 images (n, 28, 28) and labels (n,); validate every epoch on ``validation`` if given.

    With ``error_model`` the training is hardware-aware (module doc).
    """
    start = time.perf_counter()
    init, shuffle, augment, emulate, fold_seed = np.random.SeedSequence(config.seed).spawn(5)
    rng_init = np.random.default_rng(init)
    rng_shuffle, rng_augment = np.random.default_rng(shuffle), np.random.default_rng(augment)
    inputs = int(np.prod(images.shape[1:]))
    params = _Parameters(
        w1=rng_init.uniform(-1, 1, (inputs, config.hidden)).astype(np.float32),
        w2=rng_init.uniform(-1, 1, (config.hidden, CLASSES)).astype(np.float32),
        gamma1=np.ones(config.hidden, np.float32), beta1=np.zeros(config.hidden, np.float32),
        gamma2=np.ones(CLASSES, np.float32), beta2=np.zeros(CLASSES, np.float32))
    adam = _Adam(params)
    product: LayerProduct = plain_product if error_model is None else EmulatedProduct(error_model, emulate)
    steps_per_epoch = len(images) // config.batch
    total = steps_per_epoch * config.epochs
    history = []
    for epoch in range(config.epochs):
        epoch_images = images if config.augmentation is None else config.augmentation.apply(images, rng_augment)
        order = rng_shuffle.permutation(len(images))
        losses = []
        for s in range(steps_per_epoch):
            batch = order[s * config.batch: (s + 1) * config.batch]
            loss, grads = _step(params, config, epoch_images[batch], labels[batch], product)
            t = epoch * steps_per_epoch + s
            adam.step(params, grads, config.learning_rate * 0.5 * (1 + np.cos(np.pi * t / total)))
            losses.append(loss)
        record = {"epoch": epoch + 1, "loss": float(np.mean(losses))}
        if validation is not None:
            network = _fold_for(params, config, images, error_model, fold_seed)
            record["validation_accuracy"] = network.accuracy(*validation)
        history.append(record)
    network = _fold_for(params, config, images, error_model, fold_seed)
    return TrainingResult(network, history, time.perf_counter() - start)


def _fold_for(params: _Parameters, config: TrainingConfig, images: np.ndarray, error_model: ErrorModel | None,
              seed: np.random.SeedSequence) -> BinaryNetwork:
    product = plain_product if error_model is None else EmulatedProduct(error_model, seed)
    metadata = {"training": _describe(config), "hardware_aware": error_model is not None}
    return _fold(params, config.encoding, images, product, metadata)


def _describe(config: TrainingConfig) -> dict:
    return json.loads(json.dumps(asdict(config)))


def config_from_description(description: dict) -> TrainingConfig:
    """The TrainingConfig a trained network's metadata describes (its ``training`` entry)."""
    fields = dict(description)
    fields["encoding"] = InputEncoding(**fields["encoding"])
    augmentation = fields.get("augmentation")
    fields["augmentation"] = None if augmentation is None else Augmentation(**augmentation)
    return TrainingConfig(**fields)


def _parser() -> argparse.ArgumentParser:
    defaults, augmentation = TrainingConfig(), Augmentation()
    p = argparse.ArgumentParser(prog="python -m procedures.networks.training.train_mlp",
                                description="Train the two-layer binary perceptron on MNIST (numpy only).")
    p.add_argument("--data", type=Path, help="folder with the four standard MNIST files (default: shipped subset)")
    p.add_argument("--hidden", type=int, default=defaults.hidden, help="hidden neurons")
    p.add_argument("--encoding", choices=("threshold", "bitplanes"), default=defaults.encoding.kind)
    p.add_argument("--planes", type=int, default=defaults.encoding.planes, help="bit-planes (bitplanes encoding)")
    p.add_argument("--threshold", type=int, default=defaults.encoding.threshold,
                   help="grey level of +1 (threshold encoding)")
    p.add_argument("--epochs", type=int, default=defaults.epochs)
    p.add_argument("--batch", type=int, default=defaults.batch)
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    p.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    p.add_argument("--no-augmentation", action="store_true", help="train on the digits as they are")
    p.add_argument("--shift", type=float, default=augmentation.shift, help="augmentation: max shift, pixels")
    p.add_argument("--rotation", type=float, default=augmentation.rotation, help="augmentation: max rotation, deg")
    p.add_argument("--scale", type=float, default=augmentation.scale, help="augmentation: max relative scaling")
    p.add_argument("--elastic-alpha", type=float, default=augmentation.elastic_alpha,
                   help="augmentation: elastic amplitude, pixels (0: none)")
    p.add_argument("--elastic-sigma", type=float, default=augmentation.elastic_sigma,
                   help="augmentation: elastic smoothing, pixels")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--validation", type=int, default=0,
                   help="hold out this many training digits and report validation accuracy only (settings search)")
    p.add_argument("--error-model", type=Path, help=".npz with an error model's arrays: hardware-aware training")
    p.add_argument("--out", type=Path, help="write the trained network here (.npz, docs/networks.md)")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: train, print a JSON summary (last line), optionally save the network."""
    args = _parser().parse_args(argv)
    augmentation = None if args.no_augmentation else Augmentation(args.shift, args.rotation, args.scale,
                                                                  args.elastic_alpha, args.elastic_sigma)
    config = TrainingConfig(args.hidden, InputEncoding(args.encoding, args.planes, args.threshold), args.epochs,
                            args.batch, args.learning_rate, args.label_smoothing, augmentation, args.seed)
    data = load_mnist(args.data)
    error_model = None
    if args.error_model is not None:
        with np.load(args.error_model, allow_pickle=False) as npz:
            error_model = ErrorModel.from_arrays(dict(npz))
    summary: dict = {"data_digest": data.digest(), "training_digits": len(data.train_images)}
    if args.validation:
        train_idx, val_idx = split_validation(len(data.train_images), args.validation)
        result = train(config, data.train_images[train_idx], data.train_labels[train_idx],
                       (data.train_images[val_idx], data.train_labels[val_idx]), error_model)
        summary["validation_accuracy"] = result.history[-1]["validation_accuracy"]
        summary["validation_history"] = [round(r["validation_accuracy"], 4) for r in result.history]
    else:
        result = train(config, data.train_images, data.train_labels, error_model=error_model)
        summary["test_accuracy"] = result.network.accuracy(data.test_images, data.test_labels)
    summary["training_s"] = round(result.seconds, 1)
    if args.out is not None:
        threads = "".join(f"{name}={os.environ[name]} " for name in BLAS_THREAD_VARIABLES if name in os.environ)
        arguments = " ".join(sys.argv[1:] if argv is None else argv)
        command = f"{threads}python -m procedures.networks.training.train_mlp {arguments}"
        metadata = {**result.network.metadata, **summary, "command": command, "numpy": np.__version__}
        summary["saved"] = str(save_network(replace(result.network, metadata=metadata), args.out))
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
