"""Campaigns on a real 2-worker Dask LocalCluster: one child run per task, results equal to each die run
alone, nothing lost or duplicated when a worker dies, interrupt and resume, failing tasks recorded."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from labctl.bench import default_bench  # noqa: E402
from labctl.campaign import CampaignSpec, run_campaign, start_client, task_seed  # noqa: E402
from labctl.campaign_plots import (Condition, draw_campaign, load_campaign, plot_distributions,  # noqa: E402
                                   plot_wafer_map, plot_yield, wafer_position, yield_by_point)
from labctl.plotting import with_footer  # noqa: E402
from labctl.cli import main  # noqa: E402
from labctl.engine import execute  # noqa: E402
from labctl.procedure import ParameterError  # noqa: E402
from labctl.registry import get  # noqa: E402
from labctl.rundata import read_run  # noqa: E402
from labctl.store import Store  # noqa: E402
from tests.figure_layout import overlapping_texts  # noqa: E402


@pytest.fixture(scope="module")
def client():
    client, cluster = start_client(None, 2)
    yield client
    client.close()
    cluster.close()


def children(store: Store, run_id: int) -> list:
    return [store.run(i) for i in store.run_ids(parent=run_id)]


def test_one_child_run_per_task_equal_to_each_die_run_alone(client, tmp_path) -> None:
    spec = CampaignSpec("write-verify", [0, 1, 2, 3], {"max_retries": 2}, {"v_write": [1.3, 1.5]}, seed=9)
    with Store(tmp_path / "runs.sqlite") as store:
        result = run_campaign(spec, store, client)
        assert result.status == "completed" and (result.completed, result.failed) == (8, 0)
        runs = children(store, result.run_id)
        assert len(runs) == 8 and all(r.status == "completed" for r in runs)
        assert sorted((r.provenance["task"]["die"], r.parameters["v_write"]) for r in runs) == \
            sorted((d, v) for d in range(4) for v in (1.3, 1.5))
        child = next(r for r in runs if r.provenance["task"] == {"die": 2, "point": {"v_write": 1.5}})
        stored = read_run(store, child.id)
    with Store(tmp_path / "alone.sqlite") as alone, default_bench(2) as bench:
        seed = task_seed(9, 2, 1)                               # die 2 at the second sweep point
        solo = execute(get("write-verify"), {"max_retries": 2, "v_write": 1.5}, bench, alone, seed=seed)
        solo_data = read_run(alone, solo.run_id)
    assert {k: v for k, v in stored.summary.items() if k != "wall_time_s"} == \
        {k: v for k, v in solo.summary.items() if k != "wall_time_s"}
    assert np.array_equal(stored.last("column_errors"), solo_data.last("column_errors"))
    assert stored.all("errors_after_pass") == solo_data.all("errors_after_pass")


def test_a_worker_that_dies_loses_nothing_and_duplicates_nothing(client, tmp_path) -> None:
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(done: int, total: int) -> None:
        if done >= 3 and not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    spec = CampaignSpec("write-verify", list(range(24)), {"max_retries": 1}, seed=4)
    with Store(tmp_path / "runs.sqlite") as store:
        result = run_campaign(spec, store, client, progress=kill_one)
        runs = children(store, result.run_id)
    assert killed and result.status == "completed"
    assert sorted(r.provenance["task"]["die"] for r in runs) == list(range(24))      # each once
    assert all(r.status == "completed" for r in runs)
    client.wait_for_workers(2, timeout=60)


def test_an_interrupted_campaign_resumes_without_repeating_tasks(client, tmp_path) -> None:
    def interrupt(done: int, total: int) -> None:
        if done >= 5:
            raise KeyboardInterrupt

    spec = CampaignSpec("write-verify", list(range(12)), {"max_retries": 1}, seed=5)
    with Store(tmp_path / "runs.sqlite") as store:
        first = run_campaign(spec, store, client, progress=interrupt)
        assert first.status == "aborted" and 5 <= first.completed < 12
        assert store.run(first.run_id).status == "aborted"
        second = run_campaign(spec, store, client)
        assert second.status == "completed" and second.done_before == first.completed
        assert second.completed == 12 - first.completed
        assert store.run(second.run_id).resumed_from == first.run_id
        data = load_campaign(store, second.run_id)
        assert sorted(t.die for t in data.tasks) == list(range(12))
        with pytest.raises(ParameterError, match="complete already"):
            run_campaign(spec, store, client)


def test_a_sweep_point_beyond_a_limit_or_a_misspelt_figure_is_refused_before_any_task(client, tmp_path) -> None:
    with Store(tmp_path / "runs.sqlite") as store:
        spec = CampaignSpec("write-verify", [0, 1], {}, {"v_write": [1.5, 1.7]}, seed=1)
        with pytest.raises(ParameterError, match="--sweep v_write=1.7: refused before the campaign starts: .*"
                                                 "vwrite = 1.7 exceeds the bench safety limit"):
            run_campaign(spec, store, client)
        spec = CampaignSpec("write-verify", [0, 1], {}, {}, seed=1, yield_if="bit_erors<0")
        with pytest.raises(ParameterError, match="'bit_erors': not a figure of write-verify's summary "
                                                 r"\(did you mean 'bit_errors'\?\); its figures: bit_errors, "):
            run_campaign(spec, store, client)
        assert store.runs() == []


def test_a_failing_task_is_recorded_and_the_rest_complete(client, tmp_path) -> None:
    spec = CampaignSpec("write-verify", [0, 1, 2], {}, {"v_write": [1.5, 1.7]}, seed=1,
                        yield_if="bit_errors<=1")             # 1.7 V: beyond the bench's 1.6 V limit
    with Store(tmp_path / "runs.sqlite") as store:
        result = run_campaign(spec, store, client, checked=True)    # as if the check had passed: tasks fail
        assert (result.completed, result.failed) == (3, 3)
        failed = [r for r in children(store, result.run_id) if r.status == "failed"]
        assert {r.parameters["v_write"] for r in failed} == {1.7}
        assert all("vwrite = 1.7 exceeds the bench safety limit" in r.detail for r in failed)
        yields = {p["v_write"]: f for p, f, _ in yield_by_point(load_campaign(store, result.run_id),
                                                                 Condition.parse("bit_errors<=1"))}
        assert yields[1.7] == 0.0 and yields[1.5] > 0
        assert draw_campaign(store, result.run_id) == []
        data = load_campaign(store, result.run_id)
        for fig in (plot_distributions(data), plot_wafer_map(data), plot_yield(data, Condition.parse("bit_errors<=1"))):
            assert overlapping_texts(with_footer(fig, "campaign run 1 · write-verify · 6 tasks · 2026-12-07 21:30")) == []
        assert {name for name, _, _ in store.files(result.run_id)} == {"distributions.png", "wafer_map.png",
                                                                      "yield.png"}


def test_the_campaign_command(tmp_path, capsys) -> None:
    store = str(tmp_path / "runs.sqlite")
    assert main(["campaign", "write-verify", "--dies", "0-3", "--sweep", "v_write=1.3,1.5", "--workers", "1",
                 "--yield-if", "bit_errors<=0", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "4 dies x 2 sweep points = 8 tasks" in out and "8 tasks completed, 0 failed" in out
    assert "% of 4 dies with bit_errors<=0  (v_write = 1.3)" in out
    assert main(["campaign", "write-verify", "--dies", "0-x", "--store", store]) == 2
    assert "--dies '0-x'" in capsys.readouterr().err
    assert main(["campaign", "write-verify", "--dies", "1", "--sweep", "v_write=1.3,9", "--store", store]) == 2
    assert "--sweep v_write: '9' is out of range" in capsys.readouterr().err
    assert main(["campaign", "write-verify", "--dies", "1", "--sweep", "v_wrte=1.3", "--store", store]) == 2
    assert "--sweep v_wrte: write-verify has no such parameter (did you mean 'v_write'?)" in capsys.readouterr().err


def test_the_wafer_grid() -> None:
    from labctl.campaign_plots import CELLS
    assert len(CELLS) == len(set(CELLS)) and 500 < len(CELLS) < 707     # < pi 150^2 / 100
    assert wafer_position(0)[0] == 0 and wafer_position(len(CELLS))[0] == 1
    assert wafer_position(len(CELLS))[1:] == wafer_position(0)[1:]
