"""Emulation of a binary layer on the array: every 64-row column MAC gets an error from an error model.

The layer is tiled exactly as the runtime tiles it (tiling.py): each tile
column's ideal MAC over its 64 rows (padding included) is computed, an
error drawn for it from the model (given that ideal MAC and the array
column), and the host combines the decoded column MACs as it would the
chip's.  Generic over layers: a convolution lowered to a matrix product
(im2col) is emulated by passing its patches as the rows of ``x``.
"""

from __future__ import annotations

import numpy as np

from benchspec.mx64 import COLUMNS

from ..host.network import LayerProduct, LayerwiseProduct
from .error_model import ErrorModel
from .tiling import CHUNK_VECTORS, TileLayout


def emulate_layer(x: np.ndarray, weights: np.ndarray, model: ErrorModel, rng: np.random.Generator) -> np.ndarray:
    """Emulated pre-activations (n, outputs) int32 of +1/-1 inputs (n, inputs) through binary weights.

    Deterministic for a given generator state: vectors are processed in
    blocks of CHUNK_VECTORS, and each block draws its errors, row tile by
    row tile, from ``rng``.
    """
    layout = TileLayout(*weights.shape)
    columns = np.arange(COLUMNS * layout.column_tiles) % COLUMNS
    out = np.empty((len(x), weights.shape[1]), np.int32)
    for start in range(0, len(x), CHUNK_VECTORS):
        block = x[start: start + CHUNK_VECTORS]
        ideal = layout.column_macs(block, weights)
        decoded = ideal + model.sample(ideal, columns, rng)
        out[start: start + len(block)] = layout.combine(decoded)
    return out


class EmulatedProduct:
    """A LayerProduct (host/network.py) that emulates every layer with ``model``, seeded once."""

    def __init__(self, model: ErrorModel, seed: int | np.random.SeedSequence) -> None:
        self.model = model
        self.rng = np.random.default_rng(seed)

    def __call__(self, layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return emulate_layer(x, weights, self.model, self.rng)


def emulation_product(models: ErrorModel | dict[int, ErrorModel], seed: int, layers: frozenset[int]) -> LayerProduct:
    """The layers in ``layers`` emulated with their own model (``models[k]``, or the one model), the others exact.

    Each layer draws from its own stream of ``seed``.
    """
    return LayerwiseProduct({k: EmulatedProduct(models[k] if isinstance(models, dict) else models,
                                                np.random.SeedSequence([seed, k])) for k in sorted(layers)})
