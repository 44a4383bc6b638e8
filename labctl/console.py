"""``labctl console``: an interactive Python session on a bench.

The chip and every instrument are bound to short names; tab completes
their methods and settings without querying the instruments; ``help(x)``
lists an instrument's settings with units and ranges; history persists.
Safety limits apply exactly as in procedures.  Ctrl-C stops the running
command and turns every output off; leaving the console closes the bench
safely.
"""

from __future__ import annotations

import code
import rlcompleter
import sys
from pathlib import Path
from typing import Any

import numpy as np

from instruments.errors import InstrumentError, OutOfRange
from instruments.scpi import Setting

from .engine import run_direct
from .stubs import checkerboard, pad_ohm, probe_off, probe_on

try:
    import readline
except ImportError:  # pragma: no cover - not on this platform
    readline = None

BANNER = """labctl console on {source}
  chip, bench{roles}, np
  program(pattern), mac(x), rmap(columns), power_up(), power_down(), status(), limits(), help(x)
  Ctrl-C stops a command (outputs off); exit() or Ctrl-D closes the bench safely."""

_SHADES = " .:-=+*#%@"


class SafeCompleter(rlcompleter.Completer):
    """Attribute completion that never evaluates a setting (which would query the instrument)."""

    def attr_matches(self, text: str) -> list[str]:
        expr, _, attr = text.rpartition(".")
        try:
            obj = eval(expr, self.namespace)
        except Exception:
            return []
        matches = []
        for name in sorted(set(dir(obj))):
            if name.startswith("_") and not attr.startswith("_"):
                continue
            if not name.startswith(attr):
                continue
            static = next((vars(c)[name] for c in type(obj).__mro__ if name in vars(c)), None)
            lazy = isinstance(static, (Setting, property))
            value = None if lazy else getattr(obj, name, None)
            matches.append(f"{expr}.{name}" + ("(" if callable(value) else ""))
        return matches


class BenchConsole(code.InteractiveConsole):
    """The console's interpreter: instrument errors as one line, Ctrl-C makes the bench safe."""

    def __init__(self, bench: Any, history: Path | None) -> None:
        self.bench = bench
        self.history = history
        names = {"bench": bench, "chip": bench.chip, "np": np}
        names.update(bench.instruments)
        if "generator" in bench.instruments:
            names["gen"] = bench.instruments["generator"]
        names.update(program=self.program, mac=self.mac, rmap=self.rmap, power_up=bench.power_up,
                     power_down=bench.power_down, status=self.status, limits=self.limits, help=self.help)
        super().__init__(names, filename="<labctl>")

    # ----------------------------------------------------------- session
    def run(self) -> None:
        if readline is not None:
            readline.set_completer(SafeCompleter(self.locals).complete)
            readline.parse_and_bind("tab: complete")
            if self.history is not None and self.history.exists():
                readline.read_history_file(self.history)
        roles = "".join(f", {r}" for r in self.bench.instruments) + (", gen" if "generator" in self.bench.instruments else "")
        try:
            self.interact(banner=BANNER.format(source=self.bench.source, roles=roles), exitmsg="")
        finally:
            if readline is not None and self.history is not None:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                readline.set_history_length(5000)
                readline.write_history_file(self.history)

    def runcode(self, code_object: Any) -> None:
        try:
            exec(code_object, self.locals)
        except KeyboardInterrupt:
            self.bench.safe_state()
            self.write("interrupted: every output is off\n")
        except SystemExit:
            raise
        except OutOfRange as exc:
            self.write(f"refused: {exc}\n")
        except InstrumentError as exc:
            self.write(f"error: {exc}\n")
        except (AttributeError, KeyError) as exc:
            self.write(f"error: {exc.args[0] if exc.args else exc}\n")
        except Exception:
            self.showtraceback()

    # -------------------------------------------------------- commands
    def help(self, obj: Any = None) -> None:
        """help(x): settings with units and ranges for instruments, Python's help otherwise."""
        describe = getattr(obj, "describe", None)
        if callable(describe):
            print(describe())
        elif obj is None:
            print(BANNER.format(source=self.bench.source, roles=""))
        else:
            import pydoc
            print(pydoc.render_doc(obj, renderer=pydoc.plaintext))

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
        weights = named[pattern] if isinstance(pattern, str) and pattern in named else np.asarray(pattern)
        if isinstance(pattern, str) and pattern not in named:
            raise ValueError(f"pattern {pattern!r}: one of {', '.join(named)} or a 64 x 64 array")
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
        margins = run_direct(_margin_map(columns, bias), self.bench)
        top = max(float(margins.max()), 1.0)
        for i in range(64):
            shades = "".join(_SHADES[min(9, max(0, int(9 * m / top)))] for m in margins[i])
            print(f"{i:2d} |{shades}|")
        print(f"   margin 0 '{_SHADES[0]}' .. {top / 1e3:.1f} kOhm '{_SHADES[-1]}'")
        return margins


def _margin_map(columns: int, bias: float) -> Any:
    """Plan: R_high - R_low of every cell of the first ``columns`` columns, ohm (rows x columns)."""
    from .plan import Call

    weights = yield Call("chip.verify_array")
    margins = np.zeros((64, columns))
    yield from probe_on(bias, nplc=0.1)
    try:
        for j in range(columns):
            yield Call("chip.select_test_mux", j)
            low = yield from pad_ohm(weights[:, j], bias)          # every cell low
            for i in range(64):
                x = weights[:, j].copy()
                x[i] = -x[i]                                       # row i high
                margins[i, j] = (yield from pad_ohm(x, bias)) - low
    finally:
        yield from probe_off()
    return margins


def outputs_left_on(world: Any) -> list[str]:
    """On a simulated bench, what is still driving the chip (should be nothing after close)."""
    on = [f"supply CH{ch}" for ch, out in world.supply.outputs.items() if out.on]
    on += ["SMU"] if world.smu.output else []
    on += [f"generator CH{n}" for n, ch in world.generator.channels.items() if ch.output]
    on += ["heater"] if world.thermo.range[1] else []
    return on


def run_console(bench: Any, history: Path | None) -> int:
    """Interact until exit; close the bench safely whatever happens."""
    try:
        BenchConsole(bench, history).run()
    finally:
        bench.close()
        print("bench closed: every output off", file=sys.stderr)
        if bench.world is not None:
            left = outputs_left_on(bench.world)
            print("simulated bench checked: " + (f"STILL ON: {', '.join(left)}" if left else
                                                 "supply, SMU, generator and heater all off"), file=sys.stderr)
    return 0
