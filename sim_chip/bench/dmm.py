"""Keysight 34465A digital multimeter, simulated on the board's sensor or reference resistor."""

from __future__ import annotations

from benchspec.models import keysight34465a as k34465a

from benchspec.scpi import SCPIError, number

from ..rng import derive_key, hash_uniform
from .ports import Sensor
from .scpi_device import SCPIDevice


class Keysight34465ASim(SCPIDevice):
    """34465A: 2- and 4-wire resistance and DC volts, NPLC integration, 6.5 digits."""

    def __init__(self, sensor: Sensor) -> None:
        self.sensor = sensor
        self.restart()
        super().__init__(k34465a.SPEC)
        c = self.command
        for function in k34465a.NODES:
            c(k34465a.CONFIGURE[function], lambda a, f=function: self._configure(f, a))
            c(k34465a.MEASURE[function], lambda a, f=function: self._configure(f, a) or self._readings())
        c("CONFigure?", lambda a: self._configuration())
        c(k34465a.READ, lambda a: self._readings())
        c("INITiate[:IMMediate]", lambda a: None)
        for function, header in k34465a.RESOLUTION.items():
            c(header, lambda a, f=function: self._set_resolution(f, a))
            c(header + "?", lambda a, f=function: f"{self._resolution(f):+.8E}")
        c(k34465a.CLEAR_TEXT, lambda a: self.store("display_text", ""))
        c("FETCh?", lambda a: self._readings())

    def power_on(self) -> None:
        self.restart()
        self.reset()

    def restart(self) -> None:
        """Reading noise from the start of the die's stream (power-on)."""
        self._key = derive_key(self.sensor.seed(), "dmm")
        self._reads = 0

    def _configure(self, function: str, args: list[str]) -> None:
        """CONFigure / MEASure: the function, then optionally its range (or AUTO) and resolution (manual 2.6)."""
        prefix = function.lower()
        if len(args) > 2:
            raise SCPIError(-108, f"Parameter not allowed; CONFigure:{function} takes range and resolution")
        low, high, initial = k34465a.RANGES[function]
        self.store("function", function)
        word = args[0].strip().upper() if args else "DEF"
        if word in ("AUTO", "DEF", "DEFAULT"):
            self.store(f"{prefix}_range_auto", True)
        else:
            self.store(f"{prefix}_range", number(args, 0, "range", low, high, initial))
            self.store(f"{prefix}_range_auto", False)
        if len(args) > 1 and args[1].strip().upper() not in ("DEF", "DEFAULT"):
            self._set_resolution(function, args[1:])

    def _configuration(self) -> str:
        """CONFigure?: the function, its range and its resolution."""
        function = self.value("function")
        return f'"{function} {self.value(function.lower() + "_range"):+.6E},{self._resolution(function):+.6E}"'

    def changed(self, name: str, channel: int | None) -> None:
        """An integration time in PLC ends aperture mode; an aperture time starts it (as the meter does)."""
        function, _, what = name.partition("_")
        if what == "nplc":
            self.store(f"{function}_aperture_enabled", False)
        elif what == "aperture":
            self.store(f"{function}_aperture_enabled", True)

    def _plc(self, function: str) -> float:
        """The integration time the meter uses, PLC: the next one it offers at or above the setting."""
        nplc = self.value(f"{function.lower()}_nplc")
        return min((p for p in k34465a.RESOLUTION_PPM if p >= nplc - 1e-12), default=max(k34465a.RESOLUTION_PPM))

    def _resolution(self, function: str) -> float:
        """Resolution in the function's unit: ppm of its range at its integration time."""
        return self.value(f"{function.lower()}_range") * k34465a.RESOLUTION_PPM[self._plc(function)] * 1e-6

    def _set_resolution(self, function: str, args: list[str]) -> None:
        """Choose the shortest integration time that resolves ``args[0]`` at the present range."""
        scale = self.value(f"{function.lower()}_range") * 1e-6
        finest, coarsest = (scale * min(k34465a.RESOLUTION_PPM.values()), scale * max(k34465a.RESOLUTION_PPM.values()))
        wanted = number(args, 0, "resolution", finest * (1 - 1e-9), coarsest * (1 + 1e-9), default=scale * 0.1)
        plc = min(p for p, ppm in k34465a.RESOLUTION_PPM.items() if scale * ppm <= wanted * (1 + 1e-9))
        self.store(f"{function.lower()}_nplc", plc)
        self.changed(f"{function.lower()}_nplc", None)

    def _readings(self) -> str:
        """READ?: one reading per sample and trigger of the configured function."""
        count = self.value("sample_count") * self.value("trigger_count")
        return ",".join(self._read(self.value("function")) for _ in range(count))

    def _read(self, function: str) -> str:
        nplc = self._plc(function)
        self.sensor.advance(nplc / k34465a.LINE_HZ)
        u = float(hash_uniform(self._key, self._reads)) - 0.5
        self._reads += 1
        if function == "VOLT":
            value = 2e-6 * u                         # open input: offset noise only
        else:
            noise = (3e-6 if function == "FRES" else 1e-5) / max(nplc, 0.01) ** 0.5
            value = self.sensor.resistance() * (1 + noise * u)
        return f"{value:+.9E}"
