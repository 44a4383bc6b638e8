"""What every labctl run's documents must satisfy: event-model's schemas, and a round trip through a
fresh store that gives back the same runs and, from them, the same documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from event_model import DocumentNames, schema_validators

from labctl.bluesky.documents import tree_documents
from labctl.bluesky.ingest import store_documents
from labctl.store import Store


def validate(documents: list[tuple[str, dict]]) -> None:
    """Every document against its event-model schema, and every reference to one sent before it."""
    seen: set[str] = set()
    for name, doc in documents:
        schema_validators[DocumentNames[name]].validate(doc)
        for ref in ("run_start", "descriptor", "resource"):
            if ref in doc:
                assert doc[ref] in seen, f"{name} refers to {ref} {doc[ref]} before it was sent"
        seen.add(doc.get("uid") or doc.get("datum_id"))


def same(a: object, b: object) -> bool:
    """Equal values, arrays equal with their dtype and shape (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype \
            and a.shape == b.shape and a.tobytes() == b.tobytes()
    return type(a) is type(b) and a == b


def run_tree(store: Store, run_id: int) -> list[int]:
    return [run_id, *(r for child in store.run_ids(parent=run_id) for r in run_tree(store, child))]


def comparable(store: Store, run_id: int) -> tuple:
    """A run as a fresh store must give it back: everything but the ids the store assigns."""
    info = store.run(run_id)
    rows = [(t, name, value, meta) for t, name, value, meta in store.record_rows(run_id)]
    return (info.procedure, info.status, info.started, info.ended, info.detail, info.parameters, info.provenance,
            store.events(run_id), rows)


def assert_same_runs(first: tuple, second: tuple) -> None:
    *head_a, rows_a = first
    *head_b, rows_b = second
    assert head_a == head_b
    assert len(rows_a) == len(rows_b)
    for (ta, na, va, ma), (tb, nb, vb, mb) in zip(rows_a, rows_b):
        assert (ta, na, ma) == (tb, nb, mb)
        assert same(va, vb), f"record {na}: {va!r} came back as {vb!r}"


def ids_dropped(name: str, doc: dict) -> tuple[str, dict]:
    """A document without the run ids a store assigns (uids stay: they identify the run)."""
    if name == "start":
        doc = {**doc, "scan_id": None,
               "labctl": {k: v for k, v in doc["labctl"].items() if k not in ("run", "parent", "resumed_from")}}
    return name, doc


def same_document(a: object, b: object) -> bool:
    """Documents equal throughout, arrays with their dtype (NaN equal to NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_document(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_document(x, y) for x, y in zip(a, b))
    return same(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else a == b and type(a) is type(b)


def check_documents(store: Store, run_id: int, folder: Path, hdf5: Path | None = None) -> list[tuple[str, dict]]:
    """Validate the documents of a run and its children, store them in a fresh store, and check that the
    runs come back the same and give the same documents; the documents."""
    documents = list(tree_documents(store, run_id, hdf5))
    validate(documents)
    with Store(folder / f"round-trip-{run_id}.sqlite") as fresh:
        (top, *_) = store_documents(fresh, documents)
        originals, copies = run_tree(store, run_id), run_tree(fresh, top)
        assert len(originals) == len(copies)
        for a, b in zip(originals, copies):
            assert_same_runs(comparable(store, a), comparable(fresh, b))
        again = list(tree_documents(fresh, top, hdf5))
    assert len(again) == len(documents)
    for a, b in zip(again, documents):
        assert same_document(ids_dropped(*a), ids_dropped(*b)), f"{a[0]} came back different"
    return documents
