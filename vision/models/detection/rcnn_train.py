"""Training of R-CNN (:mod:`vision.models.detection.rcnn`): crops labelled by IoU, the shared trainer, ridge box
regressors.

:func:`train_rcnn` follows the paper's fine-tuning: proposals with IoU ≥ 0.5 to a ground-truth box (and the
ground-truth boxes themselves) take that box's class, proposals below 0.3 are background, the rest are ignored;
crops are drawn positives : background = 1 : 3 (the paper's 32 : 96 per 128) by a seeded weighted sampler over
every labelled crop, fresh ones each epoch, and the ``vgg-small`` classifier trains with the shared
:class:`~vision.train.Trainer` and :class:`~vision.train.ClassificationTask` (AdamW, cosine schedule). Then
:func:`fit_box_regressors` fits the class-specific ridge regressors in closed form (the paper's appendix C).

Example:
    >>> from vision.models.detection.rcnn_train import train_rcnn                           # doctest: +SKIP
    >>> detector, history = train_rcnn(train_ds, val_ds, epochs=12, crops_per_epoch=32000)  # doctest: +SKIP
    >>> detector.save("rcnn.safetensors")                                                    # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from vision.errors import InputError
from vision.models.config import build_config, positive_int
from vision.models.detection.proposal_detector import check_number
from vision.models.detection.rcnn import (
    RCNN,
    RCNNConfig,
    RCNNNet,
    assign_labels,
    box_deltas,
    crops_to_tensor,
    paired_iou,
    warp_crops,
)

__all__ = ["CropDataset", "fit_box_regressors", "train_rcnn"]

logger = logging.getLogger(__name__)


class CropDataset:
    """Labelled proposal crops of a detection dataset: item ``k`` = (3×S×S normalised crop, label 0..C).

    Args:
        images: the H×W×3 uint8 images (kept in memory). entries: K×6 float array (image index, x1, y1, x2, y2,
            label). size, context: as :func:`warp_crops`. hflip: probability of mirroring a crop.
    """

    def __init__(self, images: Sequence[np.ndarray], entries: np.ndarray, *, size: int, context: int,
                 hflip: float = 0.0) -> None:
        self.images, self.entries, self.size, self.context, self.hflip = images, entries, size, context, hflip

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, k: int) -> tuple[Any, Any]:
        e = self.entries[k]
        flip = np.array([self.hflip > 0 and float(torch.rand(())) < self.hflip])
        crop = warp_crops(self.images[int(e[0])], e[None, 1:5], size=self.size, context=self.context, flip=flip)
        return crops_to_tensor(crop)[0], torch.tensor(int(e[5]), dtype=torch.int64)


def _labelled_entries(dataset: Any, proposals: Sequence[np.ndarray], *, fg_iou: float, bg_iou: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(K×6 entries of proposals + ground-truth boxes labelled by IoU, K gt boxes matched, NaN for background)."""
    rows, gts = [], []
    for i in range(len(dataset)):
        gt = dataset.detections(i)
        boxes = np.concatenate([np.asarray(proposals[i], np.float32).reshape(-1, 4), gt.xyxy])
        labels, _, best = assign_labels(boxes, gt.xyxy, gt.class_ids + 1, fg_iou=fg_iou, bg_iou=bg_iou)
        keep = labels >= 0
        rows.append(np.column_stack([np.full(keep.sum(), i), boxes[keep], labels[keep]]))
        matched = np.full((keep.sum(), 4), np.nan, np.float32)
        fg = labels[keep] > 0
        matched[fg] = gt.xyxy[best[keep][fg]]
        gts.append(matched)
    return np.concatenate(rows).astype(np.float64), np.concatenate(gts)


def fit_box_regressors(net: RCNNNet, images: Sequence[np.ndarray], entries: np.ndarray, matched: np.ndarray, *,
                       min_iou: float = 0.6, ridge: float = 100.0, limit: int = 30000, seed: int = 0) -> int:
    """Fit the class-specific ridge regressors (closed form) on crops with IoU ≥ ``min_iou``; returns how many."""
    cfg = net.config
    fg = np.flatnonzero(entries[:, 5] > 0)
    use = fg[paired_iou(entries[fg, 1:5], matched[fg]) >= min_iou]
    if len(use) > limit:
        use = np.sort(np.random.default_rng(seed).choice(use, limit, replace=False))
    feats = []
    net.eval()
    with torch.inference_mode():
        for s in range(0, len(use), 512):
            part = entries[use[s:s + 512]]
            crops = np.concatenate([warp_crops(images[int(e[0])], e[None, 1:5], size=cfg.crop_size,
                                               context=cfg.context) for e in part])
            feats.append(net.features(crops_to_tensor(crops))[0].double())
    if not feats:
        return 0
    x = torch.cat([torch.cat(feats), torch.ones(len(use), 1, dtype=torch.float64)], dim=1)
    t = torch.from_numpy(box_deltas(entries[use, 1:5], matched[use]))
    labels = entries[use, 5].astype(np.int64)
    eye = torch.eye(x.shape[1], dtype=torch.float64)
    eye[-1, -1] = 0.0  # the bias is not penalised
    weights = torch.zeros_like(net.box_weights, dtype=torch.float64)
    for c in np.unique(labels):
        xc, tc = x[labels == c], t[labels == c]
        weights[c] = torch.linalg.solve(xc.T @ xc + ridge * eye, xc.T @ tc)
    net.box_weights.copy_(weights.to(net.box_weights.dtype))
    net.box_fitted.fill_(1.0)
    return len(use)


