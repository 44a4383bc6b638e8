"""Chip-model parameter files: a TOML of overrides of ``labctl sim params``'s dotted names.

::

    [device]
    r_p_mean = 11500.0            # ohm
    r_p_mean_stderr = 85.0        # a twin file's standard error beside its value (accepted, not applied)

    [twin]                        # a twin file's provenance (accepted, not applied)
    bench = "bench.toml"

    [maps]                        # measured per-cell and per-column values (a twin file's; any subset)
    r_p = [[[10100.0, 9800.0], ...], ...]        # ohm, [row][column][side], nan where not measured
    comparator_offset = [0.0012, -0.0031, ...]  # V, per column

A die built from a file with ``[maps]`` uses them instead of drawing those
values from its seed (:class:`sim_chip.die.DieMaps`: ``r_p``, ``r_ap``,
``r_fet``, ``comparator_offset``, ``defect``).

Any subset may be given.  Everything is checked before anything starts: an
unknown name (with the nearest and the valid ones), a value that is not a
number (or true/false for a switch), a value outside the parameter's
physical range.
"""

from __future__ import annotations

import difflib
import math
from .toml_file import read_toml
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from sim_chip import ChipParameters
from sim_chip.die import DieMaps

#: tables of a parameter file that are not parameter groups
PROVENANCE_TABLE = "twin"
#: the table of per-cell and per-column maps
MAPS_TABLE = "maps"
#: the suffix of a standard error given beside a fitted value
STDERR_SUFFIX = "_stderr"


class ParamsFileError(ValueError):
    """A parameter file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ParamsFile:
    """A checked parameter file: overrides by dotted name, their standard errors, the twin's provenance."""

    path: Path
    overrides: dict[str, Any]
    stderr: dict[str, float] = field(default_factory=dict)
    twin: dict[str, Any] = field(default_factory=dict)
    maps: DieMaps | None = None

    def parameters(self, base: ChipParameters | None = None) -> ChipParameters:
        """The chip model's parameters with these overrides."""
        return (base or ChipParameters()).with_overrides(self.overrides)


@dataclass(frozen=True)
class Input:
    """One parameter as ``labctl sim params`` lists it."""

    name: str
    value: Any
    unit: str
    source: str
    low: float | None = None
    high: float | None = None


def inputs(parameters: ChipParameters | None = None) -> dict[str, Input]:
    """Every parameter of the model, by dotted name, with its unit, source and range (where given)."""
    parameters = parameters or ChipParameters()
    found = {}
    for group in ("device", "defects", "readout", "defaults", "energy"):
        obj = getattr(parameters, group)
        for f in fields(obj):
            meta = f.metadata
            found[f"{group}.{f.name}"] = Input(f"{group}.{f.name}", getattr(obj, f.name), meta.get("unit", ""),
                                               meta.get("source", ""), meta.get("low"), meta.get("high"))
    for f in fields(parameters):
        if f.name not in ("device", "defects", "readout", "defaults", "energy"):
            found[f.name] = Input(f.name, getattr(parameters, f.name), "", f.metadata.get("source", "switch"))
    return found


def read_params_file(path: str | Path) -> ParamsFile:
    """Read and check a parameter file completely (ParamsFileError naming the file and key)."""
    path = Path(path)
    table = read_toml(path, "parameter file", ParamsFileError)
    known = inputs()
    groups = sorted({name.partition(".")[0] for name in known if "." in name})
    overrides: dict[str, Any] = {}
    stderr: dict[str, float] = {}
    twin: dict[str, Any] = {}
    maps = None
    for key, value in table.items():
        if key == MAPS_TABLE:
            maps = _maps(path, value)
            continue
        if key == PROVENANCE_TABLE:
            if not isinstance(value, dict):
                raise ParamsFileError(f"parameter file {path}: [{PROVENANCE_TABLE}] must be a table")
            twin = value
            continue
        if not isinstance(value, dict):
            flat = {key: value}
        elif key in groups:
            flat = {f"{key}.{name}": v for name, v in value.items()}
        else:
            raise ParamsFileError(f"parameter file {path}: unknown table [{key}]{_nearest(key, groups)}; tables "
                                  f"are {', '.join(f'[{g}]' for g in groups)}, [{PROVENANCE_TABLE}] and [{MAPS_TABLE}]")
        for name, v in flat.items():
            if name.endswith(STDERR_SUFFIX) and name.removesuffix(STDERR_SUFFIX) in known:
                stderr[name.removesuffix(STDERR_SUFFIX)] = _number(path, name, v, known[name.removesuffix(
                    STDERR_SUFFIX)].unit)
                continue
            overrides[name] = _checked(path, name, v, known)
    return ParamsFile(path, overrides, stderr, twin, maps)


def _maps(path: Path, table: Any) -> DieMaps:
    """The [maps] table as die maps, every name, shape and value checked."""
    names = [f.name for f in fields(DieMaps)]
    if not isinstance(table, dict):
        raise ParamsFileError(f"parameter file {path}: [{MAPS_TABLE}] must be a table")
    for name in table:
        if name not in names:
            raise ParamsFileError(f"parameter file {path}: unknown map {MAPS_TABLE}.{name}{_nearest(name, names)}; "
                                  f"maps are {', '.join(names)}")
    try:
        arrays = {name: np.array(value, dtype=np.int8 if name == "defect" else float)
                  for name, value in table.items()}
        return DieMaps(**arrays)
    except (ValueError, TypeError) as exc:
        raise ParamsFileError(f"parameter file {path}: [{MAPS_TABLE}] {exc}") from None


def _nearest(name: str, candidates: Any) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _number(path: Path, name: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParamsFileError(f"parameter file {path}: {name} = {value!r}: expected a number"
                              f"{' in ' + unit if unit and unit != '1' else ''} (write units as the "
                              "parameter's own, without a suffix)")
    return float(value)


def _checked(path: Path, name: str, value: Any, known: dict[str, Input]) -> Any:
    if name not in known:
        group = name.partition(".")[0]
        siblings = [n for n in known if n.startswith(group + ".")] or list(known)
        raise ParamsFileError(f"parameter file {path}: unknown parameter {name}{_nearest(name, known)}; "
                              f"valid: {', '.join(siblings)} (labctl sim params lists them all)")
    spec = known[name]
    if isinstance(spec.value, bool):
        if not isinstance(value, bool):
            raise ParamsFileError(f"parameter file {path}: {name} = {value!r}: expected true or false")
        return value
    number = _number(path, name, value, spec.unit)
    if isinstance(spec.value, int) and not number.is_integer():
        raise ParamsFileError(f"parameter file {path}: {name} = {value!r}: expected an integer")
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        raise ParamsFileError(f"parameter file {path}: {name} = {value!r} is outside its range "
                              f"{spec.low:g} .. {spec.high:g} {spec.unit}".rstrip())
    return int(number) if isinstance(spec.value, int) else number
