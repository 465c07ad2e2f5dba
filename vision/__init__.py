"""vision — one offline-first computer-vision suite.

The public API is re-exported here explicitly. Names are loaded on first use, so ``import vision`` is cheap and
has no side effects (no torch, OpenCV or ultralytics import, no files written, no network).

Example:
    >>> import vision
    >>> img = vision.load_sample("astronaut")
    >>> faces = vision.create_model("haar-face").predict(img)
    >>> vision.annotate(img, faces).shape
    (512, 512, 3)
"""

from __future__ import annotations

from vision.lazy import lazy_exports

__version__ = "0.1.0"

#: public name → module that defines it
_EXPORTS: dict[str, str] = {
    # results and errors
    "Classification": "vision.types",
    "Detections": "vision.types",
    "Segmentation": "vision.types",
    "VisionError": "vision.errors",
    # image and video I/O
    "read_image": "vision.io",
    "write_image": "vision.io",
    "VideoSource": "vision.io",
    "VideoSink": "vision.io",
    # models and weights
    "register_model": "vision.models",
    "create_model": "vision.models",
    "list_models": "vision.models",
    "model_config": "vision.models",
    "model_from_config": "vision.models",
    "save_model_config": "vision.models",
    "resolve_weights": "vision.weights",
    "list_weights": "vision.weights",
    # data
    "load_sample": "vision.data",
    "make_scenes": "vision.data",
    # drawing
    "annotate": "vision.viz",
}
_RENAMED = {"resolve_weights": "resolve"}

__all__ = ["__version__", *sorted(_EXPORTS)]

__getattr__, __dir__ = lazy_exports("vision", _EXPORTS, globals(), renamed=_RENAMED)
