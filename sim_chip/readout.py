"""The column readout as one stated circuit, and the 4-bit TDCs, in code space.

Circuit (datasheet 3; topology assumed).  At the start of a MAC the row
driver end of each column steps to the read bias V_r.  The column's series
chain (resistance R, the sum of its selected branches) charges the sense
node, whose capacitance C = 64 c_line + c_cmp holds the column line (the
paper's 2.1 fF per cell) and the comparator input.  The comparator's
reference branch sinks a constant current I_ref from the sense node and
fires when the node crosses V_th.  So the node charges towards
V_inf = V_r - I_ref R with time constant R C and the column's delay is

    t(R) = t_cmp + R C ln( V_inf / (V_inf - V_th) ),

positive for every R and infinite (no trip) once V_inf <= V_th.  The
reference current makes t grow faster than R: the paper's 13 ns (MAC = +64)
and 29 ns (MAC = -64) span a ratio 2.23 for a resistance ratio of 2, which
no delay t0 + k R with t0 >= 0 can do.  V_th and I_ref are the two
constants that put those two delays on the nominal resistances
(:func:`readout_circuit`); C, t_cmp and V_r are inputs.  The same C, V_th
and I_ref give the read energy (:mod:`sim_chip.energy`).

Topology.  ``lumped`` (default): the line capacitance sits on the sense
node (a column line running back along the chain to the comparator), so
the delay depends on the sum R alone and a column computes sum x w exactly
as the paper's MAC does.  ``ladder``: each cell's 2.1 fF sits on the chain
node below it; to first order (Elmore) the charging time constant becomes
sum_i r_i C_below(i), so row i's resistance is weighted by
w_i = C_below(i) / C, from 1 next to the driver (row 0) to
(c_line + c_cmp)/C at the far end; the DC level V_inf still uses R.

TDC: code = clip(floor((t + noise - start_j) / lsb_j), 0, 15).  Its delay
line scales start and LSB by (1 + a_tdc (T - T_ref)); the comparator delay
scales by (1 + a_cmp (T - T_ref)).  Noise: one draw per read shared by all
columns (clock jitter, supply), plus one per column, both Gaussian with
untruncated tails.

Arithmetic.  R and R_eff are affine in x in {-1, +1}^64 (x_i = +1 selects
the left branch): R = sum_i (R_L + R_R)/2 + sum_i x_i (R_L - R_R)/2.  The
kernel works with I_ref R in volts, from one float32 matmul on [x, 1] whose
entries are multiples of 2^-27 V (0.24 ohm), so every partial sum is exact
and the result cannot depend on BLAS blocking or batch size; the delay is
then an elementwise function.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS

from .parameters import ChipParameters
from .rng import DenseStream, gaussian_table, hash_bits, tail_draws, tail_positions

_QUANTUM = 2.0**-27   # V of I_ref R (~0.24 ohm)
_SERIAL_ROWS = 63     # OpenBLAS keeps an m x 65 x 64 product on one thread while m n k < 2^18
WIDE = 16             # rows of a batch folded into one for per-column constants and column sums


@dataclass(frozen=True)
class ReadoutCircuit:
    """Constants of the readout circuit (module docstring)."""

    capacitance: float        #: F, nominal sense-node capacitance C
    threshold: float          #: V, comparator threshold V_th
    reference_current: float  #: A, reference sink I_ref


def readout_circuit(params: ChipParameters) -> ReadoutCircuit:
    """V_th and I_ref that give the paper's two delays at nominal resistances, V_r and 25 degC.

    With A = 1 - exp(-(t1 - t_cmp)/(R1 C)), B likewise at R2 = rho R1 and
    x = I_ref R1 / V_r: the trip conditions V_th = (1 - x) V_r A =
    (1 - rho x) V_r B give x = (B - A)/(rho B - A).
    """
    d, r, v_r = params.device, params.readout, params.defaults.v_read
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    r1 = ROWS * (d.r_fet_mean + d.r_p_mean)
    r2 = ROWS * (d.r_fet_mean + d.r_ap_mean)
    a = -np.expm1(-(r.delay_at_mac_max - r.comparator_delay) / (r1 * c))
    b = -np.expm1(-(r.delay_at_mac_min - r.comparator_delay) / (r2 * c))
    x = (b - a) / (r2 / r1 * b - a)
    return ReadoutCircuit(c, float((1.0 - x) * a * v_r), float(x * v_r / r1))


def row_weights(params: ChipParameters) -> np.ndarray:
    """Weight of each row's resistance in the charging time constant (64,): 1 for ``lumped``."""
    r = params.readout
    if r.topology == "lumped":
        return np.ones(ROWS)
    if r.topology != "ladder":
        raise ValueError(f"readout topology must be 'lumped' or 'ladder', got {r.topology!r}")
    below = r.line_capacitance_per_cell * (ROWS - np.arange(ROWS)) + r.comparator_capacitance
    return below / (ROWS * r.line_capacitance_per_cell + r.comparator_capacitance)


