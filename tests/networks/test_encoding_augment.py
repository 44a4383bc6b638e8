"""Input encodings and training-digit augmentation."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.augment import Augmentation
from procedures.networks.encoding import InputEncoding
from procedures.networks.idx import load_mnist


def test_threshold_encoding() -> None:
    grey = np.array([[0, 127, 128, 255]], np.uint8)
    enc = InputEncoding("threshold", threshold=128)
    assert enc.planes_of(grey).tolist() == [[[-1, -1, 1, 1]]]
    assert enc.values_of(grey).tolist() == [[-1, -1, 1, 1]] and enc.max_value() == 1


@pytest.mark.parametrize("planes", [1, 2, 4, 8])
def test_bitplanes_sum_to_the_centred_grey_level(planes) -> None:
    grey = np.arange(256, dtype=np.uint8).reshape(2, 128)
    enc = InputEncoding("bitplanes", planes)
    x = enc.planes_of(grey)
    assert x.shape == (2, planes, 128) and x.dtype == np.int8 and set(np.unique(x)) == {-1, 1}
    q = grey.astype(int) >> (8 - planes)
    assert np.array_equal(enc.values_of(grey), 2 * q - (2 ** planes - 1))
    assert enc.plane_weights().tolist() == [2 ** p for p in range(planes)]


@pytest.mark.parametrize("kwargs", [{"kind": "grey"}, {"kind": "threshold", "planes": 2},
                                    {"kind": "bitplanes", "planes": 0}, {"threshold": 256}])
def test_bad_encodings_are_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        InputEncoding(**kwargs)


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
