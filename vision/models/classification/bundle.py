"""The one on-disk form of a trained classifier: a folder with ``model.json`` and ``weights.safetensors``.

``model.json`` is :func:`vision.models.model_config`'s architecture document plus the class names and the input
the model expects::

    {"format": "vision.model-config/1", "model": "efficientnet-lite0", "config": {...},
     "classes": ["cat", "dog"],
     "preprocessing": {"input_size": [96, 96], "interpolation": "bilinear", "colour": "rgb",
                       "scale": 0.00392156862745098, "mean": [...], "std": [...]}}

``preprocessing`` is a weights-manifest-style mapping (:class:`~vision.models.classification.Preprocessing`), so an
image goes through exactly the steps the model was trained with. ``weights.safetensors`` holds the model's
``state_dict``. :func:`save_classifier` writes a bundle (``vision train classify`` writes one of its best epoch);
:func:`load_classifier` rebuilds the architecture through the registry, loads the weights strictly and returns an
:class:`~vision.models.classification.ImageClassifier` — what ``vision val``, ``vision predict classify`` and the
apps use.

Example:
    >>> save_classifier("runs/cats", net, classes=["cat", "dog"], preprocessing=pre)     # doctest: +SKIP
    >>> clf = load_classifier("runs/cats")                                               # doctest: +SKIP
    >>> clf.predict("kitten.jpg", top_k=1).top1                                          # doctest: +SKIP
    'cat'
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vision.errors import InputError, ManifestError, SourceNotFoundError, WeightsError

if TYPE_CHECKING:
    from torch import nn

    from vision.models.classification.pretrained import ImageClassifier, Preprocessing

__all__ = ["MODEL_FILE", "WEIGHTS_FILE", "classifier_info", "load_classifier", "save_classifier"]

#: the architecture, classes and preprocessing of a bundle
MODEL_FILE = "model.json"
#: the weights of a bundle
WEIGHTS_FILE = "weights.safetensors"


def _preprocessing(value: Any, where: str) -> Preprocessing:
    from vision.models.classification.pretrained import Preprocessing

    if isinstance(value, Preprocessing):
        return value
    if isinstance(value, Mapping):
        return Preprocessing.from_manifest(value, where=where)
    raise InputError(f"{where}: preprocessing must be a Preprocessing or a manifest-style dict; got "
                     f"{type(value).__name__}")


def _classes(value: Any, where: str) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise InputError(f"{where}: classes must be a non-empty list of names; got {value!r:.80}")
    names = [str(c) for c in value]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{where}: classes must be unique names; {dup!r} appears more than once")
    return names


def _input_channels(config: Mapping[str, Any]) -> int | None:
    for key in ("in_channels", "in_chans"):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _check_consistent(config: Mapping[str, Any], classes: list[str], pre: Preprocessing, where: str) -> None:
    """Classes vs the config's ``num_classes`` and the preprocessing's channels vs the model's input channels."""
    n = config.get("num_classes")
    if isinstance(n, int) and not isinstance(n, bool) and n != len(classes):
        raise InputError(f"{where}: the model has num_classes={n} but {len(classes)} class names are given "
                         f"({classes[:5]}{', …' if len(classes) > 5 else ''}); expected one name per output")
    channels = _input_channels(config)
    if channels is not None and channels != pre.channels:
        raise InputError(f"{where}: the model takes {channels}-channel input but the preprocessing gives "
                         f"{pre.channels} (colour {pre.colour!r}); expected colour "
                         f"{'gray' if channels == 1 else 'rgb'}")


def save_classifier(out_dir: str | os.PathLike[str], model: nn.Module, *, classes: Sequence[str],
                    preprocessing: Preprocessing | Mapping[str, Any]) -> Path:
    """Write a trained classifier as a bundle folder: ``model.json`` + ``weights.safetensors``.

    Everything is checked before anything is written; each file is written atomically (weights first).

    Args:
        out_dir: the bundle folder (created; the two files are replaced if present).
        model: a model built by :func:`~vision.models.create_model` (it has ``.registry_name`` and ``.config``).
        classes: the class names, one per output of the model.
        preprocessing: the input the model was trained on: a :class:`~vision.models.classification.Preprocessing`
            or its manifest-style dict.

    Returns:
        The bundle folder.

    Raises:
        InputError: a model not built by the registry, class names that are not one per output (both numbers
        given), a preprocessing whose channels differ from the model's input, ``out_dir`` an existing file.
        ManifestError: a bad preprocessing dict.
    """
    from safetensors.torch import save

    from vision.io.files import atomic_write_bytes, atomic_write_text
    from vision.models.config import model_config

    out = Path(out_dir)
    where = f"save_classifier({out})"
    if out.exists() and not out.is_dir():
        raise InputError(f"{where}: {out} is a file; expected a folder for {MODEL_FILE} and {WEIGHTS_FILE}")
    doc = model_config(model)
    names = _classes(classes, where)
    pre = _preprocessing(preprocessing, where)
    _check_consistent(doc["config"], names, pre, where)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    outputs = _head_outputs(model, tensors)
    if outputs is not None and outputs != len(names):
        raise InputError(f"{where}: the model's head has {outputs} outputs but {len(names)} class names are given; "
                         "expected one name per output")
    doc = {**doc, "classes": names, "preprocessing": pre.to_manifest()}
    data = save(tensors, metadata={"format": doc["format"], "model": doc["model"]})
    atomic_write_bytes(out / WEIGHTS_FILE, data)
    atomic_write_text(out / MODEL_FILE, json.dumps(doc, indent=2) + "\n")
    return out