def column_delay(r_col: np.ndarray, r_eff: np.ndarray, capacitance: np.ndarray, v_read: float,
                 temperature: float, params: ChipParameters) -> np.ndarray:
    """Delay in s of columns of resistance ``r_col`` (ohm; ``r_eff`` the weighted one), float64.

    ``capacitance`` is each column's sense capacitance, F.  Infinite when
    the comparator never trips.
    """
    circuit = readout_circuit(params)
    r = params.readout
    t_cmp = r.comparator_delay * (1.0 + r.comparator_delay_tempco * (temperature - params.device.t_ref))
    v_inf = v_read - circuit.reference_current * np.asarray(r_col, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v_inf > circuit.threshold, circuit.threshold / v_inf, 1.0)
        return t_cmp + r_eff * capacitance * -np.log1p(-ratio)


@dataclass(frozen=True)
class MacKernel:
    """The compiled MAC of one array state, TDC configuration, temperature and read bias.

    Derived on construction: ``noisy`` (reads carry noise: not the ideal
    die), ``noise_table`` (the normal table times the column noise, None if
    that differs by column) and ``common_scale`` (the common noise in code
    units when every column has it, else None).
    """

    matrix: np.ndarray        #: (65, 64) or (65, 128) float32 on [x, 1]: I_ref R (and I_ref R_eff), V
    scale: np.ndarray         #: (64,) float32, -C/(I_ref lsb): code units per volt of I_ref R_eff per unit log
    offset: np.ndarray        #: (64,) float32, (t_cmp + column offset - start)/lsb, code units
    v_read: float             #: V
    threshold: float          #: V
    never_trips: bool         #: some column's R may reach V_inf <= V_th: guard the logarithm
    noise_column: np.ndarray  #: (64,) float32, per-column noise sigma in code units
    noise_common: np.ndarray  #: (64,) float32, common noise sigma in code units
    start: np.ndarray         #: (64,) s, effective TDC start (temperature-scaled)
    lsb: np.ndarray           #: (64,) s, effective TDC LSB
    max_code: int

    @classmethod
    def compile(cls, r_left: np.ndarray, r_right: np.ndarray, column_capacitance: np.ndarray,
                column_offset: np.ndarray, tdc_start: np.ndarray, tdc_lsb: np.ndarray, temperature: float,
                v_read: float, params: ChipParameters) -> MacKernel:
        """Build the kernel from branch resistances (64, 64) in ohm and TDC registers (64,) in s.

        ``column_capacitance`` is each column's C in F, ``column_offset`` its
        comparator delay mismatch in s.
        """
        r, dt = params.readout, temperature - params.device.t_ref
        circuit = readout_circuit(params)
        i_ref = circuit.reference_current
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
        t_cmp = r.comparator_delay * (1.0 + r.comparator_delay_tempco * dt)
        r_max = np.maximum(r_left, r_right).sum(0).max()
        never = v_read - i_ref * r_max <= circuit.threshold * 1.001
        stochastic = params.stochastic
        return cls(m.astype(np.float32), (-column_capacitance / (i_ref * lsb)).astype(np.float32),
                   ((t_cmp + column_offset - start) / lsb).astype(np.float32),
                   float(v_read), circuit.threshold, bool(never),
                   (r.noise_sigma_column / lsb * stochastic).astype(np.float32),
                   (r.noise_sigma_common / lsb * stochastic).astype(np.float32),
                   start, lsb, 2 ** r.tdc_bits - 1)

    def __post_init__(self) -> None:
        consts = (self.v_read, self.threshold, -self.threshold * (1.0 + 2.0**-20), 0.0, self.max_code)
        common = self.noise_common
        derived = {"_f32": tuple(np.float32(c) for c in consts),            # for batches
                   "_row": tuple(np.full(COLUMNS, c, np.float32) for c in consts),  # for one vector: no scalar boxing
                   "_start_sum": float(self.start.sum()),
                   "noise_table": _scaled_table(self.noise_column),
                   "noisy": bool(self.noise_column.any() or common.any()),
                   "common_scale": common[0] if (common == common[0]).all() else None,
                   "_one": (np.ones(ROWS + 1, np.float32), np.empty(self.matrix.shape[1], np.float32),
                            np.empty(COLUMNS, np.float32)),
                   "_wide": (np.tile(self.scale, WIDE), np.tile(self.offset, WIDE))}
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def start_sum(self) -> float:
        """Sum of the effective TDC starts over the columns, s."""
        return self._start_sum

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

    def delays_into(self, rr: np.ndarray, u: np.ndarray) -> None:
        """Noiseless delays in code units (t - start)/lsb into ``u`` ((64,) or (m, 64) float32) from
        :meth:`resistances_into`.

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
        if self.never_trips:                              # V_inf <= V_th: the comparator never fires
            np.minimum(u, c[2], out=u)
        np.divide(c[1], u, out=u)                         # -V_th / V_inf
        np.log1p(u, out=u)                                # -ln(V_inf / (V_inf - V_th))
        np.multiply(u, r_eff, out=u)
        for part, scale, offset in self._by_column(u):
            np.multiply(part, scale, out=part)
            np.add(part, offset, out=part)

    def _by_column(self, u: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
        """Views of u with the scale and offset that line up with their columns: WIDE rows folded into one."""
        if u.ndim == 1:
            return ((u, self.scale, self.offset),)
        whole = len(u) - len(u) % WIDE
        parts = ((u[:whole].reshape(-1, WIDE * COLUMNS), *self._wide),) if whole else ()
        return parts + (((u[whole:], self.scale, self.offset),) if whole < len(u) else ())

    def clip(self, u: np.ndarray) -> None:
        """Delays with noise, in code units, clipped in place to the TDC's range 0 .. max_code."""
        if u.ndim == 1:                                   # two ufunc calls cost less than np.clip's wrapper
            np.maximum(u, self._row[3], out=u)
            np.minimum(u, self._row[4], out=u)
        else:                                             # one pass
            np.clip(u, self._f32[3], self._f32[4], out=u)

    def read_one(self, x: np.ndarray, noise: tuple[np.ndarray, np.ndarray] | None, units: np.ndarray) -> np.ndarray:
        """TDC codes (64,) uint8 of one vector x (64,) int8; its noiseless delays (code units) added to ``units``.

        ``noise`` is the clock's column and common noise in code units, added in that order (as in a batch).
        """
        xa, rr, u = self._one
        xa[:ROWS] = x
        np.matmul(xa, self.matrix, out=rr)
        self.delays_into(rr, u)
        np.add(units, u, out=units)
        if noise is not None:
            u += noise[0]
            u += noise[1]
        self.clip(u)
        return u.astype(np.uint8)


