"""Mask R-CNN (torchvision) for instance segmentation: results are :class:`~vision.types.Detections` with masks.

* ``"mask-rcnn-lite0"`` — torchvision's :class:`~torchvision.models.detection.MaskRCNN` on the EfficientNet-Lite0
  FPN backbone and box heads of ``faster-rcnn-lite0`` (built by
  :func:`vision.models.detection.faster_rcnn_nets.build_network`), with a light mask head sized for CPU training
  (``mask_layers`` 3×3 convolutions of 64 channels on 14×14 RoI features instead of torchvision's four of 256);
* ``"mask-rcnn-resnet50"`` — torchvision's ``maskrcnn_resnet50_fpn`` architecture (same modules and state-dict
  keys), built with ``weights=None, weights_backbone=None``; ``weights="maskrcnn_resnet50_fpn-coco"`` gives the
  official COCO model through :func:`vision.weights.resolve` (online, or with the file placed where it says).

Classes, weights and options work as for Faster R-CNN (:mod:`vision.models.detection.faster_rcnn`): ``classes`` are
the object classes, background excluded; a weights file whose predictor has another class count raises
:class:`~vision.errors.WeightsError` naming both counts. :meth:`MaskRCNNDetector.predict` returns the boxes, scores
and classes plus boolean ``masks`` at the image's size: torchvision's per-pixel mask probabilities > 0.5 (what
torchvision's reference evaluation uses). :meth:`~MaskRCNNDetector.save_weights` writes safetensors with the class
names and config as metadata; :func:`load_mask_rcnn` rebuilds the model from such a file alone.

:func:`train_mask_rcnn` trains on a dataset whose records carry instance-mask PNGs (what
:func:`vision.data.make_scenes` writes), with the shared trainer and the Faster R-CNN recipe
(:func:`vision.models.detection.task.fit_detector`); validation logs ``val_mask_map50`` / ``val_mask_map`` (mask
IoU, pycocotools) beside the box mAPs, and keeps the epoch with the best ``val_mask_map50``.

Example:
    >>> from vision.models import create_model                                    # doctest: +SKIP
    >>> seg = create_model("mask-rcnn-lite0", weights="mask_rcnn.safetensors")    # doctest: +SKIP
    >>> res = seg.predict("scene.png"); res.masks.shape                           # doctest: +SKIP
    (3, 256, 256)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError, WeightsError
from vision.models.config import positive_int
from vision.models.detection.faster_rcnn import (
    EVAL_SCORE_THRESH,
    WEIGHTS_FORMAT,
    FasterRCNNDetector,
    FasterRCNNLite0Config,
    FasterRCNNResNet50Config,
    _build,
)
from vision.models.registry import register_model
from vision.types import Detections

__all__ = ["MASK_THRESHOLD", "MaskRCNNDetector", "MaskRCNNLite0Config", "MaskRCNNResNet50Config", "load_mask_rcnn",
           "train_mask_rcnn"]

#: a pixel belongs to an instance when its mask probability is above this (torchvision's reference value)
MASK_THRESHOLD = 0.5


def _check_mask_head(cfg: Any) -> None:
    who = type(cfg).__name__
    layers = cfg.mask_layers
    if isinstance(layers, (int, str, bytes)) or not isinstance(layers, (tuple, list)) or not layers:
        raise InputError(f"{who}: mask_layers must be a non-empty tuple of channel counts, e.g. (64, 64); got "
                         f"{layers!r}")
    object.__setattr__(cfg, "mask_layers", tuple(positive_int(who, "mask_layers[]", v) for v in layers))
    positive_int(who, "mask_dim_reduced", cfg.mask_dim_reduced)


@dataclass(frozen=True)
class MaskRCNNLite0Config(FasterRCNNLite0Config):
    """:class:`~vision.models.detection.faster_rcnn.FasterRCNNLite0Config` plus a light mask head.

    Extra attributes:
        mask_layers: output channels of the mask head's 3×3 convolutions (on 14×14 RoI features).
        mask_dim_reduced: channels of the predictor's 2× transposed convolution (28×28 mask logits per class).

    ``weights`` defaults to ``"mask-rcnn-lite0-scenes"``, the shipped scenes model (held-out mask mAP@0.5 0.976); None
    gives new heads on the ImageNet Lite0 backbone; or pass a file from :meth:`MaskRCNNDetector.save_weights` or a
    manifest name.
    """

    weights: str | None = "mask-rcnn-lite0-scenes"
    mask_layers: tuple[int, ...] = (64, 64)
    mask_dim_reduced: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_mask_head(self)


@dataclass(frozen=True)
class MaskRCNNResNet50Config(FasterRCNNResNet50Config):
    """torchvision ``maskrcnn_resnet50_fpn``'s options (mask head of four 256-channel convolutions)."""

    mask_layers: tuple[int, ...] = (256, 256, 256, 256)
    mask_dim_reduced: int = 256

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_mask_head(self)


