"""Wall time of labctl demo, and of a full-range mac-transfer in process and over sockets.

Side by side in one run: ``labctl demo`` on the built-in bench (a fresh
store), then mac-transfer (full range: 4160 level patterns, 6 windows,
10 repeats) on the built-in in-process bench and on the same simulated bench
served on loopback sockets (pyvisa-py for the instruments, pyserial
``socket://`` for the board); and, timed beside them as this machine's unit
of speed for interpreter-bound work, 50,000 small numpy calls.

    python benchmarks/procedures.py [--short]

``--short`` is the gate's version: the demo procedure with one repeat, four
mapped columns and 10,000 energy vectors, mac-transfer with one repeat.
The last line is JSON: demo_s (goal <= 5), mac_transfer_inproc_s,
mac_transfer_socket_s, socket_over_inproc, unit_s, demo_ratio (unit_s /
demo_s: the gate's figure).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from timing import small_calls_seconds, timed, write_results

# this file's name is the package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from labctl.bench import default_bench, load_bench, write_served_bench_file  # noqa: E402
from labctl.cli import main as labctl  # noqa: E402
from labctl.engine import execute  # noqa: E402
from labctl.registry import get  # noqa: E402
from labctl.store import Store  # noqa: E402
from sim_chip.bench import World  # noqa: E402
from sim_chip.bench.serve import BenchServer  # noqa: E402

SEED = 1
SHORT_DEMO = {"repeats": 1, "columns": 4, "vectors": 10_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the gate's version (smaller demo and mac-transfer)")
    args = parser.parse_args()
    transfer = {"repeats": 1} if args.short else {}

    def mac_transfer(bench, store) -> None:
        result = execute(get("mac-transfer"), transfer, bench, store, seed=1)
        assert result.status == "completed"

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        unit_s = small_calls_seconds()
        if args.short:
            with default_bench(SEED) as bench, Store(tmp / "demo.sqlite") as store:
                demo_s = timed(lambda: execute(get("demo"), SHORT_DEMO, bench, store, seed=1))
        else:
            with redirect_stdout(StringIO()):
                demo_s = timed(lambda: labctl(["demo", "--store", str(tmp / "demo.sqlite")]))
        with Store(tmp / "runs.sqlite") as store:
            with default_bench(SEED) as bench:
                inproc_s = timed(lambda: mac_transfer(bench, store))
            with BenchServer(World(SEED), pty=False) as server:
                resources = server.resources()
                path = tmp / "bench.toml"
                write_served_bench_file(path, resources)
                with load_bench(path) as bench:
                    socket_s = timed(lambda: mac_transfer(bench, store))
        unit_s = min(unit_s, small_calls_seconds())
    print(f"labctl demo               {demo_s:7.2f} s{' (short)' if args.short else ''}")
    print(f"mac-transfer in process   {inproc_s:7.2f} s")
    print(f"mac-transfer over sockets {socket_s:7.2f} s")
    write_results("procedures", {"demo_s": round(demo_s, 2), "mac_transfer_inproc_s": round(inproc_s, 2),
                                 "mac_transfer_socket_s": round(socket_s, 2),
                                 "socket_over_inproc": round(socket_s / inproc_s, 2), "unit_s": round(unit_s, 4),
                                 "demo_ratio": round(unit_s / demo_s, 5)}, short=args.short)


if __name__ == "__main__":
    main()
