"""A binary network classified on the chip: every layer through ``chip_runtime``, thresholds and argmax on the host.

Layer by layer (a layer needs all of the previous layer's activations): the
first layer streams every bit-plane of every image through the same tiles
and the host adds the planes' pre-activations with weights 2**p; each hidden
layer's activations (host thresholds on the decoded pre-activations) are the
next layer's inputs.  The calibration vectors of a layer are the exact
activations of the calibration images (the host knows the weights; these are
training digits, never test digits).  Several TDC settings share each
programmed tile: every setting gets its own windows, tables and activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labctl.plan import Plan

from .chip_runtime import LayerJob, Session, chip_layer
from .network import BinaryNetwork, Forward, combine_planes, plain_product, plane_vectors
from .tile_readout import TdcSetting


@dataclass(frozen=True, eq=False)
class ChipPass:
    """A network run on the chip: a Forward per TDC setting, and the first setting's calibration pairs
    (exact and decoded full-column MACs, (pairs, 64)) of every tile calibrated in this pass."""

    forwards: list[Forward]
    ideal: np.ndarray
    decoded: np.ndarray


def chip_forward(session: Session, network: BinaryNetwork, images: np.ndarray, calibration_images: np.ndarray,
                 settings: list[TdcSetting], name: str = "default") -> Plan:
    """Classify uint8 ``images`` on the chip under every setting; returns a ChipPass."""
    encoding = network.encoding
    first = network.layers[0]
    results = yield from chip_layer(session, 0, first, [
        LayerJob(s, plane_vectors(encoding, images), plane_vectors(encoding, calibration_images))
        for s in settings], name)
    preactivations = [[combine_planes(encoding, r.preactivations)] for r in results]
    ideal, decoded = [results[0].ideal], [results[0].decoded]
    calibration = combine_planes(encoding, plain_product(0, plane_vectors(encoding, calibration_images), first))
    for index, hidden in enumerate(network.hidden):
        weights = network.layers[index + 1]
        x_calibration = hidden.activate(calibration)
        results = yield from chip_layer(session, index + 1, weights, [
            LayerJob(s, hidden.activate(a[-1]), x_calibration) for s, a in zip(settings, preactivations)], name)
        for a, r in zip(preactivations, results):
            a.append(r.preactivations)
        ideal.append(results[0].ideal)
        decoded.append(results[0].decoded)
        calibration = plain_product(index + 1, x_calibration, weights)
    forwards = []
    for a in preactivations:
        scores = network.output.scores(a[-1])
        forwards.append(Forward(a, scores, scores.argmax(axis=1)))
    return ChipPass(forwards, np.concatenate(ideal), np.concatenate(decoded))
