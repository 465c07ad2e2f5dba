"""Real offline detectors that ship inside OpenCV: Haar-cascade faces and HOG + linear-SVM people.

Both return :class:`~vision.types.Detections`. OpenCV gives raw scores (a cascade's stage weight, an SVM margin);
``score`` here is ``sigmoid(raw)``: a monotone squashing into [0, 1] so that ``min_score`` thresholds look like
every other detector's. It is not a calibrated probability.

Each detector's options live in a frozen :class:`~vision.models.config.ModelConfig` (:class:`HaarFaceConfig`,
:class:`HogPeopleConfig`), so ``model_config`` / ``model_from_config`` rebuild it like any registered network; the
constructors take ``config=`` and/or the options as keywords (``create_model("haar-face", min_neighbors=3)``).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from vision.errors import InputError
from vision.models.config import ModelConfig, build_config
from vision.models.registry import register_model
from vision.types import Detections

__all__ = ["HaarFaceConfig", "HaarFaceDetector", "HogPeopleConfig", "HogPeopleDetector"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _number(who: str, name: str, value: Any) -> float:
    """``value`` as a float if it is a finite real number (not a bool), else an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InputError(f"{who}: {name} must be a finite number; got {value!r}")
    return float(value)


def _integer(who: str, name: str, value: Any, *, low: int) -> int:
    """``value`` as an int if it is an integer ≥ ``low`` (not a bool), else an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise InputError(f"{who}: {name} must be an integer ≥ {low}; got {value!r}")
    return int(value)


def _check_common(config: ModelConfig, who: str) -> None:
    """Validate and normalise the options every OpenCV detector shares: ``max_side``, ``min_score``, ``iou``."""
    max_side = config.max_side  # type: ignore[attr-defined]
    if max_side is not None:
        if isinstance(max_side, bool) or not isinstance(max_side, numbers.Integral) or max_side < 64:
            raise InputError(f"{who}: max_side: expected None or ≥ 64 pixels, got {max_side!r}")
        object.__setattr__(config, "max_side", int(max_side))
    min_score = _number(who, "min_score", config.min_score)  # type: ignore[attr-defined]
    iou = _number(who, "iou", config.iou)  # type: ignore[attr-defined]
    if not 0.0 <= min_score <= 1.0 or not 0.0 < iou <= 1.0:
        raise InputError(f"{who}: expected 0 ≤ min_score ≤ 1 and 0 < iou ≤ 1, got min_score={min_score}, iou={iou}")
    object.__setattr__(config, "min_score", min_score)
    object.__setattr__(config, "iou", iou)


@dataclass(frozen=True)
class HaarFaceConfig(ModelConfig):
    """Options of :class:`HaarFaceDetector` (see it for their meaning); JSON-serialisable.

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    weights: str = "haar-face"
    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: int = 30
    max_side: int | None = 1024
    min_score: float = 0.5
    iou: float = 0.4

    def __post_init__(self) -> None:
        who = "HaarFaceConfig"
        if not isinstance(self.weights, str) or not self.weights:
            raise InputError(f"{who}: weights must be a weights manifest name such as 'haar-face' or "
                             f"'haar-face-alt2'; got {self.weights!r}")
        scale_factor = _number(who, "scale_factor", self.scale_factor)
        if scale_factor <= 1.0:
            raise InputError(f"{who}: expected scale_factor > 1 (the image pyramid step); got {scale_factor}")
        object.__setattr__(self, "scale_factor", scale_factor)
        object.__setattr__(self, "min_neighbors", _integer(who, "min_neighbors", self.min_neighbors, low=0))
        object.__setattr__(self, "min_size", _integer(who, "min_size", self.min_size, low=1))
        _check_common(self, who)


@dataclass(frozen=True)
class HogPeopleConfig(ModelConfig):
    """Options of :class:`HogPeopleDetector` (see it for their meaning); JSON-serialisable.

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    win_stride: int = 4
    scale: float = 1.05
    hit_threshold: float = 0.0
    max_side: int | None = 480
    min_score: float = 0.5
    iou: float = 0.3

    def __post_init__(self) -> None:
        who = "HogPeopleConfig"
        object.__setattr__(self, "win_stride", _integer(who, "win_stride", self.win_stride, low=1))
        scale = _number(who, "scale", self.scale)
        if scale <= 1.0:
            raise InputError(f"{who}: expected scale > 1 (the image pyramid step); got {scale}")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "hit_threshold", _number(who, "hit_threshold", self.hit_threshold))
        _check_common(self, who)


class _ConfigOption:
    """A read-only attribute that reads the detector's ``config`` field of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj.config, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"{type(obj).__name__}.{self.name} is read-only; build a new detector, e.g. "
                             f"create_model(..., {self.name}={value!r})")


