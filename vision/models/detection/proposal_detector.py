"""What R-CNN and Fast R-CNN share: config checks, their safetensors weights files, and :class:`ProposalDetector`
(build from a config, load / save weights, proposals by selective search or given, ``predict`` /
``predict_batch``) — the two differ only in how they score a batch of images' proposals.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from torch import nn

from vision.errors import InputError, WeightsError
from vision.models.config import ModelConfig, build_config, positive_int
from vision.types import Detections

__all__ = [
    "ProposalDetector",
    "check_common",
    "check_min_score",
    "check_number",
    "load_detector_weights",
    "read_sources",
    "save_detector_weights",
    "saved_config",
    "to_detections",
]


def check_number(who: str, name: str, value: Any, *, low: float, high: float) -> float:
    """``value`` as a float if it is a finite number in [low, high], else an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not low <= value <= high:
        raise InputError(f"{who}: {name} must be a number in [{low}, {high}]; got {value!r}")
    return float(value)


def check_common(config: Any, who: str) -> None:
    """Validate the fields R-CNN and Fast R-CNN configs share (classes, weights, proposals, NMS options)."""
    from vision.models.detection.selective_search import MODES

    classes = config.classes
    if isinstance(classes, str) or not isinstance(classes, (tuple, list)) or not classes \
            or not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise InputError(f"{who}: classes must be a non-empty sequence of unique names (background excluded); "
                         f"got {classes!r}")
    object.__setattr__(config, "classes", tuple(classes))
    if config.weights is not None and (not isinstance(config.weights, str) or not config.weights):
        raise InputError(f"{who}: weights must be None, a weights manifest name or a .safetensors path; "
                         f"got {config.weights!r}")
    if config.proposals not in MODES:
        raise InputError(f"{who}: proposals must be a selective search mode {list(MODES)}; got {config.proposals!r}")
    for name in ("max_proposals", "max_detections"):
        positive_int(who, name, getattr(config, name))
    object.__setattr__(config, "score_threshold", check_number(who, "score_threshold", config.score_threshold,
                                                          low=0.0, high=1.0))
    object.__setattr__(config, "nms_iou", check_number(who, "nms_iou", config.nms_iou, low=0.01, high=1.0))


# --------------------------------------------------------------------------------------------------
# weights files
# --------------------------------------------------------------------------------------------------
def _weights_path(weights: str) -> Path:
    if weights.endswith(".safetensors") or os.sep in weights or "/" in weights:
        p = Path(weights)
        if not p.is_file():
            from vision.errors import WeightsNotFoundError

            raise WeightsNotFoundError(f"{p}: weights file not found")
        return p
    from vision.weights import resolve

    return resolve(weights)


def load_detector_weights(model: Any, weights: str, classes: Sequence[str], fmt: str, who: str) -> None:
    """Fill ``model`` from a safetensors file written by a detector's ``save`` (fp16 or fp32 tensors).

    Raises:
        WeightsNotFoundError: no such file / manifest entry offline. WeightsError: another format, another class
        count or class names (both named), or tensors that do not fit.
    """
    from safetensors import safe_open

    path = _weights_path(weights)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    except Exception as exc:  # safetensors raises its own error types for a foreign file
        raise WeightsError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc})") from exc
    if meta.get("format") != fmt:
        raise WeightsError(f"{path}: weights format {meta.get('format')!r}; expected {fmt!r} ({who} weights)")
    saved = json.loads(meta.get("classes", "[]"))
    if len(saved) != len(classes):
        raise WeightsError(f"{path}: weights for {len(saved)} classes {saved}; the {who} config has "
                           f"{len(classes)} {list(classes)}; pass classes= matching the weights or other weights")
    if list(saved) != list(classes):
        raise WeightsError(f"{path}: weights for classes {saved}; the {who} config names {list(classes)}")
    from vision.weights import load_tensors_into

    load_tensors_into(model, tensors, path, hint="check widths / hidden / crop options in the config")


def saved_config(weights: str) -> dict[str, Any] | None:
    """The config dict stored in a weights file written by :func:`save_detector_weights` (None when it has none)."""
    from safetensors import safe_open

    path = _weights_path(weights)
    try:
        with safe_open(str(path), framework="pt") as f:
            text = (f.metadata() or {}).get("config")
    except Exception as exc:  # safetensors raises its own error types for a foreign file
        raise WeightsError(f"{path}: not a readable safetensors file ({type(exc).__name__}: {exc})") from exc
    try:
        config = json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: its config metadata is not JSON ({exc}); expected a file written by save()") \
            from exc
    return config if isinstance(config, dict) else None


def save_detector_weights(model: Any, path: str | os.PathLike[str], *, config: ModelConfig, fmt: str,
                          half: bool = True) -> Path:
    """Write ``model``'s tensors (floating ones as fp16 when ``half``) + format, classes and config metadata."""
    from safetensors.torch import save

    from vision.io.files import atomic_write_bytes

    tensors = {k: (v.half() if half and v.is_floating_point() else v).contiguous()
               for k, v in model.state_dict().items()}
    meta = {"format": fmt, "classes": json.dumps(list(config.classes)), "config": config.to_json()}
    return atomic_write_bytes(path, save(tensors, metadata=meta))


# --------------------------------------------------------------------------------------------------
# predict plumbing
# --------------------------------------------------------------------------------------------------
def read_sources(sources: Any) -> list[np.ndarray]:
    """Read a list / tuple of sources as H×W×3 uint8 RGB (gray arrays become 3 channels; empty ones raise
    ShapeError)."""
    from vision.io import read_image

    if not isinstance(sources, (list, tuple)):
        raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
    return [read_image(s) for s in sources]


