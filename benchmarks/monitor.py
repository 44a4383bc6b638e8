"""The browser monitor against a large store, over real HTTP (uvicorn on loopback), in one run.

* runs_page_ms: the runs page (HTML, first page of 50) of a store with 10,000 runs;
* run_figures_ms: the figures of a run holding a 1e6-point record (reduced for display);
* live_latency_ms: from a record written by another connection to the update event received.

    python benchmarks/monitor.py

The last line is JSON.  Goals: runs page under 200 ms, live latency under 1 s.
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from timing import write_results  # before the folder leaves the path

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import uvicorn  # noqa: E402

from labctl.monitor.app import create_app  # noqa: E402
from labctl.store import Store  # noqa: E402

RUNS = 10_000


def fill(path: Path) -> tuple[int, int]:
    """10,000 small runs, one with a 1e6-point record, one left running; (big run, live run)."""
    with Store(path) as store:
        with store.transaction():
            for i in range(RUNS - 2):
                run = store.begin_run(("write-verify", "mac-transfer", "energy")[i % 3], {"i": i},
                                      {"identities": {"chip": f"MX64 EVB, die MX64-{i % 97:08X}"}})
                store.record(run, "summary", {"bit_errors": i % 4})
                store.event(run, "completed")
        big = store.begin_run("rv-loop", {}, {})
        store.record(big, "trace", np.cumsum(np.random.default_rng(1).normal(size=1_000_000)), {"unit": "ohm"})
        store.event(big, "completed")
        live = store.begin_run("endurance", {}, {})
    return big, live


def serve(path: Path) -> tuple[uvicorn.Server, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(path), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port


def timed_get(client: httpx.Client, url: str, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        response = client.get(url)
        response.raise_for_status()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def live_latency(base: str, path: Path, run_id: int, samples: int = 5) -> float:
    """Median time from a record written (by another connection) to the update event received."""
    latencies = []
    with httpx.Client(timeout=10) as client, client.stream("GET", f"{base}/api/runs/{run_id}/events") as stream:
        lines = stream.iter_lines()
        for line in lines:                              # the first update: the state as it is
            if line.startswith("data:"):
                break
        with Store(path) as writer:
            for k in range(samples):
                time.sleep(0.3)
                written = time.perf_counter()
                writer.record(run_id, "point", k)
                for line in lines:
                    if line.startswith("data:"):
                        latencies.append(time.perf_counter() - written)
                        break
    return 1e3 * statistics.median(latencies)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.sqlite"
        big, live = fill(path)
        server, port = serve(path)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(timeout=30) as client:
                runs_page = timed_get(client, f"{base}/")
                filtered = timed_get(client, f"{base}/?procedure=energy&page=40")
                figures = timed_get(client, f"{base}/api/runs/{big}/figures", repeats=3)
                run_page = timed_get(client, f"{base}/runs/{big}", repeats=3)
            latency = live_latency(base, path, live)
        finally:
            server.should_exit = True
    print(f"runs page ({RUNS} runs)          {runs_page:7.1f} ms")
    print(f"runs page, filtered, page 40   {filtered:7.1f} ms")
    print(f"run page, 1e6-point record     {run_page:7.1f} ms (figures {figures:.1f} ms)")
    print(f"live update latency            {latency:7.1f} ms")
    write_results("monitor", {"runs": RUNS, "runs_page_ms": round(runs_page, 1), "filtered_page_ms": round(filtered, 1),
                               "run_page_ms": round(run_page, 1), "run_figures_ms": round(figures, 1),
                               "live_latency_ms": round(latency, 1)})


if __name__ == "__main__":
    main()
