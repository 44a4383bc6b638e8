"""Input encoding: grey-level images to the +1/-1 vectors the array takes, one vector per bit-plane.

Two encodings, a parameter of every network:

- ``threshold``: one plane, x = +1 where the grey level >= ``threshold``, else -1.
- ``bitplanes``: the top ``planes`` bits of the 8-bit grey level q = g >> (8 - planes);
  plane p (p = 0 least significant) is x_p = 2 * bit_p(q) - 1.

Every plane is sent through the same binary weights and the host adds the
planes' pre-activations with weights 2**p, so the first layer sees the
signed odd integer v = sum_p 2**p x_p = 2 q - (2**planes - 1), in
-(2**planes - 1) .. 2**planes - 1 (v = x for a single plane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ENCODINGS = ("threshold", "bitplanes")


@dataclass(frozen=True)
class InputEncoding:
    """How grey levels (uint8, 0..255) become +1/-1 input planes."""

    kind: str = "threshold"
    planes: int = 1
    threshold: int = 128

    def __post_init__(self) -> None:
        if self.kind not in ENCODINGS:
            raise ValueError(f"input encoding {self.kind!r}: expected one of {ENCODINGS}")
        if self.kind == "threshold" and self.planes != 1:
            raise ValueError(f"threshold encoding has one plane, not {self.planes}")
        if not 1 <= self.planes <= 8:
            raise ValueError(f"bit-planes: {self.planes} outside 1..8")
        if not 1 <= self.threshold <= 255:
            raise ValueError(f"threshold {self.threshold} outside 1..255 grey levels")

    def plane_weights(self) -> np.ndarray:
        """Host-side weight 2**p of plane p's pre-activation, (planes,) int64."""
        return 2 ** np.arange(self.planes, dtype=np.int64)

    def planes_of(self, images: np.ndarray) -> np.ndarray:
        """+1/-1 planes (n, planes, pixels) int8 of uint8 images (n, ...) flattened in C order."""
        grey = np.asarray(images, np.uint8).reshape(len(images), -1)
        if self.kind == "threshold":
            return np.where(grey >= self.threshold, 1, -1).astype(np.int8)[:, None, :]
        levels = grey >> (8 - self.planes)
        bits = (levels[:, None, :] >> np.arange(self.planes, dtype=np.uint8)[None, :, None]) & 1
        return (2 * bits.astype(np.int8) - 1).astype(np.int8)

    def values_of(self, images: np.ndarray) -> np.ndarray:
        """The combined input v = sum_p 2**p x_p (n, pixels) int16 that the first layer multiplies."""
        planes = self.planes_of(images).astype(np.int16)
        return np.einsum("npi,p->ni", planes, self.plane_weights().astype(np.int16))

    def max_value(self) -> int:
        """Largest |v|: 2**planes - 1."""
        return 2 ** self.planes - 1
