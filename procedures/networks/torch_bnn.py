"""PyTorch training of binary convolutional networks, exported to the project's BinaryNetwork (``train`` extra).

The torch model computes exactly what the host and the array compute:

- the first layer multiplies the encoded input v = sum_p 2**p x_p (encoding.py;
  v = x for one plane) by sign(w); padding cells hold v = -(2**planes - 1),
  i.e. -1 on every plane (conv.py);
- every other layer multiplies +1/-1 activations by sign(w), padding -1;
- batch normalisation, then sign (hidden layers; the gradient passes where
  the normalised value is within [-1, 1], hard-tanh straight-through), then
  max-pooling (of +1/-1 values, so pooling and sign commute);
- the output layer's batch normalisation gives the class scores.

Weights: latent real weights clipped to [-1, 1], binarised by sign in the
forward pass with the straight-through gradient (BinaryConnect).  Feature
maps are flattened channel-last before the first dense layer, as the host
does.  Pre-activations are integers below 2**24, exact in float32, so the
torch pre-activations equal the host's bit for bit.

Hardware-aware option: Gaussian noise added to every layer's
pre-activations during training, with the variance the error model gives
to the sum of the layer's row tiles (``layer_noise``): the errors of the
64-row partial sums are independent, so their variances add.

Export (``to_network``): batch-norm statistics are measured layer by layer
on un-augmented data with the earlier layers already binary and folded
(exact population mean and variance, float64), then folded into thresholds
and signs (hidden) or scales and offsets (output) as in docs/networks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .conv import Convolution
from .encoding import InputEncoding
from .error_model import ErrorModel, gaussian_model
from .network import BinaryNetwork, HiddenLayer, OutputLayer
from .tiling import TileLayout

BN_EPSILON = 1e-5
FOLD_BATCH = 500    # images per pass when measuring the folded statistics


@dataclass(frozen=True)
class Architecture:
    """Convolutions (out channels, pool after) 3 x 3 padding 1, then dense widths; the last is the classes."""

    input_shape: tuple[int, int]              # image (height, width), one grey channel
    encoding: InputEncoding
    convolutions: tuple[tuple[int, int], ...]
    dense: tuple[int, ...]

    def geometry(self) -> tuple[Convolution | None, ...]:
        """Per layer: its Convolution, or None for a dense layer."""
        return tuple(Convolution(3, 1, pool) for _, pool in self.convolutions) + (None,) * len(self.dense)

    def widths(self) -> list[tuple[int, int]]:
        """(inputs, outputs) of every layer's lowered weight matrix."""
        h, w = self.input_shape
        channels, out = 1, []
        for c, pool in self.convolutions:
            out.append((9 * channels, c))
            channels, h, w = c, h // pool, w // pool
        inputs = h * w * channels
        for width in self.dense:
            out.append((inputs, width))
            inputs = width
        return out


