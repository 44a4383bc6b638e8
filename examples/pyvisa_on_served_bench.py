"""Drive the served simulated bench with PyVISA directly: raw SCPI, no labctl drivers.

    labctl sim serve --no-pty --write-bench bench.toml     # in another terminal, then:
    python examples/pyvisa_on_served_bench.py --bench bench.toml

Without ``--bench`` the script starts ``labctl sim serve`` itself and stops
it at the end.  Each instrument is a raw SCPI socket on loopback, exactly as
a LAN instrument is (``TCPIP::host::port::SOCKET``), and the board is one
too: anything that speaks the vendors' SCPI (PyVISA here, or another
project's drivers) works on it unchanged.

Raw SCPI bypasses labctl's safety limits, so this script sets each supply
channel's over-voltage protection before turning it on, as labctl does.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyvisa

RAILS = {"VDD": (1, 0.9), "VDDIO": (2, 1.8), "V_WRITE": (3, 1.5)}     # supply channel and volts, as wired


@contextmanager
def served_bench() -> Iterator[Path]:
    """``labctl sim serve`` in a child process, until the block ends; yields its bench file."""
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / "bench.toml"
    server = subprocess.Popen([sys.executable, "-m", "labctl.cli", "sim", "serve", "--no-pty",
                               "--write-bench", str(path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not path.exists() or "[limits]" not in path.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("labctl sim serve did not start")
            time.sleep(0.1)
        yield path
    finally:
        server.send_signal(signal.SIGINT)             # it stops on Ctrl-C
        server.wait(timeout=10)
        folder.cleanup()


def check_errors(instrument: pyvisa.resources.MessageBasedResource) -> None:
    """Raise with the instrument's own words if its error queue is not empty (SCPI instruments)."""
    reply = instrument.query("SYST:ERR?")
    if not reply.startswith(("0,", "+0,")):
        raise RuntimeError(f"{instrument.resource_name}: {reply}")


def run(bench_file: Path) -> None:
    bench = tomllib.loads(bench_file.read_text())
    resource = {role: table["resource"] for role, table in bench["instruments"].items()}
    rm = pyvisa.ResourceManager("@py")                # pyvisa-py: pure Python, no vendor VISA needed
    opened = {role: rm.open_resource(resource[role], read_termination="\n", write_termination="\n", timeout=5000)
              for role in ("supply", "smu")}
    host, port = bench["chip"]["resource"].removeprefix("socket://").rsplit(":", 1)   # pyserial URL of the board
    board = rm.open_resource(f"TCPIP::{host}::{port}::SOCKET", read_termination="\n", write_termination="\n",
                             timeout=5000)
    supply, smu = opened["supply"], opened["smu"]
    try:
        for name, inst in (("supply", supply), ("smu", smu), ("board", board)):
            print(f"{name:7s} {inst.query('*IDN?')}")

        # power the chip from the supply: protection first, then VDDIO, VDD, V_WRITE
        for rail in ("VDDIO", "VDD", "V_WRITE"):
            channel, volts = RAILS[rail]
            supply.write(f"VOLT:PROT {volts + 0.05:.3f},(@{channel})")
            supply.write(f"CURR 0.1,(@{channel})")
            supply.write(f"VOLT {volts},(@{channel})")
            supply.write(f"OUTP ON,(@{channel})")
        check_errors(supply)
        print("board   powered:", board.query("POW?"))

        # program all +1 weights and read one MAC: IEEE 488.2 blocks of int8 both ways
        board.write_binary_values("WRIT:ARR ", np.ones(4096, dtype=np.int8), datatype="b")
        check_errors(board)
        board.write_binary_values("MAC? ", np.ones(64, dtype=np.int8), datatype="b")
        codes = board.read_binary_values(datatype="B", container=np.array)
        print(f"board   MAC of all +1 inputs on all +1 weights (MAC = 64, beyond the centred window): "
              f"codes {codes.min()}..{codes.max()}")
        board.write("CONF:TDC:LSB 8e-9")                  # beyond the TDC's range: the board refuses it
        print("board   refused CONF:TDC:LSB 8e-9 with", board.query("SYST:ERR?"))

        # the SMU on the analog test pad: column 5's summed resistance at 0.1 V
        board.write("CONF:TMUX 5")
        smu.write("SOUR:FUNC VOLT")
        smu.write("SOUR:VOLT:ILIM 1e-3")
        smu.write('SENS:FUNC "CURR"')
        smu.write("SOUR:VOLT 0.1")
        smu.write("OUTP ON")
        amps = float(smu.query("READ?"))
        smu.write("OUTP OFF")
        check_errors(smu)
        print(f"smu     column 5 at 0.1 V: {amps * 1e6:.2f} uA, {0.1 / amps:.0f} ohm")
    finally:
        for channel in (3, 1, 2):                     # V_WRITE first, as labctl powers down
            supply.write(f"OUTP OFF,(@{channel})")
        smu.write("OUTP OFF")
        for inst in (supply, smu, board):
            inst.close()
        rm.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, help="bench file written by labctl sim serve --write-bench")
    args = parser.parse_args()
    if args.bench:
        run(args.bench)
    else:
        with served_bench() as path:
            run(path)


if __name__ == "__main__":
    main()
