"""The shipped VGG-8 and face networks still give their recorded software accuracy (numpy only, no torch), and
record the choice that made them the shipped ones: chosen on validation data by the rule they name."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from labctl.procedure import ParameterError

from procedures.networks.host.idx import load_mnist
from procedures.networks.host.npz import SHIPPED_FACES, SHIPPED_VGG8, load_network
from procedures.networks.host.selection import from_record
from procedures.networks.chip.tiling import tiled_product


def test_shipped_vgg8_reproduces_its_record() -> None:
    net = load_network(SHIPPED_VGG8)
    data = load_mnist()
    meta = net.metadata
    assert [layer.kind for layer in net.layers] == ["conv", "conv", "pool"] * 3 + ["dense"] * 2
    assert meta["data_digest"] == data.digest()
    assert meta["command"].startswith("python -m procedures.networks.training.train_vgg8")
    assert meta["test_accuracy"] >= 0.98
    few = meta["test_accuracy_first_1000"]
    assert net.accuracy(data.test_images[:1000], data.test_labels[:1000], batch=250) == few
    sample = data.test_images[:8]
    assert np.array_equal(net.forward(sample).scores, net.forward(sample, tiled_product).scores)


def test_shipped_face_network_reproduces_its_record() -> None:
    pytest.importorskip("skimage")
    from procedures.networks.host.faces import load_faces

    net = load_network(SHIPPED_FACES)
    meta = net.metadata
    faces = load_faces(meta["data_seed"])
    assert len(net.weighted) == 10 and meta["chip_layer"] == 7 and net.weighted[7].weights.shape == (576, 128)
    assert meta["data_digest"] == faces.digest()
    assert meta["command"].startswith("python -m procedures.networks.training.train_faces")
    assert net.accuracy(faces.test_images, faces.test_labels) == meta["test_accuracy"] >= 0.934


def _check_selection(record: dict, command: str) -> None:
    """A selection record: several candidates with their figures, the rule, and the pick the rule gives."""
    selection = from_record(record)
    assert len(selection.candidates) >= 2 and "validation" in selection.measured_on
    lead = selection.rank_by[0]
    assert record["pick"] == selection.pick.name
    assert selection.pick.figures[lead] == max(c.figures[lead] for c in selection.candidates)
    assert "test" not in " ".join(k for c in record["candidates"] for k in c)   # no test figure among the inputs
    if command:
        assert selection.pick.made_by == command                              # the shipped file is the pick


def test_the_shipped_vgg8_records_its_selection_on_validation_digits() -> None:
    meta = load_network(SHIPPED_VGG8).metadata
    _check_selection(meta["selection"], meta["command"])
    assert meta["selection"]["rank_by"][0] == "emulated_validation_accuracy"
    assert f"--validation {10000 - meta['training_digits']}" in meta["command"]


def test_the_shipped_face_network_records_its_selections_on_validation_data() -> None:
    pytest.importorskip("skimage")
    from procedures.face_detection import detection_settings

    net = load_network(SHIPPED_FACES)
    _check_selection(net.metadata["selection"], net.metadata["command"])
    _check_selection(net.metadata["detection_selection"], "")
    picked = from_record(net.metadata["detection_selection"]).pick.figures
    assert detection_settings(net, None, None) == (picked["margin"], picked["overlap"])
    assert detection_settings(net, 1.5, None) == (1.5, picked["overlap"])
    bare = dataclasses.replace(net, metadata={k: v for k, v in net.metadata.items() if k != "detection_selection"})
    with pytest.raises(ParameterError, match="parameter overlap: the network records no detection settings"):
        detection_settings(bare, 2.0, None)