class _Sign(torch.autograd.Function):
    """sign (0 -> +1) forward; gradient passed where |x| <= 1 (hard-tanh straight-through)."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        ctx.save_for_backward(x)
        return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)


def binary_weights(w: torch.Tensor) -> torch.Tensor:
    """sign(w) (0 -> +1) with the identity gradient (BinaryConnect)."""
    return w + (torch.where(w >= 0, 1.0, -1.0) - w).detach()


class BinaryConvNet(nn.Module):
    """The architecture's binary network; ``forward`` takes v (n, 1, h, w) and gives the class scores."""

    def __init__(self, arch: Architecture, noise: list[float] | None = None, init_scale: float = 1.0) -> None:
        super().__init__()
        self.arch = arch
        self.noise = noise or [0.0] * len(arch.widths())
        self.conv_weights = nn.ParameterList()
        self.dense_weights = nn.ParameterList()
        self.norms = nn.ModuleList()
        channels = 1
        for c, _ in arch.convolutions:
            self.conv_weights.append(nn.Parameter(torch.empty(c, channels, 3, 3).uniform_(-init_scale, init_scale)))
            self.norms.append(nn.BatchNorm2d(c, eps=BN_EPSILON))
            channels = c
        for inputs, outputs in arch.widths()[len(arch.convolutions):]:
            self.dense_weights.append(nn.Parameter(torch.empty(outputs, inputs).uniform_(-init_scale, init_scale)))
            self.norms.append(nn.BatchNorm1d(outputs, eps=BN_EPSILON))

    def layer_input_pad(self, index: int) -> float:
        """Padding value of layer ``index``'s input: -(2**planes - 1) for the first, -1 after."""
        return -float(self.arch.encoding.max_value()) if index == 0 else -1.0

    def preactivation(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Layer ``index``'s pre-activations (MAC units; conv: (n, c, h, w), dense: (n, outputs))."""
        convs = len(self.arch.convolutions)
        if index < convs:
            x = F.pad(x, (1, 1, 1, 1), value=self.layer_input_pad(index))
            a = F.conv2d(x, binary_weights(self.conv_weights[index]))
        else:
            if x.dim() == 4:
                x = x.permute(0, 2, 3, 1).reshape(len(x), -1)          # channel-last, as the host
            a = x @ binary_weights(self.dense_weights[index - convs]).t()
        if self.training and self.noise[index] > 0:
            a = a + self.noise[index] * torch.randn_like(a)
        return a

    def activation(self, index: int, a: torch.Tensor) -> torch.Tensor:
        """Hidden layer ``index``'s +1/-1 output (pooled for convolutions) from its pre-activations."""
        h = _Sign.apply(self.norms[index](a))
        if index < len(self.arch.convolutions) and self.arch.convolutions[index][1] > 1:
            h = F.max_pool2d(h, self.arch.convolutions[index][1])
        return h

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        x = v
        last = len(self.norms) - 1
        for index in range(last):
            x = self.activation(index, self.preactivation(index, x))
        return self.norms[last](self.preactivation(last, x))

    @torch.no_grad()
    def clip(self) -> None:
        """Latent weights back into [-1, 1]."""
        for w in list(self.conv_weights) + list(self.dense_weights):
            w.clamp_(-1.0, 1.0)


def layer_noise(arch: Architecture, model: ErrorModel) -> list[float]:
    """Per layer, the standard deviation (MAC units) of the summed errors of its row tiles' partial sums.

    The error variance of one 64-row partial sum is the model's mean squared
    error over its observed ideal MACs (weighted by the observations); a
    layer with T row tiles sums T of them, and the first layer's planes are
    weighted by 2**p (variance by 4**p).
    """
    mean, std = model.moments()
    weight = model.counts.astype(np.float64)
    mse = float(((mean ** 2 + std ** 2) * weight).sum() / weight.sum())
    planes = float((arch.encoding.plane_weights().astype(np.float64) ** 2).sum())
    out = []
    for index, (inputs, outputs) in enumerate(arch.widths()):
        tiles = TileLayout(inputs, outputs).row_tiles
        out.append(float(np.sqrt(mse * tiles * (planes if index == 0 else 1.0))))
    return out


def encode(arch: Architecture, images: np.ndarray) -> torch.Tensor:
    """v = sum_p 2**p x_p as float32 (n, 1, h, w) of uint8 images (n, h, w)."""
    v = arch.encoding.values_of(images).reshape(len(images), 1, *arch.input_shape)
    return torch.from_numpy(v.astype(np.float32))


def _fold_hidden(weights: np.ndarray, a_sum: np.ndarray, a_sq: np.ndarray, count: int, norm: nn.Module,
                 reach: float) -> HiddenLayer:
    """Thresholds and signs of a hidden layer from its pre-activations' sums (float64) over ``count`` values."""
    mean = a_sum / count
    s = np.sqrt(np.maximum(a_sq / count - mean ** 2, 0.0) + BN_EPSILON)
    gamma = norm.weight.detach().double().numpy()
    beta = norm.bias.detach().double().numpy()
    safe = np.where(gamma == 0, 1.0, gamma)
    threshold = np.where(gamma == 0, np.where(beta >= 0, -reach, reach), mean - beta * s / safe)
    return HiddenLayer(weights, threshold.astype(np.float32), np.where(gamma < 0, -1, 1).astype(np.int8))


@torch.no_grad()
def to_network(model: BinaryConvNet, images: np.ndarray, metadata: dict) -> BinaryNetwork:
    """The inference network: binary weights, statistics of ``images`` (uint8, un-augmented) folded in."""
    arch = model.arch
    model.eval()
    convs = len(arch.convolutions)
    weights = []
    for w in model.conv_weights:             # (out, in, 3, 3) -> (3, 3, in, out) -> (9 in, out)
        weights.append(torch.where(w >= 0, 1, -1).permute(2, 3, 1, 0).reshape(-1, w.shape[0]).to(torch.int8).numpy())
    for w in model.dense_weights:            # (out, in) -> (in, out)
        weights.append(torch.where(w >= 0, 1, -1).t().contiguous().to(torch.int8).numpy())
    hidden: list[HiddenLayer] = []
    maps = [encode(arch, images[s: s + FOLD_BATCH]) for s in range(0, len(images), FOLD_BATCH)]
    last = len(weights) - 1
    for index in range(last + 1):
        dims = (0, 2, 3) if index < convs else (0,)
        count, a_sum, a_sq = 0, 0.0, 0.0
        for x in maps:
            a = model.preactivation(index, x).double()
            count += a.numel() // a.shape[1]
            a_sum, a_sq = a_sum + a.sum(dim=dims).numpy(), a_sq + (a * a).sum(dim=dims).numpy()
        if index == last:
            mean = a_sum / count
            s = np.sqrt(np.maximum(a_sq / count - mean ** 2, 0.0) + BN_EPSILON)
            gamma = model.norms[index].weight.detach().double().numpy()
            beta = model.norms[index].bias.detach().double().numpy()
            output = OutputLayer(weights[index], (gamma / s).astype(np.float32),
                                 (beta - gamma * mean / s).astype(np.float32))
            break
        reach = float(arch.encoding.max_value() if index == 0 else 1) * weights[index].shape[0] + 1.0
        layer = _fold_hidden(weights[index], a_sum, a_sq, count, model.norms[index], reach)
        hidden.append(layer)
        shape = (1, -1, 1, 1) if index < convs else (1, -1)
        threshold = torch.from_numpy(layer.threshold.astype(np.float64)).view(shape)
        sign = torch.from_numpy(layer.sign.astype(np.float64)).view(shape)
        maps = [_pooled(arch, index, torch.where(sign * (model.preactivation(index, x).double() - threshold) >= 0,
                                                 1.0, -1.0).float()) for x in maps]
    return BinaryNetwork(arch.encoding, tuple(arch.input_shape), tuple(hidden), output, metadata, arch.geometry())


def _pooled(arch: Architecture, index: int, h: torch.Tensor) -> torch.Tensor:
    pool = arch.convolutions[index][1] if index < len(arch.convolutions) else 1
    return F.max_pool2d(h, pool) if pool > 1 else h


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
    """The Schedule the parsed options of ``add_schedule_arguments`` give; sets torch's threads."""
    torch.set_num_threads(args.threads)
    return Schedule(args.epochs, args.batch, args.learning_rate, args.label_smoothing, args.seed, args.init_scale)


def error_model_of(args: argparse.Namespace) -> ErrorModel | None:
    """The error model of hardware-aware training: ``--error-model``'s file, else a Gaussian of
    ``--error-sigma``, else None."""
    if args.error_model is not None:
        with np.load(args.error_model, allow_pickle=False) as npz:
            return ErrorModel.from_arrays(dict(npz))
    return None if args.error_sigma is None else gaussian_model(args.error_sigma)


def provenance(command: str, argv: list[str] | None, args: argparse.Namespace, schedule: Schedule) -> dict:
    """The metadata every trained network carries: command, seed, schedule, versions, threads."""
    arguments = " ".join(sys.argv[1:] if argv is None else argv)
    return {"command": f"python -m {command} {arguments}".strip(), "seed": args.seed, "schedule": asdict(schedule),
            "torch": torch.__version__, "numpy": np.__version__, "torch_threads": args.threads}


@dataclass(frozen=True, eq=False)
class Trained:
    """The torch model, per-epoch history (loss, validation accuracy 0..1 when given) and wall time, s."""

    model: BinaryConvNet
    history: list[dict[str, float]]
    seconds: float


def fit(arch: Architecture, schedule: Schedule, images: np.ndarray, labels: np.ndarray,
        augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
        error_model: ErrorModel | None = None,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        noisy_layers: tuple[int, ...] | None = None) -> Trained:
    """Train on uint8 images (n, h, w) and labels (n,); ``augment`` re-draws the training images every epoch.

    With ``error_model``, the layers in ``noisy_layers`` (None: every layer)
    see the model's errors during training (hardware-aware, module doc).

    Every epoch's record is also printed to standard error as JSON.
    Deterministic under ``schedule.seed`` on one machine and thread count:
    torch's initialisation and noise, the shuffling and the augmentation use
    separate streams derived from it.
    """
    start = time.perf_counter()
    shuffle_seed, augment_seed = np.random.SeedSequence(schedule.seed).spawn(2)
    rng_shuffle, rng_augment = np.random.default_rng(shuffle_seed), np.random.default_rng(augment_seed)
    torch.manual_seed(schedule.seed)
    noise = None
    if error_model is not None:
        noise = [sigma if noisy_layers is None or index in noisy_layers else 0.0
                 for index, sigma in enumerate(layer_noise(arch, error_model))]
    model = BinaryConvNet(arch, noise, schedule.init_scale)
    optimiser = torch.optim.Adam(model.parameters(), lr=schedule.learning_rate)
    steps = len(images) // schedule.batch
    decay = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda t: 0.5 * (1 + np.cos(np.pi * t / (steps * schedule.epochs))))
    target = torch.from_numpy(labels.astype(np.int64))
    history = []
    for epoch in range(schedule.epochs):
        model.train()
        v = encode(arch, images if augment is None else augment(images, rng_augment))
        order = torch.from_numpy(rng_shuffle.permutation(len(images)))
        total = 0.0
        for s in range(steps):
            batch = order[s * schedule.batch: (s + 1) * schedule.batch]
            loss = F.cross_entropy(model(v[batch]), target[batch], label_smoothing=schedule.label_smoothing)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            decay.step()
            model.clip()
            total += float(loss.detach())
        record = {"epoch": epoch + 1, "loss": total / steps, "seconds": round(time.perf_counter() - start, 1)}
        if validation is not None:
            record["validation_accuracy"] = evaluate(model, *validation)
        history.append(record)
        print(json.dumps(record), file=sys.stderr, flush=True)
    return Trained(model, history, time.perf_counter() - start)


@torch.no_grad()
def evaluate(model: BinaryConvNet, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy (0..1) of the torch model in inference mode (running batch-norm statistics)."""
    model.eval()
    correct = 0
    for s in range(0, len(images), FOLD_BATCH):
        scores = model(encode(model.arch, images[s: s + FOLD_BATCH]))
        correct += int((scores.argmax(dim=1).numpy() == labels[s: s + FOLD_BATCH]).sum())
    return correct / len(images)
