"""One simulated world: the chip, its board and the instruments around it.

Wiring follows the datasheet's bench (section 6) and :class:`benchspec.wiring.Wiring`:

* Keysight E36312A: the rails VDD, VDDIO, V_WRITE on the channels the wiring
  names.  An output that is off puts 0 V on its rail.
* Keithley 2450 on the analog test pad (the column the test multiplexer
  selects, with the held row inputs) or on the stand-alone test MTJ.
* Keysight 33600A/33500B channel 1 on the test MTJ (through a bias tee, so
  the SMU can read it between pulses).
* Lake Shore 336 heating the chuck; input A reads the die, input B ambient.
* Keysight 34465A on the board's PT1000 sensor (or a reference resistor).

Each instrument sees the world through a narrow port (:mod:`.ports`:
``Rails``, ``Load``, ``Pulses``, ``Thermal``, ``Sensor``, ``Simulation``),
never the world itself; the world builds one adapter per port.  Time is the chip's model
time.  Instruments that take time (a measurement of N power-line cycles, a
burst of pulses, a wait) advance it through :meth:`World.advance`, which
also lets retention act and the die's temperature follow the chuck.
"""

from __future__ import annotations

import math

from benchspec.wiring import Wiring

from ..board import Board
from ..die import DieMaps
from ..errors import NotPowered
from ..macro import MX64
from ..parameters import ChipParameters
from .clock import VirtualClockDevice
from .dmm import Keysight34465ASim
from .generator import Keysight33600Sim
from .smu import Keithley2450Sim
from .supply import KeysightE36312ASim
from .thermal import Chuck, LakeShore336Sim

AMBIENT_K = 298.15


class _Rails:
    """The supply's port (:class:`ports.Rails`) on a world; the other ports add to it."""

    def __init__(self, world: World) -> None:
        self._world = world

    def apply(self, volts_by_channel: dict[int, float]) -> None:
        w = self._world
        w.chip.set_rails(**{w.wiring.rail_of_channel(ch): v for ch, v in volts_by_channel.items()})

    def charge(self, channel: int) -> float:
        w = self._world
        return w.chip.energy.charge[w.wiring.rail_of_channel(channel)]

    def now(self) -> float:
        return self._world.now

    def sync(self) -> None:
        self._world.sync()

    def advance(self, seconds: float) -> None:
        self._world.advance(seconds)


class _Load(_Rails):
    def resistance(self, volts: float, seconds: float) -> float:
        return self._world.load_resistance(volts, seconds)


class _Pulses(_Rails):
    def pulse(self, volts: float, seconds: float, pulses: int) -> None:
        self._world.pulse_test_mtj(volts, seconds, pulses)


class _Thermal(_Rails):
    def chuck(self) -> float:
        return self._world.chuck.temperature

    def ambient(self) -> float:
        return AMBIENT_K


class _Sensor(_Rails):
    def resistance(self) -> float:
        return self._world.sensor_resistance()

    def seed(self) -> int:
        return self._world.chip.seed


class _Simulation(_Rails):
    def outputs_on(self) -> list[str]:
        return self._world.outputs_on()

    def refabricate(self) -> None:
        self._world.refabricate()


class World:
    """The coupled simulated bench of one die."""

    def __init__(self, die_seed: int = 1, params: ChipParameters | None = None,
                 wiring: Wiring | None = None, maps: DieMaps | None = None) -> None:
        self.maps = maps                    #: measured per-cell and per-column values the die is built from
        self.chip = MX64(die_seed, params, maps=maps)
        self.board = Board(self.chip, supply="external")
        self.wiring = wiring or Wiring()
        self.chuck = Chuck(AMBIENT_K)
        self._synced_at = self.now
        self.supply = KeysightE36312ASim(_Rails(self))
        self.smu = Keithley2450Sim(_Load(self))
        self.generator = Keysight33600Sim(_Pulses(self))
        self.thermo = LakeShore336Sim(_Thermal(self))
        self.dmm = Keysight34465ASim(_Sensor(self))
        self.clock = VirtualClockDevice(_Simulation(self))

    @property
    def now(self) -> float:
        """Model time, s."""
        return self.chip.elapsed_seconds

    def instruments(self) -> dict:
        """Every simulated instrument by its bench name."""
        return {"supply": self.supply, "smu": self.smu, "generator": self.generator,
                "thermo": self.thermo, "dmm": self.dmm, "clock": self.clock}

    def outputs_on(self) -> list[str]:
        """What is still driving the chip or its test structures (nothing, after a bench closes)."""
        on = [f"supply CH{ch}" for ch in self.supply.outputs_on]
        on += ["SMU"] if self.smu.output_on() else []
        on += [f"generator CH{n}" for n in self.generator.spec.channels if self.generator.output_on(n)]
        on += ["heater"] if any(self.thermo.range.values()) else []
        return on

    def refabricate(self) -> None:
        """The die as it left fabrication (same seed), every instrument at power-on, time zero.

        Served devices stay the same objects, so connected clients keep their
        sessions; a second client then reproduces the first one's results.
        """
        self.chip = MX64(self.chip.seed, self.chip.params, maps=self.maps)
        self.board.insert(self.chip)
        self.chuck = Chuck(AMBIENT_K)
        self._synced_at = self.now
        for device in self.instruments().values():
            device.errors.clear()
            device.power_on()

    # ---------------------------------------------------------- coupling
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
        if self.wiring.smu == "test_mtj" and self.smu.output_on():
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
