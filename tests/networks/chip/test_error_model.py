"""The MAC error model and the layer emulation: construction, exact sampling, per-column keys, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.chip.emulation import EmulatedProduct, emulate_layer
from procedures.networks.chip.error_model import ErrorModel
from procedures.networks.chip.tiling import TileLayout, tiled_product


def signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


def deterministic_model(error_of: dict[int, int]) -> ErrorModel:
    """Error f(s) with probability 1 for the ideal MACs given; the others copy their nearest neighbour."""
    values = np.array(sorted(set(error_of.values())), np.int32)
    p = np.zeros((1, 129, values.size))
    counts = np.zeros((1, 129), np.int64)
    for s in range(-64, 65):
        nearest = min(error_of, key=lambda k: (abs(k - s), abs(k)))
        p[0, s + 64, np.searchsorted(values, error_of[nearest])] = 1.0
        counts[0, s + 64] = s in error_of
    return ErrorModel(values, p, counts)


def test_from_pairs_counts_and_fills_by_parity() -> None:
    ideal = np.array([0, 0, 0, 0, 2, 2, 6, 1])
    decoded = np.array([0, 2, 2, -2, 2, 4.4, 6, 1])           # 4.4: a calibration mean, rounds to error 2
    m = ErrorModel.from_pairs(ideal, decoded)
    assert m.errors.tolist() == [-2, 0, 2]
    assert m.counts[0, 64] == 4 and m.counts[0, 66] == 2 and m.counts[0, 68] == 0
    assert np.allclose(m.probabilities[0, 64], [0.25, 0.25, 0.5])
    assert np.allclose(m.probabilities[0, 66], [0, 0.5, 0.5])
    # 4 is as near to 2 as to 6: the one nearer zero (2); -8 takes 0; odd 3 takes 1, not an even neighbour
    assert np.array_equal(m.probabilities[0, 68], m.probabilities[0, 66])
    assert np.array_equal(m.probabilities[0, 56], m.probabilities[0, 64])
    assert np.allclose(m.probabilities[0, 67], [0, 1, 0])


def test_from_pairs_per_column_and_refusals() -> None:
    rng = np.random.default_rng(0)
    ideal = rng.integers(-20, 21, (500, 64)) * 2
    decoded = ideal + 2 * (np.arange(64) == 5)                 # column 5 reads 2 high
    m = ErrorModel.from_pairs(ideal, decoded, per_column=True)
    mean, std = m.moments()
    assert mean.shape == (64, 129) and np.allclose(mean[5], 2) and np.allclose(np.delete(mean, 5, 0), 0)
    assert np.allclose(std, 0)
    with pytest.raises(ValueError, match="per-column"):
        ErrorModel.from_pairs(ideal[:, :10], decoded[:, :10], per_column=True)
    with pytest.raises(ValueError, match="NaN"):
        ErrorModel.from_pairs(ideal, np.where(ideal > 30, np.nan, decoded))
    with pytest.raises(ValueError, match="-64..64"):
        ErrorModel.from_pairs(ideal * 2, decoded)
    with pytest.raises(ValueError, match="sum to 1"):
        ErrorModel(m.errors, m.probabilities * 1.1, m.counts)


def test_arrays_round_trip() -> None:
    m = ErrorModel.from_pairs(np.array([0, 2, 2]), np.array([2, 0, 2]))
    back = ErrorModel.from_arrays(m.arrays())
    assert all(np.array_equal(a, b) for a, b in zip(m.arrays().values(), back.arrays().values()))


def test_sampling_matches_the_table() -> None:
    """Empirical frequencies of 200,000 draws per row lie within 5 sigma of the table's probabilities."""
    rng = np.random.default_rng(1)
    values = np.array([-6, -4, -2, 0, 2, 4, 6, 8], np.int32)
    p = rng.dirichlet(np.full(values.size, 0.7), (64, 129))
    p[:, :, 2] = 0.0                                           # a zero-probability value is never drawn
    p /= p.sum(axis=2, keepdims=True)
    model = ErrorModel(values, p, np.ones((64, 129), np.int64))
    n = 200_000
    for column, s in [(0, 0), (17, -64), (63, 64), (40, 10)]:
        e = model.sample(np.full(n, s), column, rng)
        freq = np.array([(e == v).mean() for v in values])
        sigma = np.sqrt(p[column, s + 64] * (1 - p[column, s + 64]) / n)
        assert (np.abs(freq - p[column, s + 64]) <= 5 * sigma + 1e-12).all(), (column, s)
        assert freq[2] == 0



