"""The array's MAC error model: the distribution of (decoded - ideal) column MAC given the ideal MAC.

For every ideal full-column MAC s in -64..64 (row s + 64 of the table) the
model holds a discrete distribution over integer errors e = decoded - ideal
(MAC units), pooled over columns (C = 1) or per array column (C = 64).  A
64-row column's MAC always has the parity of 64, so a model measured on the
array observes only even s (and, the decoded value being a MAC level, even
errors); rows never observed are filled from the nearest observed ideal
value of the same parity (on a tie, the one nearer zero), or of either
parity if a column has none of that parity, and keep a count of 0.

Sampling is exact (Walker's alias method, one 32-bit uniform per draw: its
high part picks the bucket, its low part decides against the bucket's
acceptance) and draws
only from the generator it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchspec.mx64 import COLUMNS

LEVELS = 129              # ideal column MACs -64..64
SAMPLE_BLOCK = 16_384     # draws handled at once (their temporaries stay in a core's cache)
#: the names of a model's arrays (``ErrorModel.arrays()``): in the run store, in a model's .npz
ERROR_ARRAYS = ("error_values", "error_probabilities", "error_counts")


def _alias_tables(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alias-method tables (acceptance, alias index) for every row of (rows, K) probabilities.

    All rows are built at once: K - 1 times, every row pairs its smallest
    unfinished scaled probability (<= 1) with its largest (>= 1); the small
    bucket is finished, topped up by the large one's alias.
    """
    rows, k = probabilities.shape
    scaled = probabilities * k
    acceptance = np.ones((rows, k))
    alias = np.tile(np.arange(k), (rows, 1))
    open_ = np.ones((rows, k), bool)
    everyone = np.arange(rows)
    for _ in range(k - 1):
        small = np.where(open_, scaled, np.inf).argmin(axis=1)
        open_[everyone, small] = False
        large = np.where(open_, scaled, -np.inf).argmax(axis=1)
        acceptance[everyone, small] = scaled[everyone, small]
        alias[everyone, small] = large
        scaled[everyone, large] -= 1.0 - scaled[everyone, small]
    return np.clip(acceptance, 0.0, 1.0), alias


