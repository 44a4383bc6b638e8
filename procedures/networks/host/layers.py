"""The layers of a binary network, one class per kind: what each computes and the map it makes.

A network (network.py) passes per-image maps through its layers in order:
a map is (features,) or (height, width, channels), channel-last.  Every
layer is a frozen dataclass of one of two families:

- **weighted** (``WeightedLayer``): +1/-1 input vectors multiplied by +1/-1
  weights (inputs, outputs) int8, the pre-activations (MAC units) that the
  array computes tile by tile, then their activation on the host: a hidden
  layer's binary activation (``Threshold``) or the output layer's class
  scores (``Scores``).  A kind says how it cuts a map into input vectors
  (``vectors``), how many inputs that gives (``inputs``) and what map its
  outputs make (``output_shape``).  ``Dense``: the whole map flattened
  channel-last, one vector per image.  ``Convolution``: a k x k patch per
  position (im2col, conv.py), stride 1, padding cells -1.
- **host** (``HostLayer``): map to map on the host only, no weights.
  ``Pooling``: max over non-overlapping p x p windows of +1/-1 activations.

The weighted layers are the network's numbered layers ("layer k", the k-th
weighted layer: products, chip layers and error models are indexed so);
host layers are not numbered.  A kind's geometry is its integer fields
(``kernel``, ``padding``, ``size``), which the .npz format stores as they
are named (npz.py).  Adding a kind is one class here, its name in npz.KINDS
and, to train it, its torch block (training/torch_bnn.py): docs/networks.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .conv import im2col, max_pool

#: a per-image map: (features,) or (height, width, channels)
Shape = tuple[int, ...]


@dataclass(frozen=True, eq=False)
class Threshold:
    """A hidden layer's binary activation, batch normalisation folded: h = +1 where sign * (a - threshold) >= 0,
    else -1; threshold (outputs,) MAC units, sign (outputs,) int8 +1/-1."""

    threshold: np.ndarray
    sign: np.ndarray

    def __call__(self, preactivation: np.ndarray) -> np.ndarray:
        """+1/-1 int8 activations of pre-activations (m, outputs)."""
        return np.where(self.sign * (preactivation - self.threshold) >= 0, 1, -1).astype(np.int8)

    @classmethod
    def folded(cls, mean: np.ndarray, std: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
               reach: float) -> Threshold:
        """Batch normalisation y = gamma (a - mean) / std + beta, then sign, folded (float64 in, float32
        thresholds): y >= 0 <=> sign (a - threshold) >= 0 with threshold = mean - beta std / gamma and
        sign = sign(gamma); gamma = 0 gives the constant sign(beta) through a threshold beyond ``reach``, the
        largest |a| the layer can reach."""
        safe = np.where(gamma == 0, 1.0, gamma)
        threshold = np.where(gamma == 0, np.where(beta >= 0, -reach, reach), mean - beta * std / safe)
        return cls(threshold.astype(np.float32), np.where(gamma < 0, -1, 1).astype(np.int8))


@dataclass(frozen=True, eq=False)
class Scores:
    """The output layer's class scores: scale * pre-activation + offset, per class ((classes,) each)."""

    scale: np.ndarray
    offset: np.ndarray

    def __call__(self, preactivation: np.ndarray) -> np.ndarray:
        """Class scores (m, classes) float64."""
        return self.scale * preactivation + self.offset

    @classmethod
    def folded(cls, mean: np.ndarray, std: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> Scores:
        """Batch normalisation y = gamma (a - mean) / std + beta as scores (float64 in, float32 out):
        scale = gamma / std, offset = beta - gamma mean / std."""
        return cls((gamma / std).astype(np.float32), (beta - gamma * mean / std).astype(np.float32))


def spatial(shape: Shape, what: str) -> Shape:
    """``shape`` if it is a (height, width, channels) map; else ValueError saying that ``what`` needs one."""
    if len(shape) != 3:
        raise ValueError(f"{what} needs a (height, width, channels) map, not {tuple(shape)} (it cannot follow a "
                         "dense layer)")
    return shape


class Layer(ABC):
    """One step of a network's forward pass, from a map of ``shape`` to a map of ``output_shape(shape)``."""

    kind: ClassVar[str]          # the kind's name in the .npz format (``layer_kinds``)

    @abstractmethod
    def output_shape(self, shape: Shape) -> Shape:
        """The per-image map after this layer; ValueError if the layer does not fit a map of ``shape``."""


class HostLayer(Layer):
    """A layer computed on the host only: no weights, no product."""

    @abstractmethod
    def apply(self, maps: np.ndarray) -> np.ndarray:
        """Maps (n, *output_shape) of maps (n, *shape)."""


@dataclass(frozen=True, eq=False)
class WeightedLayer(Layer):
    """A product of +1/-1 vectors by +1/-1 ``weights`` (inputs, outputs) int8, then its ``activation``."""

    weights: np.ndarray
    activation: Threshold | Scores

    #: what the weights' rows must match, for messages ("... inputs, but {rows} is N")
    rows: ClassVar[str]

    @property
    def outputs(self) -> int:
        return int(self.weights.shape[1])

    @abstractmethod
    def inputs(self, shape: Shape) -> int:
        """Inputs of one vector cut from a map of ``shape``: the rows the weights must have."""

    @abstractmethod
    def vectors(self, maps: np.ndarray) -> np.ndarray:
        """The +1/-1 input vectors (m, inputs) of maps (n, *shape), image-major."""


@dataclass(frozen=True, eq=False)
class Dense(WeightedLayer):
    """The whole map flattened (row, column, channel order) times the weights: one vector per image."""

    kind: ClassVar[str] = "dense"
    rows: ClassVar[str] = "the size of the map before it"

    def inputs(self, shape: Shape) -> int:
        return int(np.prod(shape))

    def vectors(self, maps: np.ndarray) -> np.ndarray:
        return maps.reshape(len(maps), -1)

    def output_shape(self, shape: Shape) -> Shape:
        return (self.outputs,)


@dataclass(frozen=True, eq=False)
class Convolution(WeightedLayer):
    """A square ``kernel`` x ``kernel`` convolution, stride 1, ``padding`` cells of -1 on every side; the weights
    are the lowered (kernel * kernel * channels, out channels) matrix (conv.py)."""

    kernel: int = 3
    padding: int = 1

    kind: ClassVar[str] = "conv"
    rows: ClassVar[str] = "kernel x kernel x input channels"

    def __post_init__(self) -> None:
        if self.kernel < 1 or self.padding < 0:
            raise ValueError(f"kernel {self.kernel}, padding {self.padding}: expected kernel >= 1, padding >= 0")

    def inputs(self, shape: Shape) -> int:
        return self.kernel * self.kernel * spatial(shape, "a convolution")[2]

    def vectors(self, maps: np.ndarray) -> np.ndarray:
        return im2col(maps, self.kernel, self.padding)

    def output_shape(self, shape: Shape) -> Shape:
        h, w, _ = spatial(shape, "a convolution")
        size = (h + 2 * self.padding - self.kernel + 1, w + 2 * self.padding - self.kernel + 1)
        if min(size) < 1:
            raise ValueError(f"a {self.kernel} x {self.kernel} kernel does not fit a {h} x {w} map")
        return (*size, self.outputs)


@dataclass(frozen=True, eq=False)
class Pooling(HostLayer):
    """Max over non-overlapping ``size`` x ``size`` windows (stride ``size``) of +1/-1 maps; a partial edge
    window is dropped.  On +1/-1 values max-pooling and the sign commute, so pooling the activations equals
    batch norm, pooling, sign whatever the sign of the batch norm's scale."""

    size: int = 2

    kind: ClassVar[str] = "pool"

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"size {self.size}: expected >= 1")

    def output_shape(self, shape: Shape) -> Shape:
        h, w, c = spatial(shape, "pooling")
        pooled = (h // self.size, w // self.size, c)
        if min(pooled[:2]) < 1:
            raise ValueError(f"pooling a {h} x {w} map by {self.size} leaves an empty map")
        return pooled

    def apply(self, maps: np.ndarray) -> np.ndarray:
        return max_pool(maps, self.size)
