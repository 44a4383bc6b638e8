"""Same die seed and operations: bit-identical results, however inputs are grouped."""

from __future__ import annotations

import time

import numpy as np

from conftest import powered, random_signs
from sim_chip import MX64, ChipParameters


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
    """Hot die (500 K) and a slow clock: retention flips land inside the batch; the batch stays fast."""
    def hot(seed: int) -> MX64:
        chip = powered(seed)
        program(chip, 3)
        chip.set_temperature(500.0)
        chip.set_clock(1e6)
        return chip

    a, b = hot(4), hot(4)
    x = random_signs(np.random.default_rng(5), (6000, 64))
    before = a._ap.copy()
    t0 = time.perf_counter()
    batch = a.mac_batch(x)
    t1 = time.perf_counter()
    singles = np.array([b.mac(v) for v in x])
    t2 = time.perf_counter()
    assert (a._ap != before).sum() > 3                        # the batch really crossed flips
    assert np.array_equal(a._ap, b._ap)
    assert np.array_equal(batch, singles)
    assert t1 - t0 < t2 - t1                                  # no slow path for hot batches


def test_batch_equals_one_by_one_under_read_disturb() -> None:
    """Raised read bias on MTJs made easy to switch (Vc0 0.08 V): disturb events from MAC selections."""
    params = ChipParameters().with_overrides({"device.vc0_p_to_ap": 0.08})

    def disturbed(seed: int) -> MX64:
        chip = powered(seed, params)
        program(chip, 6)
        chip.set_temperature(430.0)
        chip.set_read_bias(2.0)
        return chip

    a, b = disturbed(7), disturbed(7)
    x = random_signs(np.random.default_rng(8), (3000, 64))
    before = a._ap.copy()
    batch = a.mac_batch(x)
    singles = np.vstack([b.mac_batch(x[i:i + 7]) for i in range(0, 3000, 7)])
    assert (a._ap != before).sum() > 3
    assert np.array_equal(a._ap, b._ap) and np.array_equal(batch, singles)


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