def train_rcnn(train: Any, val: Any = None, *, config: RCNNConfig | dict | None = None, epochs: int = 12,
               crops_per_epoch: int = 32000, batch_size: int = 128, lr: float = 2e-3, weight_decay: float = 1e-4,
               positive_fraction: float = 0.25, fg_iou: float = 0.5, bg_iou: float = 0.3, hflip: float = 0.5,
               ridge: float = 100.0, proposals: Sequence[np.ndarray] | None = None,
               val_proposals: Sequence[np.ndarray] | None = None, seed: int = 0, callbacks: Sequence[Any] = (),
               progress: bool = False) -> tuple[RCNN, Any]:
    """Train R-CNN on a :class:`~vision.data.records.DetectionDataset` with the shared trainer.

    Crops are labelled by IoU (``≥ fg_iou`` object, ``< bg_iou`` background, the ground-truth boxes included),
    ``crops_per_epoch`` of them are drawn per epoch with positives making ``positive_fraction`` of the draw
    (the paper's 32 : 96 per 128), the ``vgg-small`` is trained with AdamW + cosine schedule by
    :class:`~vision.train.Trainer` and :class:`~vision.train.ClassificationTask`, then the box regressors are fit.

    Args:
        train, val: the datasets (val: crops labelled the same way, 1:3, for ``val_loss`` / ``val_accuracy``).
        config: the model options (``weights`` is ignored: training starts from random weights).
        proposals, val_proposals: precomputed proposals per image (see
            :func:`~vision.models.detection.selective_search.dataset_proposals`); None computes them (slow).
        seed: seeds torch, the crop sampler and the validation draw.
        callbacks: :class:`~vision.train.callbacks.Callback` objects for the trainer.

    Returns:
        ``(RCNN, History)``.

    Raises:
        InputError: bad options, classes that differ from the dataset's, no positive crop.
    """
    from torch.utils.data import DataLoader, WeightedRandomSampler

    from vision.models.detection.selective_search import dataset_proposals
    from vision.train import ClassificationTask, Trainer
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule

    cfg = build_config(RCNNConfig, config, {}, "rcnn")
    cfg = replace(cfg, weights=None, classes=tuple(train.classes)) if config is None else replace(cfg, weights=None)
    if list(cfg.classes) != list(train.classes):
        raise InputError(f"train_rcnn: config classes {list(cfg.classes)} differ from the dataset's "
                         f"{list(train.classes)}")
    positive_fraction = check_number("train_rcnn", "positive_fraction", positive_fraction, low=0.01, high=0.99)
    hflip = check_number("train_rcnn", "hflip", hflip, low=0.0, high=1.0)
    for name, v in (("epochs", epochs), ("crops_per_epoch", crops_per_epoch), ("batch_size", batch_size)):
        positive_int("train_rcnn", name, v)
    torch.manual_seed(seed)
    detector = RCNN(cfg)
    from vision.io import read_image

    def prepare(ds: Any, props: Any) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        if props is None:
            props = dataset_proposals(ds, mode=cfg.proposals, max_proposals=2000, progress=progress)
        if len(props) != len(ds):
            raise InputError(f"train_rcnn: {len(props)} proposal arrays for {len(ds)} images; expected one each")
        ims = [read_image(ds.image_path(i)) for i in range(len(ds))]
        entries, matched = _labelled_entries(ds, props, fg_iou=fg_iou, bg_iou=bg_iou)
        return ims, entries, matched

    images, entries, matched = prepare(train, proposals)
    fg = entries[:, 5] > 0
    if not fg.any():
        raise InputError("train_rcnn: no proposal or box is an object; expected annotated training images")
    weights = np.where(fg, positive_fraction / fg.sum(), (1 - positive_fraction) / max((~fg).sum(), 1))
    gen = torch.Generator().manual_seed(seed)
    sampler = WeightedRandomSampler(torch.from_numpy(weights), crops_per_epoch, replacement=True, generator=gen)
    train_loader = DataLoader(CropDataset(images, entries, size=cfg.crop_size, context=cfg.context, hflip=hflip),
                              batch_size=batch_size, sampler=sampler)
    val_loader = None
    if val is not None:
        v_images, v_entries, _ = prepare(val, val_proposals)
        rng = np.random.default_rng(seed)
        vfg = np.flatnonzero(v_entries[:, 5] > 0)
        vbg = np.flatnonzero(v_entries[:, 5] == 0)
        vfg = rng.choice(vfg, min(len(vfg), 2000), replace=False)
        vbg = rng.choice(vbg, min(len(vbg), 3 * len(vfg)), replace=False)
        v_entries = v_entries[np.sort(np.concatenate([vfg, vbg]))]
        val_loader = DataLoader(CropDataset(v_images, v_entries, size=cfg.crop_size, context=cfg.context),
                                batch_size=256)
    net = detector.model
    optimizer = make_optimizer(net, "adamw", lr=lr, weight_decay=weight_decay)
    schedule = make_schedule(optimizer, "cosine", epochs=epochs)
    trainer = Trainer(net, ClassificationTask(), optimizer=optimizer, schedule=schedule, callbacks=callbacks)
    history = trainer.fit(train_loader, val_loader, epochs=epochs)
    n = fit_box_regressors(net, images, entries, matched, ridge=ridge, seed=seed)
    logger.info("rcnn: box regressors fit on %d crops", n)
    net.eval()
    return detector, history
