"""The layers import only downwards.

benchspec (what the bench is) is the bottom; the chip model and the drivers
stand on it and never on each other; labctl stands on all three; procedures
see the chip interface and the drivers, never the model's internals, and
labctl finds them through entry points, never by import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("benchspec", "sim_chip", "instruments", "labctl", "procedures")
ALLOWED = {
    "benchspec": set(),
    "sim_chip": {"benchspec"},
    "instruments": {"benchspec"},
    "labctl": {"benchspec", "sim_chip", "instruments"},
    "procedures": {"benchspec", "instruments", "labctl"},
}


def imported_packages(path: Path) -> dict[str, int]:
    """Our top-level packages a module imports, with the line of the first import of each."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in OURS:
                found.setdefault(top, node.lineno)
    return found


@pytest.mark.parametrize("package", OURS)
def test_a_layer_imports_only_the_layers_below_it(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules under {package}/"
    wrong = [f"{m.relative_to(ROOT)}:{line} imports {top}"
             for m in modules for top, line in imported_packages(m).items()
             if top != package and top not in ALLOWED[package]]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import numpy\nfrom labctl.chip import Chip\n\ndef f():\n    import procedures.demo\n")
    assert imported_packages(module) == {"labctl": 2, "procedures": 5}


def test_the_network_packages_import_no_procedure() -> None:
    """procedures/networks holds what procedures share; a registered procedure's module is never its dependency."""
    wrong = []
    for module in sorted((ROOT / "procedures" / "networks").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            wrong += [f"{module.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                      if n.startswith("procedures.") and not n.startswith("procedures.networks")]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", OURS)
def test_the_tests_import_the_code_of_their_own_tree(package: str) -> None:
    """Not another installed copy, and not a test folder of the same name."""
    module = __import__(package)
    assert Path(module.__file__).resolve().parent == ROOT / package
