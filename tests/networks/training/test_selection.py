"""Selection on validation data: the rule picks the best validation figure, the record round-trips, and the
selection commands never read test data (test arrays that raise when touched)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from procedures.networks.host.idx import MnistData, load_mnist
from procedures.networks.host.network import BinaryNetwork
from procedures.networks.host.npz import load_network, save_network
from procedures.networks.host.selection import Candidate, Selection, describe, from_record, grid, markdown
from procedures.networks.training import select_vgg8
from tests.networks.conv_nets import small_vgg


class Untouchable:
    """Stands for test data: any use of it fails the test."""

    def _fail(self, *args, **kwargs):
        raise AssertionError("the selection read test data")

    __array__ = __len__ = __getitem__ = __iter__ = _fail

    def __getattr__(self, name):
        self._fail()


def test_the_rule_picks_the_highest_validation_figure_then_breaks_ties_in_order() -> None:
    a = Candidate("a", "cmd a", {"val": 0.97, "other": 0.5})
    b = Candidate("b", "cmd b", {"val": 0.98, "other": 0.1})
    c = Candidate("c", "cmd c", {"val": 0.98, "other": 0.2})
    d = Candidate("d", "cmd d", {"val": 0.98, "other": 0.2})
    assert Selection((a, b), ("val",), "v").pick is b
    assert Selection((a, b, c, d), ("val", "other"), "v").pick is c         # tie on val: other; then first listed
    assert Selection((d, c), ("val", "other"), "v").pick is d
    record = Selection((a, b, c), ("val", "other"), "held-out digits").record()
    assert record["pick"] == "c" and record["measured_on"] == "held-out digits"
    assert record["candidates"][0] == {"name": "a", "made_by": "cmd a", "val": 0.97, "other": 0.5}
    assert from_record(record).pick.name == "c"
    table = markdown(record)
    assert table[0] == "| candidate | made by | val | other |" and table[4] == "| **c** | `cmd c` | 0.98 | 0.2 |"
    assert describe(record, "network")[0].startswith("  network: c (val 0.98; others: a 0.97, b 0.98)")
    with pytest.raises(ValueError, match="lack the figures"):
        Selection((a, Candidate("e", "", {"other": 1.0})), ("val",), "v")
    assert grid(("m", "o"), ((0, 1), (0.1,))) == [{"m": 0.0, "o": 0.1}, {"m": 1.0, "o": 0.1}]


def _blind(data, digest: str, **replaced):
    """``data`` with its test arrays untouchable and its digest the real one (computed beforehand)."""
    cls = type(data)
    blind = dataclasses.make_dataclass(f"Blind{cls.__name__}", [], bases=(cls,), frozen=True, eq=False,
                                       namespace={"digest": lambda self: digest})
    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    return blind(**{**fields, "test_images": Untouchable(), "test_labels": Untouchable(), **replaced})


def test_the_vgg8_selection_reads_validation_digits_only(tmp_path) -> None:
    data = load_mnist()
    held_out = 20
    paths = []
    for name, sign in (("plain", 1.0), ("flipped", -1.0)):
        net = load_network(small_vgg(tmp_path / f"{name}.npz"))
        output = net.weighted[-1]
        layers = (*net.layers[:-1], dataclasses.replace(output, activation=dataclasses.replace(
            output.activation, scale=sign * output.activation.scale)))
        meta = {"data_digest": data.digest(), "training_digits": len(data.train_images) - held_out,
                "command": f"train {name}", "test_accuracy": Untouchable.__name__}
        paths.append(save_network(BinaryNetwork(net.encoding, net.input_shape, layers, meta), tmp_path / f"{name}.npz"))
    blind: MnistData = _blind(data, data.digest())
    selection = select_vgg8.choose(paths, blind, held_out, model_digits=1, calibration_digits=4,
                                   calibration_vectors=64)
    figures = [c.figures["emulated_validation_accuracy"] for c in selection.candidates]
    assert [c.name for c in selection.candidates] == ["plain", "flipped"] and figures[0] != figures[1]
    assert selection.pick.name == ["plain", "flipped"][int(np.argmax(figures))]
    assert selection.pick.made_by == f"train {selection.pick.name}"
    assert "20 of the 10000 training digits held out" in selection.measured_on
    with pytest.raises(ValueError, match="train_vgg8 --validation 30"):
        select_vgg8.choose(paths, blind, 30)


def test_the_face_selections_read_validation_data_only(tmp_path, monkeypatch) -> None:
    pytest.importorskip("skimage")
    from procedures.networks.host.faces import FACE, load_faces
    from procedures.networks.host.npz import SHIPPED_FACES
    from procedures.networks.training import select_faces

    data = load_faces(0)
    keep = np.concatenate([np.flatnonzero(data.validation_labels == FACE), np.arange(-30, 0) % len(data.validation_labels)])
    blind = _blind(data, data.digest(), validation_images=data.validation_images[keep],
                   validation_labels=data.validation_labels[keep])
    monkeypatch.setattr(select_faces, "CALIBRATION_PATCHES", 64)
    shipped = load_network(SHIPPED_FACES)
    paths = []
    for name, sign in (("plain", 1.0), ("flipped", -1.0)):
        output = shipped.weighted[-1]
        layers = (*shipped.layers[:-1], dataclasses.replace(output, activation=dataclasses.replace(
            output.activation, scale=sign * output.activation.scale)))
        meta = {**shipped.metadata, "data_digest": data.digest(), "command": f"train {name}"}
        paths.append(save_network(BinaryNetwork(shipped.encoding, shipped.input_shape, layers, meta),
                                  tmp_path / f"{name}.npz"))
    selection = select_faces.choose_network(paths, blind, [1])
    ranked = [c.figures["chip_validation_balanced_mean"] for c in selection.candidates]
    assert selection.pick.name == "plain" and ranked[0] > ranked[1]
    assert "40 validation patches (10 faces)" in selection.measured_on
    detection = select_faces.choose_detection(load_network(paths[0]), blind, 1, stride=25)
    f1 = [c.figures["f1"] for c in detection.candidates]
    assert detection.pick.figures["f1"] == max(f1)
    assert len(detection.candidates) == len(select_faces.MARGINS) * len(select_faces.OVERLAPS)
