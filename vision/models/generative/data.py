"""Images in and out of the generative models: uint8 arrays ↔ float tensors, checks, grids, and the offline datasets.

At the public boundary images are numpy ``uint8``: a batch ``N×H×W`` (gray, one channel) or ``N×H×W×3`` (RGB), or
one image ``H×W`` / ``H×W×3``. Inside, the models see ``N×C×H×W`` float tensors in [0, 1]. A model trained on
``C×S×S`` images refuses any other size or channel count with a :class:`~vision.errors.ShapeError` naming both.

:func:`load_image_arrays` gives the training data the generative front doors name: ``"fashion-mnist"`` (the Debian
package's IDX files), ``"digits"`` (scikit-learn's 8×8 digits, resized) or an image folder (``root/<class>/…``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vision.errors import DTypeError, InputError, ShapeError

__all__ = ["DATASETS", "from_tensor", "image_grid", "load_image_arrays", "to_tensor"]

#: dataset names :func:`load_image_arrays` knows besides a folder path
DATASETS = ("fashion-mnist", "digits")


def _shape(a: np.ndarray) -> str:
    return "×".join(map(str, a.shape)) or "scalar"


def to_tensor(images: Any, *, channels: int, size: int, who: str) -> tuple[torch.Tensor, bool]:
    """uint8 images → ``N×C×H×W`` float32 in [0, 1], checked against a model's ``channels`` and ``size``.

    Args:
        images: ``N×H×W`` (gray models) / ``N×H×W×C`` uint8, or one image ``H×W`` / ``H×W×C``.
        channels, size: what the model was built for (``C`` and ``H = W``).
        who: the caller, for messages.

    Returns:
        ``(tensor, single)``; ``single`` is True when one image (no batch axis) was given.

    Raises:
        DTypeError: not uint8. ShapeError: another size or channel count, or an empty batch.
    """
    arr = np.asarray(images)
    want = f"N×{size}×{size} uint8 (gray)" if channels == 1 else f"N×{size}×{size}×{channels} uint8"
    if arr.dtype != np.uint8:
        raise DTypeError(f"{who}: expected {want} images; got dtype {arr.dtype} ({_shape(arr)})")
    batch_ndim = 3 if channels == 1 else 4
    single = arr.ndim == batch_ndim - 1
    if single:
        arr = arr[None]
    if channels == 1 and arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != batch_ndim or arr.shape[1:3] != (size, size) or (channels > 1 and arr.shape[3] != channels):
        raise ShapeError(f"{who}: expected {want} images (or one {size}×{size}"
                         f"{'' if channels == 1 else f'×{channels}'}); got {_shape(np.asarray(images))}")
    if len(arr) == 0:
        raise ShapeError(f"{who}: expected at least one image; got an empty batch ({_shape(arr)})")
    x = torch.from_numpy(np.ascontiguousarray(arr)).float().div_(255.0)
    x = x.unsqueeze(1) if channels == 1 else x.permute(0, 3, 1, 2).contiguous()
    return x, single


def from_tensor(x: torch.Tensor, *, single: bool = False) -> np.ndarray:
    """``N×C×H×W`` floats in [0, 1] → uint8 ``N×H×W`` (C = 1) or ``N×H×W×C`` (one image without N if ``single``)."""
    arr = (x.detach().float().clamp(0, 1).mul(255.0).round_().to(torch.uint8).cpu()).numpy()
    arr = arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)
    arr = np.ascontiguousarray(arr)
    return arr[0] if single else arr


def image_grid(images: Any, *, cols: int | None = None, gap: int = 2, background: int = 255) -> np.ndarray:
    """Lay out a batch of equal-size images as one picture, row by row (a sample sheet).

    Args:
        images: ``N×H×W`` or ``N×H×W×3`` uint8.
        cols: images per row; default ``ceil(sqrt(N))``.
        gap: pixels between cells. background: gray level of the gaps.

    Returns:
        One ``H'×W'`` (gray) or ``H'×W'×3`` uint8 image.

    Raises:
        InputError: no images, cols < 1 or gap < 0. DTypeError / ShapeError: not a uint8 batch.
    """
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise DTypeError(f"image_grid: expected uint8 N×H×W or N×H×W×3 images; got dtype {arr.dtype}")
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (1, 3)):
        raise ShapeError(f"image_grid: expected N×H×W or N×H×W×3 images; got {_shape(arr)}")
    n = len(arr)
    if n == 0:
        raise InputError("image_grid: expected at least one image; got none")
    cols = int(np.ceil(np.sqrt(n))) if cols is None else cols
    if isinstance(cols, bool) or not isinstance(cols, int) or cols < 1 or not isinstance(gap, int) or gap < 0:
        raise InputError(f"image_grid: expected cols ≥ 1 and gap ≥ 0 (integers); got cols={cols!r}, gap={gap!r}")
    cols = min(cols, n)
    rows = -(-n // cols)
    h, w = arr.shape[1:3]
    out = np.full((rows * h + (rows + 1) * gap, cols * w + (cols + 1) * gap, *arr.shape[3:]), background, np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        y, x = gap + r * (h + gap), gap + c * (w + gap)
        out[y:y + h, x:x + w] = arr[k]
    return out


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    import cv2

    if images.shape[1:3] == (size, size):
        return images
    inter = cv2.INTER_AREA if images.shape[1] > size else cv2.INTER_LINEAR
    return np.stack([cv2.resize(im, (size, size), interpolation=inter) for im in images])


def load_image_arrays(source: str | os.PathLike[str], *, split: str = "train", size: int | None = None,
                      channels: int = 1, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Training images for a generative model, offline: a named dataset or an image folder.

    Args:
        source: ``"fashion-mnist"`` (60 000 train / 10 000 test, 28×28, from the Debian package
            ``dataset-fashion-mnist``), ``"digits"`` (scikit-learn's 1797 8×8 digits; ``split`` is ignored) or a
            folder ``root/<class>/<image>`` (:func:`vision.data.formats.classification.read_image_folder`).
        split: ``"train"`` or ``"test"`` for Fashion-MNIST.
        size: resize every image to ``size``×``size`` (default: Fashion-MNIST 28, digits 28, a folder: required).
        channels: 1 (gray) or 3 (RGB).
        limit: keep only the first ``limit`` images.

    Returns:
        ``(images N×S×S uint8 (or N×S×S×3), labels N int64, class names)``.

    Raises:
        InputError: bad options, or a folder without ``size``. SourceNotFoundError / DatasetError: as the loaders.
    """
    from vision.models.config import positive_int

    if channels not in (1, 3):
        raise InputError(f"load_image_arrays: channels must be 1 or 3; got {channels!r}")
    if size is not None:
        positive_int("load_image_arrays", "size", size)
    if limit is not None:
        positive_int("load_image_arrays", "limit", limit)
    name = str(source)
    if name == "fashion-mnist":
        from vision.data.mnist import load_fashion_mnist

        images, labels, names = load_fashion_mnist(split)
    elif name == "digits":
        from vision.data.mnist import load_digits_dataset

        images, labels, names = load_digits_dataset()
        size = 28 if size is None else size
    else:
        from vision.data.formats.classification import read_image_folder
        from vision.io import read_image

        if size is None:
            raise InputError(f"load_image_arrays: give size= for an image folder ({name}); expected e.g. size=28")
        table = read_image_folder(Path(name))
        paths = table.paths if limit is None else table.paths[:limit]
        images = np.stack([_resize(read_image(p)[None], size)[0] for p in paths])
        labels, names = table.labels[:len(images)], tuple(table.classes)
        if channels == 1:
            import cv2

            images = np.stack([cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in images])
        return images, labels, names
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if size is not None:
        images = _resize(images, size)
    if channels == 3:
        images = np.repeat(images[..., None], 3, axis=-1)
    return np.ascontiguousarray(images), labels, tuple(names)
