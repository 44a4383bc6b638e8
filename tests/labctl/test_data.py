"""The store as users meet it: read-only stores, store folders, figures per store, self-describing
exports with clear refusals, and load_run for notebooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import labctl
from labctl.bench import default_bench
from labctl.cli import main
from labctl.engine import execute
from labctl.registry import get
from labctl.store import Store


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store holding a completed mac-transfer run (histogram with bin edges) and a write-verify run."""
    folder = tmp_path_factory.mktemp("store")
    path = folder / "runs.sqlite"
    with Store(path) as store, default_bench(2) as bench:
        mac = execute(get("mac-transfer"), {"repeats": 1, "windows": 2}, bench, store, seed=1).run_id
        wv = execute(get("write-verify"), {"matrix_seed": 3}, bench, store, seed=1).run_id
    return path, mac, wv


def test_a_read_only_open_writes_nothing(stored) -> None:
    path, mac, _ = stored
    before = path.read_bytes()
    with Store(path, read_only=True) as store:
        assert store.run(mac).status == "completed"
        with pytest.raises(Exception, match="opened read-only"):
            store.event(mac, "aborted")
    assert path.read_bytes() == before          # (SQLite's WAL index files may appear beside it, empty)


def test_a_store_on_a_read_only_mount_can_be_listed_shown_and_exported(stored, tmp_path) -> None:
    path, mac, _ = stored
    copy = tmp_path / "ro"
    copy.mkdir()
    (copy / "runs.sqlite").write_bytes(path.read_bytes())
    script = (f"mount --bind {copy} {copy} && mount -o remount,ro,bind {copy} || exit 77; "
              f"{sys.executable} -m labctl.cli runs list --store {copy}/runs.sqlite && "
              f"{sys.executable} -m labctl.cli runs show {mac} --store {copy}/runs.sqlite && "
              f"{sys.executable} -m labctl.cli runs export {mac} --store {copy}/runs.sqlite --output {tmp_path}/x.h5 &&"
              f"{sys.executable} -m labctl.cli runs plot {mac} --store {copy}/runs.sqlite --output {tmp_path}/figs;"
              f" {sys.executable} -m labctl.cli run write-verify --store {copy}/runs.sqlite")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    if done.returncode == 77 or "unshare" in done.stderr[:200]:
        pytest.skip(f"no private read-only mount here: {done.stderr.strip()[:200]}")
    assert "mac-transfer" in done.stdout and "exported to" in done.stdout, done.stderr
    assert (tmp_path / "figs" / "mac_transfer.png").exists()
    assert done.returncode == 2 and "not writable" in done.stderr


