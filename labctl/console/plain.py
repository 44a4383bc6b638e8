"""The standard library's console on a bench (used where IPython is not installed, or with --plain)."""

from __future__ import annotations

import code
import rlcompleter
from pathlib import Path
from typing import Any

from instruments.scpi import Setting

from .tools import BenchTools, banner, one_line

try:
    import readline
except ImportError:  # pragma: no cover - not on this platform
    readline = None  # type: ignore[assignment]


class SafeCompleter(rlcompleter.Completer):
    """Attribute completion that never evaluates a setting (which would query the instrument)."""

    namespace: dict[str, Any]

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
    """The console's interpreter: bench errors as one line, Ctrl-C makes the bench safe."""

    def __init__(self, bench: Any, history: Path | None) -> None:
        self.bench = bench
        self.history = history
        names = BenchTools(bench).namespace()
        names["help"] = self.help
        super().__init__(names, filename="<labctl>")

    def run(self) -> None:
        if readline is not None:
            readline.set_completer(SafeCompleter(self.locals).complete)
            readline.parse_and_bind("tab: complete")
            if self.history is not None and self.history.exists():
                readline.read_history_file(self.history)
        try:
            self.interact(banner=banner(self.bench), exitmsg="")
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
        except Exception as exc:
            line = one_line(exc)
            if line is None:
                self.showtraceback()
            else:
                self.write(line + "\n")

    def help(self, obj: Any = None) -> None:
        """help(x): settings with units and ranges for instruments, Python's help otherwise."""
        describe = getattr(obj, "describe", None)
        if callable(describe):
            print(describe())
        elif obj is None:
            print(banner(self.bench))
        else:
            import pydoc
            print(pydoc.render_doc(obj, renderer=pydoc.plaintext))  # type: ignore[attr-defined]
