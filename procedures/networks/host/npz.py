"""A binary network to and from a ``.npz`` file (format in docs/networks.md).

Version 3, written here: header arrays (format, version, input encoding and
shape, ``layer_count``, ``layer_kinds``, metadata), then for every layer i
its arrays ``layer{i}_<name>``: a weighted layer's ``weights`` and its
activation's vectors (``threshold`` and ``sign`` for a hidden layer,
``scale`` and ``offset`` for the last), and every kind's integer fields,
its geometry (``kernel``, ``padding``, ``size``).  Nothing below names a
kind but KINDS, which maps each kind's name to its class (layers.py).
Versions 1 (dense layers) and 2 (convolutions, each with its max-pooling)
are read too.

Import validates everything a network needs to run (names, dtypes, shapes,
+1/-1 values, finite thresholds, chained layer shapes) and refuses anything
else with a NetworkFormatError naming the file and the array.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .encoding import InputEncoding
from .layers import Convolution, Dense, Layer, Pooling, Scores, Threshold, WeightedLayer
from .network import BinaryNetwork, ShapeError

FORMAT_NAME = "labctl-binary-network"
FORMAT_VERSION = 3
LEGACY_VERSIONS = (1, 2)        # read only: 1 dense layers; 2 adds convolutions, each with its max-pooling

#: every layer kind the format knows, by its name in ``layer_kinds``
KINDS: dict[str, type[Layer]] = {kind.kind: kind for kind in (Dense, Convolution, Pooling)}
HEADER = ("format", "version", "input_encoding", "input_planes", "input_threshold", "input_shape", "layer_count",
          "metadata")

_DATA = Path(__file__).resolve().parents[1] / "data"
#: the default trained 784-512-10 perceptron shipped with the package (provenance in its metadata)
SHIPPED_PERCEPTRON = _DATA / "perceptron.npz"
#: the same perceptron trained hardware-aware, with a development die's error model (provenance in its metadata)
SHIPPED_HW_PERCEPTRON = _DATA / "perceptron_hw.npz"
#: the default trained binary VGG-8 (MNIST) shipped with the package (provenance in its metadata)
SHIPPED_VGG8 = _DATA / "vgg8.npz"
#: the default trained ten-layer face / non-face network shipped with the package (provenance in its metadata)
SHIPPED_FACES = _DATA / "faces.npz"


class NetworkFormatError(ValueError):
    """A network file (or its arrays) is not a valid binary network; the message says which array."""


def _floats(a: np.ndarray) -> np.ndarray:
    """float64 arrays stay float64 (an imported file round-trips exactly); anything else becomes float32."""
    a = np.asarray(a)
    return a if a.dtype == np.float64 else a.astype(np.float32)


def layer_arrays(layer: Layer) -> dict[str, np.ndarray]:
    """A layer's arrays by name: its weights (int8), its activation's vectors (``sign`` int8, the others
    float), its integer fields (int32 scalars)."""
    arrays: dict[str, np.ndarray] = {}
    for part in fields(layer):
        value = getattr(layer, part.name)
        if part.name == "weights":
            arrays["weights"] = np.asarray(value, np.int8)
        elif part.name == "activation":
            for vector in fields(value):
                v = np.asarray(getattr(value, vector.name))
                arrays[vector.name] = v.astype(np.int8) if v.dtype.kind in "iu" else _floats(v)
        elif isinstance(value, int):
            arrays[part.name] = np.array(value, np.int32)
        else:
            raise TypeError(f"{type(layer).__name__}.{part.name}: the format stores integer geometry only")
    return arrays


def network_arrays(network: BinaryNetwork) -> dict[str, np.ndarray]:
    """The named arrays of the ``.npz`` format, version 3 (every array docs/networks.md lists)."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT_NAME),
        "version": np.array(FORMAT_VERSION, np.int32),
        "input_encoding": np.array(network.encoding.kind),
        "input_planes": np.array(network.encoding.planes, np.int32),
        "input_threshold": np.array(network.encoding.threshold, np.int32),
        "input_shape": np.array(network.input_shape, np.int32),
        "layer_count": np.array(len(network.layers), np.int32),
        "layer_kinds": np.array([layer.kind for layer in network.layers]),
        "metadata": np.array(json.dumps(network.metadata, sort_keys=True)),
    }
    for i, layer in enumerate(network.layers):
        arrays.update((f"layer{i}_{name}", value) for name, value in layer_arrays(layer).items())
    return arrays


