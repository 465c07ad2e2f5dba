"""MTCNN faces (Zhang et al., 2016) through facenet-pytorch, registered as ``"mtcnn-face"``.

The three cascaded networks (P-Net, R-Net, O-Net) and their weights ship inside the pip package
``facenet-pytorch`` (``facenet_pytorch/data/{p,r,o}net.pt``, MIT licence), so the detector runs offline. Its
published metadata pins torch < 2.3 although the MTCNN code runs on current torch; install it without its
dependencies: ``pip install --no-deps facenet-pytorch``. Without it, building the detector raises
:class:`~vision.errors.MissingDependencyError` with that command, and
:func:`~vision.models.detection.compare.shipped_detectors` leaves it out (its manifest entry points at the package
file, so ``vision weights list`` shows it missing).

Compared with ``haar-face``: slower (~80 ms for a 512 px photo on 2 CPU threads, after a first call of ~2 s, against ~20 ms), but it finds
turned and tilted faces and gives the cascade's face probability as the score (MTCNN's five landmarks are not
returned: ``Detections`` has no keypoint field yet).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vision.errors import InputError
from vision.models.config import ModelConfig, build_config
from vision.models.registry import register_model
from vision.types import Detections

__all__ = ["MTCNNFaceConfig", "MTCNNFaceDetector"]

INSTALL = "pip install --no-deps facenet-pytorch"


def _fraction(who: str, name: str, value: Any, *, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not low < value <= high:
        raise InputError(f"{who}: {name} must be a number in ({low}, {high}]; got {value!r}")
    return float(value)


@dataclass(frozen=True)
class MTCNNFaceConfig(ModelConfig):
    """Options of :class:`MTCNNFaceDetector`; JSON-serialisable.

    Attributes:
        min_face_size: smallest face searched for, in pixels of the (possibly shrunk) image.
        thresholds: the P-Net, R-Net and O-Net probability thresholds of the cascade.
        factor: image pyramid scale step (< 1; closer to 1 is slower and finds more).
        min_score: drop faces whose final probability is below this.
        max_side: shrink images whose longer side exceeds this before detecting (None = never).

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    weights: str = "mtcnn-face"
    min_face_size: int = 20
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    factor: float = 0.709
    min_score: float = 0.9
    max_side: int | None = 1024

    def __post_init__(self) -> None:
        who = "MTCNNFaceConfig"
        if isinstance(self.min_face_size, bool) or not isinstance(self.min_face_size, numbers.Integral) \
                or self.min_face_size < 12:
            raise InputError(f"{who}: min_face_size must be an integer ≥ 12 (P-Net's window); got "
                             f"{self.min_face_size!r}")
        t = self.thresholds
        if isinstance(t, (str, bytes)) or not isinstance(t, Sequence) or len(t) != 3:
            raise InputError(f"{who}: thresholds must be three probabilities (P-Net, R-Net, O-Net); got {t!r}")
        object.__setattr__(self, "thresholds", tuple(_fraction(who, "thresholds", v) for v in t))
        object.__setattr__(self, "factor", _fraction(who, "factor", self.factor, high=0.99))
        object.__setattr__(self, "min_score", _fraction(who, "min_score", self.min_score, low=-1e-12))
        if self.max_side is not None and (isinstance(self.max_side, bool)
                                          or not isinstance(self.max_side, numbers.Integral) or self.max_side < 64):
            raise InputError(f"{who}: max_side must be None or an integer ≥ 64; got {self.max_side!r}")


@register_model("mtcnn-face", task="detect", weights="mtcnn-face")
class MTCNNFaceDetector:
    """Faces with MTCNN (facenet-pytorch's networks and weights).

    Args:
        config: a :class:`MTCNNFaceConfig` or its ``to_dict()``.
        **overrides: config fields to replace (``min_face_size=40``, ``min_score=0.95``...).

    Raises:
        MissingDependencyError: facenet-pytorch is not installed (the message gives the install command).
        InputError: a bad option.
    """

    task = "detect"
    names = ("face",)

    def __init__(self, config: MTCNNFaceConfig | dict | None = None, **overrides: Any) -> None:
        self.config = build_config(MTCNNFaceConfig, config, overrides, "mtcnn-face")
        try:
            from facenet_pytorch import MTCNN
        except ImportError as exc:
            from vision.errors import MissingDependencyError

            raise MissingDependencyError(f"mtcnn-face needs the facenet-pytorch package ({exc}); install it with "
                                         f"`{INSTALL}` (its metadata pins torch < 2.3; the MTCNN code runs on "
                                         "current torch)") from exc
        cfg = self.config
        self._net = MTCNN(keep_all=True, device="cpu", min_face_size=cfg.min_face_size,
                          thresholds=list(cfg.thresholds), factor=cfg.factor, post_process=False)
        self._net.eval()

    def predict(self, source: Any, *, min_score: float | None = None) -> Detections:
        """Faces in one image (a path, bytes or an H×W×3 / H×W uint8 array), best first.

        Raises:
            ShapeError / DTypeError / SourceNotFoundError: as :func:`vision.io.read_image`.
            InputError: a bad ``min_score``.
        """
        import cv2
        import torch

        from vision.io import read_image

        floor = self.config.min_score if min_score is None else _fraction("predict", "min_score", min_score,
                                                                          low=-1e-12)
        image = read_image(source)
        h, w = image.shape[:2]
        scale = 1.0
        if self.config.max_side is not None and max(h, w) > self.config.max_side:
            scale = self.config.max_side / max(h, w)
            image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        with torch.inference_mode():
            boxes, probs = self._net.detect(image)
        if boxes is None:
            return Detections.empty(names=self.names, image_shape=(h, w))
        probs = np.asarray(probs, np.float32).reshape(-1)
        keep = np.flatnonzero(probs >= floor)
        keep = keep[np.argsort(-probs[keep], kind="stable")]
        xyxy = np.clip(np.asarray(boxes, np.float32).reshape(-1, 4)[keep] / scale, 0, [w, h, w, h])
        return Detections(xyxy, probs[keep], np.zeros(len(keep), np.int64), names=self.names, image_shape=(h, w))

    __call__ = predict

    def predict_batch(self, sources: Sequence[Any], *, min_score: float | None = None) -> list[Detections]:
        """:meth:`predict` for each image of a list."""
        if not isinstance(sources, (list, tuple)):
            raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
        return [self.predict(s, min_score=min_score) for s in sources]

    def __repr__(self) -> str:
        return f"MTCNNFaceDetector({self.config.to_dict()})"
