"""mac-errors: the chip's partial-sum error model, decoded against ideal full-column MAC, per column and pooled.

Measured the way the network runtime reads a layer (procedures/networks/
chip_runtime.py), so that an emulation drawing from it (issue 14's VGG-8,
hardware-aware training) carries this die's errors under the networks' TDC
settings: each matrix is programmed once as a tile, each column's windows
are placed on the distribution of its partial sums, calibrated with half of
the input vectors, and the other half is decoded and compared with the exact
full-column MACs of the intended weights (so write errors and defects are in
the model, as they are in a network).

Matrix k is a random base vector b with column j's weights equal to b with
n rows flipped, n = 0..64 rotated over the columns from matrix to matrix (so
b . w_j covers -64..64 and every array column sees many levels); the inputs
are b with each row flipped with probability p_k (0.04, 0.12, 0.2, 0.3 in
turn), which spreads each column's partial sums about (1 - 2 p) b . w_j like
a network tile's.  The model (``ErrorModel.from_pairs``) is recorded pooled
(``error_*``) and per array column (``column_error_*``) with the die, the TDC
settings and the temperature (the Lake Shore's sensor A, or the bench's
nominal 298.15 K without one): ``error_model_from_run`` reads it back.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Context, Plan, Record
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import ensure_powered
from procedures.networks.chip_runtime import close_session, measure_conditions, open_session
from procedures.networks.error_runs import measure_error_model
from procedures.networks.stored import error_model_from_run
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


@procedure(plots=(plot_mac_errors,), campaign=("conditions",))
def mac_errors(
    lsb: Annotated[float, Param("TDC LSB of the windows (the networks' setting)", "s", 0.0625e-9, 4e-9)] = 0.4e-9,
    windows: Annotated[int, Param("TDC windows each vector is read under", low=1, high=9)] = 1,
    matrices: Annotated[int, Param("matrices programmed, one tile each", low=1, high=64)] = 8,
    vectors: Annotated[int, Param("input vectors per matrix: half calibrate, half are measured",
                                  low=64, high=1_000_000)] = 4000,
) -> Plan:
    """the chip's partial-sum error model (decoded vs ideal column MAC) under the networks' TDC settings"""
    yield from ensure_powered()
    rng = (yield Context()).rng
    setting = TdcSetting(lsb, windows)
    conditions = {**(yield from measure_conditions()), "lsb_s": lsb, "windows": windows}
    yield Record("conditions", conditions)
    session = yield from open_session()
    try:
        pooled, ideal_all, decoded_all = yield from measure_error_model(session, setting, rng, matrices, vectors)
    finally:
        yield from close_session(session)
    error = decoded_all - ideal_all
    column_std = error.std(axis=0)
    return {"error_mean": float(error.mean()), "error_mean_se": float(error.std() / np.sqrt(error.size)),
            "error_std": float(error.std()), "exact_fraction": float(np.mean(np.abs(error) < 1.0)),
            "column_std_min": float(column_std.min()), "column_std_max": float(column_std.max()),
            "levels_observed": int((pooled.counts[0] > 0).sum()), "pairs": int(error.size),
            "die": conditions["die"], "temperature_K": conditions["temperature_K"]}
