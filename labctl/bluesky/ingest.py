"""Documents in, labctl runs out: a Bluesky callback that stores every run it is given.

``RE.subscribe(StoreWriter(store))`` stores a RunEngine's runs as they happen, so that ``labctl runs``
and the monitor show them; ``StoreWriter(store)`` fed a JSONL export (:func:`labctl.bluesky.jsonl.
read_documents`) puts the runs back in a store.  A run that labctl wrote
(:mod:`labctl.bluesky.documents`) comes back as it was: procedure, parameters, provenance, start time,
records with their units, descriptions, axes and times, status events, and the link to its parent.

Any other run becomes a run of procedure ``bluesky:<plan_name>``: its parameters are the plan's
arguments, its provenance the start document (``bluesky.start``, with its uid in ``bluesky.uid``, and
its ``bench`` and ``identities`` as labctl's runs have them), and each field of each event a record of
that name (unit, description, and ``dims`` or, for a scalar of a stream the plan scans, the scanned
field, hinted or the motor's, as its axis).  A stream of several fields names itself in its
records' ``stream``.  Arrays held outside the events are read through their handlers (``handlers``,
beside labctl's own :class:`~labctl.bluesky.documents.RecordHandler`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from event_model import Filler, unpack_event_page

from ..store import END_STATUSES, Store, StoreError
from .documents import ARRAY, JSON, SPEC, RecordHandler, derived_uid, run_uid

#: a stop document's exit status as a run's end status
END_OF = {"success": "completed", "abort": "aborted", "fail": "failed"}


@dataclass
class _Run:
    id: int
    labctl: bool                                   #: documents labctl wrote
    dimensions: set[str] = field(default_factory=set)     #: fields the plan scans (start hints)
    streams: dict[str, tuple[str, dict]] = field(default_factory=dict)   #: descriptor uid -> (name, keys)


def stored_value(key: dict, value: Any) -> Any:
    """An event's value as labctl stores it (a NumPy array for array data, else a JSON value)."""
    if key.get("labctl_encoding") == "json":
        return json.loads(value)
    if key.get("labctl_kind") == JSON:
        return value
    if key.get("labctl_kind") == ARRAY or key.get("dtype") == "array" or isinstance(value, np.ndarray):
        dtype = key.get("dtype_numpy")
        return np.asarray(value, dtype=dtype if isinstance(dtype, str) and dtype else None)
    return value.item() if isinstance(value, np.generic) else value


