"""Helpers of the sim_chip tests: powered simulated chips, random signs.

A module of its own (not ``conftest``): with several ``conftest.py`` files in
the tree, ``from conftest import ...`` gets whichever was imported last.
"""

from __future__ import annotations

import numpy as np

from sim_chip import MX64, ChipParameters


def powered(seed: int = 1, params: ChipParameters | None = None) -> MX64:
    """A chip on nominal rails (as the board's regulators would set them)."""
    chip = MX64(seed, params)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    return chip


def random_signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)
