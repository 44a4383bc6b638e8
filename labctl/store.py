"""The run store: every run, its records, plots and checkpoints, in one SQLite file.

Crash-safe and append-only.  The database runs in WAL mode and every record
is its own transaction, so killing the process mid-run loses at most the
record being written and leaves the file readable.  Nothing is ever
updated or deleted: a run's status is its latest event.  Arrays are stored
losslessly (NumPy's .npy format, dtype and shape included).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    procedure TEXT NOT NULL,
    started REAL NOT NULL,
    parameters TEXT NOT NULL,
    provenance TEXT NOT NULL,
    resumed_from INTEGER
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
    data BLOB NOT NULL
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
    state BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_run ON records(run_id);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
"""


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the path."""


def default_store_path() -> Path:
    """``$LABCTL_STORE``, else ``~/.local/share/labctl/runs.sqlite``."""
    env = os.environ.get("LABCTL_STORE")
    if env:
        return Path(env)
    return Path.home() / ".local" / "share" / "labctl" / "runs.sqlite"


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


@dataclass(frozen=True)
class RunInfo:
    """One run as listed: id, procedure, status, times (s since the epoch), parameters."""

    id: int
    procedure: str
    status: str
    started: float
    ended: float | None
    parameters: dict
    provenance: dict
    detail: str
    resumed_from: int | None


class Store:
    """An open run store."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        existed = self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            if existed:
                self._check_schema()          # before anything that could write to the file
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('application', 'labctl')")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"run store {self.path}: {exc}") from None
        except OSError as exc:
            raise StoreError(f"run store {self.path}: {exc.strerror}") from None

    def _check_schema(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables and self.path.stat().st_size > 0:
            raise StoreError(f"run store {self.path}: not an empty file nor a labctl run store; left untouched")
        if tables and "meta" not in tables:
            raise StoreError(f"run store {self.path}: this SQLite file is not a labctl run store; left untouched")
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row and int(row[0]) > SCHEMA_VERSION:
                raise StoreError(f"run store {self.path}: schema {row[0]} is newer than this labctl "
                                 f"({SCHEMA_VERSION}); left untouched")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------- writing
    def _insert(self, sql: str, values: tuple) -> int:
        try:
            return self._db.execute(sql, values).lastrowid
        except sqlite3.OperationalError as exc:
            raise StoreError(f"run store {self.path}: {exc}") from None

    def begin_run(self, procedure: str, parameters: dict, provenance: dict,
                  resumed_from: int | None = None) -> int:
        run_id = self._insert("INSERT INTO runs (procedure, started, parameters, provenance, resumed_from) "
                              "VALUES (?, ?, ?, ?, ?)",
                              (procedure, time.time(), json.dumps(parameters, default=_json_default),
                               json.dumps(provenance, default=_json_default), resumed_from))
        self.event(run_id, "running")
        return run_id

    def event(self, run_id: int, status: str, detail: str = "") -> None:
        """Append a status event: running, completed, aborted, failed."""
        self._insert("INSERT INTO events (run_id, time, status, detail) VALUES (?, ?, ?, ?)",
                     (run_id, time.time(), status, detail))

    def record(self, run_id: int, name: str, value: Any) -> None:
        """Append one named result: a NumPy array (lossless) or anything JSON can hold."""
        kind, data = _encode(value)
        self._insert("INSERT INTO records (run_id, time, name, kind, data) VALUES (?, ?, ?, ?, ?)",
                     (run_id, time.time(), name, kind, data))

    def attach(self, run_id: int, name: str, data: bytes, media_type: str = "image/png") -> None:
        self._insert("INSERT INTO files (run_id, name, media_type, data) VALUES (?, ?, ?, ?)",
                     (run_id, name, media_type, data))

    def checkpoint(self, run_id: int, state: dict) -> None:
        kind, data = _encode(state)
        self._insert("INSERT INTO checkpoints (run_id, time, state) VALUES (?, ?, ?)",
                     (run_id, time.time(), data))

    # ----------------------------------------------------------- reading
    def runs(self) -> list[RunInfo]:
        ids = [r[0] for r in self._db.execute("SELECT id FROM runs ORDER BY id")]
        return [self.run(i) for i in ids]

    def run(self, run_id: int) -> RunInfo:
        row = self._db.execute("SELECT id, procedure, started, parameters, provenance, resumed_from "
                               "FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"run store {self.path}: no run {run_id}")
        last = self._db.execute("SELECT status, time, detail FROM events WHERE run_id=? ORDER BY id DESC LIMIT 1",
                                (run_id,)).fetchone()
        status, when, detail = last if last else ("unknown", None, "")
        ended = when if status != "running" else None
        if status == "running":
            detail = "no end event yet: still running, or the process was killed (its data are kept)"
        return RunInfo(row[0], row[1], status, row[2], ended, json.loads(row[3]), json.loads(row[4]),
                       detail, row[5])

    def records(self, run_id: int) -> Iterator[tuple[str, Any]]:
        for name, kind, data in self._db.execute("SELECT name, kind, data FROM records WHERE run_id=? ORDER BY id",
                                                 (run_id,)):
            yield name, _decode(kind, data)

    def record_names(self, run_id: int) -> list[tuple[str, str, int]]:
        """(name, kind, bytes) of every record of a run."""
        return list(self._db.execute("SELECT name, kind, length(data) FROM records WHERE run_id=? ORDER BY id",
                                     (run_id,)))

    def files(self, run_id: int) -> list[tuple[str, str, bytes]]:
        return list(self._db.execute("SELECT name, media_type, data FROM files WHERE run_id=? ORDER BY id",
                                     (run_id,)))

    def last_checkpoint(self, run_id: int) -> dict | None:
        row = self._db.execute("SELECT state FROM checkpoints WHERE run_id=? ORDER BY id DESC LIMIT 1",
                               (run_id,)).fetchone()
        return None if row is None else json.loads(row[0])
