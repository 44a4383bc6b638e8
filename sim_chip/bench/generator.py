"""Keysight 33600A / 33500B waveform generator, simulated; channel 1 drives the test MTJ."""

from __future__ import annotations

from benchspec.models import keysight33500 as k33500
from benchspec.scpi import SCPIError, number

from .ports import Pulses
from .scpi_device import SCPIDevice

SOURCE_IMPEDANCE = 50.0
MTJ_PADS_OHM = 10e3                 #: what the generator drives: the test MTJ behind its pads, about


class Keysight33600Sim(SCPIDevice):
    """33622A (two channels, 5 ns minimum pulse width)."""

    def __init__(self, pads: Pulses) -> None:
        self.pads = pads
        super().__init__(k33500.SPEC)
        self.command(k33500.TRIGGER, lambda a: self._trigger([1, 2]))
        self.command(k33500.TRIGGER_CHANNEL.replace("{ch}", ""), lambda a: self._trigger([self.suffix()]))
        frequency = k33500.FREQUENCY.replace("{ch}", "")
        self.command(frequency, self._set_frequency)
        self.command(frequency + "?", lambda a: f"{1.0 / self.value('pulse_period', self.suffix()):+.15E}")

    def power_on(self) -> None:
        self.reset()

    def before_command(self) -> None:
        self.pads.sync()

    def output_on(self, channel: int) -> bool:
        return bool(self.value("output", channel))

    # ---------------------------------------------------------- settings
    def validate(self, name: str, channel: int | None, value: object) -> None:
        def now(key: str) -> object:
            return value if key == name else self.value(key, channel)

        if (now("function") == "PULS") and now("pulse_width") >= now("pulse_period"):
            raise SCPIError(-221, f"Settings conflict; pulse width {now('pulse_width'):g} s not below period "
                                  f"{now('pulse_period'):g} s")
        if now("high_level") <= now("low_level"):
            raise SCPIError(-221, f"Settings conflict; high level {now('high_level'):g} V not above low level "
                                  f"{now('low_level'):g} V")
        if name in ("high_level", "low_level"):
            top = 5.0 if self.value("load", channel) != k33500.HIGH_Z else 10.0       # levels into 50 ohm
            if abs(value) > top:
                raise SCPIError(-222, f"Data out of range; {name} {value:g} outside -{top:g} to {top:g}")

    def _set_frequency(self, args: list[str]) -> None:
        period = 1.0 / number(args, 0, "frequency", 1e-6, 0.5 / k33500.MIN_WIDTH)
        channel = self.suffix()
        self.validate("pulse_period", channel, period)
        self.store("pulse_period", period, channel)

    # ---------------------------------------------------------- physics
    def _mtj_pads(self, level: float, channel: int) -> float:
        """Voltage on the test MTJ's pads for a programmed level (levels assume the set load)."""
        load = self.value("load", channel)
        open_circuit = level if load == k33500.HIGH_Z else level * (load + SOURCE_IMPEDANCE) / load
        return open_circuit * MTJ_PADS_OHM / (MTJ_PADS_OHM + SOURCE_IMPEDANCE)

    def _levels(self, channel: int) -> tuple[float, float]:
        """(level during the pulse, baseline level), V as programmed (INV mirrors them)."""
        high, low = self.value("high_level", channel), self.value("low_level", channel)
        return (low, high) if self.value("polarity", channel) == "INV" else (high, low)

    def _trigger(self, numbers: list[int]) -> None:
        v = self.value
        if 1 in numbers and v("output", 1) and v("burst", 1) and v("function", 1) == "PULS" and \
                v("trigger_source", 1) == "BUS":
            pulse, baseline = self._levels(1)
            cycles, width, period = v("burst_cycles", 1), v("pulse_width", 1), v("pulse_period", 1)
            if baseline != 0.0:
                self.pads.pulse(self._mtj_pads(baseline, 1), cycles * (period - width), cycles)
            self.pads.pulse(self._mtj_pads(pulse, 1), cycles * width, cycles)
            self.pads.advance(cycles * period)

    def continuous_stress(self, seconds: float) -> None:
        """Free-running pulses (burst off) on channel 1 while time passes."""
        v = self.value
        if v("output", 1) and not v("burst", 1) and v("function", 1) == "PULS":
            pulse, _ = self._levels(1)
            width, period = v("pulse_width", 1), v("pulse_period", 1)
            self.pads.pulse(self._mtj_pads(pulse, 1), seconds * width / period, max(1, round(seconds / period)))
