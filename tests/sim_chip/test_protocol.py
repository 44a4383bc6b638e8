"""Board protocol conformance, in the order of docs/protocol.md."""

from __future__ import annotations

import numpy as np
import pytest

from sim_chip import MX64, Board
from sim_chip.firmware import Firmware
from benchspec.framing import MAX_LINE


def blk(data: bytes) -> bytes:
    n = str(len(data)).encode()
    return b"#" + str(len(n)).encode() + n + data


def unblock(reply: bytes) -> bytes:
    assert reply.startswith(b"#") and reply.endswith(b"\n")
    d = int(reply[1:2])
    n = int(reply[2:2 + d])
    assert len(reply) == 2 + d + n + 1
    return reply[2 + d:2 + d + n]


@pytest.fixture
def fw() -> Firmware:
    return Firmware(Board(MX64(7)))


def ask(fw: Firmware, text: str | bytes) -> bytes:
    return fw.feed(text.encode() + b"\n" if isinstance(text, str) else text)


def error(fw: Firmware) -> tuple[int, str]:
    code, _, text = ask(fw, "SYST:ERR?").decode().rstrip("\n").partition(",")
    return int(code), text


def powered(fw: Firmware) -> Firmware:
    ask(fw, "POW ON")
    return fw


# --- Messages ---------------------------------------------------------------
def test_headers_match_short_and_long_forms_in_any_case(fw: Firmware) -> None:
    powered(fw)
    for form in ("CONF:VRE 0.3", "configure:vread 0.3", ":CONFigure:VREad 0.3", "Conf:Vread 0.3\r"):
        ask(fw, form)
        assert error(fw) == (0, '"No error"')
    assert ask(fw, "conf:vre?") == b"0.3\n"
    assert ask(fw, "SYST:ERR:NEXT?") == b'0,"No error"\n'     # optional node spelled out
    assert ask(fw, "POW:STAT?") == ask(fw, "POW?") == b"1\n"


def test_commands_and_replies_in_one_write_keep_their_order(fw: Firmware) -> None:
    assert fw.feed(b"*OPC?\nSYST:SYNC? 42\n*OPC?\n") == b"1\n42\n1\n"


def test_a_message_may_arrive_in_pieces(fw: Firmware) -> None:
    powered(fw)
    message = b"MAC? " + blk(np.ones(64, np.int8).tobytes()) + b"\n"
    replies = b"".join(fw.feed(message[i:i + 7]) for i in range(0, len(message), 7))
    assert len(unblock(replies)) == 64


def test_blocks_may_contain_newlines(fw: Firmware) -> None:
    powered(fw)
    x = np.ones(64, np.int8)
    x[10] = 10                                     # 0x0A inside the block: a value error, not framing
    ask(fw, b"MAC? " + blk(x.tobytes()) + b"\n")
    code, text = error(fw)
    assert code == -222 and "only -1 and +1" in text
    assert ask(fw, "*OPC?") == b"1\n"


# --- Errors -------------------------------------------------------------------
@pytest.mark.parametrize("message, code", [
    (b"*IDN\x01?\n", -101),
    (b"MAC? " + blk(b"\x01" * 64) + b" junk\n", -102),
    (b"CONF:VRE abc\n", -104),
    (b"CONF:WIDT 2.0\n", -104),
    (b"*OPC? 1\n", -108),
    (b"*RST " + blk(b"\x01") + b"\n", -108),
    (b"CONF:VRE\n", -109),
    (b"MAC?\n", -109),
    (b"FOO:BAR 1\n", -113),
    (b"MAC? " + blk(b"\x01" * 63) + b"\n", -161),
    (b"MAC? #x12\n", -161),
    (b"WRIT:ARR " + blk(b"\x01" * 64) + b"\n", -161),
    (b"CONF:VRE 5\n", -222),
    (b"CONF:TDC:STAR 13e-9,64\n", -222),
    (b"POW MAYBE\n", -224),
    (b"A" * (MAX_LINE + 10) + b"\n", -363),
])
def test_each_error_number(fw: Firmware, message: bytes, code: int) -> None:
    powered(fw)
    dispatched_query = message in (b"*OPC? 1\n", b"MAC?\n", b"MAC? " + blk(b"\x01" * 63) + b"\n")
    assert fw.feed(message) == (b"\n" if dispatched_query else b"")   # a failed query: an empty line at once
    got, text = error(fw)
    assert got == code, text
    assert error(fw)[0] == 0                        # one error per failed command
    assert ask(fw, "*IDN?").startswith(b"LABCTL,MX64-EVB,")