#: Stream blocks (4 words, 16 normal draws) per clock: the 64 column draws.
NOISE_BLOCKS_PER_CLOCK = 4


class ReadNoise:
    """Counter-based noise of MAC reads: 64 per-column draws and one common draw per clock.

    A clock's column draws come from 16 stream words (16-bit inverse-CDF
    indices into the normal table), its common draw from a hash of the
    clock; outer-bin hits are replaced by exact tail draws.  Noise in code
    units is each float32 draw times its float32 sigma, the column part
    added before the common part, so a vector's noise has the same bits
    alone or in a batch.  A batch's chunks draw into their own buffers from
    their own copy of the stream (thread-safe); single reads take their
    clock from a cache filled a few hundred clocks ahead.
    """

    _CACHED_CLOCKS = 256   # single-vector reads draw this many clocks ahead

    def __init__(self, stream: DenseStream, common_key: int, tail_key: int) -> None:
        self._stream = stream            #: NOISE_BLOCKS_PER_CLOCK blocks per clock
        self._common_key = common_key
        self._tail_key = tail_key
        self._cache_start = -1
        self._cache = np.empty((0, COLUMNS + 1), np.float32)     # raw draws: 64 column draws, the common one
        self._scaled: tuple[MacKernel | None, np.ndarray, np.ndarray] = (None, self._cache, self._cache)

    def _columns_into(self, out: np.ndarray, idx: np.ndarray, first_clock: int, kernel: MacKernel | None) -> None:
        """Column draws in code units of ``kernel`` (raw draws without one) into ``out`` (n, 64) float32.

        ``idx`` (n, 64) uint16 are the clocks' table indices; outer-bin hits take exact tail draws.
        """
        sigma = _ONES if kernel is None else kernel.noise_column
        table = _nan_table() if kernel is None else kernel.noise_table
        if table is None:                                  # sigma differs by column
            np.take(_nan_table(), idx, out=out, mode="wrap")
            np.multiply(out, sigma, out=out)
        else:
            np.take(table, idx, out=out, mode="wrap")      # uint16 indices are always in range
        at = np.flatnonzero(np.isnan(out))
        if at.size:
            tails = tail_draws(self._tail_key, first_clock * COLUMNS + at, idx.flat[at] == 65535).astype(np.float32)
            out.flat[at] = tails * sigma[at % COLUMNS]

    def _common(self, first_clock: int, n: int) -> np.ndarray:
        """The common draws (n,) float32 of n clocks."""
        clocks = np.arange(first_clock, first_clock + n, dtype=np.uint64)
        idx = (hash_bits(self._common_key, clocks) >> np.uint64(48)).astype(np.uint16)   # hash_uniform x 2^16
        z = gaussian_table()[idx]
        at = tail_positions(idx)
        if at.size:
            z[at] = tail_draws(self._tail_key ^ 0xC0, clocks[at], idx[at] == 65535)
        return z

    def add_into(self, u: np.ndarray, first_clock: int, kernel: MacKernel, scratch: np.ndarray) -> None:
        """Add the noise in code units of clocks first_clock .. first_clock + len(u) - 1 to ``u`` (m, 64).

        ``scratch`` is a float32 buffer of u's shape.  Safe in threads.
        """
        m = u.shape[0]
        words = self._stream.words_at(first_clock * NOISE_BLOCKS_PER_CLOCK, NOISE_BLOCKS_PER_CLOCK * m)
        idx = words.view("<u2").reshape(m, COLUMNS)
        self._columns_into(scratch, idx, first_clock, kernel)
        u += scratch
        common = self._common(first_clock, m)
        if kernel.common_scale is not None:
            u += (common * kernel.common_scale)[:, None]
        else:
            np.multiply(common[:, None], kernel.noise_common, out=scratch)
            u += scratch

    def clock(self, clock: int, kernel: MacKernel) -> tuple[np.ndarray, np.ndarray]:
        """(column noise, common noise), (64,) float32 each in code units, of one clock."""
        if not self._cache_start <= clock < self._cache_start + len(self._cache):
            n = self._CACHED_CLOCKS
            words = self._stream.words(clock * NOISE_BLOCKS_PER_CLOCK, NOISE_BLOCKS_PER_CLOCK * n)
            cache = np.empty((n, COLUMNS + 1), np.float32)
            columns = np.empty((n, COLUMNS), np.float32)
            self._columns_into(columns, words.view("<u2").reshape(n, COLUMNS), clock, None)
            cache[:, :COLUMNS] = columns
            cache[:, COLUMNS] = self._common(clock, n)
            self._cache_start, self._cache = clock, cache
            self._scaled = (None, cache, cache)
        if self._scaled[0] is not kernel:
            cache = self._cache
            self._scaled = (kernel, cache[:, :COLUMNS] * kernel.noise_column, cache[:, COLUMNS:] * kernel.noise_common)
        at = clock - self._cache_start
        return self._scaled[1][at], self._scaled[2][at]


_ONES = np.ones(COLUMNS, np.float32)


@functools.cache
def _nan_table() -> np.ndarray:
    """The normal table with its two outer bins marked NaN (they need exact tail draws)."""
    table = gaussian_table().copy()
    table[[0, 65535]] = np.nan
    return table


_SCALED: dict[float, np.ndarray] = {}


def _scaled_table(scale: np.ndarray) -> np.ndarray | None:
    """The NaN-marked normal table times a per-column noise the same for all columns (None if they differ)."""
    if not (scale == scale[0]).all():
        return None
    key = float(scale[0])
    table = _SCALED.get(key)
    if table is None:
        if len(_SCALED) > 16:
            _SCALED.clear()
        table = _SCALED[key] = _nan_table() * np.float32(key)
    return table
