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
sums (a sum of 64 independent branches has 64 times their variance).

Every column is recorded as soon as it is read (records are rows: one per
column, in the order mapped).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Plan, Progress, Record, Set
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
    c.hist(data.array("column_low_sum") / 64e3, bins=20, alpha=0.7, label="low (P)")
    if "column_high_sum" in data:
        c.hist(data.array("column_high_sum") / 64e3, bins=20, alpha=0.7, label="high (AP)")
    c.set_xlabel("column mean branch resistance, kOhm")
    c.set_ylabel("columns")
    c.set_title("low and high states per column")
    c.legend()
    return fig


def _map(sign: int, columns: int, bias: float, average: int) -> Plan:
    """Every column with all inputs = sign, = -sign, and each row flipped; recorded column by column."""
    label = "plus" if sign > 0 else "minus"
    base = np.full(64, sign, np.int8)
    same, opposite, margins = np.zeros(columns), np.zeros(columns), np.zeros((columns, 64))
    for j in range(columns):
        yield Set("chip.test_mux", j)
        same[j] = yield from pad_ohm(base, bias, average)
        opposite[j] = yield from pad_ohm(-base, bias, average)
        for i in range(64):
            x = base.copy()
            x[i] = -sign
            margins[j, i] = (yield from pad_ohm(x, bias)) - same[j]
        if sign > 0:          # weights +1: inputs +1 select the left branches (P, low), -1 the right (AP, high)
            yield Record("column_low_sum", same[j], "ohm", "sum of the column's 64 low branches")
            yield Record("column_high_sum", opposite[j], "ohm", "sum of the column's 64 high branches")
        yield Record(f"margin_weight_{label}", margins[j], "ohm", "R_high - R_low of every cell of the column",
                     ("column", "row"))
        yield Progress(f"array-map ({'+' if sign > 0 else '-'}1)", j + 1, columns)
    return same, opposite, margins


@procedure(needs={"smu": "test_pad"}, plots=(plot_array_map,))
def array_map(
    bias: Annotated[float, Param("SMU voltage across a column", "V", 0.01, 1.0)] = 0.1,
    nplc: Annotated[float, Param("SMU integration per reading", "PLC", 0.01, 10)] = 0.1,
    columns: Annotated[int, Param("columns to map (from column 0)", "", 1, 64)] = 64,
    average: Annotated[int, Param("readings averaged for each column sum", "", 1, 100)] = 4,
) -> Plan:
    """branch resistances via the test multiplexer and SMU: margin maps, low/high statistics"""
    yield from ensure_powered()
    yield from probe_on(bias, nplc, ramp=True)
    try:
        yield Call("chip.write_array", np.ones((64, 64), np.int8))
        low, high, margin_plus = yield from _map(1, columns, bias, average)
        yield Call("chip.write_array", -np.ones((64, 64), np.int8))
        margin_minus = (yield from _map(-1, columns, bias, average))[2]
    finally:
        yield from probe_off()
    spread = (lambda s: float(np.std(s, ddof=1) / 8.0)) if columns > 2 else (lambda s: float("nan"))
    return {"r_low_mean_ohm": float(low.mean() / 64), "r_high_mean_ohm": float(high.mean() / 64),
            "r_low_sigma_ohm": spread(low), "r_high_sigma_ohm": spread(high),
            "margin_mean_ohm": float(margin_plus.mean()), "margin_std_ohm": float(margin_plus.std()),
            "margin_min_ohm": float(min(margin_plus.min(), margin_minus.min())), "columns": columns}
