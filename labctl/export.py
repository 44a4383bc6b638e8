"""Export a stored run to HDF5 (one file any HDF5 tool reads) or CSV (a folder of plain files)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .store import Store


def _unique(names: list[str]) -> list[str]:
    """Record names made unique by a numeric suffix where a name repeats."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def export_hdf5(store: Store, run_id: int, path: Path) -> Path:
    """``/`` attributes: run metadata (JSON text); ``/records/<name>``: arrays and JSON; ``/files``: plots."""
    import h5py

    info = store.run(run_id)
    records = list(store.records(run_id))
    with h5py.File(path, "w") as f:
        for key in ("id", "procedure", "status", "started", "detail"):
            f.attrs[key] = getattr(info, key)
        f.attrs["ended"] = info.ended if info.ended is not None else np.nan
        f.attrs["parameters"] = json.dumps(info.parameters)
        f.attrs["provenance"] = json.dumps(info.provenance)
        group = f.create_group("records")
        for name, (_, value) in zip(_unique([n for n, _ in records]), records):
            if isinstance(value, np.ndarray):
                group.create_dataset(name, data=value)
            else:
                group.create_dataset(name, data=json.dumps(value))
                group[name].attrs["encoding"] = "json"
        files = f.create_group("files")
        for name, media, data in store.files(run_id):
            ds = files.create_dataset(name, data=np.frombuffer(data, np.uint8))
            ds.attrs["media_type"] = media
    return path


def export_csv(store: Store, run_id: int, folder: Path) -> Path:
    """``run.json`` (metadata), one CSV per array record (up to 2-D), ``values.csv`` for the rest, plots."""
    info = store.run(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({
        "id": info.id, "procedure": info.procedure, "status": info.status, "started": info.started,
        "ended": info.ended, "detail": info.detail, "parameters": info.parameters,
        "provenance": info.provenance}, indent=2))
    records = list(store.records(run_id))
    with open(folder / "values.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record", "value"])
        for name, (_, value) in zip(_unique([n for n, _ in records]), records):
            if isinstance(value, np.ndarray) and value.ndim <= 2:
                np.savetxt(folder / f"{name}.csv", np.atleast_1d(value), delimiter=",", fmt="%.10g")
            elif isinstance(value, np.ndarray):
                np.savetxt(folder / f"{name}.csv", value.reshape(value.shape[0], -1), delimiter=",",
                           fmt="%.10g", header=f"shape {value.shape}, flattened after the first axis")
            else:
                writer.writerow([name, json.dumps(value)])
    for name, _, data in store.files(run_id):
        (folder / name).write_bytes(data)
    return folder
