"""A binary network to and from a ``.npz`` file (format documented in docs/networks.md).

Import validates everything a network needs to run (names, dtypes, shapes,
+1/-1 values, finite thresholds, chained layer widths) and refuses anything
else with a NetworkFormatError naming the file and the array.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .encoding import InputEncoding
from .network import BinaryNetwork, HiddenLayer, OutputLayer

FORMAT_NAME = "labctl-binary-network"
FORMAT_VERSION = 1

#: the default trained 784-512-10 perceptron shipped with the package (provenance in its metadata)
SHIPPED_PERCEPTRON = Path(__file__).parent / "data" / "perceptron.npz"


class NetworkFormatError(ValueError):
    """A network file (or its arrays) is not a valid binary network; the message says which array."""


def _floats(a: np.ndarray) -> np.ndarray:
    """float64 arrays stay float64 (an imported file round-trips exactly); anything else becomes float32."""
    a = np.asarray(a)
    return a if a.dtype == np.float64 else a.astype(np.float32)


def network_arrays(network: BinaryNetwork) -> dict[str, np.ndarray]:
    """The named arrays of the ``.npz`` format (every array docs/networks.md lists)."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_NAME),
        "version": np.array(FORMAT_VERSION, np.int32),
        "input_encoding": np.array(network.encoding.kind),
        "input_planes": np.array(network.encoding.planes, np.int32),
        "input_threshold": np.array(network.encoding.threshold, np.int32),
        "input_shape": np.array(network.input_shape, np.int32),
        "layer_count": np.array(len(network.layers), np.int32),
        "output_scale": _floats(network.output.scale),
        "output_offset": _floats(network.output.offset),
        "metadata": np.array(json.dumps(network.metadata, sort_keys=True)),
    }
    for i, weights in enumerate(network.layers):
        arrays[f"layer{i}_weights"] = np.asarray(weights, np.int8)
    for i, layer in enumerate(network.hidden):
        arrays[f"layer{i}_threshold"] = _floats(layer.threshold)
        arrays[f"layer{i}_sign"] = np.asarray(layer.sign, np.int8)
    return arrays


def save_network(network: BinaryNetwork, path: str | Path) -> Path:
    """Write the network as a compressed ``.npz``; returns the path."""
    path = Path(path)
    with path.open("wb") as f:
        np.savez_compressed(f, **network_arrays(network))
    return path


