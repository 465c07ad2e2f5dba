"""Semantic-segmentation data: (image, class map) pairs from a dataset with semantic masks, and the training task.

:class:`SemanticMaskDataset` reads a :class:`~vision.data.records.DetectionDataset` whose records carry
``semantic_mask`` PNGs (pixel = class id + 1, 0 = background — what :func:`vision.data.make_scenes` writes), so
class ``0`` is ``"background"`` and the dataset's classes follow. :class:`SegmentationTask` plugs a per-pixel
cross-entropy and the confusion-matrix metrics (:mod:`vision.metrics.segmentation`) into the shared
:class:`~vision.train.Trainer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.errors import DatasetError, InputError, ShapeError
from vision.train.task import MetricAccumulator, StepOutput, Task, split_xy

__all__ = ["IGNORE_INDEX", "SegmentationTask", "SemanticMaskDataset", "semantic_names"]

#: the target id of unlabelled pixels (torch's ``CrossEntropyLoss`` default ``ignore_index``)
IGNORE_INDEX = -100

BACKGROUND = "background"


def semantic_names(classes: Any) -> tuple[str, ...]:
    """The class table of a semantic map: ``"background"`` then the dataset's classes."""
    return (BACKGROUND, *(str(c) for c in classes))


def _mask_file(dataset: Any, rec: Any) -> Path | None:
    """The semantic mask of ``rec``: the record's own, else the scenes layout's ``masks/semantic/<stem>.png`` (a
    scenes folder read through its COCO file keeps no mask paths), else VOC's ``SegmentationClass/<stem>.png``."""
    root = Path(dataset.root)
    if rec.semantic_mask:
        return root / rec.semantic_mask
    stem = Path(rec.file_name).stem
    for folder in (root / "masks" / "semantic", root / "SegmentationClass"):
        if (folder / f"{stem}.png").is_file():
            return folder / f"{stem}.png"
    return None


