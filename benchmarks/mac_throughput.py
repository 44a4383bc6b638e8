"""Batched MAC throughput of the full MX64 model against a bare numpy matmul.

Side by side in one run: a batch of 100,000 x 64 input vectors through the
model (variation, noise, readout circuit, TDC, energy; one clock per vector)
and a float32 (100,000 x 64) @ (64 x 64) matmul, interleaved, over several
rounds.  Also the single-vector MAC latency through the model's Python API.
On a shared machine the best round is the measurement (as timeit does);
the median is reported beside it.

    python benchmarks/mac_throughput.py [--batch N] [--rounds R]

The last line is JSON: model_vectors_per_s, matmul_vectors_per_s, ratio
(model/matmul), silicon_ratio (model over the chip's 11.1 M vectors/s),
single_vector_us, all from the best rounds, and ratio_median,
single_vector_us_median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from sim_chip import MX64

SILICON_VECTORS_PER_S = 11.1e6


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    chip = MX64(seed=1)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    chip.write_array(rng.choice(np.array([-1, 1], np.int8), (64, 64)))
    x = rng.choice(np.array([-1, 1], np.int8), (args.batch, 64))
    xf = x.astype(np.float32)
    w = rng.standard_normal((64, 64)).astype(np.float32)

    chip.mac_batch(x[:1000])  # warm-up: kernel compile, tables
    _ = xf @ w
    model, matmul = [], []
    for _ in range(args.rounds):
        model.append(_time(lambda: chip.mac_batch(x)))
        matmul.append(_time(lambda: xf @ w))
    t_model, t_matmul = min(model), min(matmul)
    ratio_median = statistics.median(matmul) / statistics.median(model)

    one = x[0]
    n_single = 5000
    singles = []
    for _ in range(args.rounds):
        singles.append(_time(lambda: [chip.mac(one) for _ in range(n_single)]) / n_single)
    single_us, single_median_us = min(singles) * 1e6, statistics.median(singles) * 1e6

    model_vps, matmul_vps = args.batch / t_model, args.batch / t_matmul
    print(f"model   {t_model * 1e3:8.2f} ms per batch  {model_vps / 1e6:7.2f} M vectors/s")
    print(f"matmul  {t_matmul * 1e3:8.2f} ms per batch  {matmul_vps / 1e6:7.2f} M vectors/s")
    print(f"single  {single_us:8.2f} us per MAC vector through MX64.mac")
    print(json.dumps({
        "batch": args.batch,
        "model_vectors_per_s": round(model_vps),
        "matmul_vectors_per_s": round(matmul_vps),
        "ratio": round(model_vps / matmul_vps, 4),
        "silicon_ratio": round(model_vps / SILICON_VECTORS_PER_S, 4),
        "single_vector_us": round(single_us, 2),
        "ratio_median": round(ratio_median, 4),
        "single_vector_us_median": round(single_median_us, 2),
    }))


if __name__ == "__main__":
    main()
