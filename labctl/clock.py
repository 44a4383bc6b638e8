"""The clock procedures wait on: real time on hardware, virtual time in simulation.

A wait on a virtual clock lets the simulated world's time pass at once, so a
100-hour bake takes as long as the physics needs to compute, not 100 hours.
"""

from __future__ import annotations

from typing import Any

from instruments.scpi import Adapter, WallClock

__all__ = ["WallClock", "WorldClock", "RemoteVirtualClock"]


class WorldClock:
    """Virtual time of an in-process simulated world."""

    def __init__(self, world: Any) -> None:
        self._world = world

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._world.advance(seconds)

    def now(self) -> float:
        return self._world.now


class RemoteVirtualClock:
    """Virtual time of a served simulated bench, through its clock instrument."""

    def __init__(self, adapter: Adapter) -> None:
        self._adapter = adapter

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._adapter.write(f"SIM:WAIT {seconds:.9g}")
            self._adapter.query("*OPC?")

    def now(self) -> float:
        return float(self._adapter.query("SIM:TIME?"))

    def refabricate(self) -> None:
        """The served die back to its fabricated state, every instrument to power-on, time zero."""
        self._adapter.write("SIM:REF")
        self._adapter.query("*OPC?")

    def close(self) -> None:
        self._adapter.close()
