"""MAC error models in the run store: measured by plans, recorded, and read back from an earlier run.

Two kinds, both ``ErrorModel`` (decoded minus ideal 64-row column MAC given
the ideal MAC), measured in the TDC windows the calibration holds for:

- **generic** (``measure_error_model``): random matrices and random level
  patterns (chip_layer.py), recorded as ``error_values``,
  ``error_probabilities``, ``error_counts`` (the arrays of
  ``ErrorModel.arrays()``) — what a dedicated error-model procedure records;
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

from .chip_layer import Calibration, calibrate, forward_on_chip, measure_pairs
from .emulation import EmulatedProduct
from .error_model import ErrorModel
from .network import BinaryNetwork, LayerProduct, LayerwiseProduct

RECORDS = ("error_values", "error_probabilities", "error_counts")
LAYER_RECORDS = tuple(f"layer_{name}" for name in RECORDS)


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
        return ErrorModel.from_arrays({name: np.asarray(data.last(name)) for name in RECORDS})
    raise ValueError(f"run {data.id} holds no error model: it recorded neither {list(RECORDS)} nor "
                     f"{list(LAYER_RECORDS)}")


def record_error_model(model: ErrorModel, prefix: str = "") -> Plan:
    """Plan: record the model's arrays under ``prefix`` + the names of RECORDS."""
    yield Record(f"{prefix}error_values", model.errors, "MAC", "distinct errors, decoded minus ideal column MAC")
    yield Record(f"{prefix}error_probabilities", model.probabilities, "",
                 "P(error | ideal column MAC + 64, array column or pooled)", ("column", "ideal_mac", "error"))
    yield Record(f"{prefix}error_counts", model.counts, "reads", "observations behind every row of the model",
                 ("column", "ideal_mac"))


def calibrate_and_record(repeats: int = 8) -> Plan:
    """Plan: calibrate the TDC windows (chip_layer.calibrate), record the tables and windows; the Calibration."""
    calibration: Calibration = yield from calibrate(repeats=repeats)
    yield Record("calibration", calibration.tables, "MAC", "mean ideal MAC per window, column and TDC code",
                 ("window", "column", "code"))
    yield Record("window_starts", calibration.starts, "s", "TDC start of every window (all columns)", ("window",))
    yield Record("window_lsb", calibration.lsb, "s", "TDC LSB of every window")
    return calibration


def measure_error_model(calibration: Calibration, matrices: int = 4, repeats: int = 4,
                        per_column: bool = False) -> Plan:
    """Plan: the generic model from random matrices and level patterns, recorded; returns it.

    Pooled over the array's columns unless ``per_column``.
    """
    ideal, decoded = yield from measure_pairs(calibration, matrices, repeats)
    model = ErrorModel.from_pairs(ideal, decoded, per_column=per_column)
    yield from record_error_model(model)
    return model


def measure_layer_models(network: BinaryNetwork, images: np.ndarray, calibration: Calibration,
                         layers: frozenset[int], batch: int = 50) -> Plan:
    """Plan: the network with ``layers`` on the chip for ``images``; per such layer, the pooled model of its
    real tile columns' (ideal, decoded) MACs, recorded in layer order; returns {layer: model}.

    ``error_models_from_run`` reads them back in that order: record the
    layers (``array_layers``) beside them to map them to layer indices.
    """
    _, results = yield from forward_on_chip(network, images, layers, calibration, batch=batch,
                                            keep_preactivations=False)
    models = {}
    for layer in sorted(results):
        outputs = network.layers[layer].shape[1]
        result = results[layer]
        models[layer] = ErrorModel.from_pairs(result.ideal[:, :, :outputs], result.decoded[:, :, :outputs])
        yield from record_error_model(models[layer], "layer_")
    return models


def emulation_product(models: ErrorModel | dict[int, ErrorModel], seed: int, layers: frozenset[int]) -> LayerProduct:
    """The layers in ``layers`` emulated with their own model (or the one model), the others exact.

    Each layer draws from its own stream of ``seed``.
    """
    return LayerwiseProduct({k: EmulatedProduct(models[k] if isinstance(models, dict) else models,
                                                np.random.SeedSequence([seed, k])) for k in sorted(layers)})


def gaussian_model(sigma: float, seed: int = 0, draws: int = 500_000) -> ErrorModel:
    """A synthetic model: even errors, 2 * round(N(0, sigma) / 2) MAC units, the same at every ideal MAC
    (``draws`` seeded draws over the even ideal MACs)."""
    rng = np.random.default_rng(seed)
    ideal = rng.choice(np.arange(-64, 65, 2), draws)
    return ErrorModel.from_pairs(ideal, ideal + 2 * np.rint(rng.normal(0.0, sigma, draws) / 2))
