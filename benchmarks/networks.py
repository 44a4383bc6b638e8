"""Emulated VGG-8 against plain numpy inference of the 10,000 MNIST test digits; the face network on the chip.

In one run, on the built-in simulated bench (die 1):

1. the MAC error models measured on the chip as vgg8-emulation measures them
   (networks/chip/error_runs.py: the VGG-8's array layers, all but the first, on
   the chip for 50 training digits, one model per layer);
2. the shipped VGG-8's plain numpy inference of the 10,000 test digits, timed;
3. the same network emulated with the measured models (every 64-row partial
   sum of every array layer with a drawn error, seed 0), timed;
4. the shipped face network's test patches in software and with its chip
   layer on the simulated chip (needs the ``faces`` extra).

    python benchmarks/networks.py [--short]

``--short`` is the gate's version: error models from 2 digits with the
smallest calibration (4 digits, 64 vectors a tile), 200 test digits, no face
network.  The last line is JSON: vgg8_software_accuracy,
vgg8_emulated_accuracy, emulation_s, numpy_s, ratio (goal <= 2),
numpy_over_emulation (the gate's figure), face_chip_accuracy,
face_software_accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from timing import write_results

# this file's name is the package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from labctl.bench import default_bench  # noqa: E402
from labctl.engine import run_direct  # noqa: E402
from labctl.stubs import ensure_powered  # noqa: E402
from procedures.networks.chip.emulation import emulation_product  # noqa: E402
from procedures.networks.chip.error_runs import measure_layer_models  # noqa: E402
from procedures.networks.chip.network import chip_forward  # noqa: E402
from procedures.networks.chip.session import open_session  # noqa: E402
from procedures.networks.host.faces import load_faces  # noqa: E402
from procedures.networks.host.idx import load_mnist  # noqa: E402
from procedures.networks.host.npz import SHIPPED_FACES, SHIPPED_VGG8, load_network  # noqa: E402
from benchspec.tdc import TdcSetting  # noqa: E402
from procedures.vgg8_emulation import array_layers, vgg8_emulation  # noqa: E402

DIE = 1
BATCH = 250
MODEL_DIGITS = 50
_VGG8 = {name: p.default for name, p in vgg8_emulation.parameters.items()}    # the procedure's defaults
CALIBRATION_VECTORS = _VGG8["calibration_vectors"]
CALIBRATION_IMAGES = _VGG8["calibration_images"]     # training digits (after the model digits) that calibrate the tiles
SETTING = TdcSetting(_VGG8["lsb"], _VGG8["windows"])  # (face-detection reads one window)


def powered(plan):
    """The plan after powering the chip."""
    yield from ensure_powered()
    return (yield from plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the gate's version: 2 model digits, 200 test digits")
    args = parser.parse_args()
    model_digits, tests = (2, 200) if args.short else (MODEL_DIGITS, None)
    calibration = (4, 64) if args.short else (CALIBRATION_IMAGES, CALIBRATION_VECTORS)
    vgg8, digits = load_network(SHIPPED_VGG8), load_mnist()
    test_images, test_labels = digits.test_images[:tests], digits.test_labels[:tests]
    with default_bench(DIE) as bench:
        session = run_direct(powered(open_session()), bench)
        models = run_direct(measure_layer_models(
            session, vgg8, digits.train_images[:model_digits],
            digits.train_images[model_digits: model_digits + calibration[0]], array_layers(vgg8), SETTING,
            calibration_vectors=calibration[1]), bench)
        if args.short:
            _short(vgg8, models, test_images, test_labels)
            return
        faces_net, faces = load_network(SHIPPED_FACES), load_faces(0)
        chip_layer = [int(faces_net.metadata["chip_layer"])]
        patches = faces.train_images[np.random.default_rng(0).choice(len(faces.train_images), 512, replace=False)]
        faces_pass = run_direct(chip_forward(session, faces_net, faces.test_images, patches, [TdcSetting(0.4e-9)],
                                             "faces", chip_layer), bench)
    on_chip = faces_pass.forwards[0]
    face_software = faces_net.accuracy(faces.test_images, faces.test_labels)
    face_chip = float((on_chip.predictions == faces.test_labels).mean())

    start = time.perf_counter()
    software = vgg8.accuracy(digits.test_images, digits.test_labels, batch=BATCH)
    numpy_s = time.perf_counter() - start
    start = time.perf_counter()
    product = emulation_product(models, 0, frozenset(models))
    emulated = vgg8.accuracy(digits.test_images, digits.test_labels, product, batch=BATCH)
    emulation_s = time.perf_counter() - start

    print(f"VGG-8 software  {100 * software:6.2f} %  numpy      {numpy_s:7.1f} s")
    print(f"VGG-8 emulated  {100 * emulated:6.2f} %  emulation  {emulation_s:7.1f} s")
    print(f"faces software  {100 * face_software:6.2f} %  on chip {100 * face_chip:6.2f} %")
    write_results("networks", {"vgg8_software_accuracy": software, "vgg8_emulated_accuracy": emulated,
                                "emulation_s": round(emulation_s, 1), "numpy_s": round(numpy_s, 1),
                                "ratio": round(emulation_s / numpy_s, 2),
                                "numpy_over_emulation": round(numpy_s / emulation_s, 4),
                                "face_chip_accuracy": face_chip, "face_software_accuracy": face_software,
                                "images": int(len(digits.test_images))})


def _short(vgg8, models, images: np.ndarray, labels: np.ndarray) -> None:
    """The gate's figures: numpy inference and emulation of a few digits, side by side."""
    start = time.perf_counter()
    vgg8.accuracy(images, labels, batch=BATCH)
    numpy_s = time.perf_counter() - start
    start = time.perf_counter()
    vgg8.accuracy(images, labels, emulation_product(models, 0, frozenset(models)), batch=BATCH)
    emulation_s = time.perf_counter() - start
    write_results("networks", {"emulation_s": round(emulation_s, 2), "numpy_s": round(numpy_s, 2),
                               "ratio": round(emulation_s / numpy_s, 2),
                               "numpy_over_emulation": round(numpy_s / emulation_s, 4), "images": int(len(images))},
                  short=True)


if __name__ == "__main__":
    main()
