"""Procedures come from the ``labctl.procedures`` entry points: a lab's own package adds its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from labctl.procedure import procedure
from labctl.registry import RegistryError, get, procedures

PLUGIN = textwrap.dedent('''
    """A lab's own procedure, in its own package."""
    from typing import Annotated

    from labctl.plan import Plan, Progress, Read, Record, Set
    from labctl.procedure import Param, procedure


    @procedure(needs={"smu": "test_pad"})
    def pad_current(
        volts: Annotated[list[float], Param("voltages to apply to the test pad", "V", 0.0, 0.5)] = (0.05, 0.1),
    ) -> Plan:
        """current into the unpowered test pad at a few voltages"""
        yield Set("smu.output", True)
        for i, v in enumerate(volts):
            yield Set("smu.source_voltage", v)
            yield Record("amps", (yield Read("smu.read")), "A")
            yield Progress("pad-current", i + 1, len(volts))
        yield Set("smu.output", False)
        return {"points": len(volts)}
''')


@pytest.fixture
def installed_plugin(tmp_path):
    """A distribution on the path, as pip would leave it: its module and its dist-info with entry points."""
    (tmp_path / "mylab_sweeps.py").write_text(PLUGIN)
    info = tmp_path / "mylab_sweeps-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mylab-sweeps\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[labctl.procedures]\npad-current = mylab_sweeps:pad_current\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return env


def labctl(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labctl.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_third_party_procedure_is_listed_and_runs(installed_plugin, tmp_path) -> None:
    listing = labctl(installed_plugin, "procedures")
    assert listing.returncode == 0, listing.stderr
    assert "pad-current: current into the unpowered test pad at a few voltages\n  needs: smu on the test pad" \
        in listing.stdout
    assert "--volts" in listing.stdout and "0 .. 0.5 V; default 0.05,0.1" in listing.stdout
    store = str(tmp_path / "runs.sqlite")
    ran = labctl(installed_plugin, "run", "pad-current", "--volts", "0.1,0.2,0.3", "--store", store)
    assert ran.returncode == 0, ran.stderr
    assert "pad-current completed" in ran.stdout and "points" in ran.stdout
    refused = labctl(installed_plugin, "run", "pad-current", "--volts", "0.1,0.9", "--store", store)
    assert refused.returncode == 2 and "--volts: '0.1,0.9' is out of range" in refused.stderr


def test_labctl_itself_does_not_import_the_procedures_package() -> None:
    code = ("import sys, labctl.cli, labctl.engine, labctl.console, labctl.bench, labctl.store; "
            "print(any(m == 'procedures' or m.startswith('procedures.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_every_own_procedure_is_registered_and_described() -> None:
    found = procedures()
    assert {"write-verify", "array-map", "mac-transfer", "switching-probability", "rv-loop", "read-disturb",
            "retention", "endurance", "energy", "demo"} <= set(found)
    for proc in found.values():
        assert proc.summary and all(p.param.help for p in proc.parameters.values())


def test_unknown_and_misregistered_procedures_are_named() -> None:
    with pytest.raises(RegistryError, match="unknown procedure 'arraymap' \\(did you mean 'array-map'\\?\\)"):
        get("arraymap")
    with pytest.raises(TypeError, match="annotate it as Annotated"):
        @procedure()
        def untyped(x=1):
            yield