def save_network(network: BinaryNetwork, path: str | Path) -> Path:
    """Write the network as a compressed ``.npz``; returns the path."""
    path = Path(path)
    with path.open("wb") as f:
        np.savez_compressed(f, **network_arrays(network))
    return path


def load_network(path: str | Path) -> BinaryNetwork:
    """Read and validate a network ``.npz`` (any version); NetworkFormatError (naming the file) on anything invalid."""
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


@dataclass(frozen=True)
class _Slot:
    """A layer to read: its class, the file's array for each of its parts (``weights``, the activation's
    vectors, its integer fields) and its name in messages (``layer{i}`` in the file's numbering)."""

    kind: type[Layer]
    names: dict[str, str]
    label: str


def _slot(kind: type[Layer], label: str, scores: bool, names: dict[str, str] | None = None) -> _Slot:
    """The slot of a layer of ``kind`` whose arrays are ``{label}_{part}`` (``names`` overrides some); a weighted
    layer's activation gives class ``scores`` or is binary."""
    parts = [f.name for f in fields(kind) if f.name not in ("weights", "activation")]
    if issubclass(kind, WeightedLayer):
        parts += ["weights"] + [f.name for f in fields(Scores if scores else Threshold)]
    return _Slot(kind, {part: f"{label}_{part}" for part in parts} | (names or {}), label)


def _header(arrays: dict[str, np.ndarray]) -> tuple[int, int]:
    """The file's version and layer count, checked."""
    for name in ("format", "version"):
        if name not in arrays:
            raise NetworkFormatError(f"missing array {name!r}: not a {FORMAT_NAME} file")
    if _scalar(arrays, "format", "U") != FORMAT_NAME:
        raise NetworkFormatError(f"format: {arrays['format'].item()!r}, expected {FORMAT_NAME!r}")
    version = _scalar(arrays, "version", "iu")
    if version not in (*LEGACY_VERSIONS, FORMAT_VERSION):
        raise NetworkFormatError(f"version {version} not supported (this labctl reads versions "
                                 f"{', '.join(map(str, (*LEGACY_VERSIONS, FORMAT_VERSION)))})")
    count = _scalar(arrays, "layer_count", "iu") if "layer_count" in arrays else None
    if count is None or count < 1:
        raise NetworkFormatError(f"layer_count: {'missing' if count is None else count}, expected >= 1")
    return version, count


def _kinds(arrays: dict[str, np.ndarray], version: int, count: int, known: tuple[str, ...]) -> list[str]:
    """``layer_kinds``, checked against the kinds the version knows."""
    if "layer_kinds" not in arrays:
        raise NetworkFormatError(f"version {version} file: missing array 'layer_kinds'")
    kinds = arrays["layer_kinds"]
    if kinds.dtype.kind != "U" or kinds.shape != (count,) or not set(kinds.tolist()) <= set(known):
        raise NetworkFormatError(f"layer_kinds: expected ({count},) strings from {known}, found "
                                 f"{kinds.dtype.name} {kinds.shape} {sorted(set(map(str, kinds.ravel())))[:5]}")
    return [str(k) for k in kinds.tolist()]


