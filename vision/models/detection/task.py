"""The training :class:`~vision.train.task.Task` of torchvision-style detectors (Faster R-CNN, Fast R-CNN, ...).

A torchvision-style detector takes a list of 3×H×W float images and, in train mode, a list of target dicts
(``"boxes"`` N×4 xyxy, ``"labels"`` N int64 with 0 = background), and returns a dict of named losses; in eval mode
it takes the images only and returns one dict per image (``"boxes"``, ``"scores"``, ``"labels"``). Batches are
``(images, targets)`` as made by :func:`~vision.models.detection.data.detection_collate`.

Logs per epoch (the trainer adds the ``val_`` prefix for validation):

* ``loss`` — the sum of the detector's losses, the step's objective;
* each loss component under its own name (``loss_classifier``, ``loss_box_reg``, ``loss_objectness``,
  ``loss_rpn_box_reg`` for Faster R-CNN), batch-size-weighted means like ``loss``;
* evaluation only: ``map50`` (mAP at IoU 0.5, COCO 101-point interpolation) and ``map`` (mAP@[.5:.95]) over the
  whole epoch's predictions, by :func:`vision.metrics.detection.evaluate_detections` (pycocotools' COCOeval; the
  same numbers as torchmetrics' ``MeanAveragePrecision``). ``nan`` when the epoch has no ground-truth box;
* Mask R-CNN (predictions and targets with ``"masks"``): ``loss_mask`` among the components, and in evaluation
  ``mask_map50`` / ``mask_map``, the same mAPs with mask IoU (``iou_type="segm"``; a predicted mask is its
  probabilities > 0.5, as torchvision's reference evaluation does). Masks are kept bit-packed until the epoch ends.

:func:`fit_detector` is the training recipe shared by ``train_faster_rcnn`` and ``train_mask_rcnn``.

**Validation loss.** torchvision detectors return no losses in eval mode. With ``val_loss=True`` (the default)
:meth:`DetectionTask.step` runs a second, gradient-free forward pass in *loss mode*: the model in train mode so the
RPN and box heads compute their training losses on the validation targets, but with every normalisation and dropout
layer kept in eval mode (so batch-norm running statistics are neither used from the batch nor updated). That value
is the training objective measured on held-out data, comparable with the training ``loss`` (the heads' proposal
sampling draws from torch's global generator, so it varies slightly from run to run unless seeded). With
``val_loss=False`` only predictions are made and the validation ``loss`` is reported as NaN — monitor ``val_map50``
then.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.errors import InputError
from vision.train.task import MetricAccumulator, StepOutput, Task

__all__ = ["DetectionMetrics", "DetectionTask", "fit_detector"]

_NORM_AND_DROPOUT = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.modules.dropout._DropoutNd,
                     nn.modules.instancenorm._InstanceNorm)


def _split(batch: Any) -> tuple[list[torch.Tensor], list[dict[str, Any]] | None]:
    """``(images, targets)`` from a detection batch, or ``(images, None)`` from bare images (a list or N×3×H×W)."""
    if isinstance(batch, torch.Tensor) and batch.ndim == 4:
        return list(batch), None
    if isinstance(batch, Sequence) and not isinstance(batch, (str, bytes)) and batch:
        if len(batch) == 2 and isinstance(batch[1], Sequence) and batch[1] \
                and all(isinstance(t, dict) for t in batch[1]):
            images = list(batch[0]) if isinstance(batch[0], (torch.Tensor, Sequence)) else None
            if images is None or not all(isinstance(im, torch.Tensor) for im in images):
                raise InputError(f"DetectionTask: expected a batch (list of 3×H×W images, list of target dicts); "
                                 f"got images of type {type(batch[0]).__name__}")
            if len(images) != len(batch[1]):
                raise InputError(f"DetectionTask: a batch of {len(images)} images with {len(batch[1])} targets; "
                                 "expected one target dict per image")
            return images, list(batch[1])
        if all(isinstance(x, torch.Tensor) for x in batch):
            return list(batch), None
    raise InputError(f"DetectionTask: expected a batch (list of 3×H×W images, list of target dicts) from "
                     f"detection_collate; got {type(batch).__name__}")


def _loss_mode_forward(model: nn.Module, images: list[torch.Tensor], targets: list[dict[str, Any]]
                       ) -> dict[str, torch.Tensor]:
    """The training losses without touching normalisation statistics (see the module docstring); restores modes."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.train()
        for m in model.modules():
            if isinstance(m, _NORM_AND_DROPOUT):
                m.eval()
        with torch.no_grad():
            return model(images, targets)
    finally:
        for m, mode in modes:
            m.training = mode


def _packed(masks: torch.Tensor, threshold: float) -> tuple[np.ndarray, tuple[int, ...]]:
    """N×H×W (or N×1×H×W) masks as (bit-packed ``> threshold``, N×H×W shape), 8× smaller to keep for an epoch."""
    m = masks.detach()
    if m.ndim == 4:
        m = m[:, 0]
    m = (m > threshold).cpu().numpy()
    return np.packbits(m.reshape(-1)), tuple(m.shape)


