"""calibration-drift: stale tables are the tables of time zero, recalibrated ones are measured at every point, the
times and temperatures are the bench's, and the recalibration interval follows its rule."""

from __future__ import annotations

import pytest

from labctl.bench import default_bench
from labctl.engine import execute
from labctl.procedure import ParameterError
from labctl.registry import get
from labctl.rundata import read_run
from labctl.store import Store
from procedures.calibration_drift import recalibration_interval

from .test_plans import SHORT


def test_the_interval_ends_before_the_first_point_beyond_the_limit() -> None:
    points = [{"hold_s": h, "loss_points": loss, "loss_points_ci95": 0.3}
              for h, loss in ((3600, 0.7), (1, -0.3), (86400, 0.9), (6e5, 0.1))]
    assert recalibration_interval(points, 0.005) == 3600    # 0.7 - 0.3 is not beyond 0.5, 0.9 - 0.3 is: a later
    assert recalibration_interval(points, 0.01) == 6e5      # point back within does not count
    assert recalibration_interval(points[2:3], 0.005) is None


def test_stale_tables_are_reused_and_recalibrated_ones_measured(tmp_path) -> None:
    params = {**SHORT["calibration-drift"], "hold_times": "1,60", "base_temperature": 310.0}
    with Store(tmp_path / "runs.sqlite") as store, default_bench(3) as bench:
        result = execute(get("calibration-drift"), params, bench, store, seed=1, rehearse_first=False,
                         draw_figures=False)
        data = read_run(store, result.run_id)
    points = data.all("drift_point")
    assert [(p["hold_s"], p["step_K"]) for p in points] == [(0, 0), (1, 0), (1, 10), (60, 0), (60, 10)]
    for p in points:
        assert p["since_calibration_s"] >= p["hold_s"]
        assert p["temperature_K"] == pytest.approx(310.0 + p["step_K"], abs=0.5)
    reads = data.all("tile_read")
    tiles = sum(1 for r in reads if r["network"] == "calibrated" and not r["reused"])
    calibrated = [r["reused"] for r in reads if r["network"] == "calibrated"]
    assert tiles > 0 and calibrated == [False] * tiles + [True] * (len(calibrated) - tiles) and len(calibrated) == 5 * tiles
    assert [r["reused"] for r in reads if r["network"] == "recalibrated"] == [False] * 4 * tiles
    summary = result.summary
    assert set(summary["recalibration_interval_s"]) == {"+0 K", "+10 K"}
    assert summary["points"][0]["loss_points"] == 0.0            # time zero: the same pass, stale and fresh


def test_a_step_below_ambient_is_refused_before_the_run() -> None:
    with pytest.raises(ParameterError, match="base_temperature and temperature_steps: 293.15 K is below"):
        get("calibration-drift").resolve({"base_temperature": 303.15, "temperature_steps": "0,-10"})
