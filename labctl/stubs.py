"""Small plans that procedures and the console share: power, programming, the test-pad probe, rail currents.

Each is a generator to ``yield from`` inside a plan (or to hand to
:func:`labctl.engine.run_direct` from the console).  The array patterns
are plain functions.
"""

from __future__ import annotations

import numpy as np

from .plan import Call, Context, Plan, Read, Set, Wait

#: the test multiplexer's on-resistance, ohm (datasheet-level assumption), subtracted from pad readings
MUX_OHM = 500.0


def checkerboard() -> np.ndarray:
    """A +/-1 checkerboard: every column and row holds both states."""
    rows, cols = np.indices((64, 64))
    return np.where((rows + cols) % 2 == 0, 1, -1).astype(np.int8)


def random_signs(seed: int, shape: tuple[int, ...] = (64, 64)) -> np.ndarray:
    """A seeded array of +/-1 (int8)."""
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), shape)


def ensure_powered() -> Plan:
    """Power the chip: through the bench supply if there is one, else the board's regulators."""
    if (yield Read("chip.powered")):
        return
    context = yield Context()
    yield Call("bench.power_up") if "supply" in context.roles else Call("chip.power_on")


def correct_reads(weights: np.ndarray, reads: int = 5) -> Plan:
    """How many of ``reads`` verify passes read each cell as ``weights`` (sense noise shows as < reads)."""
    count = np.zeros(weights.shape, int)
    for _ in range(reads):
        count += (yield Call("chip.verify_array")) == weights
    return count


def program(weights: np.ndarray, retries: int = 3, writes: int = 1, reads: int = 5) -> Plan:
    """Write (``writes`` times), verify, rewrite failing rows; the cells that then read right ``reads`` times
    of ``reads`` (``reads=0``: the cells the last verify read right, without further reads).

    The differential verify cannot see a cell with one MTJ unswitched whose two
    branches happen to compare the right way; writing twice makes that rare.
    """
    for _ in range(writes):
        yield Call("chip.write_array", weights)
    read = yield Call("chip.verify_array")
    for _ in range(retries):
        rows = np.flatnonzero((read != weights).any(axis=1))
        if not len(rows):
            break
        for r in rows:
            yield Call("chip.write_row", int(r), weights[r])
            read[r] = yield Call("chip.verify_row", int(r))
    if not reads:
        return read == weights
    return (yield from correct_reads(weights, reads)) == reads


def probe_on(bias: float, nplc: float, ramp: bool = False) -> Plan:
    """The SMU sourcing ``bias`` (V) into the test pad, reading current through a 1 mA limit."""
    yield Call("smu.source_voltage_measure_current", current_limit=1e-3, nplc=nplc)
    if ramp:
        yield Call("smu.ramp_voltage", bias)
    else:
        yield Set("smu.source_voltage", bias)
    yield Set("smu.output", True)


def probe_off() -> Plan:
    """SMU to zero and off, the test pad disconnected."""
    yield Call("smu.shutdown")
    yield Set("chip.test_mux", None)


def pad_ohm(x: np.ndarray, bias: float, readings: int = 1) -> Plan:
    """Resistance of the routed column (multiplexer subtracted), ohm, with inputs ``x`` held."""
    yield Set("chip.held_input", x)
    total = 0.0
    for _ in range(readings):
        total += bias / (yield Read("smu.read"))
    return total / readings - MUX_OHM


# ------------------------------------------------------------------ supply readings
def averaged_currents(channels: dict[str, str], work: Plan) -> Plan:
    """Average current of every rail (A) over ``work``, the window's length (s) and what ``work`` returned.

    ``channels`` maps a rail to the supply reading of its current
    (``supply.ch<N>.measure_current``); each reading closes one averaging
    window and opens the next.
    """
    for target in channels.values():
        yield Read(target)                     # opens the averaging window
    t0 = yield Read("bench.now")
    result = yield from work
    amps = {}
    for rail, target in channels.items():
        amps[rail] = yield Read(target)
    return amps, (yield Read("bench.now")) - t0, result


def idle(seconds: float) -> Plan:
    """Let ``seconds`` of bench time pass with the chip idle."""
    yield Wait(seconds)


#: the temperature the chuck's heater rises from (the lab's ambient), K
AMBIENT_K = 298.15
#: highest rise above ambient of the Lake Shore 336's heater ranges low and medium (above: high), K
HEATER_RANGE_RISE_K = {"low": 20.0, "medium": 80.0}


def hold_chuck_at(kelvin: float, tolerance: float = 0.5) -> Plan:
    """Bring the chuck to ``kelvin`` (K) with the smallest heater range that reaches it and wait until the die
    reads within ``tolerance`` (K).  The heater cannot cool: below ambient it is refused."""
    if kelvin < AMBIENT_K - tolerance:
        raise ValueError(f"temperature {kelvin:g} K: the chuck's heater cannot cool below ambient "
                         f"({AMBIENT_K:g} K)")
    rise = kelvin - AMBIENT_K
    heater = next((name for name, top in HEATER_RANGE_RISE_K.items() if rise <= top), "high")
    yield Set("thermo.ch1.heater_range", heater)
    yield Set("thermo.ch1.setpoint", kelvin)
    yield Call("thermo.wait_for_temperature", kelvin, tolerance=tolerance, poll=10.0)
