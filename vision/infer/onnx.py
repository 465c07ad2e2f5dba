"""ONNX: :func:`export_onnx` writes a classifier as a ``.onnx`` file; :class:`OnnxClassifier` runs it (onnxruntime).

The file carries what is needed to use it (``metadata_props``): the :class:`~vision.models.classification.
pretrained.Preprocessing` as JSON (``vision.preprocessing``), the class names (``vision.labels``) and the model's
name (``vision.model``), so ``OnnxClassifier("model.onnx")`` needs no other argument. ``OnnxClassifier`` shares
``predict`` / ``predict_batch`` (reading, preprocessing, softmax, top-k) with the PyTorch
:class:`~vision.models.classification.ImageClassifier` through their common base
:class:`~vision.models.classification.pretrained.TopKClassifier`; only the network call differs.

Example:
    >>> from vision.infer import OnnxClassifier, export_onnx                        # doctest: +SKIP
    >>> from vision.models.classification import ImageClassifier                    # doctest: +SKIP
    >>> export_onnx(ImageClassifier("efficientnet-lite0"), "lite0.onnx")           # doctest: +SKIP
    >>> OnnxClassifier("lite0.onnx").predict(skimage.data.coffee()).top1            # doctest: +SKIP
    'espresso'
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import (
    DTypeError,
    InputError,
    MissingDependencyError,
    ShapeError,
    SourceNotFoundError,
    VisionError,
)
from vision.models.classification.pretrained import Preprocessing, TopKClassifier

if TYPE_CHECKING:
    from torch import nn

__all__ = ["OnnxClassifier", "export_onnx", "read_onnx_metadata"]

log = logging.getLogger(__name__)

#: metadata_props keys written by export_onnx
META_PREPROCESSING, META_LABELS, META_MODEL = "vision.preprocessing", "vision.labels", "vision.model"
INPUT_NAME, OUTPUT_NAME = "images", "logits"
MIN_OPSET = 9


def _size_pair(input_size: Any) -> tuple[int, int]:
    sizes = [input_size, input_size] if isinstance(input_size, (int, np.integer)) else input_size
    if isinstance(sizes, (list, tuple)) and len(sizes) == 2 and \
            all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in sizes):
        return int(sizes[0]), int(sizes[1])
    raise InputError(f"export_onnx: input_size must be an integer > 0 or (height, width); got {input_size!r}")


def _resized(pre: Preprocessing, size: tuple[int, int]) -> Preprocessing:
    """``pre`` for another input size: the centre-crop margin (``resize``) is scaled by the same factor."""
    if size == pre.input_size:
        return pre
    resize = pre.resize
    if resize is not None:
        resize = max(max(size), round(resize * max(size) / max(pre.input_size)))
    return dataclasses.replace(pre, input_size=size, resize=resize)


def _what_to_export(model: Any) -> tuple[nn.Module, Preprocessing | None, tuple[str, ...], str]:
    """The network, its preprocessing (None if unknown), class names and name, from a classifier or a module."""
    import torch

    if isinstance(model, TopKClassifier):
        net = getattr(model, "model", None)
        if not isinstance(net, torch.nn.Module):
            raise InputError(f"export_onnx: {type(model).__name__} holds no PyTorch model; expected an "
                             "ImageClassifier or an nn.Module")
        return net, model.preprocessing, model.names, getattr(net, "registry_name", type(net).__name__)
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"export_onnx: model must be an ImageClassifier or an nn.Module; got {type(model).__name__}")
    pre, names = None, tuple(str(n) for n in getattr(model, "class_names", ()) or ())
    weights = getattr(model, "weights_name", None)
    if weights:
        from vision.weights import get_entry

        entry = get_entry(weights)
        pre = Preprocessing.from_manifest(entry.preprocessing, where=weights)
        names = names or tuple(str(n) for n in entry.labels)
    return model, pre, names, getattr(model, "registry_name", type(model).__name__)


def export_onnx(model: Any, path: str | os.PathLike[str], *, input_size: int | tuple[int, int] | None = None,
                opset: int = 17, dynamic_batch: bool = True) -> Path:
    """Export a classifier to an ONNX file (written atomically), with its preprocessing and labels inside.

    Uses PyTorch's TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``): the newer
    ``torch.export``-based exporter (torch's default since 2.9) needs the package ``onnxscript``, which is not a
    dependency here; the TorchScript one needs only ``onnx`` and gives the same graph for these CNNs. Its
    deprecation and tracer warnings are silenced for the call.

    Args:
        model: an :class:`~vision.models.classification.ImageClassifier` (preprocessing and labels come with it) or
            an ``nn.Module`` returning N×C logits (preprocessing from its ``.weights_name`` manifest entry if it has
            one, labels from ``.class_names``).
        path: the ``.onnx`` file to write; parent folders are created.
        input_size: network input (height, width) or one side; default the preprocessing's. A size other than
            the preprocessing's is stored with the centre-crop ``resize`` scaled alike. Required for a module
            whose preprocessing is not known.
        opset: ONNX opset version (9–20).
        dynamic_batch: a free batch dimension (else the file takes batches of exactly 1).

    Returns:
        ``Path(path)``.

    Raises:
        InputError: a bad argument, no input size known, a model that does not return N×C logits, or one with an
            operator torch.onnx cannot export at ``opset``.
        ShapeError: the model refuses a 1×C×H×W input of ``input_size`` (C from the preprocessing, else 3).
        MissingDependencyError: the package ``onnx`` is not installed.
        The weights errors of a manifest look-up. Nothing is written when any of these is raised.
    """
    import torch

    try:
        from torch.onnx._constants import ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET as max_opset
    except ImportError:  # pragma: no cover - a private constant; 20 is torch 2.14's value
        max_opset = 20
    target = Path(path)
    if target.is_dir():
        raise InputError(f"export_onnx: {target} is a directory; expected a file path like model.onnx")
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= max_opset:
        raise InputError(f"export_onnx: opset must be an integer in [{MIN_OPSET}, {max_opset}]; got {opset!r}")
    if not isinstance(dynamic_batch, bool):
        raise InputError(f"export_onnx: dynamic_batch must be True or False; got {dynamic_batch!r}")
    net, pre, names, name = _what_to_export(model)
    if input_size is None:
        if pre is None:
            raise InputError(f"export_onnx: the input size of {name} is not known (no preprocessing); pass "
                             "input_size=(height, width)")
        size = pre.input_size
    else:
        size = _size_pair(input_size)
        pre = _resized(pre, size) if pre is not None else None
    channels = pre.channels if pre is not None else 3
    param = next(iter(net.parameters()), None)
    dummy = torch.zeros(1, channels, *size, device=param.device if param is not None else "cpu")
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            out = net(dummy)
    except VisionError:
        raise
    except RuntimeError as exc:
        raise ShapeError(f"export_onnx: {name} does not accept a 1×{channels}×{size[0]}×{size[1]} input ({exc}); "
                         "expected a model taking images of input_size with the preprocessing's channels") from exc
    finally:
        net.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise InputError(f"export_onnx: {name} returned {got} for one image; expected 1×classes logits")
    if names and out.shape[1] != len(names):
        raise InputError(f"export_onnx: {name} returns {out.shape[1]} logits but has {len(names)} class names; "
                         "expected one name per logit")
    try:
        import onnx
    except ImportError as exc:
        raise MissingDependencyError("export_onnx needs the optional package onnx (pip install onnx onnxruntime, "
                                     "or the project's extra: pip install -e .[onnx])") from exc
    buffer = io.BytesIO()
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        try:
            torch.onnx.export(net, (dummy,), buffer, dynamo=False, opset_version=opset, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], dynamic_axes=axes, do_constant_folding=True)
        except RuntimeError as exc:  # torch.onnx.OnnxExporterError (an operator without an ONNX form) is one
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"export_onnx: torch.onnx cannot export {name} at opset {opset}: {first[:300]}; "
                             "expected standard layers (try a newer opset)") from exc
    proto = onnx.load_from_string(buffer.getvalue())
    meta = {META_MODEL: name, META_LABELS: json.dumps(list(names))}
    if pre is not None:
        meta[META_PREPROCESSING] = json.dumps(pre.to_manifest())
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "vision"
    onnx.checker.check_model(proto)
    from vision.io.files import atomic_write_bytes

    written = atomic_write_bytes(target, proto.SerializeToString())
    log.info("exported %s to %s (opset %d, input %d×%d×%d, %s batch)", name, written, opset, channels, *size,
             "dynamic" if dynamic_batch else "fixed")
    return written


def read_onnx_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file as a dict (``vision.preprocessing``, ``vision.labels``, ...).

    Raises:
        SourceNotFoundError: no such file. InputError: not an ONNX model.
    """
    session = _session(_check_file(path), ("CPUExecutionProvider",), None)
    return dict(session.get_modelmeta().custom_metadata_map)


# ---------------------------------------------------------------------------------------------------------------
# onnxruntime
# ---------------------------------------------------------------------------------------------------------------
def _check_file(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"OnnxClassifier: path must be a file path; got {type(path).__name__}")
    p = Path(path)
    if not p.exists():
        raise SourceNotFoundError(f"ONNX model not found: {p}; expected a .onnx file (vision export onnx MODEL "
                                  "--out FILE writes one)")
    if not p.is_file():
        raise SourceNotFoundError(f"{p} is not a file; expected a .onnx model file")
    return p


def _session(path: Path, providers: Sequence[str], threads: int | None) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise MissingDependencyError("OnnxClassifier needs the optional package onnxruntime (pip install onnxruntime, "
                                     "or the project's extra: pip install -e .[onnx])") from exc
    if isinstance(providers, str) or not isinstance(providers, Sequence) or not providers:
        raise InputError(f"OnnxClassifier: providers must be a non-empty sequence of names; got {providers!r}")
    available = ort.get_available_providers()
    missing = [p for p in providers if p not in available]
    if missing:
        raise InputError(f"OnnxClassifier: execution provider(s) {missing} are not available here; expected some "
                         f"of {available}")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: onnxruntime would print warnings to stderr
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise InputError(f"OnnxClassifier: threads must be an integer ≥ 1 or None; got {threads!r}")
        options.intra_op_num_threads = threads
    data = path.read_bytes()
    try:
        return ort.InferenceSession(data, sess_options=options, providers=list(providers))
    except Exception as exc:  # onnxruntime raises its own pybind classes (InvalidProtobuf, Fail, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: not an ONNX model onnxruntime can load ({first[:200]}); expected a .onnx file "
                         "written by export_onnx or torch.onnx.export") from exc


