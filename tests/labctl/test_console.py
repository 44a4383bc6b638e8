"""The interactive console and the SCPI terminal, driven through a pseudo-terminal as a user would."""

from __future__ import annotations

import sys
import time

import pexpect
import pytest

from labctl.bench import write_served_bench_file
from sim_chip.bench import World
from sim_chip.bench.serve import BenchServer

PROMPT = ">>> "


@pytest.fixture
def served(tmp_path):
    world = World(3)
    with BenchServer(world, pty=False) as server:
        resources = server.resources()
        path = tmp_path / "bench.toml"
        write_served_bench_file(path, resources)
        yield server, path


def spawn(*args: str, **env: str) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, ["-m", "labctl.cli", *args], encoding="utf-8", timeout=30,
                         env={"TERM": "xterm", "PATH": "/usr/bin:/bin", **env})


IN = r"In \[\d+\]: "


def ask(child: pexpect.spawn, line: str) -> str:
    """A line to the IPython console; what it printed before the next prompt."""
    child.sendline(line)
    child.expect(IN)
    return child.before


def queries(world, role: str) -> list[str]:
    """Every command the served instrument receives from now on."""
    device, seen = world.instruments()[role], []
    original = device.handle_line

    def logged(line):
        seen.append(line)
        return original(line)

    device.handle_line = logged
    return seen


def test_ipython_console_session(served, tmp_path) -> None:
    server, bench_file = served
    world = server.world
    child = spawn("console", "--bench", str(bench_file), "--history", str(tmp_path / "history"),
                  IPY_TEST_SIMPLE_PROMPT="1", PAGER="cat")
    child.expect(IN)
    assert "%run_procedure" in child.before and "E36312A" in ask(child, "supply.identify().model")
    ask(child, "power_up()")
    ask(child, "supply.ch[2].voltage = 1.75")
    assert "1.75" in ask(child, "supply.ch[2].voltage")
    sent = queries(world, "smu")
    helped = ask(child, "smu?")
    assert "source_voltage" in helped and "allowed -210 .. 210 V" in helped
    setting = ask(child, "smu.source_voltage?")
    assert "source voltage (V); allowed -210 .. 210 V" in setting
    assert sent == []                                        # help never queried the SMU
    refused = ask(child, "supply.ch[3].voltage = 3")
    assert "refused:" in refused and "vwrite = 3" in refused and world.chip.rails["vwrite"] == 1.5
    assert "'amplitude' is not a setting" in ask(child, "gen.ch[1].amplitude = 3")
    assert "CH3: output True" in ask(child, "%status")
    ask(child, "smu.source_voltage = 0.2; smu.output = True")
    assert world.smu.output_on()
    child.sendline("codes = chip.mac_batch(np.ones((4_000_000, 64)))")
    time.sleep(1.5)                                          # the batch is on its way
    child.sendintr()
    child.expect("interrupted: every output is off")
    child.expect(IN)
    assert not world.smu.output_on() and not world.supply.outputs_on
    assert "MX64-EVB" in ask(child, "chip.identify().model")   # the link is still in step
    ask(child, "power_up(); smu.output = True")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    assert "bench closed" in child.before
    assert not world.smu.output_on() and not world.supply.outputs_on
    assert (tmp_path / "history.sqlite").is_file()


def test_ipython_completion_never_queries_an_instrument() -> None:
    from IPython.core.completer import IPCompleter
    from IPython.testing.globalipapp import get_ipython
    from labctl.bench import default_bench
    from labctl.console.ipython import attach

    shell = get_ipython()
    shell.Completer.use_jedi = False
    with default_bench(2) as bench:
        attach(shell, bench)
        sent = queries(bench.world, "smu")
        _, matches = shell.complete("smu.source_vol")
        assert ".source_voltage" in matches
        _, matches = shell.complete("supply.ch[1].vol")
        assert ".voltage" in matches
        assert sent == [] and isinstance(shell.Completer, IPCompleter)


def say(child: pexpect.spawn, line: str) -> str:
    child.sendline(line)
    child.expect_exact(PROMPT)
    return child.before


