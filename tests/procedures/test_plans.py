"""Every procedure as a plan: its dry-run checks exactly what a real run sends, read from the
instruments' command transcripts (the manuals' command syntax, not the drivers' code)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from labctl.bench import default_bench
from labctl.engine import execute
from labctl.plotting import footer, with_footer
from labctl.registry import procedures
from labctl.rundata import read_run
from labctl.store import Store
from tests.bluesky_bridge.checks import check_documents
from tests.figure_layout import overlapping_texts
from tests.networks.conv_nets import small_perceptron, small_vgg

#: the VGG-8's and the perceptron's shapes with 19 and 14 tiles instead of 150 and 112 (the shipped
#: networks are tested in tests/networks)
_NETWORKS = Path(tempfile.mkdtemp(prefix="labctl-plans-"))
SMALL_VGG, SMALL_PERCEPTRON = small_vgg(_NETWORKS / "small_vgg.npz"), small_perceptron(_NETWORKS / "perceptron.npz")
#: short runs of every procedure, and the SMU wiring each needs
SHORT = {
    "write-verify": {},
    "array-map": {"columns": 3, "average": 1},
    "mac-transfer": {"repeats": 1, "windows": 2},
    "switching-probability": {"widths": "1e-5,1e-4", "points": 5, "trials": 10},
    "rv-loop": {"step": 0.05},
    "read-disturb": {"biases": "0.1,0.5", "reads": 3},
    "retention": {"temperatures": "383,403", "points": 4, "bake_time": 1e4},
    "endurance": {"max_cycles": 1e6, "points": 3},
    "energy": {"vectors": 20_000, "batch": 5_000},
    "demo": {"columns": 3, "vectors": 20_000, "repeats": 1},
    "mac-errors": {"matrices": 2, "vectors": 400},
    "mnist-perceptron": {"network_file": str(SMALL_PERCEPTRON), "images": 20, "calibration_images": 20},
    "vgg8-emulation": {"network": str(SMALL_VGG), "images": 20, "model_images": 1, "validation_images": 2,
                       "calibration_images": 4, "calibration_vectors": 128, "generic_vectors": 128},
    "face-detection": {"calibration_patches": 64, "test_patches": 96, "stride": 25},
    "calibration-drift": {"network_file": str(SMALL_PERCEPTRON), "images": 20, "calibration_images": 20,
                          "hold_times": "60", "temperature_steps": "0,10"},
    "readout-delays": {"reads": 32},
    "twin-fit": {"quick": True},
}
SMU = {"switching-probability": "test_mtj", "rv-loop": "test_mtj"}
RAIL_OF_CHANNEL = {"1": "vdd", "2": "vddio", "3": "vwrite"}

#: (role, command pattern, limit) from the instruments' programming manuals
LIMITED_COMMANDS = [
    ("supply", r"VOLT(?:age)? ([-+\d.eE]+),\(@(\d)\)", "rail"),
    ("supply", r"CURR(?:ent)? ([-+\d.eE]+),\(@(\d)\)", "rail_current"),
    ("smu", r":?SOUR:VOLT ([-+\d.eE]+)", "smu_voltage"),
    ("smu", r":?SOUR:CURR ([-+\d.eE]+)", "smu_current"),
    ("smu", r":?SOUR:VOLT:ILIM ([-+\d.eE]+)", "smu_current"),
    ("smu", r":?SOUR:CURR:VLIM ([-+\d.eE]+)", "smu_voltage"),
    ("generator", r"SOUR\d:VOLT:(?:HIGH|LOW) ([-+\d.eE]+)", "pulse_amplitude"),
    ("generator", r"SOUR\d:FUNC:PULS:WIDT ([-+\d.eE]+)", "pulse_width"),
    ("thermo", r"SETP \d,([-+\d.eE]+)", "temperature"),
]


def limited_values(transcript: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """(limit, value to 9 significant digits) of every limited command sent."""
    found = set()
    for role, line in transcript:
        for pattern_role, pattern, limit in LIMITED_COMMANDS:
            match = re.fullmatch(pattern, line.strip()) if role == pattern_role else None
            if match:
                name = RAIL_OF_CHANNEL[match.group(2)] if limit == "rail" else limit
                found.add((name, f"{float(match.group(1)):.9g}"))
    return found


def record_commands(world) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for role, device in world.instruments().items():
        def logged(line, role=role, original=device.handle_line):
            lines.append((role, line))
            return original(line)

        device.handle_line = logged
    return lines


def test_every_registered_procedure_has_a_short_run_here() -> None:
    assert set(SHORT) == set(procedures())


def replayable(value: object) -> object:
    """A record as a seed must reproduce it: without wall times and run ids (which the store assigns)."""
    if isinstance(value, dict):
        return {k: replayable(v) for k, v in value.items() if k not in ("wall_time_s", "run_id")}
    if isinstance(value, np.ndarray):
        return value.dtype.str, value.shape, value.tobytes()          # bit-identical, NaN included
    return value


def records_of_run_and_children(store: Store, run_id: int) -> list[tuple[str, object]]:
    """Every record of a run and of its child runs, in order, as :func:`replayable` gives them."""
    return [(name, replayable(value)) for run in [run_id, *store.run_ids(parent=run_id)]
            for name, value in store.records(run)]


@pytest.mark.parametrize("name", sorted(SHORT))
def test_the_dry_run_checks_exactly_what_the_run_sends_and_a_seed_replays_the_run(name, tmp_path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        with default_bench(4, smu=SMU.get(name, "test_pad")) as bench:
            sent = record_commands(bench.world)
            result = execute(procedures()[name], SHORT[name], bench, store, seed=2)
            assert result.status == "completed"
        with default_bench(4, smu=SMU.get(name, "test_pad")) as bench:       # the same die, fresh, the same seed
            again = execute(procedures()[name], SHORT[name], bench, store, seed=2, rehearse_first=False,
                            draw_figures=False)
        first, second = (records_of_run_and_children(store, r.run_id) for r in (result, again))
        check_documents(store, result.run_id, tmp_path)     # valid event-model documents, stored back the same
        data = read_run(store, result.run_id)
    assert first == second, name
    procedure = procedures()[name]
    for figure_name, plot in procedure.plots.items():             # every figure: no text over another
        fig = with_footer(plot(data), footer(data))
        assert overlapping_texts(fig) == [], f"{name}: {figure_name}"
    checked = {(limit, f"{value:.9g}") for limit, value in result.rehearsal.checks}
    assert checked == limited_values(sent)
    assert checked                                   # every procedure sets something limited (the rails at least)
