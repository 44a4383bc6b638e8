"""Thermally activated flips (retention and read disturb) of the array's MTJs.

Each MTJ carries an exponentially distributed threshold E (keyed on cell and
generation) and a cumulative hazard H.  It flips when H reaches E; then it
gets generation + 1, a fresh threshold and H = 0.  This is an exact
simulation of a Poisson process with a time-varying rate, and its outcome
does not depend on how operations are grouped: a batch of MAC vectors and
the same vectors one at a time flip the same MTJ at the same clock.

The hazard rate of MTJ i is piecewise constant in a *segment* (between
changes of state, temperature, bias or clock):

    H_i(c) = H0_i + r_idle_i * (c - c0)/f + r_mac_i * S_mac_i / f + r_ver_i * S_ver_i / f

with ``S_*`` the counts of clocks in which the MTJ was selected by a MAC
vector or a verify read (``r_mac``, ``r_ver`` are the *extra* rates under
bias).  A MAC vector selects the same branch in every column of a row and a
verify read both branches of a row, so the counts are kept per row: the
number of MAC vectors and the sum of their inputs (from which the left and
right selections follow), and the number of verify reads.  A per-segment horizon, computed with every MTJ stressed on every
clock, tells in O(1) whether any flip can happen before a given clock.
"""

from __future__ import annotations

import numpy as np

from .die import SHAPE
from .rng import exponential_thresholds, hash_uniform

#: Beyond this many expected flips in one idle advance, an MTJ's final state
#: is drawn as a fair coin: its state no longer remembers the start.
MANY_FLIPS = 50.0


class FlipRates:
    """Hazard rates of one segment, 1/s, each of shape (64, 64, 2)."""

    def __init__(self, idle: np.ndarray, mac: np.ndarray, verify: np.ndarray, clock_hz: float):
        self.idle, self.mac, self.verify, self.clock_hz = idle, mac, verify, clock_hz

    @classmethod
    def zero(cls, clock_hz: float) -> "FlipRates":
        z = np.zeros(SHAPE)
        return cls(z, z, z, clock_hz)


