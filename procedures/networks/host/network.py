"""A binary network: input encoding, a sequence of layers (layers.py), and its forward pass.

Every weighted layer multiplies +1/-1 inputs by +1/-1 weights (int8, shape
(inputs, outputs)); the products' sums (pre-activations, in MAC units) are
what the array computes.  The host then applies each layer's activation:

- hidden layers: h = +1 if sign * (a - threshold) >= 0 else -1 (batch
  normalisation folded into a threshold and a sign, ``Threshold``);
- the output layer (the last): score = scale * a + offset (``Scores``); the
  class is the argmax (the first index on a tie);

and host layers (pooling) in between.  ``forward`` takes the matrix product
as a function, so the same host code runs the plain product, the tiled
reference, the error emulation or, through ``layer_requests``, the chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Protocol
from collections.abc import Generator

import numpy as np

from .encoding import InputEncoding
from .layers import HostLayer, Layer, Scores, Shape, WeightedLayer


class LayerProduct(Protocol):
    """Pre-activations (n, outputs) in MAC units of +1/-1 inputs (n, inputs) int8 through layer ``layer``."""

    def __call__(self, layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray: ...


def exact_product(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The exact product x @ weights (int32) of +1/-1 values: float32 BLAS is exact here (integer sums,
    |sum| < 2**24), and several times faster than numpy's integer product, which does not use BLAS."""
    return (x.astype(np.float32) @ weights.astype(np.float32)).astype(np.int32)


def plain_product(layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The LayerProduct that computes every layer exactly (``exact_product``)."""
    return exact_product(x, weights)


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


@dataclass(frozen=True, eq=False)
class Forward:
    """One pass: every weighted layer's pre-activations (MAC units; the first layer's summed over bit-planes),
    the class scores and the predicted classes."""

    preactivations: list[np.ndarray]
    scores: np.ndarray
    predictions: np.ndarray


def merge(forwards: list[Forward]) -> Forward:
    """One Forward of consecutive batches' Forwards (pre-activations, scores and predictions concatenated)."""
    layers = zip(*(f.preactivations for f in forwards))
    return Forward([np.concatenate(a) for a in layers], np.concatenate([f.scores for f in forwards]),
                   np.concatenate([f.predictions for f in forwards]))


class ShapeError(ValueError):
    """Layers that do not chain; ``layer`` is the index (in the network's layers) of the first that does not fit,
    ``weights`` True when its weights' rows are what is wrong."""

    def __init__(self, layer: int, message: str, weights: bool = False) -> None:
        super().__init__(message)
        self.layer = layer
        self.weights = weights


def map_shapes(input_shape: tuple[int, ...], layers: tuple[Layer, ...]) -> list[Shape]:
    """The per-image map before every layer, then after the last: the image as a map ((h, w) becomes
    (h, w, 1)), then each layer's ``output_shape``.

    ShapeError naming the layer if they do not chain: a layer that does not
    fit its map, weights whose rows are not the inputs the map gives, a
    weighted layer's activation of the wrong length, an activation out of
    place (the last layer, and only it, gives class scores), an output that
    is not one score vector per image.
    """
    shape: Shape = (*input_shape, 1) if len(input_shape) == 2 else tuple(input_shape)
    shapes = [shape]
    if not layers or not isinstance(layers[-1], WeightedLayer):
        raise ShapeError(len(layers) - 1, "the last layer must be a weighted layer giving the class scores")
    for index, layer in enumerate(layers):                # the geometry first, then what the weights must be
        try:
            shapes.append(layer.output_shape(shapes[-1]))
        except ValueError as exc:
            raise ShapeError(index, str(exc)) from None
    if len(shapes[-1]) != 1:
        raise ShapeError(len(layers) - 1, f"the output layer gives a {shapes[-1]} map: it must give one score "
                                          "vector per image (a dense layer)")
    for index, (layer, shape) in enumerate(zip(layers, shapes)):
        if not isinstance(layer, WeightedLayer):
            continue
        rows = layer.inputs(shape)
        if layer.weights.ndim != 2 or layer.weights.shape[0] != rows:
            raise ShapeError(index, f"{layer.weights.shape[0]} inputs, but {layer.rows} is {rows}", True)
        for part in fields(layer.activation):
            found = np.shape(getattr(layer.activation, part.name))
            if found != (layer.outputs,):
                raise ShapeError(index, f"{part.name}: shape {found}, expected ({layer.outputs},)")
        if isinstance(layer.activation, Scores) != (index == len(layers) - 1):
            raise ShapeError(index, "only the last layer gives class scores (Scores); a hidden layer has a binary "
                                    "activation (Threshold)")
    return shapes


