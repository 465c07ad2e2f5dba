"""Semantic segmentation metrics: pixel accuracy, per-class IoU, mean IoU, Dice — from one confusion matrix.

Every number is read off a ``C×C`` pixel confusion matrix accumulated with :func:`numpy.bincount` (rows = truth,
columns = prediction), so a dataset is evaluated by summing per-image matrices and nothing else is kept. That is
the whole computation torchmetrics' ``JaccardIndex`` / ``DiceScore`` do on tensors; doing it on the numpy maps the
models return avoids a tensor round trip per image and gives every metric from one pass (the tests check the
numbers against torchmetrics and a hand-computed example).

Conventions (as torchmetrics / the VOC and Cityscapes scripts): a class absent from both truth and prediction has
no IoU (``nan``) and is left out of the means; pixels whose truth is ``ignore_index`` are not counted; predictions
outside ``0..C-1`` are an error. Instance masks are scored by COCO mask AP in
:func:`vision.metrics.detection.evaluate_detections` (``iou_type="segm"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError

__all__ = ["SegmentationReport", "evaluate_segmentation", "segmentation_confusion"]


def _class_map(value: Any, what: str) -> np.ndarray:
    """An H×W integer class map from a :class:`~vision.types.Segmentation` or an array."""
    arr = np.asarray(getattr(value, "mask", value))
    if arr.ndim != 2 or arr.size == 0:
        raise ShapeError(f"{what}: expected a non-empty H×W class-id map, got shape {arr.shape}")
    if arr.dtype.kind not in "biu":
        raise DTypeError(f"{what}: expected integer class ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def segmentation_confusion(prediction: Any, target: Any, num_classes: int, *,
                           ignore_index: int | None = None) -> np.ndarray:
    """The ``C×C`` pixel confusion matrix (rows truth, columns prediction) of one image.

    Args:
        prediction, target: H×W class-id maps (arrays or :class:`~vision.types.Segmentation`), same size.
        num_classes: ``C``; ids must lie in ``0..C-1``.
        ignore_index: a truth id whose pixels are not counted (e.g. 255, VOC's boundary label).

    Raises:
        ShapeError: not H×W, or the two sizes differ. DTypeError: not integer ids.
        InputError: an id outside ``0..C-1`` (other than ``ignore_index`` in the truth).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise InputError(f"num_classes: expected an integer ≥ 1, got {num_classes!r}")
    p, t = _class_map(prediction, "prediction"), _class_map(target, "target")
    if p.shape != t.shape:
        raise ShapeError(f"prediction is {p.shape[0]}×{p.shape[1]} but target is {t.shape[0]}×{t.shape[1]}; expected "
                         "maps of the same image size (resize the prediction with nearest-neighbour first)")
    keep = np.ones(t.shape, bool) if ignore_index is None else t != ignore_index
    p, t = p[keep], t[keep]
    for name, ids in (("prediction", p), ("target", t)):
        if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
            bad = int(ids[(ids < 0) | (ids >= num_classes)][0])
            raise InputError(f"{name}: class id {bad} is outside 0..{num_classes - 1} (num_classes={num_classes}"
                             f"{'' if ignore_index is None else f', ignore_index={ignore_index}'})")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class SegmentationReport:
    """Scores of a set of semantic predictions.

    Attributes:
        names: class names. confusion: the summed C×C pixel confusion matrix (rows truth).
        pixel_accuracy: correct pixels / counted pixels. mean_accuracy: mean per-class recall (classes present).
        iou, dice: per-class IoU and Dice (``nan`` for a class absent from truth and prediction).
        miou, mdice: their means over the classes that have a value. num_images: images evaluated.
    """

    names: tuple[str, ...]
    confusion: np.ndarray = field(repr=False)
    pixel_accuracy: float
    mean_accuracy: float
    iou: dict[str, float]
    dice: dict[str, float]
    miou: float
    mdice: float
    num_images: int

    def table(self) -> str:
        """A markdown table: one row per class (pixels in truth, IoU, Dice) and the means."""
        truth = self.confusion.sum(axis=1)
        rows = ["| class | pixels | IoU | Dice |", "|---|---:|---:|---:|"]
        for k, n in enumerate(self.names):
            iou, dice = self.iou[n], self.dice[n]
            rows.append(f"| {n} | {int(truth[k])} | {_fmt(iou)} | {_fmt(dice)} |")
        rows.append(f"| **mean** | {int(truth.sum())} | {_fmt(self.miou)} | {_fmt(self.mdice)} |")
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``nan`` becomes ``None``."""
        def num(v: float) -> float | None:
            return None if np.isnan(v) else float(v)

        return {"names": list(self.names), "pixel_accuracy": num(self.pixel_accuracy),
                "mean_accuracy": num(self.mean_accuracy), "miou": num(self.miou), "mdice": num(self.mdice),
                "iou": {k: num(v) for k, v in self.iou.items()}, "dice": {k: num(v) for k, v in self.dice.items()},
                "num_images": self.num_images, "confusion": self.confusion.tolist()}


def _fmt(v: float) -> str:
    return "—" if np.isnan(v) else f"{v:.3f}"


def evaluate_segmentation(predictions: Sequence[Any], targets: Sequence[Any], *, names: Sequence[str],
                          ignore_index: int | None = None) -> SegmentationReport:
    """Score semantic predictions against truth maps, image by image, summed into one confusion matrix.

    Args:
        predictions, targets: one H×W class-id map per image (arrays or :class:`~vision.types.Segmentation`),
            in the same order; sizes may differ between images but not within a pair.
        names: the class names, id order (include the background class if id 0 is background).
        ignore_index: a truth id left out of every count.

    Returns:
        A :class:`SegmentationReport`.

    Raises:
        InputError: no images, different counts, fewer than one name, or an id outside the names.
        ShapeError / DTypeError: as :func:`segmentation_confusion`.
    """
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise InputError(f"names: expected a non-empty list of class names, got {names!r}")
    preds, gts = list(predictions), list(targets)
    if len(preds) != len(gts):
        raise InputError(f"expected one prediction per target, got {len(preds)} predictions for {len(gts)} targets")
    if not gts:
        raise InputError("expected at least one image to evaluate, got none")
    k = len(names)
    cm = np.zeros((k, k), np.int64)
    for i, (p, t) in enumerate(zip(preds, gts)):
        try:
            cm += segmentation_confusion(p, t, k, ignore_index=ignore_index)
        except (InputError, ShapeError, DTypeError) as exc:
            raise type(exc)(f"image {i}: {exc}") from exc
    tp = np.diag(cm).astype(np.float64)
    truth, pred = cm.sum(axis=1).astype(np.float64), cm.sum(axis=0).astype(np.float64)
    union = truth + pred - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
        dice = np.where(truth + pred > 0, 2 * tp / (truth + pred), np.nan)
        recall = np.where(truth > 0, tp / truth, np.nan)
    total = cm.sum()

    def mean(v: np.ndarray) -> float:
        return float(np.nanmean(v)) if np.any(~np.isnan(v)) else float("nan")

    return SegmentationReport(
        names=tuple(str(n) for n in names), confusion=cm,
        pixel_accuracy=float(tp.sum() / total) if total else float("nan"), mean_accuracy=mean(recall),
        iou={str(n): float(iou[j]) for j, n in enumerate(names)},
        dice={str(n): float(dice[j]) for j, n in enumerate(names)},
        miou=mean(iou), mdice=mean(dice), num_images=len(gts))