def _unpacked(packed: tuple[np.ndarray, tuple[int, ...]]) -> np.ndarray:
    bits, shape = packed
    return np.unpackbits(bits, count=int(np.prod(shape))).reshape(shape).astype(bool)


class DetectionMetrics(MetricAccumulator):
    """Batch-weighted means of the loss components and, when predictions were made, mAP@0.5 and mAP@[.5:.95]
    (and the mask mAPs when predictions and targets carry masks)."""

    def __init__(self) -> None:
        self._sums: dict[str, float] = {}
        self._count = 0
        self._preds: list[dict[str, Any]] = []
        self._targets: list[dict[str, Any]] = []

    def update(self, out: StepOutput) -> None:
        losses = out.outputs.get("losses", {})
        if losses:
            for name, value in losses.items():
                self._sums[name] = self._sums.get(name, 0.0) + float(value) * out.batch_size
            self._count += out.batch_size
        preds = out.outputs.get("predictions")
        if preds is not None:
            for p, t in zip(preds, out.targets):
                pred = {k: p[k].detach().float().cpu() if k != "labels" else p[k].detach().cpu()
                        for k in ("boxes", "scores", "labels")}
                target = {"boxes": t["boxes"].detach().float().cpu(), "labels": t["labels"].detach().cpu()}
                if "masks" in p and "masks" in t:
                    pred["masks"], target["masks"] = _packed(p["masks"], 0.5), _packed(t["masks"], 0)
                self._preds.append(pred)
                self._targets.append(target)

    def state(self) -> Any:
        return {"sums": dict(self._sums), "count": self._count, "preds": self._preds, "targets": self._targets}

    def merge(self, states: list[Any]) -> None:
        states = [s for s in states if s is not None]
        self._sums, self._count, self._preds, self._targets = {}, 0, [], []
        for s in states:
            for k, v in s["sums"].items():
                self._sums[k] = self._sums.get(k, 0.0) + v
            self._count += s["count"]
            self._preds.extend(s["preds"])
            self._targets.extend(s["targets"])

    def compute(self) -> dict[str, float]:
        logs = {k: v / self._count for k, v in self._sums.items()} if self._count else {}
        if self._preds:
            from vision.metrics.detection import evaluate_detections
            from vision.types import Detections

            num = 1 + max([int(d["labels"].max()) for d in self._preds + self._targets if len(d["labels"])],
                          default=1)
            names = tuple(str(i) for i in range(num - 1))
            preds = [Detections(p["boxes"].numpy(), p["scores"].numpy(), p["labels"].numpy() - 1, names=names)
                     for p in self._preds]
            gts = [Detections(t["boxes"].numpy(), np.ones(len(t["labels"]), np.float32), t["labels"].numpy() - 1,
                              names=names) for t in self._targets]
            report = evaluate_detections(preds, gts, names=names)
            logs["map50"] = float(report.map50)
            logs["map"] = float(report.map50_95)
            if all("masks" in d for d in self._preds + self._targets):
                preds, gts = ([dataclasses.replace(det, masks=_unpacked(d["masks"])) for det, d in zip(dets, raw)]
                              for dets, raw in ((preds, self._preds), (gts, self._targets)))
                report = evaluate_detections(preds, gts, names=names, iou_type="segm")
                logs["mask_map50"] = float(report.map50)
                logs["mask_map"] = float(report.map50_95)
        return logs


