"""Choosing among candidates on validation data, and the record of the choice a shipped network carries.

A selection is a list of candidates (a name, what made it, and its figures
measured on validation data) and a rule: the candidate with the highest
value of the rule's first figure wins, ties go to the next figure, then to
the first listed.  The record (``Selection.record()``) lives in the picked
network's metadata (``selection``, or ``detection_selection`` for the
detection settings), so a shipped file says what it was chosen from, on
what, and why.  Nothing here sees test data: a selection is made from the
figures it is given.

``python -m procedures.networks.host.selection FILE.npz`` prints a network
file's selections as markdown tables (docs/networks.md quotes them).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """One choice: its name, what made it (a command line, or settings), and its validation figures (numbers, or
    lists of numbers such as per-die figures)."""

    name: str
    made_by: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Selection:
    """Candidates, the figures the rule ranks by (highest first, in order), and the data they were measured on."""

    candidates: tuple[Candidate, ...]
    rank_by: tuple[str, ...]
    measured_on: str

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("a selection needs at least one candidate")
        missing = [(c.name, k) for c in self.candidates for k in self.rank_by if k not in c.figures]
        if missing:
            raise ValueError(f"candidates lack the figures the rule ranks by: {missing}")

    @property
    def rule(self) -> str:
        """The rule in words."""
        return (f"highest {self.rank_by[0]}" + "".join(f", ties by highest {k}" for k in self.rank_by[1:])
                + ", then the first listed")

    @property
    def pick(self) -> Candidate:
        """The candidate the rule picks."""
        return max(enumerate(self.candidates),
                   key=lambda ic: (*(ic[1].figures[k] for k in self.rank_by), -ic[0]))[1]

    def record(self) -> dict[str, Any]:
        """The choice as plain data for a network's metadata."""
        return {"measured_on": self.measured_on, "rule": self.rule, "rank_by": list(self.rank_by),
                "candidates": [{"name": c.name, "made_by": c.made_by, **c.figures} for c in self.candidates],
                "pick": self.pick.name}


def from_record(record: dict[str, Any]) -> Selection:
    """The Selection a record (``Selection.record()``) describes."""
    candidates = tuple(Candidate(c["name"], c["made_by"], {k: v for k, v in c.items() if k not in ("name", "made_by")})
                       for c in record["candidates"])
    return Selection(candidates, tuple(record["rank_by"]), record["measured_on"])


def grid(names: Sequence[str], values: Sequence[Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of settings (the first name varying slowest): [{name: value, ...}, ...]."""
    combos: list[dict[str, float]] = [{}]
    for name, options in zip(names, values):
        combos = [{**c, name: float(v)} for c in combos for v in options]
    return combos


#: other candidates a report line names
SHOWN = 3


def describe(record: dict[str, Any] | None, what: str) -> list[str]:
    """Report lines of a selection record (None: the network records none): the pick, its figures, the rule."""
    if not record:
        return [f"  {what}: no selection recorded in the network"]
    selection = from_record(record)
    pick, lead = selection.pick, selection.rank_by[0]
    others = [c for c in selection.candidates if c is not pick]
    shown = ", ".join(f"{c.name} {c.figures[lead]:.4g}" for c in others[:SHOWN])
    more = f" and {len(others) - SHOWN} more" if len(others) > SHOWN else ""
    return [f"  {what}: {pick.name} ({lead} {pick.figures[lead]:.4g}; others: {shown or 'none'}{more})",
            f"    chosen on {selection.measured_on}; rule: {selection.rule}"]


#: figures named with one of these are fractions, shown as percentages
PERCENT = ("accuracy", "balanced", "face")


def _cell(key: str, value: Any) -> str:
    if isinstance(value, list):
        return " / ".join(_cell(key, v) for v in value)
    if isinstance(value, float) and any(word in key for word in PERCENT):
        return f"{100 * value:.2f} %"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def markdown(record: dict[str, Any], columns: Sequence[str] | None = None) -> list[str]:
    """A selection record as a markdown table (a row per candidate, the pick in bold) and its rule; figures named
    as fractions (PERCENT) shown as percentages."""
    selection = from_record(record)
    keys = list(columns or dict.fromkeys(k for c in selection.candidates for k in c.figures))
    lines = ["| candidate | made by | " + " | ".join(keys) + " |", "|" + " --- |" * (len(keys) + 2)]
    for c in selection.candidates:
        bold = "**" if c is selection.pick else ""
        cells = [f"{bold}{c.name}{bold}", f"`{c.made_by}`", *(_cell(k, c.figures.get(k, "-")) for k in keys)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", f"Chosen on {selection.measured_on}. Rule: {selection.rule}; pick: **{selection.pick.name}**."]


def main(argv: list[str] | None = None) -> None:
    """Print the selections a network file records, as markdown."""
    from .npz import load_network

    for path in (sys.argv[1:] if argv is None else argv):
        meta = load_network(path).metadata
        for key in ("selection", "detection_selection"):
            if key in meta:
                print(f"{path} {key}:\n")
                print("\n".join(markdown(meta[key])) + "\n")


if __name__ == "__main__":
    main()
