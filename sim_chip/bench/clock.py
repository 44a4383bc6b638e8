"""The simulated bench's control instrument, so that a remote host can wait in virtual time."""

from __future__ import annotations

from benchspec.instrument import CommandSet
from benchspec.scpi import number

from .ports import Simulation
from .scpi_device import SCPIDevice

SPEC = CommandSet(models=("VIRTUAL-CLOCK",), idn="LABCTL,VIRTUAL-CLOCK,0,1.0", role="clock")


class VirtualClockDevice(SCPIDevice):
    """``SIMulation:TIME?`` reads model time (s); ``SIMulation:WAIT <s>`` lets time pass at once;
    ``SIMulation:REFabricate`` puts the die back to its fabricated state and every instrument to
    power-on (time zero)."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation
        super().__init__(SPEC)
        self.command("SIMulation:TIME?", lambda a: f"{self.simulation.now():.9E}")
        self.command("SIMulation:WAIT", lambda a: self.simulation.advance(number(a, 0, "seconds", 0.0, 1e9)))
        self.command("SIMulation:REFabricate", lambda a: self.simulation.refabricate())

    def power_on(self) -> None:
        self.reset()
