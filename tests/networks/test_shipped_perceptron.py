"""The shipped default perceptron still gives its recorded accuracy on the shipped test digits."""

from __future__ import annotations

import numpy as np

from procedures.networks.host.idx import load_mnist
from procedures.networks.host.npz import SHIPPED_HW_PERCEPTRON, SHIPPED_PERCEPTRON, load_network
from procedures.networks.chip.tiling import tiled_product

PAPER_SOFTWARE_ACCURACY = 0.9524


def test_shipped_perceptron_reproduces_its_record() -> None:
    net = load_network(SHIPPED_PERCEPTRON)
    data = load_mnist()
    meta = net.metadata
    assert net.widths == [784, 512, 10] and not meta["hardware_aware"]
    assert meta["data_digest"] == data.digest() and meta["training_digits"] == 10000
    assert "python -m procedures.networks.train_mlp" in meta["command"]
    accuracy = net.accuracy(data.test_images, data.test_labels)
    assert accuracy == meta["test_accuracy"] >= PAPER_SOFTWARE_ACCURACY
    few = data.test_images[:500]
    assert np.array_equal(net.forward(few).scores, net.forward(few, tiled_product).scores)


def test_the_shipped_hardware_aware_perceptron_says_how_and_with_what_it_was_trained() -> None:
    plain, aware = load_network(SHIPPED_PERCEPTRON), load_network(SHIPPED_HW_PERCEPTRON)
    meta, data = aware.metadata, load_mnist()
    assert meta["hardware_aware"] and not plain.metadata["hardware_aware"]
    assert meta["training"] == plain.metadata["training"] and aware.widths == plain.widths
    assert meta["data_digest"] == data.digest() and "--error-model em_die100.npz" in meta["command"]
    assert "die seed 100" in meta["error_model_source"] and "not among the ablation's dies" in meta["error_model_source"]
    assert aware.accuracy(data.test_images, data.test_labels) == meta["test_accuracy"]
