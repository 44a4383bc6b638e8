"""Keysight 34465A digital multimeter (Truevolt DMM Operating and Service Guide).

Its settings (function, integration time per function) come from the
command set (:mod:`benchspec.models.keysight34465a`); here are its readings.
"""

from __future__ import annotations

from benchspec.models import keysight34465a as k34465a

from .scpi import SCPIInstrument


class Keysight34465A(SCPIInstrument, spec=k34465a.SPEC):
    """DC volts and 2- or 4-wire resistance with NPLC integration."""

    def measure_resistance(self, four_wire: bool = False) -> float:
        """Resistance, ohm (auto range)."""
        return float(self.ask("MEAS:FRES?" if four_wire else "MEAS:RES?"))

    def measure_voltage_dc(self) -> float:
        """DC voltage, V (auto range)."""
        return float(self.ask("MEAS:VOLT:DC?"))

    def configure_resistance(self, four_wire: bool = False, nplc: float = 10.0) -> None:
        """Resistance measurements (two- or four-wire) integrating ``nplc`` power-line cycles."""
        function = "FRES" if four_wire else "RES"
        self.function = function
        setattr(self, f"{function.lower()}_nplc", nplc)

    def read(self) -> float:
        """Trigger and read one value of the configured function."""
        return float(self.ask("READ?"))
