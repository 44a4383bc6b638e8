"""energy: continuous MAC while the supply reads the rail currents; energy per MAC and TOPS/W.

A random matrix is programmed (a readout's energy depends on the data: an
unwritten array reads every column at the same code), then an idle window
and a busy window of random inputs, of equal chip time, each between two
current readings of every rail (the supply averages the current over the
window): the dynamic energy of the MACs is the busy energy less the idle
power over the same time.  Ops are counted as two per binary MAC (a
multiply and an add).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np

from benchspec.mx64 import COLUMNS, RAILS, ROWS
from labctl.plan import Call, Context, Plan, Progress, Read, Record
from labctl.plotting import figure
from labctl.procedure import Param, procedure
from labctl.rundata import RunData
from labctl.stubs import averaged_currents, ensure_powered, idle

OPS_PER_VECTOR = 2 * ROWS * COLUMNS   # a multiply and an add per binary MAC


def plot_energy(data: RunData) -> Any:
    idle, busy = data.last("idle_amps"), data.last("busy_amps")
    fig, ax = figure(1, 1, 6, 4)
    pos = np.arange(len(RAILS))
    ax.bar(pos - 0.2, [idle[r] * 1e6 for r in RAILS], 0.4, label="idle")
    ax.bar(pos + 0.2, [busy[r] * 1e6 for r in RAILS], 0.4, label="continuous MAC")
    ax.set_xticks(pos, RAILS)
    ax.set_ylabel("average current, uA")
    ax.set_title("rail currents")
    ax.legend()
    return fig


def _mac_loop(x: np.ndarray, vectors: int, batch: int) -> Plan:
    done = 0
    while done < vectors:
        n = min(batch, vectors - done)
        yield Call("chip.mac_batch", x[:n])
        done += n
        yield Progress("energy", done, vectors)


@procedure(needs={"supply": None}, plots=(plot_energy,), rehearsal="nominal")
def energy(
    vectors: Annotated[int, Param("MAC vectors in the busy window", low=1000, high=100_000_000)] = 1_000_000,
    batch: Annotated[int, Param("vectors per MAC command", low=100, high=65536)] = 50_000,
) -> Plan:
    """continuous MAC with supply current readings: energy per MAC vector, TOPS/W"""
    yield from ensure_powered()
    context = yield Context()
    channels = {rail: f"supply.ch{context.wiring.channel(rail)}.measure_current" for rail in RAILS}
    volts = {}
    for rail in RAILS:
        volts[rail] = yield Read(f"supply.ch{context.wiring.channel(rail)}.measure_voltage")
    yield Record("rail_volts", volts, "V")
    yield Call("chip.write_array", context.rng.choice(np.array([-1, 1], np.int8), (ROWS, COLUMNS)))
    busy_s = vectors / (yield Read("chip.clock_hz"))
    idle_amps, _, _ = yield from averaged_currents(channels, idle(busy_s))
    yield Record("idle_amps", idle_amps, "A", "average rail currents while idle")
    x = context.rng.choice(np.array([-1, 1], np.int8), (batch, ROWS))
    busy_amps, busy_window_s, _ = yield from averaged_currents(channels, _mac_loop(x, vectors, batch))
    yield Record("busy_amps", busy_amps, "A", "average rail currents during continuous MAC")
    power_busy = sum(volts[r] * busy_amps[r] for r in RAILS)
    power_idle = sum(volts[r] * idle_amps[r] for r in RAILS)
    per_vector = (power_busy - power_idle) * busy_window_s / vectors
    return {"energy_per_vector_J": per_vector, "energy_per_mac_J": per_vector / (ROWS * COLUMNS),
            "tops_per_watt": OPS_PER_VECTOR / per_vector / 1e12 if per_vector > 0 else float("nan"),
            "busy_power_W": power_busy, "idle_power_W": power_idle, "busy_seconds": busy_window_s}
