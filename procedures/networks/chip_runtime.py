"""A binary layer on the chip, as plans (``yield from``): program each tile once, calibrate it, stream, decode.

Everything goes through plan messages to the chip interface and the bench's
supply (never the model), so the same code runs on the simulated and the
real bench.  For each tile of a layer (``tiling.TileLayout``: row tile by
row tile, column tile by column tile):

1. **program** it once: write, verify, rewrite failing rows
   (``labctl.stubs.program``); padding as in ``tiling``, and the padding
   columns of a narrow column tile filled with replicas of its real columns
   (``tiling``);
2. for every TDC setting asked (a sweep reads the same programmed tile):
   **calibrate** it, that is place each column's windows on the distribution of the
   tile's partial sums over the calibration vectors (their exact sums come
   from the weights, on the host), read the calibration vectors, move the
   windows of columns whose reads landed more than ``RECENTRE_CODES`` off
   centre and read again (at most ``MAX_READS`` reads), and tabulate code ->
   mean ideal MAC per window and column (``benchspec.tdc``); or take the
   windows and tables of an earlier run or an earlier pass of the session
   (``Session.reuse``, keyed by network name, layer, tile and setting);
3. **stream** every input vector through it (one ``mac_batch`` per window:
   the drivers split long batches), decode, average replicas, subtract the
   padding leftover and add the row tile's partial sums on the host.

Each tile's programming and reading are recorded as they happen (records
``tile_program``, ``tile_read``, ``tile_starts``, ``tile_tables``), with the
chip clocks they took (the chip's cycle counter) and, on a bench with a
supply, their energy from the rail current readings (the idle power
subtracted, as ``procedures.energy`` does).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from benchspec.mx64 import COLUMNS, RAILS, TDC_CODES
from benchspec.tdc import (TdcSetting, calibration_tables, centred_windows, decode_mean, expected_times,
                           group_centres, observed_centres, off_centre)
from labctl.plan import Call, Context, Plan, Progress, Read, Record
from labctl.stubs import averaged_currents, idle, program

from .tiling import TileLayout, merge_replicas, replica_count, with_replicas

RECENTRE_CODES = 2.0              # calibration reads further than this from their window group's centre move it
MAX_READS = 3                     # calibration reads of a tile at one setting (the first, then moves)
IDLE_WINDOW_S = 0.05              # bench time of the idle current window that gives the idle power, s
NOMINAL_TEMPERATURE_K = 298.15    # the chip model's reference (25 degC), recorded on a bench without a thermometer

#: identifies a tile calibration: (network, layer, row tile, column tile, LSB in s, windows)
CalibrationKey = tuple[str, int, int, int, float, int]


@dataclass(frozen=True)
class Meter:
    """The bench supply's rail readings: targets of the current readings, rail volts, idle power (W)."""

    channels: dict[str, str]
    volts: dict[str, float]
    idle_watts: float

    def joules(self, amps: dict[str, float], seconds: float) -> float:
        """Energy (J) above idle of a window with average rail currents ``amps`` over ``seconds``."""
        return (sum(self.volts[r] * amps[r] for r in RAILS) - self.idle_watts) * seconds


def open_meter() -> Plan:
    """A Meter on the bench's supply (rail volts, then an idle window), or None on a bench without one."""
    context = yield Context()
    if "supply" not in context.roles:
        return None
    channel = {rail: f"supply.ch{context.wiring.channel(rail)}" for rail in RAILS}
    volts = {}
    for rail in RAILS:
        volts[rail] = float((yield Read(f"{channel[rail]}.measure_voltage")))
    channels = {rail: f"{channel[rail]}.measure_current" for rail in RAILS}
    amps, seconds, _ = yield from averaged_currents(channels, idle(IDLE_WINDOW_S))
    return Meter(channels, volts, sum(volts[r] * amps[r] for r in RAILS))


