"""Fuzzing the board's parser: garbage never crashes it or changes the chip."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim_chip import MX64, Board
from sim_chip.firmware import Firmware

HEADERS = ["*IDN?", "*RST", "*CLS", "*OPC?", "SYST:ERR?", "POW", "POW?", "CONF:VRE", "CONF:VRE?",
           "CONF:TDC:STAR", "CONF:TMUX", "WRIT:ROW", "WRIT:ARR", "VER:ROW?", "MAC?", "MAC:BATC?", "COUN?"]

_FW: list[Firmware] = []


def firmware() -> Firmware:
    if not _FW:
        fw = Firmware(Board(MX64(23)))
        fw.feed(b"POW ON\n")
        fw.feed(b"WRIT:ARR #44096" + np.ones(4096, np.int8).tobytes() + b"\n")
        _FW.append(fw)
    return _FW[0]


def state(fw: Firmware) -> tuple:
    c = fw.board.chip
    return (c._ap.tobytes(), c._broken.tobytes(), c.read_bias, c.tdc_start.tobytes(), c.test_mux,
            c.clock_hz, c.write_width_clocks, c.powered)


def recovered(fw: Firmware) -> bool:
    """After garbage and a newline (and the end of any block it opened), the board answers."""
    fw.feed(b"\n")
    fw._framer.abandon("test")           # as the block timeout would, for an unfinished block
    reply = fw.feed(b"*IDN?\n")
    fw.board.errors.clear()
    return reply.startswith(b"LABCTL,MX64-EVB,")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    fw = firmware()
    before = state(fw)
    fw.feed(data.replace(b"POW", b"P_W").replace(b"pow", b"p_w"))
    assert recovered(fw)
    assert state(fw) == before


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(HEADERS), st.lists(st.one_of(st.text(max_size=8), st.integers(-10**6, 10**6).map(str),
                                                     st.floats(allow_nan=True).map(repr)), max_size=3),
       st.one_of(st.none(), st.binary(max_size=80)))
def test_command_shaped_garbage(header: str, args: list[str], payload: bytes | None) -> None:
    fw = firmware()
    text = (header + " " + ",".join(args)).encode("utf-8", "replace")
    if payload is not None:
        n = str(len(payload)).encode()
        text += b",#" + str(len(n)).encode() + n + payload
    fw.feed(text + b"\n")
    assert recovered(fw)
    fw.feed(b"POW ON\n*RST\nCONF:TMUX OFF\n")   # bring registers back for the next example
