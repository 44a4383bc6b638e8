"""The run engine: plans checked on the simulated twin before anything runs, records kept at once,
clean aborts, failures, resume, composition."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pytest

from instruments.errors import SafetyLimitError
from labctl.bench import builtin_config, default_bench
from labctl.engine import execute, rehearse
from instruments.interrupts import Abort
from labctl.plan import Call, Checkpoint, Compute, Context, Plan, Progress, Read, Record, Set, SubRun, Wait
from labctl.procedure import Param, ParameterError, procedure
from labctl.registry import get
from labctl.rundata import read_run
from labctl.stubs import ensure_powered
from labctl.store import Store


@procedure(needs={"smu": "test_pad"}, resumes="after each step")
def counting(
    n: Annotated[int, Param("steps", low=1, high=100)] = 10,
    volts: Annotated[float, Param("SMU voltage it applies", "V", -10, 10)] = 0.1,
) -> Plan:
    """counts to n, checkpointing every step"""
    context = yield Context()
    start = context.resume["next"] if context.resume else 0
    yield Set("smu.source_voltage", volts)
    yield Set("smu.output", True)
    for i in range(start, n):
        yield Record("step", i)
        yield Checkpoint({"next": i + 1})
        yield Progress("counting", i + 1, n)
        yield Wait(1.0)
    return {"counted_from": start, "draw": float(context.rng.random())}


def on_the_real_bench() -> Plan:
    """True on the bench itself, False on its simulated twin (for plans that must fail only for real)."""
    return "twin" not in (yield Read("bench.source"))


def interrupt_at_wait(bench, monkeypatch, k: int, exc: BaseException) -> None:
    """The k-th wait on the real bench's clock raises ``exc`` (Ctrl-C or a signal arriving then)."""
    original, calls = bench.clock.sleep, []

    def sleep(seconds):
        calls.append(seconds)
        if len(calls) == k:
            raise exc
        original(seconds)

    monkeypatch.setattr(bench.clock, "sleep", sleep)


def transcript(world) -> list[tuple[str, str]]:
    """Every command the world's instruments receive from now on, as (role, line)."""
    lines: list[tuple[str, str]] = []
    for role, device in world.instruments().items():
        original = device.handle_line

        def logged(line, role=role, original=original):
            lines.append((role, line))
            return original(line)

        device.handle_line = logged
    return lines


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.sqlite") as s:
        yield s


def test_a_plan_beyond_the_limits_is_refused_before_any_message_reaches_an_instrument(store) -> None:
    with default_bench(1) as bench:
        sent = transcript(bench.world)
        with pytest.raises(SafetyLimitError, match="smu_voltage = 5.0 exceeds"):
            execute(counting, {"volts": 5.0}, bench, store)
        with pytest.raises(SafetyLimitError, match="smu_voltage = 5.0 exceeds"):
            execute(counting, {"volts": 5.0}, bench, store, dry_run=True)
        assert sent == []                                              # not even the first set
        assert bench.world.smu.value("source_voltage") == 0.0 and not bench.world.smu.output_on()
    assert store.runs() == []                                          # no run was even started


def test_a_set_after_many_messages_is_still_refused_before_the_first_one() -> None:
    @procedure(name="late-excess")
    def late_excess() -> Plan:
        """sets a legal value a hundred times, then one beyond the limit"""
        for _ in range(100):
            yield Set("smu.source_voltage", 0.1)
        yield Set("smu.source_voltage", 1.5)

    with default_bench(1) as bench:
        sent = transcript(bench.world)
        with pytest.raises(SafetyLimitError, match="smu_voltage = 1.5"):
            execute(late_excess, {}, bench, None)
        assert sent == []


def test_bad_parameters_name_the_parameter_its_unit_and_range(store) -> None:
    with pytest.raises(ParameterError, match=r"parameter n: 500 is out of range; expected an integer, 1 \.\. 100"):
        counting.resolve({"n": 500})
    with pytest.raises(ParameterError, match="parameter volts: 'many' is not a number; expected a number, -10 .. 10 V"):
        counting.resolve({"volts": "many"})
    with pytest.raises(ParameterError, match="unknown parameter 'volt' \\(did you mean 'volts'\\?\\)"):
        counting.resolve({"volt": 1})
    assert counting.resolve({"n": "1e1"})["n"] == 10                   # integral, in exponent form
    with pytest.raises(ParameterError, match="'2.5' is not an integer"):
        counting.resolve({"n": "2.5"})


