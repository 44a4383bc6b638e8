"""mac-transfer: TDC code against MAC for every column, a calibration table, the MAC error distribution.

The 4-bit TDC sees 16 codes of a column's delay window; with an LSB of about
one MAC step (0.25 ns) and six overlapping windows (``benchspec.tdc.fixed_windows``:
starts 12 LSB apart, so neighbours share four codes, 1 ns, five times the
read noise) every one of the 65 levels falls well inside some window on
every read.  For every column, window and code the calibration table holds
the mean ideal MAC of the reads that gave that code; decoding a vector picks,
per column, the window whose code sits nearest the middle of its range
(``benchspec.tdc.decode_nearest``).  Each window's table
is recorded as soon as it is measured (the record ``calibration`` has a row
per window) and can be reused by later runs (``calibration_run``).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS, TDC_CODES
from benchspec.tdc import decode_nearest, fixed_windows, window_table
from labctl.plan import Call, Load, Plan, Progress, Read, Record
from labctl.plotting import figure
from labctl.procedure import Param, ParameterError, RunId, procedure, seed_param
from labctl.rundata import RunData, read_run
from labctl.stubs import ensure_powered, random_signs

ERROR_BINS = np.arange(-20.5, 21.5)


def level_patterns(weights: np.ndarray) -> np.ndarray:
    """For every column j and k = 0..64: the input that mismatches the first k rows of column j."""
    rows = np.arange(ROWS)
    out = np.empty((COLUMNS * (ROWS + 1), ROWS), np.int8)
    for j in range(COLUMNS):
        for k in range(ROWS + 1):
            out[j * (ROWS + 1) + k] = np.where(rows < k, -weights[:, j], weights[:, j])
    return out


def _validate(params: dict, store: Any) -> None:
    if params["calibration_run"] is None or store is None:
        return
    table = read_run(store, params["calibration_run"]).array("calibration")
    if table.ndim == 2:
        table = table[None]
    if table.shape[0] != params["windows"]:
        raise ParameterError(f"parameter calibration_run: run {params['calibration_run']}'s table has "
                             f"{table.shape[0]} windows, this run {params['windows']}")


def plot_mac_transfer(data: RunData) -> Any:
    fig, axes = figure(1, 2, 11, 4)
    table = data.array("calibration")
    table = table[None] if table.ndim == 2 else table
    for j, colour in zip((0, 21, 42, 63), ("tab:blue", "tab:orange", "tab:green", "tab:red")):
        for w in range(table.shape[0]):
            axes[0].plot(table[w, j], np.arange(16) + 16 * w, ".-", ms=3, color=colour,
                         label=f"column {j}" if w == 0 else None)
    axes[0].set_xlabel("mean ideal MAC of the reads giving the code")
    axes[0].set_ylabel("TDC code + 16 x window")
    axes[0].set_title("transfer, every window")
    axes[0].legend(fontsize=7)
    counts = data.last("mac_error_histogram")
    edges = data.last("mac_error_bin_edges")
    axes[1].stairs(counts, edges, fill=True, color="tab:blue")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("decoded minus ideal MAC")
    axes[1].set_ylabel("column reads")
    s = data.summary or {}
    if s:
        axes[1].set_title(f"MAC error: mean {s['mac_error_mean']:+.2f} ± {s['mac_error_mean_se']:.2f}, "
                          f"std {s['mac_error_std']:.2f}")
    return fig


@procedure(plots=(plot_mac_transfer,), validate=_validate, rehearsal="nominal")
def mac_transfer(
    repeats: Annotated[int, Param("reads of every level pattern", low=1, high=1000)] = 10,
    lsb: Annotated[float, Param("TDC LSB of the windows", "s", 0.0625e-9, 1e-9)] = 0.25e-9,
    windows: Annotated[int, Param("overlapping TDC windows", low=1, high=9)] = 6,
    matrix_seed: Annotated[int, seed_param("seed of the random matrix programmed for the measurement")] = 1,
    calibration_run: Annotated[RunId | None, Param("decode with the calibration table of this earlier run",
                                                   record="calibration")] = None,
) -> Plan:
    """TDC code against MAC for every column over the full range; calibration table; MAC errors"""
    yield from ensure_powered()
    reused = None if calibration_run is None else (yield Load(calibration_run)).array("calibration")
    yield Call("chip.write_array", random_signs(matrix_seed))
    stored = yield Call("chip.verify_array")              # the MAC the chip can compute is of what it holds
    yield Record("weights", stored, description="the matrix as the chip holds it", axes=("row", "column"))
    x = np.repeat(level_patterns(stored), repeats, axis=0)
    ideal = x.astype(np.int64) @ stored.astype(np.int64)
    starts = fixed_windows(windows, lsb)
    yield Record("window_starts", starts, "s", "TDC start of every window")
    before = (yield Read("chip.tdc_start")), (yield Read("chip.tdc_lsb"))
    codes, tables = [], []
    try:
        for w, start in enumerate(starts):                # the same inputs under every window
            yield Call("chip.set_tdc_window", float(start), lsb)
            codes.append((yield Call("chip.mac_batch", x)))
            tables.append(window_table(codes[-1], ideal))
            yield Record("calibration", tables[-1], "MAC", "mean ideal MAC per column and code of one window",
                         ("column", "code"))
            yield Progress("mac-transfer", w + 1, len(starts))
    finally:
        for column, (start, width) in enumerate(zip(*before)):
            yield Call("chip.set_tdc_window", float(start), float(width), column)
    tables = np.stack(tables) if reused is None else reused.reshape(-1, COLUMNS, TDC_CODES)
    estimate = decode_nearest(np.stack(codes), tables)
    error = estimate - ideal
    finite = error[np.isfinite(error)]
    yield Record("mac_error_bin_edges", ERROR_BINS, "MAC")
    yield Record("mac_error_histogram", np.histogram(finite, bins=ERROR_BINS)[0], "column reads",
                 "decoded minus ideal MAC", ("mac_error_bin_edges",))
    yield Record("mac_error_by_column", np.nanstd(error, axis=0), "MAC",
                 "standard deviation of the MAC error of each column", ("column",))
    return {"mac_error_mean": float(finite.mean()), "mac_error_mean_se": float(finite.std() / np.sqrt(finite.size)),
            "mac_error_std": float(finite.std()), "exact_fraction": float(np.mean(np.abs(finite) < 1.0)),
            "undecoded": int(error.size - finite.size), "vector_reads": int(len(x) * windows)}
