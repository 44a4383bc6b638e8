"""Helpers of the sim_chip tests: powered simulated chips, random signs.

A module of its own (not ``conftest``): with several ``conftest.py`` files in
the tree, ``from conftest import ...`` gets whichever was imported last.
"""

from __future__ import annotations

import numpy as np

from sim_chip import MX64
from sim_chip.characterise import powered, random_signs

__all__ = ["powered", "random_signs", "centre_windows"]


def centre_windows(chip: MX64, x: np.ndarray, lsb: float) -> None:
    """Put every column's 16 codes of LSB ``lsb`` around its mean delay over the inputs x (n, 64): a coarse
    0.5-64 ns window of 4 ns codes, then twice finer."""
    chip.set_tdc_window(0.0, 4e-9)
    centre = (chip.mac_batch(x).mean(axis=0) + 0.5) * 4e-9
    for width in (1e-9, lsb, lsb):
        for j in range(64):
            chip.set_tdc_window(float(min(max(centre[j] - 8 * width, 0.0), 60e-9)), width, j)
        centre = chip.tdc_start + (chip.mac_batch(x).mean(axis=0) + 0.5) * chip.tdc_lsb
