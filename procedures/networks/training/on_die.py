"""The offline commands' access to a chip: a session on one die of the built-in simulated bench.

The selection commands (select_vgg8, select_faces) measure candidates on a
die as the procedures do, through the networks' chip runtime; this opens
the bench, powers the chip and opens a session, and runs plans on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from labctl.bench import default_bench
from labctl.engine import run_direct
from labctl.plan import Plan
from labctl.stubs import ensure_powered

from ..chip.session import Session, open_session


def _powered_session() -> Plan:
    yield from ensure_powered()
    return (yield from open_session())


@contextmanager
def die_session(die: int) -> Iterator[tuple[Callable[[Plan], Any], Session]]:
    """(run, session) on die ``die`` of the built-in simulated bench: ``run(plan)`` carries a plan out there."""
    with default_bench(die) as bench:
        def run(plan: Plan) -> Any:
            return run_direct(plan, bench)

        yield run, run(_powered_session())
