"""labctl in IPython: the console (``labctl console``) and the extension for notebooks (``%load_ext labctl``).

Both bind the bench's instruments and commands, and add magics:

* ``%run_procedure NAME k=v ...``  run a procedure on the bench (stored, with progress);
* ``%runs [N]``                     the last N runs of the store;
* ``%status``                      every output, protection state and limit;
* ``%bench [FILE]``                 (notebooks) open another bench: a bench file, or the built-in one.

``obj?`` shows an instrument's settings with units and ranges, and
``smu.source_voltage?`` the setting's own help, without querying the
instrument (settings are properties, which IPython does not evaluate).
Completion uses IPython's own completer without jedi, which lists names
without evaluating them.  A bench error is one line; Ctrl-C turns every
output off.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class

from .tools import BenchTools, banner, one_line


@magics_class
class BenchMagics(Magics):
    """Magics on the bench the shell has open."""

    def __init__(self, shell: Any, bench: Any, store: str | None = None, notebook: bool = False) -> None:
        super().__init__(shell)
        self.opened, self.store, self.notebook = bench, store, notebook

    @line_magic
    def run_procedure(self, line: str) -> Any:
        """%run_procedure NAME [name=value ...] [--store PATH] [--seed N]: run a procedure on this bench."""
        from ..rundata import read_run
        from ..scripting import run_procedure
        from ..store import Store

        words = shlex.split(line)
        if not words:
            print("usage: %run_procedure NAME [name=value ...]")
            return None
        options = {k: v for k, v in (w[2:].split("=", 1) for w in words[1:] if w.startswith("--") and "=" in w)}
        params: dict[str, Any] = dict(w.split("=", 1) for w in words[1:] if "=" in w and not w.startswith("--"))
        with Store(options.get("store", self.store)) as store:
            result = run_procedure(words[0], self.opened, store=store, notebook=self.notebook,
                                   seed=int(options["seed"]) if "seed" in options else None, **params)
            print(f"run {result.run_id}: {words[0]} {result.status}")
            for key, value in result.summary.items():
                if not isinstance(value, dict):
                    print(f"  {key:24s} {value:.6g}" if isinstance(value, float) else f"  {key:24s} {value}")
            return read_run(store, result.run_id) if result.run_id else None

    @line_magic
    def runs(self, line: str) -> None:
        """%runs [N]: the last N runs of the store (default 10)."""
        from ..store import Store

        count = int(line) if line.strip().isdigit() else 10
        with Store(self.store, read_only=True) as store:
            infos, total = store.list_runs(count)
        for info in infos:
            print(f"{info.id:5d}  {info.procedure:22s} {info.status:11s}")
        print(f"({total} runs in the store)")

    @line_magic
    def status(self, line: str) -> None:
        """%status: every output, protection state and limit of the bench."""
        print(self.opened.status())

    @line_magic
    def bench(self, line: str) -> None:
        """%bench [FILE]: close this bench and open a bench file (or, without one, the built-in bench)."""
        from ..bench import builtin_config, read_bench_config

        new = (read_bench_config(line.strip()) if line.strip() else builtin_config()).open()
        self.opened.close()
        attach(self.shell, new, self.store, self.notebook)
        print(f"bench {new.source}")


def attach(shell: Any, bench: Any, store: str | None = None, notebook: bool = False) -> None:
    """Bind a bench's names, magics and error handling into an IPython shell."""
    shell.user_ns.update(BenchTools(bench).namespace())
    shell.register_magics(BenchMagics(shell, bench, store, notebook))

    def handle(self: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
        if isinstance(value, KeyboardInterrupt):
            bench.safe_state()
            print("interrupted: every output is off")
            return
        line = one_line(value)
        if line is None:
            self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            print(line)

    shell.set_custom_exc((KeyboardInterrupt, Exception), handle)


def run(bench: Any, history: Path | None) -> None:
    """The IPython console on a bench, until exit."""
    from IPython.terminal.interactiveshell import TerminalInteractiveShell
    from traitlets.config import Config

    config = Config()
    config.Completer.use_jedi = False              # jedi may evaluate properties; IPython's own does not
    config.TerminalInteractiveShell.confirm_exit = False
    config.TerminalInteractiveShell.banner1 = banner(bench) + "\n  %run_procedure, %runs, %status; obj? for help\n"
    config.TerminalInteractiveShell.term_title = False
    if history is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
        config.HistoryManager.hist_file = str(history.with_suffix(".sqlite"))
    shell = TerminalInteractiveShell.instance(config=config)
    attach(shell, bench)
    try:
        shell.show_banner()
        shell.mainloop()
    finally:
        if shell.history_manager is not None:
            shell.history_manager.end_session()
        TerminalInteractiveShell.clear_instance()


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext labctl``: open the bench named by $LABCTL_BENCH (a bench file) or the built-in one."""
    import os

    from ..bench import builtin_config, read_bench_config

    path = os.environ.get("LABCTL_BENCH")
    bench = (read_bench_config(path) if path else builtin_config()).open()
    notebook = type(shell).__name__ == "ZMQInteractiveShell"
    attach(shell, bench, os.environ.get("LABCTL_STORE"), notebook)
    print(f"labctl: bench {bench.source} open as `bench` ({', '.join(['chip', *bench.instruments])}); "
          "%run_procedure NAME k=v, %runs, %status, %bench FILE")
