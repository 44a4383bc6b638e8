"""A labctl run followed live by standard Bluesky callbacks: in process, and through a 0MQ proxy."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from bluesky.callbacks import LiveTable
from bluesky.callbacks.zmq import Proxy, RemoteDispatcher

from labctl.bench import default_bench
from labctl.bluesky.documents import to_json_line, tree_documents
from labctl.bluesky.publish import DocumentPublisher
from labctl.cli import main
from labctl.engine import execute
from labctl.registry import get
from labctl.store import Store
from tests.bluesky_bridge.checks import validate


def test_a_live_table_follows_a_run_and_the_live_documents_are_the_exported_ones(tmp_path, capsys) -> None:
    live: list[tuple[str, dict]] = []
    table = LiveTable(["errors_after_pass"], stream_name="errors_after_pass")
    publisher = DocumentPublisher(lambda name, doc: live.append((name, doc)), table)
    with Store(tmp_path / "runs.sqlite") as store, default_bench(3) as bench:
        result = execute(get("write-verify"), {"matrix_seed": 1}, bench, store, seed=1, rehearse_first=False,
                         draw_figures=False, observer=publisher)
        exported = list(tree_documents(store, result.run_id))
        passes = [v for _, n, v, _ in store.record_rows(result.run_id) if n == "errors_after_pass"]
    validate(live)
    assert [to_json_line(*d) for d in live] == [to_json_line(*d) for d in exported]
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|") and ":" in line]
    assert [int(row.split("|")[-2]) for row in rows] == passes and len(passes) >= 2


def test_an_observer_that_fails_is_dropped_and_the_run_goes_on(tmp_path) -> None:
    def broken(name, doc):
        if name == "event":
            raise ConnectionError("the consumer went away")

    with Store(tmp_path / "runs.sqlite") as store, default_bench(3) as bench:
        result = execute(get("write-verify"), {}, bench, store, seed=1, rehearse_first=False, draw_figures=False,
                         observer=DocumentPublisher(broken))
        info, events = store.run(result.run_id), store.events(result.run_id)
    assert info.status == "completed"
    assert any(s == "warning" and "ConnectionError: the consumer went away" in d for _, s, d in events)


def test_labctl_run_publishes_to_a_0mq_proxy_that_a_remote_dispatcher_reads(tmp_path, capsys) -> None:
    proxy = Proxy("tcp://127.0.0.1", "tcp://127.0.0.1")
    threading.Thread(target=proxy.start, daemon=True).start()
    received: list[tuple[str, dict]] = []
    stopped = threading.Event()
    dispatcher = RemoteDispatcher(proxy.out_port.removeprefix("tcp://"))

    def collect(name, doc):
        received.append((name, doc))
        if name == "stop":
            stopped.set()

    dispatcher.subscribe(collect)
    dispatcher.subscribe(LiveTable(["errors_after_pass"], stream_name="errors_after_pass"))

    def listen():
        with contextlib.suppress(asyncio.CancelledError):     # what the dispatcher raises when stopped
            dispatcher.start()

    threading.Thread(target=listen, daemon=True).start()
    address = proxy.in_port.removeprefix("tcp://")
    assert main(["run", "write-verify", "--store", str(tmp_path / "runs.sqlite"), "--publish", address]) == 0
    assert stopped.wait(timeout=20), "the stop document never arrived"
    dispatcher.stop()
    validate(received)
    assert [n for n, _ in received][0] == "start" and received[0][1]["plan_name"] == "write-verify"
    assert "errors_after_pass" in capsys.readouterr().out


def test_a_bad_publish_address_is_refused_before_the_run(tmp_path, capsys) -> None:
    assert main(["run", "write-verify", "--store", str(tmp_path / "runs.sqlite"), "--publish", "nowhere"]) == 2
    assert "write it as HOST:PORT" in capsys.readouterr().err
    with Store(tmp_path / "runs.sqlite", read_only=True) as store:
        assert store.run_ids() == []
