"""Tiling: padded tiles reproduce the plain product exactly; padding contributes nothing; schedule counts."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.host.encoding import InputEncoding
from procedures.networks.host.network import plain_product
from benchspec.mx64 import ROWS
from procedures.networks.chip.tiling import TileLayout, count, merge_replicas, replica_count, schedule, tiled_product, with_replicas



def signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice(np.array([-1, 1], np.int8), size=shape)


AWKWARD = [(1, 1), (2, 3), (63, 65), (64, 64), (65, 1), (127, 129), (784, 10), (785, 200)]


@pytest.mark.parametrize("inputs,outputs", AWKWARD)
def test_tiled_product_equals_matmul(inputs, outputs) -> None:
    rng = np.random.default_rng(inputs * 1000 + outputs)
    w, x = signs(rng, (inputs, outputs)), signs(rng, (2100, inputs))   # more vectors than one block
    exact = x.astype(np.int64) @ w.astype(np.int64)
    assert np.array_equal(tiled_product(0, x, w), exact)
    assert np.array_equal(plain_product(0, x, w), exact)


@pytest.mark.parametrize("inputs,outputs", AWKWARD)
def test_padding_contributes_nothing(inputs, outputs) -> None:
    rng = np.random.default_rng(7)
    layout = TileLayout(inputs, outputs)
    w, x = signs(rng, (inputs, outputs)), signs(rng, (50, inputs))
    macs = layout.column_macs(x, w)
    assert macs.shape == (layout.row_tiles, 50, 64 * layout.column_tiles)
    assert (macs % 2 == 0).all() and np.abs(macs).max() <= 64       # every column sums 64 rows
    for t in range(layout.row_tiles):
        rows = layout.real_rows(t)
        tile_w = layout.tile_weights(w, t, 0)
        pad_w, pad_x = tile_w[rows:], layout.tile_inputs(x, t)[:, rows:]
        assert (pad_x == 1).all()                                      # padding inputs are constant
        pairs = (ROWS - rows) // 2
        # every pair is +1/-1 under one input: one mismatch (one R_high, one R_low) whatever that input
        for sign in (-1, 1):
            mismatches = (sign * pad_w[: 2 * pairs].reshape(pairs, 2, 64) < 0).sum(axis=1)
            assert (mismatches == 1).all()
        assert (pad_x.astype(int) @ pad_w.astype(int) == layout.leftover()[t]).all()
        assert layout.leftover()[t] == (ROWS - rows) % 2
        real = x[:, ROWS * t: ROWS * t + rows].astype(int) @ w[ROWS * t: ROWS * t + rows].astype(int)
        assert np.array_equal(macs[t][:, :outputs] - layout.leftover()[t], real)


def test_tiles_cover_every_weight_once() -> None:
    rng = np.random.default_rng(3)
    widths = [130, 70, 10]
    weights = [signs(rng, (i, o)) for i, o in zip(widths[:-1], widths[1:])]
    rebuilt = [np.zeros_like(w) for w in weights]
    for step in schedule(widths, images=5):
        layout = TileLayout(*weights[step.layer].shape)
        tile = layout.tile_weights(weights[step.layer], step.row_tile, step.column_tile)
        block = rebuilt[step.layer][step.first_input: step.first_input + step.rows,
                                    step.first_output: step.first_output + step.columns]
        assert not block.any()
        block[...] = tile[: step.rows, : step.columns]
    assert all(np.array_equal(a, b) for a, b in zip(rebuilt, weights))


def test_schedule_counts() -> None:
    steps = schedule([784, 512, 10], images=10000, first_layer_planes=4)
    counts = count(steps, 10000)
    assert counts.programmed_tiles == 13 * 8 + 8 * 1
    assert counts.write_clocks == 128 * 112
    assert counts.mac_vectors == 13 * 8 * 40000 + 8 * 10000
    assert counts.mac_vectors_per_image == 13 * 8 * 4 + 8
    assert [s.layer for s in steps] == sorted(s.layer for s in steps)   # layer by layer


def test_network_on_tiles_equals_plain(make_network, images) -> None:
    net = make_network([200, 130, 10], InputEncoding("bitplanes", 3))
    x = images(400, 200)
    plain, tiled = net.forward(x), net.forward(x, tiled_product)
    assert all(np.array_equal(a, b) for a, b in zip(plain.preactivations, tiled.preactivations))
    assert np.array_equal(plain.predictions, tiled.predictions)


def test_replicas_fill_narrow_tiles_and_average_back() -> None:
    assert [replica_count(n) for n in (10, 32, 33, 64, 1)] == [6, 2, 1, 1, 64]
    rng = np.random.default_rng(0)
    tile = np.ones((64, 64), np.int8)
    tile[:, :10] = rng.choice(np.array([-1, 1], np.int8), (64, 10))
    filled = with_replicas(tile, 10, 6)
    assert all(np.array_equal(filled[:, 10 * k:10 * k + 10], tile[:, :10]) for k in range(6))
    assert (filled[:, 60:] == 1).all()
    values = np.tile(np.arange(10.0), (3, 6))
    values = np.concatenate([values + np.repeat(np.arange(6.0), 10) - 2.5, np.zeros((3, 4))], axis=1)
    assert np.allclose(merge_replicas(values, 10, 6), np.arange(10.0))
