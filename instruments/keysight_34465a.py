"""Keysight 34465A digital multimeter (Truevolt DMM Operating and Service Guide)."""

from __future__ import annotations

from .scpi import Range, SCPIInstrument


class Keysight34465A(SCPIInstrument):
    """DC volts and 2- or 4-wire resistance with NPLC integration."""

    models = ("34465A", "34460A", "34461A", "34470A")

    def measure_resistance(self, four_wire: bool = False) -> float:
        """Resistance, ohm (auto range)."""
        return float(self.ask("MEAS:FRES?" if four_wire else "MEAS:RES?"))

    def measure_voltage_dc(self) -> float:
        """DC voltage, V (auto range)."""
        return float(self.ask("MEAS:VOLT:DC?"))

    def configure_resistance(self, four_wire: bool = False, nplc: float = 10.0) -> None:
        nplc = Range(0.001, 100, "PLC")(self.name, "nplc", nplc)
        function = "FRES" if four_wire else "RES"
        self.write(f"CONF:{function}")
        self.write(f"{function}:NPLC {nplc:g}")

    def read(self) -> float:
        """Trigger and read one value of the configured function."""
        return float(self.ask("READ?"))
