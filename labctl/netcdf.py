"""Export a stored run to NetCDF-4 (``labctl runs export ID --format netcdf``), for xarray users.

The file is the run's :meth:`labctl.rundata.RunData.to_xarray` Dataset written with h5netcdf: every
numeric record a variable with the dimensions, units (``unit``), ``description`` and ``recordings`` of
the HDF5 export (docs/data_format.md), a 1-D record that another record's axis names its coordinate, a
histogram's bin centres the coordinate of its bin dimension.  The JSON-valued records (the summary,
text) are string variables with ``encoding`` = ``json``; the run's attributes, parameters and
provenance are global attributes (nested keys joined with dots, true/false as 1/0); each child run
is a group ``children/run-N`` with the same layout.  ``xarray.open_dataset(path, engine="h5netcdf")``
reads it (``group="children/run-N"`` a child run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .export import _run_attributes
from .export_target import ExportError, atomic_file, check_target, is_hdf5_export
from .rundata import read_run
from .store import Store, to_json


def flat_attributes(mapping: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as NetCDF attributes with dotted names: numbers, text, numeric lists; the rest as JSON."""
    found: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(flat_attributes(value, name + "."))
        elif isinstance(value, bool):
            found[name] = int(value)
        elif value is None:
            found[name] = ""
        elif isinstance(value, (int, float, str)):
            found[name] = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                               for v in value):
            found[name] = np.asarray(value)
        else:
            found[name] = json.dumps(value, default=str)
    return found


def _dataset(store: Store, run_id: int) -> Any:
    import xarray as xr

    data = read_run(store, run_id)
    dataset = data.to_xarray()
    for name, values in data.records.items():
        meta = data.meta.get(name, {})
        if name in dataset:
            dataset[name].attrs.update(unit=meta.get("unit", ""), description=meta.get("description", ""),
                                       recordings=len(values))
            continue
        dataset[name] = xr.Variable((), to_json(values[0] if len(values) == 1 else values),
                                    {"unit": meta.get("unit", ""), "description": meta.get("description", ""),
                                     "recordings": len(values), "encoding": "json"})
    children = store.run_ids(parent=run_id)
    dataset.attrs = {**_run_attributes(data, children), **flat_attributes(data.parameters, "parameters."),
                     **flat_attributes(data.info.provenance, "provenance.")}
    return dataset, children


def _write(path: Path, store: Store, run_id: int, group: str | None) -> None:
    dataset, children = _dataset(store, run_id)
    dataset.to_netcdf(path, mode="w" if group is None else "a", group=group, engine="h5netcdf")
    for child in children:
        _write(path, store, child, f"{group or ''}/children/run-{child}")


def export_netcdf(store: Store, run_id: int, path: Path, force: bool = False) -> Path:
    """One NetCDF-4 file: the run as an xarray Dataset, its child runs as groups ``children/run-N``."""
    path = Path(path)
    check_target(path, store.path, force, folder=False, is_ours=is_hdf5_export)
    store.run(run_id)
    with atomic_file(path) as temporary:
        try:
            _write(temporary, store, run_id, None)
        except (OSError, ValueError, TypeError) as exc:
            raise ExportError(f"cannot export to {path}: {exc}") from None
    return path
