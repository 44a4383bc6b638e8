"""The shipped VGG-8 and face networks still give their recorded software accuracy (numpy only, no torch)."""

from __future__ import annotations

import numpy as np
import pytest

from procedures.networks.host.idx import load_mnist
from procedures.networks.host.npz import SHIPPED_FACES, SHIPPED_VGG8, load_network
from procedures.networks.chip.tiling import tiled_product


def test_shipped_vgg8_reproduces_its_record() -> None:
    net = load_network(SHIPPED_VGG8)
    data = load_mnist()
    meta = net.metadata
    assert [layer.kind for layer in net.layers] == ["conv", "conv", "pool"] * 3 + ["dense"] * 2
    assert meta["data_digest"] == data.digest() and meta["training_digits"] == 10000
    assert meta["command"].startswith("python -m procedures.networks.train_vgg8")
    assert meta["test_accuracy"] >= 0.99                                      # the target, 10,000 digits
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
    assert meta["command"].startswith("python -m procedures.networks.train_faces")
    assert net.accuracy(faces.test_images, faces.test_labels) == meta["test_accuracy"] >= 0.934
