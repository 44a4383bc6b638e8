"""``labctl console``: an interactive session on a bench, in IPython (the ``console`` extra) or, without
it, the standard library's console.

Both keep the same guarantees: the chip and every instrument are bound to
short names; completion never queries an instrument; help shows a setting's
unit and range; safety limits apply exactly as in procedures; Ctrl-C stops
the running command and turns every output off; leaving closes the bench
safely; history persists.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any



def run_console(bench: Any, history: Path | None, plain: bool = False) -> int:
    """Interact until exit (IPython unless ``plain`` or not installed); close the bench safely whatever happens."""
    try:
        if not plain:
            try:
                from .ipython import run as run_ipython
            except ImportError:
                plain = True
        if plain:
            from .plain import BenchConsole

            BenchConsole(bench, history).run()
        else:
            run_ipython(bench, history)
    finally:
        bench.close()
        print("bench closed: every output off", file=sys.stderr)
        if bench.world is not None:
            left = bench.world.outputs_on()
            print("simulated bench checked: " + (f"STILL ON: {', '.join(left)}" if left else
                                                 "supply, SMU, generator and heater all off"), file=sys.stderr)
    return 0
