"""Bad input: a typed error naming the argument and its range, and no change of state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chips import powered, random_signs
from sim_chip import MX64, InvalidArgument, NotPowered


def snapshot(chip: MX64) -> tuple:
    return (chip._ap.tobytes(), chip._broken.tobytes(), chip._clock, chip.clock_hz, chip.write_width_clocks,
            chip.read_bias, chip.verify_bias, chip.tdc_start.tobytes(), chip.tdc_lsb.tobytes(), chip.test_mux,
            chip.hold_input.tobytes(), dict(chip.energy.charge), dict(chip.rails), chip.temperature,
            chip.elapsed_seconds, chip._flips.lam_idle.tobytes(), chip._flips.lam_dist.tobytes())


@pytest.fixture(scope="module")
def programmed() -> MX64:
    chip = powered(17)
    chip.write_array(random_signs(np.random.default_rng(0), (64, 64)))
    return chip


BAD_CALLS = [
    ("x", "shape (64)", lambda c: c.mac(np.ones(63))),
    ("x", "only -1 and +1", lambda c: c.mac(np.r_[np.ones(63), 0.5])),
    ("x", "only -1 and +1", lambda c: c.mac_batch(np.zeros((4, 64), np.int8))),
    ("x", "shape (N x 64)", lambda c: c.mac_batch(np.ones((4, 65)))),
    ("x", "at least one vector", lambda c: c.mac_batch(np.ones((0, 64)))),
    ("x", "numbers", lambda c: c.mac(np.array(["a"] * 64))),
    ("row", "0..63", lambda c: c.write_row(64, np.ones(64))),
    ("row", "0..63", lambda c: c.verify_row(-1)),
    ("row", "0..63", lambda c: c.write_row(1.0, np.ones(64))),
    ("weights", "shape (64 x 64)", lambda c: c.write_array(np.ones((64, 63)))),
    ("weights", "only -1 and +1", lambda c: c.write_row(0, np.r_[np.ones(63), 2])),
    ("clock", "1e+06 .. 1.72e+07 Hz", lambda c: c.set_clock(20e6)),
    ("write_width", "1 .. 255", lambda c: c.set_write_width(0)),
    ("read_bias", "0.05 .. 2 V", lambda c: c.set_read_bias(3.0)),
    ("verify_bias", "0.02 .. 1 V", lambda c: c.set_verify_bias(float("nan"))),
    ("tdc_start", "0 .. 6e-08 s", lambda c: c.set_tdc_window(-1e-9, 1e-9)),
    ("tdc_lsb", "6.25e-11 .. 4e-09 s", lambda c: c.set_tdc_window(13e-9, 10e-9)),
    ("column", "0..63", lambda c: c.set_tdc_window(13e-9, 1e-9, column=64)),
    ("column", "0..63", lambda c: c.set_test_mux(99)),
    ("vwrite", "0 .. 5 V", lambda c: c.set_rails(vwrite=7.0)),
    ("temperature", "4 .. 500 K", lambda c: c.set_temperature(900.0)),
    ("seconds", "0 .. 1e+12 s", lambda c: c.advance_idle(-1.0)),
    ("seconds", "0 .. 1e+12 s", lambda c: c.advance_idle(1.1e12)),
    ("bias", "-5 .. 5 V", lambda c: c.test_pad_resistance(10.0)),
    ("write_width", "integer 1 .. 255 clocks", lambda c: c.set_write_width(256)),
    ("hold_input", "shape (64) of -1/+1", lambda c: c.set_hold_input(np.ones(65))),
    ("weights", "shape (64 x 64) of -1/+1", lambda c: c.cycle_writes(np.ones(64), 5)),
    ("cycles", "integer 1 .. 1000000000000", lambda c: c.cycle_writes(np.ones((64, 64)), 0)),
    ("cycles", "integer 1 .. 1000000000000", lambda c: c.cycle_writes(np.ones((64, 64)), 10**12 + 1)),
    ("weights", "shape (64 x 64) of -1/+1", lambda c: c.write_bias(np.ones((64, 63)))),
    ("row", "integer 0..63", lambda c: c.verify_row(64)),
]


@pytest.mark.parametrize("name, allowed, call", BAD_CALLS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD_CALLS)])
def test_bad_argument_is_named_and_changes_nothing(programmed: MX64, name: str, allowed: str, call) -> None:
    before = snapshot(programmed)
    with pytest.raises(InvalidArgument) as info:
        call(programmed)
    assert info.value.name == name
    assert str(info.value).startswith(f"{name}: got ")
    assert allowed in str(info.value)
    assert snapshot(programmed) == before


def test_a_partly_valid_rails_call_changes_no_rail(programmed: MX64) -> None:
    before = snapshot(programmed)
    with pytest.raises(InvalidArgument):
        programmed.set_rails(vdd=0.0, vwrite=-1.0)
    assert snapshot(programmed) == before and programmed.powered


UNPOWERED = [
    ("mac", lambda c: c.mac(np.ones(64))), ("mac", lambda c: c.mac_batch(np.ones((3, 64)))),
    ("write_row", lambda c: c.write_row(0, np.ones(64))), ("write_array", lambda c: c.write_array(np.ones((64, 64)))),
    ("verify_row", lambda c: c.verify_row(0)), ("set_read_bias", lambda c: c.set_read_bias(0.3)),
    ("set_tdc_window", lambda c: c.set_tdc_window(13e-9, 1e-9)), ("set_test_mux", lambda c: c.set_test_mux(3)),
    ("test_pad_resistance", lambda c: c.test_pad_resistance(0.1)), ("reset", lambda c: c.reset()),
    ("set_clock", lambda c: c.set_clock(5e6)), ("set_write_width", lambda c: c.set_write_width(2)),
    ("set_verify_bias", lambda c: c.set_verify_bias(0.2)), ("set_hold_input", lambda c: c.set_hold_input(np.ones(64))),
    ("reset_counter", lambda c: c.reset_counter()), ("cycle_writes", lambda c: c.cycle_writes(np.ones((64, 64)), 3)),
]


@pytest.mark.parametrize("operation, call", UNPOWERED, ids=[f"{o}-{i}" for i, (o, _) in enumerate(UNPOWERED)])
def test_nothing_works_unpowered(operation: str, call) -> None:
    """Refused with the operation named, the rails that are missing, and nothing changed."""
    chip = MX64(2)
    before = snapshot(chip)
    with pytest.raises(NotPowered, match="not powered") as info:
        call(chip)
    assert info.value.scpi_code == -241 and info.value.operation == operation
    assert str(info.value) == f"{operation}: chip is not powered (VDD = 0 V, needs 0.9 V +-10%)"
    assert snapshot(chip) == before


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(dtype=st.sampled_from([np.int8, np.int64, np.float64]),
                  shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=70),
                  elements=st.integers(-3, 3)))
def test_fuzzed_mac_input_is_either_valid_or_refused_cleanly(x: np.ndarray) -> None:
    chip = _fuzz_chip()
    before = snapshot(chip)
    valid = x.ndim == 2 and x.shape[1] == 64 and x.shape[0] > 0 and np.isin(x, (-1, 1)).all()
    if valid:
        assert chip.mac_batch(x).shape == (x.shape[0], 64)
    else:
        with pytest.raises(InvalidArgument):
            chip.mac_batch(x)
        assert snapshot(chip) == before


_FUZZ: list[MX64] = []


def _fuzz_chip() -> MX64:
    if not _FUZZ:
        _FUZZ.append(powered(18))
    return _FUZZ[0]
