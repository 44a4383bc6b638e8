"""Export a stored run to HDF5 (one self-describing file) or CSV (a folder of plain files).

The layout is documented in ``docs/data_format.md``.  Records recorded
several times under one name (rows) are exported stacked along a first
axis, as :meth:`labctl.rundata.RunData.array` gives them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .rundata import RunData, read_run
from .store import Store, to_json


class ExportError(RuntimeError):
    """An export that cannot be written; the message names the path and what to do."""


def iso(t: float | None) -> str:
    """ISO 8601 time with the UTC offset, or '' for none."""
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds") if t else ""


def _target(path: Path, force: bool, folder: bool) -> None:
    """Refuse a missing parent, an existing target (unless ``force``), an unwritable place."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"cannot export to {path}: the folder {parent} does not exist")
    if path.exists():
        if not force:
            raise ExportError(f"cannot export to {path}: it exists (use --force to overwrite it)")
        if path.is_dir() != folder:
            raise ExportError(f"cannot export to {path}: it is a {'folder' if path.is_dir() else 'file'}")
        if folder:
            shutil.rmtree(path)
    if not os.access(parent, os.W_OK):
        raise ExportError(f"cannot export to {path}: the folder {parent} is not writable")


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


def _run_attributes(data: RunData) -> dict[str, Any]:
    info = data.info
    return {"id": info.id, "procedure": info.procedure, "status": info.status, "detail": info.detail,
            "started": iso(info.started), "ended": iso(info.ended), "parent": info.parent or 0,
            "resumed_from": info.resumed_from or 0, "labctl_format": "labctl-run/1"}


def export_hdf5(store: Store, run_id: int, path: Path, force: bool = False) -> Path:
    """One HDF5 file: run attributes, ``/parameters``, ``/provenance``, ``/records``, ``/files``."""
    import h5py

    _target(path, force, folder=False)
    data = read_run(store, run_id)
    try:
        with h5py.File(path, "w") as f:
            f.attrs.update(_run_attributes(data))
            for group_name, mapping in (("parameters", data.parameters), ("provenance", data.info.provenance)):
                group = f.create_group(group_name)
                _attributes(group, mapping)
            records = f.create_group("records")
            for name, value in _values(data):
                meta = data.meta.get(name, {})
                if isinstance(value, np.ndarray):
                    ds = records.create_dataset(name, data=value)
                else:
                    ds = records.create_dataset(name, data=to_json(value))
                    ds.attrs["encoding"] = "json"
                ds.attrs["unit"] = meta.get("unit", "")
                ds.attrs["description"] = meta.get("description", "")
                ds.attrs["rows"] = len(data.records[name])
            for name in data.records:
                _scales(records, name, data.meta.get(name, {}).get("axes", []), len(data.records[name]) > 1)
            files = f.create_group("files")
            for name, media, blob in store.files(run_id):
                ds = files.create_dataset(name, data=np.frombuffer(blob, np.uint8))
                ds.attrs["media_type"] = media
    except OSError as exc:
        raise ExportError(f"cannot export to {path}: {exc}") from None
    return path


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


def _scales(records: Any, name: str, axes: list[str], stacked: bool) -> None:
    """Attach the records an array's axes name as HDF5 dimension scales (a histogram's bin edges)."""
    ds = records[name]
    if ds.attrs.get("encoding") == "json":
        return
    dims = list(range(1, ds.ndim)) if stacked else list(range(ds.ndim))
    if stacked:
        ds.dims[0].label = "row"
    for dim, axis in zip(dims, axes):
        ds.dims[dim].label = axis
        if axis in records and axis != name and records[axis].ndim == 1:
            scale = records[axis]
            if not scale.is_scale:
                scale.make_scale(axis)
            ds.dims[dim].attach_scale(scale)


def export_csv(store: Store, run_id: int, folder: Path, force: bool = False) -> Path:
    """``run.json`` (metadata), one CSV per array record with header rows, ``values.csv``, the figures."""
    _target(folder, force, folder=True)
    data = read_run(store, run_id)
    try:
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps({**_run_attributes(data), "parameters": data.parameters,
                                                     "provenance": data.info.provenance}, indent=2, default=str))
        with open(folder / "values.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["record", "value", "unit", "description"])
            for name, value in _values(data):
                meta = data.meta.get(name, {})
                if isinstance(value, np.ndarray):
                    _array_csv(folder / f"{name}.csv", name, value, meta)
                else:
                    writer.writerow([name, to_json(value), meta.get("unit", ""), meta.get("description", "")])
        for name, _, blob in store.files(run_id):
            (folder / name).write_bytes(blob)
    except OSError as exc:
        raise ExportError(f"cannot export to {folder}: {exc.strerror or exc}") from None
    return folder


def _array_csv(path: Path, name: str, value: np.ndarray, meta: dict) -> None:
    """A 0-2-D array as CSV (higher: flattened after the first axis), ``#`` header rows first."""
    header = [f"record {name}", f"unit {meta.get('unit', '')}", f"description {meta.get('description', '')}",
              f"shape {list(value.shape)}, dtype {value.dtype}"]
    if meta.get("axes"):
        header.append("axes " + ", ".join(meta["axes"]))
    table = np.atleast_1d(value)
    if table.ndim > 2:
        table = table.reshape(table.shape[0], -1)
        header.append("flattened after the first axis")
    np.savetxt(path, table, delimiter=",", fmt="%.10g", header="\n".join(header))