def test_oversized_block_is_skipped_with_223(fw: Firmware) -> None:
    from benchspec.framing import MAX_BLOCK
    n = MAX_BLOCK + 1
    head = b"MAC:BATC? #" + str(len(str(n))).encode() + str(n).encode()
    fw.feed(head)
    fw.feed(b"\x01" * n)
    assert fw.feed(b"\n*OPC?\n") == b"1\n"
    assert error(fw)[0] == -223


def test_unpowered_operations_give_241(fw: Firmware) -> None:
    assert ask(fw, "*IDN?").startswith(b"LABCTL")       # identity works unpowered
    assert ask(fw, "COUN?") == b"\n"                     # answered at once, empty
    assert error(fw)[0] == -241
    assert ask(fw, "POW?") == b"0\n"


def test_error_text_names_the_argument_and_range(fw: Firmware) -> None:
    powered(fw)
    ask(fw, "CONF:CLOC 20e6")
    code, text = error(fw)
    assert code == -222 and "clock" in text and "1e+06 .. 1.72e+07 Hz" in text


def test_queue_overflow_and_cls(fw: Firmware) -> None:
    for _ in range(40):
        ask(fw, "NOPE")
    assert ask(fw, "SYST:ERR:COUN?") == b"32\n"
    for _ in range(31):
        error(fw)
    assert error(fw) == (-350, '"Queue overflow"')
    ask(fw, "NOPE")
    ask(fw, "*CLS")
    assert error(fw)[0] == 0


# --- Commands -------------------------------------------------------------------
def test_identity_and_die(fw: Firmware) -> None:
    assert ask(fw, "*IDN?") == b"LABCTL,MX64-EVB,EVB000007,1.1.0\n"
    assert ask(fw, "SYST:DIE?") == f'"{fw.board.chip.die_id}"\n'.encode()


def test_configuration_registers_round_trip(fw: Firmware) -> None:
    powered(fw)
    for command, value in (("CONF:CLOC", "5000000.0"), ("CONF:VWR", "1.2"), ("CONF:WIDT", "3"),
                           ("CONF:VRE", "0.4"), ("CONF:VVER", "0.2")):
        ask(fw, f"{command} {value}")
        assert ask(fw, f"{command}?") == value.encode() + b"\n"
    assert error(fw)[0] == 0


def test_tdc_windows_per_column_and_all(fw: Firmware) -> None:
    powered(fw)
    power_up = [float(v) for v in ask(fw, "CONF:TDC:STAR?").split(b",")]
    assert len(set(power_up)) > 1                       # calibrated per column at power-up
    ask(fw, "CONF:TDC:STAR 14.01e-9,5")          # rounded to 1/64 ns
    assert float(ask(fw, "CONF:TDC:STAR? 5")) == pytest.approx(14.015625e-9)
    values = [float(v) for v in ask(fw, "CONF:TDC:STAR?").split(b",")]
    assert len(values) == 64 and values[:5] == power_up[:5] and values[6:] == power_up[6:]
    ask(fw, "CONF:TDC:LSB 0.5e-9")
    assert {float(v) for v in ask(fw, "CONF:TDC:LSB?").split(b",")} == {0.5e-9}


