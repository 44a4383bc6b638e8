"""Energy of each operation, by circuit block, and the charge it draws from each supply rail.

Array energies follow from the physics and the readout circuit of
:mod:`sim_chip.readout`; the periphery from the circuit inputs of
:class:`EnergyParameters`.  Every joule is booked on the rail that delivers
it, as charge Q = E / V_rail, so that a simulated supply can report the
average current over its own aperture as dQ/dt, and on the circuit block
that spends it.

MAC read of one vector (all on VDD):

* row drivers: each row whose input differs from the previous vector's
  charges one of its two gate lines, C_row VDD^2 per toggle (the other line
  discharges to ground);
* column lines: the read bias comes from VDD through a linear regulator; a
  column draws the charge that its line holds when its comparator decides,
  plus what the reference sink takes until then (the decision releases the
  driver: self-timed): VDD (Q_j + I_ref,j t_j).  ``lumped``: the line's
  capacitance is the sense node, Q_j = C_j V_th,j (its trip level).
  ``ladder``: every chain node n holds c_n V_n(t) with
  V_n(t) = V_n,inf (1 - exp(-t/tau_n)), V_n,inf = V_r - I_ref R_{<=n} and
  tau_n = sum_{k<=n} r_k C_below(k) its Elmore time constant (the sense
  node's is the R_eff C of the delay law), linearised about the column's
  delay at its mean branch resistances;
* comparators: each comparator's input pair is biased from the MAC's start
  to its decision, VDD I_tail t_j, I_tail = 2 gm / (gm/I_D) (the gm that
  sets its noise, :mod:`sim_chip.readout`);
* TDC: LSBs are counted from each column's window start.  A shared start
  line of delay stages one start-DAC step each (1/64 ns) runs from the MAC
  start to the latest window start, VDD^2 C_stage per stage; each column's
  gated ring oscillator (M stages, period one LSB, every stage rising once a
  period) runs from its window start until its comparator decides or its
  4-bit counter saturates, and its ripple counter toggles ~2 flip-flops a
  count: (M C_stage + 2 C_ff) VDD^2 per counted LSB (the last partial
  period, under one LSB, left out); a conversion resets the counter and
  copies it to the output register, 2 x 4 C_ff VDD^2;
* control: one clock of clocking and decoders.

Rails: ``vdd`` (core: read bias, TDCs, drivers, control, sense amplifiers),
``vddio`` (I/O), ``vwrite`` (write drivers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchspec.mx64 import COLUMNS, RAILS, ROWS, TDC_BITS, TDC_START_STEP

from .parameters import ChipParameters
from .readout import comparator_bias_current, comparator_delay, column_delay, nominal_column, readout_circuit

#: Circuit blocks; "write" draws from V_WRITE, every other block from VDD (static: per rail).
BLOCKS = ("row_drivers", "column_lines", "comparators", "tdc", "control", "write", "verify", "static")
MACS_PER_VECTOR = ROWS * COLUMNS
COUNTER_TOGGLES_PER_COUNT = 2.0  #: flip-flop toggles per count of a binary ripple counter (1 + 1/2 + 1/4 + ...)


def chain_charge(r_rows: np.ndarray, v_read: float, threshold: float, reference_current: float, charging: float,
                 params: ChipParameters) -> tuple[float, float]:
    """(charge Q in C, dQ/dt in A) on a column's line when it has charged for ``charging`` s, for row
    resistances ``r_rows`` (64,) in ohm (module docstring: the sense node at V_th for ``lumped``, every
    chain node for ``ladder``)."""
    r = params.readout
    c, c_cmp = r.line_capacitance_per_cell, r.comparator_capacitance
    if r.topology == "lumped":
        return (ROWS * c + c_cmp) * threshold, 0.0
    below = c * (ROWS - np.arange(ROWS)) + c_cmp                       # capacitance at and below node n
    tau = np.cumsum(r_rows * below)                                     # Elmore time constant of node n
    v_inf = v_read - reference_current * np.cumsum(r_rows)
    c_node = np.full(ROWS, c)
    c_node[-1] += c_cmp
    decay = np.exp(-charging / tau)
    return float(np.sum(c_node * v_inf * -np.expm1(-charging / tau))), float(np.sum(c_node * v_inf * decay / tau))


@dataclass(frozen=True)
class MacEnergy:
    """Energy coefficients of MAC reads at one VDD and readout setting, J (per second: W)."""

    per_toggle: float            #: one row input toggle
    lines_per_vector: float      #: all columns' line charge at their reference delays (less the slope part)
    lines_per_second: np.ndarray  #: (64,) per second of each column's delay: the sink and the line's slope
    comparators_per_second: float  #: per second of a column's delay: one comparator's bias
    tdc_per_vector: float        #: the start line and 64 conversions
    tdc_per_lsb: float           #: one counted LSB: ring period and counter toggles
    per_clock: float             #: control

    @classmethod
    def at(cls, vdd: float, column_capacitance: np.ndarray, threshold: np.ndarray, reference_current: np.ndarray,
           rows: np.ndarray, starts: np.ndarray, v_read: float, temperature: float,
           params: ChipParameters) -> MacEnergy:
        """Coefficients for the rail VDD (V), the columns' sense capacitances (F), trip levels (V) and sink
        currents (A), their mean row resistances ``rows`` (64, 64) in ohm (row, column), the effective TDC
        starts (64,) in s, the read bias (V) and the temperature (K)."""
        e, r = params.energy, params.readout
        v2 = vdd**2
        if r.topology == "lumped":
            lines0 = float(np.sum(column_capacitance * threshold))
            slope = np.zeros(COLUMNS)
        else:
            weights = (r.line_capacitance_per_cell * (ROWS - np.arange(ROWS)) + r.comparator_capacitance) \
                / (ROWS * r.line_capacitance_per_cell + r.comparator_capacitance)
            lines0, slope = 0.0, np.zeros(COLUMNS)
            t_cmp = comparator_delay(temperature, params)
            for j in range(COLUMNS):
                r_col = rows[:, j].sum()
                t_j = float(column_delay(r_col, (weights * rows[:, j]).sum(), column_capacitance[j], v_read,
                                         temperature, params, threshold[j], reference_current[j]))
                charging = min(t_j, 1.0 / params.defaults.clock_hz) - t_cmp
                q, dq = chain_charge(rows[:, j], v_read, threshold[j], reference_current[j], charging, params)
                lines0 += q - dq * t_j
                slope[j] = dq
        start_line = max(float(np.max(starts)), 0.0) / TDC_START_STEP * e.tdc_stage_capacitance * v2
        conversion = 2 * TDC_BITS * e.tdc_flipflop_capacitance * v2
        return cls(e.row_driver_capacitance * v2, vdd * lines0, vdd * (reference_current + slope),
                   vdd * comparator_bias_current(params), start_line + COLUMNS * conversion,
                   (e.tdc_ring_stages * e.tdc_stage_capacitance + COUNTER_TOGGLES_PER_COUNT
                    * e.tdc_flipflop_capacitance) * v2, e.control_energy_per_clock)

    def blocks(self, vectors: int, toggles: float, counted_lsbs: float, delays: np.ndarray) -> dict[str, float]:
        """Energy by block of ``vectors`` reads with that many input toggles and counted LSBs, and each
        column's delays summed over the reads (64,) in s."""
        return {"row_drivers": self.per_toggle * toggles,
                "column_lines": self.lines_per_vector * vectors + float(self.lines_per_second @ delays),
                "comparators": self.comparators_per_second * float(np.sum(delays)),
                "tdc": self.tdc_per_vector * vectors + self.tdc_per_lsb * counted_lsbs,
                "control": self.per_clock * vectors}


