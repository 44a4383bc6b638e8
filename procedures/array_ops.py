"""Array steps that several procedures share."""

from __future__ import annotations

from typing import Any

import numpy as np


def checkerboard() -> np.ndarray:
    """A +/-1 checkerboard: every column and row holds both states."""
    rows, cols = np.indices((64, 64))
    return np.where((rows + cols) % 2 == 0, 1, -1).astype(np.int8)


def correct_reads(chip: Any, weights: np.ndarray, reads: int = 5) -> np.ndarray:
    """How many of ``reads`` verify passes read each cell as ``weights`` (sense noise shows as < reads)."""
    return sum((chip.verify_array() == weights).astype(int) for _ in range(reads))


def program(chip: Any, weights: np.ndarray, retries: int = 3, writes: int = 1) -> np.ndarray:
    """Write (``writes`` times), verify, rewrite failing rows; return the cells that read right 5 times of 5.

    The differential verify cannot see a cell with one MTJ unswitched whose two
    branches happen to compare the right way; writing twice makes that rare.
    """
    for _ in range(writes):
        chip.write_array(weights)
    read = chip.verify_array()
    for _ in range(retries):
        rows = np.flatnonzero((read != weights).any(axis=1))
        if not len(rows):
            break
        for r in rows:
            chip.write_row(int(r), weights[r])
            read[r] = chip.verify_row(int(r))
    return correct_reads(chip, weights) == 5
