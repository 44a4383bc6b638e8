"""PyTorch training of binary convolutional networks, exported to the project's BinaryNetwork (``train`` extra).

The torch model computes exactly what the host and the array compute:

- the first layer multiplies the encoded input v = sum_p 2**p x_p (host/encoding.py;
  v = x for one plane) by sign(w); padding cells hold v = -(2**planes - 1),
  i.e. -1 on every plane (host/conv.py);
- every other layer multiplies +1/-1 activations by sign(w), padding -1;
- batch normalisation, then sign (hidden layers; the gradient passes where
  the normalised value is within [-1, 1], hard-tanh straight-through);
- pooling layers max-pool the +1/-1 activations (pooling and sign commute);
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

Every layer kind trains as one block class (``BLOCKS``, by the kind's name
in ``Architecture.layers``): a weighted block holds its latent weights and
batch norm, computes its pre-activations and exports its host layer with
the folded activation; a host block computes its map and exports its layer.
"""


from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..chip.error_model import ErrorModel
from ..chip.tiling import TileLayout
from ..host.layers import Convolution, Dense, Layer, Pooling, Scores, Threshold
from ..host.network import BinaryNetwork
from .command import Architecture, Schedule

BN_EPSILON = 1e-5
FOLD_BATCH = 500    # images per pass when measuring the folded statistics

#: a map in torch's layout: (channels, height, width) or (features,)
TorchShape = tuple[int, ...]


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


def _signs(w: torch.Tensor) -> torch.Tensor:
    """sign(w) (0 -> +1) as int8 +1/-1."""
    return torch.where(w >= 0, 1, -1).to(torch.int8)


class WeightedBlock(nn.Module):
    """A weighted layer in training: latent weights in [-1, 1] (``weight``), its batch norm (``norm``), the
    pre-activations of a map (MAC units) and its export."""

    weight: nn.Parameter
    norm: nn.Module
    inputs: int                   # rows of the lowered weight matrix
    outputs: int
    output_shape: TorchShape

    @staticmethod
    def _latent(shape: tuple[int, ...], init_scale: float) -> nn.Parameter:
        return nn.Parameter(torch.empty(*shape).uniform_(-init_scale, init_scale))

    def product(self, x: torch.Tensor, pad: float) -> torch.Tensor:
        """Pre-activations of map(s) ``x`` by the binary weights, padding cells ``pad``."""
        raise NotImplementedError

    def lowered(self) -> np.ndarray:
        """The binary weights as the host's (inputs, outputs) int8 matrix."""
        raise NotImplementedError

    def export(self, weights: np.ndarray, activation: Threshold | Scores) -> Layer:
        """The host layer of ``weights`` (``lowered()``) with its folded ``activation``."""
        raise NotImplementedError


class ConvolutionBlock(WeightedBlock):
    """A 3 x 3 convolution, padding 1, to ``channels`` channels (host ``Convolution``)."""

    def __init__(self, shape: TorchShape, channels: int, init_scale: float) -> None:
        super().__init__()
        self.weight = self._latent((channels, shape[0], 3, 3), init_scale)
        self.norm = nn.BatchNorm2d(channels, eps=BN_EPSILON)
        self.inputs, self.outputs, self.output_shape = 9 * shape[0], channels, (channels, *shape[1:])

    def product(self, x: torch.Tensor, pad: float) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), value=pad), binary_weights(self.weight))

    def lowered(self) -> np.ndarray:                    # (out, in, 3, 3) -> (3, 3, in, out) -> (9 in, out)
        return _signs(self.weight).permute(2, 3, 1, 0).reshape(-1, self.outputs).numpy()

    def export(self, weights: np.ndarray, activation: Threshold | Scores) -> Layer:
        return Convolution(weights, activation, 3, 1)


