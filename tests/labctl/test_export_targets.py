"""An export never destroys data: not the run store, not a file it did not write, not half a file."""

from __future__ import annotations

import os

import h5py
import pytest

from labctl.bench import default_bench
from labctl.cli import main
from labctl.engine import execute
from labctl.export import export_csv, export_hdf5
from labctl.export_target import ExportError
from labctl.registry import get
from labctl.store import Store

FORMATS = ("hdf5", "csv")


@pytest.fixture()
def store_folder(tmp_path):
    """A folder holding a run store with one short run, and a file of the user's."""
    folder = tmp_path / "lab"
    folder.mkdir()
    with Store(folder / "runs.sqlite") as store, default_bench(2) as bench:
        run_id = execute(get("write-verify"), {"matrix_seed": 3}, bench, store, seed=1, draw_figures=False).run_id
    (folder / "notes.txt").write_text("the user's own file")
    return folder, run_id


def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-shm", "-wal"))}


def export(folder, run_id, fmt, output, force=True):
    return main(["runs", "export", str(run_id), "--store", str(folder / "runs.sqlite"), "--format", fmt,
                 "--output", str(output)] + (["--force"] if force else []))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["the store file", "the store's folder", "a folder with other files",
                                  "a symlink to the store", "a symlink to the store's folder", "another database"])
def test_force_never_replaces_a_store_or_a_file_labctl_did_not_write(store_folder, tmp_path, capsys, fmt, kind):
    folder, run_id = store_folder
    other = tmp_path / "other"
    other.mkdir()
    (other / "data.bin").write_bytes(b"precious")
    (other / "run.json").write_text("{}")
    database = tmp_path / "other.sqlite"
    with Store(database):
        pass
    target = {"the store file": folder / "runs.sqlite", "the store's folder": folder,
              "a folder with other files": other, "a symlink to the store": tmp_path / "link.h5",
              "a symlink to the store's folder": tmp_path / "link", "another database": database}[kind]
    if kind == "a symlink to the store":
        target.symlink_to(folder / "runs.sqlite")
    if kind == "a symlink to the store's folder":
        target.symlink_to(folder)
    before, others, db = snapshot(folder), snapshot(other), database.read_bytes()
    assert export(folder, run_id, fmt, target) == 2
    err = capsys.readouterr().err
    assert err.startswith("labctl runs: cannot export to") and err.count("\n") == 1 and "choose" in err
    assert snapshot(folder) == before and snapshot(other) == others and database.read_bytes() == db
    with Store(folder / "runs.sqlite", read_only=True) as store:
        assert store.run(run_id).status == "completed"
    assert not [p for p in tmp_path.rglob(".*partial*")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_force_replaces_an_earlier_export_and_only_with_force(store_folder, tmp_path, capsys, fmt):
    folder, run_id = store_folder
    target = tmp_path / "export"
    assert export(folder, run_id, fmt, target, force=False) == 0
    assert export(folder, run_id, fmt, target, force=False) == 2
    assert "an earlier export is there (use --force to replace it)" in capsys.readouterr().err
    assert export(folder, run_id, fmt, target) == 0
    assert target.is_dir() == (fmt == "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "lab"]     # no temporary left


def test_a_csv_export_with_a_file_added_by_hand_is_not_replaced(store_folder, tmp_path, capsys):
    folder, run_id = store_folder
    target = tmp_path / "export"
    assert export(folder, run_id, "csv", target) == 0
    (target / "my_analysis.py").write_text("print(1)")
    assert export(folder, run_id, "csv", target) == 2
    assert "my_analysis.py" in capsys.readouterr().err and (target / "my_analysis.py").exists()


@pytest.mark.parametrize("exporter, name", [(export_hdf5, "run.h5"), (export_csv, "run")])
def test_a_crash_mid_export_leaves_no_half_file_and_the_earlier_export_intact(store_folder, tmp_path, monkeypatch,
                                                                              exporter, name):
    folder, run_id = store_folder
    target = tmp_path / name
    with Store(folder / "runs.sqlite", read_only=True) as store:
        exporter(store, run_id, target)
        earlier = snapshot(target) if target.is_dir() else target.read_bytes()

        def crash(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(store, "files", crash)
        with pytest.raises(ExportError, match="No space left on device"):
            exporter(store, run_id, target, force=True)
    assert (snapshot(target) if target.is_dir() else target.read_bytes()) == earlier
    assert sorted(os.listdir(tmp_path)) == ["lab", name]


def test_a_parent_run_is_exported_with_its_children(tmp_path):
    with Store(tmp_path / "runs.sqlite") as store:
        parent = store.begin_run("demo", {}, {})
        child = store.begin_run("write-verify", {}, {}, parent=parent)
        store.record(child, "bit_errors", 3, {"unit": "bits"})
        store.record(child, "note", "ok")
        export_hdf5(store, parent, tmp_path / "demo.h5")
        export_csv(store, parent, tmp_path / "demo")
    with h5py.File(tmp_path / "demo.h5") as f:
        assert list(f.attrs["children"]) == [child]
        assert f[f"children/run-{child}/records/bit_errors"][()] == 3
    assert '"ok"' in (tmp_path / "demo" / f"run-{child}" / "values.csv").read_text()
    assert (tmp_path / "demo" / f"run-{child}" / "bit_errors.csv").read_text().endswith("3\n")
