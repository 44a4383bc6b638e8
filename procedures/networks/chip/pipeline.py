"""How a network's layers are read on the chip: the paper's way, and what the optimised runtime adds.

The paper (Jung et al., 2022) reads every tile through the same readout:
one die-level calibration, the same fixed TDC windows for every tile, no
replicas.  The optimised runtime adds, one step at a time (the ablation):

1. ``tile_windows``: each tile column's windows placed on where its partial
   sums are expected (from the exact sums of the calibration inputs), not
   centred on MAC 0;
2. ``tile_tables``: a calibration table per tile, window, column and code,
   measured with the network's own inputs, not one die-level table per
   column;
3. ``replicas``: a narrow column tile's padding columns hold copies of its
   real columns, averaged on the host;
4. ``recentre`` (recalibration): windows whose calibration reads landed off
   centre are moved onto them and the inputs read again;
5. hardware-aware training (a network trained with the chip's error model:
   the procedure's choice, not the runtime's).

A die-level table is measured once per session and TDC setting: a random
matrix on the array, random inputs with partial sums over the whole MAC
range, read under windows centred on each column's MAC 0; it holds the MAC
relative to the window's centre, so that it also serves windows placed per
tile (the code's nominal delay is the same, the centre moves).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: random input vectors that measure a die-level table
DIE_TABLE_VECTORS = 4096


@dataclass(frozen=True)
class Pipeline:
    """Which of the optimised runtime's steps are on (module doc)."""

    tile_windows: bool = True
    tile_tables: bool = True
    replicas: bool = True
    recentre: bool = True

    def describe(self) -> dict[str, bool]:
        return asdict(self)


#: the pipelines by name, in the order of the ablation (hardware-aware training is the procedure's own step)
PIPELINES = {
    "paper-like": Pipeline(False, False, False, False),
    "tile-windows": Pipeline(True, False, False, False),
    "tile-tables": Pipeline(True, True, False, False),
    "replicas": Pipeline(True, True, True, False),
    "optimised": Pipeline(True, True, True, True),
}
