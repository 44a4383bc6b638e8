"""The twin file: a ``--params`` file of fitted values with their standard errors, provenance and maps.

::

    # labctl twin of MX64-1A2B3C4D (written by labctl twin fit)
    [device]
    r_p_mean = 10012.5
    r_p_mean_stderr = 21.3
    ...
    [twin]
    bench = "built-in simulated bench"
    die = "MX64-1A2B3C4D"
    runs = [1, 5]
    ...
    [maps]
    r_p = [[[10100.0, 9800.0], ...], ...]

``labctl sim serve --params twin.toml`` serves it; :func:`labctl.params_file.read_params_file`
reads it back (values, standard errors, the [twin] table, the maps).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .fit import NOT_IDENTIFIED, TwinFit

#: the die seed a twin's own die is built with (its unmeasured values are drawn from it)
TWIN_SEED = 2028


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return repr(float(value))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to a twin file")


def _array(a: np.ndarray) -> str:
    """A nested TOML array, one line per first index."""
    if a.ndim == 1:
        return "[" + ", ".join(_number(x) if a.dtype.kind == "f" else str(int(x)) for x in a) + "]"
    return "[\n" + ",\n".join("  " + _array(row).replace("\n", "") for row in a) + ",\n]"


def twin_toml(fit: TwinFit, fit_run: int | None, source_runs: list[int]) -> str:
    """The twin file's text."""
    lines = [f"# labctl twin of {fit.die or 'a die'} (written by labctl twin fit {__version__})",
             "# values: the fitted parameters (everything not listed stays at the model's datasheet value);",
             "# <name>_stderr: each one's standard error, in the parameter's unit"]
    groups: dict[str, list[str]] = {}
    for name, e in sorted(fit.estimates.items()):
        group, _, key = name.partition(".")
        groups.setdefault(group, []).append(f"{key} = {_number(e.value)}      # {e.unit}, run {e.sources[0]}")
        groups[group].append(f"{key}_stderr = {_number(e.stderr)}")
    for group, entries in groups.items():
        lines += ["", f"[{group}]", *entries]
    provenance = {"bench": fit.bench, "die": fit.die, "runs": list(source_runs),
                  "characterisation_runs": dict(sorted(fit.runs.items())), "fit_run": fit_run or 0,
                  "fit_quality": fit.quality, "labctl_version": __version__, "seed": TWIN_SEED,
                  "not_measured": fit.missing, "not_identified": sorted(NOT_IDENTIFIED)}
    lines += ["", "[twin]"] + [f"{k} = {_value(v)}" for k, v in provenance.items()]
    if fit.maps:
        lines += ["", "[maps]"] + [f"{name} = {_array(np.asarray(a))}" for name, a in sorted(fit.maps.items())]
    return "\n".join(lines) + "\n"


def write_twin(path: str | Path, fit: TwinFit, fit_run: int | None, source_runs: list[int]) -> Path:
    """Write the twin file, then read it back as a parameter file (every value checked); its path."""
    from ..params_file import read_params_file

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(twin_toml(fit, fit_run, source_runs), encoding="utf-8")
    read_params_file(tmp)
    tmp.replace(path)
    return path