def test_the_wiring_a_procedure_needs_is_checked_with_what_to_do() -> None:
    with default_bench(1, smu="test_mtj") as bench:
        with pytest.raises(ParameterError, match='needs the smu wired to the test pad .*use --smu test_pad'):
            execute(counting, {}, bench, None, dry_run=True)


def test_dry_run_measures_the_duration_and_the_limits_on_the_twin(store) -> None:
    with default_bench(1) as bench:
        result = execute(counting, {"n": 7}, bench, store, dry_run=True)
        assert bench.world.now == 0.0                                  # the bench itself did not move
    assert result.status == "dry-run" and store.runs() == []
    assert result.rehearsal.bench_s == pytest.approx(7.0)
    assert result.rehearsal.limits_checked() == {"smu_voltage": (0.1, 0.1)}


def test_ctrl_c_aborts_cleanly_keeps_the_data_and_resumes(store, monkeypatch) -> None:
    with default_bench(1) as bench:
        world = bench.world
        interrupt_at_wait(bench, monkeypatch, 4, KeyboardInterrupt())
        aborted = execute(counting, {"n": 10}, bench, store, seed=5)
        assert aborted.status == "aborted"
        assert not world.smu.output_on() and world.smu.value("source_voltage") == 0.0           # outputs off
        info = store.run(aborted.run_id)
        assert info.status == "aborted" and "Ctrl-C" in info.detail
        assert [v for n, v in store.records(aborted.run_id) if n == "step"] == [0, 1, 2, 3]
        monkeypatch.undo()
        resumed = execute(counting, {}, bench, store, resume=aborted.run_id)
    assert resumed.status == "completed" and resumed.summary["counted_from"] == 4
    assert [v for n, v in store.records(resumed.run_id) if n == "step"] == list(range(10))    # kept ones first
    assert store.run(resumed.run_id).resumed_from == aborted.run_id
    assert store.run(resumed.run_id).provenance["seed"] == 5


def test_an_abort_signal_inside_an_instrument_call_is_an_abort_too(store, monkeypatch) -> None:
    with default_bench(1) as bench:
        interrupt_at_wait(bench, monkeypatch, 3, Abort("stopped by SIGTERM"))
        result = execute(counting, {}, bench, store, seed=1)
        assert result.status == "aborted" and not bench.world.smu.output_on()
    info = store.run(result.run_id)
    assert "stopped by SIGTERM" in info.detail
    assert [v for n, v in store.records(info.id) if n == "step"] == [0, 1, 2]


def test_resume_is_refused_on_another_die_or_after_completion(store, monkeypatch) -> None:
    with default_bench(1) as bench:
        interrupt_at_wait(bench, monkeypatch, 2, KeyboardInterrupt())
        aborted = execute(counting, {}, bench, store, seed=5)
        monkeypatch.undo()
        done = execute(counting, {}, bench, store, seed=5)
        with pytest.raises(ParameterError, match="completed: there is nothing to resume"):
            execute(counting, {}, bench, store, resume=done.run_id)
    with default_bench(7) as other:
        with pytest.raises(ParameterError, match="mix two chips' data"):
            execute(counting, {}, other, store, resume=aborted.run_id)
    assert len(store.runs()) == 2


def test_an_exception_marks_the_run_failed_with_where_and_turns_outputs_off(store) -> None:
    @procedure(name="failing")
    def failing() -> Plan:
        """fails after recording"""
        yield Set("smu.output", True)
        yield Record("before", 1)
        if (yield from on_the_real_bench()):
            raise RuntimeError("bug in the procedure")

    with default_bench(1) as bench:
        with pytest.raises(RuntimeError):
            execute(failing, {}, bench, store)
        assert not bench.world.smu.output_on()
    (info,) = store.runs()
    assert info.status == "failed" and "RuntimeError: bug in the procedure (at test_engine.py:" in info.detail
    assert list(store.records(info.id)) == [("before", 1)]