def _head_outputs(model: nn.Module, tensors: Mapping[str, Any]) -> int | None:
    """Outputs of ``model``'s head according to ``tensors`` (its ``<head>.weight`` rows); None when unknown."""
    from vision.models.classification.transfer import head_layer

    try:
        name, head = head_layer(model)
    except InputError:
        return None
    layers = [sub for sub, m in head.named_modules() if "weight" in dict(m.named_parameters(recurse=False))]
    if not layers:
        return None
    key = ".".join(part for part in (name, layers[-1], "weight") if part)  # e.g. "fc.1.weight" for Dropout+Linear
    weight = tensors.get(key)
    return int(weight.shape[0]) if weight is not None and weight.ndim >= 1 else None


def _paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    p = Path(path)
    if p.is_dir():
        folder, doc = p, p / MODEL_FILE
    elif p.name == MODEL_FILE or p.suffix == ".json":
        folder, doc = p.parent, p
    else:
        folder, doc = p, p / MODEL_FILE
    if not doc.is_file():
        hint = "" if p.exists() else " (the path does not exist)"
        raise SourceNotFoundError(f"{doc}: classifier bundle file not found{hint}; expected a folder with "
                                  f"{MODEL_FILE} and {WEIGHTS_FILE} (as vision train classify writes)")
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise SourceNotFoundError(f"{weights}: weights of the classifier bundle not found beside {doc.name}")
    return doc, weights


def classifier_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a bundle's ``model.json`` without building the model.

    Args:
        path: the bundle folder or its ``model.json``.

    Returns:
        The document (``format``, ``model``, ``config``, ``classes``, ``preprocessing``) plus ``"path"`` (the
        folder) and ``"weights"`` (the weights file).

    Raises:
        SourceNotFoundError: no ``model.json`` or no ``weights.safetensors``. InputError: not valid JSON, not a
        bundle document, classes that are not one per output (both numbers given). ManifestError: a bad
        ``preprocessing``.
    """
    from vision.models.config import CONFIG_FORMAT

    doc_path, weights = _paths(path)
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{doc_path}: not valid JSON ({exc}); expected a classifier bundle's {MODEL_FILE}") from exc
    if not isinstance(doc, dict) or doc.get("format") != CONFIG_FORMAT or not isinstance(doc.get("model"), str) \
            or not isinstance(doc.get("config"), dict) or "classes" not in doc or "preprocessing" not in doc:
        keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise InputError(f"{doc_path}: expected a classifier bundle document with format {CONFIG_FORMAT!r}, model, "
                         f"config, classes and preprocessing; got keys {keys}")
    where = str(doc_path)
    classes = _classes(doc["classes"], where)
    try:
        pre = _preprocessing(doc["preprocessing"], where)
    except ManifestError as exc:
        raise ManifestError(f"{doc_path}: {exc}") from exc
    _check_consistent(doc["config"], classes, pre, where)
    return {**doc, "classes": classes, "path": doc_path.parent, "weights": weights}


def load_classifier(path: str | os.PathLike[str], *, device: str = "cpu") -> ImageClassifier:
    """Load a bundle written by :func:`save_classifier` as a ready-to-use :class:`ImageClassifier`.

    The architecture is rebuilt through the registry (:func:`~vision.models.model_from_config`, with
    ``pretrained`` turned off: the bundle's weights replace any), then the weights are loaded strictly.

    Args:
        path: the bundle folder or its ``model.json``.
        device: torch device, e.g. ``"cpu"``.

    Returns:
        The classifier (eval mode) with the bundle's class names and preprocessing.

    Raises:
        The errors of :func:`classifier_info`. UnknownModelError: the model name is not registered here.
        WeightsError: an unreadable weights file, missing or unexpected tensors, a tensor whose shape differs (a
        head with another number of classes says both numbers).
    """
    from vision.models.classification.pretrained import ImageClassifier
    from vision.models.config import model_from_config

    info = classifier_info(path)
    config = dict(info["config"])
    if config.get("pretrained") is True:
        config["pretrained"] = False  # the bundle's weights replace the pretrained ones: no need to find those
    model = model_from_config({"format": info["format"], "model": info["model"], "config": config})
    _load_weights(model, info["weights"], len(info["classes"]))
    return ImageClassifier(model, preprocessing=info["preprocessing"], labels=info["classes"], device=device)


def _load_weights(model: nn.Module, weights: Path, num_classes: int) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"{weights}: not a readable safetensors file ({exc})") from exc
    outputs = _head_outputs(model, state)
    if outputs is not None and outputs != num_classes:
        raise WeightsError(f"{weights}: the weights hold a {outputs}-class head but {MODEL_FILE} describes "
                           f"{num_classes} classes; expected the same number (was the bundle edited?)")
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise WeightsError(f"{weights}: does not fit {type(model).__name__}: missing {missing[:5]}"
                           f"{' …' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                           f"{' …' if len(unexpected) > 5 else ''}")
    for key, want in own.items():  # the first misfit in the model's order
        if tuple(state[key].shape) != tuple(want.shape):
            raise WeightsError(f"{weights}: tensor {key!r} has shape {tuple(state[key].shape)}, but the model's has "
                               f"{tuple(want.shape)}; expected the architecture of {MODEL_FILE}")
    model.load_state_dict(state, strict=True)
