"""Face / non-face patches (25 x 25 grey levels) from scikit-image's bundled data (the ``faces`` extra).

Nothing is downloaded: ``skimage.data.lfw_subset()`` ships 100 faces and
100 non-faces (25 x 25, from Labeled Faces in the Wild), and scikit-image
bundles photographs.  Fixed construction:

- **Faces**: ``lfw_subset()[:100]``; non-faces ``lfw_subset()[100:]``.
  Grey levels 0..1 become uint8 (rounded 255 x).
- **Photo patches**: the photographs in PHOTOS (none shows a person's face;
  ``camera``, ``astronaut`` and the cat ``chelsea`` are left out), in grey
  (luminance), rescaled by each factor of SCALES (anti-aliased: the scales
  of the detection pyramid), cut into 25 x 25 patches on a grid of GRID
  pixels from the top-left corner;
  PATCHES_PER_PHOTO of them per training photograph and
  TEST_PATCHES_PER_PHOTO per test photograph drawn with ``seed`` (all if fewer).
- **Split**, deterministic under ``seed``: 40 of the 100 faces and 40 of
  the 100 LFW non-faces (a seeded permutation) are test patches, the rest
  training; every third photograph (PHOTOS[2::3]) gives test patches only,
  the others training patches only.  So a face, and everything cut from one
  photograph, is on one side only.  Test set: 40 faces, 40 LFW non-faces,
  120 photograph patches.
- **Augmentation**, training faces only, after the split: every face, and
  its mirror image, shifted by -2, 0, +2 pixels in each direction (edge
  pixels repeated): 18 patches per face.  The test side is never augmented.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib

import numpy as np

SIZE = 25
PHOTOS = ("coffee", "rocket", "brick", "hubble_deep_field", "moon", "coins", "gravel", "grass", "text",
          "clock", "page", "retina", "cell", "horse", "logo", "immunohistochemistry", "colorwheel", "checkerboard")
SCALES = (0.5, 0.35, 0.25, 0.18, 0.125)
GRID = 12                      # pixels between neighbouring patches of the grid (half a patch: they overlap)
PATCHES_PER_PHOTO = 250        # per training photograph
TEST_PATCHES_PER_PHOTO = 20    # per test photograph
TEST_FACES = 40
TEST_NONFACES = 40
SHIFTS = (-2, 0, 2)
FACE, NONFACE = 1, 0


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

    return _grey(getattr(data, name)())


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
    every = np.concatenate(patches)
    chosen = np.sort(rng.permutation(len(every))[:count])
    return to_uint8(every[chosen])


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
    """Training and test patches (n, 25, 25) uint8 with labels (1 face, 0 non-face) and the face indices used."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    train_faces: np.ndarray        # indices into lfw_subset()[:100] of the training faces
    test_faces: np.ndarray         # indices of the test faces

    def digest(self) -> str:
        """SHA-256 of the four arrays: the data's identity in a trained network's provenance."""
        h = hashlib.sha256()
        for a in (self.train_images, self.train_labels, self.test_images, self.test_labels):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


def load_faces(seed: int = 0) -> FaceData:
    """The face / non-face data set of the module doc, deterministic under ``seed``."""
    from skimage import data

    lfw = to_uint8(data.lfw_subset())
    faces, nonfaces = lfw[:100], lfw[100:]
    face_rng, nonface_rng, photo_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    face_order, nonface_order = face_rng.permutation(100), nonface_rng.permutation(100)
    test_faces, train_faces = np.sort(face_order[:TEST_FACES]), np.sort(face_order[TEST_FACES:])
    test_nonfaces, train_nonfaces = nonface_order[:TEST_NONFACES], nonface_order[TEST_NONFACES:]
    photo_sets: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for i, name in enumerate(PHOTOS):
        test = i % 3 == 2
        photo_sets[test].append(photo_patches(name, TEST_PATCHES_PER_PHOTO if test else PATCHES_PER_PHOTO,
                                              photo_rng))
    train_neg = np.concatenate([nonfaces[np.sort(train_nonfaces)], *photo_sets[False]])
    test_neg = np.concatenate([nonfaces[np.sort(test_nonfaces)], *photo_sets[True]])
    train_pos = augment_faces(faces[train_faces])
    test_pos = faces[test_faces]
    return FaceData(np.concatenate([train_pos, train_neg]),
                    np.concatenate([np.full(len(train_pos), FACE), np.full(len(train_neg), NONFACE)]).astype(np.uint8),
                    np.concatenate([test_pos, test_neg]),
                    np.concatenate([np.full(len(test_pos), FACE), np.full(len(test_neg), NONFACE)]).astype(np.uint8),
                    train_faces, test_faces)
