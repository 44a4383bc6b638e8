"""Keithley 2450 SourceMeter, SCPI command set (2450 Reference Manual, section 6)."""

from __future__ import annotations

from .scpi import Choice, Range, SCPIInstrument, Setting, move_in_steps, on_off, quoted

_SOURCE = Choice({"VOLT": "VOLT", "VOLTAGE": "VOLT", "CURR": "CURR", "CURRENT": "CURR"})
_SENSE = Choice({"VOLT": '"VOLT"', "VOLTAGE": '"VOLT"', "CURR": '"CURR"', "CURRENT": '"CURR"',
                 "RES": '"RES"', "RESISTANCE": '"RES"'})
_SENSE_NODE = {"VOLT": "VOLT", "CURR": "CURR", "RES": "RES"}


class Keithley2450(SCPIInstrument):
    """Source voltage or current with a limit on the other; measure V, I or R.

    Safety limits used: ``smu_voltage`` (V), ``smu_current`` (A).
    """

    models = ("MODEL 2450",)
    status_settings = ("output", "source_function", "source_voltage", "current_limit")

    source_function = Setting(":SOUR:FUNC?", ":SOUR:FUNC {value}", "source function", validator=_SOURCE,
                              parse=lambda s: s.strip().upper())
    source_voltage = Setting(":SOUR:VOLT?", ":SOUR:VOLT {value}", "source voltage", "V",
                             Range(-210, 210, "V"), limit="smu_voltage")
    source_current = Setting(":SOUR:CURR?", ":SOUR:CURR {value}", "source current", "A",
                             Range(-1.05, 1.05, "A"), limit="smu_current")
    current_limit = Setting(":SOUR:VOLT:ILIM?", ":SOUR:VOLT:ILIM {value}", "current limit while sourcing voltage",
                            "A", Range(1e-9, 1.05, "A"), limit="smu_current")
    voltage_limit = Setting(":SOUR:CURR:VLIM?", ":SOUR:CURR:VLIM {value}", "voltage limit while sourcing current",
                            "V", Range(0.02, 210, "V"), limit="smu_voltage")
    sense_function = Setting(":SENS:FUNC?", ":SENS:FUNC {value}", "measure function", validator=_SENSE,
                             parse=lambda s: quoted(s).split(":")[0].upper())
    output = Setting(":OUTP?", ":OUTP {value}", "output on", validator=Choice({True: "1", False: "0"}),
                     parse=on_off)

    @property
    def nplc(self) -> float:
        """Integration time of the measure function, power-line cycles (0.01 .. 10)."""
        return float(self.ask(f":SENS:{_SENSE_NODE[self.sense_function]}:NPLC?"))

    @nplc.setter
    def nplc(self, value: float) -> None:
        value = Range(0.01, 10, "PLC")(self.name, "nplc", value)
        self.write(f":SENS:{_SENSE_NODE[self.sense_function]}:NPLC {value:g}")

    def read(self) -> float:
        """One reading of the measure function (A, V or ohm)."""
        return float(self.ask(":READ?"))

    def measure_current(self) -> float:
        return float(self.ask(":MEAS:CURR?"))

    def measure_voltage(self) -> float:
        return float(self.ask(":MEAS:VOLT?"))

    def measure_resistance(self) -> float:
        return float(self.ask(":MEAS:RES?"))

    def source_voltage_measure_current(self, current_limit: float, nplc: float = 1.0) -> None:
        """Configure V source, I measure, with a current limit (A); output stays as it is."""
        self.source_function = "VOLT"
        self.current_limit = current_limit
        self.sense_function = "CURR"
        self.nplc = nplc

    def ramp_voltage(self, volts: float, step: float = 0.05, dwell: float = 0.01) -> None:
        """Move the source voltage to ``volts`` in steps of at most ``step`` V, ``dwell`` s apart."""
        target = Range(-210, 210, "V")(self.name, "source_voltage", volts)
        self.limits.check(self.name, "smu_voltage", target)
        move_in_steps(self, "source_voltage", target, step, dwell)

    def shutdown(self) -> None:
        """Ramp the source to zero and turn the output off."""
        if self.output:
            if self.source_function == "VOLT":
                self.ramp_voltage(0.0)
            else:
                self.source_current = 0.0
            self.output = False
