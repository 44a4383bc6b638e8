"""A binary network: input encoding, binary layers, host-side thresholds, output scores for argmax.

Every layer multiplies +1/-1 inputs by +1/-1 weights (int8, shape
(inputs, outputs)); the products' sums (pre-activations, in MAC units) are
what the array computes.  The host then applies, per neuron:

- hidden layers: h = +1 if sign * (a - threshold) >= 0 else -1 (batch
  normalisation folded into a threshold and a sign);
- the output layer: score = scale * a + offset; the class is the argmax
  (the first index on a tie).

``forward`` takes the matrix product as a function, so the same host code
runs the plain product, the tiled reference, the error emulation or the chip.

Layers may be convolutions (``convolutions[i]`` a :class:`~.conv.Convolution`,
weights the lowered (k * k * channels, out channels) matrix): the host cuts
the +1/-1 maps into patches (im2col, conv.py), the product sees one row per
patch, and the host max-pools the activations.  Convolutions come first; the
first dense layer flattens the last map channel-last (row, column, channel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Generator

import numpy as np

from .conv import Convolution, im2col, max_pool
from .encoding import InputEncoding


class LayerProduct(Protocol):
    """Pre-activations (n, outputs) in MAC units of +1/-1 inputs (n, inputs) int8 through layer ``layer``."""

    def __call__(self, layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray: ...


def plain_product(layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The exact product x @ weights (int32); float32 BLAS is exact here (|sum| < 2**24)."""
    return np.rint(x.astype(np.float32) @ weights.astype(np.float32)).astype(np.int32)


