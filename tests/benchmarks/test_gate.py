"""The speed gate's verdicts: a ratio below half its baseline fails, one above half passes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[2] / "benchmarks"


def load_gate():
    sys.path.insert(0, str(FOLDER))            # gate.py imports its neighbour timing.py
    try:
        spec = importlib.util.spec_from_file_location("speed_gate", FOLDER / "gate.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(FOLDER))


def test_a_ratio_below_half_its_baseline_fails_and_one_above_half_passes() -> None:
    gate = load_gate()
    baseline = {"mac_throughput.ratio": 0.2, "mnist.numpy_over_chip": 0.004}
    measured = {"mac_throughput.ratio": 0.099, "mnist.numpy_over_chip": 0.0021, "networks.numpy_over_emulation": 0.3}
    verdicts = {name: verdict for name, _, _, verdict, _ in gate.compare(measured, baseline)}
    assert verdicts == {"mac_throughput.ratio": "SLOWER", "mnist.numpy_over_chip": "ok",
                        "networks.numpy_over_emulation": "no baseline"}


def test_the_baseline_holds_every_gated_ratio_and_each_goal_names_a_benchmark_that_runs() -> None:
    gate = load_gate()
    import json
    baseline = json.loads((FOLDER / "baseline.json").read_text())
    assert set(baseline) == {f"{bench}.{key}" for bench, key, _ in gate.GATED}
    assert all(value > 0 for value in baseline.values())
    assert {bench for _, bench, _, _, _ in gate.GOALS} <= set(gate.BENCHMARKS)
    assert all((FOLDER / f"{name}.py").exists() for name in gate.BENCHMARKS)


def test_a_benchmark_must_print_the_figures_it_kept_as_its_last_line() -> None:
    gate = load_gate()
    kept = {"ratio": 0.25, "rows": [{"step": "a", "gap": float("nan")}], "short": True, "written": "now"}
    figures = '{"ratio": 0.25, "rows": [{"step": "a", "gap": NaN}]}'
    assert gate.prints_its_figures(f"a table\n{figures}\n", kept)
    assert not gate.prints_its_figures(f"{figures}\ndone\n", kept)                  # not the last line
    assert not gate.prints_its_figures('{"ratio": 0.3, "rows": []}', kept)          # not what it kept
    assert not gate.prints_its_figures("", kept)
