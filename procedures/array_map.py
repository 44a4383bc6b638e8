"""array-map: branch resistances through the test multiplexer and the SMU.

A column is one series chain and every input pattern selects exactly one
branch per row, so the SMU always reads a sum of 64 branches.  The patterns
used (for column j, routed to the pad by the test multiplexer):

* all inputs +1: the sum of the 64 left branches;
* all inputs +1 except row i at -1: the same sum with row i's left branch
  replaced by its right one; the difference isolates R_right(i,j) - R_left(i,j);
* all inputs -1: the sum of the 64 right branches.

Column sums are read ``average`` times (the reference of every margin).

Programming the array all +1 (left P, right AP) and then all -1 turns these
into, for every cell, its high-minus-low read margin in both weight states,
and, for every column, the absolute sum of its 64 low (and high) branches.

Absolute single-branch values are not identifiable from sums of one branch
per row: all patterns of a column span 65 of its 128 unknowns.  What is
reported is what the patterns determine: the margin of every cell, the
mean low and high branch resistance of every column, and the branch-to-
branch spread of the low and high states, from the spread of the column
sums (a sum of 64 independent branches has 64 times their variance)
(:func:`branch_statistics`).

The spread of the column sums is the branch spread only over columns whose
64 cells all hold their written state in working MTJs.  A shorted or stuck
MTJ, or one a write missed, moves its column's sum by 10-40 kOhm, a few
times the sums' own spread (8 x 1.6-2.0 kOhm), and inflates the estimate
(by about 8 % from three such columns on a typical die).  Such a cell is
recognisable without knowing which it is: the sum of its margins in the two
weight states is (R_AP - R_P) of its left MTJ plus that of its right one,
FETs cancelled, ~26 kOhm with a spread of ~1 kOhm (R_P and R_AP of one MTJ
correlate), and an MTJ that does not hold both states removes about half.
So cells whose margin sum falls below 3/4 of the median (or 5 robust
standard deviations, if that is lower) mark their column, and the spread
comes from the other columns, pooled over both weight states (the -1 map
sums the other side's branches: twice the sums, a standard error of
~1/sqrt(2 (2n - 2)), 6.3 % for n = 64 columns, reported with the
estimate).  The means come from the same columns.  The test multiplexer's
on-resistance is subtracted as its nominal 500 ohm (labctl.stubs.MUX_OHM),
so its error moves the means by 1/64 of it; the SMU's read noise (0.1 % of
the sum, averaged ``average`` times) adds ~0.1 % to the spread
(docs/testing.md).

Every column is recorded as soon as it is read (records are rows: one per
column, in the order mapped), and is a checkpoint: an interrupted run
resumes with the next column.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Checkpoint, Context, Plan, Progress, Record, Set
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import ensure_powered, pad_ohm, probe_off, probe_on


def plot_array_map(data: RunData) -> Any:
    margin = data.array("margin_weight_plus").T                  # (row, column)
    fig, (a, b, c) = figure(1, 3, 15, 4)
    image = a.imshow(margin / 1e3, cmap="viridis", interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=a, label="margin, kOhm", location="left")
    a.set_title("read margin R_high - R_low per cell")
    a.set_xlabel("column")
    a.set_ylabel("row")
    b.hist(margin.ravel() / 1e3, bins=60, color="tab:green")
    b.set_xlabel("R_high - R_low, kOhm")
    b.set_ylabel("cells")
    b.set_title("cell margins")
    c.hist(data.array("column_low_sum_plus") / 64e3, bins=20, alpha=0.7, label="low (P)")
    c.hist(data.array("column_high_sum_plus") / 64e3, bins=20, alpha=0.7, label="high (AP)")
    c.set_xlabel("column mean branch resistance, kOhm")
    c.set_ylabel("columns")
    c.set_title("low and high states per column")
    c.legend()
    return fig


RECORDS = ("column_low_sum", "column_high_sum", "margin_weight")


def _map(sign: int, columns: int, bias: float, average: int, measured: dict[str, list]) -> Plan:
    """Every column with all inputs = sign, = -sign, and each row flipped, after those ``measured`` holds;
    recorded column by column (and appended to ``measured``), each a checkpoint."""
    label = "plus" if sign > 0 else "minus"
    base = np.full(64, sign, np.int8)
    yield Call("chip.write_array", np.full((64, 64), sign, np.int8))
    for j in range(len(measured[f"margin_weight_{label}"]), columns):
        yield Set("chip.test_mux", j)
        low = yield from pad_ohm(base, bias, average)          # every input matches its weight: the P branches
        high = yield from pad_ohm(-base, bias, average)
        margins = np.zeros(64)
        for i in range(64):
            x = base.copy()
            x[i] = -sign
            margins[i] = (yield from pad_ohm(x, bias)) - low
        for name, value, text in (("column_low_sum", low, "sum of the column's 64 low (P) branches"),
                                  ("column_high_sum", high, "sum of the column's 64 high (AP) branches"),
                                  ("margin_weight", margins, "R_high - R_low of every cell of the column")):
            measured[f"{name}_{label}"].append(value)
            yield Record(f"{name}_{label}", value, "ohm", text, ("row",) if name == "margin_weight" else ())
        yield Checkpoint({f"columns_{label}": j + 1})
        yield Progress(f"array-map ({'+' if sign > 0 else '-'}1)", j + 1, columns)


@procedure(needs={"smu": "test_pad"}, plots=(plot_array_map,), resumes="after each column")
def array_map(
    bias: Annotated[float, Param("SMU voltage across a column", "V", 0.01, 1.0)] = 0.1,
    nplc: Annotated[float, Param("SMU integration per reading", "PLC", 0.01, 10)] = 0.1,
    columns: Annotated[int, Param("columns to map (from column 0)", "", 1, 64)] = 64,
    average: Annotated[int, Param("readings averaged for each column sum", "", 1, 100)] = 4,
) -> Plan:
    """branch resistances via the test multiplexer and SMU: margin maps, low/high statistics"""
    yield from ensure_powered()
    kept = (yield Context()).kept
    measured = {f"{name}_{label}": kept.all(f"{name}_{label}") if kept else []
                for name in RECORDS for label in ("plus", "minus")}
    yield from probe_on(bias, nplc, ramp=True)
    try:
        for sign in (1, -1):
            if len(measured[f"margin_weight_{'plus' if sign > 0 else 'minus'}"]) < columns:
                yield from _map(sign, columns, bias, average, measured)
    finally:
        yield from probe_off()
    low, high, margins = (np.array([measured[f"{name}_{label}"] for label in ("plus", "minus")])
                          for name in RECORDS)
    stats, used = branch_statistics(low, high, margins)
    yield Record("statistics_columns", np.flatnonzero(used), "", "columns whose sums gave the branch statistics "
                 "(every cell holding both states)")
    return {**stats, "margin_mean_ohm": float(margins[0].mean()), "margin_std_ohm": float(margins[0].std()),
            "margin_min_ohm": float(margins.min()), "columns": columns}


def branch_statistics(low: np.ndarray, high: np.ndarray,
                      margins: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """Mean and spread of the low and high branch resistances from column sums (module docstring).

    ``low`` and ``high`` are (2, columns): the sums of each column's 64 low
    and 64 high branches in the +1 and in the -1 weight map; ``margins`` is
    (2, columns, 64), every cell's R_high - R_low in both maps.  Columns with
    a cell whose two margins add up to too little (an MTJ that does not hold
    both states) are left out.  Returns means (ohm), spreads (ohm) with
    their standard errors and how many columns were used, and the mask of
    the columns used.
    """
    total = margins[0] + margins[1]
    centre = float(np.median(total))
    robust_sd = 1.4826 * float(np.median(np.abs(total - centre)))
    suspect = total < centre - max(0.25 * centre, 5.0 * robust_sd)
    clean = ~suspect.any(axis=1)
    n = int(clean.sum())
    result: dict[str, float] = {"sigma_columns": n}
    for name, sums in (("low", low[:, clean]), ("high", high[:, clean])):
        result[f"r_{name}_mean_ohm"] = float(sums.mean() / 64) if n else float("nan")
        if n > 2:
            deviations = sums - sums.mean(axis=1, keepdims=True)       # each map about its own mean
            dof = sums.size - 2
            sigma = float(np.sqrt((deviations**2).sum() / dof / 64))
            result[f"r_{name}_sigma_ohm"], result[f"r_{name}_sigma_se_ohm"] = sigma, sigma / np.sqrt(2 * dof)
        else:
            result[f"r_{name}_sigma_ohm"] = result[f"r_{name}_sigma_se_ohm"] = float("nan")
    return result, clean
