"""Column delay and the 4-bit time-to-digital converters, in code space.

A column's resistance is affine in the input vector x in {-1, +1}^64:

    R_col(j) = sum_i (R_L(i,j) + R_R(i,j))/2 + sum_i x_i (R_L(i,j) - R_R(i,j))/2

because x_i = +1 selects the left branch and -1 the right one.  The delay
is affine in R_col, t_j = t_icpt + k_t * g_j * R_col(j) + offset_j, with
k_t and t_icpt fitted to the datasheet's 13 ns (MAC=+64) and 29 ns
(MAC=-64) at nominal resistances (t_icpt is the intercept of that fit, not
a physical delay).  The TDC counts floor((t + noise - start_j) / lsb_j),
clipped to 0..15.

All of it folds into one (65 x 64) float32 matrix M acting on [x, 1], so a
batch costs one matmul plus noise.  M's entries are rounded to multiples of
2^-13 code units (femtoseconds), which makes every partial sum exact
in float32: the result cannot depend on BLAS blocking or batch size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parameters import ChipParameters
from .rng import gaussian_table

_QUANTUM = 2.0**-13


def delay_slope_and_intercept(params: ChipParameters) -> tuple[float, float]:
    """(k_t in s/ohm, t_icpt in s) of the affine delay model at nominal resistances."""
    d, r = params.device, params.readout
    r_min = 64 * (d.r_fet_mean + d.r_p_mean)
    r_max = 64 * (d.r_fet_mean + d.r_ap_mean)
    k_t = (r.delay_at_mac_min - r.delay_at_mac_max) / (r_max - r_min)
    return k_t, r.delay_at_mac_max - k_t * r_min


def delay_noise_sigma(params: ChipParameters) -> float:
    """Per-read delay noise in s: jitter plus the column read noise, in quadrature.

    The read-noise part is taken at the nominal mid-range column resistance,
    the same for every column, so that noise can be drawn with one table.
    """
    if not params.stochastic:
        return 0.0
    d, r = params.device, params.readout
    k_t, _ = delay_slope_and_intercept(params)
    r_mid = 64 * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))
    return float(np.hypot(r.jitter_sigma, k_t * r.read_noise_rel * r_mid))


@dataclass(frozen=True)
class MacKernel:
    """The compiled MAC of one array state and one TDC configuration."""

    matrix: np.ndarray       #: (65, 64) float32 on [x, 1], code units
    noise_scale: np.ndarray  #: (64,) float32, noise sigma in code units
    max_code: int

    @classmethod
    def compile(cls, r_left: np.ndarray, r_right: np.ndarray, column_gain: np.ndarray,
                column_offset: np.ndarray, tdc_start: np.ndarray, tdc_lsb: np.ndarray,
                params: ChipParameters) -> "MacKernel":
        """Build M from branch resistances (64, 64) in ohm and TDC registers (64,) in s."""
        k_t, t_icpt = delay_slope_and_intercept(params)
        slope = k_t * column_gain / tdc_lsb                       # code units per ohm
        m = np.empty((65, 64))
        m[:64] = 0.5 * (r_left - r_right) * slope
        m[64] = (t_icpt + column_offset - tdc_start) / tdc_lsb + 0.5 * (r_left + r_right).sum(0) * slope
        m = np.round(m / _QUANTUM) * _QUANTUM
        if np.abs(m[:64]).sum(0).max() + np.abs(m[64]).max() >= 2.0**24 * _QUANTUM:
            raise ValueError("TDC window too fine for exact code arithmetic")
        sigma = delay_noise_sigma(params) / tdc_lsb
        return cls(m.astype(np.float32), sigma.astype(np.float32), 2 ** params.readout.tdc_bits - 1)

    def __post_init__(self) -> None:
        scale = self.noise_scale
        uniform = _scaled_table(float(scale[0])) if (scale == scale[0]).all() else None
        object.__setattr__(self, "_noisy", bool(scale.any()))
        object.__setattr__(self, "_uniform_scale", uniform)

    @property
    def noisy(self) -> bool:
        """True when reads carry noise (not in ideal mode)."""
        return self._noisy

    def codes(self, x: np.ndarray, noise_words: np.ndarray | None,
              input_sums: np.ndarray) -> np.ndarray:
        """TDC codes (n, 64) uint8 of an int8 batch x (n, 64).

        ``noise_words`` holds 16 uint64 per vector (64 16-bit normal draws).
        The per-row sums of the inputs over the batch are added to
        ``input_sums`` (64,) int64, a by-product the disturb bookkeeping needs.
        """
        n = x.shape[0]
        if n == 1:
            return self._code_one(x[0], noise_words, input_sums)[None, :]
        xa = np.empty((n, 65), np.float32)
        xa[:, :64] = x
        xa[:, 64] = 1.0
        input_sums += (np.ones(n, np.float32) @ xa[:, :64]).astype(np.int64)  # exact below 2^24
        u = xa @ self.matrix
        if noise_words is not None and self._noisy:
            idx = noise_words.view("<u2")
            if self._uniform_scale is not None:
                z = np.take(self._uniform_scale, idx)
            else:
                z = np.take(gaussian_table(), idx).reshape(n, 64)
                z *= self.noise_scale
            u += z.reshape(n, 64)
        np.clip(u, 0, self.max_code, out=u)  # then truncation is the floor
        return u.astype(np.uint8)

    def _code_one(self, x: np.ndarray, noise_words: np.ndarray | None, input_sums: np.ndarray) -> np.ndarray:
        """One vector: the same exact sums and elementwise steps, with less set-up."""
        input_sums += x
        u = np.dot(x.astype(np.float32), self.matrix[:64])
        u += self.matrix[64]
        if noise_words is not None and self._noisy:
            idx = noise_words.view("<u2")
            if self._uniform_scale is not None:
                u += self._uniform_scale[idx]
            else:
                u += gaussian_table()[idx] * self.noise_scale
        np.maximum(u, 0, out=u)
        np.minimum(u, self.max_code, out=u)
        return u.astype(np.uint8)


_SCALED: dict[float, np.ndarray] = {}


def _scaled_table(scale: float) -> np.ndarray:
    """The normal table times ``scale`` (float32), cached per scale."""
    table = _SCALED.get(scale)
    if table is None:
        if len(_SCALED) > 16:
            _SCALED.clear()
        table = _SCALED[scale] = gaussian_table() * np.float32(scale)
    return table
