"""MAC-batch throughput: the simulated board called directly, through the in-process link, over socket://.

Side by side in one run, on three boards of the same die seed: batches of
10,000 input vectors (a) handed to the simulated board's own method, as the
old in-process backend did, (b) through the board driver over the
in-process link into the firmware (the protocol without a socket: what
``open_chip("sim")`` and the built-in bench use now) and (c) through the
driver over a loopback TCP socket (``labctl sim serve``'s transport,
pyserial ``socket://``), interleaved, median of several rounds; then the
round trip of a short query (``COUN?`` with its error check) over the socket.

    python benchmarks/link_throughput.py [--batch N] [--rounds R]

The last line is JSON: direct_vectors_per_s, inproc_vectors_per_s,
socket_vectors_per_s, link_over_direct (goal >= 0.9), ratio (socket/inproc),
roundtrip_us.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from instruments.mx64_board import MX64Board
from labctl.chip import open_chip
from sim_chip import MX64, Board
from sim_chip.serve import SimServer

SEED = 1


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    weights = rng.choice(np.array([-1, 1], np.int8), (64, 64))
    x = rng.choice(np.array([-1, 1], np.int8), (args.batch, 64))
    direct = Board(MX64(SEED))
    direct.power_on()
    direct.write_array(weights)
    direct.mac_batch(x)
    with SimServer(Board(MX64(SEED)), pty=False) as server:
        wire = MX64Board(server.resources()["serial_socket"])
        local = open_chip(f"sim:{SEED}")
        for chip in (local, wire):
            chip.power_on()
            chip.write_array(weights)
            chip.mac_batch(x)                      # warm-up: kernel and tables
        t_direct, t_local, t_wire = [], [], []
        for _ in range(args.rounds):
            t_direct.append(_time(lambda: direct.mac_batch(x)))
            t_local.append(_time(lambda: local.mac_batch(x)))
            t_wire.append(_time(lambda: wire.mac_batch(x)))
        n_rt = 2000
        roundtrips = [_time(lambda: [wire.cycle_counter for _ in range(n_rt)]) / n_rt for _ in range(3)]
        wire.close()

    direct_vps = args.batch / statistics.median(t_direct)
    inproc = args.batch / statistics.median(t_local)
    socket_vps = args.batch / statistics.median(t_wire)
    rt_us = statistics.median(roundtrips) * 1e6
    print(f"direct      {direct_vps / 1e6:6.2f} M vectors/s (the simulated board's own method)")
    print(f"in-process  {inproc / 1e6:6.2f} M vectors/s (driver, protocol, firmware, no socket)")
    print(f"socket://   {socket_vps / 1e6:6.2f} M vectors/s")
    print(f"round trip  {rt_us:6.1f} us (COUN? and SYST:ERR? in one write)")
    print(json.dumps({
        "batch": args.batch,
        "direct_vectors_per_s": round(direct_vps),
        "inproc_vectors_per_s": round(inproc),
        "socket_vectors_per_s": round(socket_vps),
        "link_over_direct": round(inproc / direct_vps, 4),
        "ratio": round(socket_vps / inproc, 4),
        "roundtrip_us": round(rt_us, 1),
    }))


if __name__ == "__main__":
    main()
