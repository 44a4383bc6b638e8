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

    python benchmarks/networks.py

The last line is JSON: vgg8_software_accuracy, vgg8_emulated_accuracy,
emulation_s, numpy_s, ratio, face_chip_accuracy, face_software_accuracy.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

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
    vgg8, digits = load_network(SHIPPED_VGG8), load_mnist()
    faces_net, faces = load_network(SHIPPED_FACES), load_faces(0)
    with default_bench(DIE) as bench:
        session = run_direct(powered(open_session()), bench)
        models = run_direct(measure_layer_models(
            session, vgg8, digits.train_images[:MODEL_DIGITS],
            digits.train_images[MODEL_DIGITS: MODEL_DIGITS + CALIBRATION_IMAGES], array_layers(vgg8), SETTING,
            calibration_vectors=CALIBRATION_VECTORS), bench)
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
    print(json.dumps({"vgg8_software_accuracy": software, "vgg8_emulated_accuracy": emulated,
                      "emulation_s": round(emulation_s, 1), "numpy_s": round(numpy_s, 1),
                      "ratio": round(emulation_s / numpy_s, 2), "face_chip_accuracy": face_chip,
                      "face_software_accuracy": face_software, "images": int(len(digits.test_images))}))


if __name__ == "__main__":
    main()
