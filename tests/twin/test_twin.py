"""The digital twin: fit from stored runs, the twin file and its maps, recovery of served parameters, the check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, chi2

from labctl.bench import builtin_config
from labctl.params_file import ParamsFileError, read_params_file
from labctl.rundata import read_run
from labctl.store import Store
from labctl.twin.check import drawn_twin, run_check
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
    """Three dies with every fitted parameter drawn within its stated range (labctl.twin.recovery), quick fits.

    The issue's target, at least 95 % of the parameters within two standard errors, is what honest errors
    give on average (95.4 %); on 39 parameters the observed fraction itself scatters by +-3.4 %, so a test
    of it asks whether the outliers are more than a 95 % coverage makes plausible (binomial, 1 % level), and
    whether the errors are honest both ways (mean z^2 within its chi-square 99 % interval) with no
    parameter far out (a bias).  benchmarks/twin.py reports the fraction over its full fits.
    """
    rng = np.random.default_rng(2801)
    store = Store(tmp_path / "runs.sqlite")
    scores = []
    for k in range(3):
        truth = random_parameters(rng)
        write_params(tmp_path / f"die{k}.toml", truth)
        fit = fit_runs(store, characterise(builtin_benches(40 + k, tmp_path / f"die{k}.toml"), store, quick=True))
        scores += list(standard_scores(fit, truth).values())
    z = np.array(scores)
    n = len(z)
    assert n >= 36
    assert (np.abs(z) > 2.0).sum() <= binom.ppf(0.99, n, 0.05)
    assert chi2.ppf(0.005, n) / n < np.mean(z**2) < chi2.ppf(0.995, n) / n
    assert np.abs(z).max() < 4.5


def test_check_passes_a_right_twin_and_fails_one_with_its_read_noise_thirty_percent_off(tmp_path) -> None:
    """The datasheet's die against twins of its own parameters on other dies: the right one passes both MAC
    comparisons with margin; one with comparator_noise_gamma 30 % high fails the error spread's band by a
    wide margin, the read noise named as the likely cause, stored as a failed comparison."""
    store = Store(tmp_path / "runs.sqlite")
    verdicts = {}
    for name, text in (("right", ""), ("wrong", "[readout]\ncomparator_noise_gamma = 1.3\n\n")):
        (tmp_path / f"{name}.toml").write_text(text + "[twin]\nseed = 2028\n")
        results, run_id = run_check(builtin_config(1, "test_mtj"), tmp_path / f"{name}.toml", store, quick=True,
                                    comparisons=("mac_errors",))
        verdicts[name] = ({r.name: r for r in results}, read_run(store, run_id).summary)
    right, _ = verdicts["right"]
    assert right["mac_errors"].distance < 0.5 * right["mac_errors"].band
    assert right["mac_error_rms"].distance < 0.7 * right["mac_error_rms"].band
    wrong, summary = verdicts["wrong"]
    rms = wrong["mac_error_rms"]
    assert not rms.passed and rms.distance > 1.5 * rms.band and "comparator_noise_gamma" in rms.likely_cause
    assert summary["failed"] == ["mac_error_rms"]


def test_the_checks_extra_twin_dies_draw_the_fitted_parameters_from_their_errors(twin, tmp_path) -> None:
    """drawn_twin: every fitted parameter ~ N(value, stderr^2) across draws, the maps and the twin's seed kept."""
    _, _, fit, _, path = twin
    copy = tmp_path / "twin.toml"
    copy.write_text(path.read_text())
    given = read_params_file(copy)
    draws = [read_params_file(drawn_twin(copy, k)) for k in range(1, 31)]
    for name, e in fit.estimates.items():
        z = np.array([(d.overrides[name] - e.value) / e.stderr for d in draws])
        assert abs(z.mean()) < 0.6 and 0.6 < z.std() < 1.4, name
    assert draws[0].twin["seed"] == given.twin["seed"]
    assert np.array_equal(draws[0].maps.r_p, given.maps.r_p, equal_nan=True)
    assert np.array_equal(draws[0].maps.comparator_offset, given.maps.comparator_offset, equal_nan=True)
