"""Training: seeded determinism, a small fast run that learns, hardware-aware training that tolerates errors."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from procedures.networks.training.augment import Augmentation
from procedures.networks.chip.emulation import EmulatedProduct
from procedures.networks.host.encoding import InputEncoding
from procedures.networks.chip.error_model import ErrorModel
from procedures.networks.host.idx import load_mnist
from procedures.networks.host.npz import load_network, network_arrays
from procedures.networks.training.train_mlp import TrainingConfig, main, split_validation, train


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


def gaussian_model(sigma: float) -> ErrorModel:
    """Even errors, a discretised Gaussian of ``sigma`` MAC units at every ideal MAC."""
    values = np.arange(-30, 31, 2)
    w = np.exp(-0.5 * (values / sigma) ** 2)
    return ErrorModel(values.astype(np.int32), np.tile(w / w.sum(), (1, 129, 1)), np.ones((1, 129), np.int64))


def test_training_is_deterministic_under_a_seed(mnist) -> None:
    config = TrainingConfig(hidden=64, epochs=2, encoding=InputEncoding("bitplanes", 2),
                            augmentation=Augmentation(elastic_alpha=20), seed=5)
    images, labels = mnist.train_images[:1000], mnist.train_labels[:1000]
    runs = [train(config, images, labels).network for _ in range(2)]
    other = train(replace(config, seed=6), images, labels).network
    a, b, c = (network_arrays(n) for n in (*runs, other))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layer0_weights"], c["layer0_weights"])


def test_a_small_run_learns(mnist) -> None:
    config = TrainingConfig(hidden=256, epochs=5, learning_rate=0.05, augmentation=None, seed=1)
    result = train(config, mnist.train_images[:5000], mnist.train_labels[:5000],
                   validation=(mnist.train_images[9000:], mnist.train_labels[9000:]))
    net = result.network
    assert net.widths == [784, 256, 10] and net.metadata["training"]["hidden"] == 256
    assert net.accuracy(mnist.test_images[:2000], mnist.test_labels[:2000]) > 0.86
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4, 5]
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.history[-1]["validation_accuracy"] > 0.86


def test_hardware_aware_training_tolerates_the_errors(mnist) -> None:
    """Trained with the emulated errors, the network keeps its accuracy under them; trained without, it loses it."""
    model = gaussian_model(6.0)
    config = TrainingConfig(hidden=256, epochs=4, learning_rate=0.05, augmentation=None, seed=0)
    images, labels = mnist.train_images[:4000], mnist.train_labels[:4000]
    plain = train(config, images, labels).network
    aware = train(config, images, labels, error_model=model).network
    assert aware.metadata["hardware_aware"] and not plain.metadata["hardware_aware"]
    test = mnist.test_images[:2000], mnist.test_labels[:2000]
    plain_emulated = plain.accuracy(*test, EmulatedProduct(model, 1))
    aware_emulated = aware.accuracy(*test, EmulatedProduct(model, 1))
    assert aware_emulated > plain_emulated + 0.05
    assert aware_emulated > 0.8


def test_validation_split_is_disjoint_and_seeded() -> None:
    train_idx, val_idx = split_validation(100, 20)
    assert len(val_idx) == 20 and not set(train_idx) & set(val_idx) and len(train_idx) == 80
    assert np.array_equal(val_idx, split_validation(100, 20)[1])
    assert not np.array_equal(val_idx, split_validation(100, 20, seed=1)[1])


def test_command_line_saves_a_network_with_its_provenance(tmp_path, capsys) -> None:
    out = tmp_path / "net.npz"
    summary = main(["--hidden", "64", "--epochs", "1", "--no-augmentation", "--seed", "3", "--out", str(out)])
    net = load_network(out)
    assert net.metadata["test_accuracy"] == summary["test_accuracy"] > 0.5
    assert net.metadata["training"]["seed"] == 3 and net.metadata["data_digest"] == summary["data_digest"]
    assert net.metadata["command"].endswith(f"train_mlp --hidden 64 --epochs 1 --no-augmentation --seed 3 --out {out}")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["saved"] == str(out)
