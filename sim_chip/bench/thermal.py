"""The heated chuck and the Lake Shore 336 temperature controller that drives it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from benchspec.scpi import SCPIError, number

from .scpi_device import SCPIDevice

if TYPE_CHECKING:
    from .world import World

#: Highest temperature rise above ambient each heater range can hold, K (off, low, medium, high).
RANGE_RISE_K = (0.0, 20.0, 80.0, 250.0)
CHUCK_TAU_S = 60.0      # assumed: first-order thermal lag of chuck and die
SETPOINT_MAX_K = 500.0  # the chuck sensor's calibrated range


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

    idn = "LSCI,MODEL336,LSA21C7/7421130,2.9"
    terminator = "\r\n"
    _ESR_BITS = {-113: 32, -102: 32, -104: 32, -108: 32, -109: 32, -222: 16, -224: 16, -350: 4}

    def __init__(self, world: "World") -> None:
        super().__init__()
        self.world = world
        self._commands = [c for c in self._commands if not c[0].pattern.startswith("SYST")]
        self.reset()
        self.command("*ESR?", lambda a: str(self._read_esr()))
        self.command("SETP", self._set_setpoint)
        self.command("SETP?", lambda a: f"{self._setpoint_now(self._output(a)):+.3f}")
        self.command("RANGE", self._set_range)
        self.command("RANGE?", lambda a: str(self.range[self._output(a)]))
        self.command("RAMP", self._set_ramp)
        self.command("RAMP?", lambda a: "{},{:+.1f}".format(*self.ramp[self._output(a)][:2]))
        self.command("KRDG?", lambda a: f"{self._reading(a):+.3f}")
        self.command("CRDG?", lambda a: f"{self._reading(a) - 273.15:+.3f}")
        self.command("HTR?", lambda a: f"{self._heater_percent(self._output(a)):+.1f}")

    def reset(self) -> None:
        now = self.world.now
        self.setpoint = {o: self.world.chuck.temperature for o in (1, 2, 3, 4)}
        self.range = {o: 0 for o in (1, 2, 3, 4)}
        self.ramp = {o: (0, 10.0, now, self.setpoint[o]) for o in (1, 2, 3, 4)}  # on, K/min, start, from
        self.esr = 0

    def push_error(self, code: int, message: str) -> None:
        self.esr |= self._ESR_BITS.get(code, 16)

    def _read_esr(self) -> int:
        value, self.esr = self.esr, 0
        return value

    def before_command(self) -> None:
        self.world.sync()

    # ---------------------------------------------------------- helpers
    @staticmethod
    def _output(args: list[str]) -> int:
        return int(number(args, 0, "output", 1, 4))

    def _setpoint_now(self, output: int) -> float:
        """The setpoint in force, moving towards SETP at the ramp rate when ramping is on."""
        on, rate, start, origin = self.ramp[output]
        target = self.setpoint[output]
        if not on:
            return target
        travelled = rate / 60.0 * (self.world.now - start)
        return target if travelled >= abs(target - origin) else origin + math.copysign(travelled, target - origin)

    def ramping(self) -> bool:
        return self.range[1] > 0 and self._setpoint_now(1) != self.setpoint[1]

    def target(self) -> float:
        """Where output 1's heater drives the chuck, K."""
        ambient = 298.15
        rise = min(max(self._setpoint_now(1) - ambient, 0.0), RANGE_RISE_K[self.range[1]])
        return ambient + rise

    def _heater_percent(self, output: int) -> float:
        if output != 1 or self.range[1] == 0:
            return 0.0
        return 100.0 * min(max((self._setpoint_now(1) - 298.15) / RANGE_RISE_K[self.range[1]], 0.0), 1.0)

    def _reading(self, args: list[str]) -> float:
        if not args:
            raise SCPIError(-109, "Missing parameter; input")
        which = args[0].strip().upper()
        if which == "A":
            return self.world.chuck.temperature
        if which == "B":
            return 298.15
        if which in ("C", "D"):
            return 0.0           # no sensor fitted
        raise SCPIError(-224, f"Illegal parameter value; input {args[0]!r}")

    # ---------------------------------------------------------- setters
    def _set_setpoint(self, args: list[str]) -> None:
        output = self._output(args)
        value = number(args, 1, "setpoint", 0.0, SETPOINT_MAX_K)
        on, rate, _, _ = self.ramp[output]
        self.ramp[output] = (on, rate, self.world.now, self._setpoint_now(output))
        self.setpoint[output] = value

    def _set_range(self, args: list[str]) -> None:
        output = self._output(args)
        self.range[output] = int(number(args, 1, "range", 0, 3 if output <= 2 else 1))

    def _set_ramp(self, args: list[str]) -> None:
        output = self._output(args)
        on = int(number(args, 1, "ramp state", 0, 1))
        rate = number(args, 2, "ramp rate", 0.1, 100.0)
        self.ramp[output] = (on, rate, self.world.now, self._setpoint_now(output))
