"""The labctl command line: demo, sim params, sim serve."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import numpy as np
import pytest

from instruments.mx64_board import MX64Board
from labctl.cli import main
from labctl.store import Store


def test_demo_runs_the_main_job_and_stores_it(tmp_path, capsys) -> None:
    store = tmp_path / "runs.sqlite"
    assert main(["demo", "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"die MX64-[0-9A-F]{8}", out)
    assert int(re.search(r"(\d+) residual bit errors", out).group(1)) <= 8
    # 4.0 (was 3.0): the circuit-derived read noise and offsets give 3.49
    assert float(re.search(r"std ([0-9.]+) MAC units", out).group(1)) < 4.0
    r_low, r_high = map(float, re.search(r"R_low ([0-9.]+) kOhm .* R_high ([0-9.]+) kOhm", out).groups())
    assert abs(r_low - 13.0) < 0.3 and abs(r_high - 26.0) < 0.4
    assert 300 < float(re.search(r"(\d+) TOPS/W", out).group(1)) < 450
    assert main(["runs", "list", "--store", str(store)]) == 0
    listing = capsys.readouterr().out
    parent = int(re.search(r"(\d+)\s+demo\s+completed", listing).group(1))
    for name in ("write-verify", "mac-transfer", "array-map", "energy"):
        assert re.search(rf"{name}\s+completed .* {parent}$", listing, re.M)
    assert len(list((tmp_path / "runs-plots").glob("run-*/*.png"))) == 4


def test_demo_reports_an_unreadable_bench_file(tmp_path, capsys) -> None:
    assert main(["demo", "--bench", str(tmp_path / "missing.toml"), "--store", str(tmp_path / "s.sqlite")]) == 2
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


def test_run_dry_run_show_and_export(tmp_path, capsys) -> None:
    store = str(tmp_path / "runs.sqlite")
    assert main(["run", "rv-loop", "--step", "0.05", "--dry-run", "--die-seed", "3", "--smu", "test_mtj"]) == 0
    out = capsys.readouterr().out
    assert "within the limits" in out and "sends smu_voltage     -0.8 .. 0.8 V  (limit -1 .. 1 V)" in out
    assert "sends smu_current     0.001 A  (limit -0.001 .. 0.001 A)" in out
    assert re.search(r"estimated duration: [0-9.]+ (s|min) of bench time", out)
    assert not (tmp_path / "runs.sqlite").exists()                     # a dry run stores nothing
    assert main(["run", "write-verify", "--max-retries", "2", "--store", store, "--seed", "4"]) == 0
    out = capsys.readouterr().out
    run_id = int(re.search(r"run (\d+): write-verify completed", out).group(1))
    assert main(["runs", "show", str(run_id), "--store", store]) == 0
    shown = capsys.readouterr().out
    assert "seed 4" in shown and "record read" in shown and "write_verify.png" in shown
    assert re.search(r"^  parameters .*--max-retries 2( |$)", shown, re.M)        # as it was typed
    target = tmp_path / "run.h5"
    assert main(["runs", "export", str(run_id), "--store", store, "--output", str(target)]) == 0
    import h5py
    with h5py.File(target) as f:
        assert f.attrs["procedure"] == "write-verify" and f["records/read"].shape == (64, 64)
        assert bytes(f["files/write_verify.png"][:8]) == b"\x89PNG\r\n\x1a\n"
    folder = tmp_path / "csv"
    assert main(["runs", "export", str(run_id), "--store", store, "--format", "csv", "--output", str(folder)]) == 0
    lines = (folder / "read.csv").read_text().splitlines()
    assert lines[0] == "# record read" and "# unit " in lines and "# shape [64, 64], dtype int8" in lines
    assert len([line for line in lines if not line.startswith("#")]) == 64 and (folder / "run.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["run", "write-verify", "--voltage-step", "0.5"],
     "--voltage-step: '0.5' is out of range; expected a number, 0 .. 0.1 V"),
    (["run", "write-verify", "--max-retries"], "--max-retries needs a value"),
    (["run", "write-verify", "--max-retires", "3"], "unknown parameter --max-retires (did you mean --max-retries?)"),
    (["run", "write-verfy"], "unknown procedure 'write-verfy' (did you mean 'write-verify'?)"),
    (["run", "retention", "--temperatures", "500"], "temperature = 500.0 exceeds the bench safety limit"),
    (["run", "retention", "--temperatures", "400,hot"], "--temperatures: '400,hot' is not a list of numbers"),
    (["run", "array-map", "--bias", "abc"], "--bias: 'abc' is not a number; expected a number, 0.01 .. 1 V"),
    (["run", "energy", "--vectors", "1e9"],
     "--vectors: '1e9' is out of range; expected an integer, 1000 .. 100000000"),
    (["run", "mac-transfer", "--calibration-run", "9999"], "--calibration-run: there is no run 9999"),
    (["run", "switching-probability", "--smu", "test_mtj", "--v-min", "0.5", "--v-max", "0.3"],
     "v_min (0.5 V) must be below v_max (0.3 V)"),
    (["run", "rv-loop"], "needs the smu wired to the test MTJ"),
    (["run", "write-verify", "--matrix-seed", "-1"], "--matrix-seed: '-1' is out of range; expected an integer, 0 .. 4294967295"),
    (["run", "write-verify", "--weights-file", "/etc/passwd"],
     "--weights-file: /etc/passwd is not a NumPy .npy file; save the matrix with numpy.save(path, matrix)"),
])
def test_bad_run_requests_are_refused_before_any_instrument(tmp_path, capsys, argv, message) -> None:
    assert main([*argv, "--store", str(tmp_path / "runs.sqlite")]) == 2
    assert message in capsys.readouterr().err


def test_a_matrix_file_with_wrong_values_is_refused_naming_them(tmp_path, capsys) -> None:
    np.save(tmp_path / "twos.npy", np.full((64, 64), 2))
    assert main(["run", "write-verify", "--weights-file", str(tmp_path / "twos.npy"),
                 "--store", str(tmp_path / "runs.sqlite")]) == 2
    assert "holds 4096 values other than -1 and +1 (such as 2); a weight is -1 or +1" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-3", "x", str(2**32)])
def test_a_bad_seed_is_refused_naming_the_option(tmp_path, capsys, value) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "write-verify", "--seed", value, "--store", str(tmp_path / "runs.sqlite")])
    assert exit_.value.code == 2
    assert "argument --seed:" in capsys.readouterr().err and not (tmp_path / "runs.sqlite").exists()


def test_a_procedure_s_help_lists_its_own_parameters(capsys) -> None:
    assert main(["run", "write-verify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--dry-run" in out and "--matrix-seed" in out and "does not resume" in out
    assert main(["procedures", "array-map"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("array-map:") and "--columns" in out and "resumes: after each column" in out
    assert "write-verify" not in out
    assert main(["procedures", "aray-map"]) == 2
    assert "did you mean 'array-map'" in capsys.readouterr().err


def test_a_procedure_s_defaults_read_as_they_are_typed(capsys) -> None:
    assert main(["procedures", "mnist-perceptron"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[3:]}
    assert lines["--hardware-aware"].endswith("true/false; default false")
    assert lines["--pipeline"].endswith("default optimised") and lines["--lsbs"].endswith("default 4e-10")
    assert lines["--model-run"].endswith("run id; default none") and ", any" not in "".join(lines.values())


def test_unknown_runs_are_refused(tmp_path, capsys) -> None:
    store = tmp_path / "runs.sqlite"
    assert main(["run", "write-verify", "--store", str(store)]) == 0
    assert main(["runs", "show", "99", "--store", str(store)]) == 2
    assert "no run 99" in capsys.readouterr().err


def test_ctrl_c_aborts_a_run_and_keeps_its_data(tmp_path) -> None:
    store = tmp_path / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "labctl.cli", "run", "retention", "--store", str(store),
                             "--points", "60", "--bake-time", "1e8"],     # ~2.5 s of rehearsal, as long a run
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import time
    from labctl.store import Store
    deadline = time.time() + 60
    while time.time() < deadline:                         # wait until the first bake has recorded data
        time.sleep(0.05)
        if store.exists():
            with Store(store, read_only=True) as s:
                runs = s.runs()
                if runs and s.record_names(runs[0].id):
                    break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    with Store(store, read_only=True) as s:
        (info,) = s.runs()
        assert info.status == "aborted" and "outputs off" in info.detail
        assert s.record_names(info.id)                    # the data taken so far are kept


@pytest.mark.parametrize("argv, extra, module", [
    (["campaign", "write-verify", "--dies", "0"], "campaign", "dask"),
    (["monitor"], "monitor", "uvicorn"),
    (["serve-tiled"], "bluesky", "tiled"),
])
def test_a_missing_extra_is_a_one_line_install_hint(tmp_path, capsys, monkeypatch, argv, extra, module) -> None:
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    assert main([*argv, "--store", str(tmp_path / "runs.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"needs the {extra} extra ({module} not installed): " \
        f"pip install -e '.[{extra}]' in the labctl clone" in err


def test_to_xarray_without_its_extra_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    import importlib.util
    from labctl.extras import MissingExtra
    from labctl.rundata import read_run
    real = importlib.util.find_spec
    with Store(tmp_path / "runs.sqlite") as store:
        store.record(store.begin_run("x", {}, {}), "a", np.zeros(3))
        data = read_run(store, 1)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "xarray" else real(name, *a))
    with pytest.raises(MissingExtra, match=r"pip install 'labctl\[xarray\]'"):
        data.to_xarray()


def test_a_monitor_on_a_busy_port_says_so_in_one_line(tmp_path, capsys) -> None:
    import socket
    store = tmp_path / "runs.sqlite"
    Store(store).close()
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["monitor", "--store", str(store), "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (f"labctl monitor: cannot listen on 127.0.0.1 port {port}: Address "
                                                   "already in use (another monitor? choose one with --port N)\n")


@pytest.mark.parametrize("seconds, text", [(3e9, "95.1 years"), (0.0225, "22.5 ms"), (90, "1.5 min"), (2.5, "2.5 s"),
                                           (7200, "2 h"), (0, "0 s"), (4e-7, "400 ns")])
def test_durations_read_in_the_unit_that_fits(seconds, text) -> None:
    from labctl.units import duration
    assert duration(seconds) == text


def test_a_dry_run_of_a_long_bake_gives_its_bench_time_in_years(tmp_path, capsys) -> None:
    assert main(["run", "retention", "--dry-run", "--points", "3", "--store", str(tmp_path / "runs.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "sends temperature     403 .. 423 K  (limit 0 .. 423.15 K)" in out
    assert re.search(r"estimated duration: 95\.\d years of bench time", out)
