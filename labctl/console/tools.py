"""What both consoles bind: the bench's instruments by short names, and a few bench commands."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import run_direct
from ..plan import Call, Set
from ..stubs import checkerboard, pad_ohm, probe_off, probe_on

BANNER = """labctl console on {source}
  chip, bench{roles}, np
  program(pattern), mac(x), rmap(columns), power_up(), power_down(), status(), limits(), help(x)
  Ctrl-C stops a command (outputs off); exit() or Ctrl-D closes the bench safely."""

_SHADES = " .:-=+*#%@"


def banner(bench: Any) -> str:
    roles = "".join(f", {r}" for r in bench.instruments) + (", gen" if "generator" in bench.instruments else "")
    return BANNER.format(source=bench.source, roles=roles)


class BenchTools:
    """The console's commands on one bench."""

    def __init__(self, bench: Any) -> None:
        self.bench = bench

    def namespace(self) -> dict[str, Any]:
        """The names a console binds."""
        bench = self.bench
        names: dict[str, Any] = {"bench": bench, "chip": bench.chip, "np": np}
        names.update(bench.instruments)
        if "generator" in bench.instruments:
            names["gen"] = bench.instruments["generator"]
        names.update(program=self.program, mac=self.mac, rmap=self.rmap, power_up=bench.power_up,
                     power_down=bench.power_down, status=self.status, limits=self.limits)
        return names

    def status(self) -> None:
        """Every output, protection state and limit of the bench."""
        print(self.bench.status())

    def limits(self) -> None:
        """The bench's safety limits."""
        for name, value in vars(self.bench.limits).items():
            print(f"  {name:22s} {value:g}")

    def program(self, pattern: Any = "checkerboard", seed: int = 0) -> None:
        """program('checkerboard' | 'ones' | 'minus' | 'random' | 64x64 array): write and verify."""
        named = {"checkerboard": checkerboard(), "ones": np.ones((64, 64)),
                 "minus": -np.ones((64, 64)),
                 "random": np.random.default_rng(seed).choice([-1, 1], (64, 64))}
        if isinstance(pattern, str) and pattern not in named:
            raise ValueError(f"pattern {pattern!r}: one of {', '.join(named)} or a 64 x 64 array")
        weights = named[pattern] if isinstance(pattern, str) else np.asarray(pattern)
        self.bench.chip.write_array(weights)
        errors = int((self.bench.chip.verify_array() != weights).sum())
        print(f"programmed {pattern if isinstance(pattern, str) else 'array'}: {errors} bit errors")

    def mac(self, x: Any = "random", seed: int | None = None) -> np.ndarray:
        """mac('random' | 'ones' | 64 values of +-1): TDC codes of all 64 columns."""
        if isinstance(x, str):
            x = np.ones(64) if x == "ones" else np.random.default_rng(seed).choice([-1, 1], 64)
        codes = self.bench.chip.mac(x)
        print("codes " + " ".join(f"{c:x}" for c in codes))
        return codes

    def rmap(self, columns: int = 16, bias: float = 0.1) -> np.ndarray:
        """Read-margin map (R_high - R_low per cell) of the first columns, as text, via the SMU."""
        margins = run_direct(margin_map(columns, bias), self.bench)
        top = max(float(margins.max()), 1.0)
        for i in range(64):
            shades = "".join(_SHADES[min(9, max(0, int(9 * m / top)))] for m in margins[i])
            print(f"{i:2d} |{shades}|")
        print(f"   margin 0 '{_SHADES[0]}' .. {top / 1e3:.1f} kOhm '{_SHADES[-1]}'")
        return margins


def margin_map(columns: int, bias: float) -> Any:
    """Plan: R_high - R_low of every cell of the first ``columns`` columns, ohm (rows x columns)."""
    weights = yield Call("chip.verify_array")
    margins = np.zeros((64, columns))
    yield from probe_on(bias, nplc=0.1)
    try:
        for j in range(columns):
            yield Set("chip.test_mux", j)
            low = yield from pad_ohm(weights[:, j], bias)          # every cell low
            for i in range(64):
                x = weights[:, j].copy()
                x[i] = -x[i]                                       # row i high
                margins[i, j] = (yield from pad_ohm(x, bias)) - low
    finally:
        yield from probe_off()
    return margins


def one_line(exc: BaseException) -> str | None:
    """How a console shows a bench error, in one line; None for an error that deserves its traceback."""
    from instruments.errors import InstrumentError, OutOfRange
    from instruments.sealed import NotASetting

    if isinstance(exc, OutOfRange):
        return f"refused: {exc}"
    if isinstance(exc, InstrumentError):
        return f"error: {exc}"
    text = str(exc.args[0]) if exc.args else ""
    if isinstance(exc, NotASetting) or isinstance(exc, KeyError) and "has channels" in text:
        return f"refused: {text}"
    return None