def test_labctl_store_may_name_a_folder(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABCTL_STORE", str(tmp_path))
    assert main(["run", "write-verify"]) == 0
    assert (tmp_path / "runs.sqlite").is_file() and (tmp_path / "runs-plots").is_dir()
    assert main(["runs", "list"]) == 0
    assert "write-verify" in capsys.readouterr().out


def test_two_stores_in_one_folder_keep_their_figures_apart(tmp_path) -> None:
    for name in ("a", "b"):
        assert main(["run", "write-verify", "--store", str(tmp_path / f"{name}.sqlite")]) == 0
    assert (tmp_path / "a-plots" / "run-1" / "write_verify.png").is_file()
    assert (tmp_path / "b-plots" / "run-1" / "write_verify.png").is_file()


def test_an_unwritable_figure_folder_keeps_the_run_completed_with_a_warning(tmp_path, capsys) -> None:
    (tmp_path / "runs-plots").write_text("a file where the figure folder would go")
    store = tmp_path / "runs.sqlite"
    assert main(["run", "write-verify", "--store", str(store)]) == 0
    captured = capsys.readouterr()
    assert "write-verify completed" in captured.out and "bit_errors" in captured.out
    assert "in the store but not written" in captured.err
    with Store(store, read_only=True) as s:
        info = s.run(1)
        assert info.status == "completed"
        assert [name for name, _, _ in s.files(1)] == ["write_verify.png"]
        assert any(status == "warning" for _, status, _ in s.events(1))


@pytest.mark.parametrize("output, message", [
    ("missing/run.h5", "{tmp}/missing does not exist"),
    ("{store}/run.h5", "runs.sqlite is a file, not a folder"),
    ("/proc/run.h5", "cannot export to /proc/run.h5"),
])
def test_exports_refuse_clearly(stored, tmp_path, capsys, output, message) -> None:
    path, mac, _ = stored
    target = output if output.startswith("/") else output.format(store=path) if "{store}" in output \
        else str(tmp_path / output)
    assert main(["runs", "export", str(mac), "--store", str(path), "--output", target]) == 2
    err = capsys.readouterr().err
    assert message.format(tmp=tmp_path) in err and "Traceback" not in err and err.count("\n") == 1


def test_hdf5_exports_describe_themselves(stored, tmp_path) -> None:
    path, mac, _ = stored
    target = tmp_path / "mac.h5"
    assert main(["runs", "export", str(mac), "--store", str(path), "--output", str(target)]) == 0
    with h5py.File(target) as f:
        assert f.attrs["procedure"] == "mac-transfer" and f.attrs["labctl_format"] == "labctl-run/2"
        assert f.attrs["started"].startswith("20") and "T" in f.attrs["started"]        # ISO 8601
        assert f["parameters"].attrs["repeats"] == 1 and f["parameters"].attrs["windows"] == 2
        assert f["provenance"].attrs["seed"] == 1
        assert "E36312A" in f["provenance"].attrs["identities.supply"]
        hist = f["records/mac_error_histogram"]
        assert hist.attrs["unit"] == "column reads" and hist.attrs["description"] == "decoded minus ideal MAC"
        edges = f["records/mac_error_bin_edges"]
        assert edges.attrs["unit"] == "MAC" and len(edges) == hist.shape[0] + 1
        assert hist.attrs["bin_edges"] == "/records/mac_error_bin_edges" and len(hist.dims[0]) == 0
        assert hist.dims[0].label == "mac_error_bin"
        calibration = f["records/calibration"]
        assert calibration.shape == (2, 64, 16) and calibration.attrs["recordings"] == 2
        assert [d.label for d in calibration.dims] == ["recording", "column", "code"]
        by_column = f["records/mac_error_by_column"]
        assert [d.label for d in by_column.dims] == ["column"]


def test_csv_exports_have_header_rows(stored, tmp_path) -> None:
    path, mac, _ = stored
    folder = tmp_path / "csv"
    assert main(["runs", "export", str(mac), "--store", str(path), "--format", "csv", "--output", str(folder)]) == 0
    lines = (folder / "mac_error_histogram.csv").read_text().splitlines()
    assert lines[:3] == ["# record mac_error_histogram", "# unit column reads", "# description decoded minus ideal MAC"]
    assert "# dimensions mac_error_bin" in lines
    values = (folder / "values.csv").read_text().splitlines()
    assert values[0] == "record,value,unit,description"
    assert json.loads((folder / "run.json").read_text())["parameters"]["windows"] == 2


def test_load_run_gives_numpy_arrays_and_an_xarray_dataset(stored, monkeypatch) -> None:
    path, mac, wv = stored
    monkeypatch.setenv("LABCTL_STORE", str(path))
    data = labctl.load_run(wv)
    assert data.info.procedure == "write-verify" and data.parameters["matrix_seed"] == 3
    assert data.last("weights").shape == (64, 64) and data.array("errors_after_pass").ndim == 1
    assert data.summary["bit_errors"] == data.array("errors_after_pass")[-1]
    dataset = labctl.load_run(mac).to_xarray()
    assert dataset["calibration"].shape == (2, 64, 16) and dataset["calibration"].attrs["unit"] == "MAC"
    assert dataset["calibration"].dims == ("recording", "column", "code")
    histogram = dataset["mac_error_histogram"]
    assert histogram.dims == ("mac_error_bin",) and histogram.attrs["unit"] == "column reads"
    centres = dataset["mac_error_bin"].values
    edges = dataset["mac_error_bin_edges"].values
    assert np.allclose(centres, (edges[1:] + edges[:-1]) / 2)
    assert dataset.attrs["procedure"] == "mac-transfer"


def test_runs_plot_draws_every_figure_again_from_the_store_alone(stored, tmp_path) -> None:
    path, mac, _ = stored
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(path.read_bytes())
    assert main(["runs", "plot", str(mac), "--store", str(copy)]) == 0
    png = tmp_path / "copy-plots" / f"run-{mac}" / "mac_transfer.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_show_says_resumed_from(tmp_path, capsys) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        first = store.begin_run("retention", {}, {})
        store.event(first, "aborted", "test")
        second = store.begin_run("retention", {}, {}, resumed_from=first)
        store.event(second, "completed")
    assert main(["runs", "show", str(second), "--store", str(tmp_path / "runs.sqlite")]) == 0
    assert f"resumed from run {first}" in capsys.readouterr().out
    assert os.path.exists(tmp_path / "runs.sqlite")


def test_runs_list_has_a_header_filters_and_says_when_nothing_matches(stored, tmp_path, capsys) -> None:
    path, mac, wv = stored
    assert main(["runs", "list", "--store", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "procedure", "status", "started", "ended", "die", "parent"]
    assert [line.split()[1] for line in lines[1:]] == ["mac-transfer", "write-verify"]
    assert main(["runs", "list", "--store", str(path), "--procedure", "write-verify"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [str(wv)]
    assert main(["runs", "list", "--store", str(path), "--status", "failed"]) == 0
    assert capsys.readouterr().out.startswith("no runs match these filters in ")
    assert main(["runs", "list", "--store", str(tmp_path / "none.sqlite")]) == 0
    assert "there is no run store at" in capsys.readouterr().out and not (tmp_path / "none.sqlite").exists()
    assert main(["runs", "list", "--store", str(path), "--since", "2026-13-01"]) == 2
    assert "--since '2026-13-01': write a date as YYYY-MM-DD" in capsys.readouterr().err


def test_runs_show_rounds_what_people_read(tmp_path, capsys) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        run = store.begin_run("mnist-perceptron", {}, {})
        store.record(run, "summary", {"gap_points": 0.9 - 1.0, "sweep": [0.1 + 0.2]})
    assert main(["runs", "show", str(run), "--store", str(tmp_path / "runs.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "gap_points               -0.1\n" in out and "[0.3]" in out


def test_runs_plot_into_a_folder_leaves_the_store_untouched(stored, tmp_path) -> None:
    path, mac, _ = stored
    before = path.read_bytes()
    assert main(["runs", "plot", str(mac), "--store", str(path), "--output", str(tmp_path / "figures")]) == 0
    assert (tmp_path / "figures" / "mac_transfer.png").read_bytes()[:4] == b"\x89PNG"
    assert path.read_bytes() == before


def test_a_closed_pipe_ends_a_read_only_command_quietly(stored) -> None:
    path, mac, _ = stored
    done = subprocess.run(f"{sys.executable} -m labctl.cli runs show {mac} --store {path} | head -1",
                          shell=True, capture_output=True, text=True, timeout=60,
                          executable="/bin/bash", env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.stdout.startswith(f"run {mac}: mac-transfer") and done.stderr == ""
    piped = subprocess.run(f"set -o pipefail; {sys.executable} -m labctl.cli procedures | head -1", shell=True,
                           capture_output=True, text=True, timeout=60, executable="/bin/bash")
    assert piped.returncode == 0 and piped.stderr == ""
