"""Sliding-window detection over an image pyramid: windows, their boxes, and non-maximum suppression.

The image (grey levels 0..1) is rescaled by each factor of ``scales``
(anti-aliased; a factor s makes a 25-pixel window cover 25 / s pixels of the
original), and every 25 x 25 window on a grid of ``stride`` pixels of the
rescaled image becomes a patch.  A box is (top, left, height, width) in
pixels of the original image.  Needs scikit-image (the ``faces`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .faces import SIZE, photo, photo_split, to_uint8

#: the astronaut's face in skimage.data.astronaut(), (top, left, height, width) pixels, read off the picture
#: (hairline to chin, ear to ear): the ground truth the test detection is scored against
ASTRONAUT_FACE = (70, 160, 120, 120)
#: the validation detection image: this validation photograph with validation faces pasted in at these boxes
VALIDATION_PHOTO = "rocket"
VALIDATION_BOXES = ((30, 95, 85, 85), (200, 205, 100, 100), (230, 480, 130, 130))
MATCH_OVERLAP = 0.5           # a detection matches a face when their boxes overlap this much (IoU)
#: pyramid factors: windows of 83 to 156 pixels of the 512 x 512 original
SCALES = (0.30, 0.26, 0.22, 0.19, 0.16)


@dataclass(frozen=True, eq=False)
class Windows:
    """Patches (m, 25, 25) uint8 and their boxes (m, 4) float64: top, left, height, width in original pixels."""

    patches: np.ndarray
    boxes: np.ndarray


def pyramid_windows(grey: np.ndarray, scales: tuple[float, ...] = SCALES, stride: int = 3) -> Windows:
    """Every 25 x 25 window (``stride`` pixels apart) of every rescaled copy of ``grey`` (h, w) in 0..1."""
    from skimage.transform import rescale

    patches, boxes = [], []
    for scale in scales:
        small = rescale(grey, scale, anti_aliasing=True)
        windows = np.lib.stride_tricks.sliding_window_view(small, (SIZE, SIZE))[::stride, ::stride]
        rows, cols = np.meshgrid(np.arange(windows.shape[0]) * stride, np.arange(windows.shape[1]) * stride,
                                 indexing="ij")
        patches.append(to_uint8(windows.reshape(-1, SIZE, SIZE)))
        side = SIZE / scale
        boxes.append(np.stack([rows.ravel() / scale, cols.ravel() / scale,
                               np.full(rows.size, side), np.full(rows.size, side)], axis=1))
    return Windows(np.concatenate(patches), np.concatenate(boxes))


def overlap(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union (0..1) of one box (4,) with boxes (m, 4)."""
    top = np.maximum(box[0], boxes[:, 0])
    left = np.maximum(box[1], boxes[:, 1])
    bottom = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    right = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    inter = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
    return inter / (box[2] * box[3] + boxes[:, 2] * boxes[:, 3] - inter)


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, limit: float = 0.3) -> np.ndarray:
    """Indices of the boxes kept, best score first: each suppresses later ones overlapping it by more than ``limit``."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size:
        best = order[0]
        kept.append(int(best))
        order = order[1:][overlap(boxes[best], boxes[order[1:]]) <= limit]
    return np.array(kept, np.int64)


def validation_image(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The validation detection image (grey 0..1) and its face boxes (k, 4): VALIDATION_PHOTO, a validation
    photograph, with the first k = len(VALIDATION_BOXES) of ``faces`` (validation faces, uint8 25 x 25)
    resized (bilinear) into VALIDATION_BOXES."""
    from skimage.transform import resize

    if photo_split(VALIDATION_PHOTO) != "validation":
        raise ValueError(f"{VALIDATION_PHOTO} is not a validation photograph")
    image = photo(VALIDATION_PHOTO).copy()
    for face, (top, left, height, width) in zip(faces, VALIDATION_BOXES):
        image[top: top + height, left: left + width] = resize(face / 255.0, (height, width), order=1)
    return image, np.array(VALIDATION_BOXES[:len(faces)], np.float64)


def detect(boxes: np.ndarray, scores: np.ndarray, margin: float, limit: float) -> np.ndarray:
    """Indices of the windows kept: those whose face-minus-non-face score ``scores`` beats ``margin``, then
    non-maximum suppression at overlap ``limit``."""
    candidates = np.flatnonzero(scores > margin)
    return candidates[non_maximum_suppression(boxes[candidates], scores[candidates], limit)]


def match(kept: np.ndarray, truths: np.ndarray) -> tuple[int, int]:
    """(faces found, false boxes) of kept boxes (m, 4) against true face boxes (k, 4): a face is found when a
    kept box overlaps it by MATCH_OVERLAP or more; a kept box that overlaps no face so is false."""
    if not len(kept):
        return 0, 0
    overlaps = np.stack([overlap(truth, kept) for truth in truths]) if len(truths) else np.zeros((0, len(kept)))
    hits = overlaps >= MATCH_OVERLAP
    return int(hits.any(axis=1).sum()), int((~hits.any(axis=0)).sum())