def _static(dim: Any) -> int | None:
    return int(dim) if isinstance(dim, int) else None


def _metadata_preprocessing(meta: dict[str, str], path: Path) -> Preprocessing | None:
    text = meta.get(META_PREPROCESSING)
    if text is None:
        return None
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: metadata {META_PREPROCESSING!r} is not JSON ({exc})") from exc
    return Preprocessing.from_manifest(fields, where=str(path))


def _metadata_labels(meta: dict[str, str], path: Path) -> tuple[str, ...]:
    text = meta.get(META_LABELS)
    if text is None:
        return ()
    try:
        labels = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path}: metadata {META_LABELS!r} is not JSON ({exc})") from exc
    if not isinstance(labels, list):
        raise InputError(f"{path}: metadata {META_LABELS!r} must be a JSON list of names; got {type(labels).__name__}")
    return tuple(str(x) for x in labels)


class OnnxClassifier(TopKClassifier):
    """Classify images with an ONNX model on onnxruntime: the same ``predict`` / ``predict_batch`` as ImageClassifier.

    Args:
        path: the ``.onnx`` file (one N×C×H×W float input, N×classes logits out), e.g. from :func:`export_onnx`.
        preprocessing: what the model expects (a :class:`Preprocessing` or a manifest-style dict); default the one
            stored in the file by :func:`export_onnx`.
        labels: class names (index = class id); default those stored in the file, else none (ids as text).
        providers: onnxruntime execution providers, in order of preference.
        threads: onnxruntime intra-op threads; None lets onnxruntime choose (one per physical core).

    Attributes:
        session: the ``onnxruntime.InferenceSession``.
        preprocessing, names, num_classes: as in ImageClassifier. model_name: the name stored by export_onnx.
        batch: the fixed batch size of the file, or None when the batch dimension is free.

    Raises:
        SourceNotFoundError: no such file. InputError: not an ONNX model, a bad argument, no preprocessing known, or
        labels whose count differs from the outputs. ShapeError: the model's input is not N×C×H×W (C from the
        preprocessing's colour) or its H×W
        differs from the preprocessing's input size; its output is not N×C. DTypeError: the input is not float32.
        MissingDependencyError: onnxruntime is not installed.
    """

    def __init__(self, path: str | os.PathLike[str], *, preprocessing: Preprocessing | Mapping[str, Any] | None = None,
                 labels: Sequence[str] | None = None, providers: Sequence[str] = ("CPUExecutionProvider",),
                 threads: int | None = None) -> None:
        self.path = _check_file(path)
        if isinstance(preprocessing, Mapping):
            preprocessing = Preprocessing.from_manifest(preprocessing, where="preprocessing=")
        elif preprocessing is not None and not isinstance(preprocessing, Preprocessing):
            raise InputError(f"OnnxClassifier: preprocessing must be a Preprocessing or a manifest-style dict; got "
                             f"{type(preprocessing).__name__}")
        if labels is not None and (isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence)):
            raise InputError(f"OnnxClassifier: labels must be a sequence of names; got {type(labels).__name__}")
        self.session = _session(self.path, providers, threads)
        meta = dict(self.session.get_modelmeta().custom_metadata_map)
        self.model_name = meta.get(META_MODEL, self.path.stem)
        pre = preprocessing or _metadata_preprocessing(meta, self.path)
        if pre is None:
            raise InputError(f"{self.path}: holds no preprocessing (not written by export_onnx); pass "
                             "preprocessing=Preprocessing(input_size=..., ...)")
        self.preprocessing = pre
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1:
            raise ShapeError(f"{self.path}: the model has {len(inputs)} inputs; expected one N×3×H×W image input")
        spec = inputs[0]
        if spec.type != "tensor(float)":
            raise DTypeError(f"{self.path}: the model input {spec.name!r} is {spec.type}; expected tensor(float)")
        shape = list(spec.shape)
        if len(shape) != 4 or _static(shape[1]) not in (pre.channels, None):
            raise ShapeError(f"{self.path}: the model input {spec.name!r} has shape {shape}; expected "
                             f"N×{pre.channels}×H×W (colour {pre.colour!r})")
        h, w = _static(shape[2]), _static(shape[3])
        th, tw = pre.input_size
        if (h is not None and h != th) or (w is not None and w != tw):
            raise ShapeError(f"{self.path}: the model takes {h}×{w} inputs but the preprocessing makes {th}×{tw}; "
                             "expected the same input size (export again with input_size, or pass a matching "
                             "preprocessing)")
        self.input_name = spec.name
        self.batch = _static(shape[0])
        out_shape = list(outputs[0].shape)
        if len(out_shape) != 2:
            raise ShapeError(f"{self.path}: the model output {outputs[0].name!r} has shape {out_shape}; expected "
                             "N×classes logits")
        self.num_classes = _static(out_shape[1])
        self.names = tuple(str(x) for x in labels) if labels is not None else _metadata_labels(meta, self.path)
        if self.names and self.num_classes is not None and len(self.names) != self.num_classes:
            raise InputError(f"OnnxClassifier: {len(self.names)} labels for a model with {self.num_classes} outputs "
                             f"({self.path}); expected one name per output")
        self.providers = tuple(self.session.get_providers())

    def __repr__(self) -> str:
        th, tw = self.preprocessing.input_size
        return (f"OnnxClassifier({str(self.path)!r}, model={self.model_name!r}, classes={self.num_classes}, "
                f"input={th}×{tw}, providers={list(self.providers)})")

    def _run(self, batch: np.ndarray) -> np.ndarray:
        out = self.session.run(None, {self.input_name: batch})[0]
        if out.ndim != 2 or out.shape[0] != len(batch):
            raise ShapeError(f"{self.path}: the model returned shape {out.shape} for {len(batch)} images; expected "
                             f"{len(batch)}×classes logits")
        return out

    def _logits(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if self.batch is None or self.batch == len(batch):
            return self._run(batch)
        parts = []
        for start in range(0, len(batch), self.batch):  # a fixed batch size: feed it that many, zero-padded
            chunk = batch[start:start + self.batch]
            if len(chunk) < self.batch:
                pad = np.zeros((self.batch - len(chunk), *chunk.shape[1:]), np.float32)
                parts.append(self._run(np.concatenate([chunk, pad]))[:len(chunk)])
            else:
                parts.append(self._run(chunk))
        return np.concatenate(parts)