def load_network(path: str | Path) -> BinaryNetwork:
    """Read and validate a network ``.npz``; NetworkFormatError (naming the file) on anything invalid."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise NetworkFormatError(f"{path}: file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise NetworkFormatError(f"{path}: not a readable .npz file ({exc})") from None
    try:
        return network_from_arrays(arrays)
    except NetworkFormatError as exc:
        raise NetworkFormatError(f"{path}: {exc}") from None


def _scalar(arrays: dict[str, np.ndarray], name: str, kind: str) -> Any:
    a = arrays[name]
    if a.shape != () or a.dtype.kind not in kind:
        raise NetworkFormatError(f"{name}: expected a scalar of kind {kind!r}, found {a.dtype.name} {a.shape}")
    return a.item()


def _vector(arrays: dict[str, np.ndarray], name: str, length: int, dtype: str) -> np.ndarray:
    a = arrays[name]
    if dtype == "float":
        if a.dtype not in (np.float32, np.float64):
            raise NetworkFormatError(f"{name}: dtype {a.dtype.name}, expected float32 or float64")
        if not np.isfinite(a).all():
            raise NetworkFormatError(f"{name}: holds NaN or infinite values")
    elif a.dtype != np.int8:
        raise NetworkFormatError(f"{name}: dtype {a.dtype.name}, expected int8")
    if a.shape != (length,):
        raise NetworkFormatError(f"{name}: shape {a.shape}, expected ({length},)")
    return a


def _plus_minus_one(name: str, a: np.ndarray) -> None:
    if not np.isin(a, (-1, 1)).all():
        bad = sorted(set(np.unique(a).tolist()) - {-1, 1})[:5]
        raise NetworkFormatError(f"{name}: values must be +1 or -1, found {bad}")


def network_from_arrays(arrays: dict[str, np.ndarray]) -> BinaryNetwork:
    """A validated network from the format's named arrays (NetworkFormatError naming the array otherwise)."""
    for name in ("format", "version"):
        if name not in arrays:
            raise NetworkFormatError(f"missing array {name!r}: not a {FORMAT_NAME} file")
    if _scalar(arrays, "format", "U") != FORMAT_NAME:
        raise NetworkFormatError(f"format: {arrays['format'].item()!r}, expected {FORMAT_NAME!r}")
    version = _scalar(arrays, "version", "iu")
    if version != FORMAT_VERSION:
        raise NetworkFormatError(f"version {version} not supported (this labctl reads version {FORMAT_VERSION})")
    count = _scalar(arrays, "layer_count", "iu") if "layer_count" in arrays else None
    if count is None or count < 1:
        raise NetworkFormatError(f"layer_count: {'missing' if count is None else count}, expected >= 1")
    expected = {"format", "version", "input_encoding", "input_planes", "input_threshold", "input_shape",
                "layer_count", "output_scale", "output_offset", "metadata"}
    expected |= {f"layer{i}_weights" for i in range(count)}
    expected |= {f"layer{i}_{part}" for i in range(count - 1) for part in ("threshold", "sign")}
    missing, unknown = sorted(expected - arrays.keys()), sorted(arrays.keys() - expected)
    if missing:
        raise NetworkFormatError(f"missing arrays {missing}")
    if unknown:
        raise NetworkFormatError(f"unknown arrays {unknown} (layer_count is {count})")

    try:
        encoding = InputEncoding(_scalar(arrays, "input_encoding", "U"), _scalar(arrays, "input_planes", "iu"),
                                 _scalar(arrays, "input_threshold", "iu"))
    except ValueError as exc:
        raise NetworkFormatError(f"input encoding: {exc}") from None
    shape = arrays["input_shape"]
    if shape.ndim != 1 or shape.dtype.kind not in "iu" or shape.size == 0 or (shape < 1).any():
        raise NetworkFormatError(f"input_shape: expected positive integers, found {shape!r}")
    try:
        metadata = json.loads(_scalar(arrays, "metadata", "U"))
    except json.JSONDecodeError as exc:
        raise NetworkFormatError(f"metadata: not JSON ({exc})") from None
    if not isinstance(metadata, dict):
        raise NetworkFormatError("metadata: expected a JSON object")

    inputs = int(np.prod(shape))
    weights = []
    for i in range(count):
        name, w = f"layer{i}_weights", arrays[f"layer{i}_weights"]
        if w.dtype != np.int8 or w.ndim != 2:
            raise NetworkFormatError(f"{name}: expected a 2-d int8 array (inputs, outputs), found "
                                     f"{w.dtype.name} {w.shape}")
        if w.shape[0] != inputs:
            what = "the input shape's size" if i == 0 else f"layer{i - 1}'s outputs"
            raise NetworkFormatError(f"{name}: {w.shape[0]} inputs, but {what} is {inputs}")
        _plus_minus_one(name, w)
        weights.append(w)
        inputs = w.shape[1]
    hidden = []
    for i, w in enumerate(weights[:-1]):
        sign = _vector(arrays, f"layer{i}_sign", w.shape[1], "int8")
        _plus_minus_one(f"layer{i}_sign", sign)
        hidden.append(HiddenLayer(w, _vector(arrays, f"layer{i}_threshold", w.shape[1], "float"), sign))
    classes = weights[-1].shape[1]
    if classes < 2:
        raise NetworkFormatError(f"layer{count - 1}_weights: {classes} output, expected at least 2 classes")
    output = OutputLayer(weights[-1], _vector(arrays, "output_scale", classes, "float"),
                         _vector(arrays, "output_offset", classes, "float"))
    return BinaryNetwork(encoding, tuple(int(n) for n in shape), tuple(hidden), output, metadata)
