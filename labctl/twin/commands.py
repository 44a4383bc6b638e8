"""``labctl twin fit`` and ``labctl twin check``: the command-line side of the twin (docs/twin.md)."""

from __future__ import annotations

import argparse
import time
from typing import Any


def add_parser(sub: Any, store_option: Any) -> None:
    """The ``twin`` command group."""
    twin = sub.add_parser("twin", help="a digital twin of one die: fit the model to a bench, check it")
    twin_sub = twin.add_subparsers(dest="twin_command", required=True)
    fit = twin_sub.add_parser("fit", help="characterise a bench (or read stored runs) and fit the chip model")
    fit.add_argument("--bench", metavar="FILE", action="append", default=[],
                     help="bench file; give two, one with the SMU on the test pad and one on the test MTJ "
                          "(default: the built-in simulated bench, both wirings)")
    fit.add_argument("--die-seed", type=int, default=1, help="die seed of the built-in simulated bench")
    fit.add_argument("--params", metavar="FILE", dest="params_file",
                     help="the built-in bench's chip-model parameter file")
    fit.add_argument("--output", metavar="FILE", default="twin.toml", help="the twin file (default twin.toml)")
    fit.add_argument("--quick", action="store_true", help="the smaller characterisation set (~2x wider errors)")
    fit.add_argument("--from-run", metavar="N", type=int, action="append", default=[],
                     help="refit these stored twin-fit runs instead of measuring (repeatable)")
    fit.add_argument("--seed", type=int, default=0, help="seed of the characterisation runs (default 0)")
    store_option(fit)
    fit.set_defaults(func=_fit)
    check = twin_sub.add_parser("check", help="held-out procedures on the bench and on the twin, compared")
    check.add_argument("--twin", metavar="FILE", required=True, help="the twin file labctl twin fit wrote")
    check.add_argument("--bench", metavar="FILE",
                       help="bench file with the SMU on the test MTJ (default: the built-in simulated bench)")
    check.add_argument("--die-seed", type=int, default=1, help="die seed of the built-in simulated bench")
    check.add_argument("--params", metavar="FILE", dest="params_file",
                       help="the built-in bench's chip-model parameter file")
    check.add_argument("--seed", type=int, default=0, help="seed of the held-out runs (default 0)")
    check.add_argument("--quick", action="store_true", help="smaller held-out runs")
    check.add_argument("--only", metavar="NAME", action="append", default=[],
                       help="run only this comparison (mac_errors, write_error_rate, mnist_accuracy, "
                            "switching_midpoint; repeatable)")
    store_option(check)
    check.set_defaults(func=_check)


def _configs(args: argparse.Namespace) -> list[Any]:
    from ..bench import BenchConfigError, read_bench_config
    from .workflow import builtin_benches

    if args.bench:
        if args.params_file:
            raise BenchConfigError("--params is for the built-in bench; a bench file names its served die's "
                                   "parameter file in [simulation] params")
        return [read_bench_config(path) for path in args.bench]
    return builtin_benches(args.die_seed, args.params_file)


def _fit(args: argparse.Namespace) -> int:
    from ..bench import BenchConfigError
    from ..cli import OUT, _fail
    from ..store import Store, StoreError
    from .fit import NOT_IDENTIFIED, FitError
    from .workflow import characterise, fit_and_write

    started = time.perf_counter()
    try:
        configs = [] if args.from_run else _configs(args)
        with Store(args.store) as store:
            ids = list(args.from_run) or characterise(configs, store, args.quick, args.seed, say=OUT.print)
            fit, fit_run, path = fit_and_write(store, ids, args.output)
    except (BenchConfigError, StoreError, FitError, ValueError) as exc:
        return _fail("twin fit", exc)
    OUT.print(f"run {fit_run}: twin-estimate of die {fit.die or '?'} from runs {', '.join(map(str, ids))}")
    OUT.print(f"  {'parameter':36s} {'value':>12s} {'stderr':>10s}  unit  runs")
    for name, e in fit.estimates.items():
        OUT.print(f"  {name:36s} {e.value:12.5g} {e.stderr:10.3g}  {e.unit:5s} {','.join(map(str, e.sources))}")
    for name in fit.missing:
        OUT.print(f"  not measured: {name} (its parameters stay at the datasheet's values)")
    OUT.print("  not identifiable, at the datasheet's values: " + "; ".join(NOT_IDENTIFIED))
    OUT.print(f"twin file {path} ({time.perf_counter() - started:.1f} s); serve it: labctl sim serve --params {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..bench import BenchConfigError, builtin_config, read_bench_config
    from ..cli import OUT, _fail
    from ..params_file import ParamsFileError, read_params_file
    from ..store import Store, StoreError
    from .check import COMPARISONS, run_check

    try:
        twin = read_params_file(args.twin)
        if args.bench:
            config = read_bench_config(args.bench)
        else:
            config = builtin_config(args.die_seed, "test_mtj", params=args.params_file)
        with Store(args.store) as store:
            results, run_id = run_check(config, twin.path, store, args.seed, args.quick, say=OUT.print,
                                        comparisons=tuple(args.only) or COMPARISONS)
    except (BenchConfigError, ParamsFileError, StoreError, ValueError) as exc:
        return _fail("twin check", exc)
    OUT.print(f"run {run_id}: twin-check of {twin.path}")
    for result in results:
        OUT.print("  " + result.line())
    failed = [r for r in results if not r.passed]
    for r in failed:
        OUT.print(f"  {r.name} outside its band: the likely cause is {r.likely_cause}")
    return 1 if failed else 0
