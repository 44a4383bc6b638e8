"""Fixtures for the network tests: random binary networks of any shape."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from procedures.networks.encoding import InputEncoding
from procedures.networks.network import BinaryNetwork, HiddenLayer, OutputLayer


def signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


@pytest.fixture
def make_network() -> Callable[..., BinaryNetwork]:
    """A function (widths, encoding, seed) -> random network with image shape (widths[0],)."""

    def make(widths: list[int], encoding: InputEncoding = InputEncoding(), seed: int = 0) -> BinaryNetwork:
        rng = np.random.default_rng(seed)
        hidden = tuple(HiddenLayer(signs(rng, (i, o)), rng.normal(0, 3, o).astype(np.float32), signs(rng, (o,)))
                       for i, o in zip(widths[:-2], widths[1:-1]))
        output = OutputLayer(signs(rng, (widths[-2], widths[-1])), rng.uniform(0.5, 2, widths[-1]).astype(np.float32),
                             rng.normal(0, 1, widths[-1]).astype(np.float32))
        return BinaryNetwork(encoding, (widths[0],), hidden, output, {"made_by": "test", "seed": seed})

    return make


@pytest.fixture
def images() -> Callable[[int, int, int], np.ndarray]:
    """A function (n, pixels, seed) -> random uint8 grey levels (n, pixels)."""
    return lambda n, pixels, seed=0: np.random.default_rng(seed).integers(0, 256, (n, pixels), dtype=np.uint8)
