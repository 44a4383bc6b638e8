"""Argument checks shared by the chip model and its board.

Each check raises :class:`InvalidArgument` naming the argument, the value
given and what is allowed, and returns the value in canonical form.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import InvalidArgument


def index(name: str, value: object, size: int) -> int:
    """An integer in 0..size-1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < size:
        raise InvalidArgument(name, value, f"integer 0..{size - 1}")
    return int(value)


def number(name: str, value: object, low: float, high: float, unit: str) -> float:
    """A finite real number in [low, high] (``unit`` only for the message)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or not low <= value <= high:
        raise InvalidArgument(name, value, f"{low:g} .. {high:g} {unit}".rstrip())
    return float(value)


def number_array(name: str, value: object, shape: tuple[int, ...], low: float, high: float, unit: str) -> np.ndarray:
    """A float64 array of ``shape``, every element finite and in [low, high] (``unit`` only for the message)."""
    a = np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) or value.dtype.kind in "iuf" \
        else np.asarray(value)
    if a.shape != shape or a.dtype.kind != "f":
        raise InvalidArgument(name, _describe(a), f"shape {shape} of numbers")
    outside = ~(np.isfinite(a) & (a >= low) & (a <= high))
    if outside.any():
        raise InvalidArgument(name, float(a[outside][0]), f"{low:g} .. {high:g} {unit}".rstrip())
    return a.astype(float)


def integer(name: str, value: object, low: int, high: int, unit: str) -> int:
    """An integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise InvalidArgument(name, value, f"integer {low} .. {high} {unit}".rstrip())
    return int(value)


def _describe(a: np.ndarray) -> str:
    return f"array of shape {a.shape} and dtype {a.dtype}"


def signs(name: str, value: object, shape: tuple[int | None, ...]) -> np.ndarray:
    """An int8 array of +1/-1 of the given shape (``None`` matches any length)."""
    a = value if type(value) is np.ndarray else np.asarray(value)
    if a.shape != shape and (a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape))):
        want = " x ".join("N" if s is None else str(s) for s in shape)
        raise InvalidArgument(name, _describe(a), f"shape ({want}) of -1/+1")
    if a.size == 0:
        raise InvalidArgument(name, _describe(a), "at least one vector")
    if a.dtype == np.int8 and a.size <= 4096:  # cheapest for small arrays: bytes other than 01/FF
        bad = bool(a.tobytes().translate(None, b"\x01\xff"))
    elif a.dtype == np.int8:                   # three reductions, no temporaries
        bad = not (a.min() >= -1 and a.max() <= 1 and np.count_nonzero(a) == a.size)
    elif a.dtype.kind in "iuf":
        bad = not np.all((a == 1) | (a == -1))
    else:
        raise InvalidArgument(name, _describe(a), "numbers -1/+1")
    if bad:
        wrong = a[(a != 1) & (a != -1)].ravel()[0].item()
        raise InvalidArgument(name, f"value {wrong!r}", "only -1 and +1")
    return np.ascontiguousarray(a, dtype=np.int8)
