"""A binary layer of any size on 64 x 64 tiles: padding, partial sums, schedule and counts.

Layer inputs are cut into row tiles of 64 consecutive inputs and outputs
into column tiles of 64 consecutive outputs; tile (t, c) holds weights
[64 t : 64 t + 64, 64 c : 64 c + 64].  The array always sums all 64 rows of a
column, so a row tile with r < 64 real inputs is padded (docs/networks.md):

- padding rows come in pairs under the same input (+1): one row with weight
  +1, the next with weight -1.  A pair contributes +1 - 1 = 0 to the MAC,
  and in the resistance-summation column always one R_low plus one R_high,
  whatever the input;
- when 64 - r is odd, the last row has input +1 and weight +1: it adds
  exactly +1, which the host subtracts (``leftover``);
- padding columns (a column tile with fewer than 64 outputs) hold weight +1
  and their outputs are discarded by the host.

A tile column's MAC over all 64 rows is therefore always even (64 - 2 x
mismatches), the real rows' partial sum has the parity of r, and the host
adds the row tiles' partial sums digitally.

**Replicas.** A column tile with at most 32 real outputs (an output layer of
10 classes) fills its padding columns with copies of its real columns; the
host averages the copies' decoded MACs.  The copies sit on other cells and
comparators, so their errors are partly independent, at no extra MAC clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchspec.mx64 import COLUMNS, ROWS

WRITE_CLOCKS_PER_TILE = 128  # 2 clocks per row (left then right MTJs), datasheet section 4; verify not included
CHUNK_VECTORS = 2048         # input vectors per block in the batched products (bounds memory)


def _tiles(n: int, size: int) -> int:
    return -(-n // size)


@dataclass(frozen=True)
class TileLayout:
    """The tiles of a layer with ``inputs`` rows and ``outputs`` columns."""

    inputs: int
    outputs: int

    def __post_init__(self) -> None:
        if self.inputs < 1 or self.outputs < 1:
            raise ValueError(f"layer of {self.inputs} inputs and {self.outputs} outputs: both must be >= 1")

    @property
    def row_tiles(self) -> int:
        return _tiles(self.inputs, ROWS)

    @property
    def column_tiles(self) -> int:
        return _tiles(self.outputs, COLUMNS)

    def real_rows(self, row_tile: int) -> int:
        """Inputs of the layer in row tile ``row_tile`` (the rest are padding)."""
        return min(ROWS, self.inputs - ROWS * row_tile)

    def real_columns(self, column_tile: int) -> int:
        """Outputs of the layer in column tile ``column_tile`` (the rest are discarded)."""
        return min(COLUMNS, self.outputs - COLUMNS * column_tile)

    def leftover(self) -> np.ndarray:
        """Per row tile, the odd padding row's constant contribution (0 or +1 MAC units), (row_tiles,) int32."""
        padding = ROWS - np.array([self.real_rows(t) for t in range(self.row_tiles)])
        return (padding % 2).astype(np.int32)

    def padded_weights(self, weights: np.ndarray) -> np.ndarray:
        """All tiles side by side: (64 row_tiles, 64 column_tiles) int8, tile (t, c) at block (t, c)."""
        if weights.shape != (self.inputs, self.outputs):
            raise ValueError(f"weights {weights.shape} do not match the layout ({self.inputs}, {self.outputs})")
        padded = np.ones((ROWS * self.row_tiles, COLUMNS * self.column_tiles), np.int8)
        padded[: self.inputs, : self.outputs] = weights
        t = self.row_tiles - 1                       # only the last row tile can be short
        first_padding = ROWS * t + self.real_rows(t)
        pairs = (ROWS * self.row_tiles - first_padding) // 2
        padded[first_padding + 1: first_padding + 2 * pairs: 2] = -1   # the -1 row of every pair
        return padded

    def padded_inputs(self, x: np.ndarray) -> np.ndarray:
        """Inputs (n, inputs) +1/-1 with every padding row's input +1: (n, 64 row_tiles) int8."""
        if x.ndim != 2 or x.shape[1] != self.inputs:
            raise ValueError(f"inputs {x.shape} do not match the layout's {self.inputs} inputs")
        padded = np.ones((len(x), ROWS * self.row_tiles), np.int8)
        padded[:, : self.inputs] = x
        return padded

    def tile_weights(self, weights: np.ndarray, row_tile: int, column_tile: int) -> np.ndarray:
        """The 64 x 64 int8 matrix to program for tile (row_tile, column_tile), padding included."""
        block = self.padded_weights(weights)
        return block[ROWS * row_tile: ROWS * (row_tile + 1), COLUMNS * column_tile: COLUMNS * (column_tile + 1)]

    def tile_inputs(self, x: np.ndarray, row_tile: int) -> np.ndarray:
        """The (n, 64) int8 input vectors to stream through row tile ``row_tile``, padding included."""
        return self.padded_inputs(x)[:, ROWS * row_tile: ROWS * (row_tile + 1)]

    def column_macs(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Ideal full-column MACs of every tile: (row_tiles, n, 64 column_tiles) int32.

        Entry [t, k, 64 c + j] is what column j of tile (t, c) sums over its
        64 rows for input vector k (padding rows included): an even number in
        -64..64.
        """
        xp = np.ascontiguousarray(self.padded_inputs(x).reshape(len(x), self.row_tiles, ROWS).transpose(1, 0, 2),
                                  np.float32)
        wp = self.padded_weights(weights).astype(np.float32).reshape(self.row_tiles, ROWS, -1)
        return np.matmul(xp, wp).astype(np.int32)            # sums of 64 +-1 products: exact in float32

    def combine(self, column_macs: np.ndarray) -> np.ndarray:
        """Layer pre-activations (n, outputs) from tile column sums (row_tiles, n, 64 column_tiles).

        Subtracts every row tile's leftover, drops padding columns and adds
        the row tiles (what the host does with decoded partial sums).
        """
        partial = column_macs[:, :, : self.outputs] - self.leftover()[:, None, None]
        return partial.sum(axis=0)


def tiled_product(layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact pre-activations (n, outputs) int32 computed tile by tile with padding (equals x @ weights)."""
    layout = TileLayout(*weights.shape)
    out = np.empty((len(x), weights.shape[1]), np.int32)
    for start in range(0, len(x), CHUNK_VECTORS):
        block = x[start: start + CHUNK_VECTORS]
        out[start: start + len(block)] = layout.combine(layout.column_macs(block, weights))
    return out


@dataclass(frozen=True)
class TileStep:
    """Program one tile, then stream ``vectors`` input vectors through it."""

    layer: int
    row_tile: int
    column_tile: int
    first_input: int     # layer input of the tile's row 0
    rows: int            # real rows (the rest padding)
    first_output: int    # layer output of the tile's column 0
    columns: int         # real columns (the rest discarded)
    vectors: int         # input vectors streamed (images x bit-planes for the first layer)


def schedule(widths: list[int], images: int, first_layer_planes: int = 1) -> list[TileStep]:
    """Tile steps of a network with layer widths [inputs, outputs of layer 0, outputs of layer 1, ...].

    Layer by layer (a layer needs all of the previous layer's activations),
    row tile by row tile, column tile by column tile; every tile is
    programmed once and sees every input vector of the set.
    """
    steps = []
    for layer, (inputs, outputs) in enumerate(zip(widths[:-1], widths[1:])):
        layout = TileLayout(inputs, outputs)
        vectors = images * (first_layer_planes if layer == 0 else 1)
        for t in range(layout.row_tiles):
            for c in range(layout.column_tiles):
                steps.append(TileStep(layer, t, c, ROWS * t, layout.real_rows(t), COLUMNS * c,
                                      layout.real_columns(c), vectors))
    return steps


@dataclass(frozen=True)
class ScheduleCounts:
    """What a schedule costs the array."""

    programmed_tiles: int      # programming cycles (one full-array write each)
    write_clocks: int          # nominal write clocks (128 per tile, before verify and retries)
    mac_vectors: int           # input vectors streamed = MAC clocks (one vector per clock)
    mac_vectors_per_image: float


def count(steps: list[TileStep], images: int) -> ScheduleCounts:
    """Programming cycles, write clocks and MAC vectors of a schedule over ``images`` images."""
    vectors = sum(step.vectors for step in steps)
    per_image = vectors / images if images else 0.0
    return ScheduleCounts(len(steps), WRITE_CLOCKS_PER_TILE * len(steps), vectors, per_image)


def replica_count(real_columns: int) -> int:
    """Copies of a column tile's real columns that fit the array (1 when more than half are real)."""
    return COLUMNS // real_columns if real_columns <= COLUMNS // 2 else 1


def with_replicas(tile_weights: np.ndarray, real_columns: int, copies: int) -> np.ndarray:
    """The tile's 64 x 64 weights with its first ``real_columns`` columns copied ``copies`` times side by side
    (the remaining padding columns keep their weights)."""
    out = np.array(tile_weights, np.int8)
    for k in range(1, copies):
        out[:, k * real_columns:(k + 1) * real_columns] = out[:, :real_columns]
    return out


def merge_replicas(values: np.ndarray, real_columns: int, copies: int) -> np.ndarray:
    """The mean over copies (n, real_columns) of a tile's decoded column MACs (n, 64)."""
    n = len(values)
    return values[:, :copies * real_columns].reshape(n, copies, real_columns).mean(axis=1)
