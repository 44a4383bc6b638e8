"""A binary layer on the chip, as a plan (``yield from``): program each tile once, calibrate it, stream, decode.

For each tile of a layer (``tiling.TileLayout``: row tile by row tile,
column tile by column tile):

1. **program** it once: write, verify, rewrite failing rows
   (``labctl.stubs.program``); padding as in ``tiling``, and the padding
   columns of a narrow column tile filled with replicas of its real columns
   (``tiling``);
2. for every TDC setting asked (a sweep reads the same programmed tile):
   **calibrate** it (``readout.calibrate``: at most ``readout.MAX_READS``
   reads of the calibration vectors), or take the windows and tables of an
   earlier run or an earlier pass of the session (``Session.reuse``, keyed
   by network name, layer, tile and setting: a tile calibrated once in a
   session is never read for calibration again);
3. **stream** every input vector through it (one ``mac_batch`` per window:
   the drivers split long batches), decode, average replicas, subtract the
   padding leftover and add the row tile's partial sums on the host.

Each tile's programming and reading are recorded as they happen (records
``tile_program``, ``tile_read``, ``tile_starts``, ``tile_tables``), with the
chip clocks they took (the chip's cycle counter) and, on a bench with a
supply, their energy (``session.metered``); the session's ``Costs`` add them up.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS
from benchspec.tdc import TdcSetting, decode_mean
from labctl.plan import Compute, Plan, Progress, Record
from labctl.stubs import program

from ..host.network import exact_product
from .pipeline import DIE_TABLE_VECTORS
from .readout import TileCalibration, calibrate, centre_macs, placed_windows, read
from .session import Session, metered
from .tiling import TileLayout, merge_replicas, replica_count, with_replicas


DIE_TABLE_SEED = 0x5EED          #: the die-level table's random matrix and inputs (the same on every die)


@dataclass(frozen=True, eq=False)
class LayerJob:
    """A layer's inputs at one TDC setting: vectors to compute (n, inputs) and calibration vectors (m, inputs)."""

    setting: TdcSetting
    x: np.ndarray
    calibration: np.ndarray
    keep_columns: bool = False          # also return every tile column's decoded full-column MAC of ``x``


@dataclass(frozen=True, eq=False)
class LayerResult:
    """Decoded pre-activations (n, outputs) float64, MAC units; the calibration vectors' exact and decoded
    full-column MACs of every tile calibrated here, stacked (tiles x m, 64) (empty when reused); and, if the
    job kept them, the decoded full-column MACs of its vectors, (row tiles, n, 64 x column tiles) float64
    (real columns; NaN in padding columns), beside ``TileLayout.column_macs``."""

    preactivations: np.ndarray
    calibration_ideal: np.ndarray
    calibration_decoded: np.ndarray
    columns: np.ndarray | None = None


def chip_layer(session: Session, layer: int, weights: np.ndarray, jobs: list[LayerJob],
               network: str = "default") -> Plan:
    """Every job's pre-activations of binary layer ``layer`` (weights (inputs, outputs) +1/-1), computed on
    the chip tile by tile; a LayerResult per job (module doc)."""
    layout = TileLayout(*weights.shape)
    padded_weights = layout.padded_weights(weights)
    inputs = [(layout.padded_inputs(job.x), layout.padded_inputs(job.calibration)) for job in jobs]
    out = [np.zeros((len(job.x), layout.outputs)) for job in jobs]
    columns = [np.full((layout.row_tiles, len(job.x), 64 * layout.column_tiles), np.nan) if job.keep_columns
               else None for job in jobs]
    pairs: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in jobs]
    if not session.pipeline.tile_tables:                   # the die-level tables, measured before any tile
        for job in jobs:
            yield from die_table(session, job.setting)
    tiles = list(itertools.product(range(layout.row_tiles), range(layout.column_tiles)))
    for done, (t, c) in enumerate(tiles, 1):
        rows, real = slice(64 * t, 64 * t + 64), layout.real_columns(c)
        copies = replica_count(real) if session.pipeline.replicas else 1
        tile = with_replicas(padded_weights[rows, 64 * c: 64 * c + 64], real, copies)
        where = {"network": network, "layer": layer, "row_tile": t, "column_tile": c}
        joules, clocks, good = yield from metered(session.meter, program(tile, reads=0))
        session.costs.tiles_programmed += 1
        session.costs.cells_wrong += int((~good).sum())
        session.costs.add("program", clocks, joules)
        yield Record("tile_program", {**where, "real_rows": layout.real_rows(t), "real_columns": real,
                                      "replicas": copies, "cells_wrong": int((~good).sum()), "clocks": clocks,
                                      "energy_J": joules})
        for k, job in enumerate(jobs):
            decoded, pair = yield from _read_tile(session, tile, inputs[k][0][:, rows], inputs[k][1][:, rows],
                                                  job.setting, where)
            merged = merge_replicas(decoded, real, copies)
            out[k][:, 64 * c: 64 * c + real] += merged - layout.leftover()[t]
            if columns[k] is not None:
                columns[k][t, :, 64 * c: 64 * c + real] = merged
            pairs[k] += [pair] if pair is not None else []
        yield Progress(f"{network} network, layer {layer} tiles", done, len(tiles))
    return [LayerResult(a, *stack_pairs(p), kept) for a, p, kept in zip(out, pairs, columns)]


