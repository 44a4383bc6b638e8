"""A run's documents as a JSONL file (``labctl runs export ID --format bluesky``), and back.

One ``[name, doc]`` per line, the run's documents then each child run's (as the HDF5 export nests
them), the form Bluesky's tools read and write (``json.loads`` of a line gives the pair).  Arrays too
large for an event stay in the run's HDF5 export, written beside the JSONL file with the same name
(``run-5.jsonl``, ``run-5.h5``) when the run has any; a resource document names the folder as its
``root`` and the file as its ``resource_path``, and :func:`root_map` finds the file beside the JSONL
file wherever the two have moved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..export import export_hdf5
from ..export_target import ExportError, atomic_file, check_target
from ..store import Store
from .documents import INLINE_MAX_BYTES, to_json_line, tree_documents


def is_jsonl_export(path: Path) -> bool:
    """True for a JSONL file whose first line is the start document of a labctl run."""
    try:
        with open(path) as fh:
            name, doc = json.loads(fh.readline())
    except (OSError, ValueError, TypeError, UnicodeDecodeError):
        return False
    return name == "start" and isinstance(doc, dict) and isinstance(doc.get("labctl"), dict)


def _has_large_arrays(store: Store, run_id: int) -> bool:
    """True when the run or a child run has an array larger than an event takes."""
    if any(isinstance(value, np.ndarray) and value.nbytes > INLINE_MAX_BYTES for _, value in store.records(run_id)):
        return True
    return any(_has_large_arrays(store, child) for child in store.run_ids(parent=run_id))


def export_bluesky(store: Store, run_id: int, path: Path, force: bool = False) -> tuple[Path, Path | None]:
    """Write run ``run_id`` and its child runs as event-model documents, one ``[name, doc]`` per line;
    (the JSONL file, the HDF5 export holding its large arrays or None)."""
    path = Path(path)
    check_target(path, store.path, force, folder=False, is_ours=is_jsonl_export)
    store.run(run_id)
    hdf5 = path.with_suffix(".h5") if _has_large_arrays(store, run_id) else None
    if hdf5 is not None:
        export_hdf5(store, run_id, hdf5, force=force)
    with atomic_file(path) as temporary:
        try:
            with open(temporary, "w") as fh:
                for name, doc in tree_documents(store, run_id, hdf5):
                    fh.write(to_json_line(name, doc) + "\n")
        except OSError as exc:
            raise ExportError(f"cannot export to {path}: {exc.strerror or exc}") from None
    return path, hdf5


def read_documents(path: Path) -> Iterator[tuple[str, dict]]:
    """The (name, doc) pairs of a JSONL document file, in order."""
    with open(path) as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    name, doc = json.loads(line)
                except (ValueError, TypeError):
                    raise ValueError(f"{path}:{number}: not a [name, document] line") from None
                yield name, doc


def root_map(path: Path) -> dict[str, str]:
    """Resources of a JSONL file read from the folder it is in now (wherever it was written)."""
    roots = {doc["root"] for name, doc in read_documents(path) if name == "resource"}
    return {root: str(Path(path).parent.resolve()) for root in roots}
