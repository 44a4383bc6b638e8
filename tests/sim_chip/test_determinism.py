"""Same die seed and operations: bit-identical results, however inputs are grouped."""

from __future__ import annotations

import numpy as np

from conftest import powered, random_signs
from sim_chip import MX64


def program(chip: MX64, seed: int) -> np.ndarray:
    chip.write_array(random_signs(np.random.default_rng(seed), (64, 64)))
    return np.array([chip.verify_row(r) for r in range(64)])


def test_batch_equals_one_by_one() -> None:
    a, b = powered(9), powered(9)
    assert np.array_equal(program(a, 1), program(b, 1))
    x = random_signs(np.random.default_rng(2), (3000, 64))
    batch = a.mac_batch(x)
    singles = np.array([b.mac(v) for v in x])
    assert np.array_equal(batch, singles)
    mixed = np.vstack([a.mac_batch(x[:1234]), a.mac_batch(x[1234:])])
    assert np.array_equal(mixed, b.mac_batch(x))
    assert a.cycle_counter == b.cycle_counter


def test_batch_equals_one_by_one_when_cells_flip_mid_batch() -> None:
    """Hot die, raised read bias and a slow clock: disturb flips land inside the batch."""
    def hot(seed: int) -> MX64:
        chip = powered(seed)
        program(chip, 3)
        chip.set_temperature(470.0)
        chip.set_read_bias(2.0)
        chip.set_clock(1e6)
        return chip

    a, b = hot(4), hot(4)
    x = random_signs(np.random.default_rng(5), (2000, 64))
    before = a.stored_weights()
    batch = a.mac_batch(x)
    singles = np.array([b.mac(v) for v in x])
    assert (a.stored_weights() != before).sum() > 3          # the batch really crossed flips
    assert np.array_equal(a.stored_weights(), b.stored_weights())
    assert np.array_equal(batch, singles)


def test_same_seed_same_everything_other_seed_differs() -> None:
    def run(seed: int) -> tuple[np.ndarray, np.ndarray]:
        chip = powered(seed)
        verify = program(chip, 7)
        return verify, chip.mac_batch(random_signs(np.random.default_rng(8), (500, 64)))

    (v1, c1), (v2, c2), (_, c3) = run(30), run(30), run(31)
    assert np.array_equal(v1, v2) and np.array_equal(c1, c2)
    assert not np.array_equal(c1, c3)


def test_repeated_reads_carry_fresh_noise(chip: MX64) -> None:
    program(chip, 1)
    x = np.tile(random_signs(np.random.default_rng(1), (1, 64)), (200, 1))
    codes = chip.mac_batch(x)
    assert len({row.tobytes() for row in codes}) > 1
