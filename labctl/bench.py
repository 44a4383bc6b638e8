"""Bench configuration: which instruments, how they are wired, and the safety limits.

A bench is a chip, the instruments around it, a clock and the limits that
every driver checks before it sends anything.  It comes from a TOML bench
file (:func:`load_bench`) or is the built-in simulated bench
(:func:`default_bench`: in process, no sockets, no file).  Use it as a
context manager: leaving it, normally or through an exception or Ctrl-C,
turns every output off.

Bench file::

    [chip]
    resource = "socket://127.0.0.1:5025"   # "sim", "sim:<seed>", a serial port or pyserial URL
    [clock]
    kind = "virtual"                        # "wall" on real hardware
    resource = "TCPIP::127.0.0.1::5031::SOCKET"
    [instruments.supply]
    driver = "keysight_e36312a"
    resource = "TCPIP::127.0.0.1::5026::SOCKET"
    options = { timeout = 5.0 }
    [wiring]
    vdd = 1                                 # supply channel of each rail
    vddio = 2
    vwrite = 3
    smu = "test_pad"                        # or "test_mtj"
    [rails]                                 # nominal rail voltages, V
    vdd = 0.9
    vddio = 1.8
    vwrite = 1.5
    [limits]                                # see SafetyLimits
    vwrite_max = 1.6
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instruments.errors import InstrumentError, LinkError
from instruments.keithley_2450 import Keithley2450
from instruments.keysight_33500 import Keysight33500
from instruments.keysight_34465a import Keysight34465A
from instruments.keysight_e36312a import KeysightE36312A
from instruments.lakeshore_336 import LakeShore336
from instruments.scpi import InProcessAdapter, Limits, SCPIInstrument, VisaAdapter, WallClock

from .chip import Chip, open_chip
from .clock import RemoteVirtualClock, WorldClock

#: driver name -> (class, bench role, reply terminator)
DRIVERS: dict[str, tuple[type[SCPIInstrument], str, str]] = {
    "keysight_e36312a": (KeysightE36312A, "supply", "\n"),
    "keithley_2450": (Keithley2450, "smu", "\n"),
    "keysight_33500": (Keysight33500, "generator", "\n"),
    "lakeshore_336": (LakeShore336, "thermo", "\r\n"),
    "keysight_34465a": (Keysight34465A, "dmm", "\n"),
}
ROLES = ("supply", "smu", "generator", "thermo", "dmm")


class BenchConfigError(ValueError):
    """A bench file or bench setting that cannot be used; the message names the key."""


@dataclass(frozen=True)
class SafetyLimits:
    """What a bug must never be able to do to the chip or its test structures.

    Defaults keep V_WRITE at 1.6 V: with the 3 kOhm access FET in series an
    MTJ then sees at most ~1.25 V, clear of the ~1.5 V breakdown region.
    """

    vdd_max: float = 0.99            # V, core rail (nominal 0.9 + 10 %)
    vddio_max: float = 1.98          # V, I/O rail (nominal 1.8 + 10 %)
    vwrite_max: float = 1.6          # V, write rail
    rail_current_max: float = 0.1    # A, every supply channel's current limit
    smu_voltage_max: float = 1.0     # V, on the test pad or the test MTJ
    smu_current_max: float = 1e-3    # A, SMU compliance
    pulse_amplitude_max: float = 1.2  # V, generator levels into the test MTJ
    pulse_width_max: float = 1e-3    # s, generator pulse width
    temperature_max: float = 423.15  # K, chuck setpoint (150 degC)

    def bounds(self) -> dict[str, tuple[float, float, str]]:
        """(low, high, unit) of every limited quantity, by name: the vocabulary of procedure plans."""
        return {
            "vdd": (0.0, self.vdd_max, "V"), "vddio": (0.0, self.vddio_max, "V"),
            "vwrite": (0.0, self.vwrite_max, "V"),
            "smu_voltage": (-self.smu_voltage_max, self.smu_voltage_max, "V"),
            "smu_current": (-self.smu_current_max, self.smu_current_max, "A"),
            "pulse_amplitude": (-self.pulse_amplitude_max, self.pulse_amplitude_max, "V"),
            "pulse_width": (0.0, self.pulse_width_max, "s"),
            "temperature": (0.0, self.temperature_max, "K"),
        }

    def for_drivers(self, wiring: "Wiring") -> Limits:
        """The named limits the drivers check: rails become the supply channels that feed them."""
        limits = self.bounds()
        for rail in ("vdd", "vddio", "vwrite"):
            limits[f"ch{wiring.channel(rail)}_voltage"] = limits.pop(rail)
        limits.update({f"ch{n}_current": (0.0, self.rail_current_max, "A") for n in (1, 2, 3)})
        return Limits(limits)


@dataclass(frozen=True)
class Wiring:
    """Supply channel of each rail, and what the SMU is connected to."""

    vdd: int = 1
    vddio: int = 2
    vwrite: int = 3
    smu: str = "test_pad"

    def channel(self, rail: str) -> int:
        return getattr(self, rail)


@dataclass(frozen=True)
class Rails:
    """Nominal rail voltages, V."""

    vdd: float = 0.9
    vddio: float = 1.8
    vwrite: float = 1.5


@dataclass
class Bench:
    """A chip, its instruments, a clock and the safety limits, ready to use."""

    chip: Chip
    instruments: dict[str, SCPIInstrument]
    clock: Any
    wiring: Wiring = field(default_factory=Wiring)
    rails: Rails = field(default_factory=Rails)
    limits: SafetyLimits = field(default_factory=SafetyLimits)
    source: str = "built-in simulated bench"
    world: Any = None    #: the simulated world of the built-in bench (for its own tests), else None

    def __getattr__(self, role: str) -> SCPIInstrument:
        instruments = self.__dict__.get("instruments", {})
        if role in ROLES:
            if role not in instruments:
                raise BenchConfigError(f"this bench ({self.source}) has no {role}")
            return instruments[role]
        raise AttributeError(role)

    @property
    def virtual(self) -> bool:
        return not isinstance(self.clock, WallClock)

    def wait(self, seconds: float) -> None:
        """Wait on the bench's clock (virtual time passes at once in simulation)."""
        self.clock.sleep(seconds)

    def power_up(self) -> None:
        """Supply the chip's rails (VDDIO, then VDD, then V_WRITE) and check that it is powered."""
        supply = self.supply
        for rail in ("vddio", "vdd", "vwrite"):
            ch = supply.ch[self.wiring.channel(rail)]
            volts = getattr(self.rails, rail)
            ch.output = False
            ch.ovp = getattr(self.limits, f"{rail}_max") + 0.05   # hardware backstop above the limit
            ch.current = self.limits.rail_current_max
            ch.voltage = volts
            ch.output = True
        self.chip.power_on()

    def power_down(self) -> None:
        """Rails off in reverse order (V_WRITE first)."""
        supply = self.supply
        for rail in ("vwrite", "vdd", "vddio"):
            supply.ch[self.wiring.channel(rail)].output = False

    def identities(self) -> dict[str, str]:
        """``*IDN?`` of every instrument and the chip's identity, for provenance."""
        found = {role: ",".join(dataclasses.astuple(inst.identify())) for role, inst in self.instruments.items()}
        ident = self.chip.identify()
        found["chip"] = f"{ident.model} {ident.serial} firmware {ident.firmware}, die {ident.die_id}"
        return found

    def safe_state(self) -> None:
        """Every output and heater off, connections kept (after an abort or an error)."""
        for inst in self.instruments.values():
            try:
                inst.shutdown()
            except (InstrumentError, OSError):
                pass

    def close(self) -> None:
        """Every output off, every connection closed; tries all before reporting a failure."""
        failures = []
        for role, inst in self.instruments.items():
            try:
                inst.close()
            except (InstrumentError, OSError) as exc:
                failures.append(f"{role}: {exc}")
        for thing in (self.chip, self.clock):
            close = getattr(thing, "close", None)
            if close is not None:
                try:
                    close()
                except (InstrumentError, OSError) as exc:
                    failures.append(str(exc))
        if failures:
            raise LinkError("closing the bench: " + "; ".join(failures))

    def __enter__(self) -> "Bench":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_bench(die_seed: int = 1, limits: SafetyLimits | None = None, smu: str = "test_pad") -> Bench:
    """The built-in simulated bench: chip and instruments in process, virtual time."""
    from sim_chip.bench import World
    from sim_chip.bench import Wiring as WorldWiring

    from .inprocess import InProcessChip

    wiring = Wiring(smu=smu)
    world = World(die_seed, wiring=WorldWiring(smu=smu))
    limits = limits or SafetyLimits()
    clock = WorldClock(world)
    driver_limits = limits.for_drivers(wiring)
    devices = world.instruments()
    instruments = {role: cls(InProcessAdapter(devices[role]), name=role, limits=driver_limits, clock=clock)
                   for _, (cls, role, _) in DRIVERS.items()}
    return Bench(InProcessChip(world.board), instruments, clock, wiring, Rails(), limits, world=world)


