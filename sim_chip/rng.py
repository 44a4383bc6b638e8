"""Counter-based random streams keyed on die, operation and cell.

Nothing in the model uses a shared sequential generator.  Every random
number is a pure function of (die seed, stream name, counter), so the same
operations give the same bits whether they are issued one at a time or in a
batch, and any single draw can be recomputed on its own.

Two kinds of stream:

* :class:`DenseStream` - a PCG64 sequence addressed by position (PCG64
  jumps ahead in O(log n) steps, so any block is reachable directly), for
  operations that need many numbers per clock (MAC noise, write decisions,
  verify noise).  Sequential access continues a cached generator instead
  of rebuilding it, which keeps single-vector calls cheap.
* :func:`hash_uniform` - a stateless 64-bit mix of (key, counters), for
  sparse draws addressed by cell and position (thermal events on each
  MTJ's intensity axis, breakdown thresholds, the common read noise of a
  clock, exact normal tails).

Normal draws index a table of 65,536 equiprobable quantiles with 16 random
bits; the two outer bins are redrawn exactly (:func:`tail_draws`), so the
tails are Gaussian, not cut.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from statistics import NormalDist

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MASK, _M1_INT, _M2_INT, _GOLDEN_INT = 2**64 - 1, int(_M1), int(_M2), int(_GOLDEN)
_PERIOD = 2**128                 # of PCG64's state
_FEW = 16                        # draws below which hash_uniform works on Python ints
_thread = threading.local()      # each thread's own dense-stream generators


def derive_key(seed: int, name: str) -> int:
    """64-bit stream key from a die seed and a stream name."""
    digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array."""
    z ^= z >> np.uint64(30)
    z *= _M1
    z ^= z >> np.uint64(27)
    z *= _M2
    z ^= z >> np.uint64(31)
    return z


def hash_bits(key: int, *counters: np.ndarray | int) -> np.ndarray:
    """64 random bits (uint64), one per element of the broadcast counters (array arithmetic wraps silently)."""
    z = np.full(np.broadcast(*counters).shape, np.uint64(key), dtype=np.uint64)
    for c in counters:
        z += np.asarray(c, dtype=np.uint64) * _GOLDEN
        _mix(z)
    return z


def _mix_int(z: int) -> int:
    """:func:`_mix` of one 64-bit Python int: the same bits without an array's set-up."""
    z ^= z >> 30
    z = z * _M1_INT & _MASK
    z ^= z >> 27
    z = z * _M2_INT & _MASK
    return z ^ (z >> 31)


def hash_uniform(key: int, *counters: np.ndarray | int) -> np.ndarray | float:
    """Uniform numbers in (0, 1), one per element of the broadcast counters: the top 53 of :func:`hash_bits`.

    Integer counters give one float, computed on Python ints (a single draw
    costs a microsecond, not twenty).
    """
    if all(isinstance(c, (int, np.integer)) for c in counters):
        z = key
        for c in counters:
            z = _mix_int((z + int(c) * _GOLDEN_INT) & _MASK)
        return ((z >> 11) + 0.5) * 2.0**-53
    if len(counters) == 1 and np.size(counters[0]) <= _FEW:     # a few draws: Python ints beat array set-up
        c = np.asarray(counters[0])
        return np.array([hash_uniform(key, v) for v in c.ravel().tolist()]).reshape(c.shape)
    return ((hash_bits(key, *counters) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def exponential_thresholds(key: int, cell: np.ndarray, generation: np.ndarray) -> np.ndarray:
    """Exp(1) thresholds of cumulative hazard, one per (cell, generation)."""
    return -np.log(hash_uniform(key, cell, generation))


class DenseStream:
    """A PCG64 word sequence of one key; block ``b`` is the 4 uint64 words ``4b .. 4b+3``."""

    def __init__(self, key: int) -> None:
        self._key = key
        self._gen = np.random.PCG64(self._key)
        self._next_block = 0

    def words(self, first_block: int, n_blocks: int) -> np.ndarray:
        """``4 * n_blocks`` uint64 words starting at block ``first_block``."""
        if first_block >= self._next_block:
            if first_block > self._next_block:
                self._gen.advance(4 * (first_block - self._next_block))
        else:
            self._gen = np.random.PCG64(self._key)
            self._gen.advance(4 * first_block)
        self._next_block = first_block + n_blocks
        return self._gen.random_raw(4 * n_blocks)

    def words_at(self, first_block: int, n_blocks: int) -> np.ndarray:
        """The same words as :meth:`words`, from the calling thread's own generator (safe in threads).

        Each thread keeps one generator per key and moves it by jumps: PCG64's
        state is a 128-bit LCG of period 2^128, so a jump of (target - here)
        mod 2^128 lands on the target from anywhere.
        """
        generators = _thread.__dict__.setdefault("generators", {})
        found = generators.get(self._key)
        if found is None:
            found = generators[self._key] = [np.random.PCG64(self._key), 0]
        gen, here = found
        gen.advance((4 * first_block - here) % _PERIOD)
        found[1] = 4 * (first_block + n_blocks)
        return gen.random_raw(4 * n_blocks)

    def uniforms(self, first_block: int, n_blocks: int) -> np.ndarray:
        """Uniform float64 numbers in (0, 1), four per block."""
        w = self.words(first_block, n_blocks)
        return ((w >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


@functools.cache
def gaussian_table() -> np.ndarray:
    """65,536 equiprobable standard-normal quantiles (float32), bin midpoints.

    Indexing it with a uniform 16-bit integer is an inverse-CDF draw of a
    normal distribution quantised to 2^-16 in probability.  The two outer
    bins (|z| > 4.17) stand for the tails; :func:`fix_tails` replaces them
    with exact tail draws, so the tails are not cut.
    """
    inv = NormalDist().inv_cdf
    return np.array([inv((k + 0.5) / 65536.0) for k in range(65536)], dtype=np.float32)


def tail_positions(idx: np.ndarray) -> np.ndarray:
    """Flat positions of 16-bit indices that fell in an outer bin (0 or 65535)."""
    return np.flatnonzero((idx - np.uint16(1)) >= np.uint16(65534))


def tail_draws(key: int, lanes: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Exact standard-normal draws for outer-bin hits (float64).

    Bin 0 holds the probability (0, 2^-16): its draw is inv_cdf(u 2^-16)
    with u a fresh uniform keyed on the draw's global ``lanes`` number; bin
    65535 (``upper``) is its mirror image.
    """
    inv = NormalDist().inv_cdf
    tail = np.array([inv(float(v) * 2.0**-16) for v in hash_uniform(key, lanes)])
    return np.where(upper, -tail, tail)


def gaussian16(words: np.ndarray, key: int, first_lane: int) -> np.ndarray:
    """Four standard-normal draws per uint64 word, tails exact (float64 array).

    ``first_lane`` is the global number of the first draw (4 per word), so
    that the same draw is the same number however the words were fetched.
    """
    idx = words.view("<u2")
    z = gaussian_table()[idx].astype(np.float64)
    at = tail_positions(idx)
    if at.size:
        z[at] = tail_draws(key, first_lane + at, idx[at] == 65535)
    return z
