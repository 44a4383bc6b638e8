"""Keysight E36312A triple-output DC power supply, simulated: its outputs are the chip's rails.

Over-voltage protection latches: a trip turns the output off (``OUTP?``
answers 0) and ``VOLT:PROT:TRIP?`` answers 1 until ``VOLT:PROT:CLE``;
the output cannot be turned on while tripped (-221).  Current readings
average the rail's current since the previous reading of that output.
"""

from __future__ import annotations

from benchspec.models import e36312a
from benchspec.scpi import SCPIError, number

from .ports import Rails
from .scpi_device import SCPIDevice

MEASURE_S = 0.02  # one reading integrates about one power-line cycle


class KeysightE36312ASim(SCPIDevice):
    """E36312A: CH1 6 V/5 A, CH2 and CH3 25 V/1 A; channel lists or INST:SEL address outputs."""

    def __init__(self, rails: Rails) -> None:
        self.rails = rails
        self._selected = 1
        self._read_at: dict[int, tuple[float, float]] = {}
        super().__init__(e36312a.SPEC)
        c = self.command
        c(e36312a.SELECT, self._select_name)
        c(e36312a.SELECT + "?", lambda a: f"CH{self._selected}")
        c(e36312a.SELECT_NUMBER, lambda a: setattr(self, "_selected", int(number(a, 0, "channel", 1, 3))))
        c(e36312a.SELECT_NUMBER + "?", lambda a: str(self._selected))
        c(e36312a.CLEAR_PROTECTION, self._clear)
        c(e36312a.APPLY, self._apply)
        c(e36312a.MEASURE_VOLTAGE, lambda a: self._measure(a, "volts"))
        c(e36312a.MEASURE_CURRENT, lambda a: self._measure(a, "amps"))

    def reset(self) -> None:
        super().reset()
        self._selected = 1
        self.rails.apply({ch: 0.0 for ch in self.spec.channels})

    def power_on(self) -> None:
        self.reset()

    def before_command(self) -> None:
        self.rails.sync()

    def selected(self) -> int:
        return self._selected

    def output_voltage(self, channel: int) -> float:
        """Volts at an output's terminals (0 when off)."""
        return self.value("voltage", channel) if self.value("output", channel) else 0.0

    @property
    def outputs_on(self) -> list[int]:
        return [ch for ch in self.spec.channels if self.value("output", ch)]

    # ---------------------------------------------------------- physics
    def validate(self, name: str, channel: int | None, value: object) -> None:
        if name == "output" and value and self.value("ovp_tripped", channel):
            raise SCPIError(-221, "Settings conflict; over-voltage protection tripped, clear it first")

    def changed(self, name: str, channel: int | None) -> None:
        if name == "output" and self.value("output", channel):      # current readings average from here on
            self._read_at[channel] = (self.rails.charge(channel), self.rails.now())
        self._check_protection()
        self.rails.apply({ch: self.output_voltage(ch) for ch in self.spec.channels})

    def _check_protection(self) -> None:
        """A trip latches and turns the output off, as on the real supply."""
        for ch in self.spec.channels:
            if self.value("output", ch) and self.value("voltage", ch) > self.value("ovp", ch):
                self.store("ovp_tripped", True, ch)
                self.store("output", False, ch)

    # ---------------------------------------------------------- commands
    def _addressed(self, args: list[str]) -> list[int]:
        """The channels a channel-list argument (or the selection) names."""
        channels, rest = self._channels(self.spec.quantity("output"), args, query=True)
        if rest:
            raise SCPIError(-108, "Parameter not allowed")
        return [ch for ch in channels if ch is not None]

    def _select_name(self, args: list[str]) -> None:
        name = args[0].strip().upper() if args else ""
        if name not in ("CH1", "CH2", "CH3", "P6V", "P25V", "N25V"):
            raise SCPIError(-224, f"Illegal parameter value; {name!r}")
        self._selected = {"P6V": 1, "P25V": 2, "N25V": 3}.get(name, int(name[-1]) if name[-1].isdigit() else 1)

    def _clear(self, args: list[str]) -> None:
        """Clear the latch; the output stays off until it is turned on again."""
        for ch in self._addressed(args):
            self.store("ovp_tripped", False, ch)

    def _apply(self, args: list[str]) -> None:
        name = args[0].strip().upper() if args else ""
        channel = {"CH1": 1, "CH2": 2, "CH3": 3, "P6V": 1, "P25V": 2, "N25V": 3}.get(name)
        if channel is None:
            raise SCPIError(-224, f"Illegal parameter value; {name!r}")
        volts, amps = e36312a.RATINGS[channel]
        self.store("voltage", number(args, 1, "voltage", 0.0, volts), channel)
        if len(args) > 2:
            self.store("current", number(args, 2, "current", 0.0, amps), channel)
        self.changed("voltage", channel)

    def _measure(self, args: list[str], what: str) -> str:
        readings = []
        for ch in self._addressed(args):
            self.rails.advance(MEASURE_S)
            if what == "volts":
                readings.append(self.output_voltage(ch))
                continue
            charge, now = self.rails.charge(ch), self.rails.now()
            before, then = self._read_at.get(ch, (charge, now))
            amps = (charge - before) / (now - then) if now > then else 0.0
            self._read_at[ch] = (charge, now)
            readings.append(amps if self.output_voltage(ch) > 0 else 0.0)
        return ",".join(f"{r:+.6E}" for r in readings)
