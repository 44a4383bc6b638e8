"""One simulated world: the chip, its board and the instruments around it.

Wiring follows the datasheet's bench (section 6):

* Keysight E36312A: CH1 VDD, CH2 VDDIO, CH3 V_WRITE (channel numbers are
  settings of :class:`Wiring`).  An output that is off puts 0 V on its rail.
* Keithley 2450 on the analog test pad (the column the test multiplexer
  selects, with the held row inputs) or on the stand-alone test MTJ.
* Keysight 33600A/33500B channel 1 on the test MTJ (through a bias tee, so
  the SMU can read it between pulses).
* Lake Shore 336 heating the chuck; input A reads the die, input B ambient.
* Keysight 34465A on the board's PT1000 sensor (or a reference resistor).

Time is the chip's model time.  Instruments that take time (a measurement
of N power-line cycles, a burst of pulses, a wait) advance it through
:meth:`World.advance`, which also lets retention act and the die's
temperature follow the chuck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..board import Board
from ..errors import NotPowered
from ..macro import MX64
from ..parameters import ChipParameters
from .thermal import Chuck

AMBIENT_K = 298.15


@dataclass(frozen=True)
class Wiring:
    """What is connected where on the simulated bench."""

    vdd_channel: int = 1
    vddio_channel: int = 2
    vwrite_channel: int = 3
    smu: str = "test_pad"        #: "test_pad" or "test_mtj"
    dmm: str = "sensor"          #: "sensor" (PT1000 at the die) or "reference" (10 kOhm)

    def __post_init__(self) -> None:
        channels = {self.vdd_channel, self.vddio_channel, self.vwrite_channel}
        if channels != {1, 2, 3}:
            raise ValueError("wiring: vdd, vddio and vwrite need supply channels 1, 2 and 3, one each")
        if self.smu not in ("test_pad", "test_mtj"):
            raise ValueError(f"wiring: smu must be 'test_pad' or 'test_mtj', got {self.smu!r}")
        if self.dmm not in ("sensor", "reference"):
            raise ValueError(f"wiring: dmm must be 'sensor' or 'reference', got {self.dmm!r}")

    def rail_of_channel(self, channel: int) -> str:
        return {self.vdd_channel: "vdd", self.vddio_channel: "vddio", self.vwrite_channel: "vwrite"}[channel]


class World:
    """The coupled simulated bench of one die."""

    def __init__(self, die_seed: int = 1, params: ChipParameters | None = None,
                 wiring: Wiring | None = None) -> None:
        from .clock import VirtualClockDevice
        from .dmm import Keysight34465ASim
        from .generator import Keysight33600Sim
        from .smu import Keithley2450Sim
        from .supply import KeysightE36312ASim
        from .thermal import LakeShore336Sim

        self.chip = MX64(die_seed, params)
        self.board = Board(self.chip, supply="external")
        self.wiring = wiring or Wiring()
        self.chuck = Chuck(AMBIENT_K)
        self.supply = KeysightE36312ASim(self)
        self.smu = Keithley2450Sim(self)
        self.generator = Keysight33600Sim(self)
        self.thermo = LakeShore336Sim(self)
        self.dmm = Keysight34465ASim(self)
        self.clock = VirtualClockDevice(self)
        self._synced_at = self.now

    @property
    def now(self) -> float:
        """Model time, s."""
        return self.chip.elapsed_seconds

    def refabricate(self) -> None:
        """The die as it left fabrication (same seed), every instrument at power-on, time zero.

        Served devices stay the same objects, so connected clients keep their
        sessions; a second client then reproduces the first one's results.
        """
        self.chip = MX64(self.chip.seed, self.chip.params)
        self.board.insert(self.chip)
        self.chuck = Chuck(AMBIENT_K)
        self.dmm.restart()
        for device in self.instruments().values():
            device.errors.clear()
            device.reset()
        self._synced_at = self.now

    def instruments(self) -> dict:
        """Every simulated instrument by its bench name."""
        return {"supply": self.supply, "smu": self.smu, "generator": self.generator,
                "thermo": self.thermo, "dmm": self.dmm, "clock": self.clock}

    # ---------------------------------------------------------- coupling
    def rails_changed(self) -> None:
        """Put the supply's outputs on the chip's rails."""
        volts = {self.wiring.rail_of_channel(ch): self.supply.output_voltage(ch) for ch in (1, 2, 3)}
        self.chip.set_rails(**volts)

    def sync(self) -> None:
        """Bring the die temperature up to the model time (chip operations advance it too)."""
        dt = self.now - self._synced_at
        if dt > 0:
            self.chuck.evolve(dt, self.thermo.target())
            self._synced_at = self.now
        if abs(self.chuck.temperature - self.chip.temperature) > 0.01:
            self.chip.set_temperature(self.chuck.temperature)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of model time pass: temperature lag, retention, held biases."""
        self.sync()
        remaining = seconds
        while remaining > 0:
            # follow the chuck in steps short against its time constant while it is moving
            moving = self.thermo.ramping() or not self.chuck.settled(self.thermo.target())
            step = min(remaining, self.chuck.tau / 8) if moving else remaining
            self._hold_biases(step)
            self.chip.advance_idle(step)
            self.chuck.evolve(step, self.thermo.target())
            self._synced_at = self.now
            if abs(self.chuck.temperature - self.chip.temperature) > 0.01:
                self.chip.set_temperature(self.chuck.temperature)
            remaining -= step

    def _hold_biases(self, seconds: float) -> None:
        """What stays applied to the test MTJ while time passes: the SMU's source, running pulses."""
        if self.wiring.smu == "test_mtj" and self.smu.output:
            self.chip.test_mtj.apply(self.smu.applied_voltage(), seconds, self.chip.temperature)
        self.generator.continuous_stress(seconds)

    def load_resistance(self, volts: float, seconds: float) -> float:
        """Resistance the SMU sees while it applies ``volts`` for ``seconds`` (inf: open)."""
        self.sync()
        if self.wiring.smu == "test_mtj":
            mtj = self.chip.test_mtj
            mtj.apply(volts, seconds, self.chip.temperature)
            resistance = mtj.measure(volts, self.chip.temperature)
        else:
            try:
                resistance = self.chip.test_pad_resistance(volts)
            except NotPowered:
                resistance = math.inf   # the multiplexer is open without power
        self.advance(seconds)
        return resistance

    def pulse_test_mtj(self, volts: float, seconds: float, pulses: int = 1) -> None:
        """Generator pulses: ``pulses`` pulses of ``seconds`` total width at ``volts`` on the test MTJ's pads."""
        self.sync()
        self.chip.test_mtj.apply(volts, seconds, self.chip.temperature, pulses)

    def sensor_resistance(self) -> float:
        """What the DMM sees, ohm: PT1000 at the die temperature or the 10 kOhm reference."""
        self.sync()
        if self.wiring.dmm == "reference":
            return 10_000.0 * (1 + 2e-5 * math.sin(self.chip.seed))   # a fixed 0.002 % tolerance
        t = self.chip.temperature - 273.15
        return 1000.0 * (1 + 3.9083e-3 * t - 5.775e-7 * t * t)        # IEC 60751
