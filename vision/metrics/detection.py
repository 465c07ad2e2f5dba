"""Detection metrics: COCO mAP@0.5 and mAP@[.5:.95], per-class AP, precision–recall curves and the best-F1 point.

The matching and accumulation are COCO's own: ``pycocotools.cocoeval.COCOeval`` (the reference implementation, the
one torchmetrics' ``MeanAveragePrecision`` runs inside) on in-memory COCO objects. Its precision array
``[iou, recall, class, area, max_dets]`` gives the APs and curves, and its per-image matches give the exact precision
and recall at every score threshold. Nothing of the matching is re-implemented here; the numbers equal COCOeval run on
the same boxes written as COCO JSON files, and torchmetrics' (both tested). pycocotools is used directly rather than
through torchmetrics because torchmetrics hides the per-detection matches and costs seconds of import time.

COCO conventions apply: a class that has no ground-truth box in the whole set has no AP (``nan``; its false positives
do not lower the mean), at most 100 detections per image count (the highest-scoring ones), and the precision curve is
COCO's interpolated one sampled at the 101 recall points 0, 0.01, …, 1.

Example:
    >>> from vision.types import Detections
    >>> gt = [Detections([[10, 10, 50, 50]], [1.0], [0], names=["cat"])]
    >>> pred = [Detections([[11, 10, 50, 52]], [0.9], [0], names=["cat"])]
    >>> report = evaluate_detections(pred, gt)
    >>> round(report.map50, 3), report.num_targets
    (1.0, 1)
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import InputError, ShapeError
from vision.types import Detections

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from vision.data.records import DetectionDataset

__all__ = ["COCO_IOU_THRESHOLDS", "DetectionReport", "PRCurve", "evaluate_detections", "plot_pr_curves"]

logger = logging.getLogger(__name__)

#: 0.50, 0.55, …, 0.95: the IoU thresholds of COCO's mAP@[.5:.95].
COCO_IOU_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
_MAX_DETS = 100


@dataclass(frozen=True, eq=False)
class PRCurve:
    """One class's COCO precision–recall curve at one IoU threshold.

    Attributes:
        recall: the 101 recall points 0, 0.01, …, 1.
        precision: COCO's interpolated precision at each recall point (the best precision at that recall or
            higher); 0 beyond the highest recall reached.
        scores: the confidence of the detection at which each recall point is first reached (0 where never).
    """

    recall: np.ndarray
    precision: np.ndarray
    scores: np.ndarray

    @property
    def ap(self) -> float:
        """Average precision: the mean of ``precision`` over the recall points (COCO's 101-point AP)."""
        return float(np.mean(self.precision))


def _nan_to_none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


@dataclass(frozen=True, eq=False)
class DetectionReport:
    """The evaluation of a detector on a set of images (see :func:`evaluate_detections`).

    Per-class values are dicts keyed by class name, in class-id order; ``nan`` marks what is undefined (a class
    without ground truth has no AP; an evaluation without any ground truth has no mAP).

    Attributes:
        names: the class-name table (id → name).
        map50: mAP at IoU 0.5 (``nan`` when 0.5 is not among ``iou_thresholds``).
        map50_95: mAP averaged over ``iou_thresholds`` (COCO's mAP@[.5:.95] by default).
        map75: mAP at IoU 0.75 (``nan`` when 0.75 is not among ``iou_thresholds``).
        ap50, ap50_95: per-class AP at IoU 0.5 and averaged over ``iou_thresholds``.
        precision, recall, f1: means over the classes with ground truth at ``confidence``, the score threshold
            that maximises the mean per-class F1 (read from the PR curves at ``curve_iou``).
        confidence: that threshold (keep detections with score ≥ it).
        class_precision, class_recall: per-class precision and recall at ``confidence``.
        num_images, num_targets, num_predictions: counts over the whole set.
        class_targets, class_predictions: per-class box counts.
        iou_thresholds: the IoU thresholds evaluated.
        curve_iou: the IoU threshold of ``pr_curves`` and of the best-F1 point (0.5 when evaluated).
        pr_curves: per-class :class:`PRCurve` for the classes with ground truth.
    """

    names: tuple[str, ...]
    map50: float
    map50_95: float
    map75: float
    ap50: dict[str, float]
    ap50_95: dict[str, float]
    precision: float
    recall: float
    f1: float
    confidence: float
    class_precision: dict[str, float]
    class_recall: dict[str, float]
    num_images: int
    num_targets: int
    num_predictions: int
    class_targets: dict[str, int]
    class_predictions: dict[str, int]
    iou_thresholds: tuple[float, ...] = COCO_IOU_THRESHOLDS
    curve_iou: float = 0.5
    pr_curves: dict[str, PRCurve] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``nan`` becomes ``None``; curves as lists)."""
        per_class = {}
        for name in self.names:
            per_class[name] = {
                "targets": self.class_targets[name], "predictions": self.class_predictions[name],
                "precision": _nan_to_none(self.class_precision[name]), "recall": _nan_to_none(self.class_recall[name]),
                "ap50": _nan_to_none(self.ap50[name]), "ap50_95": _nan_to_none(self.ap50_95[name]),
            }
        return {
            "map50": _nan_to_none(self.map50), "map50_95": _nan_to_none(self.map50_95), "map75": _nan_to_none(self.map75),
            "precision": _nan_to_none(self.precision), "recall": _nan_to_none(self.recall), "f1": _nan_to_none(self.f1),
            "confidence": _nan_to_none(self.confidence),
            "num_images": self.num_images, "num_targets": self.num_targets, "num_predictions": self.num_predictions,
            "names": list(self.names), "iou_thresholds": list(self.iou_thresholds), "curve_iou": self.curve_iou,
            "classes": per_class,
            "pr_curves": {k: {"recall": c.recall.tolist(), "precision": c.precision.tolist(), "scores": c.scores.tolist()}
                          for k, c in self.pr_curves.items()},
        }

    def table(self, *, digits: int = 3) -> str:
        """A Markdown table: one row for all classes, then one per class (targets, predictions, P, R, AP50, AP50-95)."""

        def num(v: float) -> str:
            return "—" if v is None or math.isnan(v) else f"{v:.{digits}f}"

        head = "| class | targets | predictions | P | R | AP50 | AP50-95 |\n|---|---:|---:|---:|---:|---:|---:|"
        rows = [(f"| all | {self.num_targets} | {self.num_predictions} | {num(self.precision)} | {num(self.recall)} | "
                 f"{num(self.map50)} | {num(self.map50_95)} |")]
        for n in self.names:
            rows.append(f"| {n} | {self.class_targets[n]} | {self.class_predictions[n]} | {num(self.class_precision[n])} "
                        f"| {num(self.class_recall[n])} | {num(self.ap50[n])} | {num(self.ap50_95[n])} |")
        return "\n".join([head, *rows])

    def __str__(self) -> str:
        return (f"DetectionReport(images={self.num_images}, mAP50={self.map50:.4f}, mAP50-95={self.map50_95:.4f}, "
                f"P={self.precision:.3f}, R={self.recall:.3f} @ conf {self.confidence:.3f})")


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------
def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, (str, bytes, Detections, np.ndarray)) or not hasattr(value, "__iter__"):
        raise InputError(f"{what}: expected a sequence with one Detections per image, got {type(value).__name__}")
    return list(value)


def _check_thresholds(iou_thresholds: Any) -> tuple[float, ...]:
    if iou_thresholds is None:
        return COCO_IOU_THRESHOLDS
    try:
        values = [float(v) for v in (iou_thresholds if hasattr(iou_thresholds, "__iter__") else [iou_thresholds])]
    except (TypeError, ValueError):
        raise InputError(f"iou_thresholds: expected numbers in (0, 1], got {iou_thresholds!r}") from None
    if not values or not all(math.isfinite(v) and 0.0 < v <= 1.0 for v in values) or len(set(values)) != len(values):
        raise InputError(f"iou_thresholds: expected one or more distinct numbers in (0, 1], got {iou_thresholds!r}")
    return tuple(sorted(values))


def _resolve_names(names: Any, dataset_names: list[str] | None, dets: list[Detections]) -> tuple[str, ...]:
    if names is not None:
        if isinstance(names, str) or not all(isinstance(n, str) for n in names) or not len(names):
            raise InputError(f"names: expected a non-empty sequence of class names, got {names!r}")
        if len(set(names)) != len(names):
            raise InputError(f"names: expected unique class names, got {list(names)}")
        return tuple(names)
    if dataset_names:
        return tuple(dataset_names)
    for d in dets:
        if d.names:
            return tuple(d.names)
    top = max((int(d.class_ids.max()) for d in dets if len(d)), default=-1)
    return tuple(str(i) for i in range(top + 1))


def _check_pair(i: int, pred: Any, target: Any, names: tuple[str, ...]) -> None:
    for what, det in (("prediction", pred), ("target", target)):
        if not isinstance(det, Detections):
            raise InputError(f"{what} {i}: expected a vision.types.Detections, got {type(det).__name__}")
        if det.names and tuple(det.names) != names:
            raise InputError(f"{what} {i}: class names {list(det.names)[:8]} differ from the evaluation classes "
                             f"{list(names)[:8]}; pass predictions and targets over one class table")
        if len(det) and int(det.class_ids.max()) >= len(names):
            raise InputError(f"{what} {i}: class id {int(det.class_ids.max())} is out of range; expected ids < "
                             f"{len(names)} ({list(names)[:8]})")
    if pred.image_shape is not None and target.image_shape is not None and pred.image_shape != target.image_shape:
        raise ShapeError(f"prediction {i} is for a {pred.image_shape[0]}×{pred.image_shape[1]} image, its target for "
                         f"{target.image_shape[0]}×{target.image_shape[1]}; are predictions in the targets' order?")


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------
def evaluate_detections(predictions: Sequence[Detections], targets: DetectionDataset | Sequence[Detections], *,
                        names: Sequence[str] | None = None,
                        iou_thresholds: Sequence[float] | None = None, iou_type: str = "bbox") -> DetectionReport:
    """Evaluate detections against ground truth with COCO's matching (pycocotools COCOeval, boxes or masks).

    Args:
        predictions: one :class:`~vision.types.Detections` per image, in the targets' order (scores rank them).
        targets: a :class:`~vision.data.records.DetectionDataset` or one ground-truth ``Detections`` per image
            (scores ignored); images without objects are allowed.
        names: the class-name table; default the dataset's classes, else the first non-empty ``names`` of the
            targets or predictions, else ``"0"``, ``"1"``, … up to the largest id.
        iou_thresholds: IoU thresholds to average over; default COCO's 0.50:0.05:0.95.
        iou_type: ``"bbox"`` (box IoU) or ``"segm"`` (mask IoU: instance-segmentation mask AP; every prediction
            and target must carry ``masks``).
    Returns:
        A :class:`DetectionReport`.
    Raises:
        InputError: no images; different numbers of predictions and targets; an entry that is not a Detections;
            a class id outside ``names`` or a Detections whose own class names differ; bad ``names`` or
            ``iou_thresholds``.
        ShapeError: a prediction and its target name different image sizes.
    """
    if iou_type not in ("bbox", "segm"):
        raise InputError(f"iou_type: expected 'bbox' or 'segm', got {iou_type!r}")
    # imported here: importing vision.data costs 0.2 s, too much for `import vision.metrics`
    from vision.data.records import DetectionDataset

    preds = _as_list(predictions, "predictions")
    dataset_names = None
    if isinstance(targets, DetectionDataset):
        dataset_names = list(targets.classes)
        gts = [targets.detections(i) for i in range(len(targets))]
    else:
        gts = _as_list(targets, "targets")
    if len(preds) != len(gts):
        raise InputError(f"expected one prediction per target image, got {len(preds)} predictions for {len(gts)} images")
    if not gts:
        raise InputError("expected at least one image to evaluate, got none")
    thresholds = _check_thresholds(iou_thresholds)
    typed = [d for d in preds + gts if isinstance(d, Detections)]
    names = _resolve_names(names, dataset_names, typed)
    for i, (p, t) in enumerate(zip(preds, gts)):
        _check_pair(i, p, t, names)
        if iou_type == "segm":
            for what, d in (("prediction", p), ("target", t)):
                if d.masks is None and len(d):
                    raise InputError(f"image {i}: the {what} has {len(d)} boxes but no masks; iou_type='segm' "
                                     "expected instance masks (Detections.masks)")
    crowded = sum(len(p) > _MAX_DETS for p in preds)
    if crowded:
        logger.warning("%d image(s) have more than %d detections; COCO counts only the %d highest-scoring",
                       crowded, _MAX_DETS, _MAX_DETS)

    ev = _run_cocoeval(preds, gts, len(names), thresholds, iou_type)
    K = len(names)
    prec_all = ev.eval["precision"][:, :, :, 0, -1]  # [iou, recall point, class]; area "all", 100 detections
    score_all = ev.eval["scores"][:, :, :, 0, -1]
    t50 = thresholds.index(0.5) if 0.5 in thresholds else None
    t75 = thresholds.index(0.75) if 0.75 in thresholds else None
    tc = 0 if t50 is None else t50
    has_gt = [k for k in range(K) if np.any(prec_all[:, :, k] > -1)]

    def mean_of(values: np.ndarray) -> float:
        v = values[values > -1]
        return float(np.mean(v)) if v.size else float("nan")

    ap50, ap50_95 = np.full(K, np.nan), np.full(K, np.nan)
    curves: dict[int, PRCurve] = {}
    for k in has_gt:
        ap50_95[k] = mean_of(prec_all[:, :, k])
        if t50 is not None:
            ap50[k] = mean_of(prec_all[t50, :, k])
        curves[k] = PRCurve(recall=np.asarray(ev.params.recThrs, np.float64).copy(),
                            precision=prec_all[tc, :, k].astype(np.float64), scores=score_all[tc, :, k].astype(np.float64))
    map50_95 = mean_of(prec_all[:, :, has_gt])
    map50 = mean_of(prec_all[t50][:, has_gt]) if t50 is not None else float("nan")
    map75 = mean_of(prec_all[t75][:, has_gt]) if t75 is not None else float("nan")

    conf, cp, cr = _best_f1(_matches(ev, tc, K), has_gt, K)
    if has_gt:
        mp, mr = float(np.mean(cp[has_gt])), float(np.mean(cr[has_gt]))
        f1 = float(np.mean(_f1(cp[has_gt], cr[has_gt])))
    else:
        mp = mr = f1 = float("nan")

    n_t = np.bincount(np.concatenate([np.zeros(0, np.int64)] + [t.class_ids for t in gts]), minlength=K)
    n_p = np.bincount(np.concatenate([np.zeros(0, np.int64)] + [p.class_ids for p in preds]), minlength=K)
    return DetectionReport(
        names=names, map50=map50, map50_95=map50_95, map75=map75,
        ap50={n: float(ap50[k]) for k, n in enumerate(names)},
        ap50_95={n: float(ap50_95[k]) for k, n in enumerate(names)},
        precision=mp, recall=mr, f1=f1, confidence=conf,
        class_precision={n: float(cp[k]) for k, n in enumerate(names)},
        class_recall={n: float(cr[k]) for k, n in enumerate(names)},
        num_images=len(gts), num_targets=int(n_t.sum()), num_predictions=int(n_p.sum()),
        class_targets={n: int(n_t[k]) for k, n in enumerate(names)},
        class_predictions={n: int(n_p[k]) for k, n in enumerate(names)},
        iou_thresholds=thresholds, curve_iou=thresholds[tc],
        pr_curves={names[k]: c for k, c in curves.items()},
    )


def _run_cocoeval(preds: list[Detections], gts: list[Detections], num_classes: int,
                  thresholds: tuple[float, ...], iou_type: str = "bbox") -> Any:
    """COCOeval over in-memory COCO objects: image ids 1..N, category id = class id + 1, box ids from 1; with
    ``iou_type="segm"`` each annotation also carries its mask as RLE and the mask's pixel count as its area."""
    import contextlib
    import io

    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = [{"id": i + 1, "height": (t.image_shape or (0, 0))[0], "width": (t.image_shape or (0, 0))[1]}
              for i, t in enumerate(gts)]
    categories = [{"id": k + 1, "name": str(k)} for k in range(num_classes)]

    def annotations(dets: list[Detections], scored: bool) -> list[dict[str, Any]]:
        out = []
        for i, d in enumerate(dets):
            xyxy = d.xyxy.astype(np.float64)
            for j, (box, cid, score) in enumerate(zip(xyxy, d.class_ids, d.scores)):
                w, h = float(box[2] - box[0]), float(box[3] - box[1])
                ann = {"id": len(out) + 1, "image_id": i + 1, "category_id": int(cid) + 1,
                       "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h, "iscrowd": 0}
                if iou_type == "segm":
                    m = np.asfortranarray(d.masks[j].astype(np.uint8))
                    ann["segmentation"] = mask_utils.encode(m)
                    ann["area"] = float(m.sum())
                if scored:
                    ann["score"] = float(score)
                out.append(ann)
        return out

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        coco_gt, coco_dt = COCO(), COCO()
        coco_gt.dataset = {"images": images, "annotations": annotations(gts, False), "categories": categories}
        coco_dt.dataset = {"images": images, "annotations": annotations(preds, True), "categories": categories}
        coco_gt.createIndex()
        coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, iouType=iou_type)
        ev.params.iouThrs = np.asarray(thresholds, dtype=np.float64)
        ev.evaluate()
        ev.accumulate()
    return ev


