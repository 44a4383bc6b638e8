"""The network file format: exact round trip, version 1 files read, and refusal of every kind of bad array with its
name."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.host.encoding import InputEncoding
from procedures.networks.host.npz import NetworkFormatError, load_network, network_arrays, save_network
from tests.networks.legacy_npz import legacy_arrays


@pytest.mark.parametrize("widths,encoding", [([784, 128, 10], InputEncoding("bitplanes", 4)),
                                             ([100, 70, 65, 3], InputEncoding("threshold", 1, 30))])
def test_round_trip_is_exact(tmp_path, make_network, images, widths, encoding) -> None:
    net = make_network(widths, encoding)
    back = load_network(save_network(net, tmp_path / "net.npz"))
    assert back.encoding == net.encoding and back.input_shape == net.input_shape and back.metadata == net.metadata
    for a, b in zip(network_arrays(net).values(), network_arrays(back).values()):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    x = images(300, widths[0])
    assert np.array_equal(net.forward(x).scores, back.forward(x).scores)


def test_float64_thresholds_are_kept(tmp_path, make_network) -> None:
    arrays = network_arrays(make_network([20, 8, 3]))
    arrays["layer0_threshold"] = np.array([0.1, 1 / 3, 2.5, -7, 0, 1e-9, 3, 4], np.float64)
    np.savez(tmp_path / "f64.npz", **arrays)
    assert np.array_equal(load_network(tmp_path / "f64.npz").hidden[0].activation.threshold, arrays["layer0_threshold"])


def test_a_version_1_file_loads_as_the_same_network(tmp_path, make_network) -> None:
    net = make_network([20, 8, 3])
    np.savez(tmp_path / "v1.npz", **legacy_arrays(net))
    back = load_network(tmp_path / "v1.npz")
    assert all(np.array_equal(a, b) for a, b in zip(network_arrays(back).values(), network_arrays(net).values()))


def _set(name, value):
    return lambda a: a.__setitem__(name, value)


BAD = {
    "weights holding 0": ("layer0_weights", lambda a: a["layer0_weights"].__setitem__((0, 0), 0)),
    "float weights": ("layer1_weights", _set("layer1_weights", np.ones((8, 3), np.float32))),
    "widths that do not chain": ("layer1_weights", lambda a: a.__setitem__("layer1_weights", a["layer1_weights"][1:])),
    "first layer against the input shape": ("layer0_weights", _set("input_shape", np.array([4, 4], np.int32))),
    "a missing threshold": ("layer0_threshold", lambda a: a.pop("layer0_threshold")),
    "an unknown array": ("layer2_weights", _set("layer2_weights", np.ones((3, 3), np.int8))),
    "a NaN threshold": ("layer0_threshold", lambda a: a["layer0_threshold"].__setitem__(2, np.nan)),
    "a short sign vector": ("layer0_sign", lambda a: a.__setitem__("layer0_sign", a["layer0_sign"][:-1])),
    "a zero sign": ("layer0_sign", lambda a: a["layer0_sign"].__setitem__(0, 0)),
    "an integer scale": ("layer1_scale", _set("layer1_scale", np.ones(3, np.int32))),
    "a newer version": ("version 4", _set("version", np.array(4, np.int32))),
    "a kind unknown": ("layer_kinds", _set("layer_kinds", np.array(["dense", "sparse"]))),
    "another format": ("format", _set("format", np.array("keras"))),
    "a bad encoding": ("input encoding", _set("input_encoding", np.array("gray"))),
    "too many planes": ("input encoding", _set("input_planes", np.array(9, np.int32))),
    "metadata not JSON": ("metadata", _set("metadata", np.array("{oops"))),
    "a single class": ("layer1_weights", _set("layer1_weights", np.ones((8, 1), np.int8))),
}


LEGACY_BAD = {**{case: BAD[case] for case in ("weights holding 0", "widths that do not chain", "a missing threshold",
                                             "a short sign vector", "a single class", "another format")},
              "an integer scale": ("output_scale", _set("output_scale", np.ones(3, np.int32))),
              "an unknown array": ("layer_kinds", _set("layer_kinds", np.array(["dense", "dense"])))}


@pytest.mark.parametrize("version,case", [(3, c) for c in BAD] + [(1, c) for c in LEGACY_BAD])
def test_bad_arrays_are_refused_by_name(tmp_path, make_network, version, case) -> None:
    name, spoil = (BAD if version == 3 else LEGACY_BAD)[case]
    net = make_network([20, 8, 3])
    arrays = {k: v.copy() for k, v in (network_arrays(net) if version == 3 else legacy_arrays(net)).items()}
    spoil(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(NetworkFormatError, match=f"bad.npz: .*{name}"):
        load_network(path)


def test_unreadable_files_are_refused(tmp_path) -> None:
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(NetworkFormatError, match="text.npz: not a readable"):
        load_network(tmp_path / "text.npz")
    with pytest.raises(NetworkFormatError, match="absent.npz: file not found"):
        load_network(tmp_path / "absent.npz")
    np.savez(tmp_path / "other.npz", w=np.ones(3))
    with pytest.raises(NetworkFormatError, match="other.npz: missing array 'format'"):
        load_network(tmp_path / "other.npz")
