"""String arguments of the simulated instruments: SCPI accepts 'x' and "x" alike (IEEE 488.2, 7.7.5).

Checked on the simulated devices themselves (``sim_chip.bench``), by what
they hold and answer after each message and by their error queues, in
process and over a served socket.
"""

from __future__ import annotations

import socket

import pytest

from sim_chip.bench import World
from sim_chip.bench.scpi_device import LineSession, split_arguments
from sim_chip.bench.serve import BenchServer

QUOTES = pytest.mark.parametrize("quote", ['"{}"', "'{}'", "{}"], ids=["double", "single", "bare"])


def ask(device, line: str) -> str | None:
    return device.handle_line(line)


def no_error(device) -> bool:
    return ask(device, "SYST:ERR?") == '+0,"No error"'


@QUOTES
def test_the_smu_takes_its_sense_function_in_either_quotes(quote: str) -> None:
    smu = World(1).smu
    assert smu.value("sense_function") == "CURR:DC"              # the default, changed away and back
    for function, held, reply in (("VOLT", "VOLT:DC", '"VOLT:DC"'), ("RES", "RES", '"RES"'),
                                  ("CURR:DC", "CURR:DC", '"CURR:DC"')):
        ask(smu, "SENS:FUNC " + quote.format(function))
        assert no_error(smu), function
        assert smu.value("sense_function") == held and ask(smu, "SENS:FUNC?") == reply


@QUOTES
def test_the_dmm_takes_its_function_in_either_quotes(quote: str) -> None:
    dmm = World(1).dmm
    assert dmm.value("function") == "VOLT"
    for function, held in (("FRES", "FRES"), ("RES", "RES"), ("VOLT:DC", "VOLT")):
        ask(dmm, ":SENS:FUNC " + quote.format(function))
        assert no_error(dmm), function
        assert dmm.value("function") == held


def test_a_string_argument_with_a_comma_in_single_quotes_is_one_argument() -> None:
    assert split_arguments("'a,b', 3") == ["'a,b'", "3"]
    assert split_arguments('"a,b", 3') == ['"a,b"', "3"]
    assert split_arguments("'it''s', 2") == ["'it''s'", "2"]        # a doubled quote stays inside
    assert split_arguments("(@1,3), 'x'") == ["(@1,3)", "'x'"]
    assert split_arguments("1, 2,3") == ["1", "2", "3"]


def test_the_other_quote_inside_a_string_does_not_end_it() -> None:
    assert split_arguments('"it\'s", 2') == ['"it\'s"', "2"]


def test_a_bad_function_is_refused_in_quotes_too_and_nothing_changes() -> None:
    smu = World(1).smu
    ask(smu, "SENS:FUNC 'OHMS'")
    assert smu.value("sense_function") == "CURR:DC"
    code = ask(smu, "SYST:ERR?")
    assert code.startswith("-224,")
    assert no_error(smu)


def test_single_quotes_over_a_served_socket() -> None:
    world = World(2)
    with BenchServer(world, pty=False) as server:
        host, port = server.address("smu")
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"SENS:FUNC 'RES';:SENS:FUNC?\n")
            reply = s.makefile("rb").readline()
    assert reply == b'"RES"\n'
    assert world.smu.value("sense_function") == "RES" and not world.smu.errors


def test_a_line_session_keeps_quotes_with_their_argument() -> None:
    world = World(3)
    session = LineSession(world.dmm)
    assert session.feed(b"FUNC 'FRES'\nFUNC?\n") == b'"FRES"\n'
    assert not world.dmm.errors
