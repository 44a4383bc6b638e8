"""Campaign throughput on this machine: dies per second with 1 and 2 Dask workers, in one run.

A write-verify campaign over ``DIES`` dies on an embedded LocalCluster of 1
worker, then of 2 workers (each into a fresh store; the cluster is started
before the clock runs), and the client's store write rate:

* dies_per_s_1, dies_per_s_2 and scaling_efficiency = rate_2 / (2 rate_1);
* overhead_ms_per_task: campaign wall time x workers / tasks, less the mean
  time the procedure itself took in the worker (opening its simulated bench
  included): what scheduling, transfer and storing add per task;
* overhead_fraction: that overhead over the mean task time;
* store_records_per_s: records (run rows, events, records) the client wrote
  per second of its own writing time.

    python benchmarks/campaign.py [DIES]

The last line is JSON.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))      # a Dask worker re-imports this file with the parent's path
from timing import write_results  # noqa: E402

# this file's name is a package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from labctl.campaign import CampaignSpec, run_campaign, start_client  # noqa: E402
from labctl.store import Store  # noqa: E402


def _warm() -> None:
    """Import what a task needs (a worker pays this once, not per task)."""
    from labctl.bench import default_bench
    from labctl.registry import get

    get("write-verify")
    default_bench(0).close()


def measure(workers: int, dies: int, folder: Path) -> dict:
    client, cluster = start_client(None, workers)
    try:
        client.run(_warm)                                       # the workers are up, their imports done
        spec = CampaignSpec("write-verify", list(range(dies)), {"max_retries": 2}, seed=workers)
        with Store(folder / f"runs-{workers}.sqlite") as store:
            result = run_campaign(spec, store, client)
            rows = sum(len(store.record_names(i)) + len(store.events(i)) + 1 for i in store.run_ids())
    finally:
        client.close()
        cluster.close()
    assert result.status == "completed" and result.completed == dies, result
    task_s = result.task_seconds / dies
    per_task_s = result.seconds * workers / dies
    return {"dies_per_s": dies / result.seconds, "task_ms": 1e3 * task_s,
            "overhead_ms": 1e3 * (per_task_s - task_s), "store_rows_per_s": rows / result.store_seconds}


def main() -> None:
    dies = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        one = measure(1, dies, Path(tmp))
        two = measure(2, dies, Path(tmp))
    for label, m in (("1 worker", one), ("2 workers", two)):
        print(f"{label:10s} {m['dies_per_s']:7.1f} dies/s, task {m['task_ms']:6.1f} ms, "
              f"overhead {m['overhead_ms']:6.2f} ms/task, store {m['store_rows_per_s']:8.0f} rows/s")
    write_results("campaign", {
        "dies": dies, "dies_per_s_1": round(one["dies_per_s"], 2), "dies_per_s_2": round(two["dies_per_s"], 2),
        "scaling_efficiency": round(two["dies_per_s"] / (2 * one["dies_per_s"]), 3),
        "overhead_ms_per_task": round(one["overhead_ms"], 2),
        "overhead_fraction": round(one["overhead_ms"] / one["task_ms"], 3), "task_ms": round(one["task_ms"], 1),
        "store_records_per_s": round(min(one["store_rows_per_s"], two["store_rows_per_s"]))})


if __name__ == "__main__":
    main()
