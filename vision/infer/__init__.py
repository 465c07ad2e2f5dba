"""Inference backends: run a model the same way whatever executes it.

* :func:`open_classifier` — a classifier from a registered name, a trained-classifier folder or a ``.onnx`` file, on
  PyTorch or onnxruntime (what ``vision predict classify`` uses).
* :func:`export_onnx` — write a classifier as an ONNX file with its preprocessing and labels inside.
* :class:`OnnxClassifier` — ``predict`` / ``predict_batch`` → :class:`~vision.types.Classification` on onnxruntime,
  the same API as :class:`~vision.models.classification.ImageClassifier`.

Names load on first use, so importing this package imports neither torch nor onnxruntime.
"""

from __future__ import annotations

from vision.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BACKENDS": "vision.infer.classify",
    "open_classifier": "vision.infer.classify",
    "OnnxClassifier": "vision.infer.onnx",
    "export_onnx": "vision.infer.onnx",
    "read_onnx_metadata": "vision.infer.onnx",
}

__all__ = ["BACKENDS", "OnnxClassifier", "export_onnx", "open_classifier", "read_onnx_metadata"]

__getattr__, __dir__ = lazy_exports("vision.infer", _EXPORTS, globals())
