"""What this installation has: versions, OpenCV build, torch device, offline status, available weights."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
from typing import Any

__all__ = ["system_info", "opencv_distributions"]

_PACKAGES = ("torch", "torchvision", "opencv-python", "opencv-python-headless", "albumentations", "ultralytics",
             "scikit-image", "streamlit", "timm", "torchmetrics", "safetensors", "numpy")


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def opencv_distributions() -> dict[str, str]:
    """Installed pip distributions that provide ``cv2`` (name → version)."""
    names = ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless")
    return {n: v for n in names if (v := _version(n)) is not None}


def _opencv() -> dict[str, Any]:
    import cv2

    build = cv2.getBuildInformation()
    gui = next((line.split(":", 1)[1].strip() for line in build.splitlines() if line.strip().startswith("GUI:")), "NONE")
    return {
        "version": cv2.__version__,
        "distributions": opencv_distributions(),
        "gui": gui,
        "has_cascade_classifier": hasattr(cv2, "CascadeClassifier"),
        "haarcascades": getattr(getattr(cv2, "data", None), "haarcascades", None),
        "threads": cv2.getNumThreads(),
    }


def _torch() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "version": torch.__version__,
        "device": "cuda" if cuda else "cpu",
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "threads": torch.get_num_threads(),
    }


def system_info() -> dict[str, Any]:
    """Everything ``vision info`` shows, as a JSON-able dict."""
    from vision import __version__
    from vision.weights import cache_dir, is_offline, list_weights, manifest_path

    weights = list_weights()
    return {
        "vision": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "packages": {p: _version(p) for p in _PACKAGES},
        "opencv": _opencv(),
        "torch": _torch(),
        "offline": {
            "VISION_OFFLINE": is_offline(),
            "note": "downloads disabled" if is_offline() else "downloads allowed when the network answers",
        },
        "weights": {
            "manifest": str(manifest_path()),
            "cache": str(cache_dir()),
            "available": [w.name for w in weights if w.available],
            "missing": [w.name for w in weights if not w.available],
        },
    }