class DetectionTask(Task):
    """Training and evaluation of torchvision-style detectors with the shared :class:`~vision.train.Trainer`.

    Args:
        val_loss: in evaluation, also compute the training losses on the batch (a second, gradient-free forward
            pass in loss mode; see the module docstring). False: evaluation reports ``loss`` as NaN.

    Raises:
        InputError: ``val_loss`` is not a bool.

    Example:
        >>> from vision.train import Trainer                                          # doctest: +SKIP
        >>> trainer = Trainer(detector.model, DetectionTask(), optimizer=opt)          # doctest: +SKIP
        >>> history = trainer.fit(train_loader, val_loader, epochs=10)  # doctest: +SKIP
        >>> history.history["val_map50"]                                # doctest: +SKIP
    """

    metric_names = ("loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg", "map50", "map")

    def __init__(self, *, val_loss: bool = True) -> None:
        if not isinstance(val_loss, bool):
            raise InputError(f"DetectionTask: val_loss must be True or False; got {val_loss!r}")
        self.val_loss = val_loss

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        """Train: ``losses = model(images, targets)``, loss = their sum. Eval: predictions (+ losses, see above).

        Raises:
            InputError: the batch is not ``(images, targets)``; the model returned something else than a loss dict
                in train mode.
        """
        images, targets = _split(batch)
        if targets is None:
            raise InputError("DetectionTask.step: the batch has no targets; expected (images, targets) from "
                             "detection_collate")
        if train:
            losses = model(images, targets)
            if not isinstance(losses, dict) or not losses:
                raise InputError(f"DetectionTask: in train mode the model returned {type(losses).__name__}; expected "
                                 "a dict of named losses (a torchvision-style detector)")
            loss = sum(losses.values())
            outputs = {"losses": {k: v.detach() for k, v in losses.items()}}
            return StepOutput(loss=loss, outputs=outputs, targets=targets, batch_size=len(images))
        predictions = model(images)
        outputs: dict[str, Any] = {"predictions": predictions}
        if self.val_loss:
            losses = _loss_mode_forward(model, images, targets)
            outputs["losses"] = {k: v.detach() for k, v in losses.items()}
            loss = sum(outputs["losses"].values())
        else:
            loss = torch.tensor(math.nan)
        return StepOutput(loss=loss, outputs=outputs, targets=targets, batch_size=len(images))

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        """The model's per-image prediction dicts for the images of ``batch`` (with or without targets)."""
        images, _ = _split(batch)
        return model(images)

    def metrics(self) -> MetricAccumulator:
        """Accumulates the loss components and, in evaluation, ``map50`` / ``map``."""
        return DetectionMetrics()


def fit_detector(detector: Any, train: Any, val: Any = None, *, epochs: int, batch_size: int, lr: float,
                 weight_decay: float, warmup: int, hflip: float, grad_clip_norm: float | None, seed: int, fix: bool,
                 callbacks: Any = (), progress: bool = False, eval_score_thresh: float = 0.001,
                 masks: bool = False, device: Any = "cpu") -> Any:
    """Train ``detector.model`` (a torchvision Faster / Mask R-CNN) in place with the shared trainer.

    AdamW, ``warmup`` batches of linear warm-up then a per-batch cosine decay to 0, horizontal flips with
    probability ``hflip``, gradient-norm clipping, :class:`DetectionTask`; validation runs with the heads' score
    threshold lowered to ``eval_score_thresh`` (mAP counts low-score boxes). With ``val`` the weights of the epoch
    with the best ``val_map50`` (``val_mask_map50`` with ``masks``) are kept. The network ends in eval mode.

    Args:
        detector: a :class:`~vision.models.detection.faster_rcnn.FasterRCNNDetector` (or the Mask R-CNN one) whose
            classes are the datasets'.
        train, val: :class:`~vision.data.records.DetectionDataset` s (``val`` may be None).
        masks: train on instance masks too (targets from the records' instance-mask PNGs).
        device: where to train (``"cpu"``, ``"cuda"``); the network stays there.
        the rest: as ``train_faster_rcnn``.

    Returns:
        The trainer's ``History``.

    Raises:
        InputError / AnnotationError / DatasetError / ShapeError: bad options or data (see ``detection_loaders``).
    """
    import copy

    from vision.models.detection.data import detection_augmentation, detection_loaders
    from vision.train import Trainer
    from vision.train.callbacks import Callback, ProgressBar
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule

    train_loader, val_loader = detection_loaders(train, val, batch_size=batch_size, seed=seed, fix=fix, masks=masks,
                                                 augment=detection_augmentation(hflip=hflip, seed=seed))
    net = detector.model
    optimizer = make_optimizer(net, "adamw", lr=lr, weight_decay=weight_decay)
    steps = len(train_loader) * epochs
    schedule = None if steps < 2 else make_schedule(
        optimizer, "warmup", warmup_steps=min(warmup, steps - 1), after="cosine", interval="batch",
        steps_per_epoch=len(train_loader), epochs=epochs)
    monitor = "val_mask_map50" if masks else "val_map50"

    class _KeepBest(Callback):
        """Copies the weights of the epoch with the best ``monitor`` value (in memory)."""

        best, state = -1.0, None

        def on_epoch_end(self, trainer: Any, epoch: int, logs: Any) -> None:
            value = float(logs.get(monitor, math.nan))
            if not math.isnan(value) and value > self.best:
                self.best, self.state = value, copy.deepcopy(trainer.model.state_dict())

    keep = _KeepBest()
    extra = [ProgressBar()] if progress else []
    trainer = Trainer(net, DetectionTask(), optimizer=optimizer, schedule=schedule,
                      callbacks=[keep, *callbacks, *extra], grad_clip_norm=grad_clip_norm, device=device)
    score_thresh = net.roi_heads.score_thresh
    net.roi_heads.score_thresh = min(score_thresh, eval_score_thresh)
    try:
        history = trainer.fit(train_loader, val_loader, epochs=epochs)
    finally:
        net.roi_heads.score_thresh = score_thresh
    if keep.state is not None:
        net.load_state_dict(keep.state)
    net.eval()
    return history
