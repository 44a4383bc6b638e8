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

from .store import RunInfo, Store


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
        """The array records as an ``xarray.Dataset`` (needs the ``xarray`` extra)."""
        import xarray as xr

        variables = {}
        for name in self.records:
            value = self.array(name) if name != "summary" else None
            if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
                meta = self.meta.get(name, {})
                dims = [f"{name}_{i}" for i in range(value.ndim)]
                variables[name] = xr.Variable(dims, value, {k: v for k, v in meta.items() if k != "axes"})
        return xr.Dataset(variables, attrs={"run": self.id, "procedure": self.info.procedure,
                                            "status": self.info.status})


def read_run(store: Store, run_id: int) -> RunData:
    """A run's data from an open store."""
    info = store.run(run_id)
    records: dict[str, list[Any]] = {}
    for name, value in store.records(run_id):
        records.setdefault(name, []).append(value)
    return RunData(info, records, store.record_meta(run_id))


def load_run(run_id: int, store: str | Path | None = None) -> RunData:
    """Run ``run_id`` of a store (default ``$LABCTL_STORE``), read-only: for notebooks and scripts."""
    with Store(store, read_only=True) as opened:
        return read_run(opened, run_id)
