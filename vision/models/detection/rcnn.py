"""R-CNN (Girshick et al., CVPR 2014) as its real three-stage pipeline, registered as ``"rcnn"``.

1. **Proposals**: selective search (:func:`~vision.models.detection.selective_search.selective_search`, fast mode).
2. **Warped crops → CNN**: every proposal, dilated so that ``context`` pixels of surrounding image remain around it
   (the paper's p = 16 at 227 px; 3 at 48 px here), is warped anisotropically to ``crop_size``×``crop_size``
   (outside the image: mid-gray, zero after normalisation) and classified by a CNN with ``C + 1`` outputs, 0 being
   background. The CNN is the registered ``"vgg-small"`` (:class:`~vision.models.classification.cnns.VGGSmall`)
   trained from scratch on the crops: R-CNN runs it once per proposal (500 per image), so a 4-stage VGG of 0.4 M
   parameters at 48 px (~9 M multiply-adds per crop) is what a CPU affords (EfficientNet-Lite0 on every crop would
   cost ~15 GFLOPs per image); it is the family of the paper's best network (VGG-16) at the size this task needs.
3. **Class-specific box regression** (the paper's appendix C): one ridge regression per class from the CNN's
   penultimate features ("fc7", the ``hidden``-wide dense layer) to the ``(dx, dy, dw, dh)`` deltas from a proposal
   to its ground-truth box, fit in closed form on proposals with IoU ≥ 0.6; then per-class NMS
   (:func:`torchvision.ops.batched_nms`, IoU 0.3 as in the paper).

Training lives in :mod:`vision.models.detection.rcnn_train` (:func:`~vision.models.detection.rcnn_train.train_rcnn`:
crops labelled by IoU, the shared trainer with a ClassificationTask, then the ridge box regressors; the paper's
per-class SVMs are replaced by the softmax it fine-tuned, which it found only slightly worse).

Weights: ``weights=`` names a manifest entry (``"rcnn-scenes"``, shipped: trained on the synthetic shapes preset)
or a ``.safetensors`` file written by :meth:`RCNN.save`; None builds an untrained model.

Example:
    >>> from vision.models import create_model
    >>> from vision.models.detection.scenes_preset import detection_scenes     # doctest: +SKIP
    >>> rcnn = create_model("rcnn")                                           # doctest: +SKIP
    >>> rcnn.predict(detection_scenes("test", n=1).image_path(0)).labels      # doctest: +SKIP
    ('star', 'circle')
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.data.scenes import SHAPE_CLASSES
from vision.errors import InputError
from vision.models.config import (
    ModelConfig,
    int_tuple,
    positive_int,
    probability,
)
from vision.models.detection.proposal_detector import (
    ProposalDetector,
    check_common,
    to_detections,
)
from vision.models.registry import register_model
from vision.types import Detections

__all__ = [
    "RCNN",
    "WEIGHTS_FORMAT",
    "RCNNConfig",
    "RCNNNet",
    "apply_deltas",
    "assign_labels",
    "box_deltas",
    "crops_to_tensor",
    "paired_iou",
    "warp_crops",
]

logger = logging.getLogger(__name__)

#: the ``format`` entry in the metadata of the safetensors files :meth:`RCNN.save` writes
WEIGHTS_FORMAT = "vision.rcnn/1"
_GRAY = 128  # the fill outside the image; (x - 128) / 64 makes it 0


@dataclass(frozen=True)
class RCNNConfig(ModelConfig):
    """Options of :class:`RCNN` (JSON-serialisable).

    Attributes:
        classes: the object class names (background excluded; the CNN has ``len(classes) + 1`` outputs).
        weights: a manifest name, a ``.safetensors`` path from :meth:`RCNN.save`, or None (untrained).
        crop_size: side of the warped crops. context: pixels of image context kept around a box in the crop.
        widths, depths, hidden, dropout: the ``vgg-small`` classifier (``hidden`` = feature size for box regression).
        proposals: selective search mode. max_proposals: the best-ranked proposals classified per image (500:
            recall of the preset's boxes at IoU 0.5 is 0.99 there, and fewer crops mean fewer false positives).
        box_regression: apply the class-specific box regressors (when the weights have them).
        score_threshold: drop detections below this class probability. nms_iou: per-class NMS overlap.
        max_detections: keep at most this many detections per image. crop_batch: crops per CNN forward pass.

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    classes: tuple[str, ...] = SHAPE_CLASSES
    weights: str | None = "rcnn-scenes"
    crop_size: int = 48
    context: int = 3
    widths: tuple[int, ...] = (16, 32, 64, 128)
    depths: tuple[int, ...] = (1, 1, 1, 1)
    hidden: int = 256
    dropout: float = 0.5
    proposals: str = "fast"
    max_proposals: int = 500
    box_regression: bool = True
    score_threshold: float = 0.05
    nms_iou: float = 0.3
    max_detections: int = 100
    crop_batch: int = 256

    def __post_init__(self) -> None:
        who = "RCNNConfig"
        check_common(self, who)
        for name in ("crop_size", "hidden", "crop_batch"):
            positive_int(who, name, getattr(self, name))
        object.__setattr__(self, "widths", int_tuple(who, "widths", self.widths))
        object.__setattr__(self, "depths", int_tuple(who, "depths", self.depths, length=len(self.widths)))
        if self.crop_size < 2 ** len(self.widths):
            raise InputError(f"{who}: crop_size must be ≥ 2**len(widths) = {2 ** len(self.widths)}; "
                             f"got {self.crop_size}")
        if isinstance(self.context, bool) or not isinstance(self.context, int) \
                or not 0 <= self.context < self.crop_size // 4:
            raise InputError(f"{who}: context must be an integer in [0, crop_size/4); got {self.context!r}")
        object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))
        if not isinstance(self.box_regression, bool):
            raise InputError(f"{who}: box_regression must be True or False; got {self.box_regression!r}")


