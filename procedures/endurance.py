"""endurance: write cycling at a stress voltage; failed cells, column TMR drift and breakdown statistics.

The board's endurance mode (``cycle_writes``) alternates a checkerboard and
its complement.  At log-spaced cycle counts the procedure programs and reads
the array in both weight states (a shorted MTJ on the low side of a cell
still reads right in one of them; rewriting mends write errors, not shorts)
and, with an SMU on the test pad, measures one column's TMR from its
all-low and all-high sums.  A cell that reads wrong at a read-back may only
have missed a write (a weak bit); a broken MTJ stays broken.  So a cell
counts as broken at a read-back when it reads wrong there and at every
read-back after it, and the broken cells against cycles give the Weibull
statistics: ln(-ln(1 - F)) = beta ln(N) - beta ln(eta), fitted as a line
with its covariance.  Every read-back is recorded and is a checkpoint: an
interrupted run resumes after its last read-back.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Checkpoint, Context, Plan, Progress, Read, Record, Set
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import checkerboard, ensure_powered, pad_ohm, probe_off, probe_on, program


def column_tmr(weights: np.ndarray, column: int) -> Plan:
    """(all-high sum) / (all-low sum) - 1 of one column through the test multiplexer."""
    yield from probe_on(0.1, nplc=1)
    try:
        yield Set("chip.test_mux", column)
        low = yield from pad_ohm(weights[:, column], 0.1)          # every cell matches: all low
        high = yield from pad_ohm(-weights[:, column], 0.1)        # every cell mismatches: all high
    finally:
        yield from probe_off()
    return high / low - 1


def broken_counts(bad: np.ndarray) -> np.ndarray:
    """Cells broken at each read-back: wrong there and at every later one (``bad``: read-backs x cells)."""
    persistent = np.logical_and.accumulate(bad[::-1], axis=0)[::-1]
    return persistent.reshape(len(bad), -1).sum(axis=1)


def plot_endurance(data: RunData) -> Any:
    cycles = np.array(data.all("cycles"), float)
    fraction = broken_counts(np.array(data.all("bad_cells"))) / data.last("cells_working_at_start")
    s = data.summary
    fig, (a, b) = figure(1, 2, 11, 4)
    ok = (fraction > 0) & (fraction < 1)
    a.semilogx(cycles[ok], np.log(-np.log1p(-fraction[ok])), "o", label="broken cells")
    if s and np.isfinite(s["weibull_beta"]):
        grid = np.geomspace(cycles[0], cycles[-1], 100)
        a.semilogx(grid, s["weibull_beta"] * np.log(grid / s["weibull_eta_cycles"]), "-",
                   label=f"Weibull beta {s['weibull_beta']:.2f} ± {s['weibull_beta_se']:.2f}, "
                         f"eta {s['weibull_eta_cycles']:.3g}")
    elif s:
        a.text(0.5, 0.5, f"{int(ok.sum())} read-back(s) with failures: too few to fit",
               transform=a.transAxes, ha="center")
    a.set_xlabel("write cycles")
    a.set_ylabel("ln(-ln(1 - F))")
    a.legend()
    a.set_title("breakdown statistics")
    if "column_tmr" in data:
        tmr = np.array(data.all("column_tmr"))
        b.semilogx(cycles, tmr[1:], "o-")
        b.axhline(tmr[0], color="grey", ls=":", label="before cycling")
        b.legend()
    b.set_xlabel("write cycles")
    b.set_ylabel("column TMR")
    b.set_title("TMR drift")
    return fig


@procedure(plots=(plot_endurance,), resumes="after each read-back")
def endurance(
    stress_voltage: Annotated[float, Param("V_WRITE while cycling", "V", 0.5, 3.3)] = 1.6,
    max_cycles: Annotated[int, Param("cycles at the end", "", 10, 1e12)] = 10**10,
    points: Annotated[int, Param("read-backs, log-spaced in cycles", low=2, high=100)] = 10,
    column: Annotated[int, Param("column whose TMR is tracked (needs an SMU on the test pad)", low=0, high=63)] = 0,
) -> Plan:
    """write cycling at a stress voltage: failed cells, column TMR drift, Weibull breakdown statistics"""
    yield from ensure_powered()
    context = yield Context()
    weights = checkerboard()
    nominal = yield Read("rail.vwrite")
    counts = np.unique(np.geomspace(10, max_cycles, points).astype(np.int64))
    tmr_probe = context.has("smu", "test_pad")
    state = context.resume
    if state is None:                        # a fresh run: which cells work, and the column's TMR
        good = np.ones(weights.shape, bool)  # cells that work in both states, three times over
        for _ in range(3):
            good &= (yield from program(-weights, writes=2)) & (yield from program(weights, writes=2))
        state = {"good": good.tolist(), "done": 0, "bad": [], "tmr": []}
        yield Record("cells_working_at_start", int(good.sum()), "cells")
        if tmr_probe:
            state["tmr"].append((yield from column_tmr(weights, column)))
            yield Record("column_tmr", state["tmr"][0], "", f"TMR of column {column} (first: before cycling)")
    good = np.array(state["good"], bool)
    try:
        for k, n in enumerate(counts):
            if n <= state["done"]:
                continue                     # reached before an interruption
            yield Set("rail.vwrite", stress_voltage)
            yield Call("chip.cycle_writes", int(n - state["done"]), weights)
            state["done"] = int(n)
            yield Set("rail.vwrite", nominal)
            bad = ~(yield from program(-weights, writes=2)) | ~(yield from program(weights, writes=2))  # shorts stay
            state["bad"].append((bad & good).tolist())
            yield Record("cycles", int(n), "cycles")
            yield Record("bad_cells", bad & good, "", "cells reading wrong at this read-back", ("row", "column"))
            yield Record("failed_cells", int((bad & good).sum()), "cells", "cells reading wrong at this read-back")
            if tmr_probe:
                state["tmr"].append((yield from column_tmr(weights, column)))
                yield Record("column_tmr", state["tmr"][-1])
            yield Checkpoint(state)
            yield Progress("endurance", k + 1, len(counts))
    finally:
        yield Set("rail.vwrite", nominal)
    broken = broken_counts(np.array(state["bad"], bool))
    yield Record("broken_cells", broken, "cells", "cells broken by each read-back (wrong there and ever after)",
                 ("cycles",))
    (beta, beta_se), eta = weibull(counts, broken / good.sum())
    tmr = state["tmr"]
    return {"failed_cells": int(broken[-1]), "cells": int(good.sum()), "weibull_beta": beta,
            "weibull_beta_se": beta_se, "weibull_eta_cycles": eta, "tmr_start": tmr[0] if tmr else None,
            "tmr_end": tmr[-1] if tmr else None, "cycles": int(counts[-1])}


def weibull(cycles: np.ndarray, fraction: np.ndarray) -> tuple[tuple[float, float], float]:
    """((beta, se), eta) of F = 1 - exp(-(N/eta)^beta) by a line through the points with 0 < F < 1."""
    ok = (fraction > 0) & (fraction < 1)
    if ok.sum() < 3:
        return (float("nan"), float("nan")), float("nan")
    (beta, c), cov = np.polyfit(np.log(cycles[ok]), np.log(-np.log1p(-fraction[ok])), 1, cov=True)
    return (float(beta), float(np.sqrt(cov[0, 0]))), float(np.exp(-c / beta))