class _OpenCVDetector:
    """Shared flow: read the image, shrink it to ``max_side``, detect, map boxes back, NMS, threshold."""

    task = "detect"
    names: tuple[str, ...] = ()
    config_class: type[ModelConfig] = ModelConfig
    registered_as = ""
    max_side = _ConfigOption()
    min_score = _ConfigOption()
    iou = _ConfigOption()

    def __init__(self, config: ModelConfig | dict | None, overrides: dict[str, Any]) -> None:
        self.config = build_config(self.config_class, config, overrides, self.registered_as)

    def _detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (N×4 xywh boxes, N raw scores) on an RGB uint8 image."""
        raise NotImplementedError

    def predict(self, source: Any) -> Detections:
        """Detect objects in one image (a path, bytes, file object or H×W×3 uint8 RGB array)."""
        import cv2

        from vision.io import read_image

        image = read_image(source)
        h, w = image.shape[:2]
        scale = 1.0
        if self.max_side is not None and max(h, w) > self.max_side:
            scale = self.max_side / max(h, w)
            small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        else:
            small = image
        boxes, raw = self._detect(small)
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4) / scale
        scores = _sigmoid(np.asarray(raw, dtype=np.float64).ravel()).astype(np.float32)
        if len(boxes):
            keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.min_score, self.iou)
            keep = np.asarray(keep, dtype=np.int64).ravel()
            keep = keep[np.argsort(-scores[keep], kind="stable")]
            boxes, scores = boxes[keep], scores[keep]
        det = Detections.from_xywh(boxes, scores, np.zeros(len(boxes), np.int64), names=self.names, image_shape=(h, w))
        return Detections(np.clip(det.xyxy, 0, [w, h, w, h]), det.scores, det.class_ids, names=self.names,
                          image_shape=(h, w))

    __call__ = predict

    def __repr__(self) -> str:
        options = ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in fields(self.config))
        return f"{type(self).__name__}({options})"


@register_model("haar-face", task="detect", weights="haar-face")
class HaarFaceDetector(_OpenCVDetector):
    """Frontal faces with OpenCV's Viola–Jones Haar cascade (fast, frontal only, some false positives).

    Args:
        config: a :class:`HaarFaceConfig` or its ``to_dict()``; default the options below.
        **overrides: config fields to set (each also readable as an attribute, e.g. ``detector.min_score``):

        weights: manifest name of the cascade (``haar-face`` or ``haar-face-alt2``).
        scale_factor: image pyramid step (> 1; smaller is slower and finds more).
        min_neighbors: overlapping raw hits needed to keep a face (higher = fewer false positives).
        min_size: smallest face in pixels (of the possibly shrunk image).
        max_side: shrink images whose longer side exceeds this before detecting (None = never).
        min_score: drop detections whose squashed cascade weight is below this.
        iou: NMS overlap threshold.
    Raises:
        InputError: an unknown option or a bad value, or a cascade OpenCV cannot load.
        WeightsNotFoundError: the cascade file is not available.
    Example:
        >>> from vision.data import load_sample
        >>> len(HaarFaceDetector().predict(load_sample("astronaut")))
        1
    """

    names = ("face",)
    config_class = HaarFaceConfig
    registered_as = "haar-face"
    weights = _ConfigOption()
    scale_factor = _ConfigOption()
    min_neighbors = _ConfigOption()
    min_size = _ConfigOption()

    def __init__(self, config: HaarFaceConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, overrides)
        import cv2

        from vision.weights import resolve

        path = resolve(self.config.weights)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise InputError(f"weights {self.config.weights!r}: OpenCV could not load {path} as a cascade")

    def _detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        boxes, _levels, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), outputRejectLevels=True,
        )
        return np.asarray(boxes).reshape(-1, 4), np.asarray(weights).ravel()


@register_model("hog-people", task="detect", weights="hog-people")
class HogPeopleDetector(_OpenCVDetector):
    """Standing people with OpenCV's HOG + linear-SVM detector (Dalal–Triggs; needs whole bodies ≥ ~64×128 px).

    Args:
        config: a :class:`HogPeopleConfig` or its ``to_dict()``; default the options below.
        **overrides: config fields to set (each also readable as an attribute):

        win_stride: sliding-window step in pixels (4 finds more, 8 is ~3× faster).
        scale: image pyramid step (> 1).
        hit_threshold: SVM margin a window needs (raise to cut false positives).
        max_side: shrink images whose longer side exceeds this first (None = never). The detector sees people best
            at 128–300 px tall: on close-ups, larger images find body parts instead of bodies (measured on ``bus``:
            480 finds the three whole people, 800 finds torsos and legs); for distant pedestrians
            (street cameras) pass ``max_side=None``.
        min_score: drop detections whose squashed SVM margin is below this.
        iou: NMS overlap threshold.
    Raises:
        InputError: an unknown option or a bad value.
    """

    names = ("person",)
    config_class = HogPeopleConfig
    registered_as = "hog-people"
    win_stride = _ConfigOption()
    scale = _ConfigOption()
    hit_threshold = _ConfigOption()

    def __init__(self, config: HogPeopleConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__(config, overrides)
        import cv2

        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def _detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        win_w, win_h = self._hog.winSize
        if image.shape[0] < win_h or image.shape[1] < win_w:  # OpenCV segfaults on images smaller than its window
            return np.zeros((0, 4)), np.zeros(0)
        boxes, weights = self._hog.detectMultiScale(
            cv2.cvtColor(image, cv2.COLOR_RGB2BGR), hitThreshold=self.hit_threshold,
            winStride=(self.win_stride, self.win_stride), padding=(16, 16), scale=self.scale,
        )
        return np.asarray(boxes).reshape(-1, 4), np.asarray(weights).ravel()
