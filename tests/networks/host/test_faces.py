"""Face data from scikit-image's bundled files: a deterministic split that no face or photograph straddles;
sliding windows and non-maximum suppression."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skimage")

from procedures.networks.host.detection import (MATCH_OVERLAP, VALIDATION_BOXES, VALIDATION_PHOTO, detect, match,
                                                non_maximum_suppression, overlap, pyramid_windows, validation_image)
from procedures.networks.host.faces import (FACE, PHOTOS, SIZE, SPLITS, TEST_FACES, VALIDATION_FACES, augment_faces,
                                            load_faces, photo_patches, photo_split)


@pytest.fixture(scope="module")
def faces():
    return load_faces(0)


def test_split_is_deterministic_and_no_face_straddles_it(faces) -> None:
    again = load_faces.__wrapped__(0)                                   # built afresh, not the shared one
    assert again is not faces and again.digest() == faces.digest()
    assert load_faces(1).digest() != faces.digest()
    index = {"train": faces.train_faces, "validation": faces.validation_faces, "test": faces.test_faces}
    assert len(index["test"]) == TEST_FACES and len(index["validation"]) == VALIDATION_FACES
    assert sorted(np.concatenate(list(index.values()))) == list(range(100))     # each face in exactly one split
    assert len(faces.train_images[faces.train_labels == FACE]) == 18 * len(faces.train_faces)   # augmented
    held_out = {"validation": faces.validation_images[faces.validation_labels == FACE],
                "test": faces.test_images[faces.test_labels == FACE]}
    assert len(held_out["validation"]) == VALIDATION_FACES and len(held_out["test"]) == TEST_FACES
    train_set = {p.tobytes() for p in faces.train_images}
    validation_set = {p.tobytes() for p in faces.validation_images}
    test_set = {p.tobytes() for p in faces.test_images}
    assert not train_set & validation_set and not train_set & test_set and not validation_set & test_set
    assert faces.train_images.dtype == np.uint8 and faces.train_images.shape[1:] == (SIZE, SIZE)


def test_photographs_give_patches_to_one_split_only(faces) -> None:
    assert [photo_split(name) for name in PHOTOS[:6]] == [*SPLITS, *SPLITS]
    sets = {split: {p.tobytes() for p in getattr(faces, f"{split}_images")} for split in SPLITS}
    for name in (PHOTOS[1], PHOTOS[2], PHOTOS[-1]):
        mine = photo_split(name)
        cut = {p.tobytes() for p in photo_patches(name, 10_000, np.random.default_rng(0))}
        assert cut & sets[mine]                                         # the photograph gives patches to its split
        assert not any(cut & sets[other] for other in SPLITS if other != mine)
    assert len(faces.test_labels) > 1500 and len(faces.validation_labels) > 1500     # held-out patches


def test_the_validation_image_holds_validation_faces_in_a_validation_photograph(faces) -> None:
    held = faces.validation_images[faces.validation_labels == FACE]
    image, truths = validation_image(held)
    assert photo_split(VALIDATION_PHOTO) == "validation" and truths.tolist() == [list(b) for b in VALIDATION_BOXES]
    top, left, height, width = VALIDATION_BOXES[0]
    pasted = image[top: top + height, left: left + width]
    assert abs(pasted.mean() - held[0].mean() / 255) < 0.02                # the face is there, scaled up
    boxes = np.array([[*b] for b in VALIDATION_BOXES] + [[0, 0, 50, 50]], float)
    kept = detect(boxes, np.array([5.0, 0.5, 3.0, 4.0]), 1.0, 0.1)
    assert list(kept) == [0, 3, 2]                                      # above the margin, best first
    assert match(boxes[kept], truths) == (2, 1)                          # two faces found, one false box
    shifted = truths[:1] + [0, truths[0, 3] * (1 - MATCH_OVERLAP), 0, 0]   # overlaps the face by IoU 1/3
    assert match(shifted, truths) == (0, 1)


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


def test_the_data_set_is_built_once_per_seed_and_shared_read_only() -> None:
    first = load_faces(0)
    assert load_faces(0) is first and load_faces(1) is not first
    with pytest.raises(ValueError, match="read-only"):
        first.test_images[0, 0, 0] = 1
    assert not first.train_labels.flags.writeable and not first.test_faces.flags.writeable
