"""What the monitor shows, read from the run store: pages of runs, one run's details and state.

Plain functions of a store path (each opens the store read-only for the time
of one request), so the web application's handlers stay thin.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from ..rundata import read_run
from ..store import Store, StoreError

PAGE_SIZE = 50
FILTERS = ("procedure", "status", "since", "until", "die")


def when(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S") if t else ""


def date(text: str | None) -> float | None:
    """An ISO date or date-time from a query parameter, as seconds since the epoch; None if absent or not one."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def info_json(info: Any) -> dict:
    """A run as the run list shows it."""
    die = info.provenance.get("identities", {}).get("chip", "").rpartition("die ")[2]
    return {"id": info.id, "procedure": info.procedure, "status": info.status, "detail": info.detail,
            "started": when(info.started), "ended": when(info.ended), "parent": info.parent,
            "resumed_from": info.resumed_from, "die": die, "parameters": info.parameters}


class StoreView:
    """The monitor's read-only view of the store at ``path``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def open(self) -> Store:
        return Store(self.path, read_only=True)

    def run(self, run_id: int) -> tuple[Store, Any]:
        """The open store and the run's info; LookupError (the store closed) if there is no such run."""
        store = self.open()
        try:
            return store, store.run(run_id)
        except StoreError:
            store.close()
            raise LookupError(run_id) from None

    def page(self, query: dict[str, str]) -> dict:
        """One page of runs matching the query's filters (``page``, ``procedure``, ``status``, ``since``,
        ``until``, ``die``); past the end, the last page."""
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        filters = (query.get("procedure") or None, query.get("status") or None, date(query.get("since")),
                   date(query.get("until")), query.get("die") or None)
        with self.open() as store:
            runs, total = store.list_runs(PAGE_SIZE, (page - 1) * PAGE_SIZE, *filters)
            pages = max(1, -(-total // PAGE_SIZE))
            if page > pages:
                page = pages
                runs, total = store.list_runs(PAGE_SIZE, (page - 1) * PAGE_SIZE, *filters)
            procedures = store.procedure_names()
        return {"runs": [info_json(i) for i in runs], "total": total, "page": page, "pages": pages,
                "procedures": procedures, "filters": {k: query.get(k, "") for k in FILTERS}}

    @staticmethod
    def state(store: Store, run_id: int) -> dict:
        """What changes while a run goes on: status, progress, records and child runs so far."""
        info = store.run(run_id)
        progress = store.last_progress(run_id)
        return {"status": info.status, "detail": info.detail,
                "progress": None if progress is None else {"task": progress[0], "done": progress[1],
                                                           "total": progress[2]},
                "records": len(store.record_names(run_id)), "children": len(store.run_ids(parent=run_id))}

    def details(self, run_id: int) -> dict:
        """Everything the run page shows; LookupError if there is no such run."""
        store, info = self.run(run_id)
        with store:
            data = read_run(store, run_id)
            return {"run": info_json(info), "provenance": info.provenance, "summary": data.summary,
                    "events": [{"time": when(t), "status": s, "detail": d} for t, s, d in store.events(run_id)],
                    "records": [{"name": n, "kind": k, "bytes": b, "unit": data.unit(n)}
                                for n, k, b in store.record_names(run_id)],
                    "files": [name for name, _, _ in store.files(run_id)],
                    "children": [info_json(store.run(c)) for c in store.run_ids(parent=run_id)],
                    "state": self.state(store, run_id)}
