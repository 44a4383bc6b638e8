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

from .conv import Convolution
from .encoding import InputEncoding
from .network import BinaryNetwork, HiddenLayer, OutputLayer, layer_inputs

FORMAT_NAME = "labctl-binary-network"
FORMAT_VERSION = 1              # dense layers only
FORMAT_VERSION_CONV = 2         # adds layer kinds and convolution geometry
LAYER_KINDS = ("dense", "conv")

#: the default trained 784-512-10 perceptron shipped with the package (provenance in its metadata)
SHIPPED_PERCEPTRON = Path(__file__).parent / "data" / "perceptron.npz"
#: the default trained binary VGG-8 (MNIST) shipped with the package (provenance in its metadata)
SHIPPED_VGG8 = Path(__file__).parent / "data" / "vgg8.npz"
#: the default trained ten-layer face / non-face network shipped with the package (provenance in its metadata)
SHIPPED_FACES = Path(__file__).parent / "data" / "faces.npz"


class NetworkFormatError(ValueError):
    """A network file (or its arrays) is not a valid binary network; the message says which array."""


def _floats(a: np.ndarray) -> np.ndarray:
    """float64 arrays stay float64 (an imported file round-trips exactly); anything else becomes float32."""
    a = np.asarray(a)
    return a if a.dtype == np.float64 else a.astype(np.float32)


def network_arrays(network: BinaryNetwork) -> dict[str, np.ndarray]:
    """The named arrays of the ``.npz`` format (every array docs/networks.md lists).

    Version 1 when every layer is dense (readable by older labctl), version 2 with convolutions.
    """
    convolutional = any(conv is not None for conv in network.convolutions)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_NAME),
        "version": np.array(FORMAT_VERSION_CONV if convolutional else FORMAT_VERSION, np.int32),
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
    if convolutional:
        arrays["layer_kinds"] = np.array(["dense" if conv is None else "conv" for conv in network.geometry])
        for i, conv in enumerate(network.geometry):
            if conv is not None:
                arrays[f"layer{i}_kernel"] = np.array(conv.kernel, np.int32)
                arrays[f"layer{i}_padding"] = np.array(conv.padding, np.int32)
                arrays[f"layer{i}_pool"] = np.array(conv.pool, np.int32)
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
    if version not in (FORMAT_VERSION, FORMAT_VERSION_CONV):
        raise NetworkFormatError(f"version {version} not supported (this labctl reads versions "
                                 f"{FORMAT_VERSION} and {FORMAT_VERSION_CONV})")
    count = _scalar(arrays, "layer_count", "iu") if "layer_count" in arrays else None
    if count is None or count < 1:
        raise NetworkFormatError(f"layer_count: {'missing' if count is None else count}, expected >= 1")
    expected = {"format", "version", "input_encoding", "input_planes", "input_threshold", "input_shape",
                "layer_count", "output_scale", "output_offset", "metadata"}
    expected |= {f"layer{i}_weights" for i in range(count)}
    expected |= {f"layer{i}_{part}" for i in range(count - 1) for part in ("threshold", "sign")}
    geometry: tuple[Convolution | None, ...] = (None,) * count
    if version == FORMAT_VERSION_CONV:
        if "layer_kinds" not in arrays:
            raise NetworkFormatError(f"version {version} file: missing array 'layer_kinds'")
        geometry = _geometry(arrays, count)
        expected |= {"layer_kinds"} | {f"layer{i}_{part}" for i, conv in enumerate(geometry) if conv is not None
                                       for part in ("kernel", "padding", "pool")}
    missing, unknown = sorted(expected - arrays.keys()), sorted(arrays.keys() - expected)
    if missing:
        raise NetworkFormatError(f"missing arrays {missing}")
    if unknown:
        raise NetworkFormatError(f"unknown arrays {unknown} (layer_count is {count})")
    if version == FORMAT_VERSION_CONV:
        geometry = tuple(None if conv is None else _convolution(arrays, i) for i, conv in enumerate(geometry))

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

    weights = []
    for i in range(count):
        name, w = f"layer{i}_weights", arrays[f"layer{i}_weights"]
        if w.dtype != np.int8 or w.ndim != 2:
            raise NetworkFormatError(f"{name}: expected a 2-d int8 array (inputs, outputs), found "
                                     f"{w.dtype.name} {w.shape}")
        weights.append(w)
    try:
        inputs = layer_inputs(tuple(int(n) for n in shape), geometry, [w.shape[1] for w in weights])
    except ValueError as exc:
        raise NetworkFormatError(f"layer geometry: {exc}") from None
    for i, w in enumerate(weights):
        name = f"layer{i}_weights"
        if w.shape[0] != inputs[i]:
            if geometry[i] is not None:
                what = "kernel x kernel x input channels"
            elif i == 0:
                what = "the input shape's size"
            else:
                what = f"layer{i - 1}'s outputs" if geometry[i - 1] is None else f"layer{i - 1}'s flattened map"
            raise NetworkFormatError(f"{name}: {w.shape[0]} inputs, but {what} is {inputs[i]}")
        _plus_minus_one(name, w)
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
    convolutions = geometry if version == FORMAT_VERSION_CONV else ()
    return BinaryNetwork(encoding, tuple(int(n) for n in shape), tuple(hidden), output, metadata, convolutions)


def _geometry(arrays: dict[str, np.ndarray], count: int) -> tuple[Convolution | None, ...]:
    """Per layer, a placeholder Convolution for "conv" or None for "dense", from ``layer_kinds``."""
    kinds = arrays["layer_kinds"]
    if kinds.dtype.kind != "U" or kinds.shape != (count,) or not set(kinds.tolist()) <= set(LAYER_KINDS):
        raise NetworkFormatError(f"layer_kinds: expected ({count},) strings from {LAYER_KINDS}, found "
                                 f"{kinds.dtype.name} {kinds.shape} {sorted(set(map(str, kinds.ravel())))[:5]}")
    return tuple(Convolution() if kind == "conv" else None for kind in kinds.tolist())


def _convolution(arrays: dict[str, np.ndarray], i: int) -> Convolution:
    """Layer i's convolution from ``layer{i}_kernel``, ``layer{i}_padding``, ``layer{i}_pool``."""
    values = [_scalar(arrays, f"layer{i}_{part}", "iu") for part in ("kernel", "padding", "pool")]
    try:
        return Convolution(*values)
    except ValueError as exc:
        raise NetworkFormatError(f"layer{i} convolution: {exc}") from None
