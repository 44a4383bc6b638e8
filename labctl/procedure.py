"""Procedures: a plan function whose typed keyword parameters are declared once, in its signature.

::

    @procedure(needs={"smu": "test_pad"}, plots=(plot_sums,))
    def column_sums(
        bias: Annotated[float, Param("SMU voltage across a column", "V", 0.01, 1.0)] = 0.1,
        columns: Annotated[list[int], Param("columns to read", low=0, high=63)] = (0, 1),
    ) -> Plan:
        '''Resistance of some columns through the test multiplexer.'''
        ...

The annotation gives the type (``int``, ``float``, ``bool``, ``str``, ``Path`` (a
file), ``Folder``, ``list[int]``, ``list[float]``, ``RunId``, optionally ``| None``), :class:`Param`
its help, unit and range; the default is the default.  The first line of
the docstring is the procedure's summary.  ``needs`` names the bench roles
the procedure uses and, where it matters, what they must be wired to.
``validate(params, store)`` checks what one parameter cannot: relations
between parameters, files, earlier runs.  Everything here is checked before
a bench is opened.
"""

from __future__ import annotations

import difflib
import inspect
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NewType, get_args, get_origin
from collections.abc import Callable

from .plan import Plan

#: The id of an earlier run in the store (a parameter that refers to one).
RunId = NewType("RunId", int)
#: A folder that must exist (a data set's, say); a plain ``Path`` parameter is a readable file.
Folder = NewType("Folder", Path)


class ParameterError(ValueError):
    """A parameter value, or a request, refused before the bench is touched; the message says why."""


def option(name: str) -> str:
    """A parameter as the command line spells it: ``matrix_seed`` -> ``--matrix-seed``."""
    return "--" + name.replace("_", "-")


