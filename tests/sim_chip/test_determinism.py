"""Same die seed and operations: bit-identical results, however inputs are grouped."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from chips import centre_windows, powered, random_signs
from datasheet import timing_noise_of_the_die
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


def hot_die(seed: int, idle: float = 0.0) -> MX64:
    """Programmed, at 500 K and a 1 MHz clock, each column's TDC window on the hot die's delays (at the
    power-up window most codes clip and a flip changes none); its retention barrier lowered to 85 so that
    flips fall within a few thousand clocks."""
    chip = powered(seed, ChipParameters().with_overrides({"device.delta_retention_mean": 85.0}))
    program(chip, 3)
    chip.set_temperature(500.0)
    chip.set_clock(1e6)
    centre_windows(chip, random_signs(np.random.default_rng(seed), (200, 64)), 0.5e-9)
    if idle:
        chip.advance_idle(idle)
    return chip


def readable(codes: np.ndarray) -> bool:
    """Codes that move with the array's state: under 10 % clipped at 0 or 15."""
    return float(np.mean((codes == 0) | (codes == 15))) < 0.1


def test_batch_equals_one_by_one_when_cells_flip_mid_batch() -> None:
    """Hot die (500 K) and a slow clock: retention flips land inside the batch; the batch stays fast."""
    a, b = hot_die(4), hot_die(4)
    x = random_signs(np.random.default_rng(5), (6000, 64))
    before = a._ap.copy()
    t0 = time.perf_counter()
    batch = a.mac_batch(x)
    t1 = time.perf_counter()
    singles = np.array([b.mac(v) for v in x])
    t2 = time.perf_counter()
    assert (a._ap != before).sum() > 3                        # the batch really crossed flips
    assert readable(batch)
    assert np.array_equal(a._ap, b._ap)
    assert np.array_equal(batch, singles)
    assert t1 - t0 < t2 - t1                                  # no slow path for hot batches


def test_flips_mid_batch_after_idle_time_land_on_the_same_vectors() -> None:
    """As above, after hot idle time: the idle intensity no longer starts from zero in this segment, and
    each flip still lands on the vector whose clock its event falls in, batch or one by one."""
    a, b = hot_die(4, idle=0.5), hot_die(4, idle=0.5)
    x = random_signs(np.random.default_rng(6), (3000, 64))
    before = a._ap.copy()
    batch = a.mac_batch(x)
    singles = np.array([b.mac(v) for v in x])
    assert (a._ap != before).sum() > 3 and readable(batch)
    assert np.array_equal(a._ap, b._ap) and np.array_equal(batch, singles)


def test_batch_equals_one_by_one_under_read_disturb() -> None:
    """Raised read bias on MTJs made easy to switch (Vc0 0.09 V): disturb events from MAC selections, in
    more than one scan window; the batch equals the same vectors cut around that window's edge, and one
    at a time."""
    params = ChipParameters().with_overrides({"device.vc0_p_to_ap": 0.09})

    def disturbed(seed: int) -> MX64:
        chip = powered(seed, params)
        program(chip, 6)
        chip.set_temperature(430.0)
        chip.set_read_bias(2.0)
        chip.set_tdc_window(1e-9, 0.25e-9)                     # on these delays (~2.5 ns; offsets ~0.3 ns)
        return chip

    a, b, c, d = disturbed(7), disturbed(7), disturbed(7), disturbed(7)
    x = random_signs(np.random.default_rng(8), (4300, 64))     # past the 4,096-vector scan window
    before = a._ap.copy()
    batch = a.mac_batch(x)
    cuts = [0, 1, 8, 700, 2048, 4095, 4097, 4200, 4300]                 # around the scan window's edge
    pieces = np.vstack([b.mac_batch(x[lo:hi]) for lo, hi in zip(cuts[:-1], cuts[1:])])
    assert (a._ap != before).sum() > 3 and readable(batch)
    assert np.array_equal(a._ap, b._ap) and np.array_equal(batch, pieces)
    first = 400                                                # one at a time, with flips among them
    singles = np.array([c.mac(v) for v in x[:first]])
    assert np.array_equal(d.mac_batch(x[:first]), singles) and np.array_equal(c._ap, d._ap)
    assert (c._ap != before).sum() >= 2


def test_same_seed_same_everything_other_seed_differs() -> None:
    def run(seed: int) -> tuple[np.ndarray, np.ndarray]:
        chip = powered(seed)
        verify = program(chip, 7)
        return verify, chip.mac_batch(random_signs(np.random.default_rng(8), (500, 64)))

    (v1, c1), (v2, c2), (_, c3) = run(30), run(30), run(31)
    assert np.array_equal(v1, v2) and np.array_equal(c1, c2)
    assert not np.array_equal(c1, c3)


def test_repeated_reads_carry_fresh_noise(chip: MX64) -> None:
    """The same vector 4,000 times at the power-up LSB (0.4 ns): every column's codes spread as its timing
    noise (datasheet.py: the voltage noise over its node's slope at the trip point) with the LSB's
    quantisation, and reads do not repeat each other (successive reads' codes are uncorrelated)."""
    program(chip, 1)
    x = random_signs(np.random.default_rng(1), (1, 64))
    codes = chip.mac_batch(np.tile(x, (4000, 1))).astype(float)
    sigma = timing_noise_of_the_die(chip, x[0]) / chip.tdc_lsb
    spread = codes.std(axis=0)
    inside = (codes.min(axis=0) > 0) & (codes.max(axis=0) < 15)            # columns whose reads never clip
    assert inside.sum() > 30
    # a quantised Gaussian: variance ~ sigma^2 + 1/12 (Sheppard), each column to within its sampling error
    ratio = spread[inside] ** 2 / (sigma[inside] ** 2 + 1 / 12)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.03) and np.all(np.abs(ratio - 1) < 0.15)
    lag = np.mean([np.corrcoef(codes[:-1, j], codes[1:, j])[0, 1] for j in np.flatnonzero(inside)])
    assert abs(lag) < 0.02


