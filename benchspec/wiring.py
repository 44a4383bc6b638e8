"""What is connected where on the bench: one description for the host's bench files and the simulated bench."""

from __future__ import annotations

from dataclasses import dataclass

from .mx64 import RAILS

SMU_TARGETS = ("test_pad", "test_mtj")
DMM_TARGETS = ("sensor", "reference")


@dataclass(frozen=True)
class Wiring:
    """The supply channel of each rail, what the SMU and the DMM are connected to."""

    vdd: int = 1
    vddio: int = 2
    vwrite: int = 3
    smu: str = "test_pad"        #: the analog test pad (a column through the test multiplexer) or the test MTJ
    dmm: str = "sensor"          #: the PT1000 at the die, or a 10 kOhm reference resistor

    def __post_init__(self) -> None:
        if sorted((self.vdd, self.vddio, self.vwrite)) != [1, 2, 3]:
            raise ValueError("wiring: vdd, vddio and vwrite need supply channels 1, 2 and 3, one each")
        if self.smu not in SMU_TARGETS:
            raise ValueError(f"wiring: smu must be one of {', '.join(SMU_TARGETS)}, got {self.smu!r}")
        if self.dmm not in DMM_TARGETS:
            raise ValueError(f"wiring: dmm must be one of {', '.join(DMM_TARGETS)}, got {self.dmm!r}")

    def channel(self, rail: str) -> int:
        """The supply channel feeding ``rail``."""
        return int(getattr(self, rail))

    def rail_of_channel(self, channel: int) -> str:
        return next(rail for rail in RAILS if self.channel(rail) == channel)
