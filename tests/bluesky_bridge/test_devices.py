"""ophyd-async devices of the bench, made from the command sets, under a Bluesky RunEngine: units and
limits, the simulated twin for mock connections, safety limits before anything is sent, a scan on a
served bench stored where labctl shows it, and Ctrl-C leaving every output off."""

from __future__ import annotations

import base64
import os
import signal

import bluesky.plan_stubs as bps
import bluesky.plans as bp
import numpy as np
import pytest
from bluesky import RunEngine
from bluesky.run_engine import call_in_bluesky_event_loop
from bluesky.simulators import check_limits
from bluesky.utils import RunEngineInterrupted
from starlette.testclient import TestClient

from benchspec import mx64
from benchspec.models import COMMAND_SETS
from instruments.errors import SafetyLimitError
from labctl.bench import builtin_config, read_bench_config
from labctl.bluesky.devices import READINGS, bench_devices
from labctl.bluesky.documents import tree_documents
from labctl.bluesky.ingest import StoreWriter
from labctl.bluesky.plans import write_voltage_scan
from labctl.cli import main
from labctl.monitor.app import create_app
from labctl.store import Store
from tests.bluesky_bridge.checks import validate


@pytest.fixture(scope="module")
def engine():
    return RunEngine()


def connected(config, mock=True):
    bench = bench_devices(config)
    call_in_bluesky_event_loop(bench.connect(mock=mock))
    return bench


def described(signal_) -> dict:
    return call_in_bluesky_event_loop(signal_.describe())[signal_.name]


async def setting(signal_, value) -> None:
    await signal_.set(value)


def names(device) -> set[str]:
    return {name for name, _ in device.children()}