def test_test_mux_and_hold(fw: Firmware) -> None:
    powered(fw)
    assert ask(fw, "CONF:TMUX?") == b"OFF\n"
    ask(fw, "CONF:TMUX 12")
    assert ask(fw, "CONF:TMUX?") == b"12\n"
    ask(fw, "CONF:TMUX off")
    assert ask(fw, "CONF:TMUX?") == b"OFF\n"
    hold = np.where(np.arange(64) % 3 == 0, -1, 1).astype(np.int8)
    ask(fw, b"CONF:HOLD " + blk(hold.tobytes()) + b"\n")
    assert unblock(ask(fw, "CONF:HOLD?")) == hold.tobytes()


def test_write_verify_mac_and_counter(fw: Firmware) -> None:
    powered(fw)
    rng = np.random.default_rng(1)
    w = rng.choice(np.array([-1, 1], np.int8), (64, 64))
    ask(fw, b"WRIT:ARR " + blk(w.tobytes()) + b"\n")
    ask(fw, b"WRIT:ROW 3," + blk(w[3].tobytes()) + b"\n")
    assert ask(fw, "COUN?") == b"130\n"
    read = np.frombuffer(unblock(ask(fw, "VER:ARR?")), np.int8).reshape(64, 64)
    assert (read != w).sum() <= 3
    assert unblock(ask(fw, "VER:ROW? 3")) == read[3].tobytes()
    x = rng.choice(np.array([-1, 1], np.int8), (100, 64))
    codes = np.frombuffer(unblock(ask(fw, b"MAC:BATC? " + blk(x.tobytes()) + b"\n")), np.uint8)
    assert codes.shape == (6400,) and codes.max() <= 15
    single = np.frombuffer(unblock(ask(fw, b"MAC? " + blk(x[0].tobytes()) + b"\n")), np.uint8)
    assert single.shape == (64,)
    assert ask(fw, "COUN?") == f"{130 + 65 + 101}\n".encode()
    ask(fw, "COUN:RES")
    assert ask(fw, "COUN?") == b"0\n"


def test_rst_keeps_data_and_resets_registers(fw: Firmware) -> None:
    powered(fw)
    ask(fw, "CONF:VRE 0.8")
    ask(fw, b"WRIT:ROW 0," + blk(b"\xff" * 64) + b"\n")
    held = unblock(ask(fw, "VER:ROW? 0"))
    assert held.count(b"\xff") >= 62                 # a write error now and then (~1e-4 per bit)
    ask(fw, "*RST")
    assert ask(fw, "CONF:VRE?") == b"0.25\n" and ask(fw, "COUN?") == b"0\n"
    assert unblock(ask(fw, "VER:ROW? 0")) == held


def test_incomplete_block_is_dropped_after_the_timeout(fw: Firmware, monkeypatch) -> None:
    import sim_chip.firmware as firmware
    powered(fw)
    fw.feed(b"MAC? #264" + b"\x01" * 10)             # 54 bytes never come
    clock = [firmware.time.monotonic() + firmware.BLOCK_TIMEOUT_S + 1]
    monkeypatch.setattr(firmware.time, "monotonic", lambda: clock[0])
    fw.idle()
    assert error(fw)[0] == -161
    assert ask(fw, "*OPC?") == b"1\n"


def test_the_protocol_document_lists_the_command_table() -> None:
    """docs/protocol.md and benchspec.mx64 say the same: every header, and every setting's range."""
    import re
    from pathlib import Path

    from benchspec import mx64
    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    section = doc[doc.index("## Commands"):doc.index("## Timing")]
    rows = re.findall(r"^\| `([^`]+)` \|([^\n]*)$", section, re.M)
    documented = {header for header, _ in rows}
    table = {c.header for c in mx64.COMMANDS} | {s.header for s in mx64.SETTINGS}
    assert documented == table
    for header, rest in rows:
        setting = next((s for s in mx64.SETTINGS if s.header == header), None)
        value = getattr(setting, "value", None)
        if isinstance(value, mx64.Arg) and value.low is not None and value.kind != "column":
            span = re.search(r"([0-9.e+-]+) … ([0-9.e+-]+)", rest)
            assert span and (float(span.group(1)), float(span.group(2))) == (value.low, value.high), header
