"""Keysight E36312A triple-output DC power supply (E36300 Series Programming Guide)."""

from __future__ import annotations

from .scpi import ChannelOf, Channels, Choice, Ramp, Range, SCPIInstrument, Setting, on_off

#: (max volts, max amps) per output.
RATINGS = {1: (6.18, 5.15), 2: (25.75, 1.03), 3: (25.75, 1.03)}


class SupplyChannel(ChannelOf):
    """One output; the bench safety limit of the rail it feeds caps its voltage (V)."""

    status_settings = ("output", "voltage", "current", "ovp", "ovp_tripped")

    current = Setting("CURR? (@{ch})", "CURR {value},(@{ch})", "current limit", "A", Range(0, 5.15, "A"),
                      limit=lambda ch: f"ch{ch.number}_current")
    ovp = Setting("VOLT:PROT? (@{ch})", "VOLT:PROT {value},(@{ch})", "over-voltage protection level", "V",
                  Range(0, 28.8, "V"))
    output = Setting("OUTP? (@{ch})", "OUTP {value},(@{ch})", "output on",
                     validator=Choice({True: "1", False: "0"}), parse=on_off)
    voltage = Setting("VOLT? (@{ch})", "VOLT {value},(@{ch})", "programmed voltage", "V",
                      lambda ch: Range(0, RATINGS[ch.number][0], "V"), limit=lambda ch: f"ch{ch.number}_voltage",
                      ramp=Ramp(step=0.1, dwell=0.005, while_on="output"))

    def measure_voltage(self) -> float:
        return float(self.ask(f"MEAS:VOLT? (@{self.number})"))

    def measure_current(self) -> float:
        """Output current, A (the simulated supply averages it since the previous reading)."""
        return float(self.ask(f"MEAS:CURR? (@{self.number})"))

    def ovp_tripped(self) -> bool:
        return on_off(self.ask(f"VOLT:PROT:TRIP? (@{self.number})"))

    def clear_ovp(self) -> None:
        self.write(f"VOLT:PROT:CLE (@{self.number})")


class KeysightE36312A(SCPIInstrument):
    """CH1 0-6 V / 5 A, CH2 and CH3 0-25 V / 1 A; ``supply.ch[1].voltage = 0.9``."""

    models = ("E36312A", "E36313A", "E36311A")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ch = Channels(self.name, {n: SupplyChannel(self, n) for n in (1, 2, 3)})

    def outputs_off(self) -> None:
        self.write("OUTP OFF,(@1:3)")

    def shutdown(self) -> None:
        """All outputs off at once."""
        self.outputs_off()
