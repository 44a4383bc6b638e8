"""A session on the chip: what the layers run on one chip share, the bench's energy meter, the conditions, and
``chip_session``, the plan every network procedure runs the chip in.

Everything goes through plan messages to the chip interface and the bench's
supply (never the model), so the same code runs on the simulated and the
real bench.  On a bench with a supply, work is metered between two current
readings of every rail (``labctl.stubs.averaged_currents``): its energy is
the rails' power above the idle power, measured once when the session opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchspec.mx64 import RAILS, TDC_CODES
from labctl.plan import Call, Context, Plan, Read, Record
from labctl.stubs import averaged_currents, ensure_powered, idle

from .pipeline import Pipeline
from .readout import CalibrationKey, TileCalibration, Windows

IDLE_WINDOW_S = 0.05              # bench time of the idle current window that gives the idle power, s
NOMINAL_TEMPERATURE_K = 298.15    # the chip model's reference (25 degC), recorded on a bench without a thermometer


@dataclass(frozen=True)
class Meter:
    """The bench supply's rail readings: targets of the current readings, rail volts, idle power (W)."""

    channels: dict[str, str]
    volts: dict[str, float]
    idle_watts: float

    def joules(self, amps: dict[str, float], seconds: float) -> float:
        """Energy (J) above idle of a window with average rail currents ``amps`` over ``seconds``."""
        return (sum(self.volts[r] * amps[r] for r in RAILS) - self.idle_watts) * seconds


def open_meter() -> Plan:
    """A Meter on the bench's supply (rail volts, then an idle window), or None on a bench without one."""
    context = yield Context()
    if "supply" not in context.roles:
        return None
    channel = {rail: f"supply.ch{context.wiring.channel(rail)}" for rail in RAILS}
    volts = {}
    for rail in RAILS:
        volts[rail] = float((yield Read(f"{channel[rail]}.measure_voltage")))
    channels = {rail: f"{channel[rail]}.measure_current" for rail in RAILS}
    amps, seconds, _ = yield from averaged_currents(channels, idle(IDLE_WINDOW_S))
    return Meter(channels, volts, sum(volts[r] * amps[r] for r in RAILS))


def metered(meter: Meter | None, work: Plan) -> Plan:
    """Run ``work``; (energy above idle in J, or None without a meter; chip clocks it took; its result)."""
    before = yield Read("chip.cycle_counter")
    if meter is None:
        joules, result = None, (yield from work)
    else:
        amps, seconds, result = yield from averaged_currents(meter.channels, work)
        joules = meter.joules(amps, seconds)
    return joules, int((yield Read("chip.cycle_counter")) - before), result


def measure_conditions() -> Plan:
    """What a measurement on the chip holds under: die, clock (Hz), read bias (V), temperature (K) (a dict)."""
    identity = yield Call("chip.identify")
    context = yield Context()
    if context.has("thermo"):
        kelvin, source = float((yield Read("thermo.temperature"))), "Lake Shore sensor A"
    else:
        kelvin, source = NOMINAL_TEMPERATURE_K, "nominal (no thermometer on the bench)"
    return {"die": identity.die_id, "clock_hz": float((yield Read("chip.clock_hz"))),
            "read_bias_V": float((yield Read("chip.read_bias"))),
            "temperature_K": kelvin, "temperature_source": source}


@dataclass
class Costs:
    """What the runs of a session cost the chip: tiles programmed, calibration reads of a tile's calibration
    vectors (each vector read once per window) and the vectors they streamed, chip clocks, energy (J; None: no
    supply)."""

    tiles_programmed: int = 0
    cells_wrong: int = 0
    calibration_reads: int = 0
    calibration_vectors: int = 0
    program_clocks: int = 0
    calibration_clocks: int = 0
    inference_clocks: int = 0
    inference_vectors: int = 0
    program_joules: float | None = None
    calibration_joules: float | None = None
    inference_joules: float | None = None

    def add(self, phase: str, clocks: int, joules: float | None) -> None:
        setattr(self, f"{phase}_clocks", getattr(self, f"{phase}_clocks") + clocks)
        if joules is not None:
            setattr(self, f"{phase}_joules", (getattr(self, f"{phase}_joules") or 0.0) + joules)


@dataclass
class Session:
    """What the layers run on one chip share: the windows it holds and held at the start, each column's
    delay at MAC 0 (s), the energy meter, calibrations to reuse (filled as tiles are calibrated), the reading
    pipeline (pipeline.py), the costs so far, and the conditions measured when it opened (``chip_session``)."""

    windows: Windows
    original: tuple[np.ndarray, np.ndarray]
    zero_mac_times: np.ndarray
    meter: Meter | None
    reuse: dict[CalibrationKey, TileCalibration] = field(default_factory=dict)
    pipeline: Pipeline = field(default_factory=Pipeline)
    costs: Costs = field(default_factory=Costs)
    conditions: dict[str, Any] = field(default_factory=dict)
    #: die-level tables by TDC setting (pipeline without per-tile tables): (windows, 64, 16) MAC from the centre
    die_tables: dict[tuple[float, int], np.ndarray] = field(default_factory=dict)


def open_session(pipeline: Pipeline | None = None,
                 reuse: dict[CalibrationKey, TileCalibration] | None = None) -> Plan:
    """A Session on the chip as it is: its windows now (the power-up window is centred on each column's
    MAC 0, docs/chip_model.md) and the supply's idle power."""
    starts, lsbs = (yield Read("chip.tdc_start")), (yield Read("chip.tdc_lsb"))
    starts, lsbs = np.asarray(starts, float), np.asarray(lsbs, float)
    meter = yield from open_meter()
    return Session(Windows(starts, lsbs), (starts, lsbs), starts + TDC_CODES / 2 * lsbs, meter, dict(reuse or {}),
                   pipeline or Pipeline())


def close_session(session: Session) -> Plan:
    """Put back the windows the chip held when the session opened."""
    yield from session.windows.set(*session.original)


def chip_session(work: Callable[[Session], Plan], conditions: dict[str, Any] | None = None,
                 pipeline: Pipeline | None = None) -> Plan:
    """The chip part of a network procedure: power the chip up, record ``conditions`` (the measured ones,
    ``measure_conditions``, plus the given entries), open a Session (carrying them), run ``work(session)``
    and close the session whatever happens.  Returns (conditions, what ``work`` returned).  A resumed run
    measures them again but keeps the interrupted run's record of them."""
    yield from ensure_powered()
    measured = {**(yield from measure_conditions()), **(conditions or {})}
    kept = (yield Context()).kept
    if kept is None or "conditions" not in kept:        # a resumed run has them from the interrupted one
        yield Record("conditions", measured)
    session = yield from open_session(pipeline)
    session.conditions = measured
    try:
        result = yield from work(session)
    finally:
        yield from close_session(session)
    return measured, result
