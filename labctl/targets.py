"""Every target a plan may name, in one table, made from the chip interface and the instruments' descriptions.

A plan message names what it acts on as a string (``Set("smu.source_voltage",
0.2)``); this module says what every such string may be, so that a typo is
refused with its nearest match before a bench is touched, and a test can
resolve every target every plan names.  The vocabulary:

* ``chip.<name>``: a setting, reading or operation of :class:`labctl.chip.Chip`;
* ``<role>.<name>`` and ``<role>.ch<N>.<name>``: a setting, reading or method
  of the bench's instrument in that role (its driver, made from its command
  set), ``N`` one of the model's channels;
* ``rail.<vdd|vddio|vwrite>``: a chip rail, V, wherever it comes from;
* ``bench.<power_up|power_down|now|source>``: the bench's power sequences, its clock and what it is.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from functools import cache

from benchspec.mx64 import RAILS, SETTINGS
from instruments.drivers import DRIVERS
from instruments.scpi import Setting

from .chip import Chip
from .procedure import ParameterError

#: what a plan may ask of the bench object itself
BENCH_TARGETS = {"power_up": "method", "power_down": "method", "now": "reading", "source": "reading"}


@dataclass(frozen=True)
class Target:
    """One thing a plan can act on: ``kind`` setting (Set and Read), reading (Read) or method (Call)."""

    text: str
    kind: str
    unit: str = ""
    limit: str | None = None      #: the bench safety limit a value set here is checked against ({ch} filled)


def _members(cls: type) -> dict[str, tuple[str, str, str | None]]:
    """Public settings, readings and methods of a driver class: name -> (kind, unit, limit pattern)."""
    found: dict[str, tuple[str, str, str | None]] = {}
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            if name.startswith("_") or klass is object:
                continue
            if isinstance(attr, Setting):
                kind = "setting" if attr.set_command is not None else "reading"
                found[name] = (kind, attr.unit, getattr(attr, "limit_pattern", None))
            elif isinstance(attr, property):
                found[name] = ("setting" if attr.fset is not None else "reading", "", None)
            elif callable(attr) and not isinstance(attr, (staticmethod, classmethod, type)):
                found[name] = ("method", "", None)
    return found


def _chip_targets() -> dict[str, Target]:
    settings = {s.name: s for s in SETTINGS}
    found = {}
    for name in set(dir(Chip)) | set(Chip.__annotations__):
        if name.startswith("_") or name == "limits":
            continue
        attr = inspect.getattr_static(Chip, name, None)
        if name in settings:
            s = settings[name]
            found[f"chip.{name}"] = Target(f"chip.{name}", "setting", getattr(s.value, "unit", ""), s.limit)
        elif isinstance(attr, property):
            found[f"chip.{name}"] = Target(f"chip.{name}", "reading")
        else:
            found[f"chip.{name}"] = Target(f"chip.{name}", "method")
    return found


def _instrument_targets() -> dict[str, Target]:
    found = {}
    for driver in DRIVERS.values():
        role = driver.spec.role
        for name, (kind, unit, limit) in _members(driver).items():
            found[f"{role}.{name}"] = Target(f"{role}.{name}", kind, unit, limit)
        if driver.channel_class is None:
            continue
        for channel in driver.spec.channels:
            for name, (kind, unit, limit) in _members(driver.channel_class).items():
                text = f"{role}.ch{channel}.{name}"
                found[text] = Target(text, kind, unit, None if limit is None else limit.format(ch=channel))
    return found


@cache
def targets() -> dict[str, Target]:
    """Every target, by its text."""
    found = {**_chip_targets(), **_instrument_targets()}
    found.update({f"rail.{rail}": Target(f"rail.{rail}", "setting", "V", rail) for rail in RAILS})
    found.update({f"bench.{name}": Target(f"bench.{name}", kind) for name, kind in BENCH_TARGETS.items()})
    return found


#: what each message needs its target to be
_NEEDS = {"Set": ("setting",), "Read": ("setting", "reading", "method"), "Call": ("method",)}


def resolve(text: str, message: str = "Read") -> Target:
    """The target ``text`` names, for a ``message`` (Set, Read or Call); ParameterError with the nearest
    targets if there is none, or if it cannot take that message."""
    target = targets().get(text)
    if target is None:
        close = difflib.get_close_matches(text, targets(), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ParameterError(f"plan target {text!r}: no such target{hint}; targets are chip.<name>, "
                             f"<role>.<name>, <role>.ch<N>.<name>, rail.<{'|'.join(RAILS)}>, "
                             f"bench.<{'|'.join(BENCH_TARGETS)}> (labctl.targets)")
    if target.kind not in _NEEDS[message]:
        verb = {"setting": "Set or Read it", "reading": "Read it", "method": "Call it"}[target.kind]
        raise ParameterError(f"plan target {text!r} is a {target.kind}: {verb}, not {message}")
    return target

