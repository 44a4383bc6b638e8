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

from .parameters import ChipParameters
from .rng import DenseStream, gaussian_table, hash_uniform, tail_draws, tail_positions

_QUANTUM = 2.0**-27   # V of I_ref R (~0.24 ohm)
_SERIAL_ROWS = 63     # OpenBLAS keeps an m x 65 x 64 product on one thread while m n k < 2^18
ROWS = 64


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
    """The compiled MAC of one array state, TDC configuration, temperature and read bias."""

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
        if np.abs(m[:64]).sum(0).max() + np.abs(m[64]).max() >= 2.0**24 * _QUANTUM:
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
        f32 = (np.float32(self.v_read), np.float32(self.threshold),
               np.float32(-self.threshold * (1.0 + 2.0**-20)), np.float32(0.0), np.float32(self.max_code))
        object.__setattr__(self, "_f32", f32)
        object.__setattr__(self, "_start_sum", float(self.start.sum()))
        object.__setattr__(self, "noise_table", _scaled_table(self.noise_column))

    @property
    def start_sum(self) -> float:
        """Sum of the effective TDC starts over the columns, s."""
        return self._start_sum

    @property
    def noisy(self) -> bool:
        """True when reads carry noise (not in ideal mode)."""
        return bool(self.noise_column.any() or self.noise_common.any())

    def resistances(self, x: np.ndarray) -> np.ndarray:
        """I_ref R (and I_ref R_eff) in V, (n, 64) or (n, 128) float32, of an int8 batch x (n, 64): exact."""
        n = x.shape[0]
        if n == 1:
            return (x[0].astype(np.float32) @ self.matrix[:64] + self.matrix[64])[None, :]
        xa = np.empty((n, 65), np.float32)
        xa[:, :64] = x
        xa[:, 64] = 1.0
        out = np.empty((n, self.matrix.shape[1]), np.float32)
        for s in range(0, n, _SERIAL_ROWS):      # keep BLAS on one thread: no spinning helper threads
            np.matmul(xa[s:s + _SERIAL_ROWS], self.matrix, out=out[s:s + _SERIAL_ROWS])
        return out

    def delays(self, rr: np.ndarray) -> np.ndarray:
        """Noiseless delays in code units (t - start)/lsb, float32, from :meth:`resistances` ((n, 64) or (64,)).

        Elementwise, so a vector gets the same bits alone or in a batch.
        """
        if rr.shape[0] == 1:                  # the same steps on 1-D arrays: less set-up
            rr = rr[0]
        r_col = rr[..., :64]
        r_eff = rr[..., 64:] if rr.shape[-1] > 64 else r_col
        u = r_col - self._f32[0]                          # I_ref R - V_r = -V_inf
        if self.never_trips:                              # V_inf <= V_th: the comparator never fires
            np.minimum(u, self._f32[2], out=u)
        np.divide(self._f32[1], u, out=u)                 # -V_th / V_inf
        np.log1p(u, out=u)                                # -ln(V_inf / (V_inf - V_th))
        u *= r_eff
        u *= self.scale
        u += self.offset
        return u

    def finish(self, u: np.ndarray) -> np.ndarray:
        """TDC codes (n, 64) uint8 of delays in code units (noise added): clip to 0..15, then the floor."""
        if u.ndim == 1:
            np.maximum(u, self._f32[3], out=u)
            np.minimum(u, self._f32[4], out=u)
            return u.astype(np.uint8)[None, :]
        np.clip(u, self._f32[3], self._f32[4], out=u)       # the same values in one pass
        return u.astype(np.uint8)


#: Stream blocks (4 words, 16 normal draws) per clock: the 64 column draws.
NOISE_BLOCKS_PER_CLOCK = 4


