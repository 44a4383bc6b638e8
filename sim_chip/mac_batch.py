"""A batch of MAC reads: chunks of vectors on two worker threads, each in preallocated buffers.

Every chunk runs the same elementwise steps as a single read
(:meth:`MacKernel.read_one`): the exact resistances from one float32
product, the clocks' noisy trip levels, the delays, the jitter, the TDC's
clip.  So a vector's code has the same bits in any chunk or alone.
Besides the codes a chunk returns what booking its energy and its read
selections needs (toggled row inputs, counted LSBs, the noiseless delays
and the input sums), so that nothing walks the batch a second time.
Each worker thread keeps its buffers (inputs, resistances, delays, noise)
for good: no page is touched for the first time inside a batch.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS

from .kernel import WIDE, MacKernel, ReadNoise

Levels = list[tuple[int, int, np.ndarray]]   #: (first vector, stop vector, trip levels (64,) float32) of runs


@dataclass(frozen=True)
class BatchReads:
    """What a batch of reads produced and spent."""

    codes: np.ndarray       #: (n, 64) uint8 TDC codes
    units: np.ndarray       #: (64,) float64, delays (before the clock's jitter) summed over the vectors, code units
    counted: int            #: LSBs counted by all TDCs (the sum of the codes)
    toggles: int            #: row inputs that changed from one vector to the next (the first against ``previous``)
    input_sums: np.ndarray  #: (64,) int64, per row the sum of the +-1 inputs


class _Buffers:
    """One thread's working arrays for chunks of up to ``rows`` vectors."""

    def __init__(self, rows: int, columns: int) -> None:
        self.xa = np.ones((rows, ROWS + 1), np.float32)     # [x, 1]
        self.rr = np.empty((rows, columns), np.float32)
        self.u = np.empty((rows, COLUMNS), np.float32)
        self.thr = np.empty((rows, COLUMNS), np.float32)     # trip levels, then jitter


_local = threading.local()


def _buffers(rows: int, columns: int) -> _Buffers:
    found = getattr(_local, "buffers", None)
    if found is None or found.xa.shape[0] < rows or found.rr.shape[1] != columns:
        found = _local.buffers = _Buffers(rows, columns)
    return found


def _column_sums(a: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """Sums over the rows of a C-contiguous (m, k) array, accumulated in ``dtype``, float64 (k,)."""
    m, k = a.shape
    whole = m - m % WIDE
    total = np.add.reduce(a[:whole].reshape(-1, WIDE * k), axis=0, dtype=dtype).reshape(WIDE, k).sum(axis=0,
                                                                                                  dtype=float)
    return total + a[whole:].sum(axis=0, dtype=float) if whole < m else total


def _chunk(kernel: MacKernel, noise: ReadNoise | None, x: np.ndarray, codes: np.ndarray, start: int,
           stop: int, first_clock: int, previous: np.ndarray,
           levels: Levels) -> tuple[np.ndarray, int, int, np.ndarray]:
    """Read vectors start .. stop-1 of x into ``codes``: (units, counted LSBs, toggles, input sums)."""
    xs, out = x[start:stop], codes[start:stop]
    m = stop - start
    b = _buffers(m, kernel.matrix.shape[1])
    xa, rr, u, thr = b.xa[:m], b.rr[:m], b.u[:m], b.thr[:m]
    xa[:, :ROWS] = xs
    kernel.resistances_into(xa, rr)
    if noise is None:
        kernel.delays_into(rr, u, None)
        units = _column_sums(u)
    else:
        runs = [(max(a, start) - start, min(z, stop) - start, level)
                for a, z, level in levels if a < stop and z > start]
        jitter = noise.thresholds_into(thr, first_clock + start, kernel, runs)
        kernel.delays_into(rr, u, thr)
        units = _column_sums(u)
        noise.add_jitter(u, jitter, kernel, thr)
    kernel.clip(u)
    np.copyto(out, u, casting="unsafe")                 # the floor of a value >= 0
    counted = int(_column_sums(out, np.uint32).sum())
    before = x[start - 1] if start else previous
    toggles = np.count_nonzero(xs[0] != before) + np.count_nonzero(xs[1:] != xs[:-1])
    # as bytes +1 is 1 and -1 is 255: a row's byte sum s over m vectors holds (s - m) / 254 minus ones
    minus = (_column_sums(xs.view(np.uint8), np.uint32) - m) / 254
    return units, counted, int(toggles), m - 2 * minus


def chunks(n: int, largest: int) -> int:
    """Vectors per chunk of a batch of n: the batch in an even number of equal chunks of largest/2 .. largest
    vectors (a multiple of WIDE) for the two workers, or in one chunk below two of largest/2.

    Long chunks keep each worker's share of interpreter-held time small
    (the two run side by side only while numpy's loops or BLAS run).
    """
    if n < largest:
        return n
    pieces = 2 * -(-n // (2 * largest))
    return -(-n // (pieces * WIDE)) * WIDE


def read_batch(kernel: MacKernel, noise: ReadNoise | None, x: np.ndarray, first_clock: int,
               previous: np.ndarray, largest: int, levels: Levels) -> BatchReads:
    """Read the batch x (n, 64) int8 at clocks first_clock .. first_clock + n - 1.

    ``noise`` is None on a noiseless kernel; ``previous`` is the row
    drivers' state before the batch (64,) int8; ``largest`` the most vectors
    in one chunk (:func:`chunks`); ``levels`` the columns' trip levels with
    their slow shift, by runs of vectors (unused without noise).
    """
    n = x.shape[0]
    codes = np.empty((n, COLUMNS), np.uint8)
    size = chunks(n, largest)

    def run(start: int) -> tuple[np.ndarray, int, int, np.ndarray]:
        return _chunk(kernel, noise, x, codes, start, min(start + size, n), first_clock, previous, levels)

    parts = list(_pool().map(run, range(0, n, size))) if n > size else [run(0)]
    units = np.sum([p[0] for p in parts], axis=0)
    sums = np.sum([p[3] for p in parts], axis=0)
    return BatchReads(codes, units, int(sum(p[1] for p in parts)), sum(p[2] for p in parts),
                      np.rint(sums).astype(np.int64))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """Workers for the chunks of a long batch (numpy releases the GIL in its loops)."""
    return ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1), thread_name_prefix="mx64-mac")
