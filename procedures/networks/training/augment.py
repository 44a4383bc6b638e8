"""Deterministic augmentation of training digits: small shifts, rotations, scalings and elastic warps.

Each output pixel is sampled bilinearly (zero outside the image) at a
source position: the pixel's position mapped through a random rotation,
scaling and shift about the image centre, plus an elastic displacement (a
field of uniform -1..1 values per pixel and axis, smoothed by a normalised
Gaussian and multiplied by ``elastic_alpha``; Simard et al., ICDAR 2003).
The result is rounded back to uint8 grey levels, so augmented digits are
encoded exactly like real ones.  Every draw comes from the generator given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BORDER = 2   # zero pixels added on every side before sampling


def _gaussian_matrix(size: int, sigma: float) -> np.ndarray:
    """(size, size) matrix whose product smooths a vector with a Gaussian of ``sigma`` pixels (rows sum to 1)."""
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    g = np.exp(-0.5 * (d / sigma) ** 2)
    return g / g.sum(axis=1, keepdims=True)


def _bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Images (n, h, w) float sampled at source positions (n, h, w) in pixels, zero outside."""
    n, h, w = images.shape
    flat = np.pad(images, ((0, 0), (_BORDER, _BORDER), (_BORDER, _BORDER))).reshape(-1)
    rows = np.clip(rows, -_BORDER, h + _BORDER - 2).astype(np.float32)
    cols = np.clip(cols, -_BORDER, w + _BORDER - 2).astype(np.float32)
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = rows - r0, cols - c0
    stride = w + 2 * _BORDER
    first = (np.arange(n, dtype=np.int64)[:, None, None] * (h + 2 * _BORDER) + (r0.astype(np.int64) + _BORDER)) \
        * stride + (c0.astype(np.int64) + _BORDER)
    top = np.take(flat, first) * (1 - fc) + np.take(flat, first + 1) * fc
    bottom = np.take(flat, first + stride) * (1 - fc) + np.take(flat, first + stride + 1) * fc
    return top * (1 - fr) + bottom * fr


@dataclass(frozen=True)
class Augmentation:
    """Random warp ranges: each image gets shift, rotation and scale drawn uniformly within them."""

    shift: float = 2.0            # max shift per axis, pixels
    rotation: float = 10.0        # max rotation, degrees
    scale: float = 0.1            # max relative change of size
    elastic_alpha: float = 0.0    # elastic displacement amplitude, pixels (0: none)
    elastic_sigma: float = 4.0    # smoothing of the elastic field, pixels

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Warped copies (n, h, w) uint8 of uint8 images (n, h, w)."""
        n, h, w = images.shape
        angle = np.deg2rad(rng.uniform(-self.rotation, self.rotation, n))
        zoom = 1.0 + rng.uniform(-self.scale, self.scale, n)
        shift = rng.uniform(-self.shift, self.shift, (n, 2))
        cy, cx = (h - 1) / 2, (w - 1) / 2
        y = np.arange(h)[None, :, None] - cy - shift[:, 0, None, None]
        x = np.arange(w)[None, None, :] - cx - shift[:, 1, None, None]
        cos, sin = (np.cos(angle) / zoom)[:, None, None], (np.sin(angle) / zoom)[:, None, None]
        rows = cy + cos * y - sin * x
        cols = cx + sin * y + cos * x
        if self.elastic_alpha > 0:
            field = rng.uniform(-1.0, 1.0, (2 * n * h, w)) @ _gaussian_matrix(w, self.elastic_sigma).T
            columns_first = field.reshape(2 * n, h, w).transpose(1, 0, 2).reshape(h, -1)
            smooth = (_gaussian_matrix(h, self.elastic_sigma) @ columns_first).reshape(h, 2, n, w)
            smooth = smooth.transpose(1, 2, 0, 3)                  # (axis, n, h, w)
            rows = rows + self.elastic_alpha * smooth[0]
            cols = cols + self.elastic_alpha * smooth[1]
        warped = _bilinear(images.astype(np.float32), rows, cols)
        return np.clip(np.rint(warped), 0, 255).astype(np.uint8)
