"""Where a MAC's time goes: each part of the model's batch and single-vector paths, and of a board command.

Batch parts are measured by leaving each out of a chunk of 2,016 vectors
(the thread's CPU time of the whole chunk, with and without the part, best
of several interleaved rounds): what a part costs is what the chunk saves
without it.  Single-vector and link parts are timed alone (best of
repeated runs of thousands of calls).  docs/performance.md quotes these.

    python benchmarks/mac_parts.py

The last line is JSON: batch_ns_per_vector (each part and the whole
chunk), single_us (each part and MX64.mac), link_us (firmware, driver,
error check, socket), pool_speedup (two worker threads against one).
"""

from __future__ import annotations

import socket
import time
import timeit

import numpy as np
from timing import best, timed, write_results

from instruments.mx64_board import MX64Board
from labctl.chip import open_chip
from sim_chip import MX64, validation
from sim_chip.firmware import Firmware
from sim_chip.kernel import NOISE_BLOCKS_PER_CLOCK
from sim_chip.mac_batch import _buffers, _chunk, _column_sums, read_batch
from sim_chip.macro import _CHUNK
from sim_chip.readout import ROWS
from sim_chip.serve import SimServer

CHUNKS = 20          # chunks per timed pass
ROUNDS = 7


def powered_chip() -> tuple[MX64, np.ndarray]:
    rng = np.random.default_rng(0)
    chip = MX64(seed=1)
    d = chip.params.defaults
    chip.set_rails(vdd=d.vdd, vddio=d.vddio, vwrite=d.v_write)
    chip.write_array(rng.choice(np.array([-1, 1], np.int8), (64, 64)))
    x = rng.choice(np.array([-1, 1], np.int8), (_CHUNK * CHUNKS, 64))
    chip.mac_batch(x[:3000])
    return chip, x


def batch_parts(chip: MX64, x: np.ndarray) -> dict[str, float]:
    """ns per vector of each part of a chunk, by leaving it out."""
    kernel, noise = chip._mac_kernel(), chip._mac_noise
    levels = chip._levels_of(kernel, 0, _CHUNK)
    level = levels[0][2]
    codes = np.empty(x.shape, np.uint8)
    idx = noise._stream.words_at(0, NOISE_BLOCKS_PER_CLOCK * _CHUNK).view("<u2").reshape(_CHUNK, ROWS)
    common = noise.common(0, _CHUNK)

    def chunk(start: int, skip: str) -> None:
        m, xs, out = _CHUNK, x[start:start + _CHUNK], codes[start:start + _CHUNK]
        b = _buffers(m, kernel.matrix.shape[1])
        xa, rr, u, thr = b.xa[:m], b.rr[:m], b.u[:m], b.thr[:m]
        if skip != "resistances":
            xa[:, :ROWS] = xs
            kernel.resistances_into(xa, rr)
        words = idx if skip == "noise: stream words" else noise._stream.words_at(
            start * NOISE_BLOCKS_PER_CLOCK, NOISE_BLOCKS_PER_CLOCK * m).view("<u2").reshape(m, ROWS)
        if skip != "noise: column draws (table, tails)":
            noise._columns_into(thr, words, start, kernel.sigma_column)
        else:
            thr[...] = 0.0
        voltage, jitter = common if skip == "noise: common draws (hash)" else noise.common(start, m)
        if skip != "noise: trip levels (common and per-column adds)":
            thr += (voltage * np.float32(kernel.sigma_common))[:, None]
            thr.reshape(-1, 16 * ROWS)[...] += np.tile(level, 16)
        if skip != "delays":
            kernel.delays_into(rr, u, thr)
        if skip != "energy and selection tallies":
            _column_sums(u)
        if skip != "noise: jitter":
            noise.add_jitter(u, jitter, kernel, thr)
        if skip != "TDC: clip and codes":
            kernel.clip(u)
            np.copyto(out, u, casting="unsafe")
        if skip != "energy and selection tallies":
            _column_sums(out, np.uint16)
            np.count_nonzero(xs[1:] != xs[:-1])
            _column_sums(xs.view(np.uint8), np.uint16)

    def per_vector(skip: str) -> float:
        start = time.thread_time_ns()
        for c in range(CHUNKS):
            chunk(c * _CHUNK, skip)
        return (time.thread_time_ns() - start) / (CHUNKS * _CHUNK)

    parts = ["resistances", "delays", "noise: stream words", "noise: column draws (table, tails)",
             "noise: common draws (hash)", "noise: trip levels (common and per-column adds)", "noise: jitter",
             "TDC: clip and codes", "energy and selection tallies"]
    times: dict[str, list[float]] = {name: [] for name in ["", *parts]}
    for _ in range(ROUNDS):
        for name in times:
            times[name].append(per_vector(name))
    whole = min(times[""])
    found = {name: round(whole - min(times[name]), 1) for name in parts}
    single = time.thread_time_ns()
    for c in range(CHUNKS):
        _chunk(kernel, noise, x, codes, c * _CHUNK, (c + 1) * _CHUNK, 0, x[0], [(0, len(x), level)])
    found["the model's chunk, one thread"] = round((time.thread_time_ns() - single) / (CHUNKS * _CHUNK), 1)
    return found


