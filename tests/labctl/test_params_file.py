"""Chip-model parameter files: any subset of the dotted names, checked before anything starts, served and used."""

from __future__ import annotations

import pytest

from labctl.bench import builtin_config, load_bench, write_served_bench_file
from labctl.cli import main
from labctl.params_file import ParamsFileError, read_params_file
from labctl.store import Store
from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer

TWIN = """
[device]
r_p_mean = 11500.0
r_p_mean_stderr = 85.0
delta_mean = 55

[twin]
bench = "bench.toml"
runs = [3, 4, 5]
"""


@pytest.fixture()
def twin(tmp_path):
    path = tmp_path / "twin.toml"
    path.write_text(TWIN)
    return path


def test_a_twin_file_gives_overrides_their_standard_errors_and_provenance(twin) -> None:
    given = read_params_file(twin)
    assert given.overrides == {"device.r_p_mean": 11500.0, "device.delta_mean": 55.0}
    assert given.stderr == {"device.r_p_mean": 85.0} and given.twin["runs"] == [3, 4, 5]
    params = given.parameters()
    assert params.device.r_p_mean == 11500.0 and params.device.delta_mean == 55.0


@pytest.mark.parametrize("text, message", [
    ("[device]\nr_p_maen = 3.0\n", "unknown parameter device.r_p_maen (did you mean 'device.r_p_mean'?); valid: "
                                   "device.r_fet_mean"),
    ("[devise]\nr_p_mean = 3.0\n", "unknown table [devise] (did you mean 'device'?)"),
    ('[device]\nr_p_mean = "11.5 kOhm"\n', "device.r_p_mean = '11.5 kOhm': expected a number in ohm"),
    ("[device]\nr_p_mean = nan\n", "expected a number in ohm"),
    ("stochastic = 3\n", "stochastic = 3: expected true or false"),
    ("[device\n", "not valid TOML"),
])
def test_a_bad_parameter_file_is_refused_naming_the_key(tmp_path, text, message) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParamsFileError) as info:
        read_params_file(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert main(["run", "write-verify", "--params", str(path), "--store", str(tmp_path / "runs.sqlite")]) == 2
    assert not (tmp_path / "runs.sqlite").exists()                       # refused before anything started


def test_sim_params_marks_what_a_file_overrides(twin, capsys) -> None:
    assert main(["sim", "params", "--params", str(twin)]) == 0
    lines = capsys.readouterr().out.splitlines()
    overridden = [line.split()[1] for line in lines if line.startswith("*")]
    assert overridden == ["device.r_p_mean", "device.delta_mean"]
    assert any(" device.r_ap_mean " in line and not line.startswith("*") for line in lines)


def test_the_built_in_bench_and_a_served_one_build_their_die_from_the_file(twin, tmp_path) -> None:
    with builtin_config(2, params=twin).open() as bench:
        assert bench.world.chip.params.device.r_p_mean == 11500.0
    world = World(2, params=read_params_file(twin).parameters())
    with BenchServer(world, pty=False) as server:
        path = tmp_path / "bench.toml"
        write_served_bench_file(path, server.resources(), die_seed=2, params=twin)
        with load_bench(path) as bench:
            assert bench.config.twin().params == twin.resolve()            # its rehearsals use the same model
    with Store(tmp_path / "runs.sqlite") as store:
        assert main(["run", "write-verify", "--params", str(twin), "--store", str(store.path)]) == 0
        assert store.run(1).provenance["chip_model"]["overrides"]["device.r_p_mean"] == 11500.0
