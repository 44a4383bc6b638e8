"""Every example in examples/ runs, as a new user would run it, on the built-in simulated bench."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labctl.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run_example(args: list[str], store: Path, extra_env: dict[str, str] | None = None,
                timeout: float = 300) -> str:
    env = {**os.environ, "LABCTL_STORE": str(store), "MPLBACKEND": "Agg", **(extra_env or {})}
    done = subprocess.run([sys.executable, *args], cwd=store.parent, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def stored_runs(store: Path) -> list:
    with Store(store, read_only=True) as opened:
        return opened.list_runs(100)[0]


def test_characterise_die(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    out = run_example([str(EXAMPLES / "characterise_die.py"), "--quick"], store)
    runs = stored_runs(store)
    assert sorted((r.procedure, r.status) for r in runs) == [
        ("array-map", "completed"), ("mac-transfer", "completed"), ("write-verify", "completed")]
    assert re.search(r"MAC error std by column: median \d+\.\d+, worst column \d+", out)


def test_switching_against_temperature(tmp_path: Path) -> None:
    store, plot = tmp_path / "runs.sqlite", tmp_path / "sw.png"
    out = run_example([str(EXAMPLES / "switching_vs_temperature.py"), "--quick", "--temperatures", "300,360",
                       "--output", str(plot)], store)
    vc0 = [float(v) for v in re.findall(r"Vc0 = ([\d.]+)", out)]
    assert len(vc0) == 2 and vc0[1] < vc0[0] - 0.02            # a warmer die switches at a lower voltage
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert [r.status for r in stored_runs(store)] == ["completed", "completed"]


def test_custom_procedure_registers_through_its_entry_point(tmp_path: Path) -> None:
    target, store = tmp_path / "site", tmp_path / "runs.sqlite"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    str(EXAMPLES / "custom_procedure")], check=True, capture_output=True, timeout=300)
    env = {"PYTHONPATH": str(target)}
    listed = run_example(["-m", "labctl.cli", "procedures"], store, env)
    assert "read-bias-scan: mean TDC code of every column against the MAC read bias" in listed
    out = run_example(["-m", "labctl.cli", "run", "read-bias-scan", "--vectors", "50", "--seed", "1"], store, env)
    assert re.search(r"run \d+: read-bias-scan completed", out)
    (run,) = stored_runs(store)
    assert run.procedure == "read-bias-scan" and run.status == "completed"
    slope = float(re.search(r"codes_per_volt\s+(-?[\d.]+)", out).group(1))
    assert slope < 0                               # a higher read bias discharges faster: lower codes
    assert (tmp_path / "runs-plots").is_dir()      # its figure was drawn from the stored records


def test_pyvisa_on_the_served_bench(tmp_path: Path) -> None:
    out = run_example([str(EXAMPLES / "pyvisa_on_served_bench.py")], tmp_path / "runs.sqlite")
    assert "KEITHLEY INSTRUMENTS,MODEL 2450" in out and "LABCTL,MX64-EVB" in out
    assert "powered: 1" in out
    assert '-222,"tdc_lsb: got 8e-09' in out
    ohms = float(re.search(r"column 5 at 0\.1 V: [\d.]+ uA, (\d+) ohm", out).group(1))
    assert 5e5 < ohms < 1.5e6                      # 64 cells in series, about 13.5 kohm each


def test_the_notebook_runs_headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LABCTL_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.delenv("LABCTL_BENCH", raising=False)
    notebook = nbformat.read(EXAMPLES / "mac_transfer.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), "commit it without outputs"
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()      # a cell that errors raises
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2      # transfer curve, error histogram
    (run,) = stored_runs(tmp_path / "runs.sqlite")
    assert (run.procedure, run.status) == ("mac-transfer", "completed")


def test_the_bluesky_notebook_runs_headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("LABCTL_STORE", str(tmp_path / "runs.sqlite"))
    notebook = nbformat.read(EXAMPLES / "bluesky.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), "commit it without outputs"
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()      # a cell that errors raises
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 1      # bit errors against V_WRITE
    text = "".join(o.get("text", "") for o in outputs)
    assert "vwrite = 1.8 exceeds the bench safety limit" in text and "bits" in text
    assert sorted((r.procedure, r.status) for r in stored_runs(tmp_path / "runs.sqlite")) == [
        ("bluesky:write-voltage-scan", "completed"), ("write-verify", "completed")]
    assert (tmp_path / "run-1.jsonl").is_file() and (tmp_path / "run-2.nc").is_file()