def check_min_score(min_score: Any) -> float:
    """``predict``'s ``min_score``: None → 0, else a number in [0, 1]."""
    return 0.0 if min_score is None else check_number("predict", "min_score", min_score, low=0.0, high=1.0)


def to_detections(boxes: Any, scores: Any, labels: Any, names: tuple[str, ...], shape: tuple[int, int]
                  ) -> Detections:
    """Torch boxes / scores / labels 1..C → :class:`Detections` with ids 0..C-1, boxes clipped to the image."""
    h, w = shape
    xyxy = np.asarray(boxes, np.float32).reshape(-1, 4)
    xyxy = np.clip(xyxy, 0, [w, h, w, h])
    return Detections(xyxy, np.asarray(scores, np.float32), np.asarray(labels, np.int64) - 1, names=names,
                      image_shape=(h, w))


# --------------------------------------------------------------------------------------------------
# the detector
# --------------------------------------------------------------------------------------------------
class ProposalDetector:
    """A detector that scores selective-search proposals: the part R-CNN and Fast R-CNN share.

    Subclasses set ``name`` (the registry name), ``config_class``, ``weights_format``, build their network in
    :meth:`_build_net` and score images in :meth:`_detect` (one call per ``batch_size`` images).

    Args:
        config: a config of ``config_class`` or its ``to_dict()``; default the shipped shapes detector.
        **overrides: config fields to replace (``weights=None`` for an untrained model, ``max_proposals=500``...).

    Attributes:
        config, names (the class names), model (the network).

    Raises:
        InputError: a bad option. WeightsNotFoundError: the weights are absent. WeightsError: weights for another
        class count or architecture.
    """

    task = "detect"
    name: ClassVar[str]
    config_class: ClassVar[type[ModelConfig]]
    weights_format: ClassVar[str]

    def __init__(self, config: ModelConfig | dict | None = None, **overrides: Any) -> None:
        cfg = build_config(self.config_class, config, overrides, self.name)
        explicit = "classes" in overrides or isinstance(config, ModelConfig) \
            or (isinstance(config, dict) and "classes" in config)
        if cfg.weights is not None and not explicit:  # a file trained here knows its classes and architecture
            saved = saved_config(cfg.weights)
            if saved is not None and tuple(saved.get("classes") or ()) != cfg.classes:
                base = {**saved, "weights": cfg.weights}
                cfg = build_config(self.config_class, base, {k: v for k, v in overrides.items() if k != "weights"},
                                   self.name)
        self.config = cfg
        self.names = self.config.classes
        self.model = self._build_net()
        if self.config.weights is not None:
            load_detector_weights(self.model, self.config.weights, self.names, self.weights_format, self.name)
        self.model.eval()

    def _build_net(self) -> nn.Module:
        raise NotImplementedError

    def _detect(self, images: list[np.ndarray], boxes: list[np.ndarray], min_score: float) -> list[Detections]:
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str], *, half: bool = True) -> Path:
        """Write the weights (fp16 by default) with the classes and config as a safetensors file."""
        return save_detector_weights(self.model, path, config=self.config, fmt=self.weights_format, half=half)

    def predict(self, source: Any, *, proposals: np.ndarray | None = None, min_score: float | None = None
                ) -> Detections:
        """Detect objects in one image (a path, bytes or an H×W×3 / H×W uint8 array).

        Args:
            source: the image.
            proposals: N×4 xyxy boxes (best first; the first ``max_proposals`` are used) instead of running
                selective search.
            min_score: drop detections below this (on top of ``config.score_threshold``).

        Returns:
            :class:`~vision.types.Detections` in the image's pixels, best score first (an image without proposals
            gives none).

        Raises:
            ShapeError / DTypeError / SourceNotFoundError: as :func:`vision.io.read_image` (an empty image included).
            InputError: a bad ``min_score``.
        """
        return self.predict_batch([source], proposals=None if proposals is None else [proposals],
                                  min_score=min_score)[0]

    __call__ = predict

    def predict_batch(self, sources: Sequence[Any], *, proposals: Sequence[np.ndarray] | None = None,
                      batch_size: int = 8, min_score: float | None = None) -> list[Detections]:
        """:meth:`predict` for a list of images, ``batch_size`` of them at a time.

        Raises:
            InputError: ``sources`` is not a list / tuple, a bad ``batch_size`` / ``min_score``, or not one
            proposal array per image; as :meth:`predict`.
        """
        from vision.models.detection.selective_search import selective_search

        images = read_sources(sources)
        positive_int(f"{self.name}.predict_batch", "batch_size", batch_size)
        if proposals is not None and len(proposals) != len(images):
            raise InputError(f"{self.name}: {len(proposals)} proposal arrays for {len(images)} images; expected "
                             "one each")
        floor = check_min_score(min_score)
        cfg = self.config
        boxes = [selective_search(image, mode=cfg.proposals, max_proposals=cfg.max_proposals) if proposals is None
                 else np.asarray(proposals[i], np.float32).reshape(-1, 4)[:cfg.max_proposals]
                 for i, image in enumerate(images)]
        out: list[Detections] = []
        for s in range(0, len(images), batch_size):
            out += self._detect(images[s:s + batch_size], boxes[s:s + batch_size], floor)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(classes={list(self.names)}, weights={self.config.weights!r})"
