"""Every bench target a plan names exists, and every limited setting refuses a value beyond its limit whatever
path sets it, before anything is sent."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from instruments.errors import OutOfRange, SafetyLimitError
from labctl.bench import default_bench, load_bench, write_bench_file
from labctl.engine import Interpreter
from labctl.procedure import ParameterError
from labctl.targets import resolve, targets
from tests.procedures.test_plans import record_commands

ROOT = Path(__file__).resolve().parents[2]
PLAN_SOURCES = [*sorted((ROOT / "procedures").rglob("*.py")), ROOT / "labctl" / "stubs.py",
                *sorted((ROOT / "labctl" / "console").glob("*.py"))]


def named_targets() -> list[tuple[str, str, str]]:
    """(where, message, target pattern) of every Set/Read/Call with a literal or f-string target in the plans;
    an f-string's fields become the regex ``.+``."""
    found = []
    for path in PLAN_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("Set", "Read", "Call") and node.args):
                continue
            first, where = node.args[0], f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((where, node.func.id, re.escape(first.value)))
            elif isinstance(first, ast.JoinedStr):
                found.append((where, node.func.id, "".join(re.escape(part.value) if isinstance(part, ast.Constant)
                                                            else ".+" for part in first.values)))
    return found


def test_the_plans_name_many_targets_and_the_check_sees_them() -> None:
    found = named_targets()
    assert len(found) > 80 and any(".+" in pattern for _, _, pattern in found)


@pytest.mark.parametrize("where, message, pattern", named_targets())
def test_every_target_a_plan_names_exists(where, message, pattern) -> None:
    matching = [text for text in targets() if re.fullmatch(pattern, text)]
    assert matching, f"{where}: {message}({pattern!r}) names no target"
    for text in matching[:1] if ".+" in pattern else matching:
        resolve(text, message)


def test_a_misspelt_target_is_refused_with_its_nearest_match() -> None:
    with pytest.raises(ParameterError, match=r"'smu.sorce_voltage': no such target \(did you mean "
                                             r"'smu.source_voltage'"):
        resolve("smu.sorce_voltage", "Set")
    with pytest.raises(ParameterError, match="'chip.verify_array' is a method: Call it, not Set"):
        resolve("chip.verify_array", "Set")


def limited() -> list[str]:
    return sorted(t.text for t in targets().values() if t.kind == "setting" and t.limit is not None)


def test_every_limited_quantity_is_in_the_walk() -> None:
    names = {re.sub(r"ch\d", "chN", text) for text in limited()}
    assert {"chip.write_voltage", "rail.vdd", "rail.vwrite", "supply.chN.voltage", "supply.chN.current",
            "smu.source_voltage", "smu.current_limit", "generator.chN.pulse_width", "thermo.chN.setpoint"} <= names


def board_traffic(bench) -> list[bytes]:
    """Every command the board receives from now on."""
    port, sent = bench.chip._port, []
    original = port.write
    port.write = lambda data: (sent.append(bytes(data)), original(data))[1]
    return sent


@pytest.fixture()
def chip_only_bench(tmp_path):
    """A bench of the chip alone: its rails from the board's regulators, no instruments."""
    path = tmp_path / "bench.toml"
    write_bench_file(path, chip="sim:3", instruments={}, clock=None, note="chip only")
    with load_bench(path) as bench:
        yield bench


def beyond(bench, target: str) -> tuple[float, float]:
    """A value just above the limit (within any instrument's own range) and one far below it."""
    bound = bench.checks.bound(targets()[target].limit)
    assert bound is not None, f"{target}: its limit {targets()[target].limit} is not one of the bench's"
    return bound[1] * 1.2 + 1e-3, bound[0] - abs(bound[1]) - 1.0


@pytest.mark.parametrize("target", limited())
def test_every_limited_setting_refuses_a_value_beyond_its_limit_before_sending(target) -> None:
    with default_bench(3) as bench:
        bench.power_up()
        sent, board = record_commands(bench.world), board_traffic(bench)
        above, below = beyond(bench, target)
        with pytest.raises(SafetyLimitError, match="exceeds the bench safety limit"):
            Interpreter(bench).set(target, above)
        with pytest.raises((SafetyLimitError, OutOfRange)):   # below: the limit, or the instrument's own range
            Interpreter(bench).set(target, below)
        assert sent == [] and board == [], f"{target}: {sent or board} was sent"


@pytest.mark.parametrize("target", ["rail.vwrite", "chip.write_voltage"])
def test_the_write_rail_is_limited_on_a_bench_without_a_supply_too(target, chip_only_bench) -> None:
    bench = chip_only_bench
    bench.chip.power_on()
    board = board_traffic(bench)
    for value in beyond(bench, target):
        with pytest.raises(SafetyLimitError, match="vwrite = .* exceeds the bench safety limit"):
            Interpreter(bench).set(target, value)
    assert board == []
    Interpreter(bench).set(target, 1.4)                           # within: sent
    assert board and bench.chip.write_voltage == pytest.approx(1.4)
