"""Stopping a run from outside, through the command line, against a served bench: Ctrl-C in the
middle of every procedure, SIGTERM, SIGHUP and a closed pipe.  What is checked is the simulated
instruments' own state and the store, not a message."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from labctl.bench import Wiring, default_bench, write_served_bench_file
from labctl.engine import execute
from labctl.registry import get
from labctl.store import Store

from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer

from .test_plans import SHORT, SMU

DIE = 6
SEED = 3
#: procedures whose records are their child runs' (the parent stores its own at the end)
PARENTS = {"demo", "twin-fit"}


class SlowSession:
    """A device session that takes 2 ms per message, so that a run lasts long enough to interrupt."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def feed(self, data: bytes) -> bytes:
        time.sleep(0.002)
        return self.inner.feed(data)

    def idle(self) -> None:
        self.inner.idle()


def served_bench(tmp_path, smu: str):
    world = World(DIE, wiring=Wiring(smu=smu))
    server = BenchServer(world, pty=False)
    for tcp in server._servers.values():
        tcp.factory = (lambda make=tcp.factory: SlowSession(make()))
    path = tmp_path / "bench.toml"
    return world, server, path




def start_run(path, store, name: str, params: dict, **popen) -> subprocess.Popen:
    argv = [sys.executable, "-m", "labctl.cli", "run", name, "--bench", str(path), "--store", str(store),
            "--seed", str(SEED)]
    for key, value in params.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def wait_for_records(store, proc: subprocess.Popen, count: int = 1, timeout: float = 60.0) -> None:
    """Until the run has stored ``count`` records (read-only, beside the writer)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        if store.exists():
            with Store(store, read_only=True) as s:
                if any(len(s.record_names(i)) >= count for i in s.run_ids()):
                    return
    raise AssertionError(f"no records within {timeout} s: {proc.poll()} {proc.stderr.read() if proc.poll() else ''}")


class StopAfter(Store):
    """A store that interrupts the run as Ctrl-C would once its first (top) run holds ``count`` records."""

    def __init__(self, path, count: int) -> None:
        super().__init__(path)
        self.count, self.top = count, None

    def begin_run(self, *args, **kwargs) -> int:
        run_id = super().begin_run(*args, **kwargs)
        self.top = self.top or run_id
        return run_id

    def record(self, run_id: int, name: str, value, meta: dict | None = None, **kwargs) -> None:
        super().record(run_id, name, value, meta, **kwargs)
        if run_id == self.top:
            self.count -= 1
            if self.count == 0:
                raise KeyboardInterrupt


def reference_records(name: str, params: dict, tmp_path, count: int) -> list[tuple[str, object]]:
    """The first ``count`` records of the same run, in process (bit-identical by determinism)."""
    with StopAfter(tmp_path / "reference.sqlite", count) as store, \
            default_bench(DIE, smu=SMU.get(name, "test_pad")) as bench:
        result = execute(get(name), params, bench, store, seed=SEED, rehearse_first=False, draw_figures=False)
        return [(n, v) for n, v in store.records(result.run_id) if n != "summary"]


def same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    return a == b


@pytest.mark.parametrize("name", sorted(SHORT))
def test_ctrl_c_in_the_middle_of_every_procedure(name, tmp_path) -> None:
    params = SHORT[name]
    world, server, path = served_bench(tmp_path, SMU.get(name, "test_pad"))
    store = tmp_path / "runs.sqlite"
    with server:
        write_served_bench_file(path, server.resources(), die_seed=DIE, wiring=Wiring(smu=SMU.get(name, "test_pad")))
        proc = start_run(path, store, name, params)
        wait_for_records(store, proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert world.outputs_on() == []
    with Store(store, read_only=True) as s:
        top = [info for info in s.runs() if info.parent is None]
        assert [info.status for info in top] == ["aborted"], err
        assert "Ctrl-C" in top[0].detail and "outputs off" in top[0].detail
        kept = [(n, v) for n, v in s.records(top[0].id)]
    if name not in PARENTS:                       # every record yielded before the interrupt is there
        assert kept
        reference = reference_records(name, params, tmp_path, len(kept))
        assert len(reference) == len(kept)
        assert all(n == m and same(v, w) for (n, v), (m, w) in zip(kept, reference))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_a_run_as_ctrl_c_does(signum, tmp_path) -> None:
    world, server, path = served_bench(tmp_path, "test_pad")
    store = tmp_path / "runs.sqlite"
    with server:
        write_served_bench_file(path, server.resources(), die_seed=DIE)
        proc = start_run(path, store, "array-map", {"columns": 8})
        wait_for_records(store, proc, count=3)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert world.outputs_on() == []
    with Store(store, read_only=True) as s:
        (info,) = s.runs()
        assert info.status == "aborted" and f"stopped by {signal.Signals(signum).name}" in info.detail
        assert len(s.record_names(info.id)) >= 3


def test_a_closed_pipe_stops_a_run_as_ctrl_c_does(tmp_path) -> None:
    world, server, path = served_bench(tmp_path, "test_pad")
    store = tmp_path / "runs.sqlite"
    with server:
        write_served_bench_file(path, server.resources(), die_seed=DIE)
        proc = start_run(path, store, "array-map", {"columns": 8})
        proc.stderr.readline()                          # like `2>&1 | head -1`: one progress line, then gone
        proc.stderr.close()
        proc.wait(timeout=60)
        assert proc.returncode == 130
        assert world.outputs_on() == []
    with Store(store, read_only=True) as s:
        (info,) = s.runs()
        assert info.status == "aborted" and "closed" in info.detail