def test_draws_do_not_depend_on_the_sampling_block(monkeypatch) -> None:
    """The sampler works block by block; the draws are those of one block (the uniforms in one call's order),
    per column and pooled, for any block size, and each draw is keyed on its own element's column."""
    import procedures.networks.chip.error_model as module

    rng = np.random.default_rng(4)
    values = np.arange(-6, 8, 2, dtype=np.int32)
    ideal = (rng.integers(-32, 33, (3, 1001, 128)) * 2).astype(np.int32)
    columns = np.arange(128) % 64
    for per_column in (1, 64):
        p = rng.dirichlet(np.full(values.size, 0.5), (per_column, 129))
        model = ErrorModel(values, p, np.ones((per_column, 129), np.int64))
        whole = model.sample(ideal, columns, np.random.default_rng(9))
        for block in (7, 4096):
            monkeypatch.setattr(module, "SAMPLE_BLOCK", block)
            assert np.array_equal(model.sample(ideal, columns, np.random.default_rng(9)), whole)
        monkeypatch.setattr(module, "SAMPLE_BLOCK", ideal.size)
        assert np.array_equal(model.sample(ideal, columns, np.random.default_rng(9)), whole)
        one = model.sample(ideal[1, 5, 70:71], columns[70:71], np.random.default_rng(9))
        assert one.shape == (1,) and one[0] in values

def test_emulation_keys_errors_on_the_full_column_mac() -> None:
    """A deterministic model (error = f(column MAC)) makes the emulation an exact, checkable function."""
    f = {s: (2 if s > 0 else -2 if s < 0 else 0) for s in range(-64, 65, 2)}
    model = deterministic_model(f)
    rng = np.random.default_rng(2)
    for inputs, outputs in [(63, 10), (130, 70), (784, 64)]:
        w, x = signs(rng, (inputs, outputs)), signs(rng, (300, inputs))
        layout = TileLayout(inputs, outputs)
        macs = layout.column_macs(x, w)
        expected = layout.combine(macs + np.sign(macs) * 2)
        assert np.array_equal(emulate_layer(x, w, model, rng), expected)
        assert not np.array_equal(expected, tiled_product(0, x, w))


def test_zero_error_model_is_exact_and_emulation_is_seeded() -> None:
    rng = np.random.default_rng(3)
    w, x = signs(rng, (200, 30)), signs(rng, (3000, 200))
    zero = ErrorModel(np.array([0], np.int32), np.ones((1, 129, 1)), np.ones((1, 129), np.int64))
    assert np.array_equal(emulate_layer(x, w, zero, rng), tiled_product(0, x, w))
    noisy = ErrorModel(np.array([-2, 0, 2], np.int32), np.tile([0.2, 0.6, 0.2], (1, 129, 1)),
                       np.ones((1, 129), np.int64))
    a, b, c = (EmulatedProduct(noisy, seed)(0, x, w) for seed in (5, 5, 6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_emulated_preactivation_statistics() -> None:
    """Per-column model: output o gets T tiles' errors from array column o % 64; mean and variance add up."""
    rng = np.random.default_rng(4)
    q = np.linspace(0.0, 0.5, 64)                              # column j reads +2 with probability q_j
    p = np.zeros((64, 129, 2))
    p[:, :, 0], p[:, :, 1] = (1 - q)[:, None], q[:, None]
    model = ErrorModel(np.array([0, 2], np.int32), p, np.ones((64, 129), np.int64))
    inputs, outputs, n = 200, 128, 4000                        # 4 row tiles, two column tiles
    w, x = signs(rng, (inputs, outputs)), signs(rng, (n, inputs))
    error = emulate_layer(x, w, model, rng) - tiled_product(0, x, w)
    qo = q[np.arange(outputs) % 64]
    mean, var = 4 * 2 * qo, 4 * 4 * qo * (1 - qo)              # error = 2 x Binomial(4, q)
    fourth = 16 * 4 * qo * (1 - qo) * (1 + 3 * 2 * qo * (1 - qo))  # its fourth central moment
    assert np.all(np.abs(error.mean(axis=0) - mean) <= 5 * np.sqrt(var / n) + 1e-9)
    assert np.all(np.abs(error.var(axis=0) - var) <= 5 * np.sqrt((fourth - var**2) / n) + 1e-9)