class StoreWriter:
    """Stores the runs of the documents it is called with (``writer(name, doc)``), each as it comes.

    ``store``: an open store, or its path.  Called from another thread than the one that opened the
    store (a RunEngine calls back from its own), it writes through a connection of its own.
    """

    def __init__(self, store: Store | str | Path, handlers: dict[str, Any] | None = None,
                 root_map: dict[str, str] | None = None) -> None:
        self._given = store if isinstance(store, Store) else None
        self.path = store.path if isinstance(store, Store) else Path(store)
        self._thread = threading.get_ident()
        self._own: dict[int, Store] = {}
        self.run_ids: dict[str, int] = {}            #: start uid -> run id, of the runs stored here
        self._runs: dict[str, _Run] = {}
        self._descriptors: dict[str, str] = {}       # descriptor uid -> start uid
        self._known: dict[str, int] | None = None    # start uid -> run id of the runs the store had
        self._filler = Filler({SPEC: RecordHandler, **(handlers or {})}, root_map=root_map or {}, inplace=False,
                              retry_intervals=None)

    @property
    def store(self) -> Store:
        """The store, through a connection this thread may use."""
        thread = threading.get_ident()
        if self._given is not None and thread == self._thread:
            return self._given
        if thread not in self._own:
            self._own[thread] = Store(self.path)
        return self._own[thread]

    def close(self) -> None:
        """Close the connection this writer opened in this thread (one it opened in another thread is
        closed there, when that thread's last run ends)."""
        store = self._own.pop(threading.get_ident(), None)
        if store is not None:
            store.close()
        self._own.clear()

    def __call__(self, name: str, doc: dict) -> None:
        if name in ("event", "event_page", "resource", "datum", "datum_page", "descriptor", "start"):
            name, doc = self._filler(name, doc)
        handler = getattr(self, f"_{name}", None)
        if handler is not None:
            handler(doc)

    def _run_of(self, uid: str | None) -> int | None:
        """The id of the run whose start uid this is (stored here, or already in the store), or None."""
        if not uid:
            return None
        if uid in self.run_ids:
            return self.run_ids[uid]
        if self._known is None:
            self._known = {run_uid(info): info.id for info in self.store.runs()}
        return self._known.get(uid)

    def _start(self, doc: dict) -> None:
        labctl = doc.get("labctl")
        uid = doc["uid"]
        if isinstance(labctl, dict):
            procedure, parameters = labctl["procedure"], labctl["parameters"]
            provenance = dict(labctl["provenance"])
            if derived_uid(procedure, doc["time"], provenance) != uid:
                provenance["bluesky"] = {**provenance.get("bluesky", {}), "uid": uid}
            resumed = self._run_of(labctl.get("resumed_from_uid"))
        else:
            procedure = f"bluesky:{doc.get('plan_name', 'run')}"
            parameters = doc.get("plan_args", {}) if isinstance(doc.get("plan_args"), dict) else {}
            provenance = {"bluesky": {"uid": uid, "start": {k: v for k, v in doc.items() if k not in ("uid", "time")}},
                          **{k: doc[k] for k in ("bench", "identities") if isinstance(doc.get(k), dict)}}
            resumed = None
        run_id = self.store.begin_run(procedure, parameters, provenance, resumed, self._run_of(doc.get("parent_uid")),
                                      when=doc["time"])
        dimensions = {f for fields, _ in doc.get("hints", {}).get("dimensions", []) for f in fields} \
            or set(doc.get("motors", []))
        self.run_ids[uid] = run_id
        self._runs[uid] = _Run(run_id, isinstance(labctl, dict), dimensions)

    def _descriptor(self, doc: dict) -> None:
        run = self._runs.get(doc["run_start"])
        if run is None:
            return
        self._descriptors[doc["uid"]] = doc["run_start"]
        run.streams[doc["uid"]] = (doc.get("name", "primary"), doc["data_keys"])

    def _meta(self, run: _Run, stream: str, fields: dict, name: str) -> dict:
        key = fields[name]
        axes = list(key.get("labctl_axes") or key.get("dims") or [])
        if not axes and not run.labctl and not key.get("shape") and name not in run.dimensions:
            axes = [d for d in run.dimensions if d in fields][:1]
        meta = {"unit": key.get("units") or "", "description": key.get("description") or "", "axes": axes}
        if len(fields) > 1 or stream != name:
            meta["stream"] = stream
        return {k: v for k, v in meta.items() if v}

    def _event(self, doc: dict) -> None:
        start = self._descriptors.get(doc["descriptor"])
        if start is None:
            return
        run = self._runs[start]
        stream, fields = run.streams[doc["descriptor"]]
        for name, key in fields.items():
            if name in doc["data"]:
                self.store.record(run.id, name, stored_value(key, doc["data"][name]),
                                  self._meta(run, stream, fields, name),
                                  when=doc.get("timestamps", {}).get(name, doc["time"]))

    def _event_page(self, doc: dict) -> None:
        for event in unpack_event_page(doc):  # type: ignore[arg-type]
            self._event(event)

    def _stop(self, doc: dict) -> None:
        run = self._runs.pop(doc["run_start"], None)
        if run is None:
            return
        ended = False
        labctl = doc.get("labctl")
        for when, status, detail in labctl.get("events", []) if isinstance(labctl, dict) else []:
            self.store.event(run.id, status, detail, when=when)
            ended = ended or status in END_STATUSES
        if not ended:
            self.store.event(run.id, END_OF.get(doc.get("exit_status", "fail"), "failed"), doc.get("reason", ""),
                             when=doc["time"])
        self._descriptors = {d: s for d, s in self._descriptors.items() if s != doc["run_start"]}
        if not self._runs:
            self.close()

    def _stream_resource(self, doc: dict) -> None:
        run = self._runs.get(doc.get("run_start", ""))
        if run is not None:
            self.store.event(run.id, "warning", f"stream resource {doc.get('data_key')} ({doc.get('mimetype')}) "
                             "not stored: labctl stores the data of events")


def store_documents(store: Store, documents: Any, root_map: dict[str, str] | None = None) -> list[int]:
    """Store every run of a sequence of (name, doc) pairs, all or none (one transaction); the ids of the
    runs stored, in order."""
    writer = StoreWriter(store, root_map=root_map)
    try:
        with store.transaction():
            for name, doc in documents:
                writer(name, doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"run store {store.path}: not a valid document stream: {type(exc).__name__}: {exc}") \
            from None
    return list(writer.run_ids.values())
