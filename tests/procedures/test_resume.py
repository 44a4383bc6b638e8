"""Every procedure that says it resumes does: stopped after a checkpoint and resumed, its run holds the
records an uninterrupted run holds, the ones stored before the checkpoint exactly as they were."""

from __future__ import annotations

import pytest

from labctl.bench import default_bench
from labctl.engine import execute
from labctl.registry import procedures
from labctl.store import Store

from .test_interrupts import PARENTS
from .test_plans import SHORT, SMU, replayable

RESUMABLE = sorted(name for name, p in procedures().items() if p.resumes)


class StopAfterCheckpoint(Store):
    """Stops the run as Ctrl-C would at the first record stored after the top run's ``n``-th checkpoint (that
    record is kept in the aborted run, and must not be carried over)."""

    def __init__(self, path, n: int) -> None:
        super().__init__(path)
        self.n, self.armed = n, False

    def checkpoint(self, run_id: int, state: dict) -> None:
        super().checkpoint(run_id, state)
        if self.run(run_id).parent is None:
            self.n -= 1
            self.armed = self.armed or self.n == 0

    def record(self, run_id: int, name: str, value, meta=None, **kwargs) -> None:
        super().record(run_id, name, value, meta, **kwargs)
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt


def names(store: Store, run_id: int) -> list[str]:
    return [name for name, _ in store.records(run_id)]


def test_the_long_procedures_resume() -> None:
    assert {"array-map", "demo", "endurance", "read-disturb", "retention", "switching-probability"} <= set(RESUMABLE)


@pytest.mark.parametrize("name", RESUMABLE)
def test_a_resumed_run_holds_the_records_of_an_uninterrupted_one(name, tmp_path) -> None:
    procedure, params, smu = procedures()[name], SHORT[name], SMU.get(name, "test_pad")
    with Store(tmp_path / "reference.sqlite") as store, default_bench(4, smu=smu) as bench:
        reference = execute(procedure, params, bench, store, seed=2, rehearse_first=False, draw_figures=False)
        expected = names(store, reference.run_id)
        expected_children = [store.run(c).procedure for c in store.run_ids(parent=reference.run_id)]
    with StopAfterCheckpoint(tmp_path / "runs.sqlite", 1) as store, default_bench(4, smu=smu) as bench:
        first = execute(procedure, params, bench, store, seed=2, rehearse_first=False, draw_figures=False)
        assert first.status == "aborted"
        kept = list(store.records(first.run_id, through_checkpoint=True))
        assert len(kept) < len(list(store.records(first.run_id))) or procedure.name in PARENTS
        resumed = execute(procedure, {}, bench, store, resume=first.run_id, draw_figures=False)
        assert resumed.status == "completed" and store.run(resumed.run_id).resumed_from == first.run_id
        assert names(store, resumed.run_id) == expected
        carried = list(store.records(resumed.run_id))[:len(kept)]
        assert [(n, replayable(v)) for n, v in carried] == [(n, replayable(v)) for n, v in kept]
        children = [store.run(c).procedure for run in (first.run_id, resumed.run_id)
                    for c in store.run_ids(parent=run) if store.run(c).status == "completed"]
        assert children == expected_children
