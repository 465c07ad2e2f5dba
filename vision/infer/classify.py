"""Open a classifier from whatever names it — a registered model, a trained-classifier folder, an ONNX file — on
the backend asked for (PyTorch or onnxruntime). ``vision predict classify`` and ``vision export onnx`` use it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vision.errors import InputError, SourceNotFoundError
from vision.models.classification.pretrained import ImageClassifier, TopKClassifier

__all__ = ["BACKENDS", "open_classifier"]

BACKENDS = ("torch", "onnx")


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or Path(text).suffix.lower() in (".onnx", ".json") or Path(text).exists()


def _torch_classifier(model: str, device: str) -> ImageClassifier:
    if not _looks_like_path(model):
        return ImageClassifier(model, device=device)
    path = Path(model)
    if not path.exists():
        raise SourceNotFoundError(f"model not found: {path}; expected a registered model name (vision models list "
                                  "--task classify), a trained-classifier folder, its model.json, or a .onnx file")
    from vision.models.classification.bundle import load_classifier

    return load_classifier(path, device=device)


def open_classifier(model: str | os.PathLike[str] = "efficientnet-lite0", *, backend: str = "torch",
                    device: str = "cpu") -> TopKClassifier:
    """A classifier with ``predict`` / ``predict_batch`` from a model name or path.

    Args:
        model: a registered classify model name (``"efficientnet-lite0"``), a trained-classifier folder (or its
            ``model.json``) as written by training, or a ``.onnx`` file.
        backend: ``"torch"`` (an :class:`~vision.models.classification.ImageClassifier`) or ``"onnx"`` (an
            :class:`~vision.infer.OnnxClassifier`; a PyTorch model is first exported to a temporary ONNX file,
            which costs seconds — export once with :func:`~vision.infer.export_onnx` to skip that).
        device: torch device for the torch backend.

    Returns:
        An ImageClassifier or an OnnxClassifier.

    Raises:
        InputError: an unknown backend, or a ``.onnx`` file with the torch backend.
        SourceNotFoundError: a path that does not exist. UnknownModelError: an unknown model name.
        The errors of ImageClassifier, the bundle loader, export_onnx and OnnxClassifier.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {list(BACKENDS)}; got {backend!r}")
    text = os.fspath(model)
    if not isinstance(text, str) or not text:
        raise InputError(f"model must be a model name or a path; got {model!r}")
    if Path(text).suffix.lower() == ".onnx":
        if backend != "onnx":
            raise InputError(f"{text} is an ONNX file; it runs with backend 'onnx', not {backend!r}")
        from vision.infer.onnx import OnnxClassifier

        return OnnxClassifier(text)
    clf = _torch_classifier(text, device)
    if backend == "torch":
        return clf
    from vision.infer.onnx import OnnxClassifier, export_onnx

    with tempfile.TemporaryDirectory(prefix="vision-onnx-") as tmp:  # the session keeps the model in memory
        path = export_onnx(clf, Path(tmp) / "model.onnx")
        return OnnxClassifier(path)
