"""Small offline digit and clothing datasets: scikit-learn's 8×8 digits and Fashion-MNIST from its Debian package.

Nothing here downloads. Fashion-MNIST is read from the IDX files that the Debian package ``dataset-fashion-mnist``
installs under ``/usr/share/datasets/fashion-mnist`` (or from a folder named by ``root`` or the environment
variable ``VISION_FASHION_MNIST``).

Example:
    >>> from vision.data.mnist import load_digits_dataset
    >>> images, labels, names = load_digits_dataset()
    >>> images.shape, images.dtype, names[3]
    ((1797, 8, 8), dtype('uint8'), '3')
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from vision.errors import DatasetError, InputError, SourceNotFoundError

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DEFAULT_ROOT",
    "FASHION_MNIST_ENV",
    "load_digits_dataset",
    "load_fashion_mnist",
    "fashion_mnist_root",
    "fashion_mnist_available",
    "read_idx",
]

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_DEFAULT_ROOT = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_ENV = "VISION_FASHION_MNIST"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IDX_DTYPES = {0x08: np.uint8}  # the only element type MNIST-style files use; others are refused


def load_digits_dataset() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's 1797 handwritten digits as 8×8 uint8 images scaled to 0..255.

    Returns:
        ``(images N×8×8 uint8, labels N int64 in 0..9, names ("0", …, "9"))``.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.clip(np.round(np.asarray(d.images, dtype=np.float64) * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    labels = np.asarray(d.target, dtype=np.int64)
    return images, labels, tuple(str(i) for i in range(10))


# --------------------------------------------------------------------------------------------------
# IDX (the MNIST file format): magic 0x0000 <dtype> <ndim>, then ndim big-endian uint32 sizes, then data
# --------------------------------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError as exc:
        raise SourceNotFoundError(f"{path}: IDX file not found") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DatasetError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) of unsigned bytes into a numpy array.

    Hand-written because no maintained dependency of the suite parses IDX; only element type 0x08 (uint8),
    the one MNIST-style datasets use, is accepted.

    Args:
        path: ``*.idx*-ubyte`` or ``*.idx*-ubyte.gz``.
    Returns:
        A uint8 array of the shape the header states.
    Raises:
        SourceNotFoundError: the file does not exist.
        DatasetError: bad magic number, unsupported element type, or fewer/more data bytes than the header states.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: expected an IDX header of at least 4 bytes, got {len(data)} bytes")
    zero, dtype_code, ndim = int.from_bytes(data[:2], "big"), data[2], data[3]
    if zero != 0 or ndim == 0:
        raise DatasetError(f"{path}: bad IDX magic number 0x{data[:4].hex()}; expected 0x0000 <type> <ndim ≥ 1> "
                           "(e.g. 0x00000803 for images, 0x00000801 for labels)")
    if dtype_code not in _IDX_DTYPES:
        raise DatasetError(f"{path}: IDX element type 0x{dtype_code:02x} is not supported; expected 0x08 (uint8)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: truncated IDX header; expected {header} bytes for {ndim} dims, got {len(data)}")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    got = len(data) - header
    if got != expected:
        kind = "truncated" if got < expected else "trailing bytes in"
        raise DatasetError(f"{path}: {kind} IDX data; header says {'×'.join(map(str, dims))} = {expected} bytes, "
                           f"file holds {got}")
    return np.frombuffer(data, dtype=_IDX_DTYPES[dtype_code], offset=header).reshape(dims).copy()


def fashion_mnist_root(root: str | os.PathLike | None = None) -> Path:
    """The Fashion-MNIST folder used: ``root``, else ``$VISION_FASHION_MNIST``, else the Debian package path."""
    if root is not None:
        return Path(root)
    env = os.environ.get(FASHION_MNIST_ENV)
    return Path(env) if env else FASHION_MNIST_DEFAULT_ROOT


def fashion_mnist_available(root: str | os.PathLike | None = None) -> bool:
    """Whether all four Fashion-MNIST IDX files exist in :func:`fashion_mnist_root`."""
    folder = fashion_mnist_root(root)
    return all((folder / f).is_file() for pair in _FILES.values() for f in pair)


def load_fashion_mnist(split: str = "train", *, root: str | os.PathLike | None = None
                       ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Load Fashion-MNIST (Zalando, MIT licence) from local IDX files; never downloads.

    Args:
        split: ``"train"`` (60 000 images) or ``"test"`` (10 000 images, the ``t10k`` files).
        root: folder holding the ``*-ubyte.gz`` files; default ``$VISION_FASHION_MNIST`` or
            ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``).
    Returns:
        ``(images N×28×28 uint8, labels N int64 in 0..9, class names)``.
    Raises:
        InputError: ``split`` is not "train" or "test".
        SourceNotFoundError: the files are not there (the message says how to get them).
        DatasetError: a file is corrupt, or image and label counts differ.
    """
    if split not in _FILES:
        raise InputError(f"split: expected 'train' or 'test', got {split!r}")
    folder = fashion_mnist_root(root)
    image_file, label_file = (folder / f for f in _FILES[split])
    missing = [str(p) for p in (image_file, label_file) if not p.is_file()]
    if missing:
        raise SourceNotFoundError(
            f"Fashion-MNIST {split} files not found: {', '.join(missing)}. Install the Debian package "
            f"dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set {FASHION_MNIST_ENV} to a folder "
            f"holding {_FILES[split][0]} and {_FILES[split][1]}; online, the official files are at "
            f"{_FASHION_URL}{_FILES[split][0]} and {_FASHION_URL}{_FILES[split][1]}"
        )
    images = read_idx(image_file)
    labels = read_idx(label_file)
    if images.ndim != 3:
        raise DatasetError(f"{image_file}: expected N×rows×cols images (3 dims), got {images.ndim} dims")
    if labels.ndim != 1:
        raise DatasetError(f"{label_file}: expected N labels (1 dim), got {labels.ndim} dims")
    if len(images) != len(labels):
        raise DatasetError(f"{label_file}: {len(labels)} labels for {len(images)} images in {image_file}; "
                           "expected equal counts")
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise DatasetError(f"{label_file}: label {int(labels.max())} out of range; expected 0..9")
    return images, labels.astype(np.int64), FASHION_MNIST_CLASSES