class ThermalFlips:
    """Flip bookkeeping for the (64, 64, 2) MTJs of one die."""

    def __init__(self, key: int, rates: FlipRates, stochastic: bool) -> None:
        self._key = key
        self._stochastic = stochastic
        self._cells = np.arange(np.prod(SHAPE), dtype=np.int64).reshape(SHAPE)
        self.generation = np.zeros(SHAPE, np.int64)
        self.threshold = self._draw(self._cells, self.generation)
        self.h0 = np.zeros(SHAPE)
        self.mac_vectors = 0
        self.mac_input_sum = np.zeros(SHAPE[0], np.int64)
        self.sel_verify = np.zeros((SHAPE[0], 1, 1), np.int64)
        self.clock0 = 0
        self.rates = rates
        self.horizon = np.inf
        self._update_horizon()

    def _draw(self, cells: np.ndarray, generation: np.ndarray) -> np.ndarray:
        if not self._stochastic:
            return np.ones(cells.shape)
        return exponential_thresholds(self._key, cells, generation)

    # -- hazard ---------------------------------------------------------------
    def hazard_at(self, clock: int) -> np.ndarray:
        """Cumulative hazard of every MTJ at ``clock`` with the counts so far."""
        return self.h0 + self._running(clock)

    @property
    def sel_mac(self) -> np.ndarray:
        """MAC selections per row and side in the running segment, (64, 1, 2)."""
        left = (self.mac_vectors + self.mac_input_sum) // 2
        return np.stack([left, self.mac_vectors - left], axis=-1)[:, None, :]

    def _running(self, clock: int) -> np.ndarray:
        """Hazard accumulated in the running segment up to ``clock``."""
        r = self.rates
        return (r.idle * (clock - self.clock0) + r.mac * self.sel_mac
                + r.verify * self.sel_verify) / r.clock_hz

    def _update_horizon(self) -> None:
        r = self.rates
        total = r.idle + np.maximum(r.mac, r.verify)  # a clock is a MAC or a verify, not both
        with np.errstate(divide="ignore", invalid="ignore"):
            clocks = np.where(total > 0, (self.threshold - self.h0) / total * r.clock_hz, np.inf)
        self.per_cell_horizon = self.clock0 + clocks
        self.horizon = float(self.per_cell_horizon.min())

    def begin_segment(self, clock: int, rates: FlipRates) -> None:
        """Fold the running segment into H0 at ``clock`` and continue with new rates."""
        self.h0 = self.hazard_at(clock)
        self.mac_vectors = 0
        self.mac_input_sum[:] = 0
        self.sel_verify[:] = 0
        self.clock0 = clock
        self.rates = rates
        self._update_horizon()

    def renew(self, mask: np.ndarray, clock: int) -> None:
        """MTJs in ``mask`` changed state at ``clock``: next generation, fresh threshold, H = 0.

        Call :meth:`begin_segment` afterwards (their rates changed).
        """
        self.generation[mask] += 1
        self.threshold[mask] = self._draw(self._cells[mask], self.generation[mask])
        self.h0[mask] = -self._running(clock)[mask]

    def due(self, clock: int) -> np.ndarray | None:
        """Mask of MTJs whose hazard has reached the threshold by ``clock``, or None."""
        if clock <= self.horizon:
            return None
        mask = self.hazard_at(clock) >= self.threshold
        if not mask.any():
            self.begin_segment(clock, self.rates)  # nothing due: tighten the bounds
            return None
        return mask

    # -- MAC batches ----------------------------------------------------------
    def first_flip_in_batch(self, x: np.ndarray, clock: int) -> tuple[int, np.ndarray] | None:
        """Earliest vector of a MAC batch after which some MTJ flips.

        ``x`` is the (n, 64) int8 batch whose first vector runs at ``clock``.
        Returns (k, mask): the MTJs in ``mask`` flip at the end of vector k
        (vectors 0..k see the old state), or None if nothing flips.
        """
        n = x.shape[0]
        if self.horizon < clock:  # bounds are stale: fold and tighten them first
            self.begin_segment(clock, self.rates)
        rows, cols, sides = np.nonzero(self.per_cell_horizon < clock + n)
        if rows.size == 0:
            return None
        r, f = self.rates, self.rates.clock_hz
        at = (rows, cols, sides)
        sign = np.where(sides == 0, 1, -1).astype(np.int8)
        selected = np.cumsum(x[:, rows] == sign, axis=0)                 # (n, m)
        steps = clock + np.arange(1, n + 1)[:, None] - self.clock0
        hazard = self.h0[at] + (r.idle[at] * steps
                                + r.mac[at] * (self.sel_mac[rows, 0, sides] + selected)
                                + r.verify[at] * self.sel_verify[rows, 0, 0]) / f
        crossed = hazard >= self.threshold[at]
        hit = crossed.any(axis=0)
        if not hit.any():
            return None
        first = np.where(hit, crossed.argmax(axis=0), n)
        k = int(first.min())
        mask = np.zeros(SHAPE, bool)
        chosen = first == k
        mask[rows[chosen], cols[chosen], sides[chosen]] = True
        return k, mask

    def count_mac(self, vectors: int, input_sums: np.ndarray) -> None:
        """Add a MAC batch's branch selections: its size and per-row input sums (64,)."""
        self.mac_vectors += vectors
        self.mac_input_sum += input_sums

    # -- idle time ------------------------------------------------------------
    def idle_flips(self, seconds: float, advance_index: int) -> np.ndarray:
        """Run ``seconds`` of unbiased time (call after :meth:`begin_segment`).

        Returns, per MTJ, the number of flips (odd means the state toggled).
        Thresholds and hazards are left consistent for the time after.
        """
        rate = self.rates.idle
        flips = np.zeros(SHAPE, np.int64)
        if seconds <= 0 or not rate.any():
            return flips
        with np.errstate(divide="ignore", invalid="ignore"):
            many = rate * seconds > MANY_FLIPS
        if many.any():
            coin = self._coin(advance_index)
            flips[many] = coin[many]
            self.renew(many, self.clock0)
        remaining = np.where(many, 0.0, seconds)
        while True:
            with np.errstate(divide="ignore", invalid="ignore"):
                to_flip = np.where(rate > 0, (self.threshold - self.h0) / rate, np.inf)
            hit = to_flip <= remaining
            if not hit.any():
                break
            flips[hit] += 1
            remaining = np.where(hit, remaining - to_flip, remaining)
            self.renew(hit, self.clock0)
        self.h0 += rate * remaining
        self._update_horizon()
        return flips

    def _coin(self, advance_index: int) -> np.ndarray:
        u = hash_uniform(self._key ^ 0x5A5A, self._cells, advance_index)
        return (u < 0.5).astype(np.int64)
