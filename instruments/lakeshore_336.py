"""Lake Shore Model 336 temperature controller (Model 336 User's Manual, chapter 6).

The 336 speaks IEEE-488 commands without an SCPI error queue: a refused
command sets the standard event status register, read with ``*ESR?``
(bit 5 command error, bit 4 execution error, bit 2 query error).
"""

from __future__ import annotations

from .errors import LinkError
from .scpi import ChannelOf, Channels, Choice, Range, SCPIInstrument, Setting

_ESR_MEANING = {32: (-100, "command error"), 16: (-200, "execution error (value out of range)"),
                4: (-400, "query error")}
HEATER_RANGES = ("off", "low", "medium", "high")
_RANGE = Choice({**{name.upper(): str(i) for i, name in enumerate(HEATER_RANGES)},
                 **{i: str(i) for i in range(4)}, "MED": "2"})


class ControlLoop(ChannelOf):
    """Control output 1-4: setpoint (K; the bench's ``temperature`` limit applies) and heater range."""

    status_settings = ("setpoint", "heater_range", "heater_output")

    setpoint = Setting("SETP? {ch}", "SETP {ch},{value}", "control setpoint", "K", Range(0, 1500, "K"),
                       format=lambda v: f"{v:.3f}", limit="temperature")
    heater_range = Setting("RANGE? {ch}", "RANGE {ch},{value}", "heater range (off, low, medium, high)",
                           validator=_RANGE, parse=lambda s: HEATER_RANGES[int(s)])
    heater_output = Setting("HTR? {ch}", None, "heater output, percent of range", "%")

    def set_ramp(self, kelvin_per_minute: float | None) -> None:
        """Setpoint ramping at a rate (K/min), or off with None."""
        if kelvin_per_minute is None:
            self.write(f"RAMP {self.number},0,10")
        else:
            rate = Range(0.1, 100, "K/min")(self.name, "ramp rate", kelvin_per_minute)
            self.write(f"RAMP {self.number},1,{rate:g}")


class LakeShore336(SCPIInstrument):
    """Setpoints and heater ranges of control outputs 1-4 (``thermo.ch[1].setpoint = 350``),
    readings of inputs A-D (kelvin).  Safety limit used: ``temperature`` (K) on every setpoint.
    """

    models = ("MODEL336",)
    error_query = "*ESR?"
    status_settings = ("temperature",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ch = Channels(self.name, {n: ControlLoop(self, n) for n in (1, 2, 3, 4)})

    def next_error(self) -> tuple[int, str]:
        try:
            esr = int(self.adapter.query("*ESR?"))
        except ValueError:
            raise LinkError(f"{self.name}: unreadable reply to *ESR?") from None
        for bit, (code, text) in _ESR_MEANING.items():
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
