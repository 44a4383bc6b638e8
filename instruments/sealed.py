"""Objects that refuse an assignment that would not reach the hardware.

``gen.ch[1].amplitude = 3`` (no such setting), ``chip.tdc_lbs = 1e-9`` (a
typo) and ``thermo.setpoint = 500`` (a method, or a setting of a channel)
would otherwise silently set a Python attribute and do nothing.  A class
whose metaclass is :class:`Sealed` and whose ``__setattr__`` is
:func:`checked_setattr` refuses them, once an instance is built, with the
settings it has (and where a channel's are).
"""

from __future__ import annotations

import difflib
from typing import Any


class NotASetting(AttributeError):
    """An assignment refused because the name is not a setting; the message lists what can be assigned."""


class Sealed(type):
    """Instances accept only their settings (and attributes set in ``__init__``) once built."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__call__(*args, **kwargs)
        object.__setattr__(obj, "_sealed", True)
        return obj


def _static(obj: Any, name: str) -> Any:
    return next((vars(c)[name] for c in type(obj).__mro__ if name in vars(c)), None)


def _is_setting(attr: Any) -> bool:
    """A descriptor an assignment reaches: a setting (its own ``__set__`` says if it is read-only) or a
    property with a setter."""
    return isinstance(attr, property) and (attr.fset is not None or hasattr(attr, "set_command"))


def settable_names(obj: Any) -> set[str]:
    """Names of the settings of an instrument, channel or board that can be assigned."""
    return {name for cls in type(obj).__mro__ for name, attr in vars(cls).items()
            if not name.startswith("_") and _is_setting(attr) and getattr(attr, "set_command", True) is not None}


def checked_setattr(obj: Any, name: str, value: Any) -> None:
    """``__setattr__`` of a sealed class: a setting, or an attribute the object already has; else refused."""
    if getattr(obj, "_sealed", False) and name not in vars(obj) and not _is_setting(_static(obj, name)):
        raise NotASetting(refusal(obj, name))
    object.__setattr__(obj, name, value)


def refusal(obj: Any, name: str) -> str:
    """Why ``obj.name = value`` is refused, with what can be assigned instead."""
    owner = getattr(obj, "name", type(obj).__name__)
    names = sorted(settable_names(obj))
    channels = getattr(obj, "ch", None)
    if channels:
        first = next(iter(channels.values()))
        if name in settable_names(first):
            handle = owner if str(owner).isidentifier() else "x"
            return (f"{owner}: {name!r} is a setting of each channel: assign it as "
                    f"{handle}.ch[N].{name} (channels {', '.join(map(str, channels))})")
    if callable(_static(obj, name)):
        return f"{owner}: {name!r} is a method, not a setting: call it"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    where = "; its channels' settings: help(x.ch[N])" if channels else ""
    return f"{owner}: {name!r} is not a setting{hint}; settings: {', '.join(names) or 'none'}{where}"
