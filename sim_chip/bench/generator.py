"""Keysight 33600A / 33500B waveform generator, simulated; channel 1 drives the test MTJ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchspec.scpi import SCPIError, boolean, choice, number

from .scpi_device import SCPIDevice

if TYPE_CHECKING:
    from .world import World

SOURCE_IMPEDANCE = 50.0
_FUNCTIONS = {k: v for v in ("SIN", "SQU", "RAMP", "PULS", "NOIS", "DC", "ARB", "PRBS", "TRI")
              for k in (v, {"SIN": "SINUSOID", "SQU": "SQUARE", "PULS": "PULSE", "NOIS": "NOISE",
                            "TRI": "TRIANGLE"}.get(v, v))}
_POLARITY = {"NORM": "NORM", "NORMAL": "NORM", "INV": "INV", "INVERTED": "INV"}
_TRIGGERS = {"IMM": "IMM", "IMMEDIATE": "IMM", "EXT": "EXT", "EXTERNAL": "EXT", "TIM": "TIM",
             "TIMER": "TIM", "BUS": "BUS"}


@dataclass
class Channel:
    function: str = "SIN"
    width: float = 100e-9
    period: float = 1e-3
    high: float = 0.05
    low: float = -0.05
    load: float = 50.0          # ohm, or inf for high impedance
    inverted: bool = False      # OUTP:POL INV: the waveform mirrored about its offset
    burst: bool = False
    cycles: int = 1
    trigger: str = "IMM"
    output: bool = False


class Keysight33600Sim(SCPIDevice):
    """33622A (two channels, 5 ns minimum pulse width) or 33522B (16 ns)."""

    def __init__(self, world: "World", model: str = "33622A") -> None:
        super().__init__()
        self.world = world
        self.model = model
        maker = "Keysight Technologies" if model.startswith("336") else "Agilent Technologies"
        self.idn = f"{maker},{model},MY53400817,A.02.02-3.15-03.64-02.56-02-01"
        self.min_width = 5e-9 if model.startswith("336") else 16e-9
        self.reset()
        c = self.command
        c("[SOURce:]FUNCtion[:SHAPe]", lambda a: self._set(function=choice(a, 0, "function", _FUNCTIONS)))
        c("[SOURce:]FUNCtion[:SHAPe]?", lambda a: self.ch.function)
        c("[SOURce:]FUNCtion:PULSe:WIDTh", lambda a: self._set(width=number(a, 0, "pulse width", self.min_width, 1e6)))
        c("[SOURce:]FUNCtion:PULSe:WIDTh?", lambda a: f"{self.ch.width:+.15E}")
        c("[SOURce:]FUNCtion:PULSe:PERiod", lambda a: self._set(period=number(a, 0, "period", 2 * self.min_width, 1e6)))
        c("[SOURce:]FUNCtion:PULSe:PERiod?", lambda a: f"{self.ch.period:+.15E}")
        c("[SOURce:]FREQuency", lambda a: self._set(period=1.0 / number(a, 0, "frequency", 1e-6, 0.5 / self.min_width)))
        c("[SOURce:]FREQuency?", lambda a: f"{1.0 / self.ch.period:+.15E}")
        c("[SOURce:]VOLTage:HIGH", lambda a: self._set(high=number(a, 0, "high level", -self._vmax(), self._vmax())))
        c("[SOURce:]VOLTage:HIGH?", lambda a: f"{self.ch.high:+.15E}")
        c("[SOURce:]VOLTage:LOW", lambda a: self._set(low=number(a, 0, "low level", -self._vmax(), self._vmax())))
        c("[SOURce:]VOLTage:LOW?", lambda a: f"{self.ch.low:+.15E}")
        c("[SOURce:]BURSt:STATe", lambda a: self._set(burst=boolean(a, 0, "burst state")))
        c("[SOURce:]BURSt:STATe?", lambda a: "1" if self.ch.burst else "0")
        c("[SOURce:]BURSt:MODE", lambda a: choice(a, 0, "burst mode", {"TRIG": "TRIG", "TRIGGERED": "TRIG"}) and None)
        c("[SOURce:]BURSt:NCYCles", lambda a: self._set(cycles=int(number(a, 0, "burst count", 1, 1e8))))
        c("[SOURce:]BURSt:NCYCles?", lambda a: f"{self.ch.cycles:+.15E}")
        c("TRIGger:SOURce", lambda a: self._set(trigger=choice(a, 0, "trigger source", _TRIGGERS)))
        c("TRIGger:SOURce?", lambda a: self.ch.trigger)
        c("TRIGger[:IMMediate]", lambda a: self._trigger([self.suffix()]))
        c("*TRG", lambda a: self._trigger([1, 2]))
        c("OUTPut[:STATe]", lambda a: self._set(output=boolean(a, 0, "output")))
        c("OUTPut[:STATe]?", lambda a: "1" if self.ch.output else "0")
        c("OUTPut:POLarity", lambda a: self._set(inverted=choice(a, 0, "polarity", _POLARITY) == "INV"))
        c("OUTPut:POLarity?", lambda a: "INV" if self.ch.inverted else "NORM")
        c("OUTPut:LOAD", self._set_load)
        c("OUTPut:LOAD?", lambda a: "9.9E+37" if self.ch.load == float("inf") else f"{self.ch.load:+.15E}")

    def reset(self) -> None:
        self.channels = {1: Channel(), 2: Channel()}

    def before_command(self) -> None:
        self.world.sync()

    @property
    def ch(self) -> Channel:
        n = self.suffix()
        if n not in self.channels:
            raise SCPIError(-113, f"Undefined header; channel {n}")
        return self.channels[n]

    def _vmax(self) -> float:
        return 5.0 if self.ch.load != float("inf") else 10.0

    def _set(self, **fields: object) -> None:
        ch = self.ch
        width = fields.get("width", ch.width)
        period = fields.get("period", ch.period)
        high = fields.get("high", ch.high)
        low = fields.get("low", ch.low)
        if ch.function == "PULS" or fields.get("function") == "PULS":
            if width >= period:
                raise SCPIError(-221, f"Settings conflict; pulse width {width:g} s not below period {period:g} s")
        if high <= low:
            raise SCPIError(-221, f"Settings conflict; high level {high:g} V not above low level {low:g} V")
        for name, value in fields.items():
            setattr(ch, name, value)

    def _set_load(self, args: list[str]) -> None:
        word = args[0].strip().upper() if args else ""
        load = float("inf") if word in ("INF", "INFINITY", "MAX") else number(args, 0, "load", 1, 10e3)
        self.ch.load = load

    def _open_circuit(self, level: float, ch: Channel) -> float:
        """Open-circuit voltage for a programmed level (levels assume the set load)."""
        if ch.load == float("inf"):
            return level
        return level * (ch.load + SOURCE_IMPEDANCE) / ch.load

    def _mtj_pads(self, level: float, ch: Channel) -> float:
        """Voltage on the test MTJ's pads, ~10 kOhm behind the 50 Ohm source."""
        r_load = 10e3
        return self._open_circuit(level, ch) * r_load / (r_load + SOURCE_IMPEDANCE)

    @staticmethod
    def _levels(ch: Channel) -> tuple[float, float]:
        """(level during the pulse, baseline level), V as programmed."""
        return (ch.low, ch.high) if ch.inverted else (ch.high, ch.low)

    def _trigger(self, numbers: list[int]) -> None:
        ch1 = self.channels[1]
        if 1 in numbers and ch1.output and ch1.burst and ch1.function == "PULS" and ch1.trigger == "BUS":
            pulse, baseline = self._levels(ch1)
            if baseline != 0.0:
                self.world.pulse_test_mtj(self._mtj_pads(baseline, ch1), ch1.cycles * (ch1.period - ch1.width),
                                          ch1.cycles)
            self.world.pulse_test_mtj(self._mtj_pads(pulse, ch1), ch1.cycles * ch1.width, ch1.cycles)
            self.world.advance(ch1.cycles * ch1.period)

    def continuous_stress(self, seconds: float) -> None:
        """Free-running pulses (burst off) on channel 1 while time passes."""
        ch1 = self.channels[1]
        if ch1.output and not ch1.burst and ch1.function == "PULS":
            pulse, _ = self._levels(ch1)
            self.world.pulse_test_mtj(self._mtj_pads(pulse, ch1), seconds * ch1.width / ch1.period,
                                      max(1, round(seconds / ch1.period)))
