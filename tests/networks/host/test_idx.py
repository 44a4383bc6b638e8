"""IDX reading and the MNIST folder loader: the shipped subset, any folder, and every refusal naming its file."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from procedures.networks.host.idx import MNIST_FILES, DatasetError, load_mnist, read_idx

IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
    header = bytes([0, 0, IDX_CODES[a.dtype], a.ndim]) + np.array(a.shape, ">u4").tobytes()
    return header + a.tobytes()


def write(path: Path, data: bytes, compress: bool) -> Path:
    path = path.with_name(path.name + ".gz") if compress else path
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def mnist_folder(folder: Path, train: int = 30, test: int = 20, compress: bool = True) -> Path:
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
              "train_labels": rng.integers(0, 10, train, dtype=np.uint8),
              "test_images": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
              "test_labels": rng.integers(0, 10, test, dtype=np.uint8)}
    for role, a in arrays.items():
        write(folder / MNIST_FILES[role], idx_bytes(a), compress)
    return folder


def test_shipped_subset_loads_by_default() -> None:
    data = load_mnist()
    assert data.train_images.shape == (10000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert data.train_images.dtype == np.uint8 and data.train_images.max() == 255
    assert np.bincount(data.test_labels, minlength=10).min() > 800      # all ten digits, roughly balanced
    assert data.test_labels[:5].tolist() == [7, 2, 1, 0, 4]              # the standard test set's first digits


@pytest.mark.parametrize("compress", [True, False])
def test_any_folder_gz_or_raw_with_any_count(tmp_path, compress) -> None:
    other = tmp_path / "other"
    other.mkdir()
    data = load_mnist(mnist_folder(tmp_path, train=60, test=7, compress=compress))
    assert data.train_images.shape == (60, 28, 28) and data.test_labels.shape == (7,)
    assert data.digest() == load_mnist(mnist_folder(other, 60, 7, not compress)).digest()


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_every_type(tmp_path, dtype) -> None:
    a = np.arange(24).reshape(2, 3, 4).astype(dtype)
    assert np.array_equal(read_idx(write(tmp_path / "a-idx3", idx_bytes(a), False)), a)


@pytest.mark.parametrize("role", list(MNIST_FILES))
def test_missing_file_is_named(tmp_path, role) -> None:
    folder = mnist_folder(tmp_path)
    (folder / (MNIST_FILES[role] + ".gz")).unlink()
    with pytest.raises(DatasetError, match=MNIST_FILES[role]):
        load_mnist(folder)


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("role", ["train_images", "test_labels"])
def test_truncated_file_is_named(tmp_path, role, compress) -> None:
    folder = mnist_folder(tmp_path, compress=compress)
    path = folder / (MNIST_FILES[role] + (".gz" if compress else ""))
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(DatasetError, match=f"{MNIST_FILES[role]}.*truncated"):
        load_mnist(folder)


def test_trailing_bytes_are_refused(tmp_path) -> None:
    path = write(tmp_path / "x-idx1", idx_bytes(np.zeros(5, np.uint8)) + b"\0", False)
    with pytest.raises(DatasetError, match="x-idx1: longer than its header"):
        read_idx(path)


@pytest.mark.parametrize("magic", [b"\x00\x00\x07\x03", b"\x01\x00\x08\x03", b"\x00\x00\x08\x00", b"PK\x03\x04"])
def test_wrong_magic_is_named(tmp_path, magic) -> None:
    folder = mnist_folder(tmp_path, compress=False)
    path = folder / MNIST_FILES["test_images"]
    path.write_bytes(magic + path.read_bytes()[4:])
    with pytest.raises(DatasetError, match=f"{MNIST_FILES['test_images']}: not an IDX file"):
        load_mnist(folder)


def test_mismatched_counts_name_both_files(tmp_path) -> None:
    folder = mnist_folder(tmp_path)
    write(folder / MNIST_FILES["train_labels"], idx_bytes(np.zeros(29, np.uint8)), True)
    with pytest.raises(DatasetError, match=f"{MNIST_FILES['train_images']}.* 30 images.*"
                                           f"{MNIST_FILES['train_labels']}.* 29 labels"):
        load_mnist(folder)


def test_wrong_shape_and_labels_are_refused(tmp_path) -> None:
    folder = mnist_folder(tmp_path)
    write(folder / MNIST_FILES["test_images"], idx_bytes(np.zeros((20, 28, 27), np.uint8)), True)
    with pytest.raises(DatasetError, match="t10k-images.*28, 28"):
        load_mnist(folder)
    folder = mnist_folder(tmp_path)
    write(folder / MNIST_FILES["test_labels"], idx_bytes(np.full(20, 10, np.uint8)), True)
    with pytest.raises(DatasetError, match="t10k-labels.*label 10"):
        load_mnist(folder)
