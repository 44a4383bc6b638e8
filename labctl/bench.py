"""Bench configuration: which instruments, how they are wired, and the safety limits.

A bench is described first (:class:`BenchConfig`: from a TOML bench file with
:func:`read_bench_config`, or the built-in simulated bench with
:func:`builtin_config`) and checked completely (types, units, absolute
maximum ratings, wiring) before anything is opened.  :meth:`BenchConfig.open`
then connects: a :class:`Bench` is a chip, the instruments around it, a clock
and the limits that every driver checks before it sends anything.  Use it as
a context manager: leaving it, normally or through an exception or Ctrl-C,
turns every output off.

Bench file::

    [chip]
    resource = "socket://127.0.0.1:5025"   # "sim", "sim:<seed>", a serial port or pyserial URL
    [clock]
    kind = "virtual"                        # "wall" on real hardware
    resource = "TCPIP::127.0.0.1::5031::SOCKET"
    [simulation]
    die_seed = 1                            # the die a dry-run rehearses on (a served simulation's own)
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
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from benchspec.wiring import RAILS, SMU_TARGETS, Wiring
from instruments.errors import InstrumentError, LinkError
from instruments.drivers import DRIVERS
from instruments.scpi import InProcessAdapter, Limits, SCPIInstrument, VisaAdapter, WallClock
from instruments.sealed import NotASetting

from .toml_file import read_toml
from .chip import Chip, as_chip, open_chip
from .clock import RemoteVirtualClock, WorldClock
from .procedure import suggest

ROLES = tuple(cls.spec.role for cls in DRIVERS.values())


class BenchConfigError(ValueError):
    """A bench file or bench setting that cannot be used; the message names the key."""


class BenchStateError(InstrumentError):
    """The bench is not in a state to run (a tripped protection, say); the message says what to do."""


@dataclass(frozen=True)
class SafetyLimits:
    """What a bug must never be able to do to the chip or its test structures.

    Defaults keep V_WRITE at 1.6 V: with the access FET in series an MTJ
    then sees at most ~1.25 V, clear of the ~1.5 V breakdown region.  No
    limit may exceed :data:`ABSOLUTE_MAXIMUM`.
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
        """(low, high, unit) of every limited quantity, by name: the vocabulary of the plan check."""
        return {
            "vdd": (0.0, self.vdd_max, "V"), "vddio": (0.0, self.vddio_max, "V"),
            "vwrite": (0.0, self.vwrite_max, "V"),
            "rail_current": (0.0, self.rail_current_max, "A"),
            "smu_voltage": (-self.smu_voltage_max, self.smu_voltage_max, "V"),
            "smu_current": (-self.smu_current_max, self.smu_current_max, "A"),
            "pulse_amplitude": (-self.pulse_amplitude_max, self.pulse_amplitude_max, "V"),
            "pulse_width": (0.0, self.pulse_width_max, "s"),
            "temperature": (0.0, self.temperature_max, "K"),
        }

    def for_drivers(self, wiring: Wiring) -> Limits:
        """The limits the drivers check: a rail's limit on the supply channel that feeds it."""
        bounds = self.bounds()
        names = {}
        for rail in RAILS:
            names[f"ch{wiring.channel(rail)}_voltage"] = rail
        for n in (1, 2, 3):
            names[f"ch{n}_current"] = "rail_current"
        return Limits(bounds, names)


#: Absolute maximum ratings (datasheet-level, *assumed*: 28 nm core and I/O devices; the MgO
#: barrier breaks down near 1.5 V at an MTJ).  A bench's limits may never exceed them.
ABSOLUTE_MAXIMUM = SafetyLimits(vdd_max=1.1, vddio_max=2.0, vwrite_max=1.8, rail_current_max=0.5,
                                smu_voltage_max=1.4, smu_current_max=0.01, pulse_amplitude_max=1.4,
                                pulse_width_max=1.0, temperature_max=448.15)
_LIMIT_UNITS = {"vdd_max": "V", "vddio_max": "V", "vwrite_max": "V", "rail_current_max": "A",
                "smu_voltage_max": "V", "smu_current_max": "A", "pulse_amplitude_max": "V",
                "pulse_width_max": "s", "temperature_max": "K"}


@dataclass(frozen=True)
class Rails:
    """Nominal rail voltages, V."""

    vdd: float = 0.9
    vddio: float = 1.8
    vwrite: float = 1.5


