"""Procedures: typed parameters, a plan that can be checked before anything runs, and a run.

A procedure declares its parameters (type, unit, range) and says, for given
parameters, what it would do: the values it would send that the bench's
safety limits govern, and how long it would take (:class:`Plan`).  The run
engine checks both before any instrument is touched (``--dry-run`` stops
there).  ``run`` then works through a :class:`RunContext`: the bench, a
seeded random generator, and the store for records, plots, progress and
checkpoints.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np


class ParameterError(ValueError):
    """A parameter value that is refused; the message names the parameter and its range."""


@dataclass(frozen=True)
class Parameter:
    """A typed procedure parameter with unit and limits."""

    name: str
    kind: type
    default: Any
    doc: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def parse(self, value: Any) -> Any:
        """Convert (from text too) and check; raise ParameterError naming the parameter."""
        try:
            if self.kind is bool and isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                converted = value.lower() in ("true", "1", "yes")
            else:
                converted = self.kind(value)
        except (TypeError, ValueError):
            raise ParameterError(f"parameter {self.name}: {value!r} is not a {self.kind.__name__}") from None
        if self.choices and converted not in self.choices:
            raise ParameterError(f"parameter {self.name}: {converted!r} not one of {list(self.choices)}")
        if (self.low is not None and converted < self.low) or (self.high is not None and converted > self.high):
            raise ParameterError(f"parameter {self.name}: {converted!r} outside {self.describe_range()}")
        return converted

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.low is None and self.high is None:
            return "any"
        if self.high is None:
            return f">= {self.low:g} {self.unit}".rstrip()
        if self.low is None:
            return f"<= {self.high:g} {self.unit}".rstrip()
        return f"{self.low:g} .. {self.high:g} {self.unit}".rstrip()


@dataclass
class Plan:
    """What a run would do: limited values it would send, and its estimated duration."""

    setpoints: list[tuple[str, float]] = field(default_factory=list)   #: (SafetyLimits name, value)
    duration_s: float = 0.0                                             #: estimated model/bench time
    steps: list[str] = field(default_factory=list)                      #: human-readable outline

    def send(self, limit: str, *values: float) -> None:
        for v in values:
            self.setpoints.append((limit, float(v)))


class Procedure:
    """Base of every procedure (one module each in ``procedures/``)."""

    name: ClassVar[str]
    summary: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    #: bench roles the procedure needs besides the chip
    needs: ClassVar[tuple[str, ...]] = ()

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults filled in, every value parsed and checked; unknown names refused."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ParameterError(f"procedure {self.name}: unknown parameter {unknown[0]!r}; "
                                 f"known: {', '.join(known) or 'none'}")
        return {name: p.parse(given[name]) if name in given else p.default for name, p in known.items()}

    def plan(self, params: dict[str, Any], bench: Any) -> Plan:
        """What the run would send and how long it would take (override)."""
        return Plan()

    def run(self, ctx: "RunContext", params: dict[str, Any]) -> dict[str, Any]:
        """Do the work; return the run's summary (numbers worth printing)."""
        raise NotImplementedError


class RunContext:
    """What a procedure works with during a run."""

    def __init__(self, bench: Any, store: Any, run_id: int, seed: int,
                 progress: Callable[[str, int, int], None], resume_state: dict | None,
                 plot_dir: Any = None) -> None:
        self.bench = bench
        self.chip = bench.chip
        self.store = store
        self.run_id = run_id
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.resume_state = resume_state
        self._progress = progress
        self._plot_dir = plot_dir

    def record(self, name: str, value: Any) -> None:
        """Keep one result (array or JSON-able value) in the store, at once."""
        self.store.record(self.run_id, name, value)

    def progress(self, task: str, done: int, total: int) -> None:
        self._progress(task, done, total)

    def checkpoint(self, state: dict) -> None:
        """Save enough state to resume from here (JSON-able)."""
        self.store.checkpoint(self.run_id, state)

    def plot(self, name: str, figure: Any) -> None:
        """Save a matplotlib figure as PNG with the run (and next to the store)."""
        buf = io.BytesIO()
        figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(figure)
        self.store.attach(self.run_id, f"{name}.png", buf.getvalue())
        if self._plot_dir is not None:
            self._plot_dir.mkdir(parents=True, exist_ok=True)
            (self._plot_dir / f"{name}.png").write_bytes(buf.getvalue())
