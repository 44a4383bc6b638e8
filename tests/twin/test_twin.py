"""The digital twin: fit from stored runs, the twin file and its maps, recovery of served parameters, the check."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.bench import builtin_config
from labctl.params_file import ParamsFileError, read_params_file
from labctl.rundata import read_run
from labctl.store import Store
from labctl.twin.check import run_check
from labctl.twin.fit import fit_runs
from labctl.twin.recovery import random_parameters, standard_scores, write_params
from labctl.twin.workflow import builtin_benches, characterise, fit_and_write


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """A quick characterisation of the built-in bench (die 1, both wirings), fitted and written."""
    folder = tmp_path_factory.mktemp("twin")
    store = Store(folder / "runs.sqlite")
    ids = characterise(builtin_benches(1), store, quick=True)
    fit, fit_run, path = fit_and_write(store, ids, folder / "twin.toml")
    yield store, ids, fit, fit_run, path
    store.close()


def test_the_twin_file_is_a_params_file_with_errors_provenance_and_the_fit_a_stored_run(twin) -> None:
    store, ids, fit, fit_run, path = twin
    given = read_params_file(path)
    assert set(given.overrides) == set(fit.estimates) and len(fit.estimates) == 13
    for name, e in fit.estimates.items():
        assert given.overrides[name] == e.value and given.stderr[name] == e.stderr > 0
    assert given.twin["runs"] == ids and given.twin["fit_run"] == fit_run and given.twin["die"].startswith("MX64-")
    assert given.twin["labctl_version"] and given.twin["not_identified"]
    data = read_run(store, fit_run)
    assert store.run(fit_run).procedure == "twin-estimate"
    record = data.last("device.r_p_mean")
    assert record["value"] == fit.estimates["device.r_p_mean"].value and record["source_runs"] == [fit.runs["array-map"]]
    refit = fit_runs(store, ids)                                  # --from-run: the same runs, the same twin
    assert {n: e.value for n, e in refit.estimates.items()} == {n: e.value for n, e in fit.estimates.items()}


def test_a_die_built_from_the_twins_maps_holds_its_measured_resistances_exactly(twin) -> None:
    store, _, fit, _, path = twin
    maps = read_params_file(path).maps
    measured = ~np.isnan(maps.r_p)
    assert 0.15 < measured.mean() < 0.26                         # the 16 columns of a quick map, less defects
    with builtin_config(2028, params=path).open() as bench:
        die = bench.world.chip.die
    assert np.array_equal(die.r_p[measured], maps.r_p[measured])
    assert np.array_equal(die.r_ap[measured], maps.r_ap[measured])
    assert np.array_equal(die.comparator_offset, maps.comparator_offset)
    # the map's branches give every clean column's measured sum of P branches (weights +1) exactly
    array_map = read_run(store, fit.runs["array-map"])
    low = np.asarray(array_map.all("column_low_sum_plus"))
    for j in np.flatnonzero(measured[:, :, 0].all(axis=0)):
        assert (die.r_fet[:, j, 0] + die.r_p[:, j, 0]).sum() == pytest.approx(low[j], rel=1e-12)


def test_bad_maps_in_a_parameter_file_are_refused_naming_the_key(tmp_path) -> None:
    for text, message in (("[maps]\nr_pp = [1.0]\n", "unknown map maps.r_pp \\(did you mean 'r_p'\\?\\)"),
                          ("[maps]\ncomparator_offset = [0.001, 0.002]\n", "shape \\(2,\\), expected \\(64,\\)"),
                          ("[maps]\nr_p = 3\n", "shape"),
                          ("maps = 3\n", "\\[maps\\] must be a table")):
        path = tmp_path / "bad.toml"
        path.write_text(text)
        with pytest.raises(ParamsFileError, match=message):
            read_params_file(path)


def test_random_served_parameters_are_recovered_within_two_standard_errors(tmp_path) -> None:
    """Two dies with every fitted parameter drawn within its stated range (labctl.twin.recovery)."""
    rng = np.random.default_rng(2801)
    store = Store(tmp_path / "runs.sqlite")
    scores = []
    for k in range(2):
        truth = random_parameters(rng)
        write_params(tmp_path / f"die{k}.toml", truth)
        fit = fit_runs(store, characterise(builtin_benches(40 + k, tmp_path / f"die{k}.toml"), store, quick=True))
        scores += list(standard_scores(fit, truth).values())
    scores = np.abs(np.array(scores))
    assert len(scores) >= 18
    assert np.mean(scores <= 2.0) >= 0.85 and scores.max() < 6


def test_check_fails_for_a_twin_with_one_parameter_thirty_percent_off(tmp_path) -> None:
    """The datasheet's die with R_P's spread 30 % wide as its twin: the MAC error histogram leaves its band, the
    read margin named as the likely cause, stored as a failed comparison."""
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[device]\nr_p_sigma = 2070.9\n\n[twin]\nseed = 2028\n")
    store = Store(tmp_path / "runs.sqlite")
    results, run_id = run_check(builtin_config(1, "test_mtj"), wrong, store, quick=True, comparisons=("mac_errors",))
    (mac,) = results
    assert not mac.passed and mac.distance > 0.05 and "r_p_sigma" in mac.likely_cause
    summary = read_run(store, run_id).summary
    assert summary["failed"] == ["mac_errors"]
