"""A torch ``Dataset`` over a :class:`~vision.data.ClassificationTable`, augmenting on the fly, and its loaders.

:class:`ImageClassificationDataset` reads (or takes from memory) one image per item, converts it to gray or RGB,
augments it, resizes it, and returns ``(float32 C×H×W tensor, int64 label)``: values in [0, 1], then
``(x - mean) / std`` when ``normalize`` is given.

Reproducible augmentation. Sample ``i`` in epoch ``e`` is augmented with a seed derived from ``(seed, e, i)``
only, so it is the same in every run, in every ``DataLoader`` worker and whatever the batch order, and it changes
from epoch to epoch. With your own loop, call :meth:`ImageClassificationDataset.set_epoch` before each epoch (as
with ``DistributedSampler``; for ``num_workers > 0`` before creating the epoch's iterator, and without
``persistent_workers``, whose workers keep the dataset copy they started with). :func:`classification_loaders`
does this for you and more robustly: its training sampler draws each epoch's key from the loader's seeded
shuffling generator and passes ``(index, key)`` with every item, so the key reaches every worker (persistent ones
too) and a :class:`~vision.train.Trainer` checkpoint, which stores that generator, resumes with the same shuffles
*and* the same augmentations as an uninterrupted run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from vision.data.augment import (
    Augmentation,
    AugmentConfig,
    _check_seed,
    _check_size,
    make_augmentation,
)
from vision.data.formats.classification import ClassificationTable
from vision.errors import DTypeError, InputError, ShapeError, VisionError

__all__ = ["EpochShuffleSampler", "ImageClassificationDataset", "classification_loaders", "sample_seed"]


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of item ``index`` in epoch ``epoch`` (a 32-bit int drawn from ``(seed, epoch, index)``)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


def _check_normalize(normalize: Any, channels: int) -> tuple[np.ndarray, np.ndarray] | None:
    if normalize is None:
        return None
    if not isinstance(normalize, (tuple, list)) or len(normalize) != 2:
        raise InputError(f"normalize: expected None or (mean, std), each a number or {channels} numbers, got "
                         f"{normalize!r}")
    out = []
    for name, v in zip(("mean", "std"), normalize):
        try:
            arr = np.asarray(v, dtype=np.float32).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"normalize: {name} must be a number or {channels} numbers, got {v!r}") from None
        if arr.size == 1:
            arr = np.repeat(arr, channels)
        if arr.size != channels:
            raise InputError(f"normalize: {name} must be a number or {channels} numbers (one per channel), got "
                             f"{arr.size} values")
        if not np.all(np.isfinite(arr)):
            raise InputError(f"normalize: {name} must be finite, got {arr.tolist()}")
        out.append(arr)
    if np.any(out[1] <= 0):
        raise InputError(f"normalize: std must be > 0, got {out[1].tolist()}")
    return out[0], out[1]


def _takes_seed(fn: Callable[..., Any]) -> bool:
    if isinstance(fn, Augmentation):
        return True
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in params and params["seed"].kind in (inspect.Parameter.KEYWORD_ONLY,
                                                         inspect.Parameter.POSITIONAL_OR_KEYWORD)


class ImageClassificationDataset(Dataset):
    """Items ``(float32 C×H×W tensor, int64 label)`` of a classification table, augmented on the fly.

    Per item: read the image (:func:`vision.io.read_image` for files) → gray (``channels=1``) or RGB → ``augment``
    (with the seed from ``(seed, epoch, index)``, see the module docstring) → resize to ``size`` (``cv2.INTER_AREA``
    when shrinking, ``INTER_LINEAR`` when enlarging) → ``/ 255`` → ``(x - mean) / std``.

    Args:
        table: the images and labels (a file or in-memory :class:`~vision.data.ClassificationTable`).
        size: output ``(height, width)`` or an int (square); None keeps each image's size (batches then need
            equal-sized images).
        augment: an :class:`~vision.data.augment.Augmentation`, a config / preset name (made with
            :func:`~vision.data.augment.make_augmentation`), any callable ``image → image`` (reseeded per item
            only if it takes a ``seed=`` keyword), or None.
        channels: 1 (gray) or 3 (RGB).
        normalize: ``(mean, std)``, each a number or one per channel, applied after scaling to [0, 1]; or None.
        seed: the base of every item's augmentation seed (integer ≥ 0).
    Raises:
        InputError: a table that is not a ClassificationTable, bad size, channels, normalize, seed or augment.

    Example:
        >>> ds = ImageClassificationDataset(table, size=64, augment="standard", normalize=((0.5,), (0.5,)))
        >>> x, y = ds[0]                          # x: 3×64×64 float32, y: int64 tensor
    """

    def __init__(self, table: ClassificationTable, *, size: int | tuple[int, int] | None = None,
                 augment: Augmentation | AugmentConfig | str | Callable[[np.ndarray], np.ndarray] | None = None,
                 channels: int = 3, normalize: tuple[Any, Any] | None = None, seed: int = 0) -> None:
        if not isinstance(table, ClassificationTable):
            raise InputError(f"table: expected a vision.data.ClassificationTable, got {type(table).__name__}")
        if isinstance(channels, bool) or channels not in (1, 3):
            raise InputError(f"channels: expected 1 (gray) or 3 (RGB), got {channels!r}")
        seed = _check_seed(seed)
        if seed is None:
            raise InputError("seed: expected an integer ≥ 0, got None")
        if isinstance(augment, (AugmentConfig, str)):
            augment = make_augmentation(augment, seed=seed)
        elif augment is not None and not callable(augment):
            raise InputError(f"augment: expected None, an Augmentation, a config, a preset name or a callable, got "
                             f"{type(augment).__name__}")
        self.table = table
        self.size = _check_size(size)
        self.augment = augment
        self.channels = int(channels)
        self.normalize = _check_normalize(normalize, self.channels)
        self.seed = seed
        self._epoch = 0
        self._augment_takes_seed = augment is not None and _takes_seed(augment)

    # ------------------------------------------------------------------------------------------------
    @property
    def classes(self) -> list[str]:
        """The class names; labels index them."""
        return self.table.classes

    @property
    def epoch(self) -> int:
        """The epoch whose augmentations :meth:`__getitem__` draws (set with :meth:`set_epoch`)."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Draw the following items' augmentations for epoch ``epoch`` (an integer ≥ 0).

        Call it before each epoch when you iterate the dataset yourself; :func:`classification_loaders` need not.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise InputError(f"set_epoch: expected an integer ≥ 0, got {epoch!r}")
        self._epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.table)

    # ------------------------------------------------------------------------------------------------
    def _where(self, index: int) -> str:
        if self.table.paths is not None:
            return f"row {index} ({self.table.paths[index]})"
        return f"row {index}"

    def _load(self, index: int) -> np.ndarray:
        """Row ``index`` as uint8 H×W (channels=1) or H×W×3 RGB."""
        import cv2

        from vision.io import read_image

        t = self.table
        if t.paths is not None:
            path = t.paths[index]
            try:
                img = read_image(path)
            except VisionError as exc:
                raise type(exc)(f"dataset row {index}: {exc}") from exc
        else:
            img = t.images[index]
            if img.dtype != np.uint8:  # float in [0, 1], checked by the table's maker
                img = np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
            if img.ndim == 3 and img.shape[2] == 1:
                img = img[..., 0]
            if self.channels == 1 and img.ndim == 2:
                return np.ascontiguousarray(img)
            img = read_image(np.ascontiguousarray(img))  # gray → RGB, RGBA → RGB on white
        if self.channels == 1:
            return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        return img

    def image(self, index: int, *, augment: bool = True) -> np.ndarray:
        """Row ``index`` as the uint8 image the tensor is made from (augmented and resized): H×W×3 RGB or H×W gray.

        Raises:
            InputError: ``index`` out of range. ImageDecodeError / SourceNotFoundError / …: the image file cannot be
                read (the message names the row and the file).
        """
        index, key = self._index(index)
        return self._image(index, key, augment=augment)

    def _index(self, index: Any) -> tuple[int, int]:
        key = self._epoch
        if isinstance(index, tuple) and len(index) == 2:  # (index, epoch key) from EpochShuffleSampler
            index, key = index
        if isinstance(index, torch.Tensor):
            index = index.item()
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise InputError(f"dataset index: expected an integer, got {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            raise InputError(f"dataset index {index} out of range for {n} items")
        return int(index) % n, int(key)

    def _image(self, index: int, key: int, *, augment: bool = True) -> np.ndarray:
        import cv2

        img = self._load(index)
        if augment and self.augment is not None:
            kind = img.shape
            if self._augment_takes_seed:
                img = self.augment(img, seed=sample_seed(self.seed, key, index))
            else:
                img = self.augment(img)
            if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
                raise DTypeError(f"augment returned {type(img).__name__} "
                                 f"{getattr(img, 'dtype', '')} for {self._where(index)}; expected a uint8 image")
            if img.ndim != len(kind) or (img.ndim == 3 and img.shape[2] != kind[2]) or 0 in img.shape:
                raise ShapeError(f"augment returned shape {img.shape} for {self._where(index)}; expected the same "
                                 f"kind of image as its input ({'H×W' if len(kind) == 2 else 'H×W×3'})")
        if self.size is not None and img.shape[:2] != self.size:
            h, w = self.size
            shrink = h * w < img.shape[0] * img.shape[1]
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return img

    def __getitem__(self, index: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Item ``index``: ``(float32 C×H×W tensor, int64 scalar label)``.

        ``index`` may also be ``(index, epoch key)``, as :class:`EpochShuffleSampler` yields.

        Raises:
            InputError: ``index`` out of range. ImageDecodeError / SourceNotFoundError / …: the image file cannot be
                read (the same error type :func:`vision.io.read_image` raises; the message names the row and file).
            DTypeError / ShapeError: ``augment`` returned something other than a uint8 image of the same kind.
        """
        index, key = self._index(index)
        img = self._image(index, key)
        arr = img.astype(np.float32) * np.float32(1 / 255)
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        if self.normalize is not None:
            mean, std = self.normalize
            arr = (arr - mean[:, None, None]) / std[:, None, None]
        x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
        return x, torch.tensor(int(self.table.labels[index]), dtype=torch.int64)

    def __repr__(self) -> str:
        return (f"ImageClassificationDataset({len(self)} items, {len(self.classes)} classes, size={self.size}, "
                f"channels={self.channels}, augment={self.augment!r}, seed={self.seed})")


class EpochShuffleSampler(Sampler):
    """Shuffles ``range(n)`` each epoch and yields ``(index, epoch key)``, both drawn from one ``torch.Generator``.

    Each pass first draws the epoch key, then the permutation, from ``generator``; restoring the generator's state
    (as :class:`~vision.train.Trainer` checkpoints do) therefore repeats both the order and the augmentations.

    Args:
        n: the number of items.
        generator: the seeded generator (also give it to the ``DataLoader`` so ``loader.generator`` is it).
        shuffle: False keeps the order ``0 … n-1`` (the key is still drawn).
    """

    def __init__(self, n: int, *, generator: torch.Generator, shuffle: bool = True) -> None:
        self.n = int(n)
        self.generator = generator
        self.shuffle = bool(shuffle)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        key = int(torch.randint(0, 2**31 - 1, (), generator=self.generator))
        order = torch.randperm(self.n, generator=self.generator) if self.shuffle else torch.arange(self.n)
        for i in order.tolist():
            yield i, key


def classification_loaders(
    table: ClassificationTable, *, size: int | tuple[int, int], batch_size: int = 32,
    augment: Augmentation | AugmentConfig | str | Callable[[np.ndarray], np.ndarray] | None = None,
    val: ClassificationTable | float | None = None, seed: int = 0, num_workers: int = 0, channels: int = 3,
    normalize: tuple[Any, Any] | None = None,
) -> tuple[DataLoader, DataLoader | None]:
    """Training and validation ``DataLoader``\\ s of :class:`ImageClassificationDataset`, reproducible from ``seed``.

    The training loader shuffles with a ``torch.Generator`` seeded with ``seed`` (``loader.generator``) through an
    :class:`EpochShuffleSampler`, so each epoch gets a new order and new augmentations without any ``set_epoch``
    call, and :class:`~vision.train.Trainer` resumes a checkpoint exactly. The validation loader keeps its order
    and never augments.

    Args:
        table: the training images (or all of them when ``val`` is a fraction).
        size: the model's input ``(height, width)`` (an int: square).
        batch_size: items per batch (≥ 1; the last batch may be smaller).
        augment: training augmentation (see :class:`ImageClassificationDataset`); None for none.
        val: a validation table, a fraction in (0, 1) of ``table`` to hold out (stratified by class, with
            ``seed``), or None (no validation loader).
        seed: seeds the split, the shuffling and the augmentations.
        num_workers: ``DataLoader`` worker processes (0: load in the main process).
        channels: 1 (gray) or 3 (RGB).
        normalize: ``(mean, std)`` for both loaders, or None.
    Returns:
        ``(train_loader, val_loader or None)``; batches are ``(float32 B×C×H×W, int64 B)``.
    Raises:
        InputError: bad ``batch_size``, ``num_workers``, ``val`` or any dataset option; a ``val`` table whose class
            names differ from ``table``'s.
        DatasetError: ``val`` as a fraction leaves no training or no validation item.
    """
    from vision.data.splits import stratified_split
    from vision.errors import DatasetError

    if not isinstance(table, ClassificationTable):
        raise InputError(f"table: expected a vision.data.ClassificationTable, got {type(table).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InputError(f"batch_size: expected an integer ≥ 1, got {batch_size!r}")
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) or num_workers < 0:
        raise InputError(f"num_workers: expected an integer ≥ 0, got {num_workers!r}")
    if size is None:
        raise InputError("size: expected the model's input size (an int or (height, width)); batches need one size")
    seed_ = _check_seed(seed)
    if seed_ is None:
        raise InputError("seed: expected an integer ≥ 0, got None")
    train_table = table
    val_table: ClassificationTable | None
    if val is None:
        val_table = None
    elif isinstance(val, ClassificationTable):
        if list(val.classes) != list(table.classes):
            raise InputError(f"val: expected the training table's classes {table.classes[:20]}, got "
                             f"{val.classes[:20]}")
        val_table = val
    elif not isinstance(val, bool) and isinstance(val, (float, int, np.floating, np.integer)):
        fraction = float(val)
        if not 0 < fraction < 1:
            raise InputError(f"val: expected a fraction in (0, 1), a ClassificationTable or None, got {val!r}")
        parts = stratified_split(table.labels, fractions={"train": 1 - fraction, "val": fraction}, seed=seed_)
        if not len(parts["train"]) or not len(parts["val"]):
            raise DatasetError(f"val={fraction:g} of {len(table)} items leaves {len(parts['train'])} for training and "
                               f"{len(parts['val'])} for validation; expected at least one in each")
        train_table, val_table = table.subset(parts["train"]), table.subset(parts["val"])
    else:
        raise InputError(f"val: expected a fraction in (0, 1), a ClassificationTable or None, got "
                         f"{type(val).__name__}")
    if len(train_table) == 0:
        raise DatasetError("classification_loaders: the training table has no items; expected at least one")
    train_ds = ImageClassificationDataset(train_table, size=size, augment=augment, channels=channels,
                                          normalize=normalize, seed=seed_)
    generator = torch.Generator().manual_seed(seed_)
    sampler = EpochShuffleSampler(len(train_ds), generator=generator, shuffle=True)
    train_loader = DataLoader(train_ds, batch_size=int(batch_size), sampler=sampler, generator=generator,
                              num_workers=int(num_workers), drop_last=False)
    val_loader = None
    if val_table is not None:
        if len(val_table) == 0:
            raise DatasetError("classification_loaders: the validation table has no items; expected at least one")
        val_ds = ImageClassificationDataset(val_table, size=size, augment=None, channels=channels,
                                            normalize=normalize, seed=seed_)
        val_loader = DataLoader(val_ds, batch_size=int(batch_size), shuffle=False, num_workers=int(num_workers))
    return train_loader, val_loader
