"""The run engine: checks before touching anything, clean aborts, resume, provenance."""

from __future__ import annotations

import numpy as np
import pytest

from instruments.errors import SafetyLimitError
from labctl.bench import default_bench
from labctl.engine import execute
from labctl.procedure import Parameter, ParameterError, Plan, Procedure
from labctl.store import Store
from procedures import PROCEDURES


class Counting(Procedure):
    """Counts to ``n``, checkpointing every step; can be told to be interrupted at ``stop_at``."""

    name = "counting"
    summary = "test procedure"
    parameters = (Parameter("n", int, 10, "steps", low=1, high=100),
                  Parameter("stop_at", int, -1, "raise KeyboardInterrupt at this step", low=-1, high=100),
                  Parameter("volts", float, 0.1, "SMU voltage it would apply", "V", low=-10, high=10))

    def plan(self, params, bench) -> Plan:
        plan = Plan(steps=["count"], duration_s=params["n"])
        plan.send("smu_voltage", params["volts"])
        return plan

    def run(self, ctx, params) -> dict:
        start = ctx.resume_state["next"] if ctx.resume_state else 0
        ctx.bench.smu.source_voltage = params["volts"]
        ctx.bench.smu.output = True
        for i in range(start, params["n"]):
            if i == params["stop_at"]:
                raise KeyboardInterrupt
            ctx.record("step", i)
            ctx.checkpoint({"next": i + 1})
            ctx.bench.wait(1.0)
        return {"counted_from": start, "draw": float(ctx.rng.random())}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.sqlite") as s:
        yield s


def test_a_plan_beyond_the_limits_is_refused_before_any_instrument_is_touched(store) -> None:
    with default_bench(1) as bench:
        world = bench.world
        with pytest.raises(SafetyLimitError, match="smu_voltage = 5.0 exceeds"):
            execute(Counting(), {"volts": 5.0}, bench, store)
        assert world.smu.volts == 0.0 and not world.smu.output
        assert store.runs() == []                                   # no run was even started


def test_bad_parameters_name_the_parameter(store) -> None:
    with default_bench(1) as bench:
        with pytest.raises(ParameterError, match="parameter n: 500 outside 1 .. 100"):
            execute(Counting(), {"n": 500}, bench, store)
        with pytest.raises(ParameterError, match="parameter n: 'many' is not a int"):
            execute(Counting(), {"n": "many"}, bench, store)
        with pytest.raises(ParameterError, match="unknown parameter 'm'"):
            execute(Counting(), {"m": 1}, bench, store)


def test_dry_run_returns_the_plan_and_records_nothing(store) -> None:
    with default_bench(1) as bench:
        result = execute(Counting(), {"n": 7}, bench, store, dry_run=True)
    assert result.status == "dry-run" and result.plan.duration_s == 7 and store.runs() == []


def test_ctrl_c_aborts_cleanly_keeps_the_data_and_resumes(store) -> None:
    with default_bench(1) as bench:
        world = bench.world
        aborted = execute(Counting(), {"n": 10, "stop_at": 4}, bench, store, seed=5)
        assert aborted.status == "aborted"
        assert not world.smu.output and world.smu.volts == 0.0           # outputs off
        info = store.run(aborted.run_id)
        assert info.status == "aborted"
        assert [v for n, v in store.records(aborted.run_id) if n == "step"] == [0, 1, 2, 3]
        resumed = execute(Counting(), {"stop_at": -1}, bench, store, resume=aborted.run_id)
    assert resumed.status == "completed" and resumed.summary["counted_from"] == 4
    assert [v for n, v in store.records(resumed.run_id) if n == "step"] == [4, 5, 6, 7, 8, 9]
    assert store.run(resumed.run_id).resumed_from == aborted.run_id
    assert store.run(resumed.run_id).provenance["seed"] == 5


def test_an_exception_marks_the_run_failed_and_turns_outputs_off(store) -> None:
    class Failing(Counting):
        name = "failing"

        def run(self, ctx, params):
            ctx.bench.smu.output = True
            ctx.record("before", 1)
            raise RuntimeError("bug in the procedure")

    with default_bench(1) as bench:
        with pytest.raises(RuntimeError):
            execute(Failing(), {}, bench, store)
        assert not bench.world.smu.output
    (info,) = store.runs()
    assert info.status == "failed" and "bug in the procedure" in info.detail
    assert list(store.records(info.id)) == [("before", 1)]


def test_provenance_and_seeded_replay(store) -> None:
    results = []
    for _ in range(2):
        with default_bench(3) as bench:
            results.append(execute(PROCEDURES["write-verify"](), {"matrix_seed": 4}, bench, store, seed=11))
    a, b = (dict(store.records(r.run_id)) for r in results)
    assert np.array_equal(a["read"], b["read"]) and a["errors_per_pass"] == b["errors_per_pass"]
    prov = store.run(results[0].run_id).provenance
    assert prov["seed"] == 11 and prov["parameters"]["matrix_seed"] == 4
    assert prov["identities"]["chip"].endswith(bench.chip.identify().die_id)
    assert "E36312A" in prov["identities"]["supply"] and prov["software"]["labctl"]
    assert prov["bench"]["limits"]["vwrite_max"] == 1.6


def test_a_procedure_that_needs_a_missing_instrument_is_refused(store, tmp_path) -> None:
    from labctl.bench import load_bench, write_bench_file
    path = tmp_path / "chip-only.toml"
    write_bench_file(path, chip="sim:2", instruments={}, clock=None)
    with load_bench(path) as bench:
        with pytest.raises(ParameterError, match="needs a smu"):
            execute(PROCEDURES["array-map"](), {}, bench, store)