def metered(meter: Meter | None, work: Plan) -> Plan:
    """Run ``work``; (energy above idle in J, or None without a meter; chip clocks it took; its result)."""
    before = yield Read("chip.cycle_counter")
    if meter is None:
        joules, result = None, (yield from work)
    else:
        amps, seconds, result = yield from averaged_currents(meter.channels, work)
        joules = meter.joules(amps, seconds)
    return joules, int((yield Read("chip.cycle_counter")) - before), result


def measure_conditions() -> Plan:
    """What a measurement on the chip holds under: die, clock (Hz), read bias (V), temperature (K) (a dict)."""
    identity = yield Call("chip.identify")
    context = yield Context()
    if context.has("thermo"):
        kelvin, source = float((yield Read("thermo.temperature"))), "Lake Shore sensor A"
    else:
        kelvin, source = NOMINAL_TEMPERATURE_K, "nominal (no thermometer on the bench)"
    return {"die": identity.die_id, "clock_hz": float((yield Read("chip.clock_hz"))),
            "read_bias_V": float((yield Read("chip.read_bias"))),
            "temperature_K": kelvin, "temperature_source": source}


class Windows:
    """The TDC windows the chip holds (as set through this object), so that only changes are sent."""

    def __init__(self, starts: np.ndarray, lsbs: np.ndarray) -> None:
        self.starts = np.array(starts, float)
        self.lsbs = np.array(lsbs, float)

    def set(self, starts: np.ndarray, lsb: float | np.ndarray) -> Plan:
        """Set every column's window (start s, LSB s), sending only the columns that change."""
        starts = np.broadcast_to(np.asarray(starts, float), (COLUMNS,))
        lsbs = np.broadcast_to(np.asarray(lsb, float), (COLUMNS,))
        for j in np.flatnonzero((starts != self.starts) | (lsbs != self.lsbs)):
            yield Call("chip.set_tdc_window", float(starts[j]), float(lsbs[j]), int(j))
            self.starts[j], self.lsbs[j] = starts[j], lsbs[j]


@dataclass
class Costs:
    """What the runs of a session cost the chip: tiles programmed, chip clocks, energy (J; None: no supply)."""

    tiles_programmed: int = 0
    cells_wrong: int = 0
    program_clocks: int = 0
    calibration_clocks: int = 0
    inference_clocks: int = 0
    inference_vectors: int = 0
    program_joules: float | None = None
    calibration_joules: float | None = None
    inference_joules: float | None = None

    def add(self, phase: str, clocks: int, joules: float | None) -> None:
        setattr(self, f"{phase}_clocks", getattr(self, f"{phase}_clocks") + clocks)
        if joules is not None:
            setattr(self, f"{phase}_joules", (getattr(self, f"{phase}_joules") or 0.0) + joules)


@dataclass(frozen=True, eq=False)
class TileCalibration:
    """A tile's windows at one setting: starts (windows, 64) s, LSB s, tables (windows, 64, 16) MAC."""

    starts: np.ndarray
    lsb: float
    tables: np.ndarray


@dataclass
class Session:
    """What the layers run on one chip share: the windows it holds and held at the start, each column's
    delay at MAC 0, the energy meter, calibrations to reuse, replicas on or off, and the costs so far."""

    windows: Windows
    original: tuple[np.ndarray, np.ndarray]
    zero_mac_times: np.ndarray
    meter: Meter | None
    reuse: dict[CalibrationKey, TileCalibration] = field(default_factory=dict)
    replicate: bool = True
    costs: Costs = field(default_factory=Costs)


def open_session(replicate: bool = True, reuse: dict[CalibrationKey, TileCalibration] | None = None) -> Plan:
    """A Session on the chip as it is: its windows now (the power-up window is centred on each column's
    MAC 0, docs/chip_model.md) and the supply's idle power."""
    starts, lsbs = (yield Read("chip.tdc_start")), (yield Read("chip.tdc_lsb"))
    starts, lsbs = np.asarray(starts, float), np.asarray(lsbs, float)
    meter = yield from open_meter()
    return Session(Windows(starts, lsbs), (starts, lsbs), starts + TDC_CODES / 2 * lsbs, meter, dict(reuse or {}),
                   replicate)


