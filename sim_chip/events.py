"""Unit-rate Poisson events on each MTJ's own intensity axis, keyed on where they fall.

A Poisson process of time-varying rate r(t) is a unit-rate process on the
cumulative intensity Lambda(t) = integral of r.  Here the unit-rate process
of cell c is fixed once for all: the axis is cut into unit intervals
[n, n+1), and the events of interval n sit at n + E1, n + E1 + E2, ...
(below n + 1) with E_k = -ln U(c, n, k), U a counter-based uniform.
Because every interval restarts its gaps at n (memorylessness), the union
is exactly a unit-rate Poisson process.  Each event also carries a
uniform *mark* U'(c, n, k) that decides its outcome.

Nothing depends on call counts: the events that fall in (Lambda_a,
Lambda_b] are the same however the interval is split, and both the next
event after a point and the last event before one cost O(1) expected
draws, however many events the span holds.
"""

from __future__ import annotations

import numpy as np

from .rng import hash_uniform

_MARK = 0x6D61726B


class EventGrid:
    """The unit-rate event process of a set of cells under one stream key."""

    def __init__(self, key: int) -> None:
        self._key = key

    def _gap(self, cells: np.ndarray, interval: np.ndarray, index: np.ndarray) -> np.ndarray:
        return -np.log(hash_uniform(self._key, cells, interval, index))

    def mark(self, cells: np.ndarray, interval: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Uniform (0, 1) mark of each event (cell, interval, index)."""
        return hash_uniform(self._key ^ _MARK, cells, interval, index)

    def next_after(self, cells: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position, interval, index) of each cell's first event strictly after ``position``."""
        position = np.asarray(position, dtype=float)
        interval = np.floor(position).astype(np.int64)
        index = np.zeros_like(interval)
        pos = interval.astype(float)
        out_pos = np.empty_like(pos)
        out_int, out_idx = np.empty_like(interval), np.empty_like(interval)
        todo = np.arange(pos.size)
        while todo.size:
            e = pos[todo] + self._gap(cells[todo], interval[todo], index[todo])
            spill = e >= interval[todo] + 1
            found = ~spill & (e > position[todo])
            hit = todo[found]
            out_pos[hit], out_int[hit], out_idx[hit] = e[found], interval[hit], index[hit]
            moved = todo[spill]
            interval[moved] += 1
            pos[moved] = interval[moved]
            index[moved] = 0
            walk = todo[~spill & ~found]
            pos[walk] = e[~spill & ~found]
            index[walk] += 1
            todo = todo[~found]
        return out_pos, out_int, out_idx

    def last_in(self, cells: np.ndarray, low: np.ndarray,
                high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(found, position, interval, index) of each cell's last event in (low, high]."""
        low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        n = high.size
        found = np.zeros(n, bool)
        out_pos = np.full(n, -np.inf)
        out_int, out_idx = np.zeros(n, np.int64), np.zeros(n, np.int64)
        interval = np.floor(high).astype(np.int64)
        floor_low = np.floor(low).astype(np.int64)
        todo = np.flatnonzero(high > low)
        while todo.size:
            # walk interval `interval` of every cell in todo, keeping its last event <= high
            cur = interval[todo].astype(float)
            idx = np.zeros(todo.size, np.int64)
            best_pos = np.full(todo.size, -np.inf)
            best_idx = np.full(todo.size, -1, np.int64)
            live = np.arange(todo.size)
            while live.size:
                e = cur[live] + self._gap(cells[todo[live]], interval[todo[live]], idx[live])
                inside = (e < interval[todo[live]] + 1) & (e <= high[todo[live]])
                keep = live[inside]
                best_pos[keep], best_idx[keep] = e[inside], idx[keep]
                cur[keep] = e[inside]
                idx[keep] += 1
                live = keep
            has = best_idx >= 0
            cells_done = todo[has]
            ok = best_pos[has] > low[cells_done]
            found[cells_done[ok]] = True
            out_pos[cells_done[ok]] = best_pos[has][ok]
            out_int[cells_done[ok]] = interval[cells_done[ok]]
            out_idx[cells_done[ok]] = best_idx[has][ok]
            # empty intervals: step back while still above low's interval
            back = todo[~has]
            back = back[interval[back] > floor_low[back]]
            interval[back] -= 1
            todo = back
        return found, out_pos, out_int, out_idx
