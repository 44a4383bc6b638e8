"""The run store: every run, its records, plots, progress and checkpoints, in one SQLite file.

Crash-safe and append-only.  The database runs in WAL mode with
``synchronous=FULL`` and every record is its own transaction, so killing the
process mid-run loses at most the record being written and leaves the file
readable; a reader (``labctl runs``, the monitor) can read beside the
writer.  Nothing is ever updated or deleted: a run's status is its latest
event.  A run whose process died without an end event (kill -9, power loss)
is shown as ``interrupted``.  Arrays are stored losslessly (NumPy's .npy
format, dtype and shape included).  A store can be opened read-only
(another user's, or on a read-only mount).
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import numpy as np

SCHEMA_VERSION = 3
STORE_FILE = "runs.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    procedure TEXT NOT NULL,
    started REAL NOT NULL,
    parameters TEXT NOT NULL,
    provenance TEXT NOT NULL,
    resumed_from INTEGER,
    parent INTEGER,
    host TEXT,
    pid INTEGER,
    process_start TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    time REAL NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    time REAL NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    data BLOB NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    time REAL NOT NULL,
    state BLOB NOT NULL,
    last_record INTEGER
);
CREATE TABLE IF NOT EXISTS progress (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    time REAL NOT NULL,
    task TEXT NOT NULL,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_run ON records(run_id);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
CREATE INDEX IF NOT EXISTS progress_run ON progress(run_id);
CREATE INDEX IF NOT EXISTS runs_parent ON runs(parent);
"""
_MIGRATIONS_FROM_1 = (
    "ALTER TABLE runs ADD COLUMN parent INTEGER",
    "ALTER TABLE runs ADD COLUMN host TEXT",
    "ALTER TABLE runs ADD COLUMN pid INTEGER",
    "ALTER TABLE runs ADD COLUMN process_start TEXT",
    "ALTER TABLE records ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'",
)
_MIGRATIONS_FROM_2 = (
    "ALTER TABLE checkpoints ADD COLUMN last_record INTEGER",
)
#: statuses a run can end in (its last event); "running" while it goes on
END_STATUSES = ("completed", "aborted", "failed")


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the path."""


def default_store_path() -> Path:
    """``$LABCTL_STORE`` (a file, or a folder holding ``runs.sqlite``), else ``~/.local/share/labctl/runs.sqlite``."""
    env = os.environ.get("LABCTL_STORE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "labctl" / STORE_FILE


def resolve_store_path(path: str | Path | None) -> Path:
    """The store file a path names: a folder (existing, or written with a trailing /) means its runs.sqlite."""
    if path is None:
        path = default_store_path()
    text = str(path)
    path = Path(path).expanduser()
    if path.is_dir() or text.endswith(("/", os.sep)):
        return path / STORE_FILE
    return path


def _encode(value: Any) -> tuple[str, bytes]:
    if isinstance(value, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return "array", buf.getvalue()
    return "json", json.dumps(value, default=_json_default).encode()


def _decode(kind: str, data: bytes) -> Any:
    if kind == "array":
        return np.load(io.BytesIO(data), allow_pickle=False)
    return json.loads(data)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default)


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process (to tell a live process from a reused pid), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def _process_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                                  # another user's live process
    return started is None or _process_start(pid) in (None, started)


@dataclass(frozen=True)
class RunInfo:
    """One run as listed: id, procedure, status, times (s since the epoch), parameters."""

    id: int
    procedure: str
    status: str             #: running, completed, aborted, failed, or interrupted (its process died)
    started: float
    ended: float | None
    parameters: dict
    provenance: dict
    detail: str
    resumed_from: int | None
    parent: int | None = None


class Store:
    """An open run store (``read_only``: never written, not even to create it)."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False) -> None:
        self.path = resolve_store_path(path)
        self.read_only = read_only
        self._host = socket.gethostname()
        try:
            if read_only:
                self._db = self._connect_read_only()
                if self._tables():               # else a store being created this moment: empty
                    self._check_schema()
            else:
                self._open_for_writing()
            self._columns = {t: {r[1] for r in self._db.execute(f"PRAGMA table_info({t})")}
                             for t in ("runs", "records")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"run store {self.path}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"run store {self.path}: {exc.strerror}") from None

    def _open_for_writing(self) -> None:
        existed = self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if existed and not os.access(self.path, os.W_OK):
            raise StoreError(f"run store {self.path}: not writable (read it with `labctl runs`, or use "
                             "--store to run into a store of your own)")
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        if existed:
            self._check_schema()          # before anything that could write to the file
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        version = self._schema_version()
        if version is not None and version < SCHEMA_VERSION:
            for statement in (_MIGRATIONS_FROM_1 if version == 1 else ()) + _MIGRATIONS_FROM_2:
                self._db.execute(statement)
            self._db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('application', 'labctl')")

    def _connect_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise StoreError(f"run store {self.path}: no such file")
        uri = self.path.resolve().as_uri()
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=10.0)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            db.close()          # WAL needs its -shm file: on a read-only mount read the file as it is
            return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def _tables(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def _schema_version(self) -> int | None:
        if "meta" not in self._tables():
            return None
        row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return int(row[0]) if row else None

    def _check_schema(self) -> None:
        tables = self._tables()
        if not tables and self.path.stat().st_size > 0:
            raise StoreError(f"run store {self.path}: not an empty file nor a labctl run store; left untouched")
        if tables and "meta" not in tables:
            raise StoreError(f"run store {self.path}: this SQLite file is not a labctl run store; left untouched")
        version = self._schema_version()
        if version is not None and version > SCHEMA_VERSION:
            raise StoreError(f"run store {self.path}: schema {version} is newer than this labctl "
                             f"({SCHEMA_VERSION}); left untouched")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def plot_dir(self, run_id: int) -> Path:
        """Where a run's figures are also written as files: ``<store name>-plots/run-N`` beside the store."""
        return self.path.parent / f"{self.path.stem}-plots" / f"run-{run_id}"

    # ----------------------------------------------------------- writing
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes made durable together, all or none (a campaign task's result, say)."""
        if self.read_only:
            raise StoreError(f"run store {self.path}: opened read-only")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _insert(self, sql: str, values: tuple) -> int:
        if self.read_only:
            raise StoreError(f"run store {self.path}: opened read-only")
        try:
            row = self._db.execute(sql, values).lastrowid
        except sqlite3.OperationalError as exc:
            raise StoreError(f"run store {self.path}: {exc}") from None
        assert row is not None                     # an INSERT always has one
        return row

    def begin_run(self, procedure: str, parameters: dict, provenance: dict,
                  resumed_from: int | None = None, parent: int | None = None, when: float | None = None) -> int:
        """A new run, started now (or at ``when``, s since the epoch: a run imported from elsewhere)."""
        pid = os.getpid()
        started = time.time() if when is None else when
        run_id = self._insert("INSERT INTO runs (procedure, started, parameters, provenance, resumed_from, parent, "
                              "host, pid, process_start) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              (procedure, started, to_json(parameters), to_json(provenance), resumed_from,
                               parent, self._host, pid, _process_start(pid)))
        self.event(run_id, "running", when=started)
        return run_id

    def event(self, run_id: int, status: str, detail: str = "", when: float | None = None) -> None:
        """Append a status event: running, completed, aborted, failed (or a warning); at ``when`` if given."""
        self._insert("INSERT INTO events (run_id, time, status, detail) VALUES (?, ?, ?, ?)",
                     (run_id, time.time() if when is None else when, status, detail))

    def record(self, run_id: int, name: str, value: Any, meta: dict | None = None, when: float | None = None) -> None:
        """Append one named result: a NumPy array (lossless) or anything JSON can hold; at ``when`` if given."""
        kind, data = _encode(value)
        self._insert("INSERT INTO records (run_id, time, name, kind, data, meta) VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, time.time() if when is None else when, name, kind, data, to_json(meta or {})))

    def attach(self, run_id: int, name: str, data: bytes, media_type: str = "image/png") -> None:
        self._insert("INSERT INTO files (run_id, name, media_type, data) VALUES (?, ?, ?, ?)",
                     (run_id, name, media_type, data))

    def checkpoint(self, run_id: int, state: dict) -> None:
        """Store a plan's state to resume from, with the last record stored before it."""
        _, data = _encode(state)
        last = self._db.execute("SELECT max(id) FROM records WHERE run_id=?", (run_id,)).fetchone()[0]
        self._insert("INSERT INTO checkpoints (run_id, time, state, last_record) VALUES (?, ?, ?, ?)",
                     (run_id, time.time(), data, last))

    def carry_over(self, earlier: int, run_id: int) -> int:
        """Copy the records ``earlier`` stored up to its last checkpoint into ``run_id`` (a run resuming it),
        in one transaction; how many."""
        last = self.last_checkpoint_record(earlier)
        if last is None:
            return 0
        with self.transaction():
            return self._db.execute("INSERT INTO records (run_id, time, name, kind, data, meta) SELECT ?, time, "
                                    "name, kind, data, meta FROM records WHERE run_id=? AND id<=? ORDER BY id",
                                    (run_id, earlier, last)).rowcount

    def progress(self, run_id: int, task: str, done: int, total: int) -> None:
        self._insert("INSERT INTO progress (run_id, time, task, done, total) VALUES (?, ?, ?, ?, ?)",
                     (run_id, time.time(), task, done, total))

    # ----------------------------------------------------------- reading
    def run_ids(self, parent: int | None = None) -> list[int]:
        """Every run's id, oldest first (the children of ``parent`` only, when given)."""
        if not self._columns["runs"]:
            return []
        if parent is not None and "parent" in self._columns["runs"]:
            return [r[0] for r in self._db.execute("SELECT id FROM runs WHERE parent=? ORDER BY id", (parent,))]
        if parent is not None:
            return []
        return [r[0] for r in self._db.execute("SELECT id FROM runs ORDER BY id")]

    def runs(self) -> list[RunInfo]:
        return [self.run(i) for i in self.run_ids()]

    def procedure_names(self) -> list[str]:
        """Every procedure that has a run in the store."""
        if not self._columns["runs"]:
            return []
        return sorted(r[0] for r in self._db.execute("SELECT DISTINCT procedure FROM runs"))

    def list_runs(self, limit: int = 50, offset: int = 0, procedure: str | None = None, status: str | None = None,
                  since: float | None = None, until: float | None = None, die: str | None = None,
                  top_level: bool = False) -> tuple[list[RunInfo], int]:
        """One page of runs, newest first, and how many match: a few queries whatever the store's size."""
        if not self._columns["runs"]:
            return [], 0
        last_status = ("(SELECT e.status FROM events e WHERE e.run_id = runs.id AND e.status IN "
                       "('running', 'completed', 'aborted', 'failed') ORDER BY e.id DESC LIMIT 1)")
        where, values = [], []
        for clause, value in (("procedure = ?", procedure), ("started >= ?", since), ("started < ?", until),
                              ("instr(provenance, ?) > 0", f"die {die}" if die else None)):
            if value is not None:
                where.append(clause)
                values.append(value)
        if status is not None:            # interrupted runs are running ones whose process is gone
            where.append(f"{last_status} = ?")
            values.append("running" if status == "interrupted" else status)
        if top_level and "parent" in self._columns["runs"]:
            where.append("parent IS NULL")
        sql = " FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        total = self._db.execute("SELECT count(*)" + sql, values).fetchone()[0]
        ids = [r[0] for r in self._db.execute("SELECT id" + sql + " ORDER BY id DESC LIMIT ? OFFSET ?",
                                              (*values, limit, offset))]
        found = [self.run(i) for i in ids]
        if status in ("running", "interrupted"):
            found = [info for info in found if info.status == status]
        return found, total

    def run(self, run_id: int) -> RunInfo:
        if not self._columns["runs"]:
            raise StoreError(f"run store {self.path}: no run {run_id}")
        extra = [c for c in ("parent", "host", "pid", "process_start") if c in self._columns["runs"]]
        row = self._db.execute("SELECT id, procedure, started, parameters, provenance, resumed_from"
                               + "".join(f", {c}" for c in extra) + " FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"run store {self.path}: no run {run_id}")
        more = dict(zip(extra, row[6:]))
        last = self._db.execute("SELECT status, time, detail FROM events WHERE run_id=? AND status IN "
                                "('running', 'completed', 'aborted', 'failed') ORDER BY id DESC LIMIT 1",
                                (run_id,)).fetchone()
        status, when, detail = last if last else ("unknown", None, "")
        ended = when if status != "running" else None
        if status == "running":
            if more.get("host") == self._host and more.get("pid") is not None and \
                    not _process_alive(more["pid"], more.get("process_start")):
                status, detail = "interrupted", (f"its process ({more['pid']}) ended without finishing the run "
                                                 "(killed, or the machine stopped); the data stored are kept")
            else:
                detail = f"running (process {more.get('pid')} on {more.get('host')})"
        return RunInfo(row[0], row[1], status, row[2], ended, json.loads(row[3]), json.loads(row[4]),
                       detail, row[5], more.get("parent"))

    def events(self, run_id: int) -> list[tuple[float, str, str]]:
        return list(self._db.execute("SELECT time, status, detail FROM events WHERE run_id=? ORDER BY id", (run_id,)))

    def records(self, run_id: int, through_checkpoint: bool = False) -> Iterator[tuple[str, Any]]:
        """(name, value) of a run's records in order; only those stored before its last checkpoint if asked."""
        last = self.last_checkpoint_record(run_id) if through_checkpoint else None
        for name, kind, data in self._db.execute("SELECT name, kind, data FROM records WHERE run_id=? AND id<=? "
                                                 "ORDER BY id", (run_id, last if last is not None else 2**62)):
            yield name, _decode(kind, data)

    def record_rows(self, run_id: int) -> Iterator[tuple[float, str, Any, dict]]:
        """(time, name, value, metadata) of every record of a run, in the order stored."""
        meta_column = "meta" if "meta" in self._columns["records"] else "'{}'"
        for when, name, kind, data, meta in self._db.execute(
                f"SELECT time, name, kind, data, {meta_column} FROM records WHERE run_id=? ORDER BY id", (run_id,)):
            yield when, name, _decode(kind, data), json.loads(meta)

    def last_checkpoint_record(self, run_id: int) -> int | None:
        """The id of the last record a run stored before its last checkpoint (None: no such record)."""
        row = self._db.execute("SELECT last_record FROM checkpoints WHERE run_id=? ORDER BY id DESC LIMIT 1",
                               (run_id,)).fetchone()
        return None if row is None else row[0]

    def record_meta(self, run_id: int) -> dict[str, dict]:
        """Unit, description and axes of every record name (the first occurrence's)."""
        if "meta" not in self._columns["records"]:
            return {}
        found: dict[str, dict] = {}
        for name, meta in self._db.execute("SELECT name, meta FROM records WHERE run_id=? ORDER BY id", (run_id,)):
            found.setdefault(name, json.loads(meta))
        return found

    def record_names(self, run_id: int) -> list[tuple[str, str, int]]:
        """(name, kind, bytes) of every record of a run."""
        return list(self._db.execute("SELECT name, kind, length(data) FROM records WHERE run_id=? ORDER BY id",
                                     (run_id,)))

    def files(self, run_id: int) -> list[tuple[str, str, bytes]]:
        """(name, media type, bytes) of a run's files; a figure drawn again replaces the earlier one."""
        latest: dict[str, tuple[str, str, bytes]] = {}
        for name, media, data in self._db.execute("SELECT name, media_type, data FROM files WHERE run_id=? "
                                                  "ORDER BY id", (run_id,)):
            latest[name] = (name, media, data)
        return list(latest.values())

    def last_checkpoint(self, run_id: int) -> dict | None:
        row = self._db.execute("SELECT state FROM checkpoints WHERE run_id=? ORDER BY id DESC LIMIT 1",
                               (run_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def last_progress(self, run_id: int) -> tuple[str, int, int] | None:
        row = self._db.execute("SELECT task, done, total FROM progress WHERE run_id=? ORDER BY id DESC LIMIT 1",
                               (run_id,)).fetchone()
        return None if row is None else tuple(row)