def test_console_session(served, tmp_path) -> None:
    server, bench_file = served
    world = server.world
    history = tmp_path / "history"
    child = spawn("console", "--plain", "--bench", str(bench_file), "--history", str(history))
    child.expect_exact(PROMPT)
    assert "E36312A" in say(child, "supply.identify().model")
    say(child, "power_up()")
    assert "0.9" in say(child, "supply.ch[1].voltage")
    say(child, "smu.source_voltage = 0.2")
    assert "0.2" in say(child, "smu.source_voltage")
    assert "bit errors" in say(child, 'program("checkerboard")')
    assert "codes " in say(child, 'mac("ones")')
    assert "allowed -210 .. 210 V; bench limit smu_voltage -1 .. 1 V" in say(child, "help(smu)")
    refused = say(child, "supply.ch[3].voltage = 3")
    assert "refused:" in refused and "1.6 V" in refused and world.chip.rails["vwrite"] == 1.5
    child.send("smu.source_vol\t")                       # tab completion, without querying the SMU
    child.expect_exact("tage")
    assert "0.2" in say(child, "")                         # the completed name evaluates
    say(child, "smu.output = True")
    assert world.smu.output_on()
    child.sendline("import time; print('sleep' + 'ing'); time.sleep(60)")
    child.expect_exact("sleeping")                         # the command is running
    child.sendintr()
    child.expect("interrupted: every output is off")
    child.expect_exact(PROMPT)
    assert not world.smu.output_on() and not world.supply.outputs_on
    say(child, "power_up(); smu.output = True")
    child.sendline("exit()")
    child.expect(pexpect.EOF)
    assert "bench closed" in child.before
    assert not world.smu.output_on() and not world.supply.outputs_on
    assert 'program("checkerboard")' in history.read_text()


def test_console_on_the_built_in_bench(tmp_path) -> None:
    child = spawn("console", "--plain", "--history", str(tmp_path / "history"))
    child.expect_exact(PROMPT)
    assert "MODEL 2450" in say(child, "smu.identify().model")
    say(child, "power_up()")
    say(child, "supply.ch[2].voltage = 1.75")
    assert "1.75" in say(child, "supply.ch[2].voltage")
    assert "codes " in say(child, 'mac("random", seed=1)')
    assert "refused:" in say(child, "thermo.ch[1].setpoint = 600")
    wrong = say(child, "gen.ch[1].amplitude = 3")                # no such setting: refused, with the list
    assert "'amplitude' is not a setting; settings: " in wrong and "high_level" in wrong
    assert "refused: thermo: 'setpoint' is a setting of each channel: assign it as thermo.ch[N].setpoint" \
        in say(child, "thermo.setpoint = 500")
    assert "refused: MX64 board" in (typo := say(child, "chip.tdc_lbs = 1e-9")) and "(did you mean 'tdc_lsb'?)" in typo
    assert "refused: bench: 'foo' cannot be assigned" in say(child, "bench.foo = 1")
    assert "has channels 1, 2, 3; no channel 4" in say(child, "supply.ch[4]")
    status = say(child, "status()")
    assert "CH2: output True; voltage 1.75 V" in status and "ovp_tripped False" in status
    assert "smu_voltage -1..1 V" in status
    say(child, "smu.source_voltage = 0.1; smu.output = True")
    child.sendline("exit()")
    child.expect(pexpect.EOF)
    assert "simulated bench checked: supply, SMU, generator and heater all off" in child.before


def test_scpi_terminal(served) -> None:
    server, _ = served
    child = spawn("scpi", server.resources()["supply"])
    child.expect_exact("scpi> ")
    child.sendline("*IDN?")
    child.expect("E36312A")
    child.expect_exact("scpi> ")
    child.sendline("VOLT 1.2,(@1)")                      # beyond VDD's bench limit, within the supply's range
    child.expect(r"warning: supply CH1: vdd = 1.2 exceeds the bench safety limit")
    child.expect_exact("send it anyway? [y/N] ")
    child.sendline("")
    child.expect_exact("not sent")
    child.expect_exact("scpi> ")
    child.sendline("VOLT?")                               # the supply still holds its own value
    child.expect(r"\+0\.0+E\+00")
    child.expect_exact("scpi> ")
    child.sendline("VOLT 1.2,(@1)")                      # raw is raw: sent when confirmed
    child.expect_exact("send it anyway? [y/N] ")
    child.sendline("y")
    child.expect_exact("scpi> ")
    child.sendline("VOLT? (@1)")
    child.expect(r"\+1\.20+E\+00")
    child.expect_exact("scpi> ")
    child.sendline("VOLT 99,(@1)")                        # beyond the supply's own range: it refuses
    child.expect(r'error: -222,"Data out of range')
    child.expect_exact("scpi> ")
    child.sendline("FOO")
    child.expect("error: -113")
    child.expect_exact("scpi> ")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_scpi_terminal_on_the_board(served) -> None:
    server, _ = served
    child = spawn("scpi", server.resources()["board"], "--timeout", "1")
    child.expect_exact("scpi> ")
    child.sendline("*IDN?")
    child.expect("LABCTL,MX64-EVB")
    child.expect_exact("scpi> ")
    child.sendline("COUN?")                                # unpowered: an empty reply at once, and why
    start = time.monotonic()
    child.expect("empty reply: the query failed")
    child.expect("error: -241")
    assert time.monotonic() - start < 0.9                  # well inside the 1 s timeout
    child.sendline("exit")
    child.expect(pexpect.EOF)
