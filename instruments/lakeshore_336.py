"""Lake Shore Model 336 temperature controller (Model 336 User's Manual, chapter 6).

Its settings come from the command set (:mod:`benchspec.models.lakeshore336`);
here are its readings and actions.  The 336 has no SCPI error queue: a
refused command sets the standard event status register, read with
``*ESR?``.
"""

from __future__ import annotations

from benchspec.models import lakeshore336 as ls336

from .errors import LinkError
from .scpi import ChannelOf, Range, SCPIInstrument


class ControlLoop(ChannelOf, spec=ls336.SPEC):
    """Control output 1-4: setpoint (K; the bench's ``temperature`` limit applies) and heater range."""

    status_settings = ("setpoint", "heater_range", "heater_output")

    def set_ramp(self, kelvin_per_minute: float | None) -> None:
        """Setpoint ramping at a rate (K/min), or off with None."""
        if kelvin_per_minute is None:
            self.write(f"RAMP {self.number},0,10")
        else:
            rate = Range(0.1, 100, "K/min")(self.name, "ramp rate", kelvin_per_minute)
            self.write(f"RAMP {self.number},1,{rate:g}")


class LakeShore336(SCPIInstrument, spec=ls336.SPEC):
    """Setpoints and heater ranges of control outputs 1-4 (``thermo.ch[1].setpoint = 350``),
    readings of inputs A-D (kelvin)."""

    channel_class = ControlLoop
    status_settings = ("temperature",)

    def next_error(self) -> tuple[int, str]:
        try:
            esr = int(self.adapter.query("*ESR?"))
        except ValueError:
            raise LinkError(f"{self.name}: unreadable reply to *ESR?") from None
        for bit, (code, text) in ls336.ESR_MEANING.items():
            if esr & bit:
                return code, f"{text} (ESR={esr})"
        return 0, "No error"

    def temperature(self, sensor: str = "A") -> float:
        """Kelvin reading of input A-D."""
        if sensor.upper() not in ("A", "B", "C", "D"):
            raise ValueError(f"{self.name}: sensor must be A-D, got {sensor!r}")
        return float(self.ask(f"KRDG? {sensor.upper()}"))

    def wait_for_temperature(self, kelvin: float, tolerance: float = 0.5, timeout: float = 3600.0,
                             poll: float = 5.0, sensor: str = "A") -> float:
        """Poll until the reading is within ``tolerance`` (K) of ``kelvin``; return the time waited (s)."""
        waited = 0.0
        while abs(self.temperature(sensor) - kelvin) > tolerance:
            if waited >= timeout:
                raise TimeoutError(f"{self.name}: {kelvin} K not reached within {timeout:g} s")
            self.clock.sleep(poll)
            waited += poll
        return waited

    def shutdown(self) -> None:
        """Heaters off."""
        for output in (1, 2):
            self.write(f"RANGE {output},0")
