"""PyTorch training (the ``train`` extra): binary weights and activations, exported bit-exactly to the numpy network."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.networks.host.test_idx import mnist_folder

torch = pytest.importorskip("torch")

from procedures.networks.host.encoding import InputEncoding  # noqa: E402
from procedures.networks.host.idx import load_mnist  # noqa: E402
from procedures.networks.host.npz import load_network  # noqa: E402
from procedures.networks.training.command import Architecture, Schedule  # noqa: E402
from procedures.networks.training.torch_bnn import encode, fit, to_network  # noqa: E402
from procedures.networks.training.train_vgg8 import main as train_vgg8  # noqa: E402

TINY = Architecture((28, 28), InputEncoding("bitplanes", 2), (("conv", 4), ("pool", 2), ("conv", 8), ("pool", 2),
                                                              ("dense", 16), ("dense", 10)))


@pytest.fixture(scope="module")
def digits():
    data = load_mnist()
    return data.train_images[:600], data.train_labels[:600]


def test_tiny_training_exports_the_same_arithmetic(digits) -> None:
    torch.set_num_threads(1)
    images, labels = digits
    trained = fit(TINY, Schedule(epochs=2, batch=50, learning_rate=0.01, seed=3), images[:500], labels[:500])
    network = to_network(trained.model, images[:500], {"test": True})
    assert network.accuracy(images[500:], labels[500:]) > 0.5
    with torch.no_grad():
        a0 = trained.model.preactivation(0, encode(TINY, images[500:520])).permute(0, 2, 3, 1)
    numpy_a0 = network.forward(images[500:520]).preactivations[0]
    assert np.array_equal(numpy_a0, a0.reshape(-1, 4).numpy().astype(np.int64))
    again = fit(TINY, Schedule(epochs=2, batch=50, learning_rate=0.01, seed=3), images[:500], labels[:500])
    assert all(torch.equal(a, b) for a, b in zip(trained.model.parameters(), again.model.parameters()))


def test_training_command_saves_provenance(tmp_path, capsys) -> None:
    out, folder = tmp_path / "vgg.npz", mnist_folder(tmp_path, train=200, test=50)
    summary = train_vgg8(["--data", str(folder), "--channels", "4,4,4,4,4,4", "--hidden", "16", "--epochs", "1",
                          "--threads", "1", "--out", str(out)])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["saved"] == str(out)
    network = load_network(out)
    assert [layer.kind for layer in network.layers] == ["conv", "conv", "pool"] * 3 + ["dense"] * 2
    meta = network.metadata
    assert meta["command"].startswith("python -m procedures.networks.training.train_vgg8 --data")
    assert meta["seed"] == 0 and meta["training_digits"] == 200 and meta["data_digest"] == summary["data_digest"]
    data = load_mnist(folder)
    assert meta["test_accuracy"] == summary["test_accuracy"] == network.accuracy(data.test_images, data.test_labels)
