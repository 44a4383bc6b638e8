"""Batched MAC throughput of the full MX64 model against a bare numpy GEMM, and one vector's MAC.

Side by side in one run: a batch of 100,000 x 64 input vectors through the
model (variation, noise, readout circuit, TDC, energy; one clock per vector)
and a float32 (100,000 x 64) @ (64 x 64) product on the same batch,
interleaved over several rounds; then 2,000 distinct vectors one at a
time through ``MX64.mac``, beside as many float32 (64,) @ (64 x 64) products.  The best round is the
measurement (as timeit does), the median is reported beside it.

    python benchmarks/mac_throughput.py [--batch N] [--rounds R] [--short]

``--short`` is the gate's version, one thread against one thread so that a
loaded machine slows both alike: batches of 4,032 vectors (one chunk, which
the model reads on the calling thread) and, as the gate runs it, BLAS on
one thread (``OPENBLAS_NUM_THREADS=1``).  The last line is JSON:
model_vectors_per_s, matmul_vectors_per_s, ratio (model/matmul, goal >=
0.25), silicon_ratio (model over the chip's 11.1 M vectors/s),
single_vector_us (goal <= 10), matvec_us, single_ratio (matvec/single), and
the medians ratio_median, single_vector_us_median.
"""

from __future__ import annotations

import numpy as np
from timing import best, median, side_by_side, sized_arguments, write_results

from sim_chip import MX64
from sim_chip.macro import _CHUNK

SILICON_VECTORS_PER_S = 11.1e6
SINGLES = 2000          # MACs per timed round of the single-vector figure


def main() -> None:
    args = sized_arguments(__doc__, ("--batch", 100_000, _CHUNK // 2), (7, 30), "4,032 vectors, 30 rounds")

    rng = np.random.default_rng(0)
    chip = MX64(seed=1)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    chip.write_array(rng.choice(np.array([-1, 1], np.int8), (64, 64)))
    x = rng.choice(np.array([-1, 1], np.int8), (args.batch, 64))
    xf = x.astype(np.float32)
    w = rng.standard_normal((64, 64)).astype(np.float32)

    chip.mac_batch(x[:1000])  # warm-up: kernel compile, tables, worker threads
    _ = xf @ w
    batch = side_by_side({"model": lambda: chip.mac_batch(x), "matmul": lambda: xf @ w}, args.rounds)
    ones, ones_f = x[:SINGLES], xf[:SINGLES]                # distinct vectors, one call each
    singles = side_by_side({"model": lambda: [chip.mac(v) for v in ones],
                            "matvec": lambda: [v @ w for v in ones_f]}, args.rounds)

    model_vps, matmul_vps = args.batch / best(batch["model"]), args.batch / best(batch["matmul"])
    single_us, matvec_us = (1e6 * best(singles[k]) / SINGLES for k in ("model", "matvec"))
    print(f"model   {1e3 * best(batch['model']):8.2f} ms per batch  {model_vps / 1e6:7.2f} M vectors/s")
    print(f"matmul  {1e3 * best(batch['matmul']):8.2f} ms per batch  {matmul_vps / 1e6:7.2f} M vectors/s")
    print(f"single  {single_us:8.2f} us per MAC vector through MX64.mac ({matvec_us:.2f} us a numpy matvec)")
    write_results("mac_throughput", {
        "batch": args.batch,
        "model_vectors_per_s": round(model_vps),
        "matmul_vectors_per_s": round(matmul_vps),
        "ratio": round(model_vps / matmul_vps, 4),
        "silicon_ratio": round(model_vps / SILICON_VECTORS_PER_S, 4),
        "single_vector_us": round(single_us, 2),
        "matvec_us": round(matvec_us, 3),
        "single_ratio": round(matvec_us / single_us, 4),
        "ratio_median": round(median(batch["matmul"]) / median(batch["model"]), 4),
        "single_vector_us_median": round(1e6 * median(singles["model"]) / SINGLES, 2),
    }, short=args.short)


if __name__ == "__main__":
    main()