def test_batches_longer_than_a_chunk_equal_one_by_one_however_split() -> None:
    """Long runs go in 4,096-vector chunks on worker threads: every chunk has its own clocks' noise.

    Two chunks and a bit (three chunks on the pool), as one batch, one vector
    at a time, and cut at and around the chunk boundaries, one cut leaving a
    batch of 4,097 whose last chunk holds one vector: the same codes, the
    same energy by block.
    """
    from sim_chip.macro import _CHUNK
    n = 2 * _CHUNK + 123
    x = random_signs(np.random.default_rng(21), (n, 64))
    x[_CHUNK:2 * _CHUNK] = x[:_CHUNK]                       # chunk 2 repeats chunk 1: its noise must not
    chips = [powered(22) for _ in range(4)]
    for chip in chips:
        program(chip, 23)
    whole = chips[0].mac_batch(x)
    singles = np.array([chips[1].mac(v) for v in x])
    assert np.array_equal(whole, singles)
    assert not np.array_equal(whole[:_CHUNK], whole[_CHUNK:2 * _CHUNK])
    assert (whole[:_CHUNK] != whole[_CHUNK:2 * _CHUNK]).mean() > 0.2     # fresh noise, not a few flips
    for chip, cuts in ((chips[2], [_CHUNK - 1, _CHUNK, _CHUNK + 1, 2 * _CHUNK + 7]),
                       (chips[3], [1, _CHUNK + 2])):                       # [1, 4098): a one-vector tail chunk
        parts = [chip.mac_batch(x[a:b]) for a, b in zip([0] + cuts, cuts + [n])]
        assert np.array_equal(np.vstack(parts), whole)
    for chip in chips[1:]:
        assert chip.cycle_counter == chips[0].cycle_counter
        for block, joules in chips[0].energy.blocks.items():
            assert math.isclose(chip.energy.blocks[block], joules, rel_tol=1e-6, abs_tol=1e-21), block


def test_a_one_vector_tail_chunk_is_a_batch_like_any_other_on_an_ideal_die() -> None:
    """n = 4,096 + 1 vectors (the last chunk holds one; the noisy die is above): as the two batches."""
    from sim_chip.macro import _CHUNK
    x = random_signs(np.random.default_rng(24), (_CHUNK + 1, 64))
    a, b = powered(25, ChipParameters.ideal()), powered(25, ChipParameters.ideal())
    program(a, 26), program(b, 26)
    assert np.array_equal(a.mac_batch(x), np.vstack([b.mac_batch(x[:_CHUNK]), b.mac_batch(x[_CHUNK:])]))
    assert math.isclose(a.energy.blocks["column_lines"], b.energy.blocks["column_lines"], rel_tol=1e-6)  # float32 sums


def stream_keys(chip: MX64) -> list[int]:
    """The key of every random stream of a die: noise, writes, verifies, pad, flips, breakdown, test MTJ."""
    noise, flips, mtj = chip._mac_noise, chip._flips, chip.test_mtj
    return [noise._stream._key, noise._common_key, noise._tail_key, chip._write_stream._key,
            chip._verify_stream._key, chip._verify_tail_key, chip._analog_key, flips._idle_grid._key,
            flips._dist_grid._key, mtj._key, mtj._grid._key, chip._slow._key]


def test_no_two_streams_and_no_two_dies_share_random_numbers() -> None:
    """Each random stream has its own key, and another die has other keys and breakdown thresholds: a stream
    keyed without the die seed would make every die's noise (or flips, or breakdowns) the same."""
    a, b = MX64(1), MX64(2)
    tester = MX64(1, fuses=np.zeros(64), streams="factory")          # the factory's reads are not the user's
    keys = stream_keys(a) + stream_keys(b) + stream_keys(tester)
    assert len(set(keys)) == len(keys)
    assert not np.any(a._bd_threshold == b._bd_threshold)


def test_one_hashed_draw_has_the_bits_it_has_among_many() -> None:
    """A single draw (integer counters, worked out on Python ints) equals the same draw taken in an array."""
    from sim_chip.rng import hash_uniform
    key, cells, steps = 0xDEADBEEF12345678, np.array([0, 1, 4095, 2**40 + 3]), np.array([0, 7, 2**33, 5])
    many = hash_uniform(key, cells, steps)
    assert [hash_uniform(key, int(c), np.uint64(s)) for c, s in zip(cells, steps)] == many.tolist()
    assert hash_uniform(key, 9) == hash_uniform(key, np.array([9]))[0] != hash_uniform(key + 1, 9)
    lanes = np.arange(40, dtype=np.uint64) * 2**37                    # beyond the few drawn one at a time
    assert hash_uniform(key, lanes)[[3, 39]].tolist() == hash_uniform(key, lanes[[3, 39]]).tolist()
