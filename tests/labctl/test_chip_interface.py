"""One chip interface, one driver, three transports: in process, socket:// and a pseudo-terminal."""

from __future__ import annotations


import numpy as np
import pytest

from instruments.errors import CommandError, LinkError, LinkTimeout
from instruments.mx64_board import MAX_BATCH, MX64Board
from labctl.chip import Chip, open_chip
from benchspec import mx64
from sim_chip import MX64, Board
from sim_chip.serve import SimServer

SEED = 5


@pytest.fixture
def served():
    """A freshly fabricated die of seed SEED behind a TCP port and a pty."""
    with SimServer(Board(MX64(SEED))) as server:
        yield server


def sequence(chip: Chip) -> tuple:
    """Program random weights, verify, MAC a batch, read the cycle counter."""
    rng = np.random.default_rng(11)
    chip.power_on()
    chip.write_array(rng.choice([-1, 1], (64, 64)))
    verify = chip.verify_array()
    chip.set_tdc_window(12.0e-9, 0.5e-9, column=3)
    codes = chip.mac_batch(rng.choice([-1, 1], (3000, 64)))
    single = chip.mac(rng.choice([-1, 1], 64))
    return verify, codes, single, chip.cycle_counter, chip.tdc_start[3]


def test_the_same_sequence_is_bit_identical_on_every_transport(served: SimServer) -> None:
    inproc = sequence(open_chip(f"sim:{SEED}"))
    # the served board is a separate die object of the same seed: a second run on it must match too
    results = []
    for resource in (served.resources()["serial_socket"], served.resources()["serial_pty"]):
        # each transport gets its own fresh board of the same seed
        served.board.insert(MX64(SEED))
        with MX64Board(resource) as board:
            results.append(sequence(board))
    for got in results:
        assert np.array_equal(got[0], inproc[0])
        assert np.array_equal(got[1], inproc[1])
        assert np.array_equal(got[2], inproc[2])
        assert got[3:] == inproc[3:]


def test_identity_through_the_wire(served: SimServer) -> None:
    with MX64Board(served.resources()["serial_socket"]) as board:
        ident = board.identify()
    assert ident == open_chip(f"sim:{SEED}").identify()
    assert ident.model == "MX64-EVB" and ident.die_id == served.board.chip.die_id


def test_both_backends_raise_the_same_errors(served: SimServer) -> None:
    wire = MX64Board(served.resources()["serial_socket"])
    local = open_chip(f"sim:{SEED}")
    for chip in (wire, local):
        with pytest.raises(CommandError) as unpowered:
            chip.mac(np.ones(64))
        assert unpowered.value.code == -241
        chip.power_on()
        with pytest.raises(CommandError, match="read_bias: got 9") as bad:
            chip.read_bias = 9
        assert bad.value.code == -222
        with pytest.raises(CommandError, match="row: got 64") as row:
            chip.verify_row(64)
        assert row.value.code == -222
        with pytest.raises(CommandError, match="refused before sending") as shape:
            chip.mac(np.zeros(64))
        assert shape.value.code == -222
        assert chip.errors() == []                 # every error was reported where it happened
        assert chip.read_bias == 0.25              # and changed nothing
    wire.close()


@pytest.mark.parametrize("resource", ["visa_socket", "visa_pty"])
def test_pyvisa_client_identifies_the_board(served: SimServer, resource: str) -> None:
    import pyvisa
    rm = pyvisa.ResourceManager("@py")
    inst = rm.open_resource(served.resources()[resource], read_termination="\n", write_termination="\n",
                            timeout=5000)
    try:
        assert inst.query("*IDN?").startswith("LABCTL,MX64-EVB,")
        inst.write("POW ON")
        assert inst.query("SYST:ERR?") == '0,"No error"'
        assert inst.query("POW?") == "1"
    finally:
        inst.close()
        rm.close()


