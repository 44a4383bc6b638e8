"""Keysight 34465A digital multimeter, simulated on the board's sensor or reference resistor."""

from __future__ import annotations

from benchspec.models import keysight34465a as k34465a

from ..rng import derive_key, hash_uniform
from .scpi_device import SCPIDevice
from .world import Sensor


class Keysight34465ASim(SCPIDevice):
    """34465A: 2- and 4-wire resistance and DC volts, NPLC integration, 6.5 digits."""

    def __init__(self, sensor: Sensor) -> None:
        self.sensor = sensor
        self.restart()
        super().__init__(k34465a.SPEC)
        c = self.command
        for function in k34465a.NODES:
            c(k34465a.CONFIGURE[function], lambda a, f=function: self.store("function", f))
            c(k34465a.MEASURE[function], lambda a, f=function: self._read(f))
        c("CONFigure?", lambda a: f'"{self.value("function")} +1.000000E+04,+1.000000E-06"')
        c(k34465a.READ, lambda a: self._read(self.value("function")))
        c("INITiate[:IMMediate]", lambda a: None)
        c("FETCh?", lambda a: self._read(self.value("function")))

    def power_on(self) -> None:
        self.restart()
        self.reset()

    def restart(self) -> None:
        """Reading noise from the start of the die's stream (power-on)."""
        self._key = derive_key(self.sensor.seed(), "dmm")
        self._reads = 0

    def _read(self, function: str) -> str:
        nplc = self.value(f"{function.lower()}_nplc")
        self.sensor.advance(nplc / k34465a.LINE_HZ)
        u = float(hash_uniform(self._key, self._reads)) - 0.5
        self._reads += 1
        if function == "VOLT":
            value = 2e-6 * u                         # open input: offset noise only
        else:
            noise = (3e-6 if function == "FRES" else 1e-5) / max(nplc, 0.01) ** 0.5
            value = self.sensor.resistance() * (1 + noise * u)
        return f"{value:+.9E}"
