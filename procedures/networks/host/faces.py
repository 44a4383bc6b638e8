"""Face / non-face patches (25 x 25 grey levels) from scikit-image's bundled data (the ``faces`` extra).

Nothing is downloaded: ``skimage.data.lfw_subset()`` ships 100 faces and
100 non-faces (25 x 25, from Labeled Faces in the Wild), and scikit-image
bundles photographs.  Fixed construction, three splits (training,
validation, test):

- **Faces**: ``lfw_subset()[:100]``; non-faces ``lfw_subset()[100:]``.
  Grey levels 0..1 become uint8 (rounded 255 x).
- **Photo patches**: the photographs in PHOTOS (none shows a person's face;
  ``camera``, ``astronaut`` and the cat ``chelsea`` are left out; of the
  stereo pair ``stereo_motorcycle`` only the left image), in grey
  (luminance), rescaled by each factor of SCALES (anti-aliased: the scales
  of the detection pyramid), cut into 25 x 25 patches on a grid of GRID
  pixels from the top-left corner; patches of one grey level (flat
  background, the same in many photographs) are left out; PATCHES_PER_PHOTO
  of the rest per photograph and split drawn with ``seed`` (all if fewer).
- **Split**, deterministic under ``seed``: of the 100 faces and of the 100
  LFW non-faces (each a seeded permutation) VALIDATION_FACES /
  VALIDATION_NONFACES are validation patches, TEST_FACES / TEST_NONFACES
  test patches, the rest training; photograph i gives patches to
  SPLITS[i % 3] only.  So a face, and everything cut from one photograph,
  is in one split only.
- **Augmentation**, training faces only, after the split: every face, and
  its mirror image, shifted by -2, 0, +2 pixels in each direction (edge
  pixels repeated): 18 patches per face.  Validation and test are never
  augmented.

Patches cut from one photograph overlap and share its texture, so they are
not independent draws: an interval over them is narrower than the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import functools
import hashlib
from typing import Any

import numpy as np

SIZE = 25
PHOTOS = ("coffee", "rocket", "brick", "hubble_deep_field", "moon", "coins", "gravel", "grass", "text",
          "clock", "page", "retina", "cell", "horse", "logo", "immunohistochemistry", "colorwheel", "checkerboard",
          "motorcycle", "microaneurysms", "phantom")
SPLITS = ("train", "validation", "test")       # photograph i gives patches to SPLITS[i % 3]
SCALES = (0.5, 0.35, 0.25, 0.18, 0.125)
GRID = 12                      # pixels between neighbouring patches of the grid (half a patch: they overlap)
PATCHES_PER_PHOTO = {"train": 300, "validation": 400, "test": 400}
VALIDATION_FACES = VALIDATION_NONFACES = 10
TEST_FACES = TEST_NONFACES = 30
SHIFTS = (-2, 0, 2)
FACE, NONFACE = 1, 0

#: bundled images whose loader is not ``skimage.data.<name>()``
_LOADERS: dict[str, Callable[[Any], np.ndarray]] = {
    "motorcycle": lambda data: data.stereo_motorcycle()[0],
    "phantom": lambda data: data.shepp_logan_phantom(),
}


def _grey(image: np.ndarray) -> np.ndarray:
    """Grey levels 0..1 (float64) of a grey or RGB(A) image."""
    from skimage.color import rgb2gray
    from skimage.util import img_as_float

    image = img_as_float(image)
    if image.ndim == 3:
        image = rgb2gray(image[..., :3])
    return image


def to_uint8(grey: np.ndarray) -> np.ndarray:
    """uint8 grey levels of 0..1 floats (rounded 255 x)."""
    return np.clip(np.rint(255.0 * grey), 0, 255).astype(np.uint8)


def photo(name: str) -> np.ndarray:
    """A bundled scikit-image photograph in grey levels 0..1 (float64)."""
    from skimage import data

    return _grey(_LOADERS[name](data) if name in _LOADERS else getattr(data, name)())


def photo_split(name: str) -> str:
    """The split a photograph of PHOTOS gives patches to."""
    return SPLITS[PHOTOS.index(name) % 3]


def photo_patches(name: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` 25 x 25 uint8 patches (fewer if the photograph has fewer) of one photograph, see module doc."""
    from skimage.transform import rescale

    grey = photo(name)
    patches = []
    for scale in SCALES:
        small = rescale(grey, scale, anti_aliasing=True)
        if min(small.shape) < SIZE:
            continue
        grid = np.lib.stride_tricks.sliding_window_view(small, (SIZE, SIZE))[::GRID, ::GRID]
        patches.append(grid.reshape(-1, SIZE, SIZE))
    every = to_uint8(np.concatenate(patches))
    every = every[every.max(axis=(1, 2)) > every.min(axis=(1, 2))]
    chosen = np.sort(rng.permutation(len(every))[:count])
    return every[chosen]


