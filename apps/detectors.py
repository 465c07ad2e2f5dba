"""What the Detect, Compare and Video pages share: cached detectors and detections, the held-out scenes, and
detector thresholds.

The library's :func:`vision.models.detection.compare.detector_options` maps "confidence" and "NMS IoU" to each
detector's own option names and refuses a threshold a detector does not have (e.g. MTCNN has no NMS IoU). A page
offers one IoU slider for all the detectors it runs, so :func:`threshold_options` leaves the IoU out for those
detectors and says so, instead of failing the whole page.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from vision.errors import InputError
from vision.models import create_model
from vision.models.detection.compare import detector_options
from vision.types import Detections

__all__ = ["detect", "held_out", "load_detector", "threshold_options"]


def threshold_options(name: str, *, conf: float | None, iou: float | None) -> tuple[dict, str | None]:
    """``create_model`` options setting ``name``'s confidence and NMS IoU, and a note when it has no IoU option.

    Raises:
        UnknownModelError / InputError: ``name`` is not a registered detector, or a threshold is out of range.
    """
    if iou is None:
        return detector_options(name, conf=conf), None
    try:
        detector_options(name, iou=iou)
    except InputError:
        return detector_options(name, conf=conf), f"{name} has no NMS IoU option; the IoU slider does not apply to it"
    return detector_options(name, conf=conf, iou=iou), None


@st.cache_resource(show_spinner="Loading the detector…", max_entries=32)
def load_detector(name: str, options: tuple[tuple[str, object], ...]):
    """One detector per (name, options) for the whole server (options: a sorted tuple of pairs, so the cache can
    hash them), warmed up once so the first latency a page shows is not the lazy start-up."""
    detector = create_model(name, **dict(options))
    detector.predict(np.full((256, 256, 3), 127, np.uint8))
    return detector


@st.cache_data(show_spinner="Detecting…", max_entries=128)
def detect(name: str, options: tuple[tuple[str, object], ...], image: np.ndarray) -> tuple[Detections, float]:
    """One detector on one image: its detections and the ``predict`` time in seconds.

    Cached on (detector, options, image), so moving one detector's slider does not rerun the other detectors.
    """
    model = load_detector(name, options)
    start = time.perf_counter()
    result = model.predict(image)
    return result, time.perf_counter() - start


@st.cache_resource(show_spinner="Generating the held-out scenes…")
def held_out(n: int):
    """The first ``n`` scenes of the held-out test split (the shape detectors never saw them in training)."""
    from vision.models.detection.scenes_preset import detection_scenes

    return detection_scenes("test", n=n)