def suggest(name: str, known: typing.Iterable[str]) -> str:
    """' (did you mean X?)' for a misspelt name, else ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Param:
    """Help, unit and range of a parameter (for lists: of every element)."""

    help: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    #: for a :data:`RunId`: the record the referred run must hold
    record: str = ""


def seed_param(help: str) -> Param:
    """The :class:`Param` of a seed: a non-negative integer a random generator takes."""
    return Param(help, low=0, high=2**32 - 1)


@dataclass(frozen=True)
class Parameter:
    """One parameter of a procedure: name, type, default and its :class:`Param`."""

    name: str
    kind: type               #: int, float, bool, str, Path or RunId (of the elements, for a list)
    is_list: bool
    optional: bool
    default: Any
    param: Param

    @property
    def unit(self) -> str:
        return self.param.unit

    def type_name(self) -> str:
        base = {int: "integer", float: "number", bool: "true/false", str: "text", Path: "file",
                RunId: "run id", Folder: "folder"}.get(self.kind, self.kind.__name__)
        return f"comma-separated list of {base}s" if self.is_list else base

    def describe_range(self) -> str:
        p = self.param
        unit = f" {p.unit}" if p.unit else ""
        number = (lambda v: f"{int(v)}" if abs(v) < 1e15 else f"{v:g}") if self.kind in (int, RunId) \
            else (lambda v: f"{v:g}")
        if p.choices:
            return "one of " + ", ".join(map(str, p.choices))
        if p.low is not None and p.high is not None:
            return f"{number(p.low)} .. {number(p.high)}{unit}"
        if p.low is not None:
            return f">= {number(p.low)}{unit}"
        if p.high is not None:
            return f"<= {number(p.high)}{unit}"
        return f"any{unit}" if unit else "any"

    def _refuse(self, value: Any, problem: str) -> ParameterError:
        span = self.describe_range()
        return ParameterError(f"parameter {self.name}: {value!r} {problem}; expected {_a(self.type_name())}"
                              + ("" if span == "any" else f", {span}"))

    def parse(self, value: Any) -> Any:
        """Convert (from command-line text too) and check; ParameterError naming name, unit and range."""
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            if self.optional:
                return None
            if value is None or not (self.kind is str and not self.is_list):
                raise self._refuse(value, "is missing")
        if not self.is_list:
            return self._element(value, value)
        items = value.split(",") if isinstance(value, str) else list(value)
        if isinstance(value, str) and not all(item.strip() for item in items):
            raise self._refuse(value, "has an empty element")
        if not items:
            raise self._refuse(value, "is empty")
        return [self._element(item.strip() if isinstance(item, str) else item, value) for item in items]

    def _element(self, item: Any, whole: Any) -> Any:
        kind = self.kind
        converted: Any
        try:
            if kind is bool:
                converted = _boolean(item)
            elif kind in (int, RunId):
                converted = _integer(item)
            elif kind is float:
                if isinstance(item, bool):
                    raise ValueError
                converted = float(item)
                if not math.isfinite(converted):
                    raise ValueError
            elif kind in (Path, Folder):
                converted = Path(str(item)).expanduser()
            else:
                converted = kind(item)
        except (TypeError, ValueError):
            raise self._refuse(whole, "is not " + _a(("list of " if self.is_list else "")
                                                     + self.type_name().removeprefix("comma-separated list of ")))\
                from None
        p = self.param
        if p.choices and converted not in p.choices:
            raise self._refuse(whole, "is not one of the choices")
        if isinstance(converted, (int, float)) and not isinstance(converted, bool):
            if (p.low is not None and converted < p.low) or (p.high is not None and converted > p.high):
                raise self._refuse(whole, "is out of range")
        if kind is Path and not converted.is_file():
            raise self._refuse(whole, "is a folder, not a file" if converted.is_dir() else "is not a readable file")
        if kind is Folder and not converted.is_dir():
            raise self._refuse(whole, "is a file, not a folder" if converted.exists() else "is not a folder")
        return converted


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _boolean(item: Any) -> bool:
    if isinstance(item, bool):
        return item
    text = str(item).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise ValueError
    return text in ("true", "1", "yes", "on")


def _integer(item: Any) -> int:
    """An int, also from integral floats and text in exponent form ("1e9")."""
    if isinstance(item, bool):
        raise ValueError
    if isinstance(item, int):
        return item
    number = float(item)
    if not number.is_integer():
        raise ValueError
    return int(number)


def _parameter(name: str, hint: Any, default: Any) -> Parameter:
    if get_origin(hint) is not typing.Annotated:
        raise TypeError(f"parameter {name}: annotate it as Annotated[type, Param(...)]")
    kind, *extras = get_args(hint)
    meta = next((e for e in extras if isinstance(e, Param)), None)
    if meta is None:
        raise TypeError(f"parameter {name}: its Annotated[...] needs a Param(...)")
    optional = False
    if get_origin(kind) in (typing.Union, types.UnionType):
        members = [a for a in get_args(kind) if a is not type(None)]
        optional, kind = len(members) < len(get_args(kind)), members[0]
    is_list = get_origin(kind) is list
    if is_list:
        (kind,) = get_args(kind)
    if default is inspect.Parameter.empty:
        raise TypeError(f"parameter {name}: give it a default")
    parameter = Parameter(name, kind, is_list, optional, default, meta)
    if default is not None:
        object.__setattr__(parameter, "default", parameter.parse(default))
    return parameter


Needs = dict[str, "str | None"]


class Procedure:
    """A plan function with its declared parameters, bench needs, figures and checks."""

    def __init__(self, function: Callable[..., Plan], name: str | None = None, needs: Needs | None = None,
                 plots: tuple[Callable, ...] = (), validate: Callable[[dict, Any], None] | None = None,
                 report: Callable[[dict], list[str]] | None = None, campaign: tuple[str, ...] = (),
                 resumes: str = "", analysis: Callable[..., Plan | dict] | None = None,
                 rehearsal: str = "physical") -> None:
        self.function = function
        if rehearsal not in ("physical", "nominal"):
            raise ValueError(f"rehearsal {rehearsal!r}: 'physical' or 'nominal'")
        #: how the rehearsal answers the array's operations: the twin's full model (physical), or the datasheet's
        #: nominal behaviour (labctl.nominal_chip), for a plan whose bench messages do not depend on the physics
        self.rehearsal = rehearsal
        #: host computation after the plan, on the run's records: ``analysis(data: RunData)`` returns what it
        #: adds to the summary, or is a plan that yields Record (and Progress) and returns it; never rehearsed
        self.analysis = analysis
        #: where the plan checkpoints ("after each column"), or "" if it does not resume
        self.resumes = resumes
        #: records a campaign task returns besides the summary
        self.campaign_records = tuple(campaign)
        self.name = name or function.__name__.replace("_", "-")
        doc = inspect.getdoc(function) or ""
        self.summary = doc.splitlines()[0] if doc else ""
        self.doc = doc
        self.needs: Needs = dict(needs or {})
        self.plots = {fn.__name__.removeprefix("plot_"): fn for fn in plots}
        self.validate = validate
        self.report = report
        hints = typing.get_type_hints(function, include_extras=True)
        self.parameters = {name: _parameter(name, hints.get(name), p.default)
                           for name, p in inspect.signature(function).parameters.items()}

    def __call__(self, **parameters: Any) -> Plan:
        """The plan itself (for ``yield from`` in another plan)."""
        return self.function(**parameters)

    def __repr__(self) -> str:
        return f"<procedure {self.name}>"

    def resolve(self, given: dict[str, Any], store: Any = None, options: bool = False) -> dict[str, Any]:
        """Defaults filled in, every value parsed and checked, then the procedure's own checks.

        ``store`` (read access) lets references to earlier runs be checked.  ``options``: name the
        parameters in refusals as the command line spells them (``--matrix-seed``).
        """
        try:
            return self._resolve(given, store, options)
        except ParameterError as exc:
            if not options:
                raise
            text = str(exc)
            for name in sorted(self.parameters, key=len, reverse=True):
                text = text.replace(f"parameter {name}:", f"{option(name)}:")
            raise ParameterError(text) from None

    def _resolve(self, given: dict[str, Any], store: Any, options: bool) -> dict[str, Any]:
        unknown = sorted(set(given) - set(self.parameters))
        if unknown:
            spell = option if options else repr
            close = suggest(unknown[0], self.parameters)
            if close and options:
                close = f" (did you mean {option(difflib.get_close_matches(unknown[0], self.parameters, 1, 0.5)[0])}?)"
            raise ParameterError(f"procedure {self.name}: unknown parameter {spell(unknown[0])}{close}; known: "
                                 f"{', '.join(map(spell, self.parameters)) or 'none'}")
        params = {name: p.parse(given[name]) if name in given else p.default
                  for name, p in self.parameters.items()}
        for name, p in self.parameters.items():
            if p.kind is RunId and params[name] is not None and store is not None:
                check_run_reference(store, p, params[name])
        if self.validate is not None:
            self.validate(params, store)
        return params

    def describe(self) -> list[str]:
        """The procedure as ``labctl procedures NAME`` shows it: summary, needs, resume, every parameter."""
        where = {"test_pad": "test pad", "test_mtj": "test MTJ"}
        needs = ", ".join(role + (f" on the {where.get(wired, wired)}" if wired else "")
                          for role, wired in self.needs.items())
        lines = [f"{self.name}: {self.summary}",
                 f"  needs: {needs or 'the chip only'}",
                 f"  resumes: {self.resumes}" if self.resumes else "  does not resume (a short run: start it again)"]
        for p in self.parameters.values():
            span = p.describe_range()
            lines.append(f"  {option(p.name):22s} {p.param.help}; {p.type_name()}"
                         + ("" if span == "any" else f", {span}") + f"; default {typed(p.default)}")
        return lines

    def check_bench(self, roles: typing.Iterable[str], wiring: Any, source: str) -> None:
        """Refuse a bench that lacks a role this procedure needs, or has it wired elsewhere."""
        roles = set(roles)
        where = {"test_pad": "test pad", "test_mtj": "test MTJ"}
        for role, wired_to in self.needs.items():
            if role not in roles:
                raise ParameterError(f"procedure {self.name} needs a {role} on the bench "
                                     f"({source} has {', '.join(sorted(roles)) or 'none'})")
            present = getattr(wiring, role, None)
            if wired_to is not None and present != wired_to:
                raise ParameterError(
                    f"procedure {self.name} needs the {role} wired to the {where.get(wired_to, wired_to)} "
                    f"(wiring {role} = \"{wired_to}\"); {source} has it on the "
                    f"{where.get(str(present), present)}: use --{role} {wired_to} on the built-in bench, "
                    f"`labctl sim serve --{role} {wired_to}`, or set [wiring] {role} in the bench file")


def check_run_reference(store: Any, parameter: Parameter, run_id: int) -> None:
    """The referred run exists and holds the record the parameter needs."""
    from .store import StoreError

    try:
        store.run(run_id)
    except StoreError:
        raise ParameterError(f"parameter {parameter.name}: there is no run {run_id} in {store.path}") from None
    record = parameter.param.record
    if record and record not in {name for name, _, _ in store.record_names(run_id)}:
        raise ParameterError(f"parameter {parameter.name}: run {run_id} has no {record!r} record")


def procedure(name: str | None = None, *, needs: Needs | typing.Iterable[str] | None = None,
              plots: tuple[Callable, ...] = (), validate: Callable[[dict, Any], None] | None = None,
              report: Callable[[dict], list[str]] | None = None, campaign: tuple[str, ...] = (),
              resumes: str = "", analysis: Callable[..., Plan | dict] | None = None, rehearsal: str = "physical"
              ) -> Callable[[Callable[..., Plan]], Procedure]:
    """Make a plan function a :class:`Procedure` (see the module docstring); ``campaign`` names the
    records a campaign task returns besides its summary; ``resumes`` says where the plan checkpoints
    ("after each column"), for a procedure whose interrupted runs resume; ``analysis`` is its host
    computation after the plan (:attr:`Procedure.analysis`); ``rehearsal`` how its rehearsal answers the
    array (:attr:`Procedure.rehearsal`)."""
    roles: Needs | None = (needs if needs is None or isinstance(needs, dict)
                           else dict.fromkeys(needs, None))

    def wrap(function: Callable[..., Plan]) -> Procedure:
        return Procedure(function, name, roles, plots, validate, report, campaign, resumes, analysis, rehearsal)

    return wrap



def typed(value: Any) -> str:
    """A parameter's value as it is typed on the command line (lists comma-separated, ``none``, ``true``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(map(typed, value))
    return f"{value:g}" if isinstance(value, float) else str(value)