def augment_faces(faces: np.ndarray) -> np.ndarray:
    """Mirrors and shifts of uint8 faces (n, 25, 25): (18 n, 25, 25), face by face."""
    out = []
    padded = np.pad(faces, ((0, 0), (2, 2), (2, 2)), mode="edge")
    for face in padded:
        for image in (face, face[:, ::-1]):
            for dy in SHIFTS:
                for dx in SHIFTS:
                    out.append(image[2 + dy: 2 + dy + SIZE, 2 + dx: 2 + dx + SIZE])
    return np.stack(out)


@dataclass(frozen=True, eq=False)
class FaceData:
    """Training, validation and test patches (n, 25, 25) uint8 with labels (1 face, 0 non-face), and the
    indices into ``lfw_subset()[:100]`` of each split's faces.  In every split the faces come first."""

    train_images: np.ndarray
    train_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    train_faces: np.ndarray
    validation_faces: np.ndarray
    test_faces: np.ndarray

    def digest(self) -> str:
        """SHA-256 of the six arrays: the data's identity in a trained network's provenance."""
        h = hashlib.sha256()
        for a in (self.train_images, self.train_labels, self.validation_images, self.validation_labels,
                  self.test_images, self.test_labels):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


def _labelled(positives: np.ndarray, negatives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.concatenate([np.full(len(positives), FACE), np.full(len(negatives), NONFACE)]).astype(np.uint8)
    return np.concatenate([positives, negatives]), labels


@functools.lru_cache(maxsize=4)
def load_faces(seed: int = 0) -> FaceData:
    """The face / non-face data set of the module doc, deterministic under ``seed``.  Built once per process
    and seed (2-3 s from the bundled photographs); its arrays are read-only, as every caller shares them."""
    from skimage import data

    lfw = to_uint8(data.lfw_subset())
    faces, nonfaces = lfw[:100], lfw[100:]
    face_rng, nonface_rng, photo_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    held_out = (VALIDATION_FACES, TEST_FACES)
    face_parts = np.split(face_rng.permutation(100), np.cumsum(held_out))
    nonface_parts = np.split(nonface_rng.permutation(100), np.cumsum((VALIDATION_NONFACES, TEST_NONFACES)))
    face_index = dict(zip(("validation", "test", "train"), (np.sort(p) for p in face_parts)))
    nonface_index = dict(zip(("validation", "test", "train"), (np.sort(p) for p in nonface_parts)))
    photos: dict[str, list[np.ndarray]] = {split: [] for split in SPLITS}
    for name in PHOTOS:
        split = photo_split(name)
        photos[split].append(photo_patches(name, PATCHES_PER_PHOTO[split], photo_rng))
    parts = {}
    for split in SPLITS:
        positives = faces[face_index[split]]
        parts[split] = _labelled(augment_faces(positives) if split == "train" else positives,
                                 np.concatenate([nonfaces[nonface_index[split]], *photos[split]]))
    arrays = [*parts["train"], *parts["validation"], *parts["test"],
              face_index["train"], face_index["validation"], face_index["test"]]
    for array in arrays:
        array.flags.writeable = False
    return FaceData(*arrays)