def pool_speedup(chip: MX64, x: np.ndarray) -> float:
    """Wall time of the batch chunk by chunk on one thread over the same batch on the two workers."""
    kernel, noise = chip._mac_kernel(), chip._mac_noise
    codes = np.empty(x.shape, np.uint8)

    levels = chip._levels_of(kernel, 0, len(x))

    def one_thread() -> None:
        for c in range(CHUNKS):
            _chunk(kernel, noise, x, codes, c * _CHUNK, (c + 1) * _CHUNK, 0, x[0], levels)
    pooled = best([timed(lambda: read_batch(kernel, noise, x, 0, x[0], _CHUNK, levels)) for _ in range(ROUNDS)])
    return best([timed(one_thread) for _ in range(ROUNDS)]) / pooled


def us(statement, number: int = 3000, **names) -> float:
    return round(min(timeit.repeat(statement, globals=names, number=number, repeat=ROUNDS)) / number * 1e6, 2)


def single_parts(chip: MX64, x: np.ndarray) -> dict[str, float]:
    v = x[0]
    kernel, noise, tally = chip._mac_kernel(), chip._mac_noise, chip._macs
    level = chip._level_at(kernel, chip._clock)
    clock = noise.clock(chip._clock, kernel, level)
    return {"MX64.mac": us("chip.mac(v)", chip=chip, v=v),
            "argument check": us("validation.signs('x', v, (64,))", validation=validation, v=v),
            "kernel: resistances, delays, noise, TDC": us("k.read_one(v, n, t.units)", k=kernel, v=v, n=clock,
                                                          t=tally),
            "noise of the clock (cache)": us("noise.clock(c._clock, k, lv)", noise=noise, c=chip, k=kernel, lv=level),
            "slow-noise level of the clock": us("c._level_at(k, c._clock)", c=chip, k=kernel),
            "energy tallies": us("t.add_single(c._last_input, v, v.view(np.uint8)); v.copy()", np=np, v=v, c=chip,
                                 t=type(tally)()),
            "read-selection count (flips)": us("f.count_mac(1, v, c._clock)", f=chip._flips, v=v, c=chip)}


def link_parts() -> dict[str, float]:
    board = open_chip("sim:1")
    board.power_on()
    firmware = Firmware(board._port._firmware.board)
    found = {"firmware: COUN? alone": us("f.feed(b'COUN?\\n')", f=firmware),
             "firmware: COUN? and SYST:ERR?": us("f.feed(b'COUN?\\nSYST:ERR?\\n')", f=firmware),
             "in-process link (driver + firmware)": us("b.cycle_counter", b=board)}
    with SimServer(board._port._firmware.board, pty=False) as server:
        wire = MX64Board(server.resources()["serial_socket"])
        found["socket:// (thread-served board)"] = us("w.cycle_counter", 1000, w=wire)
        wire.close()
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    peer, _ = listener.accept()
    for s in (client, peer):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    found["bare socket send and receive (one thread)"] = us("c.sendall(b'COUN?\\n'); p.recv(64); p.sendall(b'0\\n'); "
                                                            "c.recv(64)", c=client, p=peer)
    for s in (client, peer, listener):
        s.close()
    return found


def main() -> None:
    chip, x = powered_chip()
    batch = batch_parts(chip, x)
    single = single_parts(chip, x)
    link = link_parts()
    speedup = pool_speedup(chip, x)
    for title, parts, unit in (("batch, per vector", batch, "ns"), ("one vector, per call", single, "us"),
                               ("board command, per call", link, "us")):
        print(title)
        for name, value in parts.items():
            print(f"  {value:8.2f} {unit}  {name}")
    print(f"two workers over one thread: {speedup:.2f}x")
    write_results("mac_parts", {"batch_ns_per_vector": batch, "single_us": single, "link_us": link,
                                "pool_speedup": round(speedup, 2)})


if __name__ == "__main__":
    main()
