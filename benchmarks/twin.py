"""The digital twin end to end: fit random served dies, check each twin against its die.

For each of ``--dies`` dies (parameters drawn within their stated ranges by
``labctl.twin.recovery``, die seeds 60, 61, ...): the full characterisation
on both SMU wirings, the fit, ``labctl twin check``'s held-out comparisons;
then ``twin fit --quick`` on the built-in bench, timed.

    python benchmarks/twin.py [--dies 3] [--short]

Figures: params_within_2se (fraction of fitted parameters within two
standard errors of the served value, over all dies), accuracy_error_points
(mean |twin - bench| MNIST chip accuracy on 2,000 digits), mac_error_tv
(mean total-variation distance of the MAC error histograms against the
twin's pooled dies), checks_failed (bands failed over all dies; failed
names them), fit_s (mean wall time of a full
characterisation and fit), quick_fit_s (``twin fit --quick`` on the
built-in bench).  ``--short``: quick fits and quick checks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from timing import write_results

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from labctl.bench import builtin_config  # noqa: E402
from labctl.store import Store  # noqa: E402
from labctl.twin.check import run_check  # noqa: E402
from labctl.twin.recovery import random_parameters, standard_scores, write_params  # noqa: E402
from labctl.twin.workflow import builtin_benches, characterise, fit_and_write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dies", type=int, default=3)
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="twin-bench-"))
    store = Store(folder / "runs.sqlite")
    rng = np.random.default_rng(28)
    scores, accuracy, tv, failed, fit_s = [], [], [], [], []
    for k in range(args.dies):
        truth = random_parameters(rng)
        served = folder / f"die{k}.toml"
        write_params(served, truth)
        started = time.perf_counter()
        ids = characterise(builtin_benches(60 + k, served), store, quick=args.short)
        fit, _, twin = fit_and_write(store, ids, folder / f"twin{k}.toml")
        fit_s.append(time.perf_counter() - started)
        z = standard_scores(fit, truth)
        scores += list(z.values())
        results, _ = run_check(builtin_config(60 + k, "test_mtj", params=served), twin, store, quick=args.short)
        by_name = {r.name: r for r in results}
        accuracy.append(by_name["mnist_accuracy"].distance)
        tv.append(by_name["mac_errors"].distance)
        failed += [f"die {k}: {r.name}" for r in results if not r.passed]
        print(f"die {k}: |z| max {max(abs(v) for v in z.values()):.2f}, "
              + ", ".join(f"{r.name} {'pass' if r.passed else 'FAIL'}" for r in results), file=sys.stderr)
    started = time.perf_counter()
    fit_and_write(store, characterise(builtin_benches(1), store, quick=True), folder / "quick.toml")
    quick = time.perf_counter() - started
    write_results("twin", {"dies": args.dies, "params_within_2se": float(np.mean(np.abs(scores) <= 2.0)),
                           "parameters": len(scores), "max_abs_z": float(np.max(np.abs(scores))),
                           "accuracy_error_points": float(np.mean(accuracy)), "mac_error_tv": float(np.mean(tv)),
                           "checks_failed": len(failed), "failed": failed, "fit_s": float(np.mean(fit_s)),
                           "quick_fit_s": quick},
                  short=args.short)


if __name__ == "__main__":
    main()
