"""Where an emulated layer's time goes: the tiled product, the error draws and the host's sums, beside numpy.

One binary layer of the VGG-8's size (1,152 inputs, a 3 x 3 x 128
convolution lowered to a matrix product, 128 outputs) over 16,384 input
vectors, emulated as ``chip/emulation.py`` does it, with a per-column error
model fitted to synthetic pairs (errors of a few MAC units).  Each part is
timed in the same rounds as numpy's plain product of the same layer, best
of five: the product of every tile column (``column_macs``), the error
draws (``ErrorModel.sample``, one per tile column: 18 row tiles x 16,384 x
128 = 37.7 M) and adding them and combining the row tiles.

    OPENBLAS_NUM_THREADS=1 python benchmarks/emulation_parts.py

The last line is JSON: draws, ns_per_draw, and each part's time (ms) and
its ratio to numpy's product.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from timing import best, side_by_side, write_results

# benchmarks/procedures.py would shadow the package: keep this folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from procedures.networks.chip.error_model import ErrorModel  # noqa: E402
from procedures.networks.chip.tiling import CHUNK_VECTORS, TileLayout  # noqa: E402

VECTORS, INPUTS, OUTPUTS = 16_384, 1152, 128


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.choice(np.array([-1, 1], np.int8), (VECTORS, INPUTS))
    w = rng.choice(np.array([-1, 1], np.int8), (INPUTS, OUTPUTS))
    pairs = rng.integers(-32, 33, (20_000, 64)) * 2
    model = ErrorModel.from_pairs(pairs, pairs + np.rint(rng.normal(0.0, 3.0, pairs.shape)), per_column=True)
    layout = TileLayout(INPUTS, OUTPUTS)
    columns = np.arange(64 * layout.column_tiles) % 64
    blocks = [x[s: s + CHUNK_VECTORS] for s in range(0, VECTORS, CHUNK_VECTORS)]
    ideal = [layout.column_macs(b, w) for b in blocks]
    errors = [model.sample(i, columns, rng) for i in ideal]
    times = side_by_side({
        "numpy product": lambda: x.astype(np.float32) @ w.astype(np.float32),
        "tiled product": lambda: [layout.column_macs(b, w) for b in blocks],
        "error draws": lambda: [model.sample(i, columns, rng) for i in ideal],
        "add and combine": lambda: [layout.combine(i + e) for i, e in zip(ideal, errors)],
    }, rounds=5)
    draws = sum(i.size for i in ideal)
    numpy_s = best(times["numpy product"])
    figures = {"draws": draws, "ns_per_draw": round(1e9 * best(times["error draws"]) / draws, 2)}
    for name, t in times.items():
        key = name.replace(" ", "_")
        figures[f"{key}_ms"] = round(1e3 * best(t), 1)
        figures[f"{key}_over_numpy"] = round(best(t) / numpy_s, 2)
        print(f"{name:16s} {1e3 * best(t):8.1f} ms  {best(t) / numpy_s:6.2f} x numpy")
    write_results("emulation_parts", figures)


if __name__ == "__main__":
    main()