# --------------------------------------------------------------------------------------------------
# boxes: labelling, deltas, crops
# --------------------------------------------------------------------------------------------------
def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """N×M IoU of xyxy boxes."""
    a, b = np.asarray(a, np.float64)[:, None, :], np.asarray(b, np.float64)[None, :, :]
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    union = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / np.maximum(union - inter, 1e-9)


def assign_labels(proposals: np.ndarray, gt_boxes: np.ndarray, gt_labels: np.ndarray, *, fg_iou: float = 0.5,
                  bg_iou: float = 0.3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label proposals by their best overlap with the ground truth, as R-CNN's fine-tuning does.

    Args:
        proposals: N×4 xyxy boxes. gt_boxes: M×4 xyxy boxes. gt_labels: M class labels (1..C).
        fg_iou: IoU at or above which a proposal takes its best ground-truth box's label.
        bg_iou: IoU below which a proposal is background (0); in between it is ignored (-1).

    Returns:
        (N int64 labels: 1..C, 0 background, -1 ignored; N float32 best IoU; N int64 index of the best box, -1 when
        there is no ground truth).

    Raises:
        InputError: ``bg_iou > fg_iou`` or thresholds outside [0, 1].
    """
    if not 0.0 <= bg_iou <= fg_iou <= 1.0:
        raise InputError(f"assign_labels: expected 0 ≤ bg_iou ≤ fg_iou ≤ 1; got bg_iou={bg_iou}, fg_iou={fg_iou}")
    proposals = np.asarray(proposals, np.float32).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, np.float32).reshape(-1, 4)
    gt_labels = np.asarray(gt_labels, np.int64).reshape(-1)
    n = len(proposals)
    if not len(gt_boxes) or not n:
        return np.zeros(n, np.int64), np.zeros(n, np.float32), np.full(n, -1, np.int64)
    ious = _iou(proposals, gt_boxes)
    best = ious.argmax(axis=1)
    best_iou = ious[np.arange(n), best].astype(np.float32)
    labels = np.where(best_iou >= fg_iou, gt_labels[best], np.where(best_iou < bg_iou, 0, -1)).astype(np.int64)
    return labels, best_iou, best.astype(np.int64)


def paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``a[k]`` with ``b[k]`` for each k (both N×4 xyxy)."""
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return inter / np.maximum(union, 1e-9)


def box_deltas(boxes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """R-CNN's regression targets from ``boxes`` to ``targets`` (both N×4 xyxy): centre shifts in box widths /
    heights and log size ratios ``(dx, dy, dw, dh)``."""
    boxes = np.asarray(boxes, np.float64)
    targets = np.asarray(targets, np.float64)
    pw, ph = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    gw, gh = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
    return np.stack([(targets[:, 0] + 0.5 * gw - boxes[:, 0] - 0.5 * pw) / pw,
                     (targets[:, 1] + 0.5 * gh - boxes[:, 1] - 0.5 * ph) / ph,
                     np.log(gw / pw), np.log(gh / ph)], axis=1)


def apply_deltas(boxes: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """The inverse of :func:`box_deltas` (size ratios clamped to e^±4)."""
    boxes = np.asarray(boxes, np.float64)
    deltas = np.asarray(deltas, np.float64)
    pw, ph = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cx, cy = boxes[:, 0] + 0.5 * pw + deltas[:, 0] * pw, boxes[:, 1] + 0.5 * ph + deltas[:, 1] * ph
    w, h = pw * np.exp(np.clip(deltas[:, 2], -4, 4)), ph * np.exp(np.clip(deltas[:, 3], -4, 4))
    return np.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], axis=1)


def warp_crops(image: np.ndarray, boxes: np.ndarray, *, size: int, context: int, flip: np.ndarray | None = None
               ) -> np.ndarray:
    """Warp each box (dilated for ``context`` pixels of surrounding image) to a ``size``×``size`` crop.

    Args:
        image: H×W×3 uint8 RGB. boxes: N×4 xyxy. size: crop side. context: pixels of context in the crop.
        flip: optional N booleans: mirror those crops left-right (training augmentation).

    Returns:
        N×size×size×3 uint8 crops; pixels outside the image are mid-gray (128).
    """
    import cv2

    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = np.empty((len(boxes), size, size, 3), np.uint8)
    inner = size - 2 * context
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        sx = inner / max(x2 - x1, 1e-3)
        sy = inner / max(y2 - y1, 1e-3)
        m = np.array([[sx, 0.0, context - x1 * sx], [0.0, sy, context - y1 * sy]])
        if flip is not None and flip[k]:
            m[0] = -m[0]
            m[0, 2] += size
        # pixel centres: output pixel j covers [j, j + 1); warpAffine maps centres, hence the half-pixel shifts
        m[:, 2] += 0.5 * (m[:, 0] + m[:, 1]) - 0.5
        out[k] = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=(_GRAY, _GRAY, _GRAY))
    return out


