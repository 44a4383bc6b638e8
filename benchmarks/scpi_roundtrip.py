"""SCPI queries per second through pyvisa-py against a simulated instrument, beside a raw socket.

Side by side in one run: the simulated E36312A served on a loopback TCP port
(as ``labctl sim serve`` does), queried with ``VOLT? (@1)`` by a pyvisa-py
``TCPIP::127.0.0.1::<port>::SOCKET`` resource and by a plain socket client
doing the same write-then-read-a-line, interleaved, best of several rounds.

    python benchmarks/scpi_roundtrip.py [--queries N] [--rounds R] [--short]

``--short`` is the gate's version, on one core (``timing.one_core``).  The
last line is JSON:
pyvisa_queries_per_s, raw_queries_per_s, ratio (pyvisa/raw), and cpu_ratio
(the CPU time of this process, client and serving threads, raw over
pyvisa-py: the gate's figure).
"""

from __future__ import annotations

import socket
import time

import pyvisa
from timing import one_core, side_by_side, sized_arguments, write_results

from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer

QUERY = "VOLT? (@1)"


def main() -> None:
    args = sized_arguments(__doc__, ("--queries", 2000, 500), (5, 5), "500 queries, 5 rounds")
    if args.short:
        one_core()

    with BenchServer(World(1), pty=False) as server:
        host, port = server.address("supply")
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(f"TCPIP::{host}::{port}::SOCKET", read_termination="\n",
                                write_termination="\n", timeout=5000)
        raw = socket.create_connection((host, port))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = raw.makefile("rb")
        message = (QUERY + "\n").encode()

        def visa_round() -> None:
            for _ in range(args.queries):
                inst.query(QUERY)

        def raw_round() -> None:
            for _ in range(args.queries):
                raw.sendall(message)
                reader.readline()

        assert inst.query(QUERY).startswith("+") and (raw.sendall(message) or reader.readline())
        rounds = {"visa": visa_round, "raw": raw_round}
        wall = side_by_side(rounds, args.rounds)
        cpu = side_by_side(rounds, args.rounds, time.process_time)
        inst.close()
        raw.close()
    t_visa, t_raw = wall["visa"], wall["raw"]

    visa_qps = args.queries / min(t_visa)
    raw_qps = args.queries / min(t_raw)
    print(f"pyvisa-py  {visa_qps:9.0f} queries/s ({1e6 / visa_qps:6.1f} us each)")
    print(f"raw socket {raw_qps:9.0f} queries/s ({1e6 / raw_qps:6.1f} us each)")
    write_results("scpi_roundtrip", {"query": QUERY, "pyvisa_queries_per_s": round(visa_qps),
                                     "raw_queries_per_s": round(raw_qps), "ratio": round(visa_qps / raw_qps, 4),
                                     "cpu_ratio": round(min(cpu["raw"]) / min(cpu["visa"]), 4)},
                  short=args.short)


if __name__ == "__main__":
    main()
