"""Keithley 2450 SourceMeter (SCPI command set), simulated on the test pad or the test MTJ."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from benchspec.scpi import boolean, choice, number

from .scpi_device import SCPIDevice

if TYPE_CHECKING:
    from .world import World

LINE_HZ = 50.0
_FUNCTIONS = {"VOLT": "VOLT", "VOLTAGE": "VOLT", "CURR": "CURR", "CURRENT": "CURR"}
_SENSE = {"VOLT": "VOLT", "VOLT:DC": "VOLT", "VOLTAGE": "VOLT", "CURR": "CURR", "CURR:DC": "CURR",
          "CURRENT": "CURR", "RES": "RES", "RESISTANCE": "RES"}
_SENSE_REPLY = {"VOLT": '"VOLT:DC"', "CURR": '"CURR:DC"', "RES": '"RES"'}


class Keithley2450Sim(SCPIDevice):
    """2450: source V or I, limit the other, measure V, I or R over NPLC line cycles."""

    idn = "KEITHLEY INSTRUMENTS,MODEL 2450,04419762,1.7.12b"

    def __init__(self, world: "World") -> None:
        super().__init__()
        self.world = world
        self.reset()
        c = self.command
        c("SOURce[:FUNCtion][:MODE]", lambda a: setattr(self, "source", choice(a, 0, "function", _FUNCTIONS)))
        c("SOURce[:FUNCtion][:MODE]?", lambda a: self.source)
        c("SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]", lambda a: self._level(a, "volts", 210.0))
        c("SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]?", lambda a: f"{self.volts:.6E}")
        c("SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]", lambda a: self._level(a, "amps", 1.05))
        c("SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]?", lambda a: f"{self.amps:.6E}")
        c("SOURce:VOLTage:ILIMit[:LEVel]", lambda a: setattr(self, "ilim", number(a, 0, "current limit", 1e-9, 1.05)))
        c("SOURce:VOLTage:ILIMit[:LEVel]?", lambda a: f"{self.ilim:.6E}")
        c("SOURce:CURRent:VLIMit[:LEVel]", lambda a: setattr(self, "vlim", number(a, 0, "voltage limit", 0.02, 210)))
        c("SOURce:CURRent:VLIMit[:LEVel]?", lambda a: f"{self.vlim:.6E}")
        c("SOURce:VOLTage:RANGe", lambda a: number(a, 0, "range", -210, 210) and None)
        c("SOURce:CURRent:RANGe", lambda a: number(a, 0, "range", -1.05, 1.05) and None)
        c("SOURce:VOLTage:RANGe:AUTO", lambda a: boolean(a, 0, "auto range") and None)
        c("SOURce:CURRent:RANGe:AUTO", lambda a: boolean(a, 0, "auto range") and None)
        c("[SENSe:]FUNCtion[:ON]", lambda a: setattr(self, "sense", choice(a, 0, "function", _SENSE)))
        c("[SENSe:]FUNCtion[:ON]?", lambda a: _SENSE_REPLY[self.sense])
        for f in ("VOLTage", "CURRent", "RESistance"):
            c(f"[SENSe:]{f}[:DC]:NPLCycles", lambda a: setattr(self, "nplc", number(a, 0, "NPLC", 0.01, 10)))
            c(f"[SENSe:]{f}[:DC]:NPLCycles?", lambda a: f"{self.nplc:g}")
            c(f"[SENSe:]{f}[:DC]:RANGe[:UPPer]", lambda a: number(a, 0, "range", 0, 2e8) and None)
            c(f"[SENSe:]{f}[:DC]:RANGe:AUTO", lambda a: boolean(a, 0, "auto range") and None)
        c("OUTPut[:STATe]", self._set_output)
        c("OUTPut[:STATe]?", lambda a: "1" if self.output else "0")
        c("READ?", lambda a: f"{self._measure(self.sense):.6E}")
        c("MEASure:VOLTage[:DC]?", lambda a: f"{self._measure('VOLT'):.6E}")
        c("MEASure:CURRent[:DC]?", lambda a: f"{self._measure('CURR'):.6E}")
        c("MEASure:RESistance?", lambda a: f"{self._measure('RES'):.6E}")

    def reset(self) -> None:
        """Front-panel defaults: source 0 V, 105 uA limit, measure current, 1 PLC, output off."""
        self.source, self.sense = "VOLT", "CURR"
        self.volts, self.amps = 0.0, 0.0
        self.ilim, self.vlim = 105e-6, 21.0
        self.nplc = 1.0
        self.output = False
        self._last_resistance = 10e3

    def _level(self, args: list[str], field: str, top: float) -> None:
        setattr(self, field, number(args, 0, field, -top, top))

    def _set_output(self, args: list[str]) -> None:
        self.output = boolean(args, 0, "output")

    def applied_voltage(self) -> float:
        """Voltage the output holds on its load (what sourcing current settles to is not tracked)."""
        return self.volts if self.source == "VOLT" else 0.0

    def _measure(self, what: str) -> float:
        """One reading: source, let NPLC line cycles pass, read."""
        duration = self.nplc / LINE_HZ
        if not self.output:
            self.world.advance(duration)
            return 0.0 if what != "RES" else 9.9e37
        if self.source == "VOLT":
            r = self.world.load_resistance(self.volts, duration)
            amps = 0.0 if math.isinf(r) else self.volts / r
            volts = self.volts
            if abs(amps) > self.ilim:                  # in compliance: the current limit holds
                amps = math.copysign(self.ilim, amps)
                volts = amps * r
        else:
            # sourcing current: the load's bias is the current times its last known resistance
            bias = max(-self.vlim, min(self.vlim, self.amps * self._last_resistance))
            r = self.world.load_resistance(bias, duration)
            amps = self.amps
            volts = amps * r if not math.isinf(r) else math.copysign(self.vlim, amps)
            if abs(volts) > self.vlim:                 # in compliance: the voltage limit holds
                volts = math.copysign(self.vlim, volts)
                amps = 0.0 if math.isinf(r) else volts / r
        if not math.isinf(r):
            self._last_resistance = r
        if what == "VOLT":
            return volts
        if what == "CURR":
            return amps
        if amps == 0:
            return 9.9e37           # the 2450's overflow reading
        return volts / amps
