"""twin-fit: the characterisation set a digital twin is fitted from, each step a child run.

What a bench can measure depends on where its SMU is wired (one place per
session): on the test pad it maps the array (``array-map``), and the run
adds the readout's delays and noise (``readout-delays``) and the rail
currents (``energy``), none of which needs the SMU; on the test MTJ it runs
``rv-loop`` and ``switching-probability``.  A full twin takes one session of
each; ``labctl twin fit`` runs both on the built-in bench, and on a lab's
bench takes one bench file per wiring.  The fit itself (:mod:`labctl.twin.fit`)
reads only the stored runs.

``quick`` maps 16 columns (fewer averages), runs energy on fewer vectors
and switching-probability with fewer widths, points and pulses: every
parameter stays identified, the array's and the test MTJ's standard errors
about twice as wide.  The readout's reads and the R-V loop are as cheap as
they are informative (well under a second each), so quick keeps their full
sizes (with half the loop's points Vh's error, estimated from 8 residual
degrees of freedom, was itself too uncertain to trust).
"""

from __future__ import annotations

from typing import Annotated

from labctl.plan import Checkpoint, Context, Plan, RunContext, SubRun
from labctl.procedure import Param, procedure
from labctl.registry import get
from labctl.stubs import ensure_powered

#: (procedure, full parameters, quick parameters) of each wiring's steps
PAD_STEPS = (
    ("array-map", {"columns": 64, "average": 4}, {"columns": 16, "average": 2}),
    ("readout-delays", {"reads": 2000}, {"reads": 2000}),
    ("energy", {"vectors": 200_000}, {"vectors": 20_000, "batch": 10_000}),
)
MTJ_STEPS = (
    ("rv-loop", {}, {}),
    ("switching-probability", {"v_min": 0.15, "v_max": 0.6, "span": 0.06, "points": 15, "trials": 100,
                               "widths": [1e-6, 1e-5, 1e-4]},
     {"v_min": 0.15, "v_max": 0.6, "span": 0.06, "points": 9, "trials": 50, "widths": [1e-6, 1e-4]}),
)


def steps(context: RunContext, quick: bool) -> list[tuple[str, dict]]:
    """The child runs this bench can run: its SMU wiring's set, less what lacks an instrument it needs."""
    chosen = MTJ_STEPS if context.has("smu", "test_mtj") else PAD_STEPS
    return [(name, quick_params if quick else full) for name, full, quick_params in chosen
            if all(context.has(role, wired_to) for role, wired_to in get(name).needs.items())]


def report(summary: dict) -> list[str]:
    done = [name for name in summary if isinstance(summary[name], dict) and "run_id" in summary[name]]
    return [f"{name:22s} run {summary[name]['run_id']}" for name in done] + [
        "fit these runs: labctl twin fit --from-run <this run>"]


@procedure(report=report, resumes="after each child run")
def twin_fit(
    quick: Annotated[bool, Param("the smaller characterisation set (16 columns, fewer reads and pulses)")] = False,
) -> Plan:
    """characterisation for a digital twin (array map, readout, energy; or the test MTJ), each a child run"""
    yield from ensure_powered()
    context = yield Context()
    summary = context.resume or {}
    for name, parameters in steps(context, quick):
        if name not in summary:
            summary[name] = yield SubRun(name, parameters, key=name)
            yield Checkpoint(summary)
    summary["wiring"] = getattr(context.wiring, "smu", "test_pad")
    return summary