def mac_energy_breakdown(v_read: float, vdd: float, params: ChipParameters, toggles: float = 32.0,
                         mean_code: float = 7.5) -> dict[str, float]:
    """Expected energy by block of one MAC vector, J, on a nominal die at 25 degC.

    Defaults describe uniformly random inputs (half the rows toggle) with
    the power-up TDC window centred on MAC = 0 (mean code 7.5); the column
    delay is taken at MAC = 0.
    """
    d = params.device
    circuit = readout_circuit(params)
    c = np.full(COLUMNS, circuit.capacitance)
    threshold, i_ref = np.full(COLUMNS, circuit.threshold), np.full(COLUMNS, circuit.reference_current)
    rows = np.full((ROWS, COLUMNS), d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))
    r_mid = nominal_column(params, 0.0)
    delay = float(column_delay(r_mid, circuit.mean_weight * r_mid, circuit.capacitance, v_read, d.t_ref, params))
    starts = np.full(COLUMNS, delay - 2 ** (params.readout.tdc_bits - 1) * params.defaults.tdc_lsb)
    energy = MacEnergy.at(vdd, c, threshold, i_ref, rows, starts, v_read, d.t_ref, params)
    return energy.blocks(1, toggles, COLUMNS * mean_code, np.full(COLUMNS, delay))


