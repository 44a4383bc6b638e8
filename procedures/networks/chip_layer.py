"""A binary layer on the array through plan messages only: calibration, error pairs, tiled product.

Small and self-contained so that the shared network runtime can replace it
(docs/networks.md, "Integration").

- TDC: the six overlapping windows of mac-transfer (LSB 0.25 ns, about one
  MAC level per code, starts 12 LSB apart, ``mac_transfer.window_starts``):
  every input vector is read once in each window, so every partial sum from
  -64 to 64 falls well inside some window and nothing clips.  (The power-up
  window alone, LSB 0.4 ns centred on MAC = 0, clips beyond about +/-22,
  where a trained network's partial sums often are.)
- ``calibrate``: programs a seeded random matrix and streams *level
  patterns*: for every column j and every level k = 0..64, an input that
  mismatches k randomly chosen rows of column j, ``repeats`` times each.  Per
  window, column and code the table holds the mean ideal MAC of the reads
  that gave the code (``mac_transfer.window_table``).
- decoding (``mac_transfer.decode``): per column and vector the window whose
  code sits nearest the middle of its range; its table entry rounded to the
  nearest even integer (a 64-row column MAC is even).
- ``measure_pairs``: the same kind of patterns through other random
  matrices, decoded: (ideal, decoded) column MACs for ``ErrorModel.from_pairs``.
  Several matrices, because part of a column's error is static: it depends
  on which cells (with their own resistances) a matrix and an input select,
  and the calibration absorbs only its own matrix's share.
- ``layer_on_chip``: a layer tile by tile (tiling.TileLayout): each tile
  programmed once with write-verify, every input vector streamed through
  it, the codes decoded and combined by the host.
- ``forward_on_chip``: a network's forward pass with chosen layers on the
  array and the others on the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labctl.plan import Call, Plan
from labctl.stubs import random_signs
from procedures.mac_transfer import decode, window_starts, window_table

from .network import BinaryNetwork, LayerProduct, merge, plain_product
from .tiling import COLUMNS, ROWS, TileLayout

WINDOWS = 6
LSB = 0.25e-9        # s: TDC LSB of every window, about one MAC level per code
RETRIES = 2          # rewrites of rows that fail the verify after programming a tile


def program(weights: np.ndarray, retries: int = RETRIES) -> Plan:
    """Plan: write a 64 x 64 matrix, verify it, rewrite the rows that read wrong (up to ``retries`` times);
    returns the number of cells still wrong."""
    yield Call("chip.write_array", weights)
    read = yield Call("chip.verify_array")
    for _ in range(retries):
        rows = np.flatnonzero((read != weights).any(axis=1))
        if not len(rows):
            break
        for r in rows:
            yield Call("chip.write_row", int(r), weights[r])
            read[r] = yield Call("chip.verify_row", int(r))
    return int((read != weights).sum())


def random_level_patterns(weights: np.ndarray, repeats: int, rng: np.random.Generator) -> np.ndarray:
    """Inputs (64 * 65 * repeats, 64) int8: for column j and level k, k random rows of column j mismatched."""
    levels = np.tile(np.repeat(np.arange(ROWS + 1), repeats), COLUMNS)              # k of every vector
    columns = np.repeat(np.arange(COLUMNS), (ROWS + 1) * repeats)
    rank = rng.random((len(levels), ROWS)).argsort(axis=1).argsort(axis=1)         # random order of the rows
    mismatch = rank < levels[:, None]
    matched = weights[:, columns].T                                                # input matching column j
    return np.where(mismatch, -matched, matched).astype(np.int8)


@dataclass(frozen=True, eq=False)
class Calibration:
    """Mean ideal MAC per window, column and TDC code, (windows, 64, 16) (NaN: never seen); the windows."""

    tables: np.ndarray
    starts: np.ndarray         # (windows,) s, TDC window starts
    lsb: float                 # s, TDC LSB of every window

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Column MACs (n, 64) int64, even, of TDC codes (windows, n, 64)."""
        return 2 * np.rint(decode(codes, self.tables) / 2).astype(np.int64)


def read(x: np.ndarray, calibration: Calibration) -> Plan:
    """Plan: TDC codes (windows, n, 64) of input vectors (n, 64), read once in every window."""
    codes = []
    for start in calibration.starts:
        yield Call("chip.set_tdc_window", float(start), calibration.lsb)
        codes.append(np.asarray((yield Call("chip.mac_batch", x))))
    return np.stack(codes)


