"""Accuracies with their 95 % intervals, and the table every network procedure prints.

- An accuracy is k correct of n test items, with the Wilson score interval
  (good at any k, also near 100 %).
- The gap between two classifiers of the *same* items (software against
  chip) is paired: only the items they disagree on move it.  With b items
  only the first gets right and c only the second, the gap is (b - c) / n
  and its variance (b + c - (b - c)^2 / n) / n^2 (the normal approximation
  McNemar's test rests on).
- Across dies, a mean with Student's t interval (:func:`mean_interval`).

Figures in points (percentage points) are what people read; the summary
keeps fractions too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054          #: two-sided 95 % normal quantile


def wilson(correct: int, total: int) -> tuple[float, float]:
    """The 95 % Wilson score interval (low, high) of an accuracy of ``correct`` of ``total``, as fractions."""
    if total <= 0:
        return float("nan"), float("nan")
    p, z2 = correct / total, Z95**2
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = Z95 * math.sqrt(p * (1 - p) / total + z2 / (4 * total**2)) / (1 + z2 / total)
    return centre - half, centre + half


def paired_gap(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(gap, half-width of its 95 % interval), in points, of two classifiers' correctness on the same items:
    reference accuracy minus the other's."""
    reference, other = np.asarray(reference, bool), np.asarray(other, bool)
    n = reference.size
    if n == 0:
        return float("nan"), float("nan")
    only_ref, only_other = int(np.sum(reference & ~other)), int(np.sum(~reference & other))
    gap = (only_ref - only_other) / n
    variance = max(only_ref + only_other - (only_ref - only_other) ** 2 / n, 0.0) / n**2
    return 100 * gap, 100 * Z95 * math.sqrt(variance)


def accuracy(name: str, correct: np.ndarray) -> dict[str, object]:
    """``{name}_accuracy`` (fraction) and ``{name}_accuracy_ci95`` ([low, high] fractions) of a correctness mask."""
    correct = np.asarray(correct, bool)
    low, high = wilson(int(correct.sum()), correct.size)
    return {f"{name}_accuracy": float(correct.mean()) if correct.size else float("nan"),
            f"{name}_accuracy_ci95": [low, high]}


#: Student's t, two-sided 95 %, for 1 .. 30 degrees of freedom (beyond: within 2 % of the normal quantile)
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def mean_interval(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of its 95 % Student t interval) of per-die values (NaN half-width for one value)."""
    data = np.asarray(values, float)
    if data.size < 2:
        return float(data.mean()) if data.size else float("nan"), float("nan")
    t = _T95[data.size - 2] if data.size - 1 <= len(_T95) else Z95 * (1 + 1 / (data.size - 1))
    return float(data.mean()), float(t * data.std(ddof=1) / math.sqrt(data.size))


def _cell(value: float | None, interval: Sequence[float] | None = None) -> str:
    if value is None or not math.isfinite(value):
        return f"{'-':23s}"
    text = f"{100 * value:6.2f} %"
    if interval is not None and all(math.isfinite(v) for v in interval):
        text += f" ({100 * interval[0]:.2f}-{100 * interval[1]:.2f})"
    return f"{text:23s}"


def table(columns: tuple[str, str], rows: Sequence[tuple[str, dict]], items: str) -> list[str]:
    """The network procedures' table: a row per classifier pair, each with its two accuracies and intervals
    and their paired gap in points; ``rows`` are (label, {"a", "a_ci", "b", "b_ci", "gap", "gap_ci"}),
    missing entries shown as -."""
    lines = [f"  {'':16s} {columns[0]:23s} {columns[1]:23s} gap (points)"]
    for label, row in rows:
        gap = row.get("gap")
        gap_text = "-" if gap is None else f"{gap:5.2f}" + (f" ± {row['gap_ci']:.2f}" if row.get("gap_ci") is not None
                                                            and math.isfinite(row["gap_ci"]) else "")
        lines.append(f"  {label:16s} {_cell(row.get('a'), row.get('a_ci'))} {_cell(row.get('b'), row.get('b_ci'))} "
                     f"{gap_text}")
    lines.append(f"  ({items}; 95 % intervals: Wilson for accuracies, paired for the gap)")
    return lines
