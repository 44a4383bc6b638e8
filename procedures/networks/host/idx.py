"""IDX files (the MNIST distribution format), gzip-compressed or raw, and the MNIST folder loader.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the
number of dimensions), one big-endian uint32 per dimension, then the values
in big-endian C order.  ``load_mnist`` reads any folder holding the four
standard MNIST file names (each either ``NAME.gz`` or raw ``NAME``); without
a folder it reads the copy shipped with the package (the full 10,000 test
digits and the first 10,000 training digits, see ``data/mnist/README.md``).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the package's own copy of the MNIST subset
SHIPPED_MNIST = Path(__file__).resolve().parents[1] / "data" / "mnist"

#: standard MNIST file names (without ``.gz``) by role
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# IDX type code -> big-endian numpy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class DatasetError(ValueError):
    """A data file is missing, truncated or not what its name says; the message names the file."""


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in one IDX file (gzip-compressed or raw, recognised by content, not name).

    Raises DatasetError naming the file if it is missing, truncated, longer
    than its header says, or does not start with an IDX magic number.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: damaged or truncated gzip data ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise DatasetError(f"{path}: not an IDX file (magic number {raw[:4].hex() or 'missing'})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated header ({len(raw)} bytes, {header} needed for {ndim} dimensions)")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "longer than its header says"
        raise DatasetError(f"{path}: {state} ({len(raw)} bytes, header {shape} of {dtype.name} needs {expected})")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


@dataclass(frozen=True, eq=False)
class MnistData:
    """MNIST images (n, 28, 28) uint8 grey levels 0..255 (0 = background) and labels (n,) uint8 0..9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    folder: Path

    def digest(self) -> str:
        """SHA-256 (hex) of the four arrays' contents, in MNIST_FILES order: identifies the data set."""
        h = hashlib.sha256()
        for a in (self.train_images, self.train_labels, self.test_images, self.test_labels):
            h.update(repr(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()


def _find(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{folder / name}[.gz]: file not found (a MNIST folder holds the four standard file names)")


def _images(path: Path) -> np.ndarray:
    images = read_idx(path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DatasetError(f"{path}: expected uint8 images of shape (n, 28, 28), found {images.dtype.name} "
                           f"{images.shape}")
    return images


def _labels(path: Path) -> np.ndarray:
    labels = read_idx(path)
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DatasetError(f"{path}: expected uint8 labels of shape (n,), found {labels.dtype.name} {labels.shape}")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{path}: label {int(labels.max())} outside 0..9")
    return labels


def _pair(folder: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    images_path, labels_path = _find(folder, images_name), _find(folder, labels_name)
    images, labels = _images(images_path), _labels(labels_path)
    if len(images) != len(labels):
        raise DatasetError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images, labels


def check_mnist_folder(folder: Path) -> None:
    """Refuse a folder that lacks one of the four standard MNIST files (DatasetError naming the first)."""
    for name in MNIST_FILES.values():
        _find(Path(folder), name)


def load_mnist(folder: str | Path | None = None) -> MnistData:
    """Training and test digits from a folder with the four standard MNIST file names (gz or raw).

    ``folder=None`` reads the package's shipped subset.  Any count of digits
    is accepted (the full 60,000-digit training set included) as long as
    each images file matches its labels file; every error is a DatasetError
    naming the file.
    """
    folder = SHIPPED_MNIST if folder is None else Path(folder)
    train_images, train_labels = _pair(folder, MNIST_FILES["train_images"], MNIST_FILES["train_labels"])
    test_images, test_labels = _pair(folder, MNIST_FILES["test_images"], MNIST_FILES["test_labels"])
    return MnistData(train_images, train_labels, test_images, test_labels, folder)