class LayerwiseProduct:
    """A LayerProduct that answers layer k with ``products[k]`` and every other layer with ``default``."""

    def __init__(self, products: dict[int, LayerProduct], default: LayerProduct = plain_product) -> None:
        self.products = products
        self.default = default

    def __call__(self, layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.products.get(layer, self.default)(layer, x, weights)


def plane_vectors(encoding: InputEncoding, images: np.ndarray) -> np.ndarray:
    """The first layer's +1/-1 input vectors (planes * n, inputs) int8 of uint8 images, stacked plane-major
    (for the chip: every plane streamed through the same tiles)."""
    planes = encoding.planes_of(images)                                   # (n, P, inputs)
    n, count, inputs = planes.shape
    return planes.transpose(1, 0, 2).reshape(count * n, inputs)


def combine_planes(encoding: InputEncoding, plane_preactivations: np.ndarray) -> np.ndarray:
    """Pre-activations (n, outputs) of the plane-major products (planes * n, outputs): sum of 2**p a_p."""
    weights = encoding.plane_weights()
    a = np.asarray(plane_preactivations).reshape(len(weights), -1, plane_preactivations.shape[-1])
    return np.einsum("pno,p->no", a if a.dtype.kind == "f" else a.astype(np.int64), weights)


def first_layer_preactivations(encoding: InputEncoding, images: np.ndarray, weights: np.ndarray,
                               product: LayerProduct = plain_product) -> np.ndarray:
    """First-layer pre-activations (n, outputs) int64 of uint8 images: sum over bit-planes of 2**p x_p @ W."""
    return combine_planes(encoding, product(0, plane_vectors(encoding, images), weights))


def layer_inputs(input_shape: tuple[int, ...], geometry: tuple[Convolution | None, ...],
                 outputs: list[int]) -> list[int]:
    """Inputs every layer must have, from the image shape, the layers' geometry and their outputs.

    A dense layer takes the whole previous map (flattened) or vector; a
    convolution k * k * channels.  ValueError if the geometry is impossible: a
    convolution after a dense layer or as the output layer, a kernel larger
    than its map, pooling to an empty map, a convolution on an input shape
    that is not (height, width[, channels]).
    """
    if len(geometry) != len(outputs):
        raise ValueError(f"{len(geometry)} layer geometries for {len(outputs)} layers")
    if geometry[-1] is not None:
        raise ValueError("the output layer must be dense")
    if geometry[0] is not None and len(input_shape) not in (2, 3):
        raise ValueError(f"input shape {tuple(input_shape)}: a convolution needs (height, width[, channels])")
    shape = tuple(input_shape) if len(input_shape) != 2 else (*input_shape, 1)
    expected, dense = [], False
    for conv, width in zip(geometry, outputs):
        if conv is None:
            expected.append(int(np.prod(shape)))
            dense, shape = True, (width,)
        elif dense:
            raise ValueError("a convolution cannot follow a dense layer")
        else:
            expected.append(conv.inputs(shape[2]))
            shape = (*conv.pooled_size(shape[0], shape[1]), width)
            if min(shape[:2]) < 1:
                raise ValueError(f"pooling by {conv.pool} leaves an empty map")
    return expected


@dataclass(frozen=True, eq=False)
class HiddenLayer:
    """Binary weights (inputs, outputs) int8 +1/-1; per-neuron threshold (MAC units) and sign +1/-1."""

    weights: np.ndarray
    threshold: np.ndarray
    sign: np.ndarray

    def activate(self, preactivation: np.ndarray) -> np.ndarray:
        """+1/-1 int8 activations of pre-activations (n, outputs)."""
        return np.where(self.sign * (preactivation - self.threshold) >= 0, 1, -1).astype(np.int8)


@dataclass(frozen=True, eq=False)
class OutputLayer:
    """Binary weights (inputs, classes) int8 +1/-1; score = scale * pre-activation + offset per class."""

    weights: np.ndarray
    scale: np.ndarray
    offset: np.ndarray

    def scores(self, preactivation: np.ndarray) -> np.ndarray:
        """Class scores (n, classes) float64."""
        return self.scale * preactivation + self.offset


@dataclass(frozen=True, eq=False)
class Forward:
    """One pass: every layer's pre-activations (MAC units; the first layer's summed over bit-planes),
    the class scores and the predicted classes."""

    preactivations: list[np.ndarray]
    scores: np.ndarray
    predictions: np.ndarray


def merge(forwards: list[Forward]) -> Forward:
    """One Forward of consecutive batches' Forwards (pre-activations, scores and predictions concatenated)."""
    layers = zip(*(f.preactivations for f in forwards))
    return Forward([np.concatenate(a) for a in layers], np.concatenate([f.scores for f in forwards]),
                   np.concatenate([f.predictions for f in forwards]))


@dataclass(frozen=True, eq=False)
class BinaryNetwork:
    """Input encoding, image shape, hidden layers, output layer, free-form provenance (JSON-able) and,
    per layer, its convolution geometry (None: dense; an empty tuple: every layer dense).

    A network with convolutions takes images (n, height, width) or (n, height, width, channels).
    """

    encoding: InputEncoding
    input_shape: tuple[int, ...]
    hidden: tuple[HiddenLayer, ...]
    output: OutputLayer
    metadata: dict[str, Any] = field(default_factory=dict)
    convolutions: tuple[Convolution | None, ...] = ()

    @property
    def geometry(self) -> tuple[Convolution | None, ...]:
        """Every layer's convolution, or None for a dense layer (length: the number of layers)."""
        return self.convolutions or (None,) * len(self.layers)

    def expected_inputs(self) -> list[int]:
        """Inputs every layer must have (``layer_inputs``); ValueError if the geometry is impossible."""
        return layer_inputs(self.input_shape, self.geometry, [w.shape[1] for w in self.layers])

    @property
    def layers(self) -> list[np.ndarray]:
        """Every layer's weights (inputs, outputs), first to last."""
        return [layer.weights for layer in self.hidden] + [self.output.weights]

    @property
    def widths(self) -> list[int]:
        """Inputs of the first layer, then every layer's outputs."""
        return [self.layers[0].shape[0]] + [w.shape[1] for w in self.layers]

    def forward(self, images: np.ndarray, product: LayerProduct = plain_product) -> Forward:
        """Classify uint8 images (n, *input_shape) with the layer products computed by ``product``.

        A convolution layer's pre-activations are (n * out_h * out_w, channels),
        image-major then row-major (before pooling).
        """
        requests = self.layer_requests(images)
        request = next(requests)
        while True:
            try:
                request = requests.send(product(*request))
            except StopIteration as done:
                return done.value

    def layer_requests(self, images: np.ndarray, keep_preactivations: bool = True
                       ) -> Generator[tuple[int, np.ndarray, np.ndarray], np.ndarray, Forward]:
        """The forward pass as a coroutine: yields (layer, +1/-1 inputs (m, inputs), weights), takes the
        pre-activations (m, outputs), returns the Forward.

        ``forward`` answers every request with a product function; a plan can
        answer some of them with the chip instead.  The first layer's request
        stacks the input planes plane-major ((planes * rows, inputs)).
        Without ``keep_preactivations`` the Forward holds only the output layer's.
        """
        n = len(images)
        maps = plane_vectors(self.encoding, images)                            # (planes * n, pixels)
        if self.convolutions:
            maps = maps.reshape(len(maps), *(self.input_shape if len(self.input_shape) == 3
                                             else (*self.input_shape, 1)))
        preactivations = []
        for index, (conv, weights) in enumerate(zip(self.geometry, self.layers)):
            if conv is None:
                x = maps.reshape(len(maps), -1)
            else:
                x = im2col(maps, conv.kernel, conv.padding)
                out_h, out_w = conv.output_size(maps.shape[1], maps.shape[2])
            a = yield index, x, weights
            if index == 0:
                a = combine_planes(self.encoding, a)                      # decoded (float) values stay float
            if keep_preactivations or index == len(self.hidden):
                preactivations.append(a)
            if index < len(self.hidden):
                h = self.hidden[index].activate(a)
                maps = h if conv is None else max_pool(h.reshape(n, out_h, out_w, -1), conv.pool)
        scores = self.output.scores(preactivations[-1])
        return Forward(preactivations, scores, scores.argmax(axis=1))

    def predict(self, images: np.ndarray, product: LayerProduct = plain_product,
                batch: int | None = None) -> np.ndarray:
        """Predicted classes (n,) of uint8 images, ``batch`` images at a time (None: all at once)."""
        step = batch or max(len(images), 1)
        return np.concatenate([self.forward(images[s: s + step], product).predictions
                               for s in range(0, len(images), step)] or [np.empty(0, np.int64)])

    def accuracy(self, images: np.ndarray, labels: np.ndarray, product: LayerProduct = plain_product,
                 batch: int | None = None) -> float:
        """Fraction (0..1) of images classified as their labels (``batch``: images per forward pass)."""
        return float((self.predict(images, product, batch) == labels).mean())
