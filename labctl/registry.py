"""Procedures by name, discovered through the ``labctl.procedures`` entry-point group.

labctl's own procedures are registered there by its ``pyproject.toml``; a
lab's package adds its own the same way, without editing labctl::

    [project.entry-points."labctl.procedures"]
    my-sweep = "mylab.sweeps:my_sweep"      # a function decorated with @procedure
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from .procedure import ParameterError, Procedure, suggest

GROUP = "labctl.procedures"


class RegistryError(ParameterError):
    """A registered procedure that cannot be loaded, or an unknown name."""


@functools.cache
def procedures() -> dict[str, Procedure]:
    """Every registered procedure by its command-line name, in registration order."""
    found: dict[str, Procedure] = {}
    for entry in entry_points(group=GROUP):
        if entry.name in found:
            continue                     # the first registration of a name wins
        try:
            obj = entry.load()
        except Exception as exc:         # a broken plug-in must not take labctl down
            raise RegistryError(f"procedure {entry.name} ({entry.value}) cannot be loaded: "
                                f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(obj, Procedure):
            raise RegistryError(f"procedure {entry.name} ({entry.value}) is not decorated with @procedure")
        if obj.name != entry.name:
            raise RegistryError(f"procedure {entry.name} ({entry.value}) calls itself {obj.name!r}")
        found[entry.name] = obj
    return found


def get(name: str) -> Procedure:
    """The procedure called ``name``; RegistryError with a suggestion otherwise."""
    known = procedures()
    if name not in known:
        raise RegistryError(f"unknown procedure {name!r}{suggest(name, known)}; known: {', '.join(known)}")
    return known[name]
