"""Training-digit augmentation: seeded, the identity at zero range, shifts within range."""

from __future__ import annotations

import numpy as np

from procedures.networks.host.idx import load_mnist
from procedures.networks.training.augment import Augmentation


def test_augmentation_is_seeded_and_the_identity_at_zero_range() -> None:
    digits = load_mnist().train_images[:200]
    still = Augmentation(shift=0, rotation=0, scale=0)
    assert np.array_equal(still.apply(digits, np.random.default_rng(0)), digits)
    warp = Augmentation(elastic_alpha=30)
    a, b = (warp.apply(digits, np.random.default_rng(1)) for _ in range(2))
    c = warp.apply(digits, np.random.default_rng(2))
    assert a.dtype == np.uint8 and np.array_equal(a, b) and not np.array_equal(a, c)
    changed = (a != digits).mean(axis=(1, 2))
    assert changed.min() > 0.02                                  # every digit moved
    ink = a.astype(float).sum(axis=(1, 2)) / digits.astype(float).sum(axis=(1, 2))
    assert 0.4 < ink.min() and ink.max() < 2.5                     # the digit stays in the frame


def test_shift_moves_the_centre_of_mass_within_range() -> None:
    digits = load_mnist().train_images[:300]
    moved = Augmentation(shift=3, rotation=0, scale=0).apply(digits, np.random.default_rng(3))
    r = np.arange(28)

    def centre(im: np.ndarray) -> np.ndarray:
        m = im.astype(float)
        return np.stack([(m.sum(axis=2) * r).sum(1), (m.sum(axis=1) * r).sum(1)], 1) / m.sum(axis=(1, 2))[:, None]

    d = centre(moved) - centre(digits)
    assert np.abs(d).max() < 3.6 and np.abs(d).mean() > 1.0
