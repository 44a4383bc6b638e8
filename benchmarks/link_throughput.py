"""The board's link: MAC batches direct, in process and over socket://, and one command's round trip.

Side by side in one run, on boards of the same die seed:

* batches of 10,000 input vectors (a) handed to the simulated board's own
  method, (b) through the board driver over the in-process link into the
  firmware (what ``open_chip("sim")`` and the built-in bench use) and (c)
  through the driver over a loopback TCP socket (pyserial ``socket://``),
  interleaved, best of several rounds;
* the round trip of a short query (``COUN?`` with its error check, one
  write) over socket:// to a board served by a thread of this process,
  beside the round trip of a bare echo server on a thread of this process
  (the floor: the same socket, thread and interpreter lock, no work), and
  beside the same query to a board served by another process, as ``labctl
  sim serve`` serves it.

    python benchmarks/link_throughput.py [--batch N] [--rounds R] [--short]

``--short`` is the gate's version, on one core (``timing.one_core``).  The
last line is JSON:
direct_vectors_per_s, inproc_vectors_per_s, socket_vectors_per_s,
link_over_direct, ratio (socket/inproc), roundtrip_us (goal <= 100),
echo_us, roundtrip_ratio (echo/roundtrip), roundtrip_process_us, and the
CPU time of this process (client and serving thread) per round trip,
roundtrip_cpu_us and roundtrip_cpu_ratio (echo/board): the gate's figure.
A round trip between threads that the OS puts on different cores is at
times three times slower, in wall and in CPU time alike (~95 us against
~30 us here, more often on an idle machine); on one core it is not.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from multiprocessing.connection import Connection

import numpy as np
from timing import best, one_core, side_by_side, sized_arguments, write_results

from instruments.mx64_board import MX64Board
from labctl.chip import open_chip
from sim_chip import MX64, Board
from sim_chip.serve import SimServer

SEED = 1
QUERIES = 2000          # round trips per timed round
ECHO_REPLY = b'0\n0,"No error"\n'


def _serve_board(conn: Connection) -> None:
    """A board served on loopback until told to stop (another process, as ``labctl sim serve``)."""
    with SimServer(Board(MX64(SEED)), pty=False) as server:
        conn.send(server.resources()["serial_socket"])
        conn.recv()


def _serve_echo(listener: socket.socket) -> None:
    """The floor: one reply line pair per received message, nothing else."""
    peer, _ = listener.accept()
    peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while peer.recv(1 << 16):
        peer.sendall(ECHO_REPLY)
    peer.close()


def _in_process(target, ctx):
    """Start ``target`` in a process of its own; (process, its first message, the pipe)."""
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=target, args=(theirs,), daemon=True)
    process.start()
    return process, ours.recv(), ours


def _echo_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _echo_trips(sock: socket.socket, n: int) -> None:
    for _ in range(n):
        sock.sendall(b"COUN?\nSYST:ERR?\n")
        sock.recv(64)


def main() -> None:
    args = sized_arguments(__doc__, ("--batch", 10_000, 2000), (9, 15), "2,000-vector batches, 15 rounds")
    if args.short:
        one_core()
    queries = QUERIES // (4 if args.short else 1)

    rng = np.random.default_rng(0)
    weights = rng.choice(np.array([-1, 1], np.int8), (64, 64))
    x = rng.choice(np.array([-1, 1], np.int8), (args.batch, 64))
    ctx = multiprocessing.get_context("spawn")
    board_proc, board_url, board_pipe = _in_process(_serve_board, ctx)
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_serve_echo, args=(listener,), daemon=True).start()
    direct = Board(MX64(SEED))
    direct.power_on()
    direct.write_array(weights)
    with SimServer(Board(MX64(SEED)), pty=False) as server:
        wire, remote = MX64Board(server.resources()["serial_socket"]), MX64Board(board_url)
        local = open_chip(f"sim:{SEED}")
        for chip in (direct, local, wire, remote):
            chip.power_on()
            chip.write_array(weights)
            chip.mac_batch(x)                      # warm-up: kernel and tables
        batches = side_by_side({"direct": lambda: direct.mac_batch(x), "inproc": lambda: local.mac_batch(x),
                                "socket": lambda: wire.mac_batch(x)}, args.rounds)
        echo = _echo_client(listener.getsockname()[1])
        _echo_trips(echo, queries)
        trips = side_by_side({"board": lambda: [wire.cycle_counter for _ in range(queries)],
                              "echo": lambda: _echo_trips(echo, queries),
                              "process": lambda: [remote.cycle_counter for _ in range(queries)]}, 5)
        work = side_by_side({"board": lambda: [wire.cycle_counter for _ in range(queries)],
                             "echo": lambda: _echo_trips(echo, queries)}, 5, time.process_time)
        for link in (wire, remote, echo):
            link.close()
    board_pipe.send("stop")
    board_proc.join(5)
    listener.close()

    direct_vps, inproc, socket_vps = (args.batch / best(batches[k]) for k in ("direct", "inproc", "socket"))
    rt_us, echo_us, process_us = (1e6 * best(trips[k]) / queries for k in ("board", "echo", "process"))
    print(f"direct      {direct_vps / 1e6:6.2f} M vectors/s (the simulated board's own method)")
    print(f"in-process  {inproc / 1e6:6.2f} M vectors/s (driver, protocol, firmware, no socket)")
    print(f"socket://   {socket_vps / 1e6:6.2f} M vectors/s")
    print(f"round trip  {rt_us:6.1f} us (COUN? and SYST:ERR? in one write, board served by a thread; "
          f"a bare echo {echo_us:.1f} us; board served by another process {process_us:.1f} us)")
    write_results("link_throughput", {
        "batch": args.batch,
        "direct_vectors_per_s": round(direct_vps),
        "inproc_vectors_per_s": round(inproc),
        "socket_vectors_per_s": round(socket_vps),
        "link_over_direct": round(inproc / direct_vps, 4),
        "ratio": round(socket_vps / inproc, 4),
        "roundtrip_us": round(rt_us, 1),
        "echo_us": round(echo_us, 1),
        "roundtrip_ratio": round(echo_us / rt_us, 4),
        "roundtrip_cpu_us": round(1e6 * best(work["board"]) / queries, 1),
        "roundtrip_cpu_ratio": round(best(work["echo"]) / best(work["board"]), 4),
        "roundtrip_process_us": round(process_us, 1),
    }, short=args.short)


if __name__ == "__main__":
    main()
