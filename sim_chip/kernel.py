"""The compiled MAC of the 4-bit TDCs, in code space, and the read noise that reaches it.

TDC: code = clip(floor((t + jitter - start_j) / lsb_j), 0, 15), t the
column's delay (:mod:`sim_chip.readout`) with its trip level V_th,j shifted
by the read's voltage noise.  Its delay line scales start and LSB by
(1 + a_tdc (T - T_ref)); the comparator delay scales by (1 + a_cmp (T - T_ref)).

Noise.  Voltage noise enters as a shift of each column's trip level, so it
reaches the delay exactly through the node's slope at the trip point (and
so depends on the MAC): per read one draw per column (kT/C, comparator,
reference current) plus one draw common to all columns (threshold
reference, supply), added to the column's trip level together with its
slow shift of the present millisecond (:mod:`sim_chip.slow_noise`); the
clock's jitter is one draw common to all columns, in time.  All Gaussian
with untruncated tails.

Arithmetic.  R and R_eff are affine in x in {-1, +1}^64 (x_i = +1 selects
the left branch): R = sum_i (R_L + R_R)/2 + sum_i x_i (R_L - R_R)/2.  The
kernel works with I_ref,j R in volts (each column's own sink current), from
one float32 matmul on [x, 1] whose entries are multiples of 2^-27 V
(0.24 ohm at the nominal I_ref), so every partial sum is exact and the
result cannot depend on BLAS blocking or batch size; the delay is then an
elementwise function, the same float32 steps for a vector alone or in a
batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS

from .parameters import ChipParameters
from .readout import ColumnConstants, NoiseBudget, comparator_delay, row_weights
from .rng import DenseStream, gaussian_table, hash_bits, tail_draws, tail_positions

_QUANTUM = 2.0**-27   # V of I_ref R (~0.24 ohm)
_SERIAL_ROWS = 63     # OpenBLAS keeps an m x 65 x 64 product on one thread while m n k < 2^18
WIDE = 16             # rows of a batch folded into one for per-column constants and column sums
_GUARD = np.float32(-(1.0 + 2.0**-20))   # -V_inf stops just short of -V_th when a column may never trip


@dataclass(frozen=True)
class MacKernel:
    """The compiled MAC of one array state, TDC configuration, temperature and read bias.

    Derived on construction: ``noisy`` (reads carry noise: not the ideal
    die), ``noise_table`` (the normal table times the per-column voltage
    noise) and ``jitter_scale`` (the jitter in code units when every
    column has the same LSB, else None).
    """

    matrix: np.ndarray        #: (65, 64) or (65, 128) float32 on [x, 1]: I_ref R (and I_ref R_eff), V
    scale: np.ndarray         #: (64,) float32, -C/(I_ref lsb): code units per volt of I_ref R_eff per unit log
    offset: np.ndarray        #: (64,) float32, (t_cmp - start)/lsb, code units
    v_read: float             #: V
    threshold: np.ndarray     #: (64,) float64, each column's trip level above the pedestal, V
    never_trips: bool         #: some column's R may reach V_inf <= V_th: guard the logarithm
    sigma_column: float       #: per-column voltage noise, V (float32 value)
    sigma_common: float       #: common voltage noise, V (float32 value)
    jitter: np.ndarray        #: (64,) float32, clock jitter in code units
    start: np.ndarray         #: (64,) s, effective TDC start (temperature-scaled)
    lsb: np.ndarray           #: (64,) s, effective TDC LSB
    max_code: int
    noisy: bool               #: reads carry noise (a stochastic die)

    @classmethod
    def compile(cls, r_left: np.ndarray, r_right: np.ndarray, column_capacitance: np.ndarray,
                columns: ColumnConstants, tdc_start: np.ndarray, tdc_lsb: np.ndarray, temperature: float,
                v_read: float, budget: NoiseBudget, params: ChipParameters) -> MacKernel:
        """Build the kernel from branch resistances (64, 64) in ohm and TDC registers (64,) in s.

        ``column_capacitance`` is each column's C in F, ``columns`` their
        trip levels and sink currents, ``budget`` the noise at this setting.
        """
        r, dt = params.readout, temperature - params.device.t_ref
        i_ref = columns.reference_current
        weights = row_weights(params)
        half_diff, half_sum = 0.5 * i_ref * (r_left - r_right), 0.5 * i_ref * (r_left + r_right)
        blocks = [np.vstack([half_diff, half_sum.sum(0)])]
        if r.topology != "lumped":
            w = weights[:, None]
            blocks.append(np.vstack([half_diff * w, (half_sum * w).sum(0)]))
        m = np.round(np.hstack(blocks) / _QUANTUM) * _QUANTUM
        if np.abs(m[:ROWS]).sum(0).max() + np.abs(m[ROWS]).max() >= 2.0**24 * _QUANTUM:
            raise ValueError("column resistance out of the kernel's exact range")
        tdc_scale = 1.0 + r.tdc_lsb_tempco * dt
        start, lsb = tdc_start * tdc_scale, tdc_lsb * tdc_scale
        v_max = (i_ref * np.maximum(r_left, r_right).sum(0)).max()
        never = v_read - v_max <= columns.threshold.max() * 1.001 + 5e-3 * params.stochastic
        noisy = params.stochastic
        return cls(m.astype(np.float32), (-column_capacitance / (i_ref * lsb)).astype(np.float32),
                   ((comparator_delay(temperature, params) - start) / lsb).astype(np.float32),
                   float(v_read), columns.threshold.astype(float), bool(never),
                   float(np.float32(budget.column * noisy)), float(np.float32(budget.common * noisy)),
                   (budget.jitter / lsb * noisy).astype(np.float32), start, lsb, 2 ** r.tdc_bits - 1, noisy)

    def __post_init__(self) -> None:
        consts = (self.v_read, 0.0, self.max_code)
        threshold = self.threshold.astype(np.float32)
        jitter = self.jitter
        derived = {"_f32": tuple(np.float32(c) for c in consts),            # for batches
                   "_row": tuple(np.full(COLUMNS, c, np.float32) for c in consts),  # for one vector: no scalar boxing
                   "_start_sum": float(self.start.sum()),
                   "noise_table": _scaled_table(self.sigma_column),
                   "jitter_scale": jitter[0] if (jitter == jitter[0]).all() else None,
                   "_one": (np.ones(ROWS + 1, np.float32), np.empty(self.matrix.shape[1], np.float32),
                            np.empty(COLUMNS, np.float32)),
                   "_columns": (self.scale, self.offset, threshold, threshold * _GUARD),
                   "_wide": tuple(np.tile(c, WIDE) for c in (self.scale, self.offset, threshold,
                                                             threshold * _GUARD))}
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def start_sum(self) -> float:
        """Sum of the effective TDC starts over the columns, s."""
        return self._start_sum

    def thresholds(self, shift: np.ndarray) -> np.ndarray:
        """The columns' trip levels (64,) float32 with a slow ``shift`` (64,) in V added."""
        return (self.threshold + shift).astype(np.float32)

    def resistances_into(self, xa: np.ndarray, out: np.ndarray) -> None:
        """I_ref R (and I_ref R_eff) in V of the rows [x, 1] of ``xa`` ((m, 65) float32) into ``out``: exact.

        BLAS sees 63-row products (one thread each, no spinning helpers).
        """
        m = xa.shape[0]
        whole = m - m % _SERIAL_ROWS
        if whole:
            np.matmul(xa[:whole].reshape(-1, _SERIAL_ROWS, ROWS + 1), self.matrix,
                      out=out[:whole].reshape(-1, _SERIAL_ROWS, out.shape[1]))
        if whole < m:
            np.matmul(xa[whole:], self.matrix, out=out[whole:])

    def delays_into(self, rr: np.ndarray, u: np.ndarray, thresholds: np.ndarray | None) -> None:
        """Delays in code units (t - start)/lsb into ``u`` ((64,) or (m, 64) float32) from
        :meth:`resistances_into`, with each column's trip level ``thresholds`` (u's shape, float32, V: the
        noisy levels) or the kernel's own (None: a noiseless read).

        Elementwise, so a vector gets the same bits alone or in a batch; a
        batch takes its per-column constants WIDE rows at a time (long loops,
        not a 64-element loop per row), one vector takes them as rows.
        """
        if rr.shape[-1] == COLUMNS:                       # lumped: the delay depends on R alone
            r_col = r_eff = rr
        else:
            r_col, r_eff = rr[..., :COLUMNS], rr[..., COLUMNS:]
        c = self._row if u.ndim == 1 else self._f32
        np.subtract(r_col, c[0], out=u)                   # I_ref R - V_r = -V_inf
        if thresholds is None:
            for part, _, _, level, guard in self._by_column(u):
                if self.never_trips:                      # V_inf <= V_th: the comparator never fires
                    np.minimum(part, guard, out=part)
                np.divide(level, part, out=part)          # -V_th / V_inf
        else:
            if self.never_trips:
                np.minimum(u, thresholds * _GUARD, out=u)
            np.divide(thresholds, u, out=u)
        np.log1p(u, out=u)                                # -ln(V_inf / (V_inf - V_th))
        np.multiply(u, r_eff, out=u)
        for part, scale, offset, _, _ in self._by_column(u):
            np.multiply(part, scale, out=part)
            np.add(part, offset, out=part)

    def _by_column(self, u: np.ndarray) -> tuple[tuple[np.ndarray, ...], ...]:
        """Views of u with the per-column (scale, offset, threshold, guard) that line up with their columns:
        WIDE rows folded into one."""
        if u.ndim == 1:
            return ((u, *self._columns),)
        whole = len(u) - len(u) % WIDE
        parts = ((u[:whole].reshape(-1, WIDE * COLUMNS), *self._wide),) if whole else ()
        return parts + (((u[whole:], *self._columns),) if whole < len(u) else ())

    def clip(self, u: np.ndarray) -> None:
        """Delays with noise, in code units, clipped in place to the TDC's range 0 .. max_code."""
        if u.ndim == 1:                                   # two ufunc calls cost less than np.clip's wrapper
            np.maximum(u, self._row[1], out=u)
            np.minimum(u, self._row[2], out=u)
        else:                                             # one pass
            np.clip(u, self._f32[1], self._f32[2], out=u)

    def read_one(self, x: np.ndarray, noise: tuple[np.ndarray, np.ndarray] | None, units: np.ndarray) -> np.ndarray:
        """TDC codes (64,) uint8 of one vector x (64,) int8; its delays before jitter (code units) added to
        ``units``.

        ``noise`` is the clock's (trip levels, jitter in code units), as a batch draws them.
        """
        xa, rr, u = self._one
        xa[:ROWS] = x
        np.matmul(xa, self.matrix, out=rr)
        self.delays_into(rr, u, None if noise is None else noise[0])
        np.add(units, u, out=units)
        if noise is not None:
            u += noise[1]
        self.clip(u)
        return u.astype(np.uint8)