class DenseBlock(WeightedBlock):
    """A dense layer of ``width`` outputs on the map flattened channel-last, as the host does (host ``Dense``)."""

    def __init__(self, shape: TorchShape, width: int, init_scale: float) -> None:
        super().__init__()
        self.inputs, self.outputs, self.output_shape = int(np.prod(shape)), width, (width,)
        self.weight = self._latent((width, self.inputs), init_scale)
        self.norm = nn.BatchNorm1d(width, eps=BN_EPSILON)

    def product(self, x: torch.Tensor, pad: float) -> torch.Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1).reshape(len(x), -1)          # channel-last, as the host
        return x @ binary_weights(self.weight).t()

    def lowered(self) -> np.ndarray:                    # (out, in) -> (in, out)
        return _signs(self.weight).t().contiguous().numpy()

    def export(self, weights: np.ndarray, activation: Threshold | Scores) -> Layer:
        return Dense(weights, activation)


class PoolingBlock(nn.Module):
    """Max-pooling of +1/-1 maps over ``size`` x ``size`` windows (host ``Pooling``)."""

    def __init__(self, shape: TorchShape, size: int, init_scale: float) -> None:
        super().__init__()
        self.size = size
        self.output_shape = (shape[0], shape[1] // size, shape[2] // size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(h, self.size)

    def export(self) -> Layer:
        return Pooling(self.size)


#: the block that trains each layer kind named in ``Architecture.layers``
BLOCKS: dict[str, type[nn.Module]] = {"conv": ConvolutionBlock, "dense": DenseBlock, "pool": PoolingBlock}


class BinaryConvNet(nn.Module):
    """The architecture's binary network; ``forward`` takes v (n, 1, h, w) and gives the class scores."""

    def __init__(self, arch: Architecture, init_scale: float = 1.0) -> None:
        super().__init__()
        self.arch = arch
        self.blocks = nn.ModuleList()
        shape: TorchShape = (1, *arch.input_shape)
        for kind, size in arch.layers:
            block = BLOCKS[kind](shape, size, init_scale)
            self.blocks.append(block)
            shape = block.output_shape
        self.weighted = [block for block in self.blocks if isinstance(block, WeightedBlock)]
        self.noise = [0.0] * len(self.weighted)           # per weighted layer, MAC units (hardware-aware)

    def preactivation(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """Weighted layer ``index``'s pre-activations (MAC units), with its training noise when training; the
        first layer's padding is -(2**planes - 1), the others' -1."""
        pad = -float(self.arch.encoding.max_value()) if index == 0 else -1.0
        a = self.weighted[index].product(x, pad)
        if self.training and self.noise[index] > 0:
            a = a + self.noise[index] * torch.randn_like(a)
        return a

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        x, index, last = v, 0, len(self.weighted) - 1
        for block in self.blocks:
            if not isinstance(block, WeightedBlock):
                x = block(x)
                continue
            a = block.norm(self.preactivation(index, x))
            if index == last:
                return a
            x, index = _Sign.apply(a), index + 1
        raise ValueError("the architecture must end with a weighted layer")

    @torch.no_grad()
    def clip(self) -> None:
        """Latent weights back into [-1, 1]."""
        for block in self.weighted:
            block.weight.clamp_(-1.0, 1.0)


def layer_noise(model: BinaryConvNet, error: ErrorModel) -> list[float]:
    """Per weighted layer, the standard deviation (MAC units) of the summed errors of its row tiles' partial sums.

    The error variance of one 64-row partial sum is the model's mean squared
    error over its observed ideal MACs (weighted by the observations); a
    layer with T row tiles sums T of them, and the first layer's planes are
    weighted by 2**p (variance by 4**p).
    """
    mean, std = error.moments()
    weight = error.counts.astype(np.float64)
    mse = float(((mean ** 2 + std ** 2) * weight).sum() / weight.sum())
    planes = float((model.arch.encoding.plane_weights().astype(np.float64) ** 2).sum())
    out = []
    for index, block in enumerate(model.weighted):
        tiles = TileLayout(block.inputs, block.outputs).row_tiles
        out.append(float(np.sqrt(mse * tiles * (planes if index == 0 else 1.0))))
    return out


def encode(arch: Architecture, images: np.ndarray) -> torch.Tensor:
    """v = sum_p 2**p x_p as float32 (n, 1, h, w) of uint8 images (n, h, w)."""
    v = arch.encoding.values_of(images).reshape(len(images), 1, *arch.input_shape)
    return torch.from_numpy(v.astype(np.float32))


def _statistics(a_sum: np.ndarray, a_sq: np.ndarray, count: int, norm: nn.Module) -> tuple[np.ndarray, ...]:
    """Mean and standard deviation of a layer's pre-activations over ``count`` values, and its batch norm's gamma
    and beta (float64)."""
    mean = a_sum / count
    s = np.sqrt(np.maximum(a_sq / count - mean ** 2, 0.0) + BN_EPSILON)
    return mean, s, norm.weight.detach().double().numpy(), norm.bias.detach().double().numpy()


@torch.no_grad()
def to_network(model: BinaryConvNet, images: np.ndarray, metadata: dict) -> BinaryNetwork:
    """The inference network: binary weights, statistics of ``images`` (uint8, un-augmented) folded in."""
    arch = model.arch
    model.eval()
    maps = [encode(arch, images[s: s + FOLD_BATCH]) for s in range(0, len(images), FOLD_BATCH)]
    layers: list[Layer] = []
    index, last = 0, len(model.weighted) - 1
    for block in model.blocks:
        if not isinstance(block, WeightedBlock):
            layers.append(block.export())
            maps = [block(h) for h in maps]
            continue
        weights = block.lowered()
        count, a_sum, a_sq = 0, 0.0, 0.0
        for x in maps:
            a = model.preactivation(index, x).double()
            dims = (0, *range(2, a.dim()))                      # every axis but the channels'
            count += a.numel() // a.shape[1]
            a_sum, a_sq = a_sum + a.sum(dim=dims).numpy(), a_sq + (a * a).sum(dim=dims).numpy()
        statistics = _statistics(a_sum, a_sq, count, block.norm)
        if index == last:
            layers.append(block.export(weights, Scores.folded(*statistics)))
            break
        reach = float(arch.encoding.max_value() if index == 0 else 1) * weights.shape[0] + 1.0
        activation = Threshold.folded(*statistics, reach)
        layers.append(block.export(weights, activation))
        view = (1, -1) + (1,) * (a.dim() - 2)
        threshold = torch.from_numpy(activation.threshold.astype(np.float64)).view(view)
        sign = torch.from_numpy(activation.sign.astype(np.float64)).view(view)
        maps = [torch.where(sign * (model.preactivation(index, x).double() - threshold) >= 0, 1.0, -1.0).float()
                for x in maps]
        index += 1
    return BinaryNetwork(arch.encoding, tuple(arch.input_shape), tuple(layers), metadata)


def set_threads(args: argparse.Namespace) -> None:
    """torch's threads from the command line's ``--threads`` (the result depends on them)."""
    torch.set_num_threads(args.threads)


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
        noisy: Callable[[int], bool] | None = None) -> Trained:
    """Train on uint8 images (n, h, w) and labels (n,); ``augment`` re-draws the training images every epoch.

    With ``error_model``, the weighted layers k with ``noisy(k)`` (None:
    every layer) see the model's errors during training (hardware-aware,
    module doc).

    Every epoch's record is also printed to standard error as JSON.
    Deterministic under ``schedule.seed`` on one machine and thread count:
    torch's initialisation and noise, the shuffling and the augmentation use
    separate streams derived from it.
    """
    start = time.perf_counter()
    shuffle_seed, augment_seed = np.random.SeedSequence(schedule.seed).spawn(2)
    rng_shuffle, rng_augment = np.random.default_rng(shuffle_seed), np.random.default_rng(augment_seed)
    torch.manual_seed(schedule.seed)
    model = BinaryConvNet(arch, schedule.init_scale)
    if error_model is not None:
        model.noise = [sigma if noisy is None or noisy(index) else 0.0
                       for index, sigma in enumerate(layer_noise(model, error_model))]
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
