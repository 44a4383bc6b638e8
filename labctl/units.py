"""How labctl shows quantities to people: a duration in the unit that reads best, a value with its unit."""

from __future__ import annotations

import math

_SPANS = ((365.25 * 86400, "years"), (86400.0, "days"), (3600.0, "h"), (60.0, "min"), (1.0, "s"),
          (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))


def duration(seconds: float) -> str:
    """``3e9`` -> ``95.1 years``, ``0.0225`` -> ``22.5 ms``, ``90`` -> ``1.5 min``: three significant digits."""
    if not math.isfinite(seconds):
        return f"{seconds} s"
    if seconds == 0:
        return "0 s"
    size = abs(seconds)
    scale, unit = next(((s, u) for s, u in _SPANS if size >= s), _SPANS[-1])
    return f"{seconds / scale:.3g} {unit}"
