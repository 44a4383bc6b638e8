"""A labctl run as an event-model document stream (Bluesky's data model).

One run is one stream of documents:

* ``start``: ``uid``, ``time`` (the run's start), ``scan_id`` (the run id), ``plan_name`` (the
  procedure) and, under ``labctl``, the procedure, parameters, provenance and the ids of the run it
  resumes and of its parent; a child run (a demo's step, a campaign's task) names its parent's start
  in ``parent_uid``, a resumed run the run it resumes in ``labctl.resumed_from_uid``;
* a ``descriptor`` per record name (the stream is named as the record); its one data key carries
  ``dtype``, ``shape``, ``dtype_numpy``, ``units``, ``dims`` (the record's axes), ``description``
  and ``source``, and ``labctl_kind`` (``array`` or ``json``: how labctl stored it; axes that are not
  one per dimension in ``labctl_axes``, a value JSON has no type for as text: ``labctl_encoding``);
* an ``event`` per recording, at the time it was stored;
* an array larger than :data:`INLINE_MAX_BYTES`, when the run's HDF5 export holds it, goes outside
  the events: a ``resource`` (spec :data:`SPEC`: the file and the dataset) and a ``datum`` per
  recording, the event holding the datum id with ``filled`` false (:class:`RecordHandler` reads it);
* ``stop``: ``exit_status`` (success, abort, fail), ``reason`` and, under ``labctl``, the run's
  status and every status event after the start (warnings included).

Every uid is derived from what identifies the run (uuid5), so a run always gives the same documents.
Records that came from a Bluesky stream of several fields (a RunEngine scan stored by
:class:`labctl.bluesky.ingest.StoreWriter`) name it in their metadata (``stream``) and go back into
one stream of that name.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
from event_model import compose_run

from ..store import RunInfo, Store, to_json

#: the namespace of every uid labctl derives
NAMESPACE = uuid.UUID("28acbf9b-c646-4d37-85ff-3ba71efd8efb")
#: the resource spec of an array in a run's HDF5 export (datum kwargs: ``recording``)
SPEC = "LABCTL_HDF5"
#: larger arrays go to the run's HDF5 export, when there is one, instead of into the events, bytes
INLINE_MAX_BYTES = 65536
#: a run's status as a stop document's exit status
EXIT_STATUS = {"completed": "success", "aborted": "abort", "failed": "fail", "interrupted": "fail"}
#: what labctl writes in a data key's ``labctl_kind``
ARRAY, JSON = "array", "json"

Document = tuple[str, dict]


def source(procedure: str, name: str) -> str:
    """A record's data-key source: the procedure and the record."""
    return f"labctl:{procedure}/{name}"


def derived_uid(procedure: str, started: float, provenance: dict) -> str:
    """The start uid of a labctl run: from its procedure, start time and host."""
    return str(uuid.uuid5(NAMESPACE, f"{procedure}\n{started!r}\n{provenance.get('host', '')}"))


def run_uid(info: RunInfo) -> str:
    """A run's start uid: the one it came with (a run stored from documents), else the derived one."""
    bluesky = info.provenance.get("bluesky")
    given = bluesky.get("uid") if isinstance(bluesky, dict) else None
    return given or derived_uid(info.procedure, info.started, info.provenance)


