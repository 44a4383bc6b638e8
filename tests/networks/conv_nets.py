"""Small random networks for the network and plan tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from procedures.networks.conv import Convolution
from procedures.networks.encoding import InputEncoding
from procedures.networks.network import BinaryNetwork, HiddenLayer, OutputLayer
from procedures.networks.npz import save_network


def signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def hidden_layers(rng: np.random.Generator, shapes: list[tuple[int, int]],
                  threshold_sigma: float = 2.0) -> tuple[HiddenLayer, ...]:
    """Random binary hidden layers of these (inputs, neurons) shapes: signs, thresholds ~N(0, sigma), signs."""
    return tuple(HiddenLayer(signs(rng, s), rng.normal(0, threshold_sigma, s[1]).astype(np.float32),
                             signs(rng, (s[1],))) for s in shapes)


def output_layer(rng: np.random.Generator, inputs: int, classes: int) -> OutputLayer:
    """A random output layer: signs, scales ~U(0.5, 2), offsets ~N(0, 1)."""
    return OutputLayer(signs(rng, (inputs, classes)), rng.uniform(0.5, 2, classes).astype(np.float32),
                       rng.normal(0, 1, classes).astype(np.float32))


def conv_network(seed: int = 0, encoding: InputEncoding = InputEncoding("bitplanes", 2)) -> BinaryNetwork:
    """A random network: conv 4 (pool 2), conv 6 (pool 2) on 9 x 9 images, dense 12, dense 3."""
    rng = np.random.default_rng(seed)
    geometry = (Convolution(3, 1, 2), Convolution(3, 1, 2), None, None)
    shapes = [(9, 4), (36, 6), (2 * 2 * 6, 12), (12, 3)]
    hidden = hidden_layers(rng, shapes[:-1])
    output = output_layer(rng, *shapes[-1])
    return BinaryNetwork(encoding, (9, 9), hidden, output, {"made_by": "test"}, geometry)


def small_vgg(path: Path) -> Path:
    """A random 28 x 28 network saved as .npz: conv 16 (pool 2), conv 16, conv 16 (pool 2), dense 10 — the
    shape of the VGG-8 with 19 tiles on the array instead of 150."""
    rng = np.random.default_rng(0)
    shapes = [(9, 16), (144, 16), (144, 16), (7 * 7 * 16, 10)]
    hidden = hidden_layers(rng, shapes[:-1])
    output = OutputLayer(signs(rng, shapes[-1]), np.ones(10, np.float32), np.zeros(10, np.float32))
    net = BinaryNetwork(InputEncoding("bitplanes", 2), (28, 28), hidden, output, {"test_accuracy": 0.1},
                        (Convolution(3, 1, 2), Convolution(3, 1, 1), Convolution(3, 1, 2), None))
    return save_network(net, path)


def small_perceptron(path: Path) -> Path:
    """A random 784-64-10 perceptron saved as .npz: the shipped perceptron's shape with 14 tiles on the
    array instead of 112."""
    rng = np.random.default_rng(1)
    hidden = hidden_layers(rng, [(784, 64)])
    output = OutputLayer(signs(rng, (64, 10)), np.ones(10, np.float32), np.zeros(10, np.float32))
    net = BinaryNetwork(InputEncoding("threshold", 1), (28, 28), hidden, output, {"test_accuracy": 0.1},
                        (None, None))
    return save_network(net, path)
