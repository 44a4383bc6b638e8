"""Input encodings: grey levels to +1/-1 planes."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.host.encoding import InputEncoding


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