@dataclass(frozen=True, eq=False)
class ErrorModel:
    """Error values (K,) int32 ascending; probabilities (C, 129, K); observation counts (C, 129)."""

    errors: np.ndarray
    probabilities: np.ndarray
    counts: np.ndarray
    _acceptance: np.ndarray = field(init=False, repr=False)   # alias-method tables, flat (C * 129 * K,): the
    _alias: np.ndarray = field(init=False, repr=False)        # bucket's acceptance as a 32-bit threshold, and
                                                              # the alias's error

    def __post_init__(self) -> None:
        errors, p, counts = self.errors, self.probabilities, self.counts
        if errors.ndim != 1 or errors.size == 0 or errors.dtype.kind not in "iu" or (np.diff(errors) <= 0).any():
            raise ValueError(f"errors: expected distinct ascending integers, found {errors!r}")
        if p.ndim != 3 or p.shape[0] not in (1, COLUMNS) or p.shape[1:] != (LEVELS, errors.size):
            raise ValueError(f"probabilities: shape {p.shape}, expected (1 or {COLUMNS}, {LEVELS}, {errors.size})")
        if not np.isfinite(p).all() or (p < 0).any() or not np.allclose(p.sum(axis=2), 1.0, atol=1e-9):
            raise ValueError("probabilities: every row must be non-negative and sum to 1")
        if counts.shape != p.shape[:2] or counts.dtype.kind not in "iu" or (counts < 0).any():
            raise ValueError(f"counts: shape {counts.shape}, expected {p.shape[:2]} of non-negative integers")
        acceptance, alias = _alias_tables(p.reshape(-1, errors.size))
        threshold = np.minimum(np.rint(acceptance * 2.0**32), 2.0**32).astype(np.uint64)   # 2**32: always kept
        object.__setattr__(self, "_acceptance", threshold.ravel())
        object.__setattr__(self, "_alias", errors[alias].astype(np.int32).ravel())

    @property
    def per_column(self) -> bool:
        return self.probabilities.shape[0] == COLUMNS

    def sample(self, ideal: np.ndarray, columns: np.ndarray | int, rng: np.random.Generator) -> np.ndarray:
        """Errors (MAC units, int32, the shape of ``ideal``) drawn given ideal column MACs -64..64.

        ``columns`` (broadcast against ``ideal``) are the array columns 0..63
        the MACs come from; a pooled model ignores them.
        """
        ideal = np.asarray(ideal)
        if ideal.size and (ideal.min() < -64 or ideal.max() > 64):
            raise ValueError(f"ideal column MACs outside -64..64: {ideal.min()}..{ideal.max()}")
        k = self.errors.size
        flat = ideal.reshape(-1)
        first: np.ndarray | int = 64 * k                          # first cell of ideal MAC 0's row (per column)
        if self.per_column:
            first = np.broadcast_to((np.asarray(columns, np.int64) * LEVELS + 64) * k, ideal.shape).reshape(-1)
        errors = self.errors.astype(np.int32)
        out = np.empty(ideal.size, np.int32)
        for start in range(0, ideal.size, SAMPLE_BLOCK):          # blocks that stay in the cache; the uniforms
            part = slice(start, start + SAMPLE_BLOCK)             # come in the order one call would give them
            scaled = rng.integers(0, 2**32, len(out[part]), dtype=np.uint32).astype(np.uint64) * np.uint64(k)
            bucket = (scaled >> np.uint64(32)).view(np.int64)     # uniform in 0..k-1
            cell = flat[part].astype(np.int64) * k
            cell += first if isinstance(first, int) else first[part]
            cell += bucket
            kept = (scaled & np.uint64(0xFFFFFFFF)) < np.take(self._acceptance, cell)   # the rest of the uniform
            np.copyto(out[part], np.where(kept, np.take(errors, bucket), np.take(self._alias, cell)))
        return out.reshape(ideal.shape)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the error (MAC units) per column and ideal MAC, each (C, 129)."""
        mean = self.probabilities @ self.errors
        var = self.probabilities @ (self.errors.astype(np.float64) ** 2) - mean ** 2
        return mean, np.sqrt(np.maximum(var, 0.0))

    @classmethod
    def from_pairs(cls, ideal: np.ndarray, decoded: np.ndarray, per_column: bool = False) -> ErrorModel:
        """The model of measured (ideal, decoded) column MACs of the same shape.

        Per column, the arrays are (n, 64) with the array column last;
        pooled, any shape.  Decoded values that are not integers (a
        calibration table's mean) are rounded to the nearest integer error.
        """
        ideal, decoded = np.asarray(ideal), np.asarray(decoded)
        if ideal.shape != decoded.shape or ideal.size == 0:
            raise ValueError(f"ideal {ideal.shape} and decoded {decoded.shape}: expected equal, non-empty shapes")
        if per_column and (ideal.ndim != 2 or ideal.shape[1] != COLUMNS):
            raise ValueError(f"per-column pairs: expected shape (n, {COLUMNS}), found {ideal.shape}")
        if not np.isfinite(decoded).all():
            raise ValueError("decoded: holds NaN or infinite values (undecoded reads)")
        if (ideal != np.rint(ideal)).any() or ideal.min() < -64 or ideal.max() > 64:
            raise ValueError("ideal: expected integer column MACs in -64..64")
        level = ideal.astype(np.int64) + 64
        error = np.rint(decoded - ideal).astype(np.int64)
        low = error.min()
        present = np.bincount((error - low).ravel()) > 0          # the distinct errors, without sorting
        values = np.flatnonzero(present) + low
        which = (np.cumsum(present) - 1)[error - low]
        column = np.broadcast_to(np.arange(COLUMNS), ideal.shape) if per_column else np.zeros(ideal.shape, int)
        tables = COLUMNS if per_column else 1
        flat = (column.ravel() * LEVELS + level.ravel()) * values.size + which.ravel()
        joint = np.bincount(flat, minlength=tables * LEVELS * values.size).reshape(tables, LEVELS, values.size)
        counts = joint.sum(axis=2)
        for c in range(tables):
            _fill_unobserved(joint[c], counts[c], c)
        return cls(values.astype(np.int32), joint / joint.sum(axis=2, keepdims=True), counts)

    def arrays(self) -> dict[str, np.ndarray]:
        """Named arrays for storage (ERROR_ARRAYS: errors, probabilities, counts)."""
        return dict(zip(ERROR_ARRAYS, (self.errors, self.probabilities, self.counts)))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> ErrorModel:
        """The model stored by ``arrays()`` (validated; ValueError otherwise)."""
        missing = [name for name in ERROR_ARRAYS if name not in arrays]
        if missing:
            raise ValueError(f"error model: missing arrays {missing}")
        errors, probabilities, counts = (np.asarray(arrays[name]) for name in ERROR_ARRAYS)
        return cls(errors, np.asarray(probabilities, np.float64), counts)


def _fill_unobserved(joint: np.ndarray, counts: np.ndarray, column: int) -> None:
    """Copy into every unobserved row of ``joint`` (129, K) the nearest observed row (see module doc)."""
    observed = np.flatnonzero(counts)
    if observed.size == 0:
        raise ValueError(f"column {column}: no observations")
    levels = np.arange(LEVELS) - 64
    for row in np.flatnonzero(counts == 0):
        same = observed[(observed - row) % 2 == 0]
        pool = same if same.size else observed
        # nearest, and on a tie the one nearer zero MAC
        best = pool[np.lexsort((np.abs(levels[pool]), np.abs(pool - row)))[0]]
        joint[row] = joint[best]


def gaussian_model(sigma: float, seed: int = 0, draws: int = 500_000) -> ErrorModel:
    """A synthetic model: even errors, 2 * round(N(0, sigma) / 2) MAC units, the same at every ideal MAC
    (``draws`` seeded draws over the even ideal MACs)."""
    rng = np.random.default_rng(seed)
    ideal = rng.choice(np.arange(-64, 65, 2), draws)
    return ErrorModel.from_pairs(ideal, ideal + 2 * np.rint(rng.normal(0.0, sigma, draws) / 2))
