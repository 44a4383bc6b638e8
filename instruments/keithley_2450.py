"""Keithley 2450 SourceMeter, SCPI command set (2450 Reference Manual, section 6).

Its settings come from the command set (:mod:`benchspec.models.keithley2450`);
here are its readings and actions.  Safety limits: ``smu_voltage`` (V),
``smu_current`` (A).
"""

from __future__ import annotations

from benchspec.models import keithley2450 as k2450

from .scpi import SCPIInstrument, move_in_steps

_NPLC = {"VOLT:DC": "voltage_nplc", "CURR:DC": "current_nplc", "RES": "resistance_nplc"}


class Keithley2450(SCPIInstrument, spec=k2450.SPEC):
    """Source voltage or current with a limit on the other; measure V, I or R."""

    status_settings = ("output", "source_function", "source_voltage", "current_limit")

    @property
    def nplc(self) -> float:
        """Integration time of the present measure function, power-line cycles (0.01 .. 10)."""
        return getattr(self, _NPLC[self.sense_function])

    @nplc.setter
    def nplc(self, value: float) -> None:
        setattr(self, _NPLC[self.sense_function], value)

    def read(self) -> float:
        """One reading of the measure function (A, V or ohm)."""
        return float(self.ask("READ?"))

    def measure_current(self) -> float:
        return float(self.ask("MEAS:CURR?"))

    def measure_voltage(self) -> float:
        return float(self.ask("MEAS:VOLT?"))

    def measure_resistance(self) -> float:
        return float(self.ask("MEAS:RES?"))

    def source_voltage_measure_current(self, current_limit: float, nplc: float = 1.0) -> None:
        """Configure V source, I measure, with a current limit (A); output stays as it is."""
        self.source_function = "VOLT"
        self.current_limit = current_limit
        self.sense_function = "CURR"
        self.nplc = nplc

    def ramp_voltage(self, volts: float, step: float = 0.05, dwell: float = 0.01) -> None:
        """Move the source voltage to ``volts`` in steps of at most ``step`` V, ``dwell`` s apart."""
        setting = vars(Keithley2450)["source_voltage"]
        target = setting.validator(self.name, "source_voltage", volts)
        self.limits.check(self.name, "smu_voltage", target)
        move_in_steps(self, "source_voltage", target, step, dwell)

    def shutdown(self) -> None:
        """Ramp the source to zero and turn the output off."""
        if self.output:  # type: ignore[has-type]
            if self.source_function == "VOLT":
                self.ramp_voltage(0.0)
            else:
                self.source_current = 0.0
            self.output = False