def test_an_instrument_error_is_thrown_into_the_plan_so_its_cleanup_runs(store) -> None:
    cleaned = []

    @procedure(name="cleaning")
    def cleaning() -> Plan:
        """an instrument refuses a command; the plan's finally clause still talks to the bench"""
        yield from ensure_powered()
        real = yield from on_the_real_bench()
        try:
            yield Call("chip.write_row", 99 if real else 0, np.ones(64))   # no row 99: the board refuses
        finally:
            cleaned.append((yield Read("chip.write_width")))

    with default_bench(1) as bench:
        with pytest.raises(Exception, match="row"):
            execute(cleaning, {}, bench, store)
    assert cleaned == [1, 1]                                          # in the rehearsal, then for real
    assert store.runs()[0].status == "failed"


def test_a_plan_that_fails_on_the_twin_is_not_run(store) -> None:
    @procedure(name="broken")
    def broken() -> Plan:
        """a bug that shows everywhere"""
        yield Record("x", 1)
        raise ZeroDivisionError("division by zero")

    with default_bench(1) as bench:
        sent = transcript(bench.world)
        with pytest.raises(ParameterError, match="fails on the simulated twin.*ZeroDivisionError"):
            execute(broken, {}, bench, store)
        assert sent == []
    assert store.runs() == []


def test_records_are_stored_the_moment_they_are_yielded(store) -> None:
    seen = []

    @procedure(name="watched")
    def watched() -> Plan:
        """records twice and looks at the store in between"""
        yield Record("first", np.arange(3), "V", "a ramp", ("point",))
        seen.append([name for run in store.runs() for name, _ in store.records(run.id)])
        yield Record("second", {"a": 1})

    with default_bench(1) as bench:
        result = execute(watched, {}, bench, store)
    assert seen[-1] == ["first"]
    data = read_run(store, result.run_id)
    assert data.unit("first") == "V" and data.meta["first"]["axes"] == ["point"]


def test_a_plan_composes_others_and_child_runs_are_linked(store) -> None:
    @procedure(name="parent")
    def parent() -> Plan:
        """runs write-verify as a child and counting inline"""
        child = yield SubRun("write-verify", {"max_retries": 1})
        inner = yield from counting(n=2)
        return {"child_errors": child["bit_errors"], "child_run": child["run_id"], "inner": inner["counted_from"]}

    with default_bench(1) as bench:
        result = execute(parent, {}, bench, store, seed=3)
    assert result.status == "completed"
    child = store.run(result.summary["child_run"])
    assert child.procedure == "write-verify" and child.parent == result.run_id and child.status == "completed"
    assert store.run_ids(parent=result.run_id) == [child.id]
    assert [v for n, v in store.records(result.run_id) if n == "step"] == [0, 1]   # inline: the parent's


def test_a_child_run_interrupted_aborts_its_parent_too(store, monkeypatch) -> None:
    @procedure(name="parent-of-counting")
    def parent() -> Plan:
        """counting as a child run"""
        yield SubRun("counting", {})

    import labctl.registry as registry
    monkeypatch.setattr(registry, "procedures", lambda: {"counting": counting, "parent-of-counting": parent})
    with default_bench(1) as bench:
        interrupt_at_wait(bench, monkeypatch, 3, KeyboardInterrupt())
        result = execute(parent, {}, bench, store, seed=3)
    statuses = {info.procedure: info.status for info in store.runs()}
    assert result.status == "aborted" and statuses == {"parent-of-counting": "aborted", "counting": "aborted"}


def test_provenance_and_seeded_replay(store) -> None:
    results = []
    for _ in range(2):
        with default_bench(3) as bench:
            results.append(execute(get("write-verify"), {"matrix_seed": 4}, bench, store, seed=11))
    a, b = (read_run(store, r.run_id) for r in results)
    assert np.array_equal(a.last("read"), b.last("read")) and a.all("errors_after_pass") == b.all("errors_after_pass")
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
            execute(get("array-map"), {}, bench, store)


