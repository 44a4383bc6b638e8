"""Networks, error models and tile calibrations kept in the run store, and read back from a run.

- A network is stored as one record per array of its ``.npz`` format
  (``network_layer0_weights``, ...; docs/networks.md), under a prefix
  (``network_``; ``hw_network_`` for a hardware-aware one), with its digest.
  ``network_from_run(data)`` rebuilds it (``--model-run N``).
- An error model is stored as the arrays of ``ErrorModel.arrays()``
  (``error_values``, ``error_probabilities``, ``error_counts``) under a
  prefix: none for the generic model pooled over columns, ``column_`` for
  it per array column, ``layer_`` for a network's per-layer models (one set
  per layer, in layer order, with ``array_layers`` naming the layers).
  ``error_model_from_run(data)`` reads one back, ``error_models_from_run``
  the per-layer models if the run has them (``--error-run N``).
- Tile calibrations (``tile_read``, ``tile_starts``, ``tile_tables``) are
  read back by ``calibrations_from_run(data)`` (``--calibration-run N``).

Command line, to export what a run holds::

    python -m procedures.networks.chip.stored network RUN --out net.npz [--prefix hw_network_] [--store PATH]
    python -m procedures.networks.chip.stored error-model RUN --out model.npz [--per-column] [--store PATH]

(the error model file is what ``--error-model`` of the training commands takes).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from labctl.plan import Compute, Plan, Record
from labctl.rundata import RunData, load_run

from ..host.network import BinaryNetwork
from ..host.npz import network_arrays, network_from_arrays, save_network
from .error_model import ERROR_ARRAYS, ErrorModel
from .readout import CalibrationKey, TileCalibration

NETWORK_PREFIX = "network_"
HW_NETWORK_PREFIX = "hw_network_"
COLUMN_PREFIX = "column_"        # the generic model per array column
LAYER_PREFIX = "layer_"          # a network's per-layer models


def record_network(network: BinaryNetwork, prefix: str = NETWORK_PREFIX) -> Plan:
    """Record every array of the network's ``.npz`` format under ``prefix``, and its digest."""
    for name, value in network_arrays(network).items():             # text as JSON text, numbers as arrays
        yield Record(prefix + name, value.tolist() if value.dtype.kind == "U" else value,
                     description=f"array {name} of the network's .npz format")
    yield Record(prefix + "digest", network_digest(network), description="SHA-256 of the network's arrays")


def network_from_run(data: RunData, prefix: str = NETWORK_PREFIX) -> BinaryNetwork:
    """The network a run recorded under ``prefix`` (validated as a ``.npz`` import is)."""
    arrays = {name[len(prefix):]: np.asarray(data.last(name)) for name in data.records
              if name.startswith(prefix) and name != prefix + "digest"}
    if not arrays:
        raise KeyError(f"run {data.id} holds no network (records {prefix}*)")
    return network_from_arrays(arrays)


def network_digest(network: BinaryNetwork) -> str:
    """SHA-256 (hex) of the network's arrays, metadata excluded: identifies what the chip computes."""
    h = hashlib.sha256()
    for name, value in sorted(network_arrays(network).items()):
        if name != "metadata":
            h.update(name.encode())
            h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


def record_model(model: ErrorModel, prefix: str, what: str) -> Plan:
    """Record a model's arrays (``ErrorModel.arrays()``) under ``prefix`` + their names; ``what`` it models."""
    for name, value in model.arrays().items():
        yield Record(prefix + name, value, "MAC" if name == "error_values" else "",
                     f"error model ({what}): {name.split('_')[1]}")


def fit_error_models(ideal: np.ndarray, decoded: np.ndarray) -> tuple[ErrorModel, ErrorModel] | None:
    """The pooled and the per-column model of measured (ideal, decoded) full-column MACs (n, 64): host work a
    plan asks for with ``Compute(fit_error_models, ..., stub=no_error_models)``."""
    return ErrorModel.from_pairs(ideal, decoded), ErrorModel.from_pairs(ideal, decoded, per_column=True)


