"""vgg8-emulation and face-detection through the engine on the built-in simulated bench.

The emulator is validated against the chip on a slice (the first two
layers): with error models measured on the network's own layers the chip's
and the emulation's pre-activation errors agree within statistical error,
and the same comparison rejects models that are wrong (the test can fail).
"""

from __future__ import annotations

import numpy as np
import pytest

from labctl.bench import default_bench
from labctl.engine import drive, execute
from labctl.procedure import ParameterError
from labctl.registry import get
from labctl.rundata import RunData, read_run
from labctl.store import Store
from procedures.networks.chip.error_model import ERROR_ARRAYS, ErrorModel
from procedures.networks.chip.stored import error_models_from_run
from procedures.networks.host.idx import load_mnist
from procedures.networks.host.npz import load_network
from procedures.vgg8_emulation import validate_emulation
from tests.networks.conv_nets import small_vgg


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "runs.sqlite") as s:
        yield s


@pytest.fixture
def small_network(tmp_path):
    return small_vgg(tmp_path / "small.npz")


def test_vgg8_emulation_validates_the_emulator_on_the_chip(store, small_network) -> None:
    params = {"network": str(small_network), "images": 40, "validation_images": 16, "model_images": 6}
    with default_bench(3) as bench:
        result = execute(get("vgg8-emulation"), params, bench, store, seed=1, rehearse_first=False)
        again = execute(get("vgg8-emulation"), {**params, "error_run": result.run_id, "validation_images": 0},
                        bench, store, seed=1, rehearse_first=False, draw_figures=False)
    s = result.summary
    assert result.status == "completed" and s["images"] == 40 and s["error_models"] == "per layer"
    assert s["paper_emulated_accuracy"] == 0.9886 and s["paper_software_accuracy"] == 0.9928
    assert s["validation_layer_agrees"], s                        # the network's own models: the chip agrees
    assert "validation_generic_agrees" in s                       # the generic model is compared too
    assert again.summary["error_models"] == "per layer" and again.summary["software_accuracy"] == s["software_accuracy"]
    data = read_run(store, result.run_id)
    assert len(data.all("layer_error_probabilities")) == 3 and s["array_layers"] == [1, 2, 3]
    assert set(error_models_from_run(data)) == {1, 2, 3}
    assert np.asarray(data.last("layer_error_histogram")).shape == (4, 121)
    assert sorted(p.name for p in store.plot_dir(result.run_id).iterdir()) == [
        "confusion.png", "layer_errors.png", "validation.png"]


def test_the_validation_rejects_wrong_error_models(store, small_network) -> None:
    """The analysis compares the chip's slice (recorded by the plan) with the emulation under each model: the
    network's own models agree, doubled errors and no errors at all do not."""
    params = {"network": str(small_network), "images": 8, "validation_images": 16, "model_images": 8}
    with default_bench(4) as bench:
        result = execute(get("vgg8-emulation"), params, bench, store, seed=1, rehearse_first=False,
                         draw_figures=False)
    data, net, digits = read_run(store, result.run_id), load_network(small_network), load_mnist()
    models = error_models_from_run(data)
    doubled = {k: ErrorModel(2 * m.errors, m.probabilities, m.counts) for k, m in models.items()}
    exact = ErrorModel.from_pairs(np.arange(-64, 65, 2), np.arange(-64, 65, 2))
    s = drive(validate_emulation(data, net, digits.test_images[:16], digits.test_labels[:16],
                                 {"layer": models, "doubled": doubled, "exact": exact}, 0), lambda message: None)
    assert s["validation_layer_agrees"] and not s["validation_doubled_agrees"] and not s["validation_exact_agrees"]
    assert s["validation_layer1_exact_rms"] == 0 < s["validation_layer1_chip_rms"]


def test_error_run_must_hold_an_error_model(store, small_network) -> None:
    with default_bench(3) as bench:
        other = execute(get("write-verify"), {}, bench, store, seed=1)
        with pytest.raises(ParameterError, match=f"run {other.run_id} recorded no error model"):
            execute(get("vgg8-emulation"), {"network": str(small_network), "error_run": other.run_id},
                    bench, store, seed=1)


def test_adapter_reads_a_generic_model_from_any_run() -> None:
    ideal = np.repeat(np.arange(-64, 65, 2), 50)
    model = ErrorModel.from_pairs(ideal, ideal + np.tile([-2, 0, 0, 2, 0], len(ideal) // 5))
    info = type("Info", (), {"id": 7})()
    data = RunData(info, {name: [a] for name, a in zip(ERROR_ARRAYS, model.arrays().values())}, {})
    back = error_models_from_run(data)
    assert isinstance(back, ErrorModel) and np.array_equal(back.probabilities, model.probabilities)
    with pytest.raises(ValueError, match="run 7 holds no error model"):
        error_models_from_run(RunData(info, {}, {}))


def test_face_detection_with_one_layer_on_the_chip(store) -> None:
    pytest.importorskip("skimage")
    with default_bench(2) as bench:
        result = execute(get("face-detection"), {"stride": 8}, bench, store, seed=1, rehearse_first=False)
    s = result.summary
    assert result.status == "completed" and s["chip_layer"] == 7 and s["paper_accuracy"] == 0.934
    assert s["chip_accuracy"] >= 0.92 and abs(s["chip_accuracy"] - s["software_accuracy"]) <= 0.02 + 1e-9
    assert s["test_patches"] == 2114 and s["test_faces"] == 30
    assert s["face_found"] == (s["best_overlap"] >= 0.5) and s["detections"] <= s["candidates"]
    picked = s["detection_selection"]["candidates"]
    assert (s["margin"], s["overlap"]) in {(c["margin"], c["overlap"]) for c in picked if c["name"] ==
                                           s["detection_selection"]["pick"]}
    low, high = s["chip_face_accuracy_ci95"]
    assert low <= s["chip_face_accuracy"] <= high and high - low > 0.1      # 30 faces: a wide interval
    assert sorted(p.name for p in store.plot_dir(result.run_id).iterdir()) == [
        "chip_layer_errors.png", "confusion.png", "detection.png"]


def test_a_face_run_on_part_of_the_test_set_classifies_evenly_spaced_patches_of_both_classes() -> None:
    from procedures.face_detection import _test_subset

    labels = np.repeat([1, 0], [30, 2084])                          # sorted: every face first
    picked = _test_subset(labels, 96)
    assert len(picked) == len(set(picked)) == 96 and picked[0] == 0 and picked[-1] == 2113
    assert 0 < labels[picked].sum() < 96                            # both classes
    assert np.array_equal(_test_subset(labels, None), np.arange(2114))
    assert np.array_equal(_test_subset(labels, 5000), np.arange(2114))
