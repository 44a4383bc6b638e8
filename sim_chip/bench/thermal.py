"""The heated chuck and the Lake Shore 336 temperature controller that drives it."""

from __future__ import annotations

import math
from benchspec.models import lakeshore336 as ls336
from benchspec.scpi import SCPIError, number

from .ports import Thermal
from .scpi_device import SCPIDevice

#: Highest temperature rise above ambient each heater range can hold, K (off, low, medium, high).
RANGE_RISE_K = (0.0, 20.0, 80.0, 250.0)
CHUCK_TAU_S = 60.0      # assumed: first-order thermal lag of chuck and die


class Chuck:
    """Die temperature following a target with a first-order lag."""

    tau = CHUCK_TAU_S

    def __init__(self, temperature: float) -> None:
        self.temperature = temperature

    def evolve(self, seconds: float, target: float) -> None:
        self.temperature = target + (self.temperature - target) * math.exp(-seconds / self.tau)

    def settled(self, target: float) -> bool:
        return abs(self.temperature - target) < 1e-3


class LakeShore336Sim(SCPIDevice):
    """Lake Shore Model 336: IEEE-488 commands, errors in the standard event status register."""

    _ESR_BITS = {-113: 32, -102: 32, -104: 32, -108: 32, -109: 32, -222: 16, -224: 16, -350: 4}

    def __init__(self, thermal: Thermal) -> None:
        self.thermal = thermal
        self.esr = 0
        super().__init__(ls336.SPEC)
        self._commands = [c for c in self._commands if not c[0].pattern.startswith("SYST")]
        self.command("*ESR?", lambda a: str(self._read_esr()))
        self.command(ls336.RAMP, self._set_ramp)
        self.command(ls336.RAMP + "?", lambda a: "{},{:+.1f}".format(*self.ramp[self._output(a)][:2]))
        self.command(ls336.READING_KELVIN, lambda a: f"{self._reading(a):+.3f}")
        self.command(ls336.READING_CELSIUS, lambda a: f"{self._reading(a) - 273.15:+.3f}")

    def initial(self, q, channel):
        return self.thermal.chuck() if q.name == "setpoint" else super().initial(q, channel)

    def reset(self) -> None:
        super().reset()
        now = self.thermal.now()
        self.ramp = {o: (0, 10.0, now, self.value("setpoint", o)) for o in self.spec.channels}  # on, K/min, from
        self.esr = 0

    def power_on(self) -> None:
        self.reset()

    @property
    def range(self) -> dict[int, int]:
        """Heater range of each output, 0 (off) .. 3 (high)."""
        return {o: int(self.value("heater_range", o)) for o in self.spec.channels}

    @property
    def setpoint(self) -> dict[int, float]:
        return {o: self.value("setpoint", o) for o in self.spec.channels}

    def push_error(self, code: int, message: str) -> None:
        self.esr |= self._ESR_BITS.get(code, 16)

    def _read_esr(self) -> int:
        value, self.esr = self.esr, 0
        return value

    def before_command(self) -> None:
        self.thermal.sync()

    # ---------------------------------------------------------- physics
    def validate(self, name: str, channel: int | None, value: object) -> None:
        if name == "heater_range" and channel and channel > 2 and int(value) > 1:
            raise SCPIError(-222, f"Data out of range; analog output {channel} has ranges 0 and 1")
        if name == "setpoint":                    # a ramp to the new setpoint starts from where it is now
            on, rate = self.ramp[channel][:2]
            self.ramp[channel] = (on, rate, self.thermal.now(), self._setpoint_now(channel))

    def current(self, name: str, channel: int | None) -> object:
        if name == "setpoint":
            return self._setpoint_now(channel)
        if name == "heater_output":
            return self._heater_percent(channel)
        return super().current(name, channel)

    @staticmethod
    def _output(args: list[str]) -> int:
        return int(number(args, 0, "output", 1, 4))

    def _setpoint_now(self, output: int) -> float:
        """The setpoint in force, moving towards SETP at the ramp rate when ramping is on."""
        on, rate, start, origin = self.ramp[output]
        target = self.value("setpoint", output)
        if not on:
            return target
        travelled = rate / 60.0 * (self.thermal.now() - start)
        return target if travelled >= abs(target - origin) else origin + math.copysign(travelled, target - origin)

    def ramping(self) -> bool:
        return self.range[1] > 0 and self._setpoint_now(1) != self.value("setpoint", 1)

    def target(self) -> float:
        """Where output 1's heater drives the chuck, K."""
        ambient = self.thermal.ambient()
        rise = min(max(self._setpoint_now(1) - ambient, 0.0), RANGE_RISE_K[self.range[1]])
        return ambient + rise

    def _heater_percent(self, output: int) -> float:
        if output != 1 or self.range[1] == 0:
            return 0.0
        return 100.0 * min(max((self._setpoint_now(1) - self.thermal.ambient()) / RANGE_RISE_K[self.range[1]],
                               0.0), 1.0)

    def _reading(self, args: list[str]) -> float:
        if not args:
            raise SCPIError(-109, "Missing parameter; input")
        which = args[0].strip().upper()
        if which == "A":
            return self.thermal.chuck()
        if which == "B":
            return self.thermal.ambient()
        if which in ("C", "D"):
            return 0.0           # no sensor fitted
        raise SCPIError(-224, f"Illegal parameter value; input {args[0]!r}")

    def _set_ramp(self, args: list[str]) -> None:
        output = self._output(args)
        on = int(number(args, 1, "ramp state", 0, 1))
        rate = number(args, 2, "ramp rate", 0.1, 100.0)
        self.ramp[output] = (on, rate, self.thermal.now(), self._setpoint_now(output))
