"""Procedures on the simulated bench: they recover the simulated chip's own parameters."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.bench import default_bench, load_bench, write_served_bench_file
from labctl.engine import execute
from labctl.procedure import ParameterError
from labctl.registry import get
from labctl.rundata import read_run
from labctl.store import Store
from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer
from sim_chip.die import HEALTHY
from labctl.stubs import checkerboard
from procedures.endurance import weibull
from sim_chip.energy import mac_energy_per_vector


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.sqlite") as s:
        yield s


def run(name: str, params: dict, bench, store, seed: int = 1):
    result = execute(get(name), params, bench, store, seed=seed)
    assert result.status == "completed"
    data = read_run(store, result.run_id)
    return result.summary, {name: data.array(name) if name != "summary" else data.summary for name in data.records}


def test_write_verify_leaves_only_defective_cells(store) -> None:
    with default_bench(4) as bench:
        summary, records = run("write-verify", {"matrix_seed": 2}, bench, store)
        die = bench.world.chip.die
    defective_cells = int((die.defect != HEALTHY).any(axis=2).sum())
    assert summary["bit_errors"] <= defective_cells
    assert summary["clocks"] >= 192 and summary["pulses"] >= 128
    assert summary["write_energy_J"] > 0
    assert records["errors_after_pass"][-1] == summary["bit_errors"]


def test_write_verify_reads_a_weights_file_and_refuses_a_bad_one(store, tmp_path) -> None:
    good, bad = tmp_path / "w.npy", tmp_path / "bad.npy"
    w = np.where(np.arange(4096).reshape(64, 64) % 3 == 0, -1, 1).astype(np.int8)
    np.save(good, w)
    np.save(bad, np.zeros((64, 64)))
    with default_bench(4) as bench:
        _, records = run("write-verify", {"weights_file": str(good)}, bench, store)
        assert np.array_equal(records["weights"], w)
        with pytest.raises(ParameterError, match="must hold a 64 x 64 array of -1/\\+1"):
            execute(get("write-verify"), {"weights_file": str(bad)}, bench, store)


def test_array_map_recovers_the_die_resistances(store) -> None:
    with default_bench(5) as bench:
        summary, records = run("array-map", {}, bench, store)
        die = bench.world.chip.die
    low = die.r_fet[:, :, 0] + die.r_p[:, :, 0]          # left branches in P: the low state mapped
    high = die.r_fet[:, :, 1] + die.r_ap[:, :, 1]
    assert summary["r_low_mean_ohm"] == pytest.approx(low.mean(), rel=0.01)
    assert summary["r_high_mean_ohm"] == pytest.approx(high.mean(), rel=0.01)
    assert summary["r_low_sigma_ohm"] == pytest.approx(1.6e3, rel=0.2)   # paper: 1.6 kOhm
    assert summary["r_high_sigma_ohm"] == pytest.approx(2.0e3, rel=0.2)  # paper: 2.0 kOhm
    healthy = (die.defect == HEALTHY).all(axis=2)
    error = records["margin_weight_plus"].T[healthy] - (high - low)[healthy]
    assert abs(error.mean()) < 200 and error.std() < 1.2e3      # SMU read noise: ~0.1 % of 830 kOhm


def test_mac_transfer_calibrates_and_the_table_is_reusable(store) -> None:
    with default_bench(6) as bench:
        first = execute(get("mac-transfer"), {"repeats": 4}, bench, store, seed=1)
        assert first.summary["mac_error_std"] < 3.0 and abs(first.summary["mac_error_mean"]) < 0.2
        assert first.summary["undecoded"] == 0
        again, _ = run("mac-transfer", {"repeats": 2, "calibration_run": first.run_id}, bench, store)
        assert again["mac_error_std"] < 3.5
        with pytest.raises(ParameterError, match="has 6 windows, this run 4"):
            execute(get("mac-transfer"), {"windows": 4, "calibration_run": first.run_id}, bench, store)
        with pytest.raises(ParameterError, match="there is no run 9999"):
            execute(get("mac-transfer"), {"calibration_run": 9999}, bench, store)


def test_energy_recovers_the_model_energy_per_mac(store) -> None:
    with default_bench(7) as bench:
        summary, _ = run("energy", {"vectors": 500_000}, bench, store)
        params = bench.world.chip.params
    expected = mac_energy_per_vector(0.25, 0.9, params)
    assert summary["energy_per_vector_J"] == pytest.approx(expected, rel=0.02)
    assert summary["tops_per_watt"] == pytest.approx(8192 / expected / 1e12, rel=0.02)


def test_the_same_procedures_give_the_same_data_over_sockets(store, tmp_path) -> None:
    """In process and over pyvisa-py/pyserial sockets: the same die, the same seeds, the same bits."""
    with default_bench(9) as bench:
        local_wv = run("write-verify", {}, bench, store)[1]
        local_mt = run("mac-transfer", {"repeats": 1, "windows": 6}, bench, store)[1]
    world = World(9)
    with BenchServer(world, pty=False) as server:
        resources = server.resources()
        path = tmp_path / "bench.toml"
        write_served_bench_file(path, resources)
        with load_bench(path) as remote:
            wire_wv = run("write-verify", {}, remote, store)[1]
            wire_mt = run("mac-transfer", {"repeats": 1, "windows": 6}, remote, store)[1]
    assert np.array_equal(local_wv["read"], wire_wv["read"])
    assert np.array_equal(local_mt["calibration"], wire_mt["calibration"], equal_nan=True)


def test_switching_probability_fit_recovers_vc0_and_delta(store) -> None:
    with default_bench(8, smu="test_mtj") as bench:
        summary, records = run("switching-probability", {}, bench, store)
        truth = bench.world.chip.test_mtj._v
    assert summary["vc0_V"] == pytest.approx(truth["vc0_p_to_ap"], rel=0.02)
    assert summary["delta"] == pytest.approx(truth["delta"], rel=0.06)
    p = records["probability"]
    assert summary["vc0_se_V"] < 0.01 and summary["delta_se"] < 3
    assert p.shape == (3, 15) and p[:, 0].max() < 0.5 and p[:, -1].min() > 0.5
    # longer pulses switch at lower voltage (thermal regime)
    v50 = [np.interp(0.5, row, v) for row, v in zip(p, records["mtj_voltages"])]
    assert v50[0] > v50[1] > v50[2]


def test_rv_loop_fit_recovers_tmr_and_its_bias_dependence(store) -> None:
    with default_bench(8, smu="test_mtj") as bench:
        summary, _ = run("rv-loop", {}, bench, store)
        truth = bench.world.chip.test_mtj._v
        vh = bench.world.chip.params.device.v_half_tmr
    assert summary["tmr0"] == pytest.approx(truth["r_ap"] / truth["r_p"] - 1, rel=0.02)
    assert summary["vh_V"] == pytest.approx(vh, rel=0.05)
    assert 0 < summary["v_switch_p_to_ap_V"] < truth["vc0_p_to_ap"] * 1.02   # thermally assisted at 20 ms
    assert -truth["vc0_ap_to_p"] * 1.02 < summary["v_switch_ap_to_p_V"] < 0


def test_read_disturb_grows_with_bias(store) -> None:
    with default_bench(8) as bench:
        summary, records = run("read-disturb", {}, bench, store)
    flips = records["flips"]
    assert flips[0] == 0 and flips[1] == 0                        # nominal and 0.3 V: nothing
    assert np.all(np.diff(flips) >= 0) and flips[-1] > 1000       # 0.55 V: most susceptible cells


def test_retention_fit_recovers_thermal_stability(store) -> None:
    from sim_chip import physics
    with default_bench(8) as bench:
        summary, _ = run("retention", {}, bench, store)
        chip = bench.world.chip
        assert bench.world.thermo.range[1] == 0                     # heater off at the end
    truth_25 = chip.die.delta_retention
    for temp in (403, 413, 423):
        truth = physics.thermal_stability(truth_25, float(temp), chip.params.device).mean()
        assert summary[f"delta_{temp}K"] == pytest.approx(truth, rel=0.02)
        assert summary[f"delta_cv_{temp}K"] == pytest.approx(truth_25.std() / truth_25.mean(), abs=0.015)
    assert summary["delta_at_25C"] == pytest.approx(truth_25.mean(), rel=0.03)


def test_retention_refuses_a_bake_above_the_temperature_ceiling(store) -> None:
    from instruments.errors import SafetyLimitError
    with default_bench(8) as bench:
        with pytest.raises(SafetyLimitError, match="temperature = 473"):
            execute(get("retention"), {"temperatures": "423,473"}, bench, store)
        assert bench.world.thermo.setpoint[1] == pytest.approx(298.15)


def test_endurance_breakdown_statistics_follow_the_model(store) -> None:
    from sim_chip import physics
    with default_bench(9) as bench:
        summary, records = run("endurance", {"max_cycles": 3e9, "points": 8}, bench, store)
        chip = bench.world.chip
    from sim_chip import array_physics
    d, dev = chip.die, chip.params.device
    w = checkerboard()
    hazard = np.zeros((64, 64, 2))                                # per cycle, per MTJ: both writes of a cycle
    for weights in (-w, w):
        target = np.stack([weights < 0, weights > 0], axis=2)     # AP on the side the weight makes high
        v_mtj, _ = array_physics.write_bias(d, slice(None), target, ~target, np.zeros((64, 64, 2), bool), 1.6,
                                            298.15, chip.params)
        hazard += physics.breakdown_rate(v_mtj, dev) / 11.1e6
    healthy = (d.defect == HEALTHY).all(axis=2)
    expected = np.array([(-np.expm1(-hazard.sum(axis=2) * n))[healthy].sum() * summary["cells"] / healthy.sum()
                         for n in records["cycles"]])               # cells failed by each read-back
    assert np.all(np.abs(records["broken_cells"] - expected) < 5 * np.sqrt(expected) + 2)
    (beta, _), _ = weibull(records["cycles"], expected / summary["cells"])
    assert summary["weibull_beta"] == pytest.approx(beta, abs=3 * summary["weibull_beta_se"] + 0.05)
    assert np.all(np.diff(records["broken_cells"]) >= 0)
    tmr = records["column_tmr"]                                  # start, then after every step
    assert len(tmr) == len(records["cycles"]) + 1
    assert 0 < summary["weibull_beta_se"] < 0.3
    assert tmr[0] == pytest.approx(1.0, abs=0.15)                # (26 - 13) / 13 kOhm
    assert tmr[-1] != tmr[0]                                     # shorts moved it (up or down: P or AP side)


def test_endurance_stress_voltage_is_limit_checked(store) -> None:
    from instruments.errors import SafetyLimitError
    with default_bench(9) as bench:
        with pytest.raises(SafetyLimitError, match="vwrite = 2"):
            execute(get("endurance"), {"stress_voltage": 2.0}, bench, store)


def test_an_interrupted_endurance_run_resumes_where_it_stopped(store, monkeypatch) -> None:
    endurance = get("endurance")
    calls = {"n": 0}
    with default_bench(9) as bench:
        original = bench.chip.cycle_writes

        def cycle_then_interrupt(weights, cycles):
            calls["n"] += 1
            if calls["n"] == 4:
                raise KeyboardInterrupt
            original(weights, cycles)

        monkeypatch.setattr(bench.chip, "cycle_writes", cycle_then_interrupt)
        first = execute(endurance, {"max_cycles": 1e8, "points": 8}, bench, store, seed=1)
        assert first.status == "aborted"
        kept = read_run(store, first.run_id)
        assert len(kept.all("failed_cells")) == 3                 # the read-backs before the interruption
        monkeypatch.setattr(bench.chip, "cycle_writes", original)
        resumed = execute(endurance, {}, bench, store, resume=first.run_id)
    assert resumed.status == "completed" and resumed.summary["cycles"] == 10**8
    data = read_run(store, resumed.run_id)
    assert len(data.all("failed_cells")) == len(data.all("cycles")) == 8
    assert data.all("failed_cells")[:3] == kept.all("failed_cells")
    assert len(data.last("broken_cells")) == 8


def test_a_served_die_refabricated_gives_a_second_client_the_first_ones_results(store, tmp_path) -> None:
    from labctl.cli import main
    world = World(9)
    with BenchServer(world, pty=False) as server:
        path = tmp_path / "bench.toml"
        write_served_bench_file(path, server.resources(), die_seed=9)
        with load_bench(path) as remote:
            first = run("write-verify", {"matrix_seed": 3}, remote, store)[1]
            run("write-verify", {"matrix_seed": 3}, remote, store)            # the die has been written
        assert main(["sim", "reset", "--bench", str(path)]) == 0
        assert world.now == 0.0 and not world.supply.outputs_on
        with load_bench(path) as remote:
            second = run("write-verify", {"matrix_seed": 3}, remote, store)[1]
    assert np.array_equal(first["read"], second["read"])
    assert list(first["errors_after_pass"]) == list(second["errors_after_pass"])
    starts = [info.provenance["bench_time_at_start"] for info in store.runs()[-3:]]
    assert starts[0] == starts[2] < starts[1]                  # the second client started where the first did
