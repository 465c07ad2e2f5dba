"""scikit-learn digits and Fashion-MNIST: the IDX parser on tiny files, typed errors, and the real Debian files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from vision.data.mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_ENV,
    fashion_mnist_available,
    fashion_mnist_root,
    load_digits_dataset,
    load_fashion_mnist,
    read_idx,
)
from vision.errors import DatasetError, InputError, SourceNotFoundError


def idx_bytes(arr: np.ndarray, *, dtype_code: int = 0x08) -> bytes:
    header = struct.pack(">HBB", 0, dtype_code, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def write_idx(path: Path, arr: np.ndarray, *, compress: bool = True, raw: bytes | None = None) -> Path:
    data = idx_bytes(arr) if raw is None else raw
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def tiny_fashion(root: Path, split: str = "train", *, n: int = 5, n_labels: int | None = None) -> tuple:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n if n_labels is None else n_labels) % 10).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    write_idx(root / f"{prefix}-images-idx3-ubyte.gz", images)
    write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images, labels


# ---------------------------------------------------------------------------------------------- digits
def test_digits_scaled_to_uint8():
    images, labels, names = load_digits_dataset()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert images.max() == 255 and images.min() == 0
    assert labels.shape == (1797,) and labels.dtype == np.int64 and set(labels.tolist()) == set(range(10))
    assert names == tuple(str(i) for i in range(10))
    from sklearn.datasets import load_digits

    raw = load_digits().images
    assert np.array_equal(images, np.round(raw * 255 / 16).astype(np.uint8))


# ---------------------------------------------------------------------------------------------- IDX parser
@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a.idx", arr, compress=compress)
    out = read_idx(path)
    assert out.dtype == np.uint8 and np.array_equal(out, arr)
    out[0, 0, 0] = 99  # writable, not a view of a read-only buffer


def test_read_idx_labels_1d(tmp_path):
    arr = np.array([3, 1, 4, 1, 5], np.uint8)
    assert np.array_equal(read_idx(write_idx(tmp_path / "l.gz", arr)), arr)


def test_bad_magic_names_the_file(tmp_path):
    raw = b"\x12\x34\x08\x01" + struct.pack(">I", 2) + b"\x00\x01"
    path = write_idx(tmp_path / "bad.gz", np.zeros(1), raw=raw)
    with pytest.raises(DatasetError, match="bad IDX magic") as err:
        read_idx(path)
    assert "bad.gz" in str(err.value)


def test_unsupported_dtype(tmp_path):
    raw = idx_bytes(np.zeros(4, np.uint8), dtype_code=0x0D)
    with pytest.raises(DatasetError, match="0x0d is not supported"):
        read_idx(write_idx(tmp_path / "f.gz", np.zeros(1), raw=raw))


def test_truncated_data(tmp_path):
    raw = idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-10]
    with pytest.raises(DatasetError, match="truncated IDX data") as err:
        read_idx(write_idx(tmp_path / "t.gz", np.zeros(1), raw=raw))
    assert "3×28×28" in str(err.value) and "t.gz" in str(err.value)


def test_truncated_header(tmp_path):
    raw = struct.pack(">HBB", 0, 8, 3) + struct.pack(">I", 3)
    with pytest.raises(DatasetError, match="truncated IDX header"):
        read_idx(write_idx(tmp_path / "h.gz", np.zeros(1), raw=raw, compress=False))


def test_trailing_bytes(tmp_path):
    raw = idx_bytes(np.zeros(4, np.uint8)) + b"xx"
    with pytest.raises(DatasetError, match="trailing bytes"):
        read_idx(write_idx(tmp_path / "x", np.zeros(1), raw=raw, compress=False))


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.zeros(100, np.uint8)))
    path = tmp_path / "c.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="corrupt or truncated gzip") as err:
        read_idx(path)
    assert "c.gz" in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "e"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="header"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(SourceNotFoundError, match="nope.gz"):
        read_idx(tmp_path / "nope.gz")


# ---------------------------------------------------------------------------------------------- Fashion-MNIST
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_fashion_mnist_from_tiny_files(tmp_path, split):
    images, labels = tiny_fashion(tmp_path, split)
    x, y, names = load_fashion_mnist(split, root=tmp_path)
    assert np.array_equal(x, images) and np.array_equal(y, labels) and y.dtype == np.int64
    assert names == FASHION_MNIST_CLASSES and names[0] == "T-shirt/top" and names[9] == "Ankle boot"


def test_env_variable_selects_the_folder(tmp_path, monkeypatch):
    images, _ = tiny_fashion(tmp_path, "train", n=3)
    monkeypatch.setenv(FASHION_MNIST_ENV, str(tmp_path))
    assert fashion_mnist_root() == tmp_path
    assert np.array_equal(load_fashion_mnist("train")[0], images)
    assert fashion_mnist_root(tmp_path / "other") == tmp_path / "other"  # the argument wins


def test_label_count_mismatch(tmp_path):
    tiny_fashion(tmp_path, "train", n=5, n_labels=4)
    with pytest.raises(DatasetError, match="4 labels for 5 images") as err:
        load_fashion_mnist("train", root=tmp_path)
    assert "train-labels-idx1-ubyte.gz" in str(err.value)


def test_wrong_dims(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((5, 784), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DatasetError, match="3 dims"):
        load_fashion_mnist("train", root=tmp_path)


def test_label_out_of_range(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([1, 12], np.uint8))
    with pytest.raises(DatasetError, match="label 12"):
        load_fashion_mnist("train", root=tmp_path)


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(SourceNotFoundError) as err:
        load_fashion_mnist("test", root=tmp_path)
    msg = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in msg and FASHION_MNIST_ENV in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "fashion-mnist" in msg and "http" in msg
    assert not fashion_mnist_available(tmp_path)


def test_bad_split():
    with pytest.raises(InputError, match="'train' or 'test'"):
        load_fashion_mnist("val")


REAL = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (REAL / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.delenv(FASHION_MNIST_ENV, raising=False)
    assert fashion_mnist_available()
    x, y, _ = load_fashion_mnist("test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [1000] * 10
    x, y, _ = load_fashion_mnist("train")
    assert x.shape == (60000, 28, 28) and np.bincount(y).tolist() == [6000] * 10
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # the published first training labels
