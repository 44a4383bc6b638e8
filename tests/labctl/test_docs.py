"""The documentation's procedure example: copied as it stands, it runs, dry-runs, refuses and resumes."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from instruments.errors import SafetyLimitError
from instruments.keithley_2450 import Keithley2450
from labctl.bench import default_bench
from labctl.engine import execute
from labctl.rundata import read_run
from labctl.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "procedures.md"


@pytest.fixture
def example():
    text = DOC.read_text()
    section = text[text.index("## Writing a procedure"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 32              # short enough to copy
    module = types.ModuleType("mylab_sweeps")
    exec(compile(code, "docs/procedures.md", "exec"), module.__dict__)
    return module.column_bias_sweep


def test_the_documented_procedure_runs_dry_runs_refuses_and_resumes(example, tmp_path, monkeypatch) -> None:
    with Store(tmp_path / "runs.sqlite") as store, default_bench(2) as bench:
        dry = execute(example, {"biases": "0.05,0.3"}, bench, store, dry_run=True)
        assert dry.rehearsal.limits_checked()["smu_voltage"] == (0.0, 0.3)
        with pytest.raises(SafetyLimitError, match="smu_voltage = 2.0 exceeds"):
            execute(example, {"biases": "0.05,2"}, bench, store)
        assert store.runs() == []
        original, reads = Keithley2450.read, []

        def read_then_stop(smu):                      # the second reading on the bench itself: Ctrl-C
            if smu is bench.smu:
                reads.append(1)
                if len(reads) == 2:
                    raise KeyboardInterrupt
            return original(smu)

        monkeypatch.setattr(Keithley2450, "read", read_then_stop)
        first = execute(example, {"biases": "0.05,0.1,0.2"}, bench, store, seed=1)
        assert first.status == "aborted" and len(read_run(store, first.run_id).all("ohm")) == 1
        monkeypatch.undo()
        resumed = execute(example, {}, bench, store, resume=first.run_id)
        kept, again = (read_run(store, run).all("ohm") for run in (first.run_id, resumed.run_id))
        assert resumed.status == "completed" and len(again) == 3 and again[:1] == kept
        assert not bench.world.smu.output_on()


def test_the_readme_python_examples_run_as_written(tmp_path, monkeypatch, served_bench_file) -> None:

    readme = (DOC.parents[1] / "README.md").read_text()
    section = readme[readme.index("## Driving the chip from Python"):readme.index("## Architecture")]
    first, second = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict = {}
    exec(first, namespace)
    assert namespace["codes"].shape == (1000, 64)
    with served_bench_file(2) as (world, _):
        monkeypatch.chdir(tmp_path)
        exec(second, namespace)
        assert namespace["codes"].shape == (1000, 64)
        assert not world.supply.outputs_on


def test_the_networks_guide_s_new_procedure_runs_as_written(tmp_path) -> None:
    """docs/networks.md's tiny-mnist, copied as it stands: its plan records the chip's classes, its analysis
    the accuracies, and its rehearsal is the nominal one."""
    from labctl.procedure import Procedure

    text = (Path(__file__).resolve().parents[2] / "docs" / "networks.md").read_text()
    section = text[text.index("## A new network procedure"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    module = types.ModuleType("tiny_mnist")
    exec(compile(code, "docs/networks.md", "exec"), module.__dict__)
    tiny = module.tiny_mnist
    assert isinstance(tiny, Procedure) and tiny.rehearsal == "nominal" and tiny.analysis is not None
    with Store(tmp_path / "runs.sqlite") as store, default_bench(2) as bench:
        result = execute(tiny, {"images": 20}, bench, store, seed=1)
    assert result.status == "completed" and 0.8 <= result.summary["chip_accuracy"] <= 1.0
    assert abs(result.summary["chip_accuracy"] - result.summary["software_accuracy"]) <= 0.15
