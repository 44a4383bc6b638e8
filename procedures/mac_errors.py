"""mac-errors: the chip's partial-sum error model, decoded against ideal full-column MAC, per column and pooled.

Measured the way the network runtime reads a layer (procedures/networks/
chip/layer.py), so that an emulation drawing from it (the VGG-8's,
hardware-aware training) carries this die's errors under the networks' TDC
settings: each matrix is programmed once as a tile, each column's windows
are placed on the distribution of its partial sums, calibrated with half of
the input vectors, and the other half is decoded and compared with the exact
full-column MACs of the intended weights (so write errors and defects are in
the model, as they are in a network).

The matrices are ``networks.chip.error_runs.generic_matrix``'s.  Each
matrix's measured pairs are recorded as it finishes and are a checkpoint (an
interrupted run resumes with the next matrix); the analysis then fits the
model (``ErrorModel.from_pairs``) and records it pooled (``error_*``) and per
array column (``column_error_*``), beside the die, the TDC settings and the
temperature (the Lake Shore's sensor A, or the bench's nominal 298.15 K
without one): ``error_model_from_run`` reads it back.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Context, Plan
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from procedures.networks.chip.error_runs import generic_pairs, measure_generic_pairs, record_generic_model
from procedures.networks.chip.pipeline import PIPELINES
from procedures.networks.chip.session import chip_session
from procedures.networks.chip.stored import error_model_from_run
from benchspec.tdc import TdcSetting

ERROR_EDGES = np.arange(-24.5, 25.5)


def plot_mac_errors(data: RunData) -> Any:
    fig, axes = figure(1, 3, 15, 4)
    mean, std = error_model_from_run(data).moments()
    observed = error_model_from_run(data).counts[0] > 0
    levels = np.arange(-64, 65)[observed]
    axes[0].plot(levels, mean[0, observed], ".-", label="mean")
    axes[0].plot(levels, std[0, observed], ".-", label="standard deviation")
    axes[0].set_xlabel("ideal full-column MAC")
    axes[0].set_ylabel("decoded - ideal, MAC units")
    axes[0].legend(fontsize=7)
    conditions = data.last("conditions", {})
    axes[0].set_title(f"pooled; die {conditions.get('die', '?')}, LSB {conditions.get('lsb_s', 0) * 1e9:.3g} ns, "
                      f"{conditions.get('temperature_K', float('nan')):.1f} K", fontsize=9)
    error = np.concatenate([np.asarray(d) - np.asarray(i) for i, d in zip(data.all("ideal"), data.all("decoded"))])
    axes[1].bar(np.arange(error.shape[1]), error.std(axis=0), color="tab:orange")
    axes[1].set_xlabel("array column")
    axes[1].set_ylabel("standard deviation of decoded - ideal, MAC units")
    axes[2].hist(error.ravel(), bins=ERROR_EDGES, color="tab:blue")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("decoded - ideal, MAC units")
    axes[2].set_ylabel("column reads")
    return fig


def analyse(data: RunData) -> Plan:
    """The generic model fitted and recorded from the measured pairs; the error's statistics."""
    pooled = yield from record_generic_model(data)
    ideal, decoded = generic_pairs(data)
    error = decoded - ideal
    column_std = error.std(axis=0)
    return {"error_mean": float(error.mean()), "error_mean_se": float(error.std() / np.sqrt(error.size)),
            "error_std": float(error.std()), "exact_fraction": float(np.mean(np.abs(error) < 1.0)),
            "column_std_min": float(column_std.min()), "column_std_max": float(column_std.max()),
            "levels_observed": int((pooled.counts[0] > 0).sum()), "pairs": int(error.size)}


@procedure(plots=(plot_mac_errors,), campaign=("conditions",), analysis=analyse, rehearsal="nominal",
           resumes="after each matrix")
def mac_errors(
    lsb: Annotated[float, Param("TDC LSB of the windows (the networks' setting)", "s", 0.0625e-9, 4e-9)] = 0.4e-9,
    windows: Annotated[int, Param("TDC windows each vector is read under", low=1, high=9)] = 1,
    matrices: Annotated[int, Param("matrices programmed, one tile each", low=1, high=64)] = 8,
    vectors: Annotated[int, Param("input vectors per matrix: half calibrate, half are measured",
                                  low=64, high=1_000_000)] = 4000,
    pipeline: Annotated[str, Param("how the chip's layers are read: the paper's way (paper-like), or with the "
                                   "optimised runtime's steps added one by one (docs/networks.md)",
                                   choices=tuple(PIPELINES))] = "optimised",
) -> Plan:
    """the chip's partial-sum error model (decoded vs ideal column MAC) under the networks' TDC settings"""
    context = yield Context()
    setting = TdcSetting(lsb, windows)
    done = (context.resume or {}).get("matrices", 0)
    conditions, _ = yield from chip_session(
        lambda session: measure_generic_pairs(session, setting, matrices, vectors, context.rng, done),
        {"lsb_s": lsb, "windows": windows, "pipeline": pipeline}, PIPELINES[pipeline])
    return {"die": conditions["die"], "temperature_K": conditions["temperature_K"]}
