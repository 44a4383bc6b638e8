"""endurance: write cycling at a stress voltage; failed cells, column TMR drift and breakdown statistics.

The board's endurance mode (``cycle_writes``) alternates a checkerboard and
its complement.  At log-spaced cycle counts the procedure programs and reads
the array in both weight states (a shorted MTJ on the low side of a cell
still reads right in one of them; rewriting mends write errors, not shorts) and, with an SMU on the test pad, measures one
column's TMR from its all-low and all-high sums.  Failed cells against
cycles give the Weibull statistics: ln(-ln(1 - F)) = beta ln(N) - beta ln(eta).
Every read-back is a checkpoint: an interrupted run resumes where it stopped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, Plan, Procedure, RunContext

from .array_ops import checkerboard, program
from .common import CLOCK_HZ, ensure_powered, figure, set_write_voltage, write_voltage
from .pad_probe import column_probe


class Endurance(Procedure):
    name = "endurance"
    summary = "write cycling at a stress voltage: failed cells, column TMR drift, Weibull breakdown statistics"
    parameters = (
        Parameter("stress_voltage", float, 1.6, "V_WRITE while cycling", "V", low=0.5, high=3.3),
        Parameter("max_cycles", float, 1e10, "cycles at the end", low=10, high=1e12),
        Parameter("points", int, 10, "read-backs, log-spaced in cycles", low=2, high=100),
        Parameter("column", int, 0, "column whose TMR is tracked (needs an SMU on the test pad)", low=0, high=63),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        plan = Plan(steps=[f"cycle up to {params['max_cycles']:g} times at {params['stress_voltage']} V",
                           f"{params['points']} read-backs in both weight states"])
        plan.send("vwrite", params["stress_voltage"], bench.rails.vwrite)
        if "smu" in bench.instruments and bench.wiring.smu == "test_pad":
            plan.send("smu_voltage", 0.1)
        plan.duration_s = params["max_cycles"] * 256 / CLOCK_HZ
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        bench, chip = ctx.bench, ctx.chip
        ensure_powered(bench)
        weights = checkerboard()
        nominal = write_voltage(bench)
        counts = np.unique(np.geomspace(10, params["max_cycles"], params["points"]).astype(np.int64))
        tmr_probe = "smu" in bench.instruments and bench.wiring.smu == "test_pad"
        state = ctx.resume_state
        if state is None:                        # a fresh run: which cells work, and the column's TMR
            good = np.ones(weights.shape, bool)  # cells that work in both states, three times over
            for _ in range(3):
                good &= program(chip, -weights, writes=2) & program(chip, weights, writes=2)
            state = {"good": good.tolist(), "done": 0, "failed": [],
                     "tmr0": self._column_tmr(ctx, weights, params["column"]) if tmr_probe else None,
                     "tmr": []}
        good = np.array(state["good"], bool)
        try:
            for k, n in enumerate(counts):
                if n <= state["done"]:
                    continue                     # reached before an interruption
                set_write_voltage(bench, params["stress_voltage"])
                chip.cycle_writes(weights, int(n - state["done"]))
                state["done"] = int(n)
                set_write_voltage(bench, nominal)
                bad = ~program(chip, -weights, writes=2) | ~program(chip, weights, writes=2)  # shorts stay bad
                state["failed"].append(int((bad & good).sum()))
                if tmr_probe:
                    state["tmr"].append(self._column_tmr(ctx, weights, params["column"]))
                ctx.checkpoint(state)
                ctx.progress("endurance", k + 1, len(counts))
        finally:
            set_write_voltage(bench, nominal)
        failed, tmr, tmr0 = state["failed"], state["tmr"], state["tmr0"]
        fraction = np.array(failed) / good.sum()
        beta, eta = weibull(counts, fraction)
        ctx.record("cycles", counts)
        ctx.record("failed_cells", np.array(failed))
        if tmr_probe:
            ctx.record("column_tmr", np.array([tmr0, *tmr]))
        self._plot(ctx, counts, fraction, beta, eta, tmr0, tmr)
        return {"failed_cells": failed[-1], "cells": int(good.sum()), "weibull_beta": beta, "weibull_eta_cycles": eta,
                "tmr_start": tmr0, "tmr_end": tmr[-1] if tmr else None, "cycles": int(counts[-1])}

    @staticmethod
    def _column_tmr(ctx: RunContext, weights: np.ndarray, column: int) -> float:
        """(all-high sum) / (all-low sum) - 1 of one column through the test multiplexer."""
        with column_probe(ctx.bench, 0.1, nplc=1) as pad:
            pad.route(column)
            low = pad.ohm(weights[:, column])             # every cell matches: all low
            high = pad.ohm(-weights[:, column])           # every cell mismatches: all high
        return high / low - 1

    @staticmethod
    def _plot(ctx: RunContext, cycles, fraction, beta, eta, tmr0, tmr) -> None:
        fig, (a, b) = figure(1, 2, 11, 4)
        ok = (fraction > 0) & (fraction < 1)
        a.semilogx(cycles[ok], np.log(-np.log1p(-fraction[ok])), "o", label="failed cells")
        if np.isfinite(beta):
            grid = np.geomspace(cycles[0], cycles[-1], 100)
            a.semilogx(grid, beta * np.log(grid / eta), "-", label=f"Weibull beta {beta:.2f}, eta {eta:.3g}")
        a.set_xlabel("write cycles")
        a.set_ylabel("ln(-ln(1 - F))")
        a.legend()
        a.set_title("breakdown statistics")
        if tmr:
            b.semilogx(cycles, tmr, "o-")
            b.axhline(tmr0, color="grey", ls=":")
        b.set_xlabel("write cycles")
        b.set_ylabel("column TMR")
        b.set_title("TMR drift")
        ctx.plot("endurance", fig)


def weibull(cycles: np.ndarray, fraction: np.ndarray) -> tuple[float, float]:
    """(beta, eta) of F = 1 - exp(-(N/eta)^beta) by a line through the points with 0 < F < 1."""
    ok = (fraction > 0) & (fraction < 1)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    beta, c = np.polyfit(np.log(cycles[ok]), np.log(-np.log1p(-fraction[ok])), 1)
    return float(beta), float(np.exp(-c / beta))
