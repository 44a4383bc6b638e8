"""The coupled simulated bench: the MX64 model, its board and simulated lab instruments.

Each instrument implements its vendor's SCPI subset as the real one does
(short and long forms, the instrument's error numbers, the real model name
in ``*IDN?``) and acts on one shared :class:`~sim_chip.bench.world.World`:
the supply powers the chip, the SMU measures what the chip's test pad or
test MTJ presents, the generator's pulses switch the test MTJ, the
temperature controller heats the die with a thermal lag, the DMM reads a
sensor.  Time is virtual: the world's clock is the chip's model time.
"""

from benchspec.wiring import Wiring

from .world import World

__all__ = ["World", "Wiring"]
