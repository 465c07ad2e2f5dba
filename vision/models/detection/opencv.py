"""Real offline detectors that ship inside OpenCV: Haar-cascade faces and HOG + linear-SVM people.

Both return :class:`~vision.types.Detections`. OpenCV gives raw scores (a cascade's stage weight, an SVM margin);
``score`` here is ``sigmoid(raw)``: a monotone squashing into [0, 1] so that ``min_score`` thresholds look like
every other detector's. It is not a calibrated probability.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vision.errors import InputError
from vision.models.registry import register_model
from vision.types import Detections

__all__ = ["HaarFaceDetector", "HogPeopleDetector"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


class _OpenCVDetector:
    """Shared flow: read the image, shrink it to ``max_side``, detect, map boxes back, NMS, threshold."""

    task = "detect"
    names: tuple[str, ...] = ()

    def __init__(self, *, max_side: int | None, min_score: float, iou: float) -> None:
        if max_side is not None and max_side < 64:
            raise InputError(f"max_side: expected None or ≥ 64 pixels, got {max_side}")
        if not 0.0 <= min_score <= 1.0 or not 0.0 < iou <= 1.0:
            raise InputError(f"expected 0 ≤ min_score ≤ 1 and 0 < iou ≤ 1, got min_score={min_score}, iou={iou}")
        self.max_side, self.min_score, self.iou = max_side, min_score, iou

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
        return f"{type(self).__name__}(max_side={self.max_side}, min_score={self.min_score}, iou={self.iou})"


@register_model("haar-face", task="detect", weights="haar-face")
class HaarFaceDetector(_OpenCVDetector):
    """Frontal faces with OpenCV's Viola–Jones Haar cascade (fast, frontal only, some false positives).

    Args:
        weights: manifest name of the cascade (``haar-face`` or ``haar-face-alt2``).
        scale_factor: image pyramid step (> 1; smaller is slower and finds more).
        min_neighbors: overlapping raw hits needed to keep a face (higher = fewer false positives).
        min_size: smallest face in pixels (of the possibly shrunk image).
        max_side: shrink images whose longer side exceeds this before detecting (None = never).
        min_score: drop detections whose squashed cascade weight is below this.
        iou: NMS overlap threshold.
    Example:
        >>> from vision.data import load_sample
        >>> len(HaarFaceDetector().predict(load_sample("astronaut")))
        1
    """

    names = ("face",)

    def __init__(self, *, weights: str = "haar-face", scale_factor: float = 1.1, min_neighbors: int = 5,
                 min_size: int = 30, max_side: int | None = 1024, min_score: float = 0.5, iou: float = 0.4) -> None:
        super().__init__(max_side=max_side, min_score=min_score, iou=iou)
        import cv2

        from vision.weights import resolve

        if scale_factor <= 1.0 or min_neighbors < 0 or min_size < 1:
            raise InputError(f"expected scale_factor > 1, min_neighbors ≥ 0, min_size ≥ 1; got {scale_factor}, "
                             f"{min_neighbors}, {min_size}")
        path = resolve(weights)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise InputError(f"weights {weights!r}: OpenCV could not load {path} as a cascade")
        self.weights, self.scale_factor, self.min_neighbors, self.min_size = weights, scale_factor, min_neighbors, min_size

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
        win_stride: sliding-window step in pixels (4 finds more, 8 is ~3× faster).
        scale: image pyramid step (> 1).
        hit_threshold: SVM margin a window needs (raise to cut false positives).
        max_side: shrink images whose longer side exceeds this first (None = never). The detector sees people best
            at 128–300 px tall: on close-ups, larger images find body parts instead of bodies (measured on ``bus``:
            480 finds the three whole people, 800 finds torsos and legs); for distant pedestrians
            (street cameras) pass ``max_side=None``.
        min_score: drop detections whose squashed SVM margin is below this.
        iou: NMS overlap threshold.
    """

    names = ("person",)

    def __init__(self, *, win_stride: int = 4, scale: float = 1.05, hit_threshold: float = 0.0,
                 max_side: int | None = 480, min_score: float = 0.5, iou: float = 0.3) -> None:
        super().__init__(max_side=max_side, min_score=min_score, iou=iou)
        import cv2

        if win_stride < 1 or scale <= 1.0 or not math.isfinite(hit_threshold):
            raise InputError(f"expected win_stride ≥ 1, scale > 1, finite hit_threshold; got {win_stride}, {scale}, "
                             f"{hit_threshold}")
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.win_stride, self.scale, self.hit_threshold = win_stride, scale, hit_threshold

    def _detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        boxes, weights = self._hog.detectMultiScale(
            cv2.cvtColor(image, cv2.COLOR_RGB2BGR), hitThreshold=self.hit_threshold,
            winStride=(self.win_stride, self.win_stride), padding=(16, 16), scale=self.scale,
        )
        return np.asarray(boxes).reshape(-1, 4), np.asarray(weights).ravel()
