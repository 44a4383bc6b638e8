"""MAC error models measured by plans on the chip runtime and recorded as they are measured (stored.py reads
them back).

Two kinds, both ``ErrorModel`` (decoded minus ideal 64-row column MAC given
the ideal MAC), measured through the runtime as the networks read their
layers (each tile's windows placed on its partial sums and calibrated):

- **generic** (``measure_generic_pairs``, the mac-errors procedure): matrices
  with partial sums spread over -64..64 and network-like inputs; the pairs
  are recorded as measured and the model fitted from them afterwards
  (``record_generic_model``, pooled and per array column);
- **per layer** (``measure_layer_models``): the network itself on the chip
  for some training images, every layer's real tile columns' (ideal,
  decoded) pairs, recorded once per layer in layer order
  (``stored.LAYER_PREFIX``).  The array's error given the ideal MAC also
  depends on which cells the inputs select (a tile with padding rows, or
  inputs that repeat, select fewer distinct cell sets than random
  patterns), so a network's own layers are the faithful conditions.
"""

from __future__ import annotations

import numpy as np

from benchspec.tdc import TdcSetting
from labctl.plan import Checkpoint, Compute, Plan, Record
from labctl.rundata import RunData

from ..host.network import BinaryNetwork, exact_product
from .error_model import ErrorModel
from .layer import LayerJob, chip_layer
from .network import chip_forward
from .session import Session
from .stored import LAYER_PREFIX, record_error_model, record_model

FLIP_PROBABILITIES = (0.04, 0.12, 0.2, 0.3)     # input rows flipped from the base vector, matrix by matrix


def generic_matrix(rng: np.random.Generator, k: int, matrices: int, vectors: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (64, 64) and input vectors (vectors, 64) int8 +1/-1 of matrix ``k`` of ``matrices``.

    A random base vector b; column j's weights are b with n rows flipped, n
    = 0..64 rotated over the columns from matrix to matrix (so b . w_j covers
    -64..64 and every array column sees many levels); the inputs are b with
    each row flipped with probability p_k (FLIP_PROBABILITIES in turn), which
    spreads each column's partial sums about (1 - 2 p) b . w_j like a network
    tile's.
    """
    base = rng.choice(np.array([-1, 1], np.int8), 64)
    flips = np.rint(((np.arange(64) + k * max(1, 64 // matrices)) % 64) * 64 / 63).astype(int)
    weights = np.repeat(base[:, None], 64, axis=1)
    for j, n in enumerate(flips):
        weights[rng.choice(64, n, replace=False), j] *= -1
    flipped = rng.random((vectors, 64)) < FLIP_PROBABILITIES[k % len(FLIP_PROBABILITIES)]
    return weights, np.where(flipped, -base, base).astype(np.int8)


def measure_generic_pairs(session: Session, setting: TdcSetting, matrices: int, vectors: int,
                          rng: np.random.Generator, done: int = 0) -> Plan:
    """Plan: measure matrices ``done`` .. ``matrices`` - 1, each recorded (``ideal`` int8, ``decoded`` float32,
    (vectors / 2, 64) full-column MACs) as it finishes and followed by a checkpoint ``{"matrices": k + 1}``.

    Each matrix (``generic_matrix``) is programmed once as a tile, calibrated
    with half of its vectors, and the other half decoded.  The matrices before
    ``done`` (measured before an interruption) are drawn again, not measured,
    so that the later ones are those of an uninterrupted run.
    """
    half = vectors // 2
    for k in range(matrices):
        weights, x = generic_matrix(rng, k, matrices, vectors)
        if k < done:
            continue
        (result,) = yield from chip_layer(session, k, weights, [LayerJob(setting, x[half:], x[:half])], "mac-errors")
        ideal = exact_product(x[half:], weights).astype(np.int8)
        yield Record("ideal", ideal, "MAC", "exact full-column MACs of the measured vectors", ("vector", "column"))
        yield Record("decoded", result.preactivations.astype(np.float32), "MAC", "their decoded values",
                     ("vector", "column"))
        yield Checkpoint({"matrices": k + 1})


def generic_pairs(data: RunData) -> tuple[np.ndarray, np.ndarray]:
    """The (ideal, decoded) pairs a run measured with ``measure_generic_pairs``, stacked."""
    return (np.concatenate([np.asarray(i, np.int16) for i in data.all("ideal")]),
            np.concatenate([np.asarray(d, np.float32) for d in data.all("decoded")]))


def record_generic_model(data: RunData) -> Plan:
    """Analysis: fit and record the generic model (pooled and per column) of a run's measured pairs; returns
    the pooled model."""
    return (yield from record_error_model(*generic_pairs(data)))


def fit_layer_models(results: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[int, ErrorModel]:
    """Per layer, the pooled model of its real tile columns' (ideal, decoded) MACs."""
    return {layer: ErrorModel.from_pairs(ideal, decoded) for layer, (ideal, decoded) in sorted(results.items())}


def no_layer_models(results: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[int, ErrorModel]:
    """The rehearsal's stand-in for ``fit_layer_models``: no models."""
    return {}


def measure_layer_models(session: Session, network: BinaryNetwork, images: np.ndarray,
                         calibration_images: np.ndarray, layers: frozenset[int], setting: TdcSetting,
                         batch: int = 50, calibration_vectors: int | None = None) -> Plan:
    """Plan: the network with ``layers`` on the chip for ``images``; per such layer, the pooled model of its
    real tile columns' (ideal, decoded) MACs, fitted once (never in a rehearsal) and recorded in layer order;
    returns {layer: model} ({} in a rehearsal).

    ``stored.error_models_from_run`` reads them back in that order: record
    the layers (``array_layers``) beside them to map them to layer indices.
    """
    chip = yield from chip_forward(session, network, images, calibration_images, [setting], "network",
                                   layers, batch=batch, keep_columns=True, keep_preactivations=False,
                                   calibration_vectors=calibration_vectors)
    pairs = {layer: (result.ideal[:, :, :network.weighted[layer].outputs],
                     result.decoded[:, :, :network.weighted[layer].outputs])
             for layer, result in chip.layers[0].items()}
    models = yield Compute(fit_layer_models, pairs, stub=no_layer_models)
    for layer, model in models.items():
        yield from record_model(model, LAYER_PREFIX, f"layer {layer}")
    return models