def test_the_rehearsal_answers_large_mac_batches_from_a_sample_and_extrapolates_time() -> None:
    @procedure(name="macs")
    def macs(n: Annotated[int, Param("vectors", low=1)] = 100_000) -> Plan:
        """one large MAC batch"""
        yield from ensure_powered()
        codes = yield Call("chip.mac_batch", np.ones((n, 64), np.int8))
        assert codes.shape == (n, 64)

    rehearsal = rehearse(macs, {"n": 100_000}, builtin_config(1))
    assert rehearsal.mac_vectors == 100_000
    assert rehearsal.bench_s == pytest.approx(100_000 / 11.1e6, rel=0.05)


def _fit(values: list[float]) -> float:
    return float(np.mean(values))


def _stub_fit(values: list[float]) -> float:
    return 0.0


def _analyse_steps(data) -> Plan:
    yield Record("mean_step", _fit(data.all("step")))
    if data.parameters["fail_analysis"]:
        raise KeyboardInterrupt
    yield Progress("analysis", 1, 1)
    return {"mean_step": data.last("mean_step"), "analysed_records": len(data.all("step"))}


@procedure(needs={"smu": "test_pad"}, analysis=_analyse_steps)
def stepping(
    n: Annotated[int, Param("steps", low=1, high=100)] = 4,
    fail_analysis: Annotated[bool, Param("Ctrl-C in the analysis")] = False,
) -> Plan:
    """counts, then an analysis of the counts; a Compute the rehearsal stubs"""
    computed = yield Compute(_fit, [1.0, 2.0], stub=_stub_fit)
    yield Record("computed", computed)
    for i in range(n):
        yield Record("step", i)
    return {"counted": n, "computed": computed}


def test_the_analysis_runs_once_after_the_plan_and_a_compute_is_stubbed_in_the_rehearsal(store) -> None:
    with default_bench(1) as bench:
        result = execute(stepping, {}, bench, store, seed=1)
    data = read_run(store, result.run_id)
    assert data.last("computed") == 1.5 and data.last("mean_step") == 1.5            # the run's own values
    assert result.summary["counted"] == 4 and result.summary["analysed_records"] == 4
    assert result.rehearsal.summary == {"counted": 4, "computed": 0.0}     # the stub; the analysis never rehearsed
    assert [n for n, _ in store.records(result.run_id)][-2:] == ["mean_step", "summary"]


def test_a_run_stopped_in_its_analysis_resumes_with_the_analysis_alone(store) -> None:
    with default_bench(1) as bench:
        first = execute(stepping, {"fail_analysis": True}, bench, store, seed=1)
        assert first.status == "aborted"
        resumed = execute(stepping, {"fail_analysis": False}, bench, store, resume=first.run_id)
    assert resumed.status == "completed" and resumed.rehearsal.messages == 0
    names = [n for n, _ in store.records(resumed.run_id)]
    assert names == ["computed", "step", "step", "step", "step", "mean_step", "summary"]   # the plan not again


def test_an_analysis_cannot_touch_the_bench(store) -> None:
    def reads_the_smu(data) -> Plan:
        yield Read("smu.read")

    touching = procedure(name="touching", analysis=reads_the_smu)(counting.function)
    with default_bench(1) as bench, pytest.raises(ParameterError, match="never the bench"):
        execute(touching, {"n": 1}, bench, store, seed=1)


def test_a_run_keeps_a_snapshot_of_every_instrument_setting(store) -> None:
    with default_bench(1) as bench:
        bench.smu.nplc = 2.0
        bench.generator.ch[2].pulse_width = 3e-6
        run = execute(counting, {"n": 1}, bench, store, seed=1).run_id
    settings = store.run(run).provenance["settings"]
    assert settings["smu"]["nplc"] == 2.0 and settings["generator"]["ch2"]["pulse_width"] == pytest.approx(3e-6)
    assert set(settings) == {"chip", "supply", "smu", "generator", "thermo", "dmm"}
    assert "current_range" in settings["smu"] and "voltage" in settings["supply"]["ch1"]


def test_a_rehearsal_on_the_nominal_array_counts_its_mac_vectors_too() -> None:
    rehearsal = rehearse(get("energy"), {"vectors": 20_000, "batch": 10_000}, builtin_config(1))
    assert rehearsal.mac_vectors >= 20_000
