"""The run store served read-only through Tiled (``labctl serve-tiled``): browse and slice runs from a
notebook with ``tiled.client``.

The tree is the store: one container per run, keyed by its id (``client["5"]``), in the order run;
a run's metadata holds its id, procedure, status, times, parent and children, its Bluesky start uid
(``uid``, as its documents carry it), parameters, provenance, summary and every JSON-valued record
(``values``).  Each numeric record is an array (``client["5"]["calibration"][0, :, 3]``), stacked over
its recordings, its dimensions named as in the HDF5 export, its metadata ``unit``, ``description``
and ``recordings``.  The store is opened read-only for every request, so runs being written show up
as they are stored; nothing can be written through the server.  On the loopback address anyone on
this machine may read; bound to any other, Tiled's own authentication applies: every request needs
the API key printed at start.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from tiled.adapters.array import ArrayAdapter
from tiled.adapters.container import ContainerAdapter
from tiled.iterviews import ItemsView, KeysView, ValuesView
from tiled.structures.container import ContainerStructure

from ..export import iso
from ..rundata import RunData, dimensions, read_run
from ..store import Store, StoreError
from .documents import run_uid

#: runs kept read (RunData) between requests: a client reading one run makes several requests
CACHED_RUNS = 4
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _Lazy(ContainerAdapter):
    """A container whose keys and entries are computed when asked for."""

    def __init__(self, metadata: dict) -> None:
        super().__init__(structure=ContainerStructure(keys=[]), metadata=metadata)

    def _keys(self) -> list[str]:
        raise NotImplementedError

    def _entry(self, key: str) -> Any:
        raise NotImplementedError

    def structure(self) -> ContainerStructure:
        return ContainerStructure(keys=self._keys())

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys():
            raise KeyError(key)
        return self._entry(key)

    def __iter__(self) -> Any:
        yield from self._keys()

    def __len__(self) -> int:
        return len(self._keys())

    def keys(self) -> KeysView:
        return KeysView(lambda: len(self), self._keys_slice)

    def values(self) -> ValuesView:
        return ValuesView(lambda: len(self), self._items_slice)

    def items(self) -> ItemsView:
        return ItemsView(lambda: len(self), self._items_slice)

    def _keys_slice(self, start: int, stop: int, direction: int, page_size: int | None = None) -> list[str]:
        keys = self._keys()
        return (keys if direction > 0 else keys[::-1])[start:stop]

    def _items_slice(self, start: int, stop: int, direction: int, page_size: int | None = None) -> list:
        return [(key, self._entry(key)) for key in self._keys_slice(start, stop, direction)]

    def search(self, query: Any) -> Any:
        raise NotImplementedError("the run store is browsed by run id; it has no search")

    def read(self, fields: Any = None) -> Any:
        return self


class RunStoreAdapter(_Lazy):
    """The run store at ``path``: a container of runs by id."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._cache: OrderedDict[tuple, RunData] = OrderedDict()
        super().__init__({"labctl_store": str(self.path)})

    def _open(self) -> Store:
        return Store(self.path, read_only=True)

    def _keys(self) -> list[str]:
        with self._open() as store:
            return [str(i) for i in store.run_ids()]

    def _entry(self, key: str) -> RunAdapter:
        with self._open() as store:
            try:
                info = store.run(int(key))
            except (StoreError, ValueError):
                raise KeyError(key) from None
            stamp = (info.id, info.status, len(store.record_names(info.id)))
            data = self._cache.pop(stamp, None) or read_run(store, info.id)
            self._cache[stamp] = data
            while len(self._cache) > CACHED_RUNS:
                self._cache.popitem(last=False)
            return RunAdapter(data, store.run_ids(parent=info.id))


class RunAdapter(_Lazy):
    """One run: its numeric records as arrays, everything else in its metadata."""

    def __init__(self, data: RunData, children: list[int]) -> None:
        self.data = data
        self._dims = dimensions(data)
        info = data.info
        values = {name: data.last(name) if len(recorded) == 1 else recorded
                  for name, recorded in data.records.items() if name not in self._dims and name != "summary"}
        super().__init__({"id": info.id, "procedure": info.procedure, "status": info.status, "detail": info.detail,
                          "started": iso(info.started), "ended": iso(info.ended), "parent": info.parent,
                          "children": children, "resumed_from": info.resumed_from, "uid": run_uid(info),
                          "parameters": info.parameters, "provenance": info.provenance, "summary": data.summary,
                          "values": values})

    def _keys(self) -> list[str]:
        return list(self._dims)

    def _entry(self, key: str) -> ArrayAdapter:
        meta = self.data.meta.get(key, {})
        return ArrayAdapter.from_array(np.asarray(self.data.array(key)), dims=tuple(self._dims[key][0]),
                                       metadata={"unit": meta.get("unit", ""),
                                                 "description": meta.get("description", ""),
                                                 "recordings": len(self.data.records[key])})


def tiled_app(store_path: str | Path, host: str = "127.0.0.1", api_key: str | None = None) -> tuple[Any, str | None]:
    """The Tiled application serving a run store, and the API key every request needs (None on loopback,
    where reading is open to anyone on this machine)."""
    from tiled.config import Authentication
    from tiled.server.app import build_app

    if host in LOOPBACK and api_key is None:
        authentication = Authentication(allow_anonymous_access=True,
                                        single_user_api_key=secrets.token_hex(16))
        key = None
    else:
        key = api_key or secrets.token_hex(24)
        authentication = Authentication(allow_anonymous_access=False, single_user_api_key=key)
    return build_app(RunStoreAdapter(store_path), authentication=authentication), key
