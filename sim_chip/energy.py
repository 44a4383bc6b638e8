"""Energy of each operation, by circuit block, and the charge it draws from each supply rail.

Array energies follow from the physics and the readout circuit of
:mod:`sim_chip.readout`; the periphery from :class:`EnergyParameters`.
Every joule is booked on the rail that delivers it, as charge Q = E / V_rail,
so that a simulated supply can report the average current over its own
aperture as dQ/dt, and on the circuit block that spends it.

MAC read of one vector (all on VDD):

* row drivers: each row whose input differs from the previous vector's
  charges one of its two gate lines, C_row VDD^2 per toggle (the other line
  discharges to ground);
* column lines: the read bias comes from VDD through a linear regulator; a
  column draws the charge that brings its sense node to the comparator
  threshold plus what the reference sink takes until the trip, which
  releases the driver (self-timed): VDD (C_j V_th + I_ref t_j);
* comparators: one decision per column;
* TDC: a fixed cost per conversion plus one per counted LSB (the code);
* control: one clock of clocking and decoders.

Rails: ``vdd`` (core: read bias, TDCs, drivers, control, sense amplifiers),
``vddio`` (I/O), ``vwrite`` (write drivers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchspec.mx64 import COLUMNS, RAILS, ROWS

from .parameters import ChipParameters
from .readout import column_delay, readout_circuit

#: Circuit blocks; "write" draws from V_WRITE, every other block from VDD (static: per rail).
BLOCKS = ("row_drivers", "column_lines", "comparators", "tdc", "control", "write", "verify", "static")
MACS_PER_VECTOR = ROWS * COLUMNS


@dataclass(frozen=True)
class MacEnergy:
    """Energy coefficients of MAC reads at one VDD, J."""

    per_toggle: float       #: one row input toggle
    per_vector_lines: float  #: all columns' sense nodes charged to V_th
    per_delay: float        #: per second of column delay, summed over columns (reference sink)
    per_vector_comparators: float
    per_vector_tdc: float   #: 64 conversions, fixed part
    per_lsb: float          #: one counted LSB
    per_clock: float        #: control

    @classmethod
    def at(cls, vdd: float, column_capacitance: np.ndarray, params: ChipParameters) -> MacEnergy:
        """Coefficients for the rail VDD (V) and the columns' sense capacitances (F)."""
        e, circuit = params.energy, readout_circuit(params)
        return cls(e.row_driver_capacitance * vdd**2,
                   vdd * circuit.threshold * float(np.sum(column_capacitance)),
                   vdd * circuit.reference_current,
                   COLUMNS * e.comparator_energy, COLUMNS * e.tdc_energy_per_conversion, e.tdc_energy_per_lsb,
                   e.control_energy_per_clock)

    def blocks(self, vectors: int, toggles: float, counted_lsbs: float, delay_seconds: float) -> dict[str, float]:
        """Energy by block of ``vectors`` reads with that many input toggles, counted LSBs and summed delay."""
        return {"row_drivers": self.per_toggle * toggles,
                "column_lines": self.per_vector_lines * vectors + self.per_delay * delay_seconds,
                "comparators": self.per_vector_comparators * vectors,
                "tdc": self.per_vector_tdc * vectors + self.per_lsb * counted_lsbs,
                "control": self.per_clock * vectors}


def mac_energy_breakdown(v_read: float, vdd: float, params: ChipParameters, toggles: float = 32.0,
                         mean_code: float = 7.5) -> dict[str, float]:
    """Expected energy by block of one MAC vector, J, on a nominal die at 25 degC.

    Defaults describe uniformly random inputs (half the rows toggle) with
    the power-up TDC window centred on MAC = 0 (mean code 7.5); the column
    delay is taken at MAC = 0.
    """
    d, r = params.device, params.readout
    c = ROWS * r.line_capacitance_per_cell + r.comparator_capacitance
    r_mid = ROWS * (d.r_fet_mean + 0.5 * (d.r_p_mean + d.r_ap_mean))
    delay = float(column_delay(r_mid, r_mid, c, v_read, d.t_ref, params))
    return MacEnergy.at(vdd, np.full(COLUMNS, c), params).blocks(1, toggles, COLUMNS * mean_code, COLUMNS * delay)


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
    """MAC reads not yet booked on the meter: vectors, toggled row inputs, counted LSBs, noiseless delays.

    A single read leaves its input and codes as bytes; their toggles and
    LSBs are counted in bulk (:meth:`count_singles`), every few thousand
    reads and before a booking.
    """

    SINGLES = 4096    #: single reads kept before they are counted

    def __init__(self) -> None:
        self.units = np.zeros(COLUMNS)     #: (64,) noiseless delays summed per column, code units
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
