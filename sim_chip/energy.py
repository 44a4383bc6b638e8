"""Energy of each operation, and the charge it draws from each supply rail.

Array energies follow from the physics (line capacitance and read bias,
write currents through the branch resistances); the periphery (TDCs,
drivers, control) from :class:`EnergyParameters`.  Every joule is booked on
the rail that delivers it, as charge Q = E / V_rail, so that a simulated
supply can report the average current over its own aperture as dQ/dt.

Rails: ``vdd`` (core: read bias, TDCs, drivers, control, sense amplifiers),
``vddio`` (I/O), ``vwrite`` (write drivers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .parameters import ChipParameters

RAILS = ("vdd", "vddio", "vwrite")


def mac_energy_per_vector(v_read: float, vdd: float, params: ChipParameters) -> float:
    """Energy of one MAC vector over all 64 columns, J.

    Column lines (64 cells x C_cell) charged to the read bias, one TDC
    conversion per column, the row drivers (half the rows toggle on
    average) and one clock of control logic.
    """
    e, r = params.energy, params.readout
    line = 64 * (64 * r.line_capacitance_per_cell) * v_read**2
    tdc = 64 * e.tdc_energy_per_conversion
    drivers = 0.5 * 64 * e.row_driver_capacitance * vdd**2
    return line + tdc + drivers + e.control_energy_per_clock


def write_energy(v_write: float, r_branch: np.ndarray, width: float, params: ChipParameters) -> float:
    """Energy of one half-row write pulse, J: V^2/R over each branch for ``width`` s."""
    return float(np.sum(v_write**2 / r_branch) * width)


def verify_energy(v_verify: float, r_branch: np.ndarray, duration: float, params: ChipParameters) -> float:
    """Energy of one differential verify read of a row (128 branches), J."""
    e = params.energy
    return float(np.sum(v_verify**2 / r_branch) * duration + 64 * e.sense_energy_per_column
                 + e.control_energy_per_clock)


@dataclass
class EnergyMeter:
    """Cumulative charge per rail (C) and the energy of the last operation (J)."""

    charge: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RAILS, 0.0))
    energy: dict[str, float] = field(default_factory=lambda: dict.fromkeys(RAILS, 0.0))
    last_operation: str = ""
    last_energy: float = 0.0

    def book(self, operation: str, rail_joules: dict[str, float], rail_volts: dict[str, float],
             seconds: float, params: ChipParameters) -> None:
        """Record one operation's energy per rail, and the static draw over its ``seconds``."""
        self.static(seconds, rail_volts, params)
        total = 0.0
        for rail, joules in rail_joules.items():
            self.energy[rail] += joules
            if rail_volts[rail] > 0:
                self.charge[rail] += joules / rail_volts[rail]
            total += joules
        self.last_operation, self.last_energy = operation, total

    def static(self, seconds: float, rail_volts: dict[str, float], params: ChipParameters) -> None:
        """Leakage and bias currents for ``seconds`` of powered time."""
        e = params.energy
        for rail, amps in (("vdd", e.static_current_vdd), ("vddio", e.static_current_vddio)):
            self.charge[rail] += amps * seconds
            self.energy[rail] += amps * seconds * rail_volts[rail]
