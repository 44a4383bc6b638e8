"""The unit-rate event process on an intensity axis: Poisson, and independent of how a span is split."""

from __future__ import annotations

import numpy as np

from sim_chip.events import EventGrid


def all_events(grid: EventGrid, cell: int, low: float, high: float) -> list[float]:
    """Every event in (low, high] by walking next_after."""
    cells, out = np.array([cell]), []
    pos = grid.next_after(cells, np.array([low]))[0][0]
    while pos <= high:
        out.append(float(pos))
        pos = grid.next_after(cells, np.array([pos]))[0][0]
    return out


def test_events_are_a_unit_rate_poisson_process() -> None:
    grid = EventGrid(12345)
    cells = np.arange(4000)
    counts = np.array([len(all_events(grid, int(c), 0.0, 3.0)) for c in cells[:400]])
    assert abs(counts.mean() - 3.0) < 5 * np.sqrt(3.0 / 400)
    assert abs(counts.var() - 3.0) < 0.6                      # Poisson: variance = mean
    first = grid.next_after(cells, np.full(4000, 7.3))[0] - 7.3
    assert abs(first.mean() - 1.0) < 0.06 and abs(np.median(first) - np.log(2)) < 0.06   # memoryless


def test_last_event_does_not_depend_on_how_a_span_is_split() -> None:
    grid = EventGrid(777)
    cells = np.arange(300)
    low, high = np.full(300, 0.4), np.full(300, 23.7)
    found, pos, interval, index = grid.last_in(cells, low, high)
    for c in range(0, 300, 17):
        events = all_events(grid, c, 0.4, 23.7)
        assert found[c] == bool(events)
        if events:
            assert pos[c] == events[-1]
    cuts = np.sort(np.random.default_rng(0).uniform(0.4, 23.7, 5))
    last_pos = np.full(300, -np.inf)
    for a, b in zip(np.r_[0.4, cuts], np.r_[cuts, 23.7]):
        f, p, _, _ = grid.last_in(cells, np.full(300, a), np.full(300, b))
        last_pos = np.where(f, p, last_pos)
    assert np.array_equal(np.where(found, pos, -np.inf), last_pos)
    marks = grid.mark(cells, interval, index)
    assert np.all((marks > 0) & (marks < 1))
