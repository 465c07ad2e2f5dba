"""Detector thresholds shared by the Detect, Compare and Video pages.

The library's :func:`vision.models.detection.compare.detector_options` maps "confidence" and "NMS IoU" to each
detector's own option names and refuses a threshold a detector does not have (e.g. MTCNN has no NMS IoU). A page
offers one IoU slider for all the detectors it runs, so :func:`threshold_options` leaves the IoU out for those
detectors and says so, instead of failing the whole page.
"""

from __future__ import annotations

from vision.errors import InputError
from vision.models.detection.compare import detector_options

__all__ = ["threshold_options"]


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
