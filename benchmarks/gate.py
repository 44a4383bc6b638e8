"""The speed gate: a short version of every benchmark, its ratios against the recorded baseline.

Each benchmark runs its ``--short`` version in a process of its own, with
BLAS on one thread, and writes its figures to
``results/<name>.short.json``.  Every gated figure is a ratio of two
things timed side by side in that run, oriented so that higher is faster
(the model over a bare GEMM, a numpy matvec over one MAC, a bare echo over
the board's round trip, numpy inference over the chip or the emulation, a
unit of interpreter work over the demo, ...): the machine's speed and load
divide out.  Socket round trips run on one core and are compared by
their CPU time: between cores they are at times three times slower.  A
ratio below half its value in ``baseline.json`` fails the gate (exit
status 1); a run over the 60 s budget is reported, not failed
(a loaded machine stretches every benchmark alike).  A change that is
meant to cost speed updates the baseline in the same commit and says why.
The baseline is the median of three gate runs on the project's machine.

    python benchmarks/gate.py                   # run, compare, exit 1 on a regression
    python benchmarks/gate.py --table           # the latest figures beside the goals (runs nothing)
    python benchmarks/gate.py --write-baseline  # run and record the ratios as the baseline

The peers benchmark needs the ``peers`` extra; without it its ratio is
reported as not run, which does not fail the gate.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from timing import RESULTS, read_results

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline.json"
BUDGET_S = 60.0
FAIL_BELOW = 0.5        # of the baseline

#: (benchmark, figure, what the ratio compares): every figure is higher-is-faster
GATED = [
    ("mac_throughput", "ratio", "batched MAC: model / bare float32 GEMM (one thread each)"),
    ("mac_throughput", "single_ratio", "one MAC: numpy matvec / MX64.mac"),
    ("link_throughput", "link_over_direct", "MAC batches: in-process link / the board's own method"),
    ("link_throughput", "roundtrip_cpu_ratio", "round trip, CPU: bare echo / COUN? to a served board"),
    ("scpi_roundtrip", "cpu_ratio", "SCPI queries, CPU: raw socket / pyvisa-py"),
    ("peers", "over_lightning", "same job: model / aihwkit-lightning"),
    ("procedures", "demo_ratio", "short demo: 50,000 small numpy calls / the demo"),
    ("mnist", "numpy_over_chip", "500 digits: numpy inference / mnist-perceptron on the chip"),
    ("mnist", "run_over_total", "mnist-perceptron: its run / run and rehearsal"),
    ("networks", "numpy_over_emulation", "200 digits: numpy inference / VGG-8 emulation"),
]
#: (figure of the issue, benchmark, key, goal, "<=" or ">=") for --table
GOALS = [
    ("chip model, batched MAC / bare float32 GEMM", "mac_throughput", "ratio", 0.25, ">="),
    ("single-vector MAC through MX64.mac, us", "mac_throughput", "single_vector_us", 10.0, "<="),
    ("board round trip on loopback, us", "link_throughput", "roundtrip_us", 100.0, "<="),
    ("labctl demo wall time, s", "procedures", "demo_s", 5.0, "<="),
    ("mnist-perceptron on chip / numpy inference", "mnist", "ratio", 5.0, "<="),
    ("VGG-8 emulation / numpy inference", "networks", "ratio", 2.0, "<="),
    ("network procedure's rehearsal / its run", "mnist", "rehearsal_over_run", 0.1, "<="),
    ("model / CrossSim static-noise core", "peers", "crosssim", 5.0, ">="),
    ("model / aihwkit-lightning", "peers", "over_lightning", 3.0, ">="),
]
BENCHMARKS = list(dict.fromkeys(name for name, _, _ in GATED))


def available(name: str) -> bool:
    """Whether a benchmark can run here (peers needs its extra)."""
    return name != "peers" or importlib.util.find_spec("aihwkit_lightning") is not None


def run_short(name: str) -> tuple[dict | None, float]:
    """Run one benchmark's short version: (its figures or None, seconds)."""
    started = time.perf_counter()
    (RESULTS / f"{name}.short.json").unlink(missing_ok=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--short"], env=env, cwd=HERE.parent,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    path = RESULTS / f"{name}.short.json"
    if done.returncode != 0 or not path.exists():
        sys.stderr.write(f"{name} failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}\n")
        return None, seconds
    kept = json.loads(path.read_text())
    if not prints_its_figures(done.stdout, kept):
        sys.stderr.write(f"{name}: its last line is not the figures it kept in {path.name}\n{done.stdout[-500:]}\n")
        return None, seconds
    return kept, seconds


def prints_its_figures(stdout: str, kept: dict) -> bool:
    """Whether a benchmark's last printed line is the JSON of the figures it kept (every benchmark's promise;
    the kept file adds only when, where and how loaded it was written)."""
    lines = stdout.strip().splitlines()
    try:
        printed = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return False
    return isinstance(printed, dict) and json.dumps(printed) == json.dumps({k: kept.get(k) for k in printed})


def compare(measured: dict[str, float], baseline: dict[str, float]) -> list[tuple]:
    """(name, value, baseline or None, verdict, what) of each gated figure measured: ``ok``, ``SLOWER``
    (below half its baseline) or ``no baseline``."""
    rows = []
    for bench, key, what in GATED:
        name = f"{bench}.{key}"
        if name in measured:
            value, base = measured[name], baseline.get(name)
            verdict = "no baseline" if base is None else ("ok" if value >= FAIL_BELOW * base else "SLOWER")
            rows.append((name, value, base, verdict, what))
    return rows


def gate(write_baseline: bool) -> int:
    """Run every short benchmark and compare; 0 when every ratio holds (and the budget), else 1."""
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    measured, failures, started = {}, [], time.perf_counter()
    for name in BENCHMARKS:
        if not available(name):
            print(f"{name:16s} not run: its extra is not installed")
            continue
        figures, seconds = run_short(name)
        print(f"{name:16s} {seconds:5.1f} s")
        if figures is None:
            failures.append(f"{name} did not run")
            continue
        for bench, key, _ in GATED:
            if bench == name:
                measured[f"{name}.{key}"] = figures[key]
    total = time.perf_counter() - started
    print()
    for name, value, base, verdict, what in compare(measured, baseline):
        shown = "-" if base is None else f"{base:.4g}"
        print(f"{value:10.4g}  baseline {shown:>9s}  {verdict:11s} {what}")
        if verdict == "SLOWER":
            failures.append(f"{name} = {value:.4g}, below half its baseline {base:.4g}")
    over = "  OVER BUDGET: shorten a benchmark's --short version" if total > BUDGET_S else ""
    print(f"\ngate: {total:.1f} s (budget {BUDGET_S:g} s){over}")
    if write_baseline:
        BASELINE.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
        print(f"baseline written to {BASELINE}")
        return 0
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


def table() -> int:
    """Every figure of the issue from the latest results (full runs first, else the gate's short ones)."""
    print(f"{'figure':48s} {'measured':>12s}  {'goal':>9s}  met   from")
    for label, bench, key, goal, sense in GOALS:
        found = read_results(bench)
        value = None if found is None else found.get(key)
        if value is None:
            why = "not installable" if bench == "peers" and key == "crosssim" else "not measured"
            print(f"{label:48s} {why:>12s}  {sense} {goal:<6g}")
            continue
        met = value >= goal if sense == ">=" else value <= goal
        source = f"{bench}{' --short' if found.get('short') else ''}, {found.get('written', '?')}"
        print(f"{label:48s} {value:12.4g}  {sense} {goal:<6g}  {'yes' if met else 'NO ':4s}  {source}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the latest figures beside the goals")
    parser.add_argument("--write-baseline", action="store_true", help="record this run's ratios as the baseline")
    args = parser.parse_args()
    return table() if args.table else gate(args.write_baseline)


if __name__ == "__main__":
    sys.exit(main())
