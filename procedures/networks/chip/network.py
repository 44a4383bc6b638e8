"""A binary network classified with chosen layers on the chip (layer.py), the rest, activations and argmax on
the host.

The forward pass is ``BinaryNetwork.layer_requests``, so any network
alike: every weighted layer's request is its input vectors (a
convolution's are its im2col patches), host layers run on the host.  A
layer needs all of the previous layer's activations, so the images go
through the host layers ``batch`` at a time in lockstep and every chip
layer sees all of them at once: each of its tiles is programmed once.
The first layer streams every bit-plane of every image through the same
tiles and the host adds the planes' pre-activations with weights 2**p.

The calibration vectors of a chip layer are its inputs for the calibration
images, computed exactly on the host (the host knows the weights; these are
training images, never test images), at most ``calibration_vectors`` of them
(a seeded choice: a convolution gives one vector per position).  Several TDC
settings share each programmed tile: every setting gets its own windows,
tables and activations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from benchspec.tdc import TdcSetting
from labctl.plan import Plan

from ..host.network import BinaryNetwork, Forward, LayerProduct, merge, plain_product
from .layer import LayerJob, chip_layer, stack_pairs
from .session import Session
from .tiling import TileLayout


@dataclass(frozen=True, eq=False)
class ChipLayerPass:
    """A chip layer in a pass at one setting: its decoded pre-activations (n, outputs), its inputs and weights
    (``exact``: the exact pre-activations, computed on the host when asked); with ``keep_columns``, every tile
    column's exact and decoded full-column MAC, (row tiles, n, 64 x column tiles), padding columns last
    (decoded NaN there)."""

    preactivations: np.ndarray
    layer: int
    inputs: np.ndarray
    weights: np.ndarray
    ideal: np.ndarray | None = None
    decoded: np.ndarray | None = None

    @property
    def exact(self) -> np.ndarray:
        """The exact pre-activations (n, outputs) of the layer's inputs (host work: ask for it outside a plan's
        chip part, or through Compute)."""
        return plain_product(self.layer, self.inputs, self.weights)


@dataclass(frozen=True, eq=False)
class ChipPass:
    """A network run with layers on the chip: per TDC setting a Forward and its chip layers; and the first
    setting's calibration pairs, the exact and decoded full-column MACs (pairs, 64) of the calibration vectors
    of every tile calibrated in this pass."""

    forwards: list[Forward]
    layers: list[dict[int, ChipLayerPass]]
    calibration_ideal: np.ndarray
    calibration_decoded: np.ndarray


def seeded_subset(rng: np.random.Generator, pool: np.ndarray, count: int) -> np.ndarray:
    """At most ``count`` rows of ``pool`` drawn without replacement by ``rng``, kept in their order."""
    return pool[np.sort(rng.choice(len(pool), min(count, len(pool)), replace=False))]


def calibration_inputs(network: BinaryNetwork, images: np.ndarray, layers: Iterable[int],
                       limit: int | None = None) -> dict[int, np.ndarray]:
    """Exact inputs of ``layers`` for uint8 ``images``: {layer: (m, inputs) int8}, at most ``limit`` rows each
    (a choice seeded by the layer's index, kept in order)."""
    wanted, kept = set(layers), {}

    def capture(layer: int, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if layer in wanted:
            kept[layer] = x if limit is None else seeded_subset(np.random.default_rng(layer), x, limit)
        return plain_product(layer, x, weights)

    network.forward(images, capture)
    return kept


def chip_forward(session: Session, network: BinaryNetwork, images: np.ndarray, calibration_images: np.ndarray,
                 settings: list[TdcSetting], name: str = "default", layers: Iterable[int] | None = None,
                 host: LayerProduct = plain_product, batch: int | None = None, keep_columns: bool = False,
                 keep_preactivations: bool = True, calibration_vectors: int | None = None) -> Plan:
    """Classify uint8 ``images`` with ``layers`` (default: all) on the chip under every setting, the other
    layers by ``host``; returns a ChipPass (module doc)."""
    on_chip = set(range(len(network.weighted)) if layers is None else layers)
    x_calibration = calibration_inputs(network, calibration_images, on_chip, calibration_vectors)
    step = batch or max(len(images), 1)
    passes = [[network.layer_requests(images[s: s + step], keep_preactivations) for s in range(0, len(images), step)]
              for _ in settings]
    requests = [[next(p) for p in row] for row in passes]
    forwards: list[list[Forward]] = [[] for _ in settings]
    chip_layers: list[dict[int, ChipLayerPass]] = [{} for _ in settings]
    pairs = []
    while requests[0]:
        index, weights = requests[0][0][0], requests[0][0][2]
        if index in on_chip:
            xs = [np.concatenate([r[1] for r in row]) for row in requests]
            results = yield from chip_layer(session, index, weights, [
                LayerJob(s, x, x_calibration[index], keep_columns) for s, x in zip(settings, xs)], name)
            pairs.append((results[0].calibration_ideal, results[0].calibration_decoded))
            answers = []
            for k, (x, result) in enumerate(zip(xs, results)):
                columns = TileLayout(*weights.shape).column_macs(x, weights) if keep_columns else None
                chip_layers[k][index] = ChipLayerPass(result.preactivations, index, x, weights, columns,
                                                      result.columns)
                sizes = np.cumsum([len(r[1]) for r in requests[k]])[:-1]
                answers.append(np.split(result.preactivations, sizes))
        else:
            answers = [[host(*r) for r in row] for row in requests]
        following = []
        for k, row in enumerate(passes):
            step_requests = []
            for p, answer in zip(row, answers[k]):
                try:
                    step_requests.append(p.send(answer))
                except StopIteration as done:
                    forwards[k].append(done.value)
            following.append(step_requests)
        requests = following
    return ChipPass([merge(f) for f in forwards], chip_layers, *stack_pairs(pairs))