@dataclass(frozen=True)
class InstrumentConfig:
    driver: str
    resource: str
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BenchConfig:
    """A bench described and checked, not yet connected."""

    chip: str
    instruments: dict[str, InstrumentConfig]
    clock: str | None = None                    #: VISA resource of a virtual clock, None for wall time
    wiring: Wiring = field(default_factory=Wiring)
    rails: Rails = field(default_factory=Rails)
    limits: SafetyLimits = field(default_factory=SafetyLimits)
    source: str = "built-in simulated bench"
    die_seed: int = 1                           #: the simulated die (built-in) or the one a dry-run rehearses on
    builtin: bool = False
    #: the chip model's parameter file of the simulated die (built-in, or a served one's: its twin's too)
    params: Path | None = None

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.instruments)

    def open(self) -> Bench:
        """Connect to every instrument and the chip (the built-in bench: build the simulated world)."""
        if self.builtin:
            return _open_simulated(self)
        return _open_remote(self)

    def twin(self) -> BenchConfig:
        """The built-in simulated bench with this bench's roles, wiring, rails and limits: where a plan
        is rehearsed before it runs here."""
        return dataclasses.replace(self, chip=f"sim:{self.die_seed}", clock=None, builtin=True,
                                   source=f"simulated twin of {self.source}")


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
    config: BenchConfig | None = None
    checks: Limits = field(default_factory=Limits)   #: the limits every driver of this bench checks

    def __setattr__(self, name: str, value: Any) -> None:
        """Fields only: ``bench.smu = ...`` or a typo is refused (instruments are set through their settings)."""
        if name not in {f.name for f in fields(self)}:
            roles = f" (an instrument: set its settings, e.g. {name}.output = False)" if name in ROLES else ""
            raise NotASetting(f"bench: {name!r} cannot be assigned{roles}; the bench's parts are "
                                 f"chip, {', '.join(sorted(self.__dict__.get('instruments', {})))}")
        object.__setattr__(self, name, value)

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

    def now(self) -> float:
        """The bench's clock, s."""
        return self.clock.now()

    def rail_channel(self, rail: str) -> Any:
        """The supply channel feeding ``rail``."""
        return self.supply.ch[self.wiring.channel(rail)]

    def check_protection(self) -> None:
        """Refuse to go on with a tripped (latched) over-voltage protection, saying what to do."""
        if "supply" not in self.instruments:
            return
        for rail in RAILS:
            ch = self.rail_channel(rail)
            if ch.ovp_tripped:
                raise BenchStateError(
                    f"supply CH{ch.number} ({rail}): over-voltage protection tripped and latched, the output "
                    f"is off. Find what drove it above {ch.ovp:g} V, then clear it: "
                    f"`labctl bench check --clear-protection`, or supply.ch[{ch.number}].clear_ovp() "
                    "in the console")

    def clear_protection(self) -> list[int]:
        """Clear every tripped over-voltage protection (outputs stay off); the channels cleared."""
        cleared = []
        for n, ch in self.supply.ch.items():
            if ch.ovp_tripped:
                ch.output = False
                ch.clear_ovp()
                cleared.append(n)
        return cleared

    def power_up(self) -> None:
        """Supply the chip's rails (VDDIO, then VDD, then V_WRITE) and check that it is powered."""
        self.check_protection()
        for rail in ("vddio", "vdd", "vwrite"):
            ch = self.rail_channel(rail)
            ch.output = False
            ch.ovp = getattr(self.limits, f"{rail}_max") + 0.05   # hardware backstop above the limit
            ch.current = self.limits.rail_current_max
            ch.voltage = getattr(self.rails, rail)
            ch.output = True
        self.check_protection()
        self.chip.power_on()

    def power_down(self) -> None:
        """Rails off in reverse order (V_WRITE first)."""
        for rail in ("vwrite", "vdd", "vddio"):
            self.rail_channel(rail).output = False

    def identities(self) -> dict[str, str]:
        """``*IDN?`` of every instrument and the chip's identity, for provenance."""
        found = {role: ",".join(dataclasses.astuple(inst.identify())) for role, inst in self.instruments.items()}
        ident = self.chip.identify()
        found["chip"] = f"{ident.model} {ident.serial} firmware {ident.firmware}, die {ident.die_id}"
        return found

    def settings(self) -> dict[str, dict[str, Any]]:
        """Every setting of the chip and of each instrument (ranges, integration times, outputs...), as read
        now: the station snapshot a run's provenance keeps.  A setting that cannot be read now (the chip
        unpowered, say) is given as the reason."""
        from .targets import targets

        found: dict[str, dict[str, Any]] = {}
        for text, target in targets().items():
            owner, _, name = text.partition(".")
            if target.kind != "setting" or owner in ("rail", "bench") or \
                    (owner != "chip" and owner not in self.instruments):
                continue
            thing: Any = self.chip if owner == "chip" else self.instruments[owner]
            *channel, attribute = name.split(".")
            place = found.setdefault(owner, {})
            try:
                for part in channel:                     # a channel's settings nest under ch<N>
                    thing, place = thing.ch[int(part[2:])], place.setdefault(part, {})
                value = getattr(thing, attribute)
            except (InstrumentError, AttributeError) as exc:
                value = f"unreadable: {exc}"
            place[attribute] = value.tolist() if isinstance(value, np.ndarray) else value
        return found

    def status(self) -> str:
        """Every output, protection state and limit, as text (the console's ``status()``)."""
        lines = [f"bench {self.source} ({'virtual' if self.virtual else 'wall'} clock)"]
        lines.append(f"  chip       {'powered' if self.chip.powered else 'unpowered'}")
        for role, inst in self.instruments.items():
            lines += [f"  {role:10s} {line}" for line in inst.status()]
        lines.append("  limits     " + ", ".join(f"{name} {low:g}..{high:g} {unit}"
                                              for name, (low, high, unit) in self.limits.bounds().items()))
        return "\n".join(lines)

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

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------- configs
def builtin_config(die_seed: int = 1, smu: str = "test_pad", limits: SafetyLimits | None = None,
                   params: str | Path | None = None) -> BenchConfig:
    """The built-in simulated bench: every instrument, in process, virtual time; ``params``: a parameter
    file of the chip model (checked here, before anything is opened)."""
    if smu not in SMU_TARGETS:
        raise BenchConfigError(f"smu wiring {smu!r}: one of {', '.join(SMU_TARGETS)}{suggest(smu, SMU_TARGETS)}")
    path = None if params is None else Path(params).expanduser().resolve()
    chip_model(path)                                          # checked before anything opens
    instruments = {cls.spec.role: InstrumentConfig(name, "in-process") for name, cls in DRIVERS.items()}
    return BenchConfig(f"sim:{die_seed}", instruments, wiring=Wiring(smu=smu), limits=limits or SafetyLimits(),
                       die_seed=die_seed, builtin=True, params=path,
                       source="built-in simulated bench" + (" (SMU on the test MTJ)" if smu == "test_mtj" else "")
                       + (f" (parameters {path.name})" if path else ""))


