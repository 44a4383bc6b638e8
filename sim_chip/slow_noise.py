"""Slow readout noise: 1/f and random telegraph noise, as per-column threshold shifts that move with time.

Both are referred to the comparator's input (volts), like the offsets, so
they reach the delay exactly through the sense node's slope at the trip
point (:mod:`sim_chip.readout`).  They are held for a block of model time
(:data:`BLOCK_NS`, 1 ms) and evaluated at the block's start: what moves
faster than a block is white at the MAC rate and belongs to the per-read
noise (the 1/f power above 500 Hz is a few per cent of it and left out).

* 1/f (flicker) noise of spectral density S(f) = K/f, by the Voss-McCartney
  construction: generator k (k = 0 .. OCTAVES-1) holds a normal value of
  variance K ln 2 (the power of one octave of K/f) for 2^k blocks, so the
  sum has about K/f from 1/(2 x 1 ms) down to 1/(2^OCTAVES ms) (17 years).
  K is the comparator's input pair's plus the column's MTJs' 1/f noise
  referred to the threshold (:class:`sim_chip.readout.NoiseBudget`).
* Random telegraph noise: a few traps per column, each a two-state Markov
  process (capture time tau_c, emission time tau_e; filled a fraction
  tau_e/(tau_c + tau_e) of the time) that shifts the threshold by its step
  while filled (zero mean: the filled fraction is subtracted).  The chain
  is uniformised as the thermal flips are (:mod:`sim_chip.flips`): events
  at rate 1/tau_c + 1/tau_e on the trap's own :class:`EventGrid`, each
  leaving the trap filled with probability tau_e/(tau_c + tau_e); its state
  at a time is its last event's outcome, or its initial draw.

Every value is a pure function of (die seed, column, block): reads see the
same slow noise however they are grouped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS

from .events import EventGrid
from .rng import gaussian_table, hash_bits, hash_uniform, tail_draws, tail_positions

BLOCK_NS = 1_000_000     #: model time a slow value holds, ns (1 ms)
OCTAVES = 40             #: Voss generators: 1 ms .. 2^40 ms
TRAP_SLOTS = 12          #: traps a column can hold (comparator and MTJ traps together)
_TRAPS_TAU_RANGE = (1e-3, 1e5)   # s: trap time constants, log-uniform (slower is drift, faster is white)


@dataclass(frozen=True)
class Traps:
    """The random-telegraph traps of a die's 64 columns, (64, TRAP_SLOTS) each; an empty slot has zero steps."""

    step_volts: np.ndarray     #: threshold step of a comparator trap, V
    step_relative: np.ndarray  #: relative step of the column's resistance of an MTJ trap, dR_col / R_col
    tau_capture: np.ndarray    #: mean time empty, s
    tau_emission: np.ndarray   #: mean time filled, s

    @classmethod
    def none(cls) -> Traps:
        zero = np.zeros((COLUMNS, TRAP_SLOTS))
        return cls(zero, zero, np.ones_like(zero), np.ones_like(zero))

    @classmethod
    def draw(cls, rng: np.random.Generator, comparator_mean: float, comparator_step: float, mtj_mean: float,
             mtj_step: float) -> Traps:
        """Poisson counts per column (comparator: ``comparator_mean``; MTJ: ``mtj_mean``), exponential steps
        of mean ``comparator_step`` (V) and ``mtj_step`` (relative column resistance), log-uniform times."""
        shape = (COLUMNS, TRAP_SLOTS)
        n_cmp = rng.poisson(comparator_mean, COLUMNS)
        n_mtj = rng.poisson(mtj_mean, COLUMNS)
        slot = np.arange(TRAP_SLOTS)[None, :]
        is_cmp = slot < np.minimum(n_cmp, TRAP_SLOTS)[:, None]
        is_mtj = ~is_cmp & (slot < np.minimum(n_cmp + n_mtj, TRAP_SLOTS)[:, None])
        steps = rng.exponential(1.0, shape)
        lo, hi = np.log(_TRAPS_TAU_RANGE[0]), np.log(_TRAPS_TAU_RANGE[1])
        tau_c, tau_e = np.exp(rng.uniform(lo, hi, shape)), np.exp(rng.uniform(lo, hi, shape))
        return cls(np.where(is_cmp, comparator_step * steps, 0.0), np.where(is_mtj, mtj_step * steps, 0.0),
                   tau_c, tau_e)


class SlowNoise:
    """The slow threshold shift of each column (V) at any block of model time, for one die."""

    _CACHED = 8   # blocks kept

    def __init__(self, key: int, traps: Traps) -> None:
        self._key = key
        self._traps = traps
        self._grid = EventGrid(key ^ 0x7274)
        self._cells = np.arange(COLUMNS * TRAP_SLOTS, dtype=np.int64)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        col = np.arange(COLUMNS, dtype=np.uint64)[:, None]
        self._gen = (col, np.arange(OCTAVES, dtype=np.uint64)[None, :])

    def _voss(self, block: int) -> np.ndarray:
        """Sum of the OCTAVES unit-variance generators' values at ``block``, (64,)."""
        col, k = self._gen
        held = np.uint64(block) >> k                                    # generator k changes every 2^k blocks
        bits = hash_bits(self._key, col, k, held)
        idx = (bits >> np.uint64(48)).astype(np.uint16)
        z = gaussian_table()[idx].astype(np.float64)
        at = tail_positions(idx)
        if at.size:
            z.flat[at] = tail_draws(self._key ^ 0x6C, bits.flat[at], idx.flat[at] == 65535)
        return z.sum(axis=1)

    def _telegraph(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """(filled - filled fraction) of every trap at the block's start, (64, TRAP_SLOTS): (comparator, MTJ)
        weights of the steps."""
        t = self._traps
        seconds = block * BLOCK_NS * 1e-9
        rate = (1.0 / t.tau_capture + 1.0 / t.tau_emission).ravel()
        p_filled = (t.tau_emission / (t.tau_capture + t.tau_emission)).ravel()
        found, _, interval, index = self._grid.last_in(self._cells, np.zeros(rate.size), rate * seconds)
        initial = hash_uniform(self._key ^ 0x1A, self._cells) < p_filled
        filled = np.where(found, self._grid.mark(self._cells, interval, index) < p_filled, initial)
        return (filled - p_filled).reshape(COLUMNS, TRAP_SLOTS), p_filled

    def parts(self, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(unit 1/f sum, comparator telegraph shift in V, MTJ telegraph shift in relative resistance), (64,)
        each, at ``block``."""
        found = self._cache.get(block)
        if found is None:
            if len(self._cache) >= self._CACHED:
                self._cache.clear()
            state, _ = self._telegraph(block)
            t = self._traps
            found = self._cache[block] = (self._voss(block), (state * t.step_volts).sum(axis=1),
                                          (state * t.step_relative).sum(axis=1))
        return found

    def threshold_shift(self, block: int, flicker_sigma: float, mtj_volts_per_relative: float) -> np.ndarray:
        """Threshold shift (64,) in V at ``block``: the 1/f sum times its per-octave sigma (V), the comparator
        traps' steps, and the MTJ traps' relative resistance steps times the threshold-equivalent V per unit."""
        voss, comparator, mtj = self.parts(block)
        return flicker_sigma * voss + comparator + mtj_volts_per_relative * mtj
