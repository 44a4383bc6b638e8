"""The board's command layer: power, registers, error queue."""

from __future__ import annotations

import numpy as np
import pytest

from chips import random_signs
from sim_chip import MX64, Board, ChipError, InvalidArgument, NotPowered, UnknownRegister
from benchspec.mx64 import ERROR_QUEUE_LENGTH


@pytest.fixture
def board() -> Board:
    b = Board(MX64(4))
    b.power_on()
    return b


def test_identity_is_available_unpowered() -> None:
    b = Board(MX64(4), serial="EVB-7")
    ident = b.identify()
    assert ident.idn() == "LABCTL,MX64-EVB,EVB-7,1.1.0"
    assert ident.die_id == b.chip.die_id and ident.die_id.startswith("MX64-")
    assert not b.powered


def test_power_gates_every_operation_and_is_queued() -> None:
    b = Board(MX64(4))
    with pytest.raises(NotPowered):
        b.mac(np.ones(64))
    assert b.next_error()[0] == -241
    b.power_on()
    assert b.powered and b.mac(np.ones(64)).shape == (64,)
    b.power_off()
    with pytest.raises(NotPowered):
        b.cycle_counter()


def test_registers_round_trip(board: Board) -> None:
    power_up_starts = board.get_register("tdc_start")
    board.set_register("read_bias", 0.4)
    board.set_register("CLOCK_HZ", 5e6)
    board.set_register("write_width", 3)
    board.set_register("tdc_start", 14e-9, column=7)
    board.set_register("tdc_lsb", 0.5e-9)
    board.set_register("test_mux", 12)
    assert board.get_register("read_bias") == 0.4 and board.get_register("clock_hz") == 5e6
    assert board.get_register("write_width") == 3 and board.get_register("test_mux") == 12
    assert board.get_register("tdc_start", 7) == pytest.approx(14e-9)
    assert board.get_register("tdc_start", 6) == power_up_starts[6]
    assert np.allclose(board.get_register("tdc_lsb"), 0.5e-9)
    board.set_register("test_mux", None)
    assert board.chip.test_mux is None


def test_vwrite_register_drives_the_write_rail(board: Board) -> None:
    board.set_register("write_voltage", 1.2)
    assert board.chip.rails["vwrite"] == 1.2 and board.get_register("write_voltage") == 1.2
    board.power_off()
    board.set_register("write_voltage", 1.4)        # programmed while off, applied at power-on
    board.power_on()
    assert board.chip.rails["vwrite"] == 1.4


def test_errors_queue_with_scpi_numbers_and_state_is_kept(board: Board) -> None:
    with pytest.raises(UnknownRegister, match="'FOO' does not exist"):
        board.set_register("FOO", 1)
    with pytest.raises(InvalidArgument):
        board.set_register("read_bias", 9.0)
    with pytest.raises(InvalidArgument, match="not a per-column setting"):
        board.set_register("read_bias", 0.3, column=2)
    assert len(board.errors) == 3
    assert board.next_error()[0] == -113
    code, message = board.next_error()
    assert code == -222 and "read_bias" in message and "0.05 .. 2 V" in message
    assert board.next_error()[0] == -222
    assert board.next_error() == (0, "No error")
    assert board.get_register("read_bias") == 0.25


def test_error_queue_overflow_and_clear(board: Board) -> None:
    for _ in range(ERROR_QUEUE_LENGTH + 5):
        with pytest.raises(ChipError):
            board.verify_row(100)
    assert len(board.errors) == ERROR_QUEUE_LENGTH
    errors = [board.next_error() for _ in range(ERROR_QUEUE_LENGTH)]
    assert errors[-1] == (-350, "Queue overflow") and errors[0][0] == -222
    board.set_register("read_bias", 0.3)                  # a valid command queues nothing
    with pytest.raises(ChipError):
        board.set_register("BAR", 0)
    board.errors.clear()
    assert board.next_error() == (0, "No error")


def test_reset_restores_registers_and_keeps_the_array(board: Board) -> None:
    w = random_signs(np.random.default_rng(1), (64, 64))
    board.write_array(w)
    stored = board.chip.stored_weights()
    board.set_register("read_bias", 0.7)
    board.reset()
    assert board.get_register("read_bias") == 0.25 and board.cycle_counter() == 0
    assert np.array_equal(board.chip.stored_weights(), stored)


def test_external_supply_mode() -> None:
    b = Board(MX64(4), supply="external")
    with pytest.raises(NotPowered, match="VDD = 0 V"):
        b.power_on()                                  # nothing powers the chip yet
    b.chip.set_rails(vdd=0.9, vddio=1.8, vwrite=1.3)
    b.power_on()
    assert b.powered and b.get_register("write_voltage") == 1.3
    with pytest.raises(NotPowered, match="supplied externally"):
        b.set_register("write_voltage", 1.0)                 # the supply sets V_WRITE, not the board
    b.chip.set_rails(vddio=1.5)                       # out of tolerance: the chip browns out
    assert not b.powered