def default_bench(die_seed: int = 1, limits: SafetyLimits | None = None, smu: str = "test_pad") -> Bench:
    """The built-in simulated bench, opened: chip and instruments in process, virtual time."""
    return builtin_config(die_seed, smu, limits).open()


def _number(path: Path, section: str, key: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BenchConfigError(f"bench file {path}: [{section}] {key} = {value!r} is not a number ({unit})")
    return float(value)


def _table(path: Path, config: dict, name: str, cls: type) -> Any:
    """A section as an instance of a frozen dataclass, every key and type checked."""
    values = config.get(name, {})
    if not isinstance(values, dict):
        raise BenchConfigError(f"bench file {path}: [{name}] must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in values:
        if key not in fields:
            raise BenchConfigError(f"bench file {path}: [{name}] unknown key {key!r}{suggest(key, fields)}; "
                                   f"known: {', '.join(fields)}")
    checked: dict[str, Any] = {}
    for key, value in values.items():
        default = fields[key].default
        if isinstance(default, str):
            if not isinstance(value, str):
                raise BenchConfigError(f"bench file {path}: [{name}] {key} = {value!r} must be text")
            checked[key] = value
        elif isinstance(default, int) and not isinstance(default, bool) and name == "wiring":
            if isinstance(value, bool) or not isinstance(value, int):
                raise BenchConfigError(f"bench file {path}: [{name}] {key} = {value!r} must be a channel number")
            checked[key] = value
        else:
            checked[key] = _number(path, name, key, value, _LIMIT_UNITS.get(key, "V"))
    return cls(**checked)


def _check_limits(path: Path, limits: SafetyLimits) -> None:
    for f in dataclasses.fields(SafetyLimits):
        value, top, unit = getattr(limits, f.name), getattr(ABSOLUTE_MAXIMUM, f.name), _LIMIT_UNITS[f.name]
        if value <= 0:
            raise BenchConfigError(f"bench file {path}: [limits] {f.name} = {value:g} {unit} must be positive")
        if value > top:
            raise BenchConfigError(f"bench file {path}: [limits] {f.name} = {value:g} {unit} exceeds the chip's "
                                   f"absolute maximum rating {top:g} {unit}")


def read_bench_config(path: str | Path) -> BenchConfig:
    """Read and check a bench file completely; nothing is opened.  Errors name the file and the key."""
    path = Path(path)
    config = read_toml(path, "bench file", BenchConfigError, "; `labctl sim serve --write-bench FILE` writes one")
    known = ("chip", "clock", "simulation", "instruments", "wiring", "rails", "limits")
    for section in config:
        if section not in known:
            raise BenchConfigError(f"bench file {path}: unknown section [{section}]{suggest(section, known)}")
    wiring_table = config.get("wiring", {})
    smu = wiring_table.get("smu", "test_pad") if isinstance(wiring_table, dict) else "test_pad"
    if isinstance(smu, str) and smu not in SMU_TARGETS:
        raise BenchConfigError(f"bench file {path}: [wiring] smu = {smu!r} must be one of "
                               f"{', '.join(SMU_TARGETS)}{suggest(smu, SMU_TARGETS)}")
    try:
        wiring = _table(path, config, "wiring", Wiring)
    except ValueError as exc:
        if isinstance(exc, BenchConfigError):
            raise
        raise BenchConfigError(f"bench file {path}: [wiring] {str(exc).removeprefix('wiring: ')}") from None
    rails = _table(path, config, "rails", Rails)
    limits = _table(path, config, "limits", SafetyLimits)
    _check_limits(path, limits)
    for rail in RAILS:
        if not 0 < getattr(rails, rail) <= getattr(limits, f"{rail}_max"):
            raise BenchConfigError(f"bench file {path}: [rails] {rail} = {getattr(rails, rail):g} V is outside "
                                   f"0 .. {getattr(limits, f'{rail}_max'):g} V ([limits] {rail}_max)")
    chip = config.get("chip", {}).get("resource") if isinstance(config.get("chip"), dict) else None
    if not chip or not isinstance(chip, str):
        raise BenchConfigError(f"bench file {path}: [chip] resource is missing")
    clock_cfg = config.get("clock", {})
    kind = clock_cfg.get("kind", "wall")
    if kind not in ("wall", "virtual"):
        raise BenchConfigError(f"bench file {path}: [clock] kind must be 'wall' or 'virtual'")
    if kind == "virtual" and "resource" not in clock_cfg:
        raise BenchConfigError(f"bench file {path}: [clock] kind = 'virtual' needs a resource")
    seed = config.get("simulation", {}).get("die_seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise BenchConfigError(f"bench file {path}: [simulation] die_seed = {seed!r} must be an integer")
    params = config.get("simulation", {}).get("params")
    if params is not None:
        if not isinstance(params, str):
            raise BenchConfigError(f"bench file {path}: [simulation] params = {params!r} must be a file name")
        params = (path.parent / params).resolve()
        chip_model(params)
    instruments = {}
    for role, cfg in config.get("instruments", {}).items():
        driver = cfg.get("driver")
        if driver not in DRIVERS:
            raise BenchConfigError(f"bench file {path}: [instruments.{role}] driver {driver!r} unknown"
                                   f"{suggest(str(driver), DRIVERS)}; known: {', '.join(DRIVERS)}")
        if DRIVERS[driver].spec.role != role:
            raise BenchConfigError(f"bench file {path}: [instruments.{role}] driver {driver} is a "
                                   f"{DRIVERS[driver].spec.role}, not a {role}")
        if "resource" not in cfg:
            raise BenchConfigError(f"bench file {path}: [instruments.{role}] resource is missing")
        instruments[role] = InstrumentConfig(driver, cfg["resource"], dict(cfg.get("options", {})))
    return BenchConfig(chip, instruments, clock_cfg.get("resource") if kind == "virtual" else None,
                       wiring, rails, limits, source=str(path), die_seed=seed, params=params)


def load_bench(path: str | Path) -> Bench:
    """Read, check and open a bench file."""
    return read_bench_config(path).open()


# ----------------------------------------------------------------- opening
def _open_simulated(config: BenchConfig) -> Bench:
    from sim_chip.bench import World

    from .inprocess import board_driver

    w = config.wiring
    params, maps = chip_model(config.params)
    world = World(config.die_seed, params=params, wiring=w, maps=maps)
    clock = WorldClock(world)
    driver_limits = config.limits.for_drivers(w)
    devices = world.instruments()
    instruments = {role: DRIVERS[cfg.driver](InProcessAdapter(devices[role]), name=role, limits=driver_limits,
                                                clock=clock)
                   for role, cfg in config.instruments.items()}
    board = board_driver(world.board)
    board.limits = driver_limits
    return Bench(as_chip(board), instruments, clock, w, config.rails, config.limits, config.source,
                 world=world, config=config, checks=driver_limits)


def chip_model(path: Path | None) -> tuple[Any, Any]:
    """The chip model's parameters with a parameter file's overrides, and the file's measured die maps (a
    twin's): each None without a file (the maps also when the file has none).  The file is read once."""
    if path is None:
        return None, None
    from .params_file import ParamsFileError, read_params_file

    try:
        given = read_params_file(path)
        return given.parameters(), given.maps
    except ParamsFileError as exc:
        raise BenchConfigError(str(exc)) from None


def _open_remote(config: BenchConfig) -> Bench:
    driver_limits = config.limits.for_drivers(config.wiring)
    opened: list[Any] = []
    try:
        clock: Any = WallClock()
        if config.clock is not None:
            clock = RemoteVirtualClock(VisaAdapter(config.clock, name="the simulation's clock"))
            opened.append(clock)
        instruments: dict[str, SCPIInstrument] = {}
        for role, cfg in config.instruments.items():
            cls = DRIVERS[cfg.driver]
            options = dict(cfg.options)
            adapter = VisaAdapter(cfg.resource, read_termination=options.pop("read_termination", cls.spec.terminator),
                                  timeout=options.pop("timeout", 5.0), name=role)
            inst = cls(adapter, name=role, limits=driver_limits, clock=clock)
            opened.append(inst)
            inst.check_model()
            instruments[role] = inst
        chip = open_chip(config.chip)
        chip.limits = driver_limits
    except BaseException:
        for thing in opened:
            try:
                thing.adapter.close() if isinstance(thing, SCPIInstrument) else thing.close()
            except (InstrumentError, OSError):
                pass
        raise
    return Bench(chip, instruments, clock, config.wiring, config.rails, config.limits, config.source, config=config,
                 checks=driver_limits)


def write_served_bench_file(path: str | Path, resources: dict[str, str], note: str = "", die_seed: int = 1,
                            wiring: Wiring = Wiring(), params: Path | None = None) -> None:
    """A bench file for a served simulated bench, from its resource strings (``BenchServer.resources()``);
    ``params``: the parameter file the served die was built with (its twin is built with it too)."""
    instruments = {k: v for k, v in resources.items() if k not in ("board", "board_pty", "clock")}
    write_bench_file(path, resources["board"], instruments, resources.get("clock"), wiring=wiring, note=note,
                     die_seed=die_seed, params=params)


def write_bench_file(path: str | Path, chip: str, instruments: dict[str, str], clock: str | None,
                     wiring: Wiring = Wiring(), note: str = "", die_seed: int | None = None,
                     params: Path | None = None) -> None:
    """Write a bench file: ``instruments`` maps a role to its VISA resource."""
    lines = [f"# labctl bench file{': ' + note if note else ''}", "", "[chip]", f'resource = "{chip}"', "",
             "[clock]"]
    lines += ['kind = "virtual"', f'resource = "{clock}"'] if clock else ['kind = "wall"']
    if die_seed is not None:
        lines += ["", "[simulation]", f"die_seed = {die_seed}"]
        if params is not None:
            lines.append(f'params = "{Path(params).resolve()}"')
    drivers = {cls.spec.role: name for name, cls in DRIVERS.items()}
    for role, resource in instruments.items():
        lines += ["", f"[instruments.{role}]", f'driver = "{drivers[role]}"', f'resource = "{resource}"']
    lines += ["", "[wiring]", f"vdd = {wiring.vdd}", f"vddio = {wiring.vddio}", f"vwrite = {wiring.vwrite}",
              f'smu = "{wiring.smu}"', "", "[rails]", "vdd = 0.9", "vddio = 1.8", "vwrite = 1.5", "",
              "[limits]"]
    lines += [f"{f.name} = {f.default!r}" for f in dataclasses.fields(SafetyLimits)]
    Path(path).write_text("\n".join(lines) + "\n")
