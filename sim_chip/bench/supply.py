"""Keysight E36312A triple-output DC power supply, simulated and wired to the chip's rails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchspec.scpi import SCPIError, boolean, channel_list, number

from .scpi_device import SCPIDevice

if TYPE_CHECKING:
    from .world import World

#: (max volts, max amps) of each output, from the E36312A's programming ranges.
RATINGS = {1: (6.18, 5.15), 2: (25.75, 1.03), 3: (25.75, 1.03)}
MEASURE_S = 0.02  # one reading integrates about one power-line cycle


@dataclass
class Output:
    volts: float = 0.0
    amps: float = 1.0
    on: bool = False
    ovp: float = 0.0
    tripped: bool = False
    charge_read: float = 0.0   # rail charge at the previous current reading, C
    time_read: float = 0.0


class KeysightE36312ASim(SCPIDevice):
    """E36312A: CH1 6 V/5 A, CH2 and CH3 25 V/1 A; channel lists or INST:SEL address outputs."""

    idn = "Keysight Technologies,E36312A,MY59004417,2.1.0-1.0.4-1.12"

    def __init__(self, world: "World") -> None:
        super().__init__()
        self.world = world
        self.reset()
        c = self.command
        c("INSTrument[:SELect]", self._select_name)
        c("INSTrument[:SELect]?", lambda a: f"CH{self.selected}")
        c("INSTrument:NSELect", lambda a: setattr(self, "selected", int(number(a, 0, "channel", 1, 3))))
        c("INSTrument:NSELect?", lambda a: str(self.selected))
        c("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]", lambda a: self._set(a, "volts"))
        c("[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude]?", lambda a: self._get(a, "volts"))
        c("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]", lambda a: self._set(a, "amps"))
        c("[SOURce:]CURRent[:LEVel][:IMMediate][:AMPLitude]?", lambda a: self._get(a, "amps"))
        c("[SOURce:]VOLTage:PROTection[:LEVel]", lambda a: self._set(a, "ovp"))
        c("[SOURce:]VOLTage:PROTection[:LEVel]?", lambda a: self._get(a, "ovp"))
        c("[SOURce:]VOLTage:PROTection:TRIPped?", self._tripped)
        c("[SOURce:]VOLTage:PROTection:CLEar", self._clear)
        c("OUTPut[:STATe]", self._set_output)
        c("OUTPut[:STATe]?", lambda a: ",".join("1" if self.outputs[ch].on else "0" for ch in self._channels(a, 0)))
        c("APPLy", self._apply)
        c("MEASure[:SCALar]:VOLTage[:DC]?", lambda a: self._measure(a, "volts"))
        c("MEASure[:SCALar]:CURRent[:DC]?", lambda a: self._measure(a, "amps"))

    def reset(self) -> None:
        self.outputs = {ch: Output(ovp=self._maximum(ch, "ovp")) for ch in (1, 2, 3)}
        self.selected = 1
        if hasattr(self.world, "supply"):
            self.world.rails_changed()

    def before_command(self) -> None:
        self.world.sync()

    def output_voltage(self, channel: int) -> float:
        """Volts at an output's terminals (0 when off)."""
        out = self.outputs[channel]
        return out.volts if out.on else 0.0

    # ---------------------------------------------------------- helpers
    def _channels(self, args: list[str], index: int) -> list[int]:
        """The channel list argument at ``index``, or the selected channel."""
        if len(args) > index and args[index].startswith("("):
            return channel_list(args[index], (1, 2, 3))
        if len(args) > index + 1:
            raise SCPIError(-108, "Parameter not allowed")
        return [self.selected]

    def _select_name(self, args: list[str]) -> None:
        name = args[0].strip().upper() if args else ""
        if name not in ("CH1", "CH2", "CH3", "P6V", "P25V", "N25V"):
            raise SCPIError(-224, f"Illegal parameter value; {name!r}")
        self.selected = {"P6V": 1, "P25V": 2, "N25V": 3}.get(name, int(name[-1]) if name[-1].isdigit() else 1)

    @staticmethod
    def _maximum(channel: int, field: str) -> float:
        volts, amps = RATINGS[channel]
        return {"volts": volts, "amps": amps, "ovp": volts * 1.1 + 0.5}[field]

    def _set(self, args: list[str], field: str) -> None:
        channels = self._channels(args, 1)
        value = number(args, 0, field, 0.0, min(self._maximum(ch, field) for ch in channels))
        for ch in channels:
            setattr(self.outputs[ch], field, value)
        self._check_ovp()
        self.world.rails_changed()

    def _get(self, args: list[str], field: str) -> str:
        return ",".join(f"{getattr(self.outputs[ch], field):+.6E}" for ch in self._channels(args, 0))

    def _set_output(self, args: list[str]) -> None:
        state = boolean(args, 0, "output state")
        channels = self._channels(args, 1)
        if state and any(self.outputs[ch].tripped for ch in channels):
            raise SCPIError(-221, "Settings conflict; over-voltage protection tripped, clear it first")
        for ch in channels:
            out = self.outputs[ch]
            if state and not out.on:   # current readings average from here on
                out.charge_read = self.world.chip.energy.charge[self.world.wiring.rail_of_channel(ch)]
                out.time_read = self.world.now
            out.on = state
        self._check_ovp()
        self.world.rails_changed()

    def _apply(self, args: list[str]) -> None:
        name = args[0].strip().upper() if args else ""
        channel = {"CH1": 1, "CH2": 2, "CH3": 3, "P6V": 1, "P25V": 2, "N25V": 3}.get(name)
        if channel is None:
            raise SCPIError(-224, f"Illegal parameter value; {name!r}")
        volts = number(args, 1, "voltage", 0.0, RATINGS[channel][0])
        amps = number(args, 2, "current", 0.0, RATINGS[channel][1]) if len(args) > 2 else self.outputs[channel].amps
        self.outputs[channel].volts, self.outputs[channel].amps = volts, amps
        self._check_ovp()
        self.world.rails_changed()

    def _check_ovp(self) -> None:
        """A trip latches and turns the output off, as on the real supply (OUTP? then answers 0)."""
        for out in self.outputs.values():
            if out.on and out.volts > out.ovp:
                out.tripped, out.on = True, False

    def _tripped(self, args: list[str]) -> str:
        return ",".join("1" if self.outputs[ch].tripped else "0" for ch in self._channels(args, 0))

    def _clear(self, args: list[str]) -> None:
        """Clear the latch; the output stays off until it is turned on again."""
        for ch in self._channels(args, 0):
            self.outputs[ch].tripped = False
        self.world.rails_changed()

    def _measure(self, args: list[str], what: str) -> str:
        readings = []
        for ch in self._channels(args, 0):
            out = self.outputs[ch]
            self.world.advance(MEASURE_S)
            if what == "volts":
                readings.append(self.output_voltage(ch))
                continue
            rail = self.world.wiring.rail_of_channel(ch)
            charge, now = self.world.chip.energy.charge[rail], self.world.now
            amps = (charge - out.charge_read) / (now - out.time_read) if now > out.time_read else 0.0
            out.charge_read, out.time_read = charge, now
            readings.append(amps if self.output_voltage(ch) > 0 else 0.0)
        return ",".join(f"{r:+.6E}" for r in readings)
