"""Lake Shore Model 336 temperature controller (Model 336 User's Manual, chapter 6).

The 336 speaks IEEE-488 commands without an SCPI error queue: a refused
command sets the standard event status register, read with ``*ESR?``
(bit 5 command error, bit 4 execution error, bit 2 query error).
"""

from __future__ import annotations

from .errors import LinkError
from .scpi import Range, SCPIInstrument

_ESR_MEANING = {32: (-100, "command error"), 16: (-200, "execution error (value out of range)"),
                4: (-400, "query error")}


class LakeShore336(SCPIInstrument):
    """Setpoints and heater ranges of outputs 1-4, readings of inputs A-D (kelvin).

    Safety limit used: ``temperature`` (K) on every setpoint.
    """

    models = ("MODEL336",)
    error_query = "*ESR?"
    HEATER_RANGES = {"off": 0, "low": 1, "medium": 2, "high": 3}

    def next_error(self) -> tuple[int, str]:
        try:
            esr = int(self.adapter.query("*ESR?"))
        except ValueError:
            raise LinkError(f"{self.name}: unreadable reply to *ESR?") from None
        for bit, (code, text) in _ESR_MEANING.items():
            if esr & bit:
                return code, f"{text} (ESR={esr})"
        return 0, "No error"

    def setpoint(self, output: int = 1) -> float:
        return float(self.ask(f"SETP? {self._output(output)}"))

    def set_setpoint(self, kelvin: float, output: int = 1) -> None:
        """Control setpoint (K); the bench's ``temperature`` limit applies."""
        kelvin = Range(0, 1500, "K")(self.name, "setpoint", kelvin)
        self.limits.check(self.name, "temperature", kelvin)
        self.write(f"SETP {self._output(output)},{kelvin:.3f}")

    def heater_range(self, output: int = 1) -> int:
        return int(self.ask(f"RANGE? {self._output(output)}"))

    def set_heater_range(self, level: str | int, output: int = 1) -> None:
        """``off``, ``low``, ``medium``, ``high`` (or 0-3)."""
        value = self.HEATER_RANGES.get(level, level) if isinstance(level, str) else level
        value = int(Range(0, 3)(self.name, "heater range", value))
        self.write(f"RANGE {self._output(output)},{value}")

    def set_ramp(self, kelvin_per_minute: float | None, output: int = 1) -> None:
        """Setpoint ramping at a rate (K/min), or off with None."""
        if kelvin_per_minute is None:
            self.write(f"RAMP {self._output(output)},0,10")
        else:
            rate = Range(0.1, 100, "K/min")(self.name, "ramp rate", kelvin_per_minute)
            self.write(f"RAMP {self._output(output)},1,{rate:g}")

    def temperature(self, sensor: str = "A") -> float:
        """Kelvin reading of input A-D."""
        if sensor.upper() not in ("A", "B", "C", "D"):
            raise ValueError(f"{self.name}: sensor must be A-D, got {sensor!r}")
        return float(self.ask(f"KRDG? {sensor.upper()}"))

    def heater_output(self, output: int = 1) -> float:
        """Heater output, percent of range."""
        return float(self.ask(f"HTR? {self._output(output)}"))

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

    def _output(self, output: int) -> int:
        return int(Range(1, 4)(self.name, "output", output))

    def shutdown(self) -> None:
        """Heaters off."""
        for output in (1, 2):
            self.write(f"RANGE {output},0")
