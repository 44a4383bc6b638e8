"""read-bias-scan: a procedure of your own, written as a plan and registered through an entry point.

It programs a random matrix, then reads the same input vectors at several
MAC read biases and records each column's mean TDC code: how far the
readout's windows move with the read bias.  Everything it does to the bench
is a message it yields (``labctl.plan``): the engine checks the parameters,
rehearses the plan on the bench's simulated twin against the safety limits,
then carries out each message and stores each record the moment it is
yielded.  Nothing here knows whether the chip is real or simulated.

Install this folder (``pip install examples/custom_procedure``) and
``labctl procedures`` lists it; ``labctl run read-bias-scan --vectors 100``
runs it; ``labctl runs plot ID`` redraws its figure.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from labctl.plan import Call, Context, Plan, Progress, Read, Record, Set
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import ensure_powered, program, random_signs


def plot_scan(data: RunData) -> Any:
    """Mean code of every column against read bias (drawn from the stored records, also by `runs plot`)."""
    biases, codes = np.array(data.all("read_bias")), np.array(data.all("mean_code"))    # (n,), (n, 64)
    fig, ax = figure(1, 1, 6, 4)
    ax.plot(biases, codes, color="tab:blue", alpha=0.25, linewidth=0.8)
    ax.plot(biases, codes.mean(axis=1), "o-", color="black", label="mean of the columns")
    ax.set_xlabel("MAC read bias, V")
    ax.set_ylabel("mean TDC code")
    ax.set_title("read-bias scan")
    ax.legend()
    return fig


@procedure(plots=(plot_scan,))
def read_bias_scan(
    biases: Annotated[list[float], Param("MAC read biases across a column", "V", 0.05, 2.0)] = (0.2, 0.25, 0.3),
    vectors: Annotated[int, Param("random input vectors read at each bias", low=1, high=100_000)] = 500,
) -> Plan:
    """mean TDC code of every column against the MAC read bias"""
    context = yield Context()                      # the run's seed and seeded generator
    yield from ensure_powered()
    nominal = yield Read("chip.read_bias")
    yield from program(random_signs(context.seed))
    x = context.rng.choice([-1.0, 1.0], size=(vectors, 64))
    means = []
    try:
        for k, bias in enumerate(biases):
            yield Set("chip.read_bias", bias)      # checked against the board's range before it is sent
            codes = yield Call("chip.mac_batch", x)
            means.append(codes.mean(axis=0))
            yield Record("read_bias", bias, "V")
            yield Record("mean_code", means[-1], "code", "mean TDC code of each column", ("column",))
            yield Progress("read-bias-scan", k + 1, len(biases))
    finally:
        yield Set("chip.read_bias", nominal)       # leave the chip as it was found, also after Ctrl-C
    slope = np.polyfit(biases, np.mean(means, axis=1), 1)[0] if len(biases) > 1 else float("nan")
    return {"codes_per_volt": float(slope), "vectors": vectors}
