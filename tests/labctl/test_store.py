"""The run store: lossless, append-only, crash-safe, never damages a file it does not own."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from labctl.store import Store, StoreError


def test_records_are_lossless_and_ordered(tmp_path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        run = store.begin_run("x", {"a": 1}, {"seed": 3})
        arrays = [np.arange(12, dtype=np.int8).reshape(3, 4), np.array([1e-300, np.pi], np.float64),
                  np.ones((2, 2, 2), np.uint16)]
        for i, a in enumerate(arrays):
            store.record(run, f"a{i}", a)
        store.record(run, "summary", {"errors": 2, "ok": True, "list": [1.5, 2]})
        store.event(run, "completed")
        got = list(store.records(run))
    assert [name for name, _ in got] == ["a0", "a1", "a2", "summary"]
    for a, (_, b) in zip(arrays, got):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    assert got[3][1] == {"errors": 2, "ok": True, "list": [1.5, 2]}


def test_status_is_the_latest_event_and_nothing_is_rewritten(tmp_path) -> None:
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        run = store.begin_run("x", {}, {})
        assert store.run(run).status == "running"
        store.event(run, "aborted", "user")
        info = store.run(run)
        assert info.status == "aborted" and info.detail == "user" and info.ended is not None
    rows = sqlite3.connect(path).execute("SELECT status FROM events ORDER BY id").fetchall()
    assert rows == [("running",), ("aborted",)]                      # both events kept


def _endless_writer(path, values: int) -> subprocess.Popen:
    """A process writing chunks of ``values`` int64 (chunk i holds i) into one run of the store at ``path``
    until killed, printing each chunk's number once ``record`` has returned."""
    script = textwrap.dedent(f"""
        import numpy as np
        from labctl.store import Store
        store = Store({str(path)!r})
        run = store.begin_run("long", {{}}, {{}})
        i = 0
        while True:
            store.record(run, "chunk", np.full({values}, i, np.int64))
            print(i, flush=True)
            i += 1
    """)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def test_killing_the_writer_mid_run_keeps_the_store_readable(tmp_path) -> None:
    path = tmp_path / "runs.sqlite"
    proc = _endless_writer(path, 1000)
    while int(proc.stdout.readline()) < 50:
        pass
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store(path, read_only=True) as store:
        (info,) = store.runs()
        assert info.status == "interrupted" and "killed" in info.detail
    with Store(path) as store:
        chunks = [v for name, v in store.records(info.id)]
        assert store.run(info.id).status == "interrupted"
        assert len(chunks) > 50
        assert all(np.array_equal(c, np.full(1000, i)) for i, c in enumerate(chunks))   # every one complete
        store.event(info.id, "aborted", "found after a crash")                         # and still writable


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE samples (x REAL)")
    db.execute("INSERT INTO samples VALUES (1.0)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a labctl run store; left untouched"):
        Store(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("lab notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="notes.txt"):
        Store(path)
    assert path.read_text().startswith("lab notes")


def test_an_unwritable_place_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="/proc/labctl/runs.sqlite"):
        Store("/proc/labctl/runs.sqlite")


def test_unknown_run() -> None:
    with Store(":memory:") as store, pytest.raises(StoreError, match="no run 7"):
        store.run(7)


def test_the_store_runs_in_wal_mode_with_full_synchronous_writes(tmp_path) -> None:
    """What the docstring promises, as SQLite reports it: on the store's connection and in the file."""
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2          # FULL
        run = store.begin_run("x", {}, {})
        store.record(run, "a", np.arange(3))
        assert (tmp_path / "runs.sqlite-wal").exists()                             # commits go to the log
        other = sqlite3.connect(path)
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"        # persistent in the file
        other.close()
    with Store(path) as again:                                                     # and on reopening
        assert again._db.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_every_record_is_committed_when_record_returns(tmp_path) -> None:
    """Autocommit: another connection sees each record as soon as the call returns (no open transaction)."""
    path = tmp_path / "runs.sqlite"
    with Store(path) as store, Store(path, read_only=True) as reader:
        run = store.begin_run("x", {}, {})
        for i in range(5):
            store.record(run, "r", np.full(4, i))
            assert not store._db.in_transaction
            assert [v[0] for _, v in reader.records(run)] == list(range(i + 1))


def test_a_reader_holding_a_snapshot_does_not_block_the_writer(tmp_path) -> None:
    """WAL: a reader in the middle of a read transaction neither blocks a commit nor sees it until it ends.
    (In rollback-journal mode the writer would wait for the reader's lock and fail after its timeout.)"""
    import threading
    path = tmp_path / "runs.sqlite"
    with Store(path) as store:
        run = store.begin_run("x", {}, {})
        store.record(run, "r", 0)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM records").fetchone()[0] == 1          # snapshot taken
    done = threading.Event()

    def write() -> None:                                          # the store's connection lives in its thread
        with Store(path) as writer:
            for i in range(1, 4):
                writer.record(run, "r", i)
        done.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(timeout=3.0)
    assert done.is_set()                                                               # not blocked
    assert reader.execute("SELECT count(*) FROM records").fetchone()[0] == 1          # the snapshot holds
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM records").fetchone()[0] == 4          # then all committed
    reader.close()


def test_a_killed_writer_loses_at_most_the_record_being_written(tmp_path) -> None:
    """The writer says which record each insert returned from; after SIGKILL every acknowledged record is
    there, complete, plus at most the one that was being written; a reader beside the live writer saw
    them as they came."""
    path = tmp_path / "runs.sqlite"
    proc = _endless_writer(path, 20_000)
    acknowledged = -1
    while acknowledged < 30:
        acknowledged = int(proc.stdout.readline())
    with Store(path, read_only=True) as reader:                      # beside the live writer
        (run,) = reader.run_ids()
        seen = len(list(reader.records(run)))
        assert seen >= acknowledged + 1 and reader.run(run).status == "running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acknowledged = max([acknowledged] + [int(line) for line in proc.stdout.read().split()])
    with Store(path, read_only=True) as store:
        chunks = [v for _, v in store.records(run)]
        assert store.run(run).status == "interrupted"
    assert acknowledged + 1 <= len(chunks) <= acknowledged + 2
    assert all(np.array_equal(c, np.full(20_000, i)) for i, c in enumerate(chunks))
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