#: Stream blocks (4 words, 16 normal draws) per clock: the 64 column draws.
NOISE_BLOCKS_PER_CLOCK = 4


class ReadNoise:
    """Counter-based noise of MAC reads: 64 per-column draws and two common draws per clock.

    A clock's column draws come from 16 stream words (16-bit inverse-CDF
    indices into the normal table), its two common draws (voltage, jitter)
    from two 16-bit fields of a hash of the clock; outer-bin hits are
    replaced by exact tail draws.  A clock's trip levels are, in float32 and
    in this order, the column draw times the column sigma, plus the common
    voltage draw times its sigma, plus the columns' levels of the present
    block; its jitter is the jitter draw times the jitter in code units.  So
    a vector's noise has the same bits alone or in a batch.  A batch's chunks
    draw into their own buffers from their own copy of the stream
    (thread-safe); single reads take their clock from a cache filled a few
    hundred clocks ahead.
    """

    _CACHED_CLOCKS = 256   # single-vector reads draw this many clocks ahead

    def __init__(self, stream: DenseStream, common_key: int, tail_key: int) -> None:
        self._stream = stream            #: NOISE_BLOCKS_PER_CLOCK blocks per clock
        self._common_key = common_key
        self._tail_key = tail_key
        self._cache_start = -1
        self._cache = np.empty((0, COLUMNS + 2), np.float32)     # raw draws: 64 column draws, the common two
        self._scaled: tuple[object, object, np.ndarray, np.ndarray] = (None, None, self._cache, self._cache)

    def _columns_into(self, out: np.ndarray, idx: np.ndarray, first_clock: int, sigma: float | None) -> None:
        """Column draws times ``sigma`` (raw draws without one) into ``out`` (n, 64) float32.

        ``idx`` (n, 64) uint16 are the clocks' table indices; outer-bin hits take exact tail draws.
        """
        table = _nan_table() if sigma is None else _scaled_table(sigma)
        np.take(table, idx, out=out, mode="wrap")          # uint16 indices are always in range
        at = np.flatnonzero(np.isnan(out))
        if at.size:
            tails = tail_draws(self._tail_key, first_clock * COLUMNS + at, idx.flat[at] == 65535).astype(np.float32)
            out.flat[at] = tails if sigma is None else tails * np.float32(sigma)

    def common(self, first_clock: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The common draws of n clocks: (voltage, jitter), (n,) float32 each."""
        clocks = np.arange(first_clock, first_clock + n, dtype=np.uint64)
        bits = hash_bits(self._common_key, clocks)
        out = []
        for field, shift in enumerate((48, 32)):
            idx = ((bits >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.uint16)
            z = gaussian_table()[idx]
            at = tail_positions(idx)
            if at.size:
                z[at] = tail_draws(self._tail_key ^ (0xC0 + field), clocks[at], idx[at] == 65535)
            out.append(z)
        return out[0], out[1]

    def thresholds_into(self, thr: np.ndarray, first_clock: int, kernel: MacKernel,
                        levels: list[tuple[int, int, np.ndarray]]) -> np.ndarray:
        """The trip levels (V) of clocks first_clock .. first_clock + m - 1 into ``thr`` (m, 64) float32;
        their jitter draws (m,) float32 returned.

        ``levels`` are (first row, stop row, trip levels (64,) float32) of runs of the rows that share
        their columns' levels (a block of slow noise).  Safe in threads.
        """
        m = thr.shape[0]
        words = self._stream.words_at(first_clock * NOISE_BLOCKS_PER_CLOCK, NOISE_BLOCKS_PER_CLOCK * m)
        self._columns_into(thr, words.view("<u2").reshape(m, COLUMNS), first_clock, kernel.sigma_column)
        voltage, jitter = self.common(first_clock, m)
        thr += (voltage * np.float32(kernel.sigma_common))[:, None]
        for first, stop, level in levels:
            part = thr[first:stop]
            whole = len(part) - len(part) % WIDE
            if whole:
                folded = part[:whole].reshape(-1, WIDE * COLUMNS)
                folded += np.tile(level, WIDE)
            if whole < len(part):
                part[whole:] += level
        return jitter

    def add_jitter(self, u: np.ndarray, jitter: np.ndarray, kernel: MacKernel, scratch: np.ndarray) -> None:
        """Add the clocks' jitter draws (m,) in code units to ``u`` (m, 64); ``scratch`` a buffer of u's shape."""
        if kernel.jitter_scale is not None:
            u += (jitter * kernel.jitter_scale)[:, None]
        else:
            np.multiply(jitter[:, None], kernel.jitter, out=scratch)
            u += scratch

    def clock(self, clock: int, kernel: MacKernel, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(trip levels in V, jitter in code units), (64,) float32 each, of one clock whose columns' levels
        (with the present slow shift) are ``level``."""
        if not self._cache_start <= clock < self._cache_start + len(self._cache):
            n = self._CACHED_CLOCKS
            words = self._stream.words(clock * NOISE_BLOCKS_PER_CLOCK, NOISE_BLOCKS_PER_CLOCK * n)
            cache = np.empty((n, COLUMNS + 2), np.float32)
            columns = np.empty((n, COLUMNS), np.float32)
            self._columns_into(columns, words.view("<u2").reshape(n, COLUMNS), clock, None)
            cache[:, :COLUMNS] = columns
            cache[:, COLUMNS], cache[:, COLUMNS + 1] = self.common(clock, n)
            self._cache_start, self._cache = clock, cache
            self._scaled = (None, None, cache, cache)
        if self._scaled[0] is not kernel or self._scaled[1] is not level:
            cache = self._cache
            thr = cache[:, :COLUMNS] * np.float32(kernel.sigma_column)
            thr += (cache[:, COLUMNS] * np.float32(kernel.sigma_common))[:, None]
            thr += level
            self._scaled = (kernel, level, thr, cache[:, COLUMNS + 1:] * kernel.jitter)
        at = clock - self._cache_start
        return self._scaled[2][at], self._scaled[3][at]


@functools.cache
def _nan_table() -> np.ndarray:
    """The normal table with its two outer bins marked NaN (they need exact tail draws)."""
    table = gaussian_table().copy()
    table[[0, 65535]] = np.nan
    return table


_SCALED: dict[float, np.ndarray] = {}


def _scaled_table(sigma: float) -> np.ndarray:
    """The NaN-marked normal table times a per-column noise sigma (float32 products)."""
    table = _SCALED.get(sigma)
    if table is None:
        if len(_SCALED) > 16:
            _SCALED.clear()
        table = _SCALED[sigma] = _nan_table() * np.float32(sigma)
    return table
