"""The raw SCPI terminal's safety net: a warning before a typed line sets a value beyond a bench limit.

Raw is raw: the terminal still sends what the user confirms.  To know what a
line sets, it is first given to a simulated instrument of the same model
(the shadow), which parses it exactly as the model's command set says (long
or short forms, channel suffixes and lists, the selected channel); every
quantity it changes that carries a limit is checked against the bench's
safety limits, as a driver would check it.
"""

from __future__ import annotations

import math

from benchspec.instrument import CommandSet
from benchspec.models import COMMAND_SETS
from benchspec.scpi import Identity
from instruments.errors import SafetyLimitError
from instruments.scpi import Limits
from sim_chip.bench.scpi_device import SCPIDevice


def command_set_of(identity: str) -> CommandSet | None:
    """The command set of the instrument that answered ``identity`` to ``*IDN?`` (None: not one of ours)."""
    model = Identity.parse(identity).model
    return next((spec for spec in COMMAND_SETS.values() if any(m in model for m in spec.models)), None)


class LimitWatch:
    """Which bench limits a raw line would break on an instrument of ``spec``'s model."""

    def __init__(self, spec: CommandSet, limits: Limits) -> None:
        self.spec, self.limits = spec, limits
        self.shadow = SCPIDevice(spec)
        self._changed: list[tuple[str, int | None]] = []
        self.shadow.changed = lambda name, channel: self._changed.append((name, channel))  # type: ignore[method-assign]
        self._quantities = {q.name: q for q in spec.quantities}

    def breaches(self, line: str) -> list[str]:
        """What the line would set beyond a limit, one text each ([] if nothing); the shadow then holds the
        line's settings until :meth:`forget` (when the line is not sent)."""
        self._before = dict(self.shadow.values)
        self._changed.clear()
        self.shadow.handle_line(line)
        self.shadow.errors.clear()
        found = []
        for name, channel in self._changed:
            q, value = self._quantities[name], self.shadow.values[(name, channel)]
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if q.limit is None or not numeric:
                continue
            try:
                owner = self.spec.role if channel is None else f"{self.spec.role} CH{channel}"
                self.limits.check(owner, q.limit.format(ch=channel), float(value))
            except SafetyLimitError as exc:
                found.append(str(exc).removesuffix("; nothing was sent"))
        return found

    def forget(self) -> None:
        """The last line was not sent: the shadow goes back to what the instrument holds."""
        self.shadow.values = self._before
