"""A stored run's data as a notebook or a figure wants them: :func:`load_run`.

Records are grouped by name; a name recorded several times (a map recorded
column by column) is a list of rows, stacked into one array by
:meth:`RunData.array`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .extras import require
from .store import RunInfo, Store

#: the first dimension of a record recorded several times: the n-th recording
STACK_AXIS = "recording"


@dataclass
class RunData:
    """One run: its info, parameters, records (by name, every occurrence) and their metadata."""

    info: RunInfo
    records: dict[str, list[Any]]
    meta: dict[str, dict]

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def parameters(self) -> dict:
        return self.info.parameters

    @property
    def summary(self) -> dict:
        """The summary the run returned ({} while it runs or when it did not finish)."""
        return self.last("summary", {})

    def __contains__(self, name: str) -> bool:
        return name in self.records

    def last(self, name: str, default: Any = None) -> Any:
        """The latest value recorded under ``name``."""
        values = self.records.get(name)
        return values[-1] if values else default

    def all(self, name: str) -> list[Any]:
        """Every value recorded under ``name``, oldest first."""
        return list(self.records.get(name, []))

    def array(self, name: str) -> np.ndarray:
        """Every value recorded under ``name`` stacked along a new first axis (one recording: as is)."""
        values = self.records.get(name)
        if not values:
            raise KeyError(f"run {self.id} has no record {name!r}; it has {', '.join(self.records) or 'none'}")
        return np.asarray(values[0]) if len(values) == 1 else np.stack([np.asarray(v) for v in values])

    def unit(self, name: str) -> str:
        return self.meta.get(name, {}).get("unit", "")

    def to_xarray(self) -> Any:
        """The numeric records as an ``xarray.Dataset`` (needs the ``xarray`` extra), dimensions named as
        :func:`dimensions` names them, a record holding a dimension's coordinates as its coordinate, bin
        centres as the coordinate of a dimension whose axis record holds bin edges."""
        require("xarray", "RunData.to_xarray()")
        import xarray as xr

        variables: dict[str, Any] = {}
        coords: dict[str, Any] = {}
        sizes: dict[str, int] = {}
        for name, (dims, scales) in dimensions(self).items():
            value = self.array(name)
            dims = list(dims)
            for i, label in enumerate(dims):         # one name, one length in a Dataset
                if sizes.setdefault(label, value.shape[i]) != value.shape[i]:
                    dims[i] = f"{name}_{label}"
                    sizes[dims[i]] = value.shape[i]
            for dim, (axis, edges) in scales.items():
                if edges:
                    bounds = np.asarray(self.array(axis), float)
                    coords[dims[dim]] = xr.Variable(dims[dim], (bounds[1:] + bounds[:-1]) / 2,
                                                    {"unit": self.unit(axis), "bin_edges": axis})
            meta = self.meta.get(name, {})
            variables[name] = xr.Variable(dims, value, {k: v for k, v in meta.items() if k != "axes"})
        return xr.Dataset(variables, coords, attrs={"run": self.id, "procedure": self.info.procedure,
                                                    "status": self.info.status})


def _numeric(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf" or \
        isinstance(value, (int, float)) and not isinstance(value, bool)


def bin_dimension(edges_record: str) -> str:
    """The dimension of a histogram whose bin edges ``edges_record`` holds: ``x_bin_edges`` -> ``x_bin``."""
    base = edges_record.removesuffix("_edges")
    return base if base.endswith("_bin") else f"{base}_bin"


def dimensions(data: RunData) -> dict[str, tuple[list[str], dict[int, tuple[str, bool]]]]:
    """Per numeric array record: its dimension names, and per dimension the record holding its coordinates
    (``(name, False)``) or its bin edges (``(name, True)``).

    A name recorded several times has a first dimension :data:`STACK_AXIS`; the others are named by the
    record's ``axes``, a 1-D record's own dimension by its name, any other by ``<name>_<i>``.
    """
    numeric = {name: data.array(name) for name, values in data.records.items()
               if name != "summary" and all(_numeric(v) for v in values)}
    found: dict[str, tuple[list[str], dict[int, tuple[str, bool]]]] = {}
    for name, value in numeric.items():
        stacked = len(data.records[name]) > 1
        axes = list(data.meta.get(name, {}).get("axes", []))
        own = value.ndim - int(stacked)
        labels = (axes + [None] * own)[:own]
        if own == 1 and labels[0] is None:
            labels[0] = name
        dims = [STACK_AXIS] * int(stacked)
        scales: dict[int, tuple[str, bool]] = {}
        for i, label in enumerate(labels):
            dim = i + int(stacked)
            size = value.shape[dim]
            coordinate = numeric.get(label) if label not in (None, name) else None
            if coordinate is not None and coordinate.ndim == 1 and len(data.records[label]) == 1:
                if len(coordinate) == size:
                    scales[dim] = (label, False)
                elif len(coordinate) == size + 1:
                    scales[dim] = (label, True)
                    label = bin_dimension(label)
            dims.append(label if label is not None else f"{name}_{i}")
        found[name] = (dims, scales)
    return found


def read_run(store: Store, run_id: int, through_checkpoint: bool = False) -> RunData:
    """A run's data from an open store (only the records stored before its last checkpoint, if asked)."""
    info = store.run(run_id)
    records: dict[str, list[Any]] = {}
    for name, value in store.records(run_id, through_checkpoint):
        records.setdefault(name, []).append(value)
    return RunData(info, records, store.record_meta(run_id))


def load_run(run_id: int, store: str | Path | None = None) -> RunData:
    """Run ``run_id`` of a store (default ``$LABCTL_STORE``), read-only: for notebooks and scripts."""
    with Store(store, read_only=True) as opened:
        return read_run(opened, run_id)
