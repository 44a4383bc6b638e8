"""Face data from scikit-image's bundled files: a deterministic split that no face or photograph straddles;
sliding windows and non-maximum suppression."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skimage")

from procedures.networks.host.detection import non_maximum_suppression, overlap, pyramid_windows
from procedures.networks.host.faces import (FACE, PHOTOS, SIZE, TEST_FACES, augment_faces, load_faces,
                                       photo_patches)


@pytest.fixture(scope="module")
def faces():
    return load_faces(0)


def test_split_is_deterministic_and_no_face_straddles_it(faces) -> None:
    again = load_faces(0)
    assert again.digest() == faces.digest()
    assert load_faces(1).digest() != faces.digest()
    assert len(faces.test_faces) == TEST_FACES and not set(faces.test_faces) & set(faces.train_faces)
    assert sorted({*faces.test_faces, *faces.train_faces}) == list(range(100))
    train_faces = faces.train_images[faces.train_labels == FACE]
    test_faces = faces.test_images[faces.test_labels == FACE]
    assert len(train_faces) == 18 * len(faces.train_faces)           # augmented on the training side only
    assert len(test_faces) == TEST_FACES
    train_set = {p.tobytes() for p in faces.train_images}
    assert not any(p.tobytes() in train_set for p in test_faces)     # no test face, nor a copy, in training
    assert faces.train_images.dtype == np.uint8 and faces.train_images.shape[1:] == (SIZE, SIZE)


def test_photographs_give_patches_to_one_side_only(faces) -> None:
    rng = np.random.default_rng(0)
    test_photo = photo_patches(PHOTOS[2], 5, rng)
    train_set = {p.tobytes() for p in faces.train_images}
    assert not any(p.tobytes() in train_set for p in test_photo)


def test_augmentation_mirrors_and_shifts() -> None:
    face = np.arange(SIZE * SIZE, dtype=np.uint8).reshape(1, SIZE, SIZE)
    out = augment_faces(face)
    assert out.shape == (18, SIZE, SIZE)
    assert np.array_equal(out[4], face[0]) and np.array_equal(out[13], face[0, :, ::-1])
    assert np.array_equal(out[5][:, :-2], face[0][:, 2:])            # shifted by 2 pixels


def test_windows_map_back_to_the_original_and_suppression_keeps_the_best() -> None:
    grey = np.random.default_rng(1).random((100, 120))
    windows = pyramid_windows(grey, (0.5, 0.25), stride=5)
    assert windows.patches.shape[1:] == (SIZE, SIZE)
    assert windows.boxes[:, 2].max() == SIZE / 0.25 and windows.boxes[:, 0].min() == 0
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 10, 10]], float)
    assert list(non_maximum_suppression(boxes, np.array([1.0, 2.0, 0.5]))) == [1, 2]
    assert overlap(boxes[0], boxes[:1])[0] == 1.0
