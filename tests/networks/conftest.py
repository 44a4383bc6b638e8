"""Fixtures for the network tests: random binary networks of any shape."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from procedures.networks.host.encoding import InputEncoding
from procedures.networks.host.layers import Dense
from procedures.networks.host.network import BinaryNetwork
from tests.networks.conv_nets import hidden_parts, output_layer


@pytest.fixture
def make_network() -> Callable[..., BinaryNetwork]:
    """A function (widths, encoding, seed) -> random dense network with image shape (widths[0],)."""

    def make(widths: list[int], encoding: InputEncoding = InputEncoding(), seed: int = 0) -> BinaryNetwork:
        rng = np.random.default_rng(seed)
        hidden = [Dense(w, a) for w, a in hidden_parts(rng, list(zip(widths[:-2], widths[1:-1])), threshold_sigma=3.0)]
        layers = (*hidden, output_layer(rng, widths[-2], widths[-1]))
        return BinaryNetwork(encoding, (widths[0],), layers, {"made_by": "test", "seed": seed})

    return make


@pytest.fixture
def images() -> Callable[[int, int, int], np.ndarray]:
    """A function (n, pixels, seed) -> random uint8 grey levels (n, pixels)."""
    return lambda n, pixels, seed=0: np.random.default_rng(seed).integers(0, 256, (n, pixels), dtype=np.uint8)
