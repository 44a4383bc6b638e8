"""The layers import only downwards.

benchspec (what the bench is) is the bottom; the chip model and the drivers
stand on it and never on each other; labctl stands on all three; procedures
see the chip interface and the drivers, never the model's internals, and
labctl finds them through entry points, never by import.
"""

from __future__ import annotations

import ast
import re
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


NETWORKS = ROOT / "procedures" / "networks"
#: the rooms of procedures/networks and the rooms each may import
ROOMS = {"host": set(), "chip": {"host"}, "training": {"host", "chip"}}


def network_imports(module: Path) -> list[tuple[int, str]]:
    """(line, dotted module under procedures.networks) of every import of a network module, relative ones
    resolved."""
    package = module.relative_to(NETWORKS).parent.parts
    found = []
    for node in ast.walk(ast.parse(module.read_text(), str(module))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            names = [".".join((*base, node.module))] if node.module else [".".join((*base, a.name)) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("procedures.networks."):
            names = [node.module.removeprefix("procedures.networks.")]
        elif isinstance(node, ast.Import):
            names = [a.name.removeprefix("procedures.networks.") for a in node.names
                     if a.name.startswith("procedures.networks.")]
        else:
            continue
        found += [(node.lineno, name) for name in names]
    return found


def test_a_network_room_imports_only_the_rooms_below_it() -> None:
    wrong = [f"{module.relative_to(ROOT)}:{line} imports {name}"
             for room, below in ROOMS.items() for module in sorted((NETWORKS / room).rglob("*.py"))
             for line, name in network_imports(module) if name.split(".")[0] not in below | {room}]
    assert not wrong, "\n".join(wrong)


def test_no_two_network_modules_import_each_other() -> None:
    imports = {".".join(m.relative_to(NETWORKS).with_suffix("").parts): {name for _, name in network_imports(m)}
               for m in NETWORKS.rglob("*.py")}
    pairs = sorted({tuple(sorted((a, b))) for a, names in imports.items() for b in names if a in imports.get(b, ())})
    assert not pairs


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_a_network_room_lists_its_modules(room: str) -> None:
    """Its package docstring names every module it holds (``name``), and nothing else."""
    doc = ast.get_docstring(ast.parse((NETWORKS / room / "__init__.py").read_text())) or ""
    listed = {name for line in doc.splitlines() if line.startswith("- ")
              for name in re.findall(r"``(\w+)``", line.split(":")[0])}
    assert listed == {m.stem for m in (NETWORKS / room).glob("*.py") if m.stem != "__init__"}
