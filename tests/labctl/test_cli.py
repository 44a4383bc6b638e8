"""The labctl command line: demo, sim params, sim serve."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

from instruments.mx64_board import MX64Board
from labctl.cli import main


def test_demo_programs_verifies_and_checks_the_mac(capsys) -> None:
    assert main(["demo", "--vectors", "2000"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"die\s+MX64-[0-9A-F]{8}", out)
    errors = int(re.search(r"(\d+) bit errors", out).group(1))
    assert errors <= 8
    correlation = float(re.search(r"correlation ([+-][0-9.]+)", out).group(1))
    assert correlation < -0.85


def test_demo_reports_an_unreachable_board(capsys) -> None:
    assert main(["demo", "--chip", "socket://127.0.0.1:1"]) == 2
    assert "cannot open the port" in capsys.readouterr().err


def test_sim_params_lists_sources(capsys) -> None:
    assert main(["sim", "params"]) == 0
    out = capsys.readouterr().out
    assert "device.delta_mean" in out and "datasheet" in out and "paper" in out


def test_sim_serve_serves_until_interrupted() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "labctl.cli", "sim", "serve", "--die-seed", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        text = "".join(lines)
        socket_url = re.search(r"serial_socket\s+(\S+)", text).group(1)
        pty_path = re.search(r"serial_pty\s+(\S+)", text).group(1)
        assert socket_url.startswith("socket://127.0.0.1:") and pty_path.startswith("/dev/")
        assert re.search(r"visa_socket\s+TCPIP::127\.0\.0\.1::\d+::SOCKET", text)
        for resource in (socket_url, pty_path):
            with MX64Board(resource, timeout=5) as board:
                assert board.identify().die_id in text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sim_serve_refuses_a_busy_port(capsys) -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["sim", "serve", "--port", str(port), "--no-pty"]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["demo", "--chip", "sim:x"]])
def test_bad_chip_spec(argv, capsys) -> None:
    assert main(argv) == 2
    assert "die seed" in capsys.readouterr().err
