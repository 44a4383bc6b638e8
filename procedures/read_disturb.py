"""read-disturb: repeated verify reads at raised bias; cells flipped against the bias.

For each bias the array is programmed with a checkerboard at the nominal
settings, read ``reads`` times with every row's verify at the raised bias,
then read five times at the nominal bias: cells that read wrong in most of
them were disturbed.  Cells that did not program, or did not read back
right five times out of five before the stress, are left out.  Each bias
is recorded as soon as it is done, and is a checkpoint: an interrupted run
resumes with the next bias.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Checkpoint, Context, Plan, Progress, Read, Record, Set
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import checkerboard, correct_reads, ensure_powered, program


def plot_read_disturb(data: RunData) -> Any:
    biases, flips = np.array(data.all("bias")), np.array(data.all("flips"))
    reads = data.parameters["reads"]
    fig, ax = figure(1, 1, 6, 4)
    seen = flips > 0
    ax.semilogy(biases[seen], flips[seen], "o-", label="cells flipped")
    if (~seen).any():          # none flipped: no point on a log axis; marked at the axis' floor instead
        ax.plot(biases[~seen], np.full((~seen).sum(), 0.8), "v", color="tab:gray", clip_on=False,
                label="none flipped")
    ax.set_ylim(bottom=0.7)
    ax.set_xlabel("verify bias across a branch, V")
    ax.set_ylabel(f"cells flipped after {reads} reads")
    ax.set_title("read disturb")
    ax.legend()
    return fig


@procedure(plots=(plot_read_disturb,), resumes="after each bias")
def read_disturb(
    biases: Annotated[list[float], Param("verify biases across a branch (the verify DAC's range)", "V", 0.02, 1.0)]
        = (0.1, 0.3, 0.4, 0.45, 0.5, 0.55),
    reads: Annotated[int, Param("full-array verify reads at each bias", low=1, high=100_000)] = 30,
) -> Plan:
    """repeated reads at raised verify bias; flipped cells against bias"""
    yield from ensure_powered()
    nominal = yield Read("chip.verify_bias")
    weights = checkerboard()
    kept = (yield Context()).kept
    flips = kept.all("flips") if kept else []
    try:
        for k, bias in enumerate(biases):
            if k < len(flips):                     # done before an interruption
                continue
            good = yield from program(weights)
            yield Set("chip.verify_bias", bias)
            for _ in range(reads):
                yield Call("chip.verify_array")
            yield Set("chip.verify_bias", nominal)
            flipped = ((yield from correct_reads(weights)) <= 2) & good     # wrong in most of five reads
            flips.append(int(flipped.sum()))
            yield Record("bias", bias, "V")
            yield Record("flips", flips[-1], "cells")
            yield Record("flipped", flipped, "", "cells flipped at this bias", ("row", "column"))
            yield Checkpoint({"biases_done": k + 1})
            yield Progress("read-disturb", k + 1, len(biases))
    finally:
        yield Set("chip.verify_bias", nominal)
    onset = next((b for b, f in zip(biases, flips) if f > 0), float("nan"))
    return {"flips_at_max_bias": flips[-1], "flips_at_min_bias": flips[0], "onset_bias_V": onset, "reads": reads}