def crops_to_tensor(crops: np.ndarray) -> Any:
    """N×S×S×3 uint8 crops → N×3×S×S float32 tensor, ``(x - 128) / 64`` (the CNN's input)."""
    return torch.from_numpy(crops).permute(0, 3, 1, 2).float().sub_(_GRAY).div_(64.0)


# --------------------------------------------------------------------------------------------------
# the network
# --------------------------------------------------------------------------------------------------
class RCNNNet(nn.Module):
    """The crop classifier (a ``vgg-small``) and the class-specific box regressors (buffers).

    ``forward(crops)`` returns N×(C+1) logits for normalised crops (:func:`crops_to_tensor`), which is what the
    shared trainer's :class:`~vision.train.ClassificationTask` trains; :meth:`features` returns the penultimate
    features too. ``box_weights`` is (C+1)×(hidden+1)×4 (row ``hidden`` is the bias; class 0 unused).
    """

    def __init__(self, config: RCNNConfig) -> None:
        from vision.models.classification.cnns import vgg_small

        super().__init__()
        self.config = config
        self.cnn = vgg_small(in_channels=3, num_classes=len(config.classes) + 1, input_size=config.crop_size,
                             widths=config.widths, depths=config.depths, hidden=config.hidden,
                             dropout=config.dropout)
        head = self.cnn.classifier
        if len(head) != 6 or not isinstance(head[2], nn.Linear) or not isinstance(head[5], nn.Linear):
            raise InputError("RCNNNet: vgg-small's classifier layout changed; expected "
                             "[Flatten, Dropout, Linear, act, Dropout, Linear]")
        self.register_buffer("box_weights", torch.zeros(len(config.classes) + 1, config.hidden + 1, 4))
        self.register_buffer("box_fitted", torch.zeros(1))

    def forward(self, crops: Any) -> Any:
        return self.cnn(crops)

    def features(self, crops: Any) -> tuple[Any, Any]:
        """(N×hidden penultimate features, N×(C+1) logits) for normalised crops."""
        cnn = self.cnn
        x = cnn._to_grid(cnn.features(cnn._check(crops)))
        feat = cnn.classifier[:4](x)
        return feat, cnn.classifier[4:](feat)


