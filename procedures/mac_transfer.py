"""mac-transfer: TDC code against MAC for every column, a calibration table, the MAC error distribution.

The 4-bit TDC sees 16 codes of a column's delay window; with an LSB of about
one MAC step (0.25 ns) and six overlapping windows (starts 12 LSB apart, so
neighbours share four codes, 1 ns, five times the read noise) every one of
the 65 levels falls well inside some window on every read.  For every
column, window and code the calibration table holds the mean ideal MAC of
the reads that gave that code; decoding a vector picks, per column, the
first window whose code is not clipped.  The table is recorded and can be
reused by later runs (``calibration_run``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labctl.procedure import Parameter, ParameterError, Plan, Procedure, RunContext

from .common import CLOCK_HZ, ensure_powered, figure

FIRST_START = 12.875e-9   # s: half an LSB before the nominal MAC=+64 delay
STEP_LEVELS = 12          # neighbouring windows share four codes


def level_patterns(weights: np.ndarray) -> np.ndarray:
    """For every column j and k = 0..64: the input that mismatches the first k rows of column j."""
    rows = np.arange(64)
    out = np.empty((64 * 65, 64), np.int8)
    for j in range(64):
        for k in range(65):
            out[j * 65 + k] = np.where(rows < k, -weights[:, j], weights[:, j])
    return out


def window_starts(windows: int, lsb: float) -> np.ndarray:
    return FIRST_START + STEP_LEVELS * lsb * np.arange(windows)


def build_table(codes: np.ndarray, ideal: np.ndarray) -> np.ndarray:
    """Mean ideal MAC per (column, window, code); NaN where a code never occurred."""
    windows = codes.shape[0]
    table = np.full((64, windows, 16), np.nan)
    for w in range(windows):
        for j in range(64):
            sums = np.bincount(codes[w, :, j], weights=ideal[:, j], minlength=16)
            counts = np.bincount(codes[w, :, j], minlength=16)
            with np.errstate(invalid="ignore", divide="ignore"):
                table[j, w] = np.where(counts > 0, sums / counts, np.nan)
    return table


def decode(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """MAC estimates (n, 64) from codes under every window and a calibration table.

    Per column and vector the window whose code sits nearest the middle of
    its range decides (clipped codes only when no window has an unclipped one).
    """
    windows, n, _ = codes.shape
    cols = np.arange(64)[None, :]
    values = np.stack([table[cols, w, codes[w]] for w in range(windows)])     # (windows, n, 64)
    clipped = (codes == 0) | (codes == 15)
    score = np.abs(codes - 7.5) + 100.0 * clipped
    score = np.where(np.isnan(values), np.inf, score)
    best = score.argmin(axis=0)
    return np.take_along_axis(values, best[None], axis=0)[0]


class MacTransfer(Procedure):
    name = "mac-transfer"
    summary = "TDC code against MAC for every column over the full range; calibration table; MAC errors"
    parameters = (
        Parameter("repeats", int, 10, "reads of every level pattern", low=1, high=1000),
        Parameter("lsb", float, 0.25e-9, "TDC LSB of the windows", "s", low=0.0625e-9, high=1e-9),
        Parameter("windows", int, 6, "overlapping TDC windows", low=1, high=9),
        Parameter("matrix_seed", int, 1, "seed of the random matrix programmed for the measurement"),
        Parameter("calibration_run", int, 0, "reuse the calibration table of this earlier run (0: build one)",
                  low=0),
    )

    def plan(self, params: dict, bench: Any) -> Plan:
        n = 64 * 65 * params["repeats"] * params["windows"]
        plan = Plan(steps=["program and verify a random matrix",
                           f"{n} MAC reads: 4160 level patterns x {params['repeats']} repeats x {params['windows']} windows",
                           "calibration table per column, window and code", "MAC error distribution"])
        plan.send("vwrite", bench.rails.vwrite)
        plan.duration_s = (192 + n) / CLOCK_HZ
        return plan

    def run(self, ctx: RunContext, params: dict) -> dict:
        chip = ctx.chip
        ensure_powered(ctx.bench)
        weights = np.random.default_rng(params["matrix_seed"]).choice(np.array([-1, 1], np.int8), (64, 64))
        chip.write_array(weights)
        stored = chip.verify_array()                 # the MAC the chip can compute is of what it holds
        x = np.repeat(level_patterns(stored), params["repeats"], axis=0)
        ideal = x.astype(np.int64) @ stored.astype(np.int64)
        starts = window_starts(params["windows"], params["lsb"])
        codes = []
        for w, start in enumerate(starts):           # the same inputs under every window
            chip.set_tdc_window(float(start), params["lsb"])
            codes.append(chip.mac_batch(x))
            ctx.progress("mac-transfer", w + 1, len(starts))
        codes = np.stack(codes)                       # (windows, n, 64)
        if params["calibration_run"]:
            table = self._reused_table(ctx, params["calibration_run"], codes.shape[0])
        else:
            table = build_table(codes, ideal)
        chip.set_tdc_window(13e-9, 1e-9)             # back to the default window
        estimate = decode(codes, table)
        error = estimate - ideal
        finite = np.isfinite(error)
        ctx.record("calibration", table)
        ctx.record("window_starts", starts)
        ctx.record("weights", stored)
        ctx.record("mac_error_histogram", np.histogram(error[finite], bins=np.arange(-20.5, 21.5))[0])
        ctx.record("mac_error_by_column", np.array([np.nanstd(error[:, j]) for j in range(64)]))
        self._plots(ctx, codes, ideal, error)
        return {"mac_error_mean": float(np.nanmean(error)), "mac_error_std": float(np.nanstd(error)),
                "exact_fraction": float(np.mean(np.abs(error[finite]) < 1.0)),
                "undecoded": int((~finite).sum()), "reads": int(codes.size // 64)}

    @staticmethod
    def _reused_table(ctx: RunContext, run_id: int, windows: int) -> np.ndarray:
        tables = [v for name, v in ctx.store.records(run_id) if name == "calibration"]
        if not tables:
            raise ParameterError(f"parameter calibration_run: run {run_id} has no calibration table")
        if tables[-1].shape != (64, windows, 16):
            raise ParameterError(f"parameter calibration_run: run {run_id}'s table has "
                                 f"{tables[-1].shape[1]} windows, this run {windows}")
        return tables[-1]

    @staticmethod
    def _plots(ctx: RunContext, codes: np.ndarray, ideal: np.ndarray, error: np.ndarray) -> None:
        fig, axes = figure(1, 2, 11, 4)
        for j, colour in zip((0, 21, 42, 63), ("tab:blue", "tab:orange", "tab:green", "tab:red")):
            for w in range(codes.shape[0]):
                axes[0].plot(ideal[::7, j], codes[w, ::7, j] + 16 * w, ".", ms=2, color=colour,
                             label=f"column {j}" if w == 0 else None)
        axes[0].set_xlabel("ideal MAC")
        axes[0].set_ylabel("TDC code + 16 x window")
        axes[0].set_title("transfer, every window")
        axes[0].legend(fontsize=7)
        finite = error[np.isfinite(error)]
        axes[1].hist(finite, bins=np.arange(-20.5, 21.5), color="tab:blue")
        axes[1].set_yscale("log")
        axes[1].set_xlabel("decoded minus ideal MAC")
        axes[1].set_title(f"MAC error: mean {finite.mean():+.2f}, std {finite.std():.2f}")
        ctx.plot("mac_transfer", fig)
