"""Keysight E36312A triple-output DC power supply (E36300 Series Programming Guide).

Its settings come from the command set (:mod:`benchspec.models.e36312a`);
here are its readings and actions.
"""

from __future__ import annotations

from benchspec.models import e36312a

from .scpi import ChannelOf, SCPIInstrument


class SupplyChannel(ChannelOf, spec=e36312a.SPEC):
    """One output; the bench safety limit of the rail it feeds caps its voltage (V)."""

    status_settings = ("output", "voltage", "current", "ovp", "ovp_tripped")

    def measure_voltage(self) -> float:
        return float(self.ask(f"MEAS:VOLT? (@{self.number})"))

    def measure_current(self) -> float:
        """Output current, A (the simulated supply averages it since the previous reading)."""
        return float(self.ask(f"MEAS:CURR? (@{self.number})"))

    def clear_ovp(self) -> None:
        """Clear a tripped over-voltage protection (the output stays off)."""
        self.write(f"VOLT:PROT:CLE (@{self.number})")


class KeysightE36312A(SCPIInstrument, spec=e36312a.SPEC):
    """CH1 0-6 V / 5 A, CH2 and CH3 0-25 V / 1 A; ``supply.ch[1].voltage = 0.9``."""

    channel_class = SupplyChannel

    def outputs_off(self) -> None:
        self.write("OUTP OFF,(@1:3)")

    def shutdown(self) -> None:
        """All outputs off at once."""
        self.outputs_off()