def close_session(session: Session) -> Plan:
    """Put back the windows the chip held when the session opened."""
    yield from session.windows.set(*session.original)


def read(session: Session, x: np.ndarray, starts: np.ndarray, lsb: float) -> Plan:
    """Codes (windows, n, 64) uint8 of input vectors ``x`` (n, 64) under each window of ``starts`` (windows, 64)."""
    codes = []
    for window in starts:
        yield from session.windows.set(window, lsb)
        codes.append(np.asarray((yield Call("chip.mac_batch", x)), np.uint8))
    return np.stack(codes)


def calibrate(session: Session, x: np.ndarray, ideal: np.ndarray, setting: TdcSetting) -> Plan:
    """Windows and tables of the programmed tile from calibration vectors ``x`` (m, 64) with exact
    full-column MACs ``ideal`` (m, 64); returns (TileCalibration, the last read's codes, reads)."""
    centres = expected_times(session.zero_mac_times, np.median(ideal, axis=0))
    for reads in range(1, MAX_READS + 1):
        starts = centred_windows(centres, setting)
        codes = yield from read(session, x, starts, setting.lsb)
        moved = off_centre(codes, starts, setting, RECENTRE_CODES)
        if not moved.any() or reads == MAX_READS:
            break
        centres = np.where(moved, observed_centres(codes, starts, setting.lsb), group_centres(starts, setting))
    return TileCalibration(starts, setting.lsb, calibration_tables(codes, ideal, setting.lsb)), codes, reads


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
    ideal: np.ndarray
    decoded: np.ndarray
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
    tiles = list(itertools.product(range(layout.row_tiles), range(layout.column_tiles)))
    for done, (t, c) in enumerate(tiles, 1):
        rows, real = slice(64 * t, 64 * t + 64), layout.real_columns(c)
        copies = replica_count(real) if session.replicate else 1
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
    if calibration is None:
        ideal = x_calibration.astype(np.int32) @ tile.astype(np.int32)
        cal_joules, cal_clocks, (calibration, codes, reads) = yield from metered(
            session.meter, calibrate(session, x_calibration, ideal, setting))
        session.costs.add("calibration", cal_clocks, cal_joules)
        session.reuse[key] = calibration              # a later pass of the session over this tile keeps it
        pair = ideal.astype(np.int16), decode_mean(codes, calibration.tables).astype(np.float32)
    joules, clocks, codes = yield from metered(session.meter, read(session, x, calibration.starts, calibration.lsb))
    session.costs.add("inference", clocks, joules)
    session.costs.inference_vectors += len(x) * setting.windows
    yield Record("tile_read", {**where, "lsb": setting.lsb, "windows": setting.windows, "calibration_reads": reads,
                               "reused": pair is None,
                               "calibration_error_std": None if pair is None else float((pair[1] - pair[0]).std()),
                               "calibration_clocks": cal_clocks, "calibration_energy_J": cal_joules,
                               "inference_clocks": clocks, "inference_energy_J": joules})
    yield Record("tile_starts", calibration.starts, "s", "TDC window starts of the tile's columns",
                 ("window", "column"))
    yield Record("tile_tables", calibration.tables, "MAC", "mean ideal full-column MAC per window, column and code",
                 ("window", "column", "code"))
    return decode_mean(codes, calibration.tables), pair


def stack_pairs(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Calibration pairs (exact, decoded) stacked, each (pairs, 64); empty arrays of their dtypes when none."""
    if not pairs:
        return np.zeros((0, COLUMNS), np.int16), np.zeros((0, COLUMNS), np.float32)
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
