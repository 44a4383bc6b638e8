"""What each simulated instrument sees of the world: one narrow port per instrument.

An instrument holds its port, never the world; :class:`~sim_chip.bench.world.World`
builds one adapter per port.  Every port can read the model time, bring the
die's temperature up to it and let time pass (an instrument that takes
time: a reading of N power-line cycles, a burst of pulses, a wait).
"""

from __future__ import annotations

from typing import Protocol


class Rails(Protocol):
    """What the supply sees: the chip's rails and the charge drawn from each."""

    def apply(self, volts_by_channel: dict[int, float]) -> None:
        """Put the outputs' voltages (V) on the rails their channels feed."""

    def charge(self, channel: int) -> float:
        """Charge drawn from a channel's rail since fabrication, C."""

    def now(self) -> float:
        """Model time, s."""

    def sync(self) -> None:
        """Bring the die temperature up to the model time."""

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of model time pass."""


class Load(Rails, Protocol):
    """What the SMU sees: the resistance of what it is wired to."""

    def resistance(self, volts: float, seconds: float) -> float:
        """Resistance (ohm, inf when open) under ``volts`` applied for ``seconds``."""


class Pulses(Rails, Protocol):
    """What the generator sees: the test MTJ's pads."""

    def pulse(self, volts: float, seconds: float, pulses: int) -> None:
        """``pulses`` pulses of ``seconds`` total width at ``volts`` on the test MTJ."""


class Thermal(Rails, Protocol):
    """What the temperature controller sees: the chuck (input A) and the room (input B)."""

    def chuck(self) -> float:
        """Chuck temperature, K."""

    def ambient(self) -> float:
        """Room temperature, K."""


class Sensor(Rails, Protocol):
    """What the DMM sees: the PT1000 at the die or the reference resistor, and the die's seed (its noise)."""

    def resistance(self) -> float:
        """The sensor's resistance, ohm."""

    def seed(self) -> int:
        """The die's seed."""


class Simulation(Rails, Protocol):
    """What the simulation's control instrument sees: time, and the die's fabrication."""

    def outputs_on(self) -> list[str]:
        """What is still driving the chip or its test structures (nothing, after a bench closes)."""

    def refabricate(self) -> None:
        """The die as it left fabrication, every instrument at power-on, time zero."""
