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
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, Plan, Procedure, RunContext

from .common import ensure_powered, figure
from .pad_probe import ColumnReader, column_probe

MUX_OHM = 500.0    # datasheet-level assumption: multiplexer on-resistance, subtracted from every reading


class ArrayMap(Procedure):
    name = "array-map"
    summary = "branch resistances via the test multiplexer and SMU: margin maps, low/high statistics"
    needs = ("smu",)
    parameters = (
        Parameter("bias", float, 0.1, "SMU voltage across a column", "V", low=0.01, high=1.0),
        Parameter("nplc", float, 0.1, "SMU integration per reading", "PLC", low=0.01, high=10),
        Parameter("columns", int, 64, "columns to map (from column 0)", low=1, high=64),
        Parameter("average", int, 4, "readings averaged for each column sum", low=1, high=100),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        readings = params["columns"] * (64 + 2 * params["average"]) * 2
        plan = Plan(steps=["program all +1", f"{readings // 2} SMU readings", "program all -1",
                           f"{readings // 2} SMU readings", "restore nothing: the array is left all -1"])
        plan.send("smu_voltage", params["bias"])
        plan.send("smu_current", 1e-3)
        plan.send("vwrite", bench.rails.vwrite)
        plan.duration_s = readings * params["nplc"] / 50.0
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        bench, chip = ctx.bench, ctx.chip
        ensure_powered(bench)
        n = params["columns"]
        results = {}
        with column_probe(bench, params["bias"], params["nplc"], ramp=True) as pad:
            for sign in (1, -1):
                chip.write_array(np.full((64, 64), sign, np.int8))
                results[sign] = self._map(ctx, pad, n, sign, params["average"])
        # weights +1: inputs +1 select the left branches (P, low), inputs -1 the right ones (AP, high)
        low_sum, high_sum, margin_plus = results[1]
        margin_minus = results[-1][2]                 # weights -1: left AP against right P
        for name, value in (("column_low_sum", low_sum), ("column_high_sum", high_sum),
                            ("margin_weight_plus", margin_plus), ("margin_weight_minus", margin_minus)):
            ctx.record(name, value)
        self._plots(ctx, margin_plus, low_sum / 64, high_sum / 64)
        spread = (lambda sums: float(sums.std(ddof=1) / 8.0)) if n > 2 else (lambda sums: float("nan"))
        return {"r_low_mean_ohm": float(low_sum.mean() / 64), "r_high_mean_ohm": float(high_sum.mean() / 64),
                "r_low_sigma_ohm": spread(low_sum), "r_high_sigma_ohm": spread(high_sum),
                "margin_mean_ohm": float(margin_plus.mean()), "margin_std_ohm": float(margin_plus.std()),
                "margin_min_ohm": float(min(margin_plus.min(), margin_minus.min())), "columns": n}

    @staticmethod
    def _map(ctx: RunContext, pad: ColumnReader, n: int, sign: int,
             average: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per column: the sums with every input = sign and = -sign, and per row the margin."""
        base = np.full(64, sign, np.int8)
        same, opposite, margins = np.zeros(n), np.zeros(n), np.zeros((64, n))
        for j in range(n):
            pad.route(j)
            same[j] = pad.ohm(base, average) - MUX_OHM
            opposite[j] = pad.ohm(-base, average) - MUX_OHM
            for i in range(64):
                x = base.copy()
                x[i] = -sign
                margins[i, j] = pad.ohm(x) - MUX_OHM - same[j]
            ctx.progress(f"array-map ({'+' if sign > 0 else '-'}1)", j + 1, n)
        return same, opposite, margins

    @staticmethod
    def _plots(ctx: RunContext, margin: np.ndarray, low_mean: np.ndarray, high_mean: np.ndarray) -> None:
        fig, (a, b, c) = figure(1, 3, 15, 4)
        image = a.imshow(margin / 1e3, cmap="viridis", interpolation="nearest")
        fig.colorbar(image, ax=a, label="kOhm")
        a.set_title("read margin R_high - R_low per cell")
        a.set_xlabel("column")
        a.set_ylabel("row")
        b.hist(margin.ravel() / 1e3, bins=60, color="tab:green")
        b.set_xlabel("R_high - R_low, kOhm")
        b.set_title("cell margins")
        c.hist(low_mean / 1e3, bins=20, alpha=0.7, label="low (P)")
        c.hist(high_mean / 1e3, bins=20, alpha=0.7, label="high (AP)")
        c.set_xlabel("column mean branch resistance, kOhm")
        c.set_title("low and high states per column")
        c.legend()
        ctx.plot("array_map", fig)
