"""The messages a procedure's plan yields, and what the engine answers.

A plan is a generator: it yields messages, the run engine carries each one
out on the bench and sends the answer back (``value = yield Read("smu.read")``),
and the plan's return value is the run's summary.  When a run completes, the
engine draws every figure of the procedure from the stored records.  The same plan runs for
real, as a dry-run against a simulated twin of the bench (every set checked
against the safety limits, the duration measured), and resumes from its
checkpoints.  A plan may ``yield from`` another plan, or run one as a child
run with :class:`SubRun`.

The whole vocabulary:

============  =====================================================  ===========================
message       what the engine does                                   answer
============  =====================================================  ===========================
Set           assigns a bench setting (limits checked first)         None
Read          reads a setting, or calls a measurement with no args   the value
Call          calls a chip operation or an instrument method         its return value
Wait          lets bench time pass (virtual in simulation), s        None
Record        stores a named result at once (array or JSON value)    None
Checkpoint    stores state to resume from                            None
Progress      reports progress of a task                             None
Plot          draws one of the procedure's figures now (live view)   None
Load          reads an earlier run from the store                    its :class:`~labctl.rundata.RunData`
Context       asks for the run's context (seed, rng, resume, bench)  :class:`RunContext`
SubRun        runs another procedure as a child run                  its summary
Compute       host computation: run once, stubbed in the rehearsal   the function's result
============  =====================================================  ===========================

Host computation that needs no bench (evaluations, fits, figures, an
emulation) belongs in the procedure's *analysis* (``@procedure(analysis=...)``):
it runs once, after the plan, on the run's stored records, and records what
it finds; the rehearsal never runs it.  Host computation a plan needs
before it can go on (training the network it then programs) is a
:class:`Compute`: the rehearsal answers it with its stub, which only has to
give something of the right shape.

Targets name what a message acts on, as ``<thing>.<name>``:

* ``chip.<operation>``: the chip interface (``chip.write_array``, ``chip.mac_batch``,
  ``chip.set_tdc_window``, ``chip.write_width``, ``chip.powered`` ...);
* ``<role>.<setting>`` and ``<role>.ch<N>.<setting>``: an instrument of the bench
  (roles ``supply``, ``smu``, ``generator``, ``thermo``, ``dmm``), e.g.
  ``smu.source_voltage``, ``generator.ch1.pulse_width``;
* ``rail.<vdd|vddio|vwrite>``: a chip rail, V, wherever it comes from (the supply
  channel the wiring names, or the board's regulator on a bench without a supply);
* ``bench.<power_up|power_down>``: the bench's power sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Generator

import numpy as np

class Message:
    """Base of every plan message."""


#: A plan: yields messages, receives answers, returns the run's summary.
Plan = Generator[Message, Any, Any]


@dataclass(frozen=True)
class Set(Message):
    """Assign ``value`` to ``target`` (a setting or a rail)."""

    target: str
    value: Any


@dataclass(frozen=True)
class Read(Message):
    """Read ``target``: a setting's value, or the result of a measurement method with no arguments."""

    target: str


@dataclass(frozen=True, init=False)
class Call(Message):
    """Call the method ``target`` with arguments: ``Call("chip.write_row", 3, weights)``."""

    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __init__(self, target: str, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "kwargs", kwargs)


@dataclass(frozen=True)
class Wait(Message):
    """Let ``seconds`` of bench time pass."""

    seconds: float


@dataclass(frozen=True)
class Record(Message):
    """Store one named result now.

    A name may repeat: every occurrence is a row of that record (a column
    map recorded column by column, say).  ``unit`` and ``description``
    travel with the data into exports; ``axes`` names, per dimension, the
    record that holds its coordinates (a histogram's bin edges), or a label.
    """

    name: str
    value: Any
    unit: str = ""
    description: str = ""
    axes: tuple[str, ...] = ()

    def meta(self) -> dict:
        return {k: v for k, v in (("unit", self.unit), ("description", self.description),
                                  ("axes", list(self.axes))) if v}


@dataclass(frozen=True)
class Checkpoint(Message):
    """Store ``state`` (JSON-able): a run resuming this one receives the last one in
    :attr:`RunContext.resume`, and starts with the records stored before it (:attr:`RunContext.kept`);
    the plan then carries on from the step after it, recording only what is new."""

    state: dict


@dataclass(frozen=True)
class Progress(Message):
    """``done`` of ``total`` steps of ``task``."""

    task: str
    done: int
    total: int


@dataclass(frozen=True)
class Plot(Message):
    """Draw the procedure's figure ``name`` from what the store holds now (every figure is drawn
    again when the run completes)."""

    name: str


@dataclass(frozen=True)
class Load(Message):
    """Read run ``run_id`` from the store (a calibration, a trained network, an error model)."""

    run_id: int


@dataclass(frozen=True)
class Context(Message):
    """Ask for the run's :class:`RunContext`."""


@dataclass(frozen=True)
class SubRun(Message):
    """Run procedure ``name`` with ``parameters`` as a child run; the answer is its summary.

    The child's seed derives from the parent's seed and ``key`` (default: the child's place among the
    parent's child runs), so a parent run with a given seed gives its children the same seeds every time,
    also when it resumes and skips the children it had already run.
    """

    name: str
    parameters: dict = field(default_factory=dict)
    key: str = ""


@dataclass(frozen=True, init=False)
class Compute(Message):
    """Host computation a plan waits for: ``function(*args, **kwargs)`` in the run; in the rehearsal,
    ``stub(*args, **kwargs)`` (something of the result's shape, made cheaply), or the function itself
    when there is no stub."""

    function: Any
    stub: Any
    args: tuple
    kwargs: dict

    def __init__(self, function: Any, *args: Any, stub: Any = None, **kwargs: Any) -> None:
        object.__setattr__(self, "function", function)
        object.__setattr__(self, "stub", stub)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "kwargs", kwargs)


@dataclass(frozen=True)
class RunContext:
    """What a plan may know about its run besides its parameters."""

    seed: int                    #: the run's seed
    rng: np.random.Generator     #: seeded from it; the same generator for the whole run
    resume: dict | None          #: the last checkpoint of the run being resumed, else None
    roles: frozenset[str]        #: instrument roles on the bench (besides the chip)
    wiring: Any                  #: :class:`labctl.bench.Wiring`
    rails: Any                   #: :class:`labctl.bench.Rails` (nominal volts)
    limits: Any                  #: :class:`labctl.bench.SafetyLimits`
    #: on resume, the records the interrupted run stored before its last checkpoint, as a
    #: :class:`labctl.rundata.RunData` (they are this run's first records already); else None
    kept: Any = None

    def has(self, role: str, wired_to: str | None = None) -> bool:
        """True if the bench has ``role`` (and, for the SMU, wired to ``wired_to``)."""
        if role not in self.roles:
            return False
        return wired_to is None or getattr(self.wiring, role, wired_to) == wired_to
