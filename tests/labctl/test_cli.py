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


def test_demo_reports_an_unreadable_bench_file(tmp_path, capsys) -> None:
    assert main(["demo", "--bench", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: cannot read it" in capsys.readouterr().err


def test_sim_params_lists_sources(capsys) -> None:
    assert main(["sim", "params"]) == 0
    out = capsys.readouterr().out
    assert "device.delta_mean" in out and "datasheet" in out and "paper" in out


def test_sim_serve_serves_until_interrupted(tmp_path) -> None:
    bench_file = tmp_path / "bench.toml"
    proc = subprocess.Popen([sys.executable, "-m", "labctl.cli", "sim", "serve", "--die-seed", "4",
                             "--write-bench", str(bench_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        text = "".join(lines)
        socket_url = re.search(r"board\s+(\S+)", text).group(1)
        pty_path = re.search(r"board_pty\s+(\S+)", text).group(1)
        assert socket_url.startswith("socket://127.0.0.1:") and pty_path.startswith("/dev/")
        for role in ("supply", "smu", "generator", "thermo", "dmm", "clock"):
            assert re.search(rf"{role}\s+TCPIP::127\.0\.0\.1::\d+::SOCKET", text)
        for resource in (socket_url, pty_path):
            with MX64Board(resource, timeout=5) as board:
                assert board.identify().die_id in text
        assert main(["bench", "check", "--bench", str(bench_file)]) == 0
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sim_serve_refuses_an_address_it_cannot_bind(capsys) -> None:
    assert main(["sim", "serve", "--host", "192.0.2.1", "--no-pty"]) == 2
    assert "cannot listen on 192.0.2.1" in capsys.readouterr().err


def test_bench_check_names_a_bad_key(tmp_path, capsys) -> None:
    bad = tmp_path / "bench.toml"
    bad.write_text('[chip]\nresource = "sim"\n[instruments.smu]\ndriver = "keithley_9999"\nresource = "x"\n')
    assert main(["bench", "check", "--bench", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "[instruments.smu] driver 'keithley_9999' unknown" in err