def _read_tile(session: Session, tile: np.ndarray, x: np.ndarray, x_calibration: np.ndarray, setting: TdcSetting,
               where: dict) -> Plan:
    """Decoded full-column MACs (n, 64) of the programmed ``tile`` for vectors ``x``, calibrated with
    ``x_calibration`` (or a reused calibration); and the calibration's (exact, decoded) pair, or None."""
    key = (where["network"], where["layer"], where["row_tile"], where["column_tile"], setting.lsb, setting.windows)
    calibration, pair = session.reuse.get(key), None
    cal_joules, cal_clocks, reads = None, 0, 0
    pipeline = session.pipeline
    if calibration is None:
        ideal = exact_product(x_calibration, tile)
        if pipeline.tile_tables or pipeline.tile_windows and pipeline.recentre:     # reads the calibration inputs
            cal_joules, cal_clocks, (calibration, codes, reads) = yield from metered(
                session.meter, calibrate(session.windows, session.zero_mac_times, x_calibration, ideal, setting,
                                         pipeline.recentre, pipeline.tile_windows))
            session.costs.add("calibration", cal_clocks, cal_joules)
            session.costs.calibration_reads += reads
            session.costs.calibration_vectors += reads * len(x_calibration) * setting.windows
            if not pipeline.tile_tables:
                calibration = with_die_table(session, calibration, setting)
            else:
                pair = ideal.astype(np.int16), decode_mean(codes, calibration.tables).astype(np.float32)
        else:                                          # placed, not read: the die-level table decodes
            starts, unplaced = placed_windows(session.zero_mac_times, ideal, setting, pipeline.tile_windows)
            calibration = with_die_table(session, TileCalibration(starts, setting.lsb, np.zeros(0), unplaced),
                                         setting)
        session.reuse[key] = calibration              # a later pass of the session over this tile keeps it
    joules, clocks, codes = yield from metered(session.meter,
                                               read(session.windows, x, calibration.starts, calibration.lsb))
    session.costs.add("inference", clocks, joules)
    session.costs.inference_vectors += len(x) * setting.windows
    unplaced = [] if calibration.unplaced is None else np.flatnonzero(calibration.unplaced).tolist()
    yield Record("tile_read", {**where, "lsb": setting.lsb, "windows": setting.windows, "calibration_reads": reads,
                               "reused": pair is None, "unplaced_columns": unplaced,
                               "calibration_error_std": None if pair is None else float((pair[1] - pair[0]).std()),
                               "calibration_clocks": cal_clocks, "calibration_energy_J": cal_joules,
                               "inference_clocks": clocks, "inference_energy_J": joules})
    yield Record("tile_starts", calibration.starts, "s", "TDC window starts of the tile's columns",
                 ("window", "column"))
    yield Record("tile_tables", calibration.tables, "MAC", "mean ideal full-column MAC per window, column and code",
                 ("window", "column", "code"))
    return (yield Compute(decode_mean, codes, calibration.tables, stub=_undecoded)), pair


def die_table(session: Session, setting: TdcSetting) -> Plan:
    """Measure the die-level table of ``setting`` once per session (pipeline.py): a random matrix on the array,
    random inputs whose partial sums cover the MAC range, read under windows centred on MAC 0; the table (windows,
    64, 16) holds each code's mean MAC relative to the window group's centre."""
    key = (setting.lsb, setting.windows)
    if key in session.die_tables:
        return
    rng = np.random.default_rng(DIE_TABLE_SEED)
    weights = rng.choice(np.array([-1, 1], np.int8), (ROWS, COLUMNS))
    column = rng.integers(COLUMNS, size=DIE_TABLE_VECTORS)        # each vector matches one column, partly
    flipped = rng.random((DIE_TABLE_VECTORS, ROWS)) < rng.random((DIE_TABLE_VECTORS, 1))
    x = np.where(flipped, -weights[:, column].T, weights[:, column].T).astype(np.int8)
    ideal = exact_product(x, weights)
    joules, clocks, _ = yield from metered(session.meter, program(weights, reads=0))
    session.costs.add("calibration", clocks, joules)
    cal_joules, cal_clocks, (calibration, _, reads) = yield from metered(
        session.meter, calibrate(session.windows, session.zero_mac_times, x, ideal, setting, False, False))
    session.costs.add("calibration", cal_clocks, cal_joules)
    session.costs.calibration_reads += reads
    session.costs.calibration_vectors += reads * len(x) * setting.windows
    table = calibration.tables - centre_macs(session.zero_mac_times, calibration.starts, setting)[None, :, None]
    session.die_tables[key] = table
    yield Record("die_table", table, "MAC", "the die-level table: each code's mean MAC relative to the window "
                 "group's centre", ("window", "column", "code"))


def with_die_table(session: Session, calibration: TileCalibration, setting: TdcSetting) -> TileCalibration:
    """A tile's windows decoded by the session's die-level table, moved to each column's window centre."""
    centre = centre_macs(session.zero_mac_times, calibration.starts, setting)
    tables = session.die_tables[(setting.lsb, setting.windows)] + centre[None, :, None]
    return TileCalibration(calibration.starts, calibration.lsb, tables, calibration.unplaced)


def _undecoded(codes: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """The rehearsal's stand-in for decoding a tile's inference reads: zeros of the decoded shape."""
    return np.zeros(codes.shape[1:])


def stack_pairs(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Calibration pairs (exact, decoded) stacked, each (pairs, 64); empty arrays of their dtypes when none."""
    if not pairs:
        return np.zeros((0, COLUMNS), np.int16), np.zeros((0, COLUMNS), np.float32)
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