def _matches(ev: Any, t: int, num_classes: int) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Per class: detection scores (descending), their true-positive flags at IoU index ``t``, and the GT count.

    Read from COCOeval's own per-image matches exactly as its ``accumulate`` reads them (area "all", 100
    detections per image, crowd-matched detections ignored).
    """
    p = ev.params
    n_img, n_area, max_det = len(p.imgIds), len(p.areaRng), p.maxDets[-1]
    out = []
    for k in range(num_classes):
        entries = [e for e in ev.evalImgs[k * n_area * n_img:k * n_area * n_img + n_img] if e is not None]
        if not entries:
            out.append((np.zeros(0), np.zeros(0, bool), 0))
            continue
        scores = np.concatenate([np.asarray(e["dtScores"][:max_det], np.float64) for e in entries])
        order = np.argsort(-scores, kind="mergesort")
        matched = np.concatenate([e["dtMatches"][t, :max_det] for e in entries])[order] > 0
        ignored = np.concatenate([e["dtIgnore"][t, :max_det] for e in entries])[order].astype(bool)
        n_gt = int(sum(np.count_nonzero(np.asarray(e["gtIgnore"]) == 0) for e in entries))
        keep = ~ignored
        out.append((scores[order][keep], matched[keep], n_gt))
    return out


def _f1(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p + r > 0, 2 * p * r / (p + r), 0.0)


def _best_f1(matches: list[tuple[np.ndarray, np.ndarray, int]], has_gt: list[int],
             num_classes: int) -> tuple[float, np.ndarray, np.ndarray]:
    """The score threshold maximising the mean F1 over the classes with ground truth; per-class P and R there.

    Keeping detections with score ≥ c, a class's precision is TP / kept and its recall TP / GT; as in Ultralytics, a
    class with detections none of which is kept has precision 1, a class without any detection precision 0. Every
    distinct score is tried; ties keep the higher threshold.
    """
    cp, cr = np.full(num_classes, np.nan), np.full(num_classes, np.nan)
    if not has_gt:
        return float("nan"), cp, cr
    tables = {k: (matches[k][0], np.cumsum(matches[k][1]), matches[k][2]) for k in has_gt}
    candidates = np.unique(np.concatenate([tables[k][0] for k in has_gt]))[::-1]
    if candidates.size == 0:  # no detection of any class with ground truth
        cp[has_gt], cr[has_gt] = 0.0, 0.0
        return float("nan"), cp, cr

    def point(conf: float) -> tuple[np.ndarray, np.ndarray]:
        prec, rec = np.empty(len(has_gt)), np.empty(len(has_gt))
        for j, k in enumerate(has_gt):
            scores, tp, n_gt = tables[k]
            kept = int(np.searchsorted(-scores, -conf, side="right"))  # scores are sorted descending
            if kept:
                prec[j], rec[j] = tp[kept - 1] / kept, tp[kept - 1] / n_gt
            else:  # nothing kept: precision 1 (empty set) where the class has detections at all, else 0
                prec[j], rec[j] = (1.0 if scores.size else 0.0), 0.0
        return prec, rec

    best_f1, best_conf = -1.0, float(candidates[0])
    for conf in candidates:
        prec, rec = point(float(conf))
        f1 = float(np.mean(_f1(prec, rec)))
        if f1 > best_f1 + 1e-12:
            best_f1, best_conf = f1, float(conf)
    prec, rec = point(best_conf)
    cp[has_gt], cr[has_gt] = prec, rec
    return best_conf, cp, cr


# --------------------------------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------------------------------
def plot_pr_curves(report: DetectionReport, path: str | os.PathLike[str] | None = None, *, title: str | None = None,
                   dpi: float = 100) -> Figure:
    """Per-class precision–recall curves of a report, with their AP and the mean curve (mAP) in bold.

    Args:
        report: from :func:`evaluate_detections`.
        path: also write the figure here as a PNG (atomically).
        title: axes title; default ``"Precision–recall @ IoU 0.5"``.
        dpi: resolution (the figure is 7.2 × 6 inches).
    Returns:
        The ``matplotlib.figure.Figure``.
    Raises:
        InputError: ``report`` is not a DetectionReport or has no curve (no ground truth); bad ``path``/``dpi``.
    """
    from vision.metrics.plots import _figure, _finish, _legend

    if not isinstance(report, DetectionReport):
        raise InputError(f"report: expected a DetectionReport, got {type(report).__name__}")
    if not report.pr_curves:
        raise InputError("report: expected precision–recall curves, got none (the targets hold no object)")
    curves: Mapping[str, PRCurve] = report.pr_curves
    fig = _figure(7.2 if len(curves) <= 12 else 9.0, 6.0, dpi)
    ax = fig.add_subplot()
    for name, c in curves.items():
        ax.plot(c.recall, c.precision, lw=1.2, alpha=0.85, label=f"{name} (AP {c.ap:.3f})")
    mean = np.mean([c.precision for c in curves.values()], axis=0)
    ax.plot(next(iter(curves.values())).recall, mean, lw=3, color="#1f3b73",
            label=f"all classes (mAP {float(np.mean(mean)):.3f})")
    if not math.isnan(report.precision):
        ax.plot([report.recall], [report.precision], marker="o", ms=8, color="#d62728", ls="none",
                label=f"best F1 {report.f1:.3f} @ conf {report.confidence:.2f}")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.03), xlabel="Recall", ylabel="Precision",
           title=title or f"Precision–recall @ IoU {report.curve_iou:g} ({report.num_images} images)")
    ax.grid(alpha=0.3)
    _legend(ax, len(curves) + 2, "lower left")
    return _finish(fig, path)