def test_large_batches_stream_in_several_blocks(served: SimServer) -> None:
    served.board.insert(MX64(SEED))
    x = np.random.default_rng(3).choice(np.array([-1, 1], np.int8), (2 * MAX_BATCH + 5, 64))
    local = open_chip(f"sim:{SEED}")
    with MX64Board(served.resources()["serial_socket"]) as wire:
        for chip in (local, wire):
            chip.power_on()
            chip.write_array(np.ones((64, 64), np.int8))
        assert np.array_equal(wire.mac_batch(x), local.mac_batch(x))
        assert wire.cycle_counter == local.cycle_counter == 128 + x.shape[0]


def test_a_late_reply_is_never_taken_for_a_later_answer(served: SimServer) -> None:
    with MX64Board(served.resources()["serial_socket"], timeout=0.01) as board:
        board._port.timeout = 5.0
        board.power_on()
        board._port.timeout = 0.005
        x = np.ones((60000, 64), np.int8)            # takes far longer than 5 ms to answer
        with pytest.raises(LinkTimeout):
            board.mac_batch(x)
        board._port.timeout = 5.0
        assert board.cycle_counter == 60000       # the answer to this question, not the late block
        assert board.errors() == []


def test_no_board_behind_the_port_times_out_clearly() -> None:
    with pytest.raises(LinkTimeout, match="loop://"):
        MX64Board("loop://", timeout=0.2, resync_timeout=0.3)


def test_a_vanished_port_raises_a_link_error() -> None:
    server = SimServer(Board(MX64(1)), pty=False).start()
    board = MX64Board(server.resources()["serial_socket"], timeout=1.0)
    board.power_on()
    server.stop()
    with pytest.raises(LinkError):
        for _ in range(3):                          # the first write may still be buffered
            board.cycle_counter
    board.close()


def test_cannot_open_a_missing_port() -> None:
    with pytest.raises(LinkError, match="cannot open"):
        MX64Board("/dev/does-not-exist-mx64")


def test_open_chip_specs() -> None:
    assert isinstance(open_chip("sim"), MX64Board)
    assert open_chip("sim:9").identify().die_id == MX64(9).die_id
    with pytest.raises(ValueError, match="die seed"):
        open_chip("sim:x")


def test_the_ideal_chip_and_the_power_up_window_decode() -> None:
    from labctl.chip import decode, open_chip
    chip = open_chip("sim:2", ideal=True)
    chip.power_on()
    rng = np.random.default_rng(0)
    w = rng.choice(np.array([-1, 1], np.int8), (64, 64))
    chip.write_array(w)
    assert np.array_equal(chip.verify_array(), w)                    # no write errors, no defects
    x = rng.choice(np.array([-1, 1], np.int8), (4000, 64))
    codes, ideal = chip.mac_batch(x), x.astype(int) @ w
    lsb = chip.tdc_lsb
    inside = np.abs(ideal) < 20                                       # codes 0 and 15 clip beyond
    error = decode(codes, lsb)[inside] - ideal[inside]
    half_code = lsb[0] / 0.125e-9 / 2
    assert np.abs(error).max() <= half_code + 0.1 and abs(error.mean()) < 0.5
    assert np.array_equal(chip.mac_batch(x), codes)                   # no noise: the same codes again
    with pytest.raises(ValueError, match="only a simulated chip"):
        open_chip("socket://127.0.0.1:1", ideal=True)


def test_the_typed_chip_interface_is_the_command_table() -> None:
    """The hand-written Chip surface and the driver made from the table say the same thing."""
    import inspect
    surface = {name for name in dir(Chip) if not name.startswith("_")} | set(Chip.__annotations__)
    table = {c.name for c in mx64.COMMANDS} - {"identify_board", "die", "power", "next_error", "sync",
                                                "error_count", "complete"}
    table |= {s.name for s in mx64.SETTINGS} | {"identify", "power_on", "power_off", "set_tdc_window", "errors",
                                                  "close"}
    assert surface == table | {"limits"}           # the host's own: the bench's safety limits
    for name in surface - {"limits"}:              # the driver has them all, without being called
        assert inspect.getattr_static(MX64Board, name) is not None
    documented = {name for name, member in vars(MX64Board).items() if isinstance(member, property)}
    assert documented == {s.name for s in mx64.SETTINGS} | {"powered", "cycle_counter"}