class MaskRCNNDetector(FasterRCNNDetector):
    """A torchvision Mask R-CNN with its class names: ``predict(image) -> Detections`` with boolean ``masks``.

    Built by the registered factories (``create_model("mask-rcnn-lite0")``); everything else (``predict_batch``,
    ``save_weights``, ``to``, ``names``) as :class:`~vision.models.detection.faster_rcnn.FasterRCNNDetector`.
    """

    task = "segment"
    #: results are Detections (a box and a mask per object): batch runs may write COCO / YOLO txt
    instances = True

    def _result(self, out: dict[str, Any], shape: tuple[int, int], min_score: float | None) -> Detections:
        scores = out["scores"].float().cpu().numpy()
        keep = scores >= min_score if min_score is not None else np.ones(len(scores), bool)
        probs = out["masks"][:, 0] if keep.all() else out["masks"][:, 0][np.flatnonzero(keep)]
        masks = (probs > MASK_THRESHOLD).cpu().numpy().reshape(-1, *shape)
        return Detections(out["boxes"].float().cpu().numpy()[keep], scores[keep], out["labels"].cpu().numpy()[keep] - 1,
                          names=self.names, masks=masks, image_shape=shape)

    def predict(self, source: Any, *, min_score: float | None = None) -> Detections:
        """Segment the object instances of one image.

        Args:
            source: a path, bytes, file object or H×W×3 uint8 RGB array (anything :func:`vision.io.read_image`
                reads).
            min_score: drop detections scoring below this (on top of ``config.box_score_thresh``).

        Returns:
            :class:`~vision.types.Detections` in the image's pixel coordinates, best score first, with N×H×W boolean
            ``masks`` at the image's size.

        Raises:
            InputError / ShapeError / DTypeError / ImageDecodeError / SourceNotFoundError: a bad source.
        """
        return super().predict(source, min_score=min_score)

    __call__ = predict


@register_model("mask-rcnn-lite0", task="segment", weights="mask-rcnn-lite0-scenes")
def mask_rcnn_lite0(*, config: MaskRCNNLite0Config | dict | None = None, **overrides: Any) -> MaskRCNNDetector:
    """Mask R-CNN with an EfficientNet-Lite0 FPN backbone and a light mask head; loads the shipped scenes model.

    Args:
        config: a :class:`MaskRCNNLite0Config` or its ``to_dict()``.
        **overrides: config fields (``weights="file.safetensors"``, ``classes=[...]``, ``box_score_thresh=0.3``,
            ``mask_layers=(32,)``, ...).

    Raises:
        InputError: a bad option. WeightsNotFoundError / ChecksumError: from the resolver. WeightsError: weights
            for another class count or architecture.
    """
    return _build("lite0", MaskRCNNLite0Config, config, overrides, "mask-rcnn-lite0", detector=MaskRCNNDetector,
                  masks=True)


@register_model("mask-rcnn-resnet50", task="segment")
def mask_rcnn_resnet50(*, config: MaskRCNNResNet50Config | dict | None = None, **overrides: Any) -> MaskRCNNDetector:
    """torchvision ``maskrcnn_resnet50_fpn``; untrained unless ``weights`` names a file / manifest entry.

    ``weights="maskrcnn_resnet50_fpn-coco"`` gives torchvision's COCO model (online, or with the file placed where
    the resolver says).

    Raises:
        As :func:`mask_rcnn_lite0`.
    """
    return _build("resnet50", MaskRCNNResNet50Config, config, overrides, "mask-rcnn-resnet50",
                  detector=MaskRCNNDetector, masks=True)


