"""The simulated bench's clock as an instrument, so that a remote host can wait in virtual time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchspec.scpi import number

from .scpi_device import SCPIDevice

if TYPE_CHECKING:
    from .world import World


class VirtualClockDevice(SCPIDevice):
    """The simulation's control instrument: ``SIMulation:TIME?`` reads model time (s);
    ``SIMulation:WAIT <s>`` lets time pass at once; ``SIMulation:REFabricate`` puts the die back to its
    fabricated state and every instrument to power-on (time zero)."""

    idn = "LABCTL,VIRTUAL-CLOCK,0,1.0"

    def __init__(self, world: "World") -> None:
        super().__init__()
        self.world = world
        self.command("SIMulation:TIME?", lambda a: f"{self.world.now:.9E}")
        self.command("SIMulation:WAIT", lambda a: self.world.advance(number(a, 0, "seconds", 0.0, 1e9)))
        self.command("SIMulation:REFabricate", lambda a: self.world.refabricate())