def _scalar_dtype(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _merged_shape(shapes: list[tuple[int, ...]]) -> list[int | None]:
    """The shape of every recording, None where recordings differ."""
    first = shapes[0]
    return [size if all(len(s) == len(first) and s[i] == size for s in shapes) else None
            for i, size in enumerate(first)]


def data_key(name: str, values: list[Any], meta: dict, source: str) -> dict:
    """The data key of a record from its recordings (all of them for an export; the first, live)."""
    key: dict[str, Any] = {"source": source, "units": meta.get("unit", ""),
                           "description": meta.get("description", "")}
    first = values[0]
    axes = list(meta.get("axes", []))
    if isinstance(first, np.ndarray):
        kinds = {"b": "boolean", "i": "integer", "u": "integer", "f": "number"}
        key.update(dtype="array" if first.ndim else kinds.get(first.dtype.kind, "string"),
                   shape=_merged_shape([np.shape(v) for v in values]), dtype_numpy=first.dtype.str,
                   labctl_kind=ARRAY)
        if axes:
            key["dims" if len(axes) == first.ndim else "labctl_axes"] = axes
        return key
    key["labctl_kind"] = JSON
    if axes:
        key["labctl_axes"] = axes
    dtypes = {_scalar_dtype(v) for v in values}
    if dtypes == {"integer", "number"}:
        dtypes = {"number"}
    if len(dtypes) == 1 and None not in dtypes:
        key.update(dtype=dtypes.pop(), shape=[])
    elif all(isinstance(v, list) and all(_scalar_dtype(x) in ("integer", "number") for x in v) for v in values):
        key.update(dtype="array", shape=_merged_shape([(len(v),) for v in values]))
    else:
        key.update(dtype="string", shape=[], labctl_encoding="json")
    return key


def event_value(key: dict, value: Any) -> Any:
    """A recording as its event holds it (JSON text where the data key says so)."""
    if key.get("labctl_encoding") == "json":
        return to_json(value)
    return value


def to_json_line(name: str, doc: dict) -> str:
    """One document as a line of a JSONL stream: ``[name, doc]``, arrays as lists."""
    return to_json([name, doc])


class RunDocuments:
    """The documents of one run, composed as its parts arrive (live) or read back (an export)."""

    def __init__(self, info: RunInfo, parent_uid: str | None = None, resumed_uid: str | None = None) -> None:
        self.info = info
        self.uid = run_uid(info)
        labctl = {"run": info.id, "procedure": info.procedure, "parameters": info.parameters,
                  "provenance": info.provenance, "parent": info.parent, "resumed_from": info.resumed_from,
                  "format": "labctl-run/2"}
        if resumed_uid:
            labctl["resumed_from_uid"] = resumed_uid
        metadata: dict[str, Any] = {"scan_id": info.id, "plan_name": info.procedure, "plan_type": "labctl",
                                    "labctl": labctl}
        if parent_uid:
            metadata["parent_uid"] = parent_uid
        self._bundle = compose_run(uid=self.uid, time=info.started, metadata=metadata, validate=False)
        self._streams: dict[str, Any] = {}        # stream name -> (present descriptor bundle, data keys)
        self._descriptors: dict[str, int] = {}    # stream name -> descriptors made
        self.metas: dict[str, dict] = {}          #: record name -> the metadata its present descriptor has
        self._datums: dict[str, Any] = {}         # record name -> datum composer

    def start(self) -> Document:
        return "start", cast(dict, self._bundle.start_doc)

    def _uid(self, *parts: Any) -> str:
        return str(uuid.uuid5(uuid.UUID(self.uid), "/".join(map(str, parts))))

    def descriptor(self, stream: str, keys: dict[str, dict], when: float) -> Document:
        """Open a stream with these data keys (by field name), or describe it anew: the events after a
        second descriptor of a stream (a record whose unit or description changed) follow that one."""
        hints = {field: {"fields": [field]} for field, key in keys.items()
                 if key["dtype"] in ("number", "integer") and not key["shape"]}
        number = self._descriptors.get(stream, 0)
        self._descriptors[stream] = number + 1
        bundle = self._bundle.compose_descriptor(name=stream, data_keys=keys, hints=hints,
                                                 object_keys={field: [field] for field in keys}, time=when,
                                                 uid=self._uid("descriptor", stream, *([number] if number else [])),
                                                 validate=False)
        self._streams[stream] = (bundle, keys)
        return "descriptor", cast(dict, bundle.descriptor_doc)

    def described(self, field: str, meta: dict) -> bool:
        """True when the present descriptor of the field's stream was made with this metadata of it."""
        if self.metas.get(field) == meta:
            return True
        self.metas[field] = meta
        return False

    def resource(self, field: str, root: Path, resource_path: str, dataset: str, recordings: int) -> Document:
        """Point a field's recordings at a dataset of an HDF5 export (``root``/``resource_path``)."""
        bundle = self._bundle.compose_resource(spec=SPEC, root=str(root), resource_path=resource_path,
                                               resource_kwargs={"dataset": dataset, "recordings": recordings},
                                               uid=self._uid("resource", field), validate=False)
        self._datums[field] = bundle.compose_datum
        return "resource", cast(dict, bundle.resource_doc)

    def event(self, stream: str, data: dict[str, Any], when: float,
              timestamps: dict[str, float] | None = None) -> list[Document]:
        """One event of a stream at ``when`` (each field recorded at its timestamp, else then), with a datum
        first for every field held outside the events."""
        bundle, keys = self._streams[stream]
        docs: list[Document] = []
        values, filled = {}, {}
        for field, value in data.items():
            if field in self._datums:
                datum = self._datums[field](datum_kwargs={"recording": value}, validate=False)
                docs.append(("datum", datum))
                values[field], filled[field] = datum["datum_id"], False
            else:
                values[field] = event_value(keys[field], value)
        seq = self._bundle.compose_descriptor.event_counters[stream]
        stamps = {field: (timestamps or {}).get(field, when) for field in data}
        docs.append(("event", bundle.compose_event(data=values, timestamps=stamps, seq_num=seq,
                                                   filled=filled, uid=self._uid("event", stream, seq), time=when,
                                                   validate=False)))
        return docs

    def stop(self, info: RunInfo, events: list[tuple[float, str, str]]) -> Document:
        """Close the run: its end status and every status event after the first (the start's)."""
        last = max([info.started, *(t for t, _, _ in events)])
        doc = dict(self._bundle.compose_stop(exit_status=EXIT_STATUS.get(info.status, "fail"),  # type: ignore
                                             reason=info.detail, uid=self._uid("stop"),
                                             time=info.ended or last, validate=False))
        doc["labctl"] = {"status": info.status, "events": [list(e) for e in events[1:]]}
        return "stop", doc


def _streams(rows: list[tuple[float, str, Any, dict]]) -> dict[str, str]:
    """The stream of every record name: its own, or the stream its metadata names when the recordings of
    that stream's fields come in complete groups (one of each, in any order)."""
    fields: dict[str, list[str]] = {}
    for _, name, _, meta in rows:
        stream = meta.get("stream")
        if stream and name not in fields.setdefault(stream, []):
            fields[stream].append(name)
    found: dict[str, str] = {}
    for stream, names in fields.items():
        pending: set[str] = set()
        complete = True
        for _, name, _, _ in rows:
            if name in names:
                if name in pending:
                    complete = False
                    break
                pending.add(name)
                if len(pending) == len(names):
                    pending = set()
        if complete and not pending and stream not in {n for _, n, _, _ in rows if n not in names}:
            found.update({name: stream for name in names})
    return {name: found.get(name, name) for _, name, _, _ in rows}


def stored_documents(store: Store, run_id: int, hdf5: Path | None = None, dataset: str = "records") -> \
        Iterator[Document]:
    """Every document of a stored run, in order (a run still going on: no stop document).

    ``hdf5``: the run's HDF5 export, holding its records under ``dataset``; arrays larger than
    :data:`INLINE_MAX_BYTES` are then left there and referred to by resource and datum documents.
    """
    info = store.run(run_id)
    parent_uid = run_uid(store.run(info.parent)) if info.parent else None
    resumed_uid = run_uid(store.run(info.resumed_from)) if info.resumed_from else None
    run = RunDocuments(info, parent_uid, resumed_uid)
    yield run.start()
    rows = list(store.record_rows(run_id))
    recordings: dict[str, list[Any]] = {}
    metas: dict[str, dict] = {}
    for _, name, value, meta in rows:
        recordings.setdefault(name, []).append(value)
        metas.setdefault(name, meta)
    external = {name for name, values in recordings.items() if hdf5 is not None
                and all(isinstance(v, np.ndarray) for v in values) and max(v.nbytes for v in values) > INLINE_MAX_BYTES}
    stream_of = _streams(rows)
    sizes = Counter(stream_of[name] for name in recordings)            # fields per stream

    def key(name: str) -> dict:
        found = data_key(name, recordings[name], run.metas[name], source(info.procedure, name))
        return {**found, "external": "FILESTORE:"} if name in external else found

    pending: dict[str, dict[str, Any]] = {}
    times: dict[str, dict[str, float]] = {}
    seen: dict[str, int] = {}
    for when, name, value, meta in rows:
        stream = stream_of[name]
        if not run.described(name, meta):
            fields = [n for n in recordings if stream_of[n] == stream]
            for field in fields:
                run.metas.setdefault(field, metas[field])
            yield run.descriptor(stream, {field: key(field) for field in fields}, when)
        if name in external and seen.get(name) is None:
            assert hdf5 is not None
            yield run.resource(name, hdf5.parent.resolve(), hdf5.name, f"{dataset}/{name}", len(recordings[name]))
        index = seen[name] = seen.get(name, -1) + 1
        group = pending.setdefault(stream, {})
        group[name] = index if name in external else value
        times.setdefault(stream, {})[name] = when
        if len(group) == sizes[stream]:
            yield from run.event(stream, pending.pop(stream), when, times.pop(stream))
    if info.status != "running":
        yield run.stop(info, store.events(run_id))


def tree_documents(store: Store, run_id: int, hdf5: Path | None = None, dataset: str = "") -> Iterator[Document]:
    """The documents of a run, then of each of its child runs (theirs after each), as the run's HDF5
    export nests them (``/children/run-N``)."""
    yield from stored_documents(store, run_id, hdf5, f"{dataset}records")
    for child in store.run_ids(parent=run_id):
        yield from tree_documents(store, child, hdf5, f"{dataset}children/run-{child}/")


class RecordHandler:
    """Reads one recording of an array from a run's HDF5 export: the handler of :data:`SPEC` for
    ``event_model.Filler`` (and databroker, through the ``databroker.handlers`` entry point)."""

    specs = {SPEC}

    def __init__(self, resource_path: str, dataset: str, recordings: int) -> None:
        self.path, self.dataset, self.recordings = resource_path, dataset, recordings

    def __call__(self, recording: int) -> np.ndarray:
        import h5py

        with h5py.File(self.path, "r") as f:
            ds = f[self.dataset]
            return ds[()] if self.recordings == 1 else ds[recording]
