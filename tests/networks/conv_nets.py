"""Small random networks for the network and plan tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from procedures.networks.host.encoding import InputEncoding
from procedures.networks.host.layers import Convolution, Dense, Pooling, Scores, Threshold
from procedures.networks.host.network import BinaryNetwork
from procedures.networks.host.npz import save_network


def signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def hidden_parts(rng: np.random.Generator, shapes: list[tuple[int, int]],
                 threshold_sigma: float = 2.0) -> list[tuple[np.ndarray, Threshold]]:
    """Random weights and binary activations of hidden layers of these (inputs, neurons) shapes: signs, thresholds
    ~N(0, sigma), signs."""
    return [(signs(rng, s), Threshold(rng.normal(0, threshold_sigma, s[1]).astype(np.float32), signs(rng, (s[1],))))
            for s in shapes]


def output_layer(rng: np.random.Generator, inputs: int, classes: int) -> Dense:
    """A random dense output layer: signs, scales ~U(0.5, 2), offsets ~N(0, 1)."""
    return Dense(signs(rng, (inputs, classes)), Scores(rng.uniform(0.5, 2, classes).astype(np.float32),
                                                       rng.normal(0, 1, classes).astype(np.float32)))


def conv_network(seed: int = 0, encoding: InputEncoding = InputEncoding("bitplanes", 2)) -> BinaryNetwork:
    """A random network: conv 4, pool 2, conv 6, pool 2 on 9 x 9 images, dense 12, dense 3."""
    rng = np.random.default_rng(seed)
    (w0, a0), (w1, a1), (w2, a2) = hidden_parts(rng, [(9, 4), (36, 6), (2 * 2 * 6, 12)])
    layers = (Convolution(w0, a0), Pooling(2), Convolution(w1, a1), Pooling(2), Dense(w2, a2),
              output_layer(rng, 12, 3))
    return BinaryNetwork(encoding, (9, 9), layers, {"made_by": "test"})


def small_vgg(path: Path) -> Path:
    """A random 28 x 28 network saved as .npz: conv 16, pool 2, conv 16, conv 16, pool 2, dense 10 — the shape of
    the VGG-8 with 19 tiles on the array instead of 150."""
    rng = np.random.default_rng(0)
    (w0, a0), (w1, a1), (w2, a2) = hidden_parts(rng, [(9, 16), (144, 16), (144, 16)])
    output = Dense(signs(rng, (7 * 7 * 16, 10)), Scores(np.ones(10, np.float32), np.zeros(10, np.float32)))
    layers = (Convolution(w0, a0), Pooling(2), Convolution(w1, a1), Convolution(w2, a2), Pooling(2), output)
    return save_network(BinaryNetwork(InputEncoding("bitplanes", 2), (28, 28), layers, {"test_accuracy": 0.1}), path)


def small_perceptron(path: Path) -> Path:
    """A random 784-64-10 perceptron saved as .npz: the shipped perceptron's shape with 14 tiles on the
    array instead of 112."""
    rng = np.random.default_rng(1)
    ((w0, a0),) = hidden_parts(rng, [(784, 64)])
    output = Dense(signs(rng, (64, 10)), Scores(np.ones(10, np.float32), np.zeros(10, np.float32)))
    net = BinaryNetwork(InputEncoding("threshold", 1), (28, 28), (Dense(w0, a0), output), {"test_accuracy": 0.1})
    return save_network(net, path)
