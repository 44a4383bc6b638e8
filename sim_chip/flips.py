"""Thermally activated flips (retention and read disturb) of the array's MTJs.

Two Poisson channels per MTJ, each a unit-rate :class:`EventGrid` on its
own cumulative intensity, so that every draw is keyed on the cell and on
where its intensity stands (a function of absolute time), never on how
operations or idle time were grouped:

* idle (retention, all the time): out of P at rate a, out of AP at rate b
  (:func:`physics.state_barriers`, :func:`switching.thermal_rate`).  The
  two-state chain is uniformised: events at rate lambda = a + b whatever the
  state, each setting the MTJ to AP if its mark is below a/lambda, to P
  otherwise.  That is exactly the chain (from P it moves at rate a, from AP
  at rate b) and its intensity, lambda times time, does not depend on the
  state, so neither do the events.  Many events in a span cost no more
  than one: only the last one decides the state.
* disturb (read bias): each clock in which a MAC vector or a verify read
  selects the MTJ adds the hazard h of that read pulse
  (:func:`switching.pulse_hazard`, evaluated in the state the read current
  pushes out of); an event sets the MTJ to the pushed-to state (no change
  if it is there already).

Rates are piecewise constant in a *segment* (between changes of
temperature, bias, clock or breakdowns):

    Lambda_idle(c) = L0 + lambda (c - c0) / f,
    Lambda_disturb = D0 + h_mac S_mac + h_ver S_ver,

with S_* the clocks in which the MTJ was selected, kept per row (a MAC
vector selects the same branch in every column of a row, a verify read both
branches of a row).  Within one clock only the latest event counts.  A
per-cell horizon tells in O(1) whether any event can fall before a clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .die import SHAPE
from .events import EventGrid

_WINDOW = 4096   # MAC vectors scanned at once for disturb events
ROWS, COLUMNS = SHAPE[0], SHAPE[1]


@dataclass(frozen=True)
class FlipRates:
    """Rates of one segment; arrays of shape (64, 64, 2)."""

    idle: np.ndarray     #: lambda = a + b, 1/s
    p_ap: np.ndarray     #: a / lambda: chance that an idle event leaves the MTJ in AP
    mac: np.ndarray      #: disturb hazard per MAC clock that selects the MTJ
    verify: np.ndarray   #: disturb hazard per verify clock
    clock_hz: float
    disturb_to_ap: bool  #: a disturb event sets AP (read current P->AP) or P

    @classmethod
    def zero(cls, clock_hz: float) -> FlipRates:
        z = np.zeros(SHAPE)
        return cls(z, z, z, z, clock_hz, True)


@dataclass(frozen=True)
class Events:
    """State changes found in a run of clocks: at the end of clock ``k`` (run-relative), cell -> state."""

    k: np.ndarray      #: (m,) int64, sorted
    cell: np.ndarray   #: (m,) flat cell index into (64, 64, 2)
    is_ap: np.ndarray  #: (m,) bool, the state after the event


class ThermalFlips:
    """Event bookkeeping for the (64, 64, 2) MTJs of one die."""

    def __init__(self, idle_key: int, disturb_key: int, rates: FlipRates) -> None:
        n = int(np.prod(SHAPE))
        self._cells = np.arange(n, dtype=np.int64)
        self._idle_grid, self._dist_grid = EventGrid(idle_key), EventGrid(disturb_key)
        zero = np.zeros(n)
        self.lam_idle, self.seen_idle = zero.copy(), zero.copy()
        self.lam_dist = zero.copy()
        self.next_idle = self._idle_grid.next_after(self._cells, zero)
        self.next_dist = self._dist_grid.next_after(self._cells, zero)
        self.mac_vectors = 0
        self.mac_input_sum = np.zeros(ROWS, np.int64)
        self.sel_verify = np.zeros(ROWS, np.int64)
        self.clock0 = 0
        self._rows = self._cells // (2 * COLUMNS)
        self._pattern = 2 * self._rows + self._cells % 2          # (row, side) of each cell
        self.rates = rates
        self._flat_rates()
        self._update_horizon(0)

    # -- intensities ------------------------------------------------------------
    def _flat_rates(self) -> None:
        r = self.rates
        self._idle_rate = r.idle.ravel()
        with np.errstate(divide="ignore"):     # clocks per unit of idle intensity (inf: no idle events)
            self._clocks_per_idle = np.where(self._idle_rate > 0, r.clock_hz / self._idle_rate, np.inf)
        self._p_ap = r.p_ap.ravel()
        self._h_mac, self._h_ver = r.mac.ravel(), r.verify.ravel()

    def _idle_at(self, cells: np.ndarray | slice, clock: np.ndarray | int) -> np.ndarray:
        """Lambda_idle of ``cells`` at ``clock`` (the one formula every path uses)."""
        return self.lam_idle[cells] + self._idle_rate[cells] * ((np.asarray(clock) - self.clock0) / self.rates.clock_hz)

    def _dist_at(self, cells: np.ndarray, s_mac: np.ndarray, s_ver: np.ndarray) -> np.ndarray:
        """Lambda_disturb of ``cells`` after ``s_mac`` MAC and ``s_ver`` verify selections in this segment."""
        return self.lam_dist[cells] + (self._h_mac[cells] * s_mac + self._h_ver[cells] * s_ver)

    def _sel_mac(self, cells: np.ndarray, vectors: int | np.ndarray, sums: np.ndarray) -> np.ndarray:
        """MAC selections of ``cells`` from a count of vectors and per-row input sums (row-indexed)."""
        rows = self._rows[cells]
        left = (vectors + sums[..., rows]) // 2
        return np.where(cells % 2 == 0, left, vectors - left)

    def _dist_now(self, cells: np.ndarray) -> np.ndarray:
        return self._dist_at(cells, self._sel_mac(cells, self.mac_vectors, self.mac_input_sum),
                             self.sel_verify[self._rows[cells]])

    # -- segments and horizon ---------------------------------------------------
    def begin_segment(self, clock: int, rates: FlipRates) -> None:
        """Fold the running segment into the intensities at ``clock`` and continue with new rates."""
        cells = self._cells
        self.lam_idle = self._idle_at(cells, clock)
        self.lam_dist = self._dist_now(cells)
        self.mac_vectors = 0
        self.mac_input_sum[:] = 0
        self.sel_verify[:] = 0
        self.clock0 = clock
        self.rates = rates
        self._flat_rates()
        self._update_horizon(clock)

    def _update_horizon(self, clock: int) -> None:
        """Per-cell last clock before which no event can fall in MACs, writes or idle time; their minimum.

        Verify reads are not covered (their hazard can be large): a verify
        always scans its row, then refreshes that row's horizon.
        """
        self._refresh_horizon(self._cells, clock)

    def _refresh_horizon(self, cells: np.ndarray, clock: int) -> None:
        """Both parts of the horizon of ``cells``: the clock of the next idle event, and of the next disturb
        event were every clock from ``clock`` on to select the MTJ (still a bound after more selections)."""
        f, rate, h = self.rates.clock_hz, self._idle_rate[cells], self._h_mac[cells]
        with np.errstate(divide="ignore", invalid="ignore"):
            idle = np.where(rate > 0, self.clock0 + (self.next_idle[0][cells] - self.lam_idle[cells]) * f / rate,
                            np.inf)
            dist = np.where(h > 0, clock + (self.next_dist[0][cells] - self._dist_now(cells)) / h, np.inf)
        if cells.size == self._cells.size:
            self._idle_h, self._dist_h = idle, dist
            self.cell_horizon = np.floor(np.minimum(idle, dist) * (1 - 1e-12)) - 1
        else:
            self._idle_h[cells], self._dist_h[cells] = idle, dist
            self.cell_horizon[cells] = np.floor(np.minimum(idle, dist) * (1 - 1e-12)) - 1
        self.horizon = float(self.cell_horizon.min())

    def _refresh_idle_horizon(self) -> None:
        """The idle part of every cell's horizon after idle time (the disturb part does not move).

        A cell's next idle event lies ahead of its intensity (or at infinity
        when it has no idle rate), so the product is never 0 x inf.
        """
        self._idle_h = (self.next_idle[0] - self.lam_idle) * self._clocks_per_idle + self.clock0
        self.cell_horizon = np.floor(np.minimum(self._idle_h, self._dist_h) * (1 - 1e-12)) - 1
        self.horizon = float(self.cell_horizon.min())

    # -- idle channel -----------------------------------------------------------
    def _idle_outcome(self, cells: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, is_ap) of the last idle event of each cell in (low, high]; moves the cursor to ``high``."""
        found, _, interval, index = self._idle_grid.last_in(cells, low, high)
        is_ap = self._idle_grid.mark(cells, interval, index) < self._p_ap[cells]
        self.seen_idle[cells] = high
        nxt = self._idle_grid.next_after(cells, high)
        for arr, new in zip(self.next_idle, nxt):
            arr[cells] = new
        return found, is_ap

    def settle(self, clock: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Idle events up to ``clock`` (those that fell in clocks no read selected): (cells, is_ap) or None."""
        if clock <= self.horizon:
            return None
        cand = np.flatnonzero(self.cell_horizon < clock)
        lam = self._idle_at(cand, clock)
        cand, lam = cand[self.next_idle[0][cand] <= lam], lam[self.next_idle[0][cand] <= lam]
        result = None
        if cand.size:
            found, is_ap = self._idle_outcome(cand, self.seen_idle[cand], lam)
            result = cand[found], is_ap[found]
        self._update_horizon(clock)
        return result

    def idle(self, clock: int, seconds: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Unbiased time of ``seconds`` at ``clock`` (call :meth:`settle` first): (cells, is_ap) or None.

        Exact for any number of events: only each cell's last event matters.
        """
        result = None
        if seconds > 0:
            add = self._idle_rate * seconds
            # no cell's idle horizon (a bound on its next event's clock) is within the time: skip the search
            if clock + seconds * self.rates.clock_hz * (1 + 1e-9) + 2 >= self.horizon:
                end = self._idle_at(slice(None), clock) + add
                cand = np.flatnonzero(self.next_idle[0] <= end)
                if cand.size:
                    found, is_ap = self._idle_outcome(cand, self.seen_idle[cand], end[cand])
                    result = cand[found], is_ap[found]
            self.lam_idle = self.lam_idle + add
            self._refresh_idle_horizon()
        return result

    # -- runs of read clocks ----------------------------------------------------
    def _idle_in_run(self, clock: int, n: int) -> list[tuple[np.ndarray, ...]]:
        """Idle events in clocks clock .. clock+n-1: per event clock its last event (k, cell, is_ap, fraction)."""
        out = []
        cand = np.flatnonzero(self.cell_horizon < clock + n)
        cand = cand[self.next_idle[0][cand] <= self._idle_at(cand, clock + n)]
        f = self.rates.clock_hz
        while cand.size:
            e = self.next_idle[0][cand]
            rate = self._idle_rate[cand]
            k = np.floor((e - self.lam_idle[cand]) * f / rate).astype(np.int64) + self.clock0 - clock
            k = np.clip(k, 0, n - 1)
            for _ in range(3):   # settle the estimate on the canonical formula
                k = np.where((self._idle_at(cand, clock + k + 1) < e) & (k < n - 1), k + 1, k)
                k = np.where((self._idle_at(cand, clock + k) >= e) & (k > 0), k - 1, k)
            before, after = self._idle_at(cand, clock + k), self._idle_at(cand, clock + k + 1)
            _, pos, interval, index = self._idle_grid.last_in(cand, before, after)
            is_ap = self._idle_grid.mark(cand, interval, index) < self._p_ap[cand]
            out.append((k, cand, is_ap, (pos - before) / (after - before)))
            self.seen_idle[cand] = after
            nxt = self._idle_grid.next_after(cand, after)
            for arr, new in zip(self.next_idle, nxt):
                arr[cand] = new
            more = self.next_idle[0][cand] <= self._idle_at(cand, clock + n)
            cand = cand[more]
        return out

    def _disturb_events(self, cand: np.ndarray, k: np.ndarray, before: np.ndarray,
                        after: np.ndarray) -> tuple[np.ndarray, ...]:
        """The last disturb event of each candidate in its clock k, in (before, after]; moves the cursor."""
        _, pos, _, _ = self._dist_grid.last_in(cand, before, after)
        nxt = self._dist_grid.next_after(cand, after)
        for arr, new in zip(self.next_dist, nxt):
            arr[cand] = new
        is_ap = np.full(cand.size, self.rates.disturb_to_ap)
        return k, cand, is_ap, (pos - before) / (after - before)

    def _disturb_in_mac(self, x: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """Disturb events during a MAC batch x (n, 64), before it is counted."""
        out = []
        n = x.shape[0]
        h = self._h_mac
        s_ver_all = self.sel_verify[self._rows]
        for w0 in range(0, n, _WINDOW):
            xw = x[w0:w0 + _WINDOW]
            m = xw.shape[0]
            vectors = self.mac_vectors + w0
            sums = self.mac_input_sum + x[:w0].sum(axis=0, dtype=np.int64)
            start_sel = self._sel_mac(self._cells, vectors, sums)
            now = self._dist_at(self._cells, start_sel, s_ver_all)
            cand = np.flatnonzero((h > 0) & (self.next_dist[0] <= now + h * m))
            if not cand.size:
                continue
            # selections after each vector of the window, per (row, side) pattern: (m + 1, 128)
            sel = np.empty((m + 1, 2 * ROWS), np.int64)
            sel[0] = 0
            np.cumsum(np.stack([xw == 1, xw == -1], axis=2).reshape(m, 2 * ROWS), axis=0, out=sel[1:])
            while cand.size:
                pat, e = self._pattern[cand], self.next_dist[0][cand]
                base_sel, s_ver = start_sel[cand], s_ver_all[cand]
                need = np.ceil((e - self.lam_dist[cand] - self._h_ver[cand] * s_ver) / h[cand])
                need = np.maximum(need - base_sel, 0).astype(np.int64)
                for _ in range(3):   # settle on the canonical formula
                    lo = self._dist_at(cand, base_sel + np.maximum(need - 1, 0), s_ver) >= e
                    need = np.where(lo & (need > 0), need - 1, need)
                    hi = self._dist_at(cand, base_sel + need, s_ver) < e
                    need = need + hi
                k = np.empty(cand.size, np.int64)
                for p in np.unique(pat):
                    on = pat == p
                    k[on] = np.searchsorted(sel[:, p], need[on], side="left") - 1
                inside = (k >= 0) & (k < m)
                cand, k = cand[inside], k[inside]
                if not cand.size:
                    break
                pat, base_sel, s_ver = self._pattern[cand], start_sel[cand], s_ver_all[cand]
                before = self._dist_at(cand, base_sel + sel[k, pat], s_ver)
                after = self._dist_at(cand, base_sel + sel[k + 1, pat], s_ver)
                kk, cc, st, fr = self._disturb_events(cand, k, before, after)
                out.append((kk + w0, cc, st, fr))
                end = self._dist_at(cand, base_sel + sel[m, pat], s_ver)
                cand = cand[self.next_dist[0][cand] <= end]
        return out

    def _disturb_in_verify(self, row: int) -> list[tuple[np.ndarray, ...]]:
        """Disturb events of the one verify clock on ``row`` (before it is counted)."""
        cand = self._cells[self._rows == row]
        cand = cand[self._h_ver[cand] > 0]
        s_mac = self._sel_mac(cand, self.mac_vectors, self.mac_input_sum)
        s_ver = self.sel_verify[row]
        before = self._dist_at(cand, s_mac, s_ver)
        after = self._dist_at(cand, s_mac, s_ver + 1)
        hit = self.next_dist[0][cand] <= after
        if not hit.any():
            return []
        return [self._disturb_events(cand[hit], np.zeros(int(hit.sum()), np.int64), before[hit], after[hit])]

    @staticmethod
    def _merge(parts: list[tuple[np.ndarray, ...]]) -> Events | None:
        """Keep, per clock and cell, the latest event; sort by clock."""
        if not parts:
            return None
        k, cell, is_ap, frac = (np.concatenate(a) for a in zip(*parts))
        order = np.lexsort((frac, cell, k))
        k, cell, is_ap = k[order], cell[order], is_ap[order]
        last = np.ones(k.size, bool)
        last[:-1] = (k[1:] != k[:-1]) | (cell[1:] != cell[:-1])
        return Events(k[last], cell[last], is_ap[last])

    def scan_mac(self, x: np.ndarray, clock: int) -> Events | None:
        """Events during the MAC batch x (n, 64) starting at ``clock``; call :meth:`count_mac` after."""
        if clock + x.shape[0] <= self.horizon:
            return None
        return self._merge(self._idle_in_run(clock, x.shape[0]) + self._disturb_in_mac(x))

    def scan_verify(self, row: int, clock: int) -> Events | None:
        """Events during a verify read of ``row`` at ``clock``; call :meth:`count_verify` after."""
        idle = self._idle_in_run(clock, 1) if clock + 1 > self.horizon else []
        return self._merge(idle + self._disturb_in_verify(row))

    def count_mac(self, vectors: int, input_sums: np.ndarray, clock_after: int) -> None:
        """Add a MAC batch's selections: its number of vectors and per-row sums of the +-1 inputs (64,)."""
        self.mac_vectors += vectors
        self.mac_input_sum += input_sums
        if clock_after > self.horizon:
            self._update_horizon(clock_after)

    def count_verify(self, row: int, clock_after: int) -> None:
        """Add one verify read of ``row``."""
        self.sel_verify[row] += 1
        self._refresh_horizon(self._cells[self._rows == row], clock_after)
        if clock_after > self.horizon:
            self._update_horizon(clock_after)
