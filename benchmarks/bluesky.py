"""The Bluesky bridge against large runs, in one run, each beside what it is compared with.

* docs_per_s: the JSONL document export (``--format bluesky``) of a 10,000-record run, in documents per
  second, beside the HDF5 export of the same run (``export_ratio``: the JSONL export's time over HDF5's);
* compose_docs_per_s: the documents composed without writing them, and ingest_docs_per_s: the same
  documents stored back into a fresh store (the round trip);
* tiled_read_ms: a 1e6-point record read by ``tiled.client`` over real HTTP (the Tiled server on
  loopback, uvicorn), beside ``labctl.load_run`` reading the same record from the store
  (``tiled_ratio``).

    python benchmarks/bluesky.py

The last line is JSON.  Goals: over 10,000 documents per second, a 1e6-point record through Tiled
within a second.
"""

from __future__ import annotations

import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import uvicorn  # noqa: E402
from tiled.client import from_uri  # noqa: E402

from labctl.bluesky.documents import tree_documents  # noqa: E402
from labctl.bluesky.ingest import store_documents  # noqa: E402
from labctl.bluesky.jsonl import export_bluesky  # noqa: E402
from labctl.bluesky.tiled_server import tiled_app  # noqa: E402
from labctl.export import export_hdf5  # noqa: E402
from labctl.rundata import load_run  # noqa: E402
from labctl.store import Store  # noqa: E402

RECORDS = 10_000
POINTS = 1_000_000


def fill(path: Path) -> tuple[int, int]:
    """A run of 10,000 records (scalars, 64-value arrays, small JSON values, as procedures record them) and
    a run holding one 1e6-point record; (their ids)."""
    rng = np.random.default_rng(1)
    with Store(path) as store, store.transaction():
        many = store.begin_run("array-map", {"columns": 64}, {"host": "bench", "seed": 1})
        for i in range(RECORDS):
            kind = i % 4
            if kind == 0:
                store.record(many, "errors_after_pass", int(rng.integers(100)), {"unit": "bits"})
            elif kind == 1:
                store.record(many, "margin", float(rng.normal()), {"unit": "V", "description": "read margin"})
            elif kind == 2:
                store.record(many, "column_codes", rng.integers(0, 16, 64).astype(np.uint8), {"axes": ["column"]})
            else:
                store.record(many, "state", {"pass": i, "ok": bool(i % 3)})
        store.event(many, "completed")
        big = store.begin_run("rv-loop", {}, {"host": "bench"})
        store.record(big, "trace", np.cumsum(rng.normal(size=POINTS)), {"unit": "ohm", "axes": ["sample"]})
        store.event(big, "completed")
    return many, big


def timed(fn, repeats: int = 3) -> float:
    """The median wall time of ``fn()``, s."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def serve(path: Path) -> tuple[uvicorn.Server, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app, _ = tiled_app(path)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "runs.sqlite"
        many, big = fill(path)
        with Store(path, read_only=True) as store:
            documents = list(tree_documents(store, many))
            compose_s = timed(lambda: list(tree_documents(store, many)))
            jsonl_s = timed(lambda: export_bluesky(store, many, folder / "run.jsonl", force=True))
            hdf5_s = timed(lambda: export_hdf5(store, many, folder / "run.h5", force=True))
        counter = iter(range(100))
        ingest_s = timed(lambda: store_documents(Store(folder / f"fresh-{next(counter)}.sqlite"), documents))
        direct_s = timed(lambda: load_run(big, path).array("trace"))
        server, port = serve(path)
        try:
            client = from_uri(f"http://127.0.0.1:{port}")
            tiled_s = timed(lambda: client[str(big)]["trace"].read())
            values = client[str(big)]["trace"].read()
        finally:
            server.should_exit = True
        assert values.shape == (POINTS,)
    count = len(documents)
    print(f"JSONL export of {RECORDS} records    {count} documents in {1e3 * jsonl_s:7.1f} ms: "
          f"{count / jsonl_s:9.0f} documents/s (HDF5 export {1e3 * hdf5_s:.1f} ms, ratio {jsonl_s / hdf5_s:.2f})")
    print(f"documents composed                {count / compose_s:9.0f} documents/s")
    print(f"documents stored back             {count / ingest_s:9.0f} documents/s")
    print(f"Tiled read of a 1e6-point record  {1e3 * tiled_s:7.1f} ms (load_run {1e3 * direct_s:.1f} ms, "
          f"ratio {tiled_s / direct_s:.1f})")
    print(json.dumps({"records": RECORDS, "documents": count, "docs_per_s": round(count / jsonl_s),
                      "export_ms": round(1e3 * jsonl_s, 1), "hdf5_export_ms": round(1e3 * hdf5_s, 1),
                      "export_ratio": round(jsonl_s / hdf5_s, 2), "compose_docs_per_s": round(count / compose_s),
                      "ingest_docs_per_s": round(count / ingest_s), "points": POINTS,
                      "tiled_read_ms": round(1e3 * tiled_s, 1), "load_run_ms": round(1e3 * direct_s, 1),
                      "tiled_ratio": round(tiled_s / direct_s, 2)}))


if __name__ == "__main__":
    main()
