"""Convolutions lowered to matrix products (im2col), and max-pooling of +1/-1 maps: the layers' arithmetic.

Feature maps are channel-last, (n, height, width, channels).  A k x k
convolution with ``padding`` cells of padding on every side and stride 1
becomes one matrix product: every output position contributes one row, its
patch, of k * k * channels inputs in the order (kernel row, kernel column,
channel), channel fastest; the layer's weights are the matching
(k * k * channels, out channels) matrix.  So the rows of a patch are what
one array column sums, cut into 64-row tiles exactly as any other layer
(../chip/tiling.py): a 3 x 3 layer on 32 channels has 288 inputs, five row tiles.

Padding cells hold -1 on every input plane (grey level 0 for the first
layer, which every encoding maps to -1 on every plane; -1 for binary
activations), a constant the trained network saw too.  There is no "0" on
the array, so padding cannot be neutral: it is part of the network.
"""

from __future__ import annotations

import numpy as np

PAD_VALUE = -1     # +1/-1 value of a padding cell, on every input plane


def im2col(maps: np.ndarray, kernel: int, padding: int) -> np.ndarray:
    """Patches (n * out_h * out_w, k * k * c) int8 of +1/-1 maps (n, h, w, c), padding cells -1.

    Row order: image, then output row, then output column; column order:
    kernel row, kernel column, channel (channel fastest).
    """
    n, h, w, c = maps.shape
    padded = np.pad(maps.astype(np.int8, copy=False), ((0, 0), (padding, padding), (padding, padding), (0, 0)),
                    constant_values=PAD_VALUE)
    out_h, out_w = h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kernel, kernel), axis=(1, 2))
    # windows: (n, out_h, out_w, c, k, k) -> (n, out_h, out_w, k, k, c)
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3)).reshape(n * out_h * out_w, kernel * kernel * c)


def max_pool(maps: np.ndarray, size: int) -> np.ndarray:
    """Max over non-overlapping size x size windows of maps (n, h, w, c); a partial edge window is dropped."""
    if size == 1:
        return maps
    n, h, w, c = maps.shape
    h, w = h // size, w // size
    return maps[:, : h * size, : w * size].reshape(n, h, size, w, size, c).max(axis=(2, 4))
