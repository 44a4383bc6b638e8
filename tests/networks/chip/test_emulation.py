"""Emulation of a convolutional network: every 64-row partial sum carries an error drawn from the model,
so pre-activation errors have the model's moments summed over row tiles; deterministic under a seed."""

from __future__ import annotations

import numpy as np
from tests.networks.conv_nets import conv_network

from procedures.networks.chip.emulation import EmulatedProduct
from procedures.networks.chip.error_model import ErrorModel
from procedures.networks.host.evaluation import ErrorRecorder, agreement
from procedures.networks.host.network import LayerwiseProduct, plain_product
from procedures.networks.chip.tiling import TileLayout


def skewed_model(seed: int = 0) -> ErrorModel:
    """A model whose error depends on the ideal MAC: mean -s/16, spread growing with |s|, even errors."""
    rng = np.random.default_rng(seed)
    ideal = rng.choice(np.arange(-64, 65, 2), 400_000)
    error = 2 * np.rint((-ideal / 16 + rng.normal(0, 1 + np.abs(ideal) / 16)) / 2)
    return ErrorModel.from_pairs(ideal, ideal + error)


def test_conv_layer_errors_follow_the_model_tile_by_tile() -> None:
    net, model = conv_network(5), skewed_model()
    images = np.random.default_rng(6).integers(0, 256, (40, 9, 9), dtype=np.uint8)
    recorder = ErrorRecorder(EmulatedProduct(model, 7), len(net.weighted), keep=frozenset({1}))
    requests = net.layer_requests(images)
    request = next(requests)
    inputs = {}
    while True:
        inputs[request[0]] = request[1]
        try:
            request = requests.send(recorder(*request))
        except StopIteration:
            break
    x, weights = inputs[1], net.weighted[1].weights             # conv 4 -> 6 channels: 36 inputs, one padded tile
    layout = TileLayout(*weights.shape)
    ideal = layout.column_macs(x, weights)[:, :, : weights.shape[1]]    # (tiles, vectors, outputs)
    mean, std = model.moments()
    expected_mean = mean[0, ideal + 64].sum(axis=0)
    expected_var = (std[0, ideal + 64] ** 2).sum(axis=0)
    error = recorder.kept[1]
    z = (error - expected_mean).sum() / np.sqrt(expected_var.sum())
    assert abs(z) < 4
    assert np.isclose(((error - expected_mean) ** 2).mean(), expected_var.mean(), rtol=0.05)


def test_emulation_is_deterministic_under_its_seed_and_exact_without_errors() -> None:
    net = conv_network(8)
    images = np.random.default_rng(9).integers(0, 256, (12, 9, 9), dtype=np.uint8)
    model = skewed_model(1)
    first = net.forward(images, EmulatedProduct(model, 3)).scores
    assert np.array_equal(first, net.forward(images, EmulatedProduct(model, 3)).scores)
    assert not np.array_equal(first, net.forward(images, EmulatedProduct(model, 4)).scores)
    exact = ErrorModel.from_pairs(np.arange(-64, 65, 2), np.arange(-64, 65, 2))
    assert np.array_equal(net.forward(images, EmulatedProduct(exact, 0)).scores, net.forward(images).scores)


def test_layerwise_product_emulates_only_its_layers() -> None:
    net = conv_network(10)
    images = np.random.default_rng(11).integers(0, 256, (6, 9, 9), dtype=np.uint8)
    recorder = ErrorRecorder(LayerwiseProduct({1: EmulatedProduct(skewed_model(), 2)}), len(net.weighted))
    net.forward(images, recorder)
    mean, std = recorder.moments()
    assert std[1] > 1 and std[0] == std[2] == std[3] == 0
    assert plain_product is LayerwiseProduct({}).default


def test_agreement_tells_a_scaled_error_from_the_same_one() -> None:
    rng = np.random.default_rng(12)
    static = rng.normal(0, 0.5, (32, 1))                   # per-neuron static part, as on the array
    a = static + rng.normal(0, 2, (32, 3000))
    same = rng.normal(0, np.sqrt(2 ** 2 + 0.5 ** 2), (32, 3000))
    assert agreement(a, same).agrees()
    assert not agreement(a, 1.2 * same).agrees()