def calibrate(matrix_seed: int = 101, repeats: int = 8, pattern_seed: int = 0) -> Plan:
    """Plan: program a random matrix, stream level patterns in every window, return the Calibration."""
    weights = random_signs(matrix_seed)
    yield from program(weights)
    x = random_level_patterns(weights, repeats, np.random.default_rng(pattern_seed))
    ideal = x.astype(np.int64) @ weights.astype(np.int64)
    calibration = Calibration(np.empty(0), window_starts(WINDOWS, LSB), LSB)
    codes = yield from read(x, calibration)
    return Calibration(np.stack([window_table(c, ideal) for c in codes]), calibration.starts, LSB)


def measure_pairs(calibration: Calibration, matrices: int = 4, repeats: int = 4, seed: int = 202) -> Plan:
    """Plan: (ideal, decoded) column MACs, each (matrices * 64 * 65 * repeats, 64) int64, through
    ``matrices`` fresh random matrices (seeds ``seed``, ``seed`` + 1, ...)."""
    ideal, decoded = [], []
    for m in range(matrices):
        weights = random_signs(seed + m)
        yield from program(weights)
        x = random_level_patterns(weights, repeats, np.random.default_rng(seed + m))
        ideal.append(x.astype(np.int64) @ weights.astype(np.int64))
        decoded.append(calibration.decode((yield from read(x, calibration))))
    return np.concatenate(ideal), np.concatenate(decoded)


@dataclass(frozen=True, eq=False)
class ChipLayerResult:
    """Pre-activations (n, outputs) from the chip and exact; every tile column's ideal and decoded MAC,
    (row_tiles, n, 64 column_tiles)."""

    preactivations: np.ndarray
    exact: np.ndarray
    ideal: np.ndarray
    decoded: np.ndarray


def layer_on_chip(x: np.ndarray, weights: np.ndarray, calibration: Calibration) -> Plan:
    """Plan: pre-activations of +1/-1 inputs (n, inputs) through binary weights (inputs, outputs) on the array.

    Returns a ChipLayerResult; the tile schedule is row tile by row tile,
    column tile by column tile, each programmed once (write-verify).
    """
    layout = TileLayout(*weights.shape)
    ideal = layout.column_macs(x, weights)
    decoded = np.empty_like(ideal)
    padded = layout.padded_weights(weights)
    for t in range(layout.row_tiles):
        inputs = layout.tile_inputs(x, t)
        for c in range(layout.column_tiles):
            yield from program(np.ascontiguousarray(padded[ROWS * t: ROWS * (t + 1), COLUMNS * c: COLUMNS * (c + 1)]))
            decoded[t, :, COLUMNS * c: COLUMNS * (c + 1)] = calibration.decode((yield from read(inputs, calibration)))
    return ChipLayerResult(layout.combine(decoded), layout.combine(ideal), ideal, decoded)


def forward_on_chip(network: BinaryNetwork, images: np.ndarray, chip_layers: frozenset[int],
                    calibration: Calibration, host: LayerProduct = plain_product, batch: int | None = None,
                    keep_preactivations: bool = True) -> Plan:
    """Plan: the network's forward pass with the layers in ``chip_layers`` on the array, the rest by ``host``.

    The images go through the host layers ``batch`` at a time (bounding the
    memory of the lowered convolutions), in lockstep, and every chip layer
    sees all of them in one ``layer_on_chip``: each tile is programmed once.
    Returns (Forward of all images, {layer: ChipLayerResult}).
    """
    step = batch or max(len(images), 1)
    passes = [network.layer_requests(images[s: s + step], keep_preactivations) for s in range(0, len(images), step)]
    requests = [next(p) for p in passes]
    results: dict[int, ChipLayerResult] = {}
    forwards = []
    while requests:
        index, weights = requests[0][0], requests[0][2]
        if index in chip_layers:
            sizes = np.cumsum([len(r[1]) for r in requests])[:-1]
            results[index] = yield from layer_on_chip(np.concatenate([r[1] for r in requests]), weights, calibration)
            answers = np.split(results[index].preactivations, sizes)
        else:
            answers = [host(*r) for r in requests]
        following = []
        for p, answer in zip(passes, answers):
            try:
                following.append(p.send(answer))
            except StopIteration as done:
                forwards.append(done.value)
        requests = following
    return merge(forwards), results
