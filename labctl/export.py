"""Export a stored run to HDF5 (one self-describing file) or CSV (a folder of plain files).

The layout is documented in ``docs/data_format.md``.  Records recorded
several times under one name are exported stacked along a first axis
labelled ``recording``, as :meth:`labctl.rundata.RunData.array` gives them.
A run's child runs (a demo's, a campaign's) are exported with it, nested.
Where an export may go, and how it is written without ever leaving half a
file, is :mod:`labctl.export_target`'s job.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from .export_target import (FORMAT_KEY, MANIFEST_KEY, ExportError, atomic_file, atomic_folder, check_target,
                            is_hdf5_export)
from .rundata import RunData, dimensions, read_run
from .store import Store, to_json

__all__ = ["ExportError", "export_csv", "export_hdf5", "iso"]
FORMAT = "labctl-run/2"


def iso(t: float | None) -> str:
    """ISO 8601 time with the UTC offset, or '' for none."""
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds") if t else ""


def _values(data: RunData) -> list[tuple[str, Any]]:
    """(name, value) per record name: arrays stacked over repetitions, JSON values as the list of them."""
    found: list[tuple[str, Any]] = []
    for name, values in data.records.items():
        if all(isinstance(v, np.ndarray) or isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in values):
            found.append((name, data.array(name)))
        else:
            found.append((name, values[0] if len(values) == 1 else values))
    return found


def _run_attributes(data: RunData, children: list[int]) -> dict[str, Any]:
    info = data.info
    return {"id": info.id, "procedure": info.procedure, "status": info.status, "detail": info.detail,
            "started": iso(info.started), "ended": iso(info.ended), "parent": info.parent or 0,
            "resumed_from": info.resumed_from or 0, "children": np.asarray(children, np.int64),
            FORMAT_KEY: FORMAT}


# -------------------------------------------------------------------- HDF5
def export_hdf5(store: Store, run_id: int, path: Path, force: bool = False) -> Path:
    """One HDF5 file: run attributes, ``/parameters``, ``/provenance``, ``/records``, ``/files``, and
    ``/children/run-N`` with the same layout for every child run."""
    import h5py

    path = Path(path)
    check_target(path, store.path, force, folder=False, is_ours=is_hdf5_export)
    data = read_run(store, run_id)
    with atomic_file(path) as temporary:
        try:
            with h5py.File(temporary, "w") as f:
                _hdf5_run(f, store, data)
        except OSError as exc:
            raise ExportError(f"cannot export to {path}: {exc}") from None
    return path


def _hdf5_run(group: Any, store: Store, data: RunData) -> None:
    children = store.run_ids(parent=data.id)
    group.attrs.update(_run_attributes(data, children))
    for group_name, mapping in (("parameters", data.parameters), ("provenance", data.info.provenance)):
        _attributes(group.create_group(group_name), mapping)
    records = group.create_group("records")
    for name, value in _values(data):
        meta = data.meta.get(name, {})
        if isinstance(value, np.ndarray):
            ds = records.create_dataset(name, data=value)
        else:
            ds = records.create_dataset(name, data=to_json(value))
            ds.attrs["encoding"] = "json"
        ds.attrs["unit"] = meta.get("unit", "")
        ds.attrs["description"] = meta.get("description", "")
        ds.attrs["recordings"] = len(data.records[name])
    for name, (dims, scales) in dimensions(data).items():
        _scales(records, name, dims, scales)
    files = group.create_group("files")
    for name, media, blob in store.files(data.id):
        ds = files.create_dataset(name, data=np.frombuffer(blob, np.uint8))
        ds.attrs["media_type"] = media
    if children:
        nested = group.create_group("children")
        for child in children:
            _hdf5_run(nested.create_group(f"run-{child}"), store, read_run(store, child))


def _attributes(group: Any, mapping: dict, prefix: str = "") -> None:
    """Nested dicts as attributes with dotted names; values HDF5 cannot hold as JSON text."""
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _attributes(group, value, name + ".")
        elif value is None:
            group.attrs[name] = ""
        elif isinstance(value, (bool, int, float, str)):
            group.attrs[name] = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
            group.attrs[name] = np.asarray(value)
        else:
            group.attrs[name] = json.dumps(value, default=str)


def _scales(records: Any, name: str, dims: list[str], scales: dict[int, tuple[str, bool]]) -> None:
    """Label every dimension; attach the record holding a dimension's coordinates as its dimension scale,
    or name the record holding its bin edges (one longer than the dimension) in ``bin_edges``."""
    ds = records[name]
    for dim, label in enumerate(dims):
        ds.dims[dim].label = label
    for dim, (axis, edges) in scales.items():
        if edges:
            ds.attrs["bin_edges"] = f"{records.name}/{axis}"
            continue
        scale = records[axis]
        if not scale.is_scale:
            scale.make_scale(axis)
        ds.dims[dim].attach_scale(scale)


# --------------------------------------------------------------------- CSV
def export_csv(store: Store, run_id: int, folder: Path, force: bool = False) -> Path:
    """``run.json`` (metadata and the list of files written), one CSV per array record with header rows,
    ``values.csv``, the figures, and a ``run-N`` folder of the same layout for every child run."""
    folder = Path(folder)
    check_target(folder, store.path, force, folder=True)
    with atomic_folder(folder) as temporary:
        try:
            _csv_run(temporary, store, read_run(store, run_id))
        except OSError as exc:
            raise ExportError(f"cannot export to {folder}: {exc.strerror or exc}") from None
    return folder


def _csv_run(folder: Path, store: Store, data: RunData) -> list[str]:
    """Write one run (and its children) into ``folder``; the files written, relative to it."""
    written = ["values.csv"]
    dims = dimensions(data)
    with open(folder / "values.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record", "value", "unit", "description"])
        for name, value in _values(data):
            meta = data.meta.get(name, {})
            if isinstance(value, np.ndarray):
                _array_csv(folder / f"{name}.csv", name, value, meta, dims[name][0])
                written.append(f"{name}.csv")
            else:
                writer.writerow([name, to_json(value), meta.get("unit", ""), meta.get("description", "")])
    for name, _, blob in store.files(data.id):
        (folder / name).write_bytes(blob)
        written.append(name)
    children = store.run_ids(parent=data.id)
    for child in children:
        sub = folder / f"run-{child}"
        sub.mkdir()
        written += [f"run-{child}/{f}" for f in _csv_run(sub, store, read_run(store, child))]
    attributes = {k: v.tolist() if isinstance(v, np.ndarray) else v
                  for k, v in _run_attributes(data, children).items()}
    (folder / "run.json").write_text(json.dumps({**attributes, "parameters": data.parameters,
                                                 "provenance": data.info.provenance, MANIFEST_KEY: written},
                                                indent=2, default=str))
    return written + ["run.json"]


def _array_csv(path: Path, name: str, value: np.ndarray, meta: dict, dims: list[str]) -> None:
    """A 0-2-D array as CSV (higher: flattened after the first axis), ``#`` header rows first."""
    header = [f"record {name}", f"unit {meta.get('unit', '')}", f"description {meta.get('description', '')}",
              f"shape {list(value.shape)}, dtype {value.dtype}"]
    if dims:
        header.append("dimensions " + ", ".join(dims))
    table = np.atleast_1d(value)
    if table.ndim > 2:
        table = table.reshape(table.shape[0], -1)
        header.append("flattened after the first axis")
    np.savetxt(path, table, delimiter=",", fmt="%.10g", header="\n".join(header))