@dataclass(frozen=True, eq=False)
class BinaryNetwork:
    """Input encoding, image shape, layers in order (the last weighted, giving the class scores) and free-form
    provenance (JSON-able).  ValueError (a ShapeError) if the layers do not chain (``map_shapes``).

    Images are (n, *input_shape): (n, pixels), (n, height, width) or (n, height, width, channels).
    """

    encoding: InputEncoding
    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    shapes: list[Shape] = field(init=False, repr=False)          # the map before every layer, then after the last

    def __post_init__(self) -> None:
        object.__setattr__(self, "shapes", map_shapes(self.input_shape, self.layers))

    @property
    def weighted(self) -> tuple[WeightedLayer, ...]:
        """The weighted layers, first to last: "layer k" of products, chip layers and error models."""
        return tuple(layer for layer in self.layers if isinstance(layer, WeightedLayer))

    @property
    def hidden(self) -> tuple[WeightedLayer, ...]:
        """The weighted layers with a binary activation (all but the last)."""
        return self.weighted[:-1]

    @property
    def output(self) -> WeightedLayer:
        """The last layer, whose activation gives the class scores."""
        return self.weighted[-1]

    @property
    def classes(self) -> int:
        return self.output.outputs

    @property
    def widths(self) -> list[int]:
        """Inputs of the first weighted layer, then every weighted layer's outputs."""
        weighted = self.weighted
        return [int(weighted[0].weights.shape[0])] + [layer.outputs for layer in weighted]

    def forward(self, images: np.ndarray, product: LayerProduct = plain_product) -> Forward:
        """Classify uint8 images (n, *input_shape) with the layer products computed by ``product``.

        A convolution's pre-activations are (n * out_h * out_w, channels),
        image-major then row-major (before any pooling).
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
        """The forward pass as a coroutine: yields (layer k, +1/-1 inputs (m, inputs), weights) for every
        weighted layer, takes the pre-activations (m, outputs), returns the Forward.

        ``forward`` answers every request with a product function; a plan can
        answer some of them with the chip instead.  The first weighted layer's
        request stacks the input planes plane-major ((planes * rows, inputs)).
        Without ``keep_preactivations`` the Forward holds only the output layer's.
        """
        n = len(images)
        planes = plane_vectors(self.encoding, images)                         # (planes * n, pixels)
        maps = planes.reshape(len(planes), *self.shapes[0])
        preactivations: list[np.ndarray] = []
        last = len(self.weighted) - 1
        k = 0
        for layer, shape in zip(self.layers, self.shapes[1:]):
            if isinstance(layer, HostLayer):
                maps = layer.apply(maps)
                continue
            a = yield k, layer.vectors(maps), layer.weights
            if k == 0:
                a = combine_planes(self.encoding, a)                      # decoded (float) values stay float
            if keep_preactivations or k == last:
                preactivations.append(a)
            if k < last:
                maps = layer.activation(a).reshape(n, *shape)
            k += 1
        scores = self.output.activation(preactivations[-1])
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


def array_layers(net: BinaryNetwork) -> frozenset[int]:
    """The weighted layers a convolutional network runs on the array: all but its ``host_layers`` (metadata;
    default the first layer, whose 9-input partial sums would carry a full 64-row sum's error on a seventh of
    its range)."""
    host = set(net.metadata.get("host_layers", [0]))
    return frozenset(k for k in range(len(net.weighted)) if k not in host)
