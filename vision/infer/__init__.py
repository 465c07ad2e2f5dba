"""Inference backends: run a model the same way whatever executes it.

* :func:`open_classifier` — a classifier from a registered name, a trained-classifier folder or a ``.onnx`` file, on
  PyTorch or onnxruntime (what ``vision predict classify`` uses).
* :func:`export_onnx` — write a classifier as an ONNX file with its preprocessing and labels inside.
* :func:`run_batch` — any model over files, folders, globs, path lists and videos: streamed, batched, resumable,
  sharded (what ``vision predict classify|detect SOURCE --out DIR`` runs); :func:`expand_sources` lists the items.
* :func:`run_stream` / :class:`DetectionStream` — a detector over a live or file video source: newest-frame capture,
  optional tracking (:class:`Tracker`), FPS / latency overlay, window or MJPEG view, recording (``vision stream``).
* :class:`Smoother` / :class:`LineCounter` — tracked boxes averaged over the last frames; objects crossing a line
  counted in / out (supervision's ``DetectionsSmoother`` / ``LineZone``); :func:`parse_line` reads ``x1,y1,x2,y2``.
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
    "run_batch": "vision.infer.batch",
    "BatchSummary": "vision.infer.batch",
    "expand_sources": "vision.infer.sources",
    "DetectionStream": "vision.infer.stream",
    "MjpegServer": "vision.infer.views",
    "StreamItem": "vision.infer.stream",
    "StreamStats": "vision.infer.stream",
    "run_stream": "vision.infer.stream",
    "Tracker": "vision.infer.track",
    "Crossings": "vision.infer.temporal",
    "LineCounter": "vision.infer.temporal",
    "Smoother": "vision.infer.temporal",
    "parse_line": "vision.infer.temporal",
}

__all__ = ["BACKENDS", "BatchSummary", "Crossings", "DetectionStream", "LineCounter", "MjpegServer", "OnnxClassifier",
           "Smoother", "StreamItem", "StreamStats", "Tracker", "expand_sources", "export_onnx", "open_classifier",
           "parse_line", "read_onnx_metadata", "run_batch", "run_stream"]

__getattr__, __dir__ = lazy_exports("vision.infer", _EXPORTS, globals())