def load_mask_rcnn(path: str | os.PathLike[str], **overrides: Any) -> MaskRCNNDetector:
    """Rebuild a Mask R-CNN from a safetensors file written by :meth:`MaskRCNNDetector.save_weights` alone.

    The registered model and its config (architecture, classes) come from the file's metadata; ``overrides`` change
    inference options (``box_score_thresh=0.3``).

    Raises:
        WeightsNotFoundError: no such file. WeightsError: not a safetensors file written by ``save_weights`` of a
            Mask R-CNN, or tensors that do not fit.
    """
    from safetensors import safe_open

    from vision.errors import WeightsNotFoundError
    from vision.models.registry import create_model

    path = Path(path)
    if not path.is_file():
        raise WeightsNotFoundError(f"weights file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for a foreign file
        raise WeightsError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc})") from exc
    model = meta.get("model")
    if meta.get("format") != WEIGHTS_FORMAT or model not in ("mask-rcnn-lite0", "mask-rcnn-resnet50"):
        raise WeightsError(f"{path}: format {meta.get('format')!r} of model {model!r}; expected {WEIGHTS_FORMAT!r} "
                           "written by save_weights of mask-rcnn-lite0 or mask-rcnn-resnet50")
    try:
        config = json.loads(meta["config"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: no readable config in its metadata ({exc})") from exc
    return create_model(model, config={**config, **overrides, "weights": str(path)})


def train_mask_rcnn(train: Any, val: Any = None, *, model: str = "mask-rcnn-lite0", config: Any = None,
                    epochs: int = 3, batch_size: int = 4, lr: float = 1e-3, weight_decay: float = 1e-4,
                    warmup: int = 50, hflip: float = 0.5, grad_clip_norm: float | None = 10.0, seed: int = 0,
                    fix: bool = False, callbacks: Any = (), progress: bool = False, device: Any = "cpu"
                    ) -> tuple[MaskRCNNDetector, Any]:
    """Train a registered Mask R-CNN on a dataset with instance masks, with the shared trainer.

    The model is built with ``weights=None`` (new heads; the backbone's ImageNet weights when its config names
    them) and the dataset's classes. Targets come from :class:`~vision.models.detection.data.DetectionTorchDataset`
    with ``masks=True`` (boxes checked; masks from the instance-mask PNGs, flipped with the image). The recipe is
    ``train_faster_rcnn``'s (:func:`~vision.models.detection.task.fit_detector`: AdamW, warm-up + cosine, flips,
    gradient clipping); validation logs ``val_map50`` and ``val_mask_map50`` with the score threshold lowered to
    :data:`~vision.models.detection.faster_rcnn.EVAL_SCORE_THRESH`, and the epoch with the best ``val_mask_map50``
    is kept.

    Args:
        train, val: :class:`~vision.data.records.DetectionDataset` s with instance masks (``val`` may be None).
        model: ``"mask-rcnn-lite0"`` or ``"mask-rcnn-resnet50"``.
        config: its config or config dict (``weights`` and ``classes`` are replaced as above).
        device: where to train (``"cpu"``, ``"cuda"``); the returned detector stays there.
        the rest: as :func:`~vision.models.detection.faster_rcnn.train_faster_rcnn`.

    Returns:
        ``(detector, History)``; the detector is in eval mode, with the kept weights.

    Raises:
        InputError: bad options, or ``val`` with other classes. AnnotationError / DatasetError: bad annotations or
        records without instance masks. ShapeError: an instance mask of another size than its image.
    """
    import torch

    from vision.models.detection.task import fit_detector
    from vision.models.registry import create_model

    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("warmup", warmup)):
        positive_int("train_mask_rcnn", name, value)
    if not hasattr(train, "classes"):
        raise InputError(f"train_mask_rcnn: expected a DetectionDataset with instance masks; got "
                         f"{type(train).__name__}")
    if model not in ("mask-rcnn-lite0", "mask-rcnn-resnet50"):
        raise InputError(f"train_mask_rcnn: model must be 'mask-rcnn-lite0' or 'mask-rcnn-resnet50'; got {model!r}")
    torch.manual_seed(seed)
    detector = create_model(model, config=config, weights=None, classes=list(train.classes))
    history = fit_detector(detector, train, val, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                           warmup=warmup, hflip=hflip, grad_clip_norm=grad_clip_norm, seed=seed, fix=fix,
                           callbacks=callbacks, progress=progress, eval_score_thresh=EVAL_SCORE_THRESH, masks=True,
                           device=device)
    return detector, history
