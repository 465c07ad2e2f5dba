"""Multi-object tracking over :class:`~vision.types.Detections`: ultralytics' ByteTrack and BoT-SORT, fed our results.

:class:`Tracker` wraps ``ultralytics.trackers.BYTETracker`` / ``BOTSORT`` (the maintained implementations that
``yolo track`` uses) so that any detector of the suite (YOLO, HOG people, Haar faces, Faster R-CNN) can be tracked:
``update(detections, image)`` returns the tracked subset of the detections with ``track_ids`` set. Boxes, scores,
classes and masks are the detector's own (rows are picked by the tracker's detection index), so drawing and JSON
stay exactly what the detector said. The trackers' settings are ultralytics' shipped ``bytetrack.yaml`` /
``botsort.yaml`` (BoT-SORT without ReID; its global-motion compensation uses the frame).

ultralytics' assignment step needs the small ``lap`` package (``pip install "vision[track]"``); without it the
error says so instead of letting ultralytics try to pip-install it.

Example:
    >>> from vision.infer.track import Tracker                     # doctest: +SKIP
    >>> tracker = Tracker("bytetrack", frame_rate=30)             # doctest: +SKIP
    >>> tracked = tracker.update(detector.predict(frame), frame)   # doctest: +SKIP
    >>> tracked.track_ids                                          # doctest: +SKIP
    array([1, 2])
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from vision.errors import InputError, VisionError
from vision.types import Detections

__all__ = ["TRACKERS", "Tracker"]

logger = logging.getLogger(__name__)

#: tracker name → ultralytics class name
TRACKERS: dict[str, str] = {"bytetrack": "BYTETracker", "botsort": "BOTSORT"}


class _Boxes:
    """The slice of ultralytics' ``Boxes`` API its trackers read (``conf``, ``cls``, ``xyxy``, ``xywh``, masks)."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xyxy = xyxy
        self.conf = conf
        self.cls = cls

    @property
    def xywh(self) -> np.ndarray:
        xy = (self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2
        return np.concatenate([xy, self.xyxy[:, 2:] - self.xyxy[:, :2]], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> _Boxes:
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


def _tracker_args(kind: str, track_buffer: int) -> SimpleNamespace:
    """ultralytics' shipped tracker YAML (``bytetrack.yaml`` / ``botsort.yaml``) as the namespace it expects."""
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    cfg = dict(YAML.load(check_yaml(f"{kind}.yaml")))
    cfg["track_buffer"] = track_buffer
    if kind == "botsort":
        cfg["with_reid"] = False  # ReID needs extra weights; offline there are none
    return SimpleNamespace(**cfg)


class Tracker:
    """Give detections stable ids across frames with ultralytics' ByteTrack or BoT-SORT.

    Args:
        kind: ``"bytetrack"`` (motion + IoU) or ``"botsort"`` (adds camera-motion compensation).
        frame_rate: frames per second of the video; with ``track_buffer`` it sets how long a lost track is kept.
        track_buffer: frames (at 30 fps) a lost track waits to be found again.
    Raises:
        InputError: unknown ``kind`` or bad numbers.
        VisionError: the ``lap`` package (needed by ultralytics' trackers) is not installed.
    """

    def __init__(self, kind: str = "bytetrack", *, frame_rate: float = 30.0, track_buffer: int = 30) -> None:
        if kind not in TRACKERS:
            raise InputError(f"Tracker: kind must be one of {sorted(TRACKERS)}; got {kind!r}")
        if isinstance(frame_rate, bool) or not isinstance(frame_rate, (int, float)) or not (
                math.isfinite(frame_rate) and frame_rate > 0):
            raise InputError(f"Tracker: frame_rate must be a positive number; got {frame_rate!r}")
        if isinstance(track_buffer, bool) or not isinstance(track_buffer, int) or track_buffer < 1:
            raise InputError(f"Tracker: track_buffer must be an integer ≥ 1; got {track_buffer!r}")
        if importlib.util.find_spec("lap") is None:
            raise VisionError("tracking needs the 'lap' package (ultralytics' assignment solver), which is not "
                              "installed; expected it beside ultralytics: pip install \"vision[track]\" (or lap>=0.5.12)")
        from vision.models.detection.yolo import ultralytics_offline

        ultralytics_offline()
        from ultralytics import trackers

        self.kind = kind
        self.frame_rate = float(frame_rate)
        cls = getattr(trackers, TRACKERS[kind])
        if "frame_rate" in inspect.signature(cls.__init__).parameters:  # ultralytics < 8.4 scales the buffer
            self._tracker = cls(_tracker_args(kind, track_buffer), frame_rate=max(1, round(frame_rate)))
        else:  # 8.4+: track_buffer counts frames; keep the "frames at 30 fps" meaning
            buffer = max(1, round(track_buffer * frame_rate / 30.0))
            self._tracker = cls(_tracker_args(kind, buffer))

    def update(self, detections: Detections, image: np.ndarray | None = None) -> Detections:
        """Track one frame's detections; returns the tracked ones with ``track_ids`` (ids start at 1).

        Args:
            detections: this frame's detections (any detector).
            image: the frame, ``H×W×3`` uint8 RGB; BoT-SORT uses it for camera-motion compensation.
        Raises:
            InputError: ``detections`` is not a Detections.
        """
        if not isinstance(detections, Detections):
            raise InputError(f"Tracker.update: expected Detections, got {type(detections).__name__}")
        boxes = _Boxes(detections.xyxy.astype(np.float32), detections.scores.astype(np.float32),
                       detections.class_ids.astype(np.float32))
        bgr = None
        if image is not None and self.kind == "botsort":
            import cv2

            bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
        rows = self._tracker.update(boxes, bgr)
        if len(rows) == 0:
            keep = np.zeros(0, np.int64)
            ids = np.zeros(0, np.int64)
        else:
            keep = rows[:, -1].astype(np.int64)
            ids = rows[:, 4].astype(np.int64)
        return Detections(detections.xyxy[keep], detections.scores[keep], detections.class_ids[keep],
                          names=detections.names,
                          masks=None if detections.masks is None else detections.masks[keep],
                          track_ids=ids, image_shape=detections.image_shape)

    def reset(self) -> None:
        """Forget every track (ids start again from 1)."""
        self._tracker.reset()

    def __repr__(self) -> str:
        return f"Tracker({self.kind!r}, frame_rate={self.frame_rate:g})"
