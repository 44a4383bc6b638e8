"""Convolutions lowered to matrix products: exact against a direct convolution, tiled as the array tiles them;
convolutional networks in the .npz format (version 3, and version 2 files as older labctl wrote them)."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.chip.tiling import tiled_product
from procedures.networks.host.conv import im2col, max_pool
from procedures.networks.host.network import BinaryNetwork
from procedures.networks.host.npz import NetworkFormatError, load_network, network_arrays, save_network
from tests.networks.conv_nets import conv_network, signs
from tests.networks.legacy_npz import legacy_arrays


def direct_convolution(maps: np.ndarray, kernel: np.ndarray, padding: int) -> np.ndarray:
    """Shift-and-add convolution (n, oh, ow, out) of maps (n, h, w, c) by kernel (k, k, c, out), padding -1."""
    k = kernel.shape[0]
    padded = np.pad(maps.astype(np.int64), ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                    constant_values=-1)
    oh, ow = padded.shape[1] - k + 1, padded.shape[2] - k + 1
    out = np.zeros((len(maps), oh, ow, kernel.shape[3]), np.int64)
    for dy in range(k):
        for dx in range(k):
            out += padded[:, dy: dy + oh, dx: dx + ow, :] @ kernel[dy, dx].astype(np.int64)
    return out


@pytest.mark.parametrize("n,h,w,c,out,k,padding", [(3, 7, 5, 1, 9, 3, 1), (2, 6, 6, 32, 70, 3, 1),
                                                   (2, 5, 4, 7, 3, 3, 0), (1, 9, 9, 20, 130, 5, 2)])
def test_lowered_convolution_equals_direct_convolution_exactly(n, h, w, c, out, k, padding) -> None:
    rng = np.random.default_rng(n * 100 + c)
    maps, kernel = signs(rng, (n, h, w, c)), signs(rng, (k, k, c, out))
    expected = direct_convolution(maps, kernel, padding)
    patches = im2col(maps, k, padding)
    assert patches.shape == (n * expected.shape[1] * expected.shape[2], k * k * c)
    lowered = kernel.reshape(k * k * c, out)                  # rows in (kernel row, kernel column, channel) order
    for product in (lambda x, wt: x.astype(np.int64) @ wt, lambda x, wt: tiled_product(0, x, wt)):
        assert np.array_equal(product(patches, lowered).reshape(expected.shape), expected)


def test_max_pool_of_signs_drops_partial_windows() -> None:
    maps = signs(np.random.default_rng(1), (2, 7, 6, 3))
    pooled = max_pool(maps, 2)
    assert pooled.shape == (2, 3, 3, 3)
    assert pooled[1, 2, 1, 2] == maps[1, 4:6, 2:4, 2].max()
    assert max_pool(maps, 1) is maps


def test_convolutional_forward_follows_the_direct_convolution() -> None:
    net = conv_network()
    images = np.random.default_rng(2).integers(0, 256, (5, 9, 9), dtype=np.uint8)
    result = net.forward(images)
    v = net.encoding.values_of(images).reshape(5, 9, 9, 1)
    assert np.array_equal(result.preactivations[0].reshape(5, 9, 9, 4), _first_layer(v, net))
    h0 = max_pool(net.hidden[0].activation(result.preactivations[0]).reshape(5, 9, 9, 4), 2)
    assert np.array_equal(result.preactivations[1].reshape(5, 4, 4, 6),
                          direct_convolution(h0, net.weighted[1].weights.reshape(3, 3, 4, 6), 1))
    assert np.array_equal(result.scores, net.forward(images, tiled_product).scores)
    assert np.array_equal(net.predict(images, batch=2), result.predictions)


def _first_layer(v: np.ndarray, net: BinaryNetwork) -> np.ndarray:
    """First-layer pre-activations of v by direct convolution, padding cells grey 0: -1 on every plane,
    v = -(2**planes - 1)."""
    pad = net.encoding.max_value()
    padded = np.pad(v.astype(np.int64), ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-pad)
    return direct_convolution(padded, net.weighted[0].weights.reshape(3, 3, 1, 4), 0)


def test_convolutional_network_round_trips_as_version_3(tmp_path) -> None:
    net = conv_network(3)
    arrays = network_arrays(net)
    assert arrays["version"] == 3 and arrays["layer_kinds"].tolist() == ["conv", "pool", "conv", "pool", "dense",
                                                                         "dense"]
    assert arrays["layer1_size"] == 2 and arrays["layer2_kernel"] == 3 and "layer5_scale" in arrays
    back = load_network(save_network(net, tmp_path / "conv.npz"))
    assert [type(a) for a in back.layers] == [type(b) for b in net.layers] and back.input_shape == (9, 9)
    images = np.random.default_rng(4).integers(0, 256, (20, 9, 9), dtype=np.uint8)
    assert np.array_equal(back.forward(images).scores, net.forward(images).scores)


def test_a_version_2_file_loads_as_the_same_network(tmp_path) -> None:
    """A convolution with its pooling (version 2) is a convolution layer, then a pooling layer."""
    net = conv_network(3)
    np.savez(tmp_path / "v2.npz", **legacy_arrays(net))
    back = load_network(tmp_path / "v2.npz")
    assert [layer.kind for layer in back.layers] == [layer.kind for layer in net.layers]
    assert all(np.array_equal(a, b) for a, b in zip(network_arrays(back).values(), network_arrays(net).values()))


LEGACY_BAD = {
    "unknown kind": ("layer_kinds", lambda a: a.__setitem__("layer_kinds", np.array(["conv", "pool", "dense",
                                                                                     "dense"]))),
    "missing pool": ("layer1_pool", lambda a: a.pop("layer1_pool")),
    "zero kernel": ("layer0 convolution", lambda a: a.__setitem__("layer0_kernel", np.array(0, np.int32))),
    "zero pool": ("layer1 pooling", lambda a: a.__setitem__("layer1_pool", np.array(0, np.int32))),
    "conv after dense": ("cannot follow a dense", lambda a: a.update(
        layer_kinds=np.array(["conv", "dense", "conv", "dense"]), layer2_kernel=a.pop("layer1_kernel"),
        layer2_padding=a.pop("layer1_padding"), layer2_pool=a.pop("layer1_pool"))),
    "wrong patch size": ("layer1_weights: 36 inputs, but kernel x kernel", lambda a: a.__setitem__(
        "layer1_kernel", np.array(5, np.int32))),
    "kinds missing": ("missing array 'layer_kinds'", lambda a: a.pop("layer_kinds")),
}
BAD = {
    "unknown kind": ("layer_kinds", lambda a: a.__setitem__("layer_kinds", np.array(
        ["conv", "pool", "conv", "majority", "dense", "dense"]))),
    "missing size": ("layer1_size", lambda a: a.pop("layer1_size")),
    "zero kernel": ("layer0 convolution", lambda a: a.__setitem__("layer0_kernel", np.array(0, np.int32))),
    "pooling to nothing": ("layer3: pooling a 4 x 4 map by 5", lambda a: a.__setitem__("layer3_size",
                                                                                        np.array(5, np.int32))),
    "pooling after dense": ("layer3: pooling needs .* cannot follow a dense", lambda a: a.update(
        layer_kinds=np.array(["conv", "pool", "dense", "pool", "conv", "dense"]), layer4_kernel=a.pop("layer2_kernel"),
        layer4_padding=a.pop("layer2_padding"))),
    "wrong patch size": ("layer2_weights: 36 inputs, but kernel x kernel", lambda a: a.__setitem__(
        "layer2_kernel", np.array(5, np.int32))),
    "pooling last": ("the last layer must be a weighted layer", lambda a: a.update(
        layer_count=np.array(7, np.int32), layer6_size=np.array(1, np.int32),
        layer_kinds=np.array(["conv", "pool", "conv", "pool", "dense", "dense", "pool"]))),
    "scores in a hidden layer": ("layer4: only the last layer gives class scores", lambda a: a.update(
        layer4_scale=a.pop("layer4_threshold"), layer4_offset=a.pop("layer4_sign").astype(np.float32))),
}


@pytest.mark.parametrize("version,case", [(3, c) for c in BAD] + [(2, c) for c in LEGACY_BAD])
def test_bad_convolution_arrays_are_refused_by_name(tmp_path, version, case) -> None:
    match, spoil = (BAD if version == 3 else LEGACY_BAD)[case]
    arrays = dict(network_arrays(conv_network()) if version == 3 else legacy_arrays(conv_network()))
    spoil(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(NetworkFormatError, match=f"bad.npz: .*{match}"):
        load_network(tmp_path / "bad.npz")