@register_model("rcnn", task="detect", weights="rcnn-scenes")
class RCNN(ProposalDetector):
    """R-CNN: selective search → warped crops → CNN (+ background) → box regression → per-class NMS.

    Args:
        config: an :class:`RCNNConfig` or its ``to_dict()``; default the shipped shapes detector.
        **overrides: config fields to replace (``weights=None`` for an untrained model, ``max_proposals=500``...).

    Attributes:
        config, names (the class names), model (the :class:`RCNNNet`).

    ``predict`` / ``predict_batch`` / ``save`` are :class:`~vision.models.detection.proposal_detector.ProposalDetector`'s;
    the CNN sees ``config.crop_batch`` crops at a time whatever ``batch_size`` is.

    Raises:
        InputError: a bad option. WeightsNotFoundError: the weights are absent. WeightsError: weights for another
        class count or architecture.
    """

    name = "rcnn"
    config_class = RCNNConfig
    weights_format = WEIGHTS_FORMAT

    def _build_net(self) -> RCNNNet:
        return RCNNNet(self.config)

    def _detect(self, images: list[np.ndarray], boxes: list[np.ndarray], min_score: float) -> list[Detections]:
        out = [self._detect_one(image, b) for image, b in zip(images, boxes)]
        return [d.filter(min_score=min_score) if min_score > 0 else d for d in out]

    def _detect_one(self, image: np.ndarray, boxes: np.ndarray) -> Detections:
        from torchvision.ops import batched_nms

        cfg = self.config
        h, w = image.shape[:2]
        boxes = boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]
        if not len(boxes):
            return Detections.empty(names=self.names, image_shape=(h, w))
        feats, probs = [], []
        with torch.inference_mode():
            for s in range(0, len(boxes), cfg.crop_batch):
                crops = crops_to_tensor(warp_crops(image, boxes[s:s + cfg.crop_batch], size=cfg.crop_size,
                                                   context=cfg.context))
                f, logits = self.model.features(crops)
                feats.append(f)
                probs.append(logits.float().softmax(dim=1))
        feat, prob = torch.cat(feats), torch.cat(probs)
        scores = prob[:, 1:]
        keep = scores >= cfg.score_threshold
        idx, cls = keep.nonzero(as_tuple=True)
        if not len(idx):
            return Detections.empty(names=self.names, image_shape=(h, w))
        sel = boxes[idx.numpy()]
        labels = (cls + 1).numpy()
        if cfg.box_regression and float(self.model.box_fitted) > 0:
            x = torch.cat([feat[idx], torch.ones(len(idx), 1)], dim=1)
            deltas = torch.einsum("nd,ndk->nk", x, self.model.box_weights[cls + 1].float()).numpy()
            sel = apply_deltas(sel, deltas)
        sel = np.clip(sel, 0, [w, h, w, h]).astype(np.float32)
        tb, ts, tl = torch.from_numpy(sel), scores[idx, cls].float(), torch.from_numpy(labels)
        ok = (tb[:, 2] > tb[:, 0]) & (tb[:, 3] > tb[:, 1])
        tb, ts, tl = tb[ok], ts[ok], tl[ok]
        order = batched_nms(tb, ts, tl, cfg.nms_iou)[:cfg.max_detections]
        return to_detections(tb[order].numpy(), ts[order].numpy(), tl[order].numpy(), self.names, (h, w))
