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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .encoding import InputEncoding


class LayerProduct(Protocol):
    """Pre-activations (n, outputs) in MAC units of +1/-1 inputs (n, inputs) int8 through layer ``layer``."""

    def __call__(self, layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray: ...


def plain_product(layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The exact product x @ weights (int32); float32 BLAS is exact here (|sum| < 2**24)."""
    return np.rint(x.astype(np.float32) @ weights.astype(np.float32)).astype(np.int32)


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


@dataclass(frozen=True, eq=False)
class BinaryNetwork:
    """Input encoding, image shape, hidden layers, output layer and free-form provenance (JSON-able)."""

    encoding: InputEncoding
    input_shape: tuple[int, ...]
    hidden: tuple[HiddenLayer, ...]
    output: OutputLayer
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def layers(self) -> list[np.ndarray]:
        """Every layer's weights (inputs, outputs), first to last."""
        return [layer.weights for layer in self.hidden] + [self.output.weights]

    @property
    def widths(self) -> list[int]:
        """Inputs of the first layer, then every layer's outputs."""
        return [self.layers[0].shape[0]] + [w.shape[1] for w in self.layers]

    def forward(self, images: np.ndarray, product: LayerProduct = plain_product) -> Forward:
        """Classify uint8 images (n, *input_shape) with the layer products computed by ``product``."""
        a = first_layer_preactivations(self.encoding, images, self.layers[0], product)
        preactivations = [a]
        for index, layer in enumerate(self.hidden):
            x = layer.activate(a)
            a = product(index + 1, x, self.layers[index + 1])
            preactivations.append(a)
        scores = self.output.scores(a)
        return Forward(preactivations, scores, scores.argmax(axis=1))

    def predict(self, images: np.ndarray, product: LayerProduct = plain_product) -> np.ndarray:
        """Predicted classes (n,) of uint8 images."""
        return self.forward(images, product).predictions

    def accuracy(self, images: np.ndarray, labels: np.ndarray, product: LayerProduct = plain_product) -> float:
        """Fraction (0..1) of images classified as their labels."""
        return float((self.predict(images, product) == labels).mean())
