"""Keithley 2450 SourceMeter (SCPI command set), simulated on the test pad or the test MTJ."""

from __future__ import annotations

import math

from benchspec.models import keithley2450 as k2450
from benchspec.scpi import choice
from .ports import Load
from .scpi_device import SCPIDevice

_MEASURED = {"VOLT:DC": "VOLT", "CURR:DC": "CURR", "RES": "RES"}
_NPLC = {"VOLT:DC": "voltage_nplc", "CURR:DC": "current_nplc", "RES": "resistance_nplc"}


class Keithley2450Sim(SCPIDevice):
    """2450: source V or I, limit the other, measure V, I or R over NPLC line cycles."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self._last_resistance = 10e3
        super().__init__(k2450.SPEC)
        self._tripped = False
        for header in (k2450.READ, k2450.MEASURE_SENSED):
            self.command(header, lambda a: self._reading(self.value("sense_function"), a))
        for function, header in k2450.MEASURE.items():
            self.command(header, lambda a, f=function: self._reading(f, a))
        for source, header in k2450.TRIPPED.items():
            self.command(header, lambda a, s=source: "1" if self._tripped and self.value("source_function") == s
                         else "0")

    def reset(self) -> None:
        """Front-panel defaults: source 0 V, 105 uA limit, measure current, 1 PLC, output off."""
        super().reset()
        self._last_resistance = 10e3
        self._tripped = False

    def power_on(self) -> None:
        self.reset()

    def output_on(self) -> bool:
        return bool(self.value("output"))

    def applied_voltage(self) -> float:
        """Voltage the output holds on its load (what sourcing current settles to is not tracked)."""
        return self.value("source_voltage") if self.value("source_function") == "VOLT" else 0.0

    def _reading(self, function: str, args: list[str]) -> str:
        """A reply to READ? or MEASure?, which may name the buffer the reading goes to."""
        if args:
            choice(args, 0, "buffer", {name.upper(): name for name in k2450.BUFFERS})
        return f"{self._measure(function):.6E}"

    def _measure(self, function: str) -> float:
        """One reading: source, let NPLC line cycles pass, read."""
        what = _MEASURED[function]
        duration = self.value(_NPLC[function]) / k2450.LINE_HZ
        if not self.output_on():
            self.load.advance(duration)
            return 0.0 if what != "RES" else 9.9e37
        ilim, vlim = self.value("current_limit"), self.value("voltage_limit")
        if self.value("source_function") == "VOLT":
            volts = self.value("source_voltage")
            r = self.load.resistance(volts, duration)
            amps = 0.0 if math.isinf(r) else volts / r
            self._tripped = abs(amps) > ilim
            if self._tripped:                          # in compliance: the current limit holds
                amps = math.copysign(ilim, amps)
                volts = amps * r
        else:
            # sourcing current: the load's bias is the current times its last known resistance
            amps = self.value("source_current")
            bias = max(-vlim, min(vlim, amps * self._last_resistance))
            r = self.load.resistance(bias, duration)
            volts = amps * r if not math.isinf(r) else math.copysign(vlim, amps)
            self._tripped = abs(volts) > vlim
            if self._tripped:                          # in compliance: the voltage limit holds
                volts = math.copysign(vlim, volts)
                amps = 0.0 if math.isinf(r) else volts / r
        if not math.isinf(r):
            self._last_resistance = r
        if what == "VOLT":
            return volts
        if what == "CURR":
            return amps
        if amps == 0:
            return 9.9e37                              # the 2450's overflow reading
        return volts / amps