class ReadNoise:
    """Counter-based noise of MAC reads: 64 per-column draws and one common draw per clock.

    A clock's column draws come from 16 stream words (16-bit inverse-CDF
    indices), its common draw from a hash of the clock; outer-bin hits are
    replaced by exact tail draws.  Noise in code units is each float32 draw
    times its float32 sigma, added column part first, so a vector's noise
    has the same bits alone or in a batch.
    """

    _CACHED_CLOCKS = 256   # single-vector reads draw this many clocks ahead

    def __init__(self, stream: DenseStream, common_key: int, tail_key: int) -> None:
        self._stream = stream            #: NOISE_BLOCKS_PER_CLOCK blocks per clock
        self._common_key = common_key
        self._tail_key = tail_key
        self._cache_start = -1
        self._cache = np.empty((0, 65), np.float32)

    def _indices(self, first_clock: int, n: int) -> np.ndarray:
        k = NOISE_BLOCKS_PER_CLOCK
        return self._stream.words(first_clock * k, k * n).view("<u2").reshape(n, 64)

    def _column_tails(self, idx: np.ndarray, at: np.ndarray, first_clock: int) -> np.ndarray:
        """Exact float32 draws for the outer-bin hits at flat positions ``at`` of ``idx`` (n, 64)."""
        return tail_draws(self._tail_key, first_clock * 64 + at, idx.flat[at] == 65535).astype(np.float32)

    def _common(self, first_clock: int, n: int) -> np.ndarray:
        """The common draws (n,) float32 of n clocks."""
        clocks = np.arange(first_clock, first_clock + n, dtype=np.uint64)
        idx = (hash_uniform(self._common_key, clocks) * 65536.0).astype(np.uint16)
        z = gaussian_table()[idx]
        at = tail_positions(idx)
        if at.size:
            z[at] = tail_draws(self._tail_key ^ 0xC0, clocks[at], idx[at] == 65535)
        return z

    def _unit(self, clock: int) -> np.ndarray:
        """The 64 column draws and the common draw of one clock (65,) float32, from a cache filled ahead."""
        if not self._cache_start <= clock < self._cache_start + len(self._cache):
            n = self._CACHED_CLOCKS
            idx = self._indices(clock, n)
            cache = np.empty((n, 65), np.float32)
            cache[:, :64] = gaussian_table()[idx]
            at = tail_positions(idx)
            if at.size:
                rows, cols = np.divmod(at, 64)
                cache[rows, cols] = self._column_tails(idx, at, clock)
            cache[:, 64] = self._common(clock, n)
            self._cache_start, self._cache = clock, cache
        return self._cache[clock - self._cache_start]

    def add_one(self, u: np.ndarray, clock: int, kernel: MacKernel) -> None:
        """Add one clock's noise in code units to ``u`` (64,)."""
        z = self._unit(clock)
        u += z[:64] * kernel.noise_column
        u += z[64] * kernel.noise_common

    def draws(self, first_clock: int, n: int) -> NoiseDraws:
        """The raw draws of clocks first_clock .. first_clock + n - 1 (fetched in order, used by chunks)."""
        return NoiseDraws(first_clock, self._indices(first_clock, n), self._common(first_clock, n), self._tail_key)


@dataclass(frozen=True)
class NoiseDraws:
    """Column indices (n, 64) uint16 and common draws (n,) float32 of a run of clocks."""

    first_clock: int
    idx: np.ndarray
    common: np.ndarray
    tail_key: int

    def add_to(self, u: np.ndarray, row: int, kernel: MacKernel) -> None:
        """Add the noise in code units of rows row .. row + len(u) - 1 to ``u`` (m, 64); safe in threads."""
        m = u.shape[0]
        idx = self.idx[row:row + m]
        table = kernel.noise_table
        g = np.take(table, idx) if table is not None else np.take(_nan_table(), idx) * kernel.noise_column
        if np.isnan(g.sum()):                                    # an outer bin: exact tail draws
            at = np.flatnonzero(np.isnan(g))
            lanes = (self.first_clock + row) * 64 + at
            tails = tail_draws(self.tail_key, lanes, idx.flat[at] == 65535).astype(np.float32)
            g.flat[at] = tails * kernel.noise_column[at % 64]
        u += g
        u += self.common[row:row + m, None] * kernel.noise_common


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