def plotted(values) -> list[float]:
    """A Plotly trace's values (typed arrays come base64-encoded)."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).tolist()
    return list(values)


def outputs(bench) -> dict[str, object]:
    """Every output of the open bench, read from its instruments."""
    opened = bench.link.bench
    return {**{f"supply ch{n}": ch.output for n, ch in opened.supply.ch.items()}, "smu": opened.smu.output,
            **{f"generator ch{n}": ch.output for n, ch in opened.generator.ch.items()},
            **{f"heater {n}": ch.heater_range for n, ch in opened.thermo.ch.items()}}


OFF = {**{f"supply ch{n}": False for n in (1, 2, 3)}, "smu": False, "generator ch1": False, "generator ch2": False,
       **{f"heater {n}": "off" for n in (1, 2, 3, 4)}}


def test_devices_come_from_the_command_sets_with_units_and_limits_on_the_simulated_twin(engine) -> None:
    bench = connected(builtin_config(2))
    try:
        assert bench.link.simulated and bench.link.bench.world is not None        # the twin, not an empty mock
        for role, spec in COMMAND_SETS.items():
            device = getattr(bench, role)
            readings = {name for name, _ in READINGS.get(role, {}).get("instrument", ())}
            assert names(device) - {"ch"} == {q.name for q in spec.of_instrument()} | readings, role
            for channel in spec.channels:
                assert {q.name for q in spec.of_channels()} <= names(device.ch[channel])
        assert names(bench.board) == {s.name for s in mx64.SETTINGS} | {c.name for c in mx64.COMMANDS if c.reading}
        voltage = described(bench.smu.source_voltage)
        assert voltage["units"] == "V" and voltage["limits"]["control"] == {"low": -1.0, "high": 1.0}
        assert described(bench.supply.ch[3].voltage)["limits"]["control"] == {"low": 0.0, "high": 1.6}   # vwrite
        assert described(bench.supply.ch[1].voltage)["limits"]["control"] == {"low": 0.0, "high": 0.99}  # vdd
        width = described(bench.board.write_width)
        assert width["units"] == "clock" and width["limits"]["control"] == {"low": 1.0, "high": 255.0}
        assert described(bench.thermo.ch[1].heater_range)["choices"] == ["high", "low", "medium", "off"]
        call_in_bluesky_event_loop(setting(bench.smu.source_voltage, 0.25))
        assert bench.link.bench.smu.source_voltage == pytest.approx(0.25)          # it reached the twin's SMU
        assert call_in_bluesky_event_loop(bench.board.powered.get_value()) is False
    finally:
        bench.close()


def test_a_value_beyond_a_bench_limit_is_refused_before_anything_is_sent(engine) -> None:
    bench = connected(builtin_config(2))
    sent: list[str] = []
    for device in bench.link.bench.world.instruments().values():
        original = device.handle_line
        device.handle_line = lambda line, original=original: sent.append(line) or original(line)
    documents: list[str] = []
    token = engine.subscribe(lambda name, doc: documents.append(name))
    try:
        with pytest.raises(SafetyLimitError, match="vwrite = 1.8 exceeds the bench safety limit 0 .. 1.6 V"):
            engine(write_voltage_scan(bench, 1.0, 1.8, 3))
        assert sent == [] and documents == []
        with pytest.raises(SafetyLimitError):
            check_limits(bp.scan([bench.write_verify], bench.smu.source_voltage, 0.0, 1.5, 4))
        with pytest.raises(Exception, match="smu_voltage = 2.0 exceeds"):
            engine(bps.mv(bench.smu.source_voltage, 2.0))
        assert not any("SOUR:VOLT 2" in line for line in sent)
    finally:
        engine.unsubscribe(token)
        bench.close()


def test_a_run_engine_scan_on_the_served_bench_is_stored_and_shown(engine, tmp_path, capsys, served_bench_file) -> None:
    store_path = tmp_path / "runs.sqlite"
    with served_bench_file(3) as (_, bench_file):
        bench = connected(read_bench_config(bench_file), mock=False)
        writer = StoreWriter(store_path)
        token = engine.subscribe(writer)
        try:
            assert not bench.link.simulated and described(bench.smu.source_voltage)["source"] == \
                "labctl://smu.source_voltage"
            engine(write_voltage_scan(bench, 1.3, 1.5, 3))
            assert outputs(bench) == OFF
            twin = connected(read_bench_config(bench_file))              # mock=True: the same die, simulated
            assert twin.link.bench.config.source == f"simulated twin of {bench_file}"
            assert twin.link.bench.identities()["chip"] == bench.link.bench.identities()["chip"]
            twin.close()
        finally:
            engine.unsubscribe(token)
            writer.close()
            bench.close()
    with Store(store_path, read_only=True) as store:
        (run,) = store.runs()
        rows = [(name, value, meta) for _, name, value, meta in store.record_rows(run.id)]
        documents = list(tree_documents(store, run.id))
    assert (run.procedure, run.status) == ("bluesky:write-voltage-scan", "completed")
    assert run.provenance["bench"]["source"] == str(bench_file) and "die" in run.provenance["identities"]["chip"]
    volts = [v for n, v, _ in rows if n == "bench-rails-vwrite"]
    errors = [(v, m) for n, v, m in rows if n == "bench-write_verify-bit_errors"]
    assert volts == pytest.approx([1.3, 1.4, 1.5]) and len(errors) == 3
    assert errors[0][1] == {"unit": "bits", "axes": ["bench-rails-vwrite"], "stream": "primary"}
    validate(documents)
    assert [d["name"] for n, d in documents if n == "descriptor"] == ["primary"]       # one stream again
    assert main(["runs", "show", str(run.id), "--store", str(store_path)]) == 0
    shown = capsys.readouterr().out
    assert "bluesky:write-voltage-scan, completed" in shown and "bench-write_verify-bit_errors" in shown
    client = TestClient(create_app(store_path))
    assert client.get(f"/runs/{run.id}").status_code == 200
    figures = {f["name"]: f["figure"] for f in client.get(f"/api/runs/{run.id}/figures").json()}
    trace = figures["bench-write_verify-bit_errors"]["data"][0]
    assert plotted(trace["x"]) == pytest.approx(volts) and plotted(trace["y"]) == pytest.approx([v for v, _ in errors])


def test_ctrl_c_in_the_run_engine_leaves_every_output_off(engine, tmp_path) -> None:
    bench = connected(builtin_config(2))
    writer = StoreWriter(tmp_path / "runs.sqlite")
    seen: list[dict] = []

    def interrupt_at_the_second_point(name, doc):
        if name == "event":
            seen.append(dict(outputs(bench)))
            if len(seen) == 2:
                os.kill(os.getpid(), signal.SIGINT)          # what Ctrl-C sends

    tokens = [engine.subscribe(writer), engine.subscribe(interrupt_at_the_second_point)]
    try:
        with pytest.raises(RunEngineInterrupted):
            engine(write_voltage_scan(bench, 1.2, 1.5, 4))
        assert engine.state == "paused" and outputs(bench) == OFF
        assert seen[0]["supply ch3"] is True                 # it was powered while it ran
        engine.resume()                                      # turns back on what was on, and goes on
        assert len(seen) == 4 and seen[2]["supply ch3"] is True and outputs(bench) == OFF
        seen.clear()
        with pytest.raises(RunEngineInterrupted):
            engine(write_voltage_scan(bench, 1.2, 1.5, 4))
        assert outputs(bench) == OFF
        engine.abort("stopped at the bench")
        assert outputs(bench) == OFF
    finally:
        for token in tokens:
            engine.unsubscribe(token)
        writer.close()
        bench.close()
    with Store(tmp_path / "runs.sqlite", read_only=True) as store:
        first, second = store.runs()
        assert first.status == "completed" and len(store.record_names(first.id)) == 8
        assert second.status == "aborted" and store.record_names(second.id)          # its data kept