def no_error_models(ideal: np.ndarray, decoded: np.ndarray) -> None:
    """The rehearsal's stand-in for ``fit_error_models``: no model."""
    return None


def record_error_model(ideal: np.ndarray, decoded: np.ndarray) -> Plan:
    """Fit (once, never in a rehearsal) and record the models of measured (ideal, decoded) full-column MACs
    (n, 64), pooled under their own names and per array column prefixed ``column_``; returns the pooled model
    (None in a rehearsal)."""
    models = yield Compute(fit_error_models, ideal, decoded, stub=no_error_models)
    if models is None:
        return None
    yield from record_model(models[0], "", "pooled")
    yield from record_model(models[1], COLUMN_PREFIX, "per array column")
    return models[0]


def _holds(data: RunData, prefix: str) -> bool:
    return all(prefix + name in data for name in ERROR_ARRAYS)


def holds_error_model(data: RunData) -> bool:
    """True if the run recorded per-layer models or a generic one (what ``error_models_from_run`` reads)."""
    return _holds(data, LAYER_PREFIX) or _holds(data, "")


def error_model_from_run(data: RunData, per_column: bool = False) -> ErrorModel:
    """The generic model a mac-errors, mnist-perceptron or vgg8-emulation run recorded, pooled over columns or
    per array column; ValueError naming the run and the records it lacks."""
    prefix = COLUMN_PREFIX if per_column else ""
    missing = [prefix + name for name in ERROR_ARRAYS if prefix + name not in data]
    if missing:
        raise ValueError(f"run {data.id} holds no error model (missing {', '.join(missing)})")
    return ErrorModel.from_arrays({name: np.asarray(data.last(prefix + name)) for name in ERROR_ARRAYS})


def error_models_from_run(data: RunData) -> ErrorModel | dict[int, ErrorModel]:
    """The per-layer models a run recorded ({layer: model}), else its generic pooled model
    (``error_model_from_run``, and its ValueError)."""
    if not _holds(data, LAYER_PREFIX):
        return error_model_from_run(data)
    sets = zip(*(data.all(LAYER_PREFIX + name) for name in ERROR_ARRAYS))
    models = [ErrorModel.from_arrays(dict(zip(ERROR_ARRAYS, map(np.asarray, arrays)))) for arrays in sets]
    indices = [int(k) for k in np.atleast_1d(data.last("array_layers"))] if "array_layers" in data else None
    return dict(zip(indices or range(len(models)), models))


def calibrations_from_run(data: RunData) -> dict[CalibrationKey, TileCalibration]:
    """Every tile calibration a run recorded, by (network, layer, row tile, column tile, LSB, windows)."""
    found = {}
    for info, starts, tables in zip(data.all("tile_read"), data.all("tile_starts"), data.all("tile_tables")):
        key = (info["network"], info["layer"], info["row_tile"], info["column_tile"], info["lsb"], info["windows"])
        found[key] = TileCalibration(np.asarray(starts), info["lsb"], np.asarray(tables))
    return found


def main(argv: list[str] | None = None) -> None:
    """Command line (module doc)."""
    p = argparse.ArgumentParser(prog="python -m procedures.networks.chip.stored",
                                description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("network", "error-model"))
    p.add_argument("run", type=int)
    p.add_argument("--out", type=Path, required=True, help=".npz file to write")
    p.add_argument("--store", help="run store (default $LABCTL_STORE)")
    p.add_argument("--prefix", default=NETWORK_PREFIX, help="network records' prefix (hw_network_: hardware-aware)")
    p.add_argument("--per-column", action="store_true", help="the per-column error model (default pooled)")
    args = p.parse_args(argv)
    data = load_run(args.run, args.store)
    if args.what == "network":
        save_network(network_from_run(data, args.prefix), args.out)
    else:
        np.savez_compressed(args.out, **error_model_from_run(data, args.per_column).arrays())
    print(args.out)


if __name__ == "__main__":
    main()
