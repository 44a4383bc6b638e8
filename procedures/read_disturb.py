"""read-disturb: repeated verify reads at raised bias; cells flipped against the bias.

For each bias the array is programmed with a checkerboard at the nominal
settings, read ``reads`` times with every row's verify at the raised bias,
then read five times at the nominal bias: cells that read wrong in most of
them were disturbed.  Cells that did not program, or did not read back
right five times out of five before the stress, are left out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, ParameterError, Plan, Procedure, RunContext

from .array_ops import checkerboard, correct_reads, program
from .common import CLOCK_HZ, ensure_powered, figure, float_list


class ReadDisturb(Procedure):
    name = "read-disturb"
    summary = "repeated reads at raised verify bias; flipped cells against bias"
    parameters = (
        Parameter("biases", str, "0.1,0.3,0.4,0.45,0.5,0.55", "verify biases across a branch", "V"),
        Parameter("reads", int, 30, "full-array verify reads at each bias", low=1, high=100_000),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        biases = float_list(params, "biases")
        if min(biases) < 0.02 or max(biases) > 1.0:
            raise ParameterError("parameter biases: every bias must be within 0.02 .. 1 V (the verify DAC)")
        plan = Plan(steps=[f"for each of {len(biases)} biases: program, {params['reads']} reads, count flips"])
        plan.send("vwrite", bench.rails.vwrite)
        plan.duration_s = len(biases) * (params["reads"] + 2) * 64 / CLOCK_HZ
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        chip = ctx.chip
        ensure_powered(ctx.bench)
        biases = float_list(params, "biases")
        nominal = chip.verify_bias()
        weights = checkerboard()
        flips = []
        try:
            for k, bias in enumerate(biases):
                good = program(chip, weights)
                chip.set_verify_bias(bias)
                for _ in range(params["reads"]):
                    chip.verify_array()
                chip.set_verify_bias(nominal)
                flipped = (correct_reads(chip, weights) <= 2) & good     # wrong in most of five reads
                flips.append(int(flipped.sum()))
                ctx.record(f"flipped_at_{bias:g}V", flipped)
                ctx.progress("read-disturb", k + 1, len(biases))
        finally:
            chip.set_verify_bias(nominal)
        ctx.record("biases", np.array(biases))
        ctx.record("flips", np.array(flips))
        fig, ax = figure(1, 1, 6, 4)
        ax.semilogy(biases, np.maximum(flips, 0.5), "o-")
        ax.set_xlabel("verify bias across a branch, V")
        ax.set_ylabel(f"cells flipped after {params['reads']} reads")
        ax.set_title("read disturb")
        ctx.plot("read_disturb", fig)
        onset = next((b for b, f in zip(biases, flips) if f > 0), float("nan"))
        return {"flips_at_max_bias": flips[-1], "flips_at_min_bias": flips[0], "onset_bias_V": onset,
                "reads": params["reads"]}
