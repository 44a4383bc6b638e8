"""Mutation testing of the modules whose numbers users trust, with mutmut 3 (docs/testing.md).

The modules, the tests and the options are ``[tool.mutmut]`` in pyproject.toml:
sim_chip's readout, macro, physics, energy, flips and the modules that took
over from them (switching, write_path, array_physics, events), and the
procedures' estimators.  mutmut copies them into ``mutants/``, runs the fast
test selection once to learn which tests reach which function, then runs
each mutant against only those tests (stopping at the first failure).  Only
lines the selection executes are mutated, so a procedure's plan (which only
a bench run reaches) is left alone and its estimator functions are mutated.

The run happens in a scratch copy of the tree (``--workdir``, default a
temporary folder), so the worktree gets no ``mutants/`` folder.

    nice -n 10 .venv/bin/python benchmarks/mutation.py [--max-children 2] [--workdir DIR] [--keep]
                                                       [--survivors FILE] [--log FILE] [MUTANT_GLOB ...]

The last line is JSON: killed (mutants a test failed on, timeouts
included), survived (no test failed, or no test reached the line), score =
killed / (killed + survived), the counts by mutmut status and by module,
the wall time and the CPU time of mutmut and its workers (on a machine
shared with other jobs the wall time is longer than CPU time / 2).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from timing import write_results

ROOT = Path(__file__).resolve().parents[1]
COPY = ("pyproject.toml", "sim_chip", "procedures", "labctl", "instruments", "benchspec", "tests")
#: mutmut's exit codes (mutmut.stats.status_by_exit_code; anything else is "suspicious")
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 2: "check was interrupted by user",
          None: "not checked", 33: "no tests", 34: "skipped", 35: "suspicious", 36: "timeout",
          37: "caught by type check", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          -11: "segfault", -9: "segfault"}
CAUGHT = {"killed", "timeout", "caught by type check", "segfault"}
MISSED = {"survived", "no tests", "suspicious", "not checked", "check was interrupted by user"}


def scratch_copy(workdir: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants", ".pytest_cache", "*-plots")
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, workdir / name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, workdir / name)


def mutmut() -> str:
    found = Path(sys.executable).with_name("mutmut")
    return str(found) if found.exists() else "mutmut"


def results(workdir: Path) -> tuple[Counter, dict[str, Counter], list[str]]:
    """Counts by status, by module, and the names of the mutants that were not caught, from mutants/*.meta."""
    by_status, by_module, missed = Counter(), {}, []
    for meta in sorted((workdir / "mutants").rglob("*.py.meta")):
        module = str(meta.relative_to(workdir / "mutants"))[:-len(".meta")]
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        counts = by_module.setdefault(module, Counter())
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            by_status[status] += 1
            counts[status] += 1
            if status in MISSED:
                missed.append(f"{status}\t{name}")
    return by_status, by_module, missed


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (mutmut show/browse there)")
    parser.add_argument("--survivors", type=Path, help="write the mutants not caught to this file")
    parser.add_argument("--log", type=Path, help="append one JSON line per mutant (tests run, seconds) to this file")
    parser.add_argument("mutants", nargs="*", help="mutant name globs (default: all)")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="labctl-mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        scratch_copy(workdir)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
        env.pop("LABCTL_STORE", None)
        if args.log:
            env["LABCTL_MUTATION_LOG"] = str(args.log.resolve())
        subprocess.run([mutmut(), "run", "--max-children", str(args.max_children), *args.mutants],
                       cwd=workdir, env=env, check=False)
        by_status, by_module, missed = results(workdir)
        if args.survivors:
            args.survivors.write_text("\n".join(missed) + "\n")
        else:
            print("\n".join(missed))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    killed = sum(n for s, n in by_status.items() if s in CAUGHT)
    survived = sum(n for s, n in by_status.items() if s in MISSED)
    modules = {m: {"killed": sum(n for s, n in c.items() if s in CAUGHT),
                   "survived": sum(n for s, n in c.items() if s in MISSED)} for m, c in by_module.items()}
    for name, counts in sorted(modules.items()):
        total = counts["killed"] + counts["survived"]
        print(f"{name:40s} killed {counts['killed']:5d}  survived {counts['survived']:4d}  "
              f"score {counts['killed'] / total if total else float('nan'):.3f}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime                   # mutmut and every process it waited for
    report = {"killed": killed, "survived": survived,
              "score": round(killed / (killed + survived), 4) if killed + survived else None,
              "by_status": dict(by_status), "by_module": modules,
              "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(cpu, 1),
              "max_children": args.max_children}
    write_results("mutation", report)
    return report


if __name__ == "__main__":
    main()
