"""Keysight 34465A digital multimeter, simulated on the board's sensor or reference resistor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rng import derive_key, hash_uniform
from benchspec.scpi import choice, number

from .scpi_device import SCPIDevice

if TYPE_CHECKING:
    from .world import World

LINE_HZ = 50.0
_FUNCTIONS = {"RES": "RES", "RESISTANCE": "RES", "FRES": "FRES", "FRESISTANCE": "FRES",
              "VOLT": "VOLT", "VOLT:DC": "VOLT", "VOLTAGE": "VOLT", "VOLTAGE:DC": "VOLT"}
_REPLY = {"RES": '"RES"', "FRES": '"FRES"', "VOLT": '"VOLT"'}


class Keysight34465ASim(SCPIDevice):
    """34465A: 2- and 4-wire resistance and DC volts, NPLC integration, 6.5 digits."""

    idn = "Keysight Technologies,34465A,MY57503309,A.03.01-02.40-03.01-00.52-04-02"

    def __init__(self, world: "World") -> None:
        super().__init__()
        self.world = world
        self.restart()
        self.reset()
        c = self.command
        for f, name in (("RESistance", "RES"), ("FRESistance", "FRES"), ("VOLTage[:DC]", "VOLT")):
            c(f"CONFigure:{f}", lambda a, n=name: setattr(self, "function", n))
            c(f"MEASure:{f}?", lambda a, n=name: self._read(n))
            c(f"[SENSe:]{f}:NPLCycles", lambda a: setattr(self, "nplc", number(a, 0, "NPLC", 0.001, 100)))
            c(f"[SENSe:]{f}:NPLCycles?", lambda a: f"{self.nplc:+.8E}")
        c("[SENSe:]FUNCtion[:ON]", lambda a: setattr(self, "function", choice(a, 0, "function", _FUNCTIONS)))
        c("[SENSe:]FUNCtion[:ON]?", lambda a: _REPLY[self.function])
        c("CONFigure?", lambda a: f'"{self.function} +1.000000E+04,+1.000000E-06"')
        c("READ?", lambda a: self._read(self.function))
        c("INITiate[:IMMediate]", lambda a: None)
        c("FETCh?", lambda a: self._read(self.function))

    def reset(self) -> None:
        self.function, self.nplc = "VOLT", 10.0

    def restart(self) -> None:
        """Reading noise from the start of the die's stream (power-on)."""
        self._key = derive_key(self.world.chip.seed, "dmm")
        self._reads = 0

    def _read(self, function: str) -> str:
        self.world.advance(self.nplc / LINE_HZ)
        u = float(hash_uniform(self._key, self._reads)) - 0.5
        self._reads += 1
        if function == "VOLT":
            value = 2e-6 * u                         # open input: offset noise only
        else:
            noise = (3e-6 if function == "FRES" else 1e-5) / max(self.nplc, 0.01) ** 0.5
            value = self.world.sensor_resistance() * (1 + noise * u)
        return f"{value:+.9E}"
