"""RunEngine plans on the bench's devices (:mod:`labctl.bluesky.devices`), with labctl's safety rules.

:func:`write_voltage_scan` is ``bluesky.plans.scan`` of the write-verify detector against V_WRITE.
Its set points are checked against the bench's safety limits when the RunEngine starts it, before
any message reaches the bench; the bench is powered up through its own sequence, and however the
plan ends (done, failed, stopped or aborted after a Ctrl-C) every output is turned off.  Any other
plan is checked the same way with ``bluesky.simulators.check_limits(plan)`` (every settable signal is
``Checkable``).  ``RE.subscribe(StoreWriter(store))`` (:mod:`labctl.bluesky.ingest`) stores the run
so that ``labctl runs show`` and the monitor show it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.plans as bp
import bluesky.preprocessors as bpp
import numpy as np

from .devices import MX64Bench


def bench_metadata(bench: MX64Bench) -> dict:
    """What a run's start document says of the bench, as labctl's provenance does: its source, whether
    it is the simulated twin, its limits, and every instrument's and the chip's identity."""
    link = bench.link
    found: dict[str, Any] = {"bench": {"source": link.config.source, "simulated_twin": bool(link.simulated),
                                       "limits": dataclasses.asdict(link.config.limits)}}
    if link.bench is not None:
        found["identities"] = link.bench.identities()
    return found


def outputs_off(bench: MX64Bench) -> Generator[Any, Any, None]:
    """Rails down, every output off."""
    yield from bps.mv(bench.power, False)


def powered(bench: MX64Bench, plan: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """``plan`` on the powered bench, every output off afterwards whatever happens."""
    def inner() -> Generator[Any, Any, Any]:
        yield from bps.mv(bench.power, True)
        return (yield from plan)

    return (yield from bpp.finalize_wrapper(inner(), outputs_off(bench)))


def write_voltage_scan(bench: MX64Bench, start: float, stop: float, num: int, md: dict | None = None) -> \
        Generator[Any, Any, Any]:
    """Bit errors of a write-verify at ``num`` V_WRITE values from ``start`` to ``stop`` (V): at each, the
    matrix's complement then the matrix written, verified and the errors counted.  A set point beyond
    the bench's limits refuses the plan before anything is sent."""
    for volts in np.linspace(start, stop, num):
        bench.rails.vwrite.check_now(float(volts))
    scan = bp.scan([bench.write_verify], bench.rails.vwrite, start, stop, num,
                   md={"plan_name": "write-voltage-scan", **bench_metadata(bench), **(md or {})})
    return (yield from powered(bench, scan))
