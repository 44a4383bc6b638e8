"""MAC error models: measured by plans on the chip runtime, recorded, and read back from an earlier run.

Two kinds, both ``ErrorModel`` (decoded minus ideal 64-row column MAC given
the ideal MAC), measured through ``chip_runtime`` as the networks read their
layers (each tile's windows placed on its partial sums and calibrated):

- **generic** (``measure_generic_pairs``, the mac-errors procedure):
  matrices with partial sums spread over -64..64 and network-like inputs,
  recorded as ``error_values``, ``error_probabilities``, ``error_counts``
  (the arrays of ``ErrorModel.arrays()``, ``stored.record_error_model``);
- **per layer** (``measure_layer_models``): the network itself on the chip
  for some training images, every layer's real tile columns' (ideal,
  decoded) pairs, recorded once per layer in layer order as
  ``layer_error_values``, ``layer_error_probabilities``,
  ``layer_error_counts``.  The array's error given the ideal MAC also
  depends on which cells the inputs select (a tile with padding rows, or
  inputs that repeat, select fewer distinct cell sets than random
  patterns), so a network's own layers are the faithful conditions.

``error_models_from_run`` is the adapter the procedures use to read either
kind from an earlier run (per-layer models first); ``emulation_product``
emulates a network's layers with either.
"""

from __future__ import annotations

import numpy as np

from labctl.plan import Plan, Record
from labctl.rundata import RunData

from .chip_network import chip_forward
from .chip_runtime import LayerJob, Session, chip_layer
from .emulation import EmulatedProduct
from .error_model import ErrorModel
from .network import BinaryNetwork, LayerProduct, LayerwiseProduct
from .stored import error_model_from_run, record_error_model, record_model
from benchspec.tdc import TdcSetting

RECORDS = ("error_values", "error_probabilities", "error_counts")
LAYER_RECORDS = tuple(f"layer_{name}" for name in RECORDS)
FLIP_PROBABILITIES = (0.04, 0.12, 0.2, 0.3)     # input rows flipped from the base vector, matrix by matrix


def holds_error_model(data: RunData) -> bool:
    """True if the run recorded a generic or per-layer error model."""
    return all(name in data for name in LAYER_RECORDS) or all(name in data for name in RECORDS)


def error_models_from_run(data: RunData) -> ErrorModel | dict[int, ErrorModel]:
    """The per-layer models an earlier run recorded ({layer: model}), else its generic model.

    ValueError naming the run if it holds neither.
    """
    if all(name in data for name in LAYER_RECORDS):
        arrays = zip(*(data.all(name) for name in LAYER_RECORDS))
        indices = [int(k) for k in np.atleast_1d(data.last("array_layers"))] if "array_layers" in data else None
        models = [ErrorModel.from_arrays(dict(zip(RECORDS, map(np.asarray, a)))) for a in arrays]
        return dict(zip(indices or range(len(models)), models))
    if all(name in data for name in RECORDS):
        return error_model_from_run(data)
    raise ValueError(f"run {data.id} holds no error model: it recorded neither {list(RECORDS)} nor "
                     f"{list(LAYER_RECORDS)}")


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
                          rng: np.random.Generator) -> Plan:
    """Plan: (ideal int8, decoded float32) full-column MACs, each (matrices x vectors / 2, 64).

    Each matrix (``generic_matrix``) is programmed once as a tile, calibrated
    with half of its vectors, and the other half decoded; both are recorded
    (``ideal``, ``decoded``) as each matrix finishes.
    """
    ideal, decoded = [], []
    half = vectors // 2
    for k in range(matrices):
        weights, x = generic_matrix(rng, k, matrices, vectors)
        (result,) = yield from chip_layer(session, k, weights, [LayerJob(setting, x[half:], x[:half])], "mac-errors")
        ideal.append((x[half:].astype(np.int32) @ weights.astype(np.int32)).astype(np.int8))
        decoded.append(result.preactivations.astype(np.float32))
        yield Record("ideal", ideal[-1], "MAC", "exact full-column MACs of the measured vectors", ("vector", "column"))
        yield Record("decoded", decoded[-1], "MAC", "their decoded values", ("vector", "column"))
    return np.concatenate(ideal), np.concatenate(decoded)


def measure_error_model(session: Session, setting: TdcSetting, rng: np.random.Generator, matrices: int = 4,
                        vectors: int = 2000) -> Plan:
    """Plan: the generic model (``measure_generic_pairs``), recorded pooled and per column; returns the pooled
    model and the (ideal, decoded) pairs it came from."""
    ideal, decoded = yield from measure_generic_pairs(session, setting, matrices, vectors, rng)
    return (yield from record_error_model(ideal, decoded)), ideal, decoded


def measure_layer_models(session: Session, network: BinaryNetwork, images: np.ndarray,
                         calibration_images: np.ndarray, layers: frozenset[int], setting: TdcSetting,
                         batch: int = 50, calibration_vectors: int | None = None) -> Plan:
    """Plan: the network with ``layers`` on the chip for ``images``; per such layer, the pooled model of its
    real tile columns' (ideal, decoded) MACs, recorded in layer order; returns {layer: model}.

    ``error_models_from_run`` reads them back in that order: record the
    layers (``array_layers``) beside them to map them to layer indices.
    """
    chip = yield from chip_forward(session, network, images, calibration_images, [setting], "network",
                                   layers, batch=batch, keep_columns=True, keep_preactivations=False,
                                   calibration_vectors=calibration_vectors)
    models = {}
    for layer, result in sorted(chip.layers[0].items()):
        outputs = network.layers[layer].shape[1]
        models[layer] = ErrorModel.from_pairs(result.ideal[:, :, :outputs], result.decoded[:, :, :outputs])
        yield from record_model(models[layer], "layer_", f"layer {layer}")
    return models


def emulation_product(models: ErrorModel | dict[int, ErrorModel], seed: int, layers: frozenset[int]) -> LayerProduct:
    """The layers in ``layers`` emulated with their own model (or the one model), the others exact.

    Each layer draws from its own stream of ``seed``.
    """
    return LayerwiseProduct({k: EmulatedProduct(models[k] if isinstance(models, dict) else models,
                                                np.random.SeedSequence([seed, k])) for k in sorted(layers)})