def _slots(arrays: dict[str, np.ndarray], version: int, count: int) -> list[_Slot]:
    """Every layer's slot, in the version's layout."""
    if version == FORMAT_VERSION:                   # a weighted layer with a scale gives the class scores
        return [_slot(KINDS[kind], f"layer{i}", f"layer{i}_scale" in arrays)
                for i, kind in enumerate(_kinds(arrays, version, count, tuple(KINDS)))]
    kinds = ["dense"] * count if version == 1 else _kinds(arrays, version, count, ("dense", "conv"))
    slots = []
    for i, kind in enumerate(kinds):
        label, last = f"layer{i}", i == count - 1
        scores = {"scale": "output_scale", "offset": "output_offset"} if last else {}
        slots.append(_slot(Dense if kind == "dense" else Convolution, label, last, scores))
        if kind == "conv":
            slots.append(_slot(Pooling, label, False, {"size": f"{label}_pool"}))
    return slots


def network_from_arrays(arrays: dict[str, np.ndarray]) -> BinaryNetwork:
    """A validated network from the format's named arrays (NetworkFormatError naming the array otherwise)."""
    version, count = _header(arrays)
    slots = _slots(arrays, version, count)
    expected = set(HEADER) | {name for slot in slots for name in slot.names.values()}
    expected |= {"layer_kinds"} if version > 1 else set()
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

    layers = _layers(arrays, slots)
    if version in LEGACY_VERSIONS:                  # a version-2 pool of 1 is no pooling
        kept = [k for k, layer in enumerate(layers) if not (isinstance(layer, Pooling) and layer.size == 1)]
        layers, slots = [layers[k] for k in kept], [slots[k] for k in kept]
    try:
        return BinaryNetwork(encoding, tuple(int(n) for n in shape), tuple(layers), metadata)
    except ShapeError as exc:
        slot = slots[exc.layer]
        if exc.weights:
            raise NetworkFormatError(f"{slot.names['weights']}: {exc}") from None
        raise NetworkFormatError(f"layer geometry: {slot.label}: {exc}") from None


def _layers(arrays: dict[str, np.ndarray], slots: list[_Slot]) -> list[Layer]:
    """Every slot's layer: weights int8 +1/-1 (at least two classes out of the last), activation vectors of
    its outputs' length, integer geometry (NetworkFormatError naming the array)."""
    weights = {}
    for k, slot in enumerate(slots):
        if "weights" in slot.names:
            name, w = slot.names["weights"], arrays[slot.names["weights"]]
            if w.dtype != np.int8 or w.ndim != 2:
                raise NetworkFormatError(f"{name}: expected a 2-d int8 array (inputs, outputs), found "
                                         f"{w.dtype.name} {w.shape}")
            _plus_minus_one(name, w)
            weights[k] = w
    if "scale" in slots[-1].names and weights[len(slots) - 1].shape[1] < 2:
        raise NetworkFormatError(f"{slots[-1].names['weights']}: {weights[len(slots) - 1].shape[1]} output, "
                                 "expected at least 2 classes")
    layers = []
    for k, slot in enumerate(slots):
        parts: dict[str, Any] = {f.name: _scalar(arrays, slot.names[f.name], "iu")
                                 for f in fields(slot.kind) if f.name not in ("weights", "activation")}
        if k in weights:
            parts["weights"] = weights[k]
            parts["activation"] = _activation(arrays, slot.names, weights[k].shape[1])
        try:
            layers.append(slot.kind(**parts))
        except ValueError as exc:
            raise NetworkFormatError(f"{slot.label} {slot.kind.__name__.lower()}: {exc}") from None
    return layers


def _activation(arrays: dict[str, np.ndarray], names: dict[str, str], outputs: int) -> Threshold | Scores:
    """The class scores (``scale``, ``offset``) or binary activation (``threshold``, ``sign``) a slot names."""
    if "scale" in names:
        return Scores(_vector(arrays, names["scale"], outputs, "float"), _vector(arrays, names["offset"], outputs,
                                                                                  "float"))
    sign = _vector(arrays, names["sign"], outputs, "int8")
    _plus_minus_one(names["sign"], sign)
    return Threshold(_vector(arrays, names["threshold"], outputs, "float"), sign)