def load_bench(path: str | Path) -> Bench:
    """Open every instrument of a bench file.  Errors name the file and the key."""
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text())
    except OSError as exc:
        raise BenchConfigError(f"bench file {path}: cannot read it: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchConfigError(f"bench file {path}: not valid TOML: {exc}") from None

    def section(name: str) -> dict:
        value = config.get(name, {})
        if not isinstance(value, dict):
            raise BenchConfigError(f"bench file {path}: [{name}] must be a table")
        return value

    try:
        wiring = Wiring(**section("wiring"))
        rails = Rails(**section("rails"))
        limits = SafetyLimits(**section("limits"))
    except TypeError as exc:
        raise BenchConfigError(f"bench file {path}: {exc}".replace("__init__() ", "")) from None
    if sorted((wiring.vdd, wiring.vddio, wiring.vwrite)) != [1, 2, 3]:
        raise BenchConfigError(f"bench file {path}: [wiring] vdd, vddio, vwrite need channels 1, 2, 3 once each")
    chip_spec = section("chip").get("resource")
    if not chip_spec:
        raise BenchConfigError(f"bench file {path}: [chip] resource is missing")

    driver_limits = limits.for_drivers(wiring)
    clock_cfg = section("clock")
    opened: list[Any] = []
    try:
        if clock_cfg.get("kind", "wall") == "virtual":
            if "resource" not in clock_cfg:
                raise BenchConfigError(f"bench file {path}: [clock] kind = 'virtual' needs a resource")
            clock = RemoteVirtualClock(VisaAdapter(clock_cfg["resource"]))
            opened.append(clock)
        elif clock_cfg.get("kind", "wall") == "wall":
            clock = WallClock()
        else:
            raise BenchConfigError(f"bench file {path}: [clock] kind must be 'wall' or 'virtual'")
        instruments: dict[str, SCPIInstrument] = {}
        for role, cfg in section("instruments").items():
            driver = cfg.get("driver")
            if driver not in DRIVERS:
                raise BenchConfigError(f"bench file {path}: [instruments.{role}] driver {driver!r} unknown; "
                                       f"known: {', '.join(DRIVERS)}")
            if "resource" not in cfg:
                raise BenchConfigError(f"bench file {path}: [instruments.{role}] resource is missing")
            cls, _, terminator = DRIVERS[driver]
            options = dict(cfg.get("options", {}))
            adapter = VisaAdapter(cfg["resource"], read_termination=options.pop("read_termination", terminator),
                                  timeout=options.pop("timeout", 5.0))
            inst = cls(adapter, name=role, limits=driver_limits, clock=clock)
            opened.append(inst)
            inst.check_model()
            instruments[role] = inst
        chip = open_chip(chip_spec)
    except BaseException:
        for thing in opened:
            try:
                thing.adapter.close() if isinstance(thing, SCPIInstrument) else thing.close()
            except (InstrumentError, OSError):
                pass
        raise
    return Bench(chip, instruments, clock, wiring, rails, limits, source=str(path))


def write_served_bench_file(path: str | Path, resources: dict[str, str], note: str = "") -> None:
    """A bench file for a served simulated bench, from its resource strings (``BenchServer.resources()``)."""
    instruments = {k: v for k, v in resources.items() if k not in ("board", "board_pty", "clock")}
    write_bench_file(path, resources["board"], instruments, resources.get("clock"), note=note)


def write_bench_file(path: str | Path, chip: str, instruments: dict[str, str], clock: str | None,
                     wiring: Wiring = Wiring(), note: str = "") -> None:
    """Write a bench file: ``instruments`` maps a role to its VISA resource."""
    lines = [f"# labctl bench file{': ' + note if note else ''}", "", "[chip]", f'resource = "{chip}"', "",
             "[clock]"]
    lines += ['kind = "virtual"', f'resource = "{clock}"'] if clock else ['kind = "wall"']
    drivers = {role: name for name, (_, role, _) in DRIVERS.items()}
    for role, resource in instruments.items():
        lines += ["", f"[instruments.{role}]", f'driver = "{drivers[role]}"', f'resource = "{resource}"']
    lines += ["", "[wiring]", f"vdd = {wiring.vdd}", f"vddio = {wiring.vddio}", f"vwrite = {wiring.vwrite}",
              f'smu = "{wiring.smu}"', "", "[rails]", "vdd = 0.9", "vddio = 1.8", "vwrite = 1.5", "",
              "[limits]"]
    lines += [f"{f.name} = {f.default!r}" for f in dataclasses.fields(SafetyLimits)]
    Path(path).write_text("\n".join(lines) + "\n")