def mac_energy_per_vector(v_read: float, vdd: float, params: ChipParameters, toggles: float = 32.0,
                          mean_code: float = 7.5) -> float:
    """Expected energy of one MAC vector, J (see :func:`mac_energy_breakdown`)."""
    return sum(mac_energy_breakdown(v_read, vdd, params, toggles, mean_code).values())


def efficiency(joules_per_vector: float) -> dict[str, float]:
    """Energy per binary MAC (J) and TOPS/W counting a MAC as 2 operations and as 1."""
    per_mac = joules_per_vector / MACS_PER_VECTOR
    return {"energy_per_mac_J": per_mac, "tops_per_watt_2ops": 2.0 / per_mac / 1e12,
            "tops_per_watt_1op": 1.0 / per_mac / 1e12}


class MacTally:
    """MAC reads not yet booked on the meter: vectors, toggled row inputs, counted LSBs, column delays.

    A single read leaves its input and codes as bytes; their toggles and
    LSBs are counted in bulk (:meth:`count_singles`), every few thousand
    reads and before a booking.
    """

    SINGLES = 4096    #: single reads kept before they are counted

    def __init__(self) -> None:
        self.units = np.zeros(COLUMNS)     #: (64,) delays (before jitter) summed per column, code units
        self._inputs: list[bytes] = []     # the row drivers' state before the first single read, then each input
        self._codes: list[bytes] = []
        self.clear()

    def clear(self) -> None:
        self.vectors = 0
        self.toggles = 0
        self.counted = 0
        self.units[:] = 0.0
        self._inputs.clear()
        self._codes.clear()

    def add_single(self, before: np.ndarray, x: np.ndarray, codes: np.ndarray) -> None:
        """One read of input x (64,) int8, the row drivers at ``before``, that gave ``codes`` (64,) uint8."""
        if not self._inputs:
            self._inputs.append(before.tobytes())
        self._inputs.append(x.tobytes())
        self._codes.append(codes.tobytes())
        self.vectors += 1
        if len(self._codes) >= self.SINGLES:
            self.count_singles()

    def count_singles(self) -> None:
        """Add the kept single reads' toggled inputs and counted LSBs to the tally."""
        if self._codes:
            inputs = np.frombuffer(b"".join(self._inputs), np.int8).reshape(len(self._inputs), -1)
            self.toggles += int(np.count_nonzero(inputs[1:] != inputs[:-1]))
            self.counted += int(np.frombuffer(b"".join(self._codes), np.uint8).sum(dtype=np.int64))
            self._inputs.clear()
            self._codes.clear()


@dataclass
class EnergyMeter:
    """Cumulative charge per rail (C), energy per rail and per block (J), and the last operation's energy."""

    charge: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RAILS, 0.0))
    energy: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RAILS, 0.0))
    blocks: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BLOCKS, 0.0))
    last_operation: str = ""
    last_energy: float = 0.0

    def book(self, operation: str, block_joules: dict[str, float], rail_volts: dict[str, float],
             seconds: float, params: ChipParameters) -> None:
        """Record one operation's energy by block (each on its rail) and the static draw over its ``seconds``."""
        self.static(seconds, rail_volts, params)
        total = 0.0
        blocks = self.blocks
        for block, joules in block_joules.items():
            blocks[block] += joules
            total += joules
        on_vwrite = block_joules.get("write", 0.0)
        for rail, joules in (("vdd", total - on_vwrite), ("vwrite", on_vwrite)):
            if joules:
                self.energy[rail] += joules
                if rail_volts[rail] > 0:
                    self.charge[rail] += joules / rail_volts[rail]
        self.last_operation, self.last_energy = operation, total

    def static(self, seconds: float, rail_volts: dict[str, float], params: ChipParameters) -> None:
        """Leakage and bias currents for ``seconds`` of powered time."""
        e = params.energy
        for rail, amps in (("vdd", e.static_current_vdd), ("vddio", e.static_current_vddio)):
            self.charge[rail] += amps * seconds
            self.energy[rail] += amps * seconds * rail_volts[rail]
            self.blocks["static"] += amps * seconds * rail_volts[rail]