class SemanticMaskDataset:
    """Item ``i`` = (3×H×W float image in [0, 1], H×W int64 class map) of a dataset with semantic masks.

    Args:
        dataset: a :class:`~vision.data.records.DetectionDataset` whose records name ``semantic_mask`` files.
        hflip: probability of mirroring image and mask together (torch's global generator, so the trainer's seeding
            makes it reproducible).
        void: the mask value of "not labelled" pixels (VOC's object boundaries are 255); they become
            :data:`IGNORE_INDEX` in the targets, so they count in neither the loss nor ``miou`` / ``pixel_accuracy``.
            None: every value must be a class id.

    Raises:
        DatasetError: an image without a semantic mask; reading an item: a mask value that is neither a class id
        nor ``void``. ShapeError: reading an item whose mask is not at its image's size.
    """

    def __init__(self, dataset: Any, *, hflip: float = 0.0, void: int | None = 255) -> None:
        self.masks = [_mask_file(dataset, r) for r in dataset.images]
        missing = [r.file_name for r, m in zip(dataset.images, self.masks) if m is None]
        if missing:
            raise DatasetError(f"{len(missing)} image(s) have no semantic mask (first: {missing[0]}); expected a "
                               "dataset written by vision.data.make_scenes (masks/semantic/<stem>.png) or a VOC "
                               "folder with SegmentationClass/<stem>.png")
        if not 0.0 <= float(hflip) <= 1.0:
            raise InputError(f"hflip: expected a probability in [0, 1], got {hflip!r}")
        self.dataset, self.hflip, self.void = dataset, float(hflip), void
        self.names = semantic_names(dataset.classes)

    def __len__(self) -> int:
        return len(self.dataset)

    def read(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(H×W×3 uint8 image, H×W int64 class map) of item ``index``, unaugmented; ``void`` pixels are
        :data:`IGNORE_INDEX`."""
        from PIL import Image

        from vision.io import read_image

        image = read_image(self.dataset.image_path(index))
        with Image.open(self.masks[index]) as im:
            mask = np.asarray(im, dtype=np.int64)
        if mask.ndim != 2:
            raise ShapeError(f"{self.masks[index]}: mask has shape {mask.shape}; expected a single-channel H×W PNG "
                             "of class ids (a palette PNG reads as ids)")
        if mask.shape != image.shape[:2]:
            raise ShapeError(f"{self.masks[index]}: mask is {mask.shape[0]}×{mask.shape[1]} but its image is "
                             f"{image.shape[0]}×{image.shape[1]}; expected the same size")
        if self.void is not None:
            mask[mask == self.void] = IGNORE_INDEX
        labelled = mask[mask != IGNORE_INDEX]
        if labelled.size and (labelled.max() >= len(self.names) or labelled.min() < 0):
            bad = int(labelled.max() if labelled.max() >= len(self.names) else labelled.min())
            raise DatasetError(f"{self.masks[index]}: class id {bad} but the dataset has {len(self.names)} classes "
                               f"with background; expected ids 0..{len(self.names) - 1}"
                               f"{'' if self.void is None else f' or {self.void} (void)'}")
        return image, mask

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, mask = self.read(index)
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        y = torch.from_numpy(mask)
        if self.hflip and float(torch.rand(())) < self.hflip:
            x, y = x.flip(-1), y.flip(-1)
        return x, y


class _ConfusionAccumulator(MetricAccumulator):
    """Sums the per-pixel confusion matrix of an epoch → ``miou`` and ``pixel_accuracy``."""

    def __init__(self) -> None:
        self.cm: torch.Tensor | None = None

    def update(self, out: StepOutput) -> None:
        logits = out.outputs.detach()
        k = int(logits.shape[1])
        pred, true = logits.argmax(dim=1).flatten().cpu(), out.targets.detach().flatten().cpu()
        keep = (true >= 0) & (true < k)  # IGNORE_INDEX (void) pixels are not counted
        pred, true = pred[keep], true[keep]
        cm = torch.bincount(true * k + pred, minlength=k * k).reshape(k, k)
        self.cm = cm if self.cm is None else self.cm + cm

    def state(self) -> Any:
        return self.cm

    def merge(self, states: list[Any]) -> None:
        states = [s for s in states if s is not None]
        self.cm = sum(states[1:], states[0]) if states else None

    def compute(self) -> dict[str, float]:
        if self.cm is None:
            return {}
        cm = self.cm.double()
        tp = cm.diag()
        union = cm.sum(0) + cm.sum(1) - tp
        iou = tp[union > 0] / union[union > 0]
        return {"miou": float(iou.mean()) if len(iou) else float("nan"), "pixel_accuracy": float(tp.sum() / cm.sum())}


class SegmentationTask(Task):
    """Per-pixel cross-entropy on (images, class maps) batches; metrics ``miou`` and ``pixel_accuracy``.

    Args:
        class_weights: optional per-class loss weights (e.g. a lower weight for a dominant background).
        ignore_index: a target id that contributes no loss.
    """

    metric_names = ("miou", "pixel_accuracy")

    def __init__(self, class_weights: Any = None, ignore_index: int = IGNORE_INDEX) -> None:
        weight = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        self.loss = nn.CrossEntropyLoss(weight=weight, ignore_index=ignore_index)

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        x, y = split_xy(batch, "SegmentationTask")
        logits = model(x)
        if logits.ndim != 4 or logits.shape[-2:] != y.shape[-2:]:
            raise ShapeError(f"SegmentationTask: the model gave {tuple(logits.shape)} for targets {tuple(y.shape)}; "
                             "expected N×C×H×W logits at the targets' size")
        if self.loss.weight is not None and self.loss.weight.device != logits.device:
            self.loss = self.loss.to(logits.device)
        return StepOutput(self.loss(logits, y), logits, y, int(x.shape[0]))

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return model(x)

    def metrics(self) -> MetricAccumulator:
        return _ConfusionAccumulator()
