"""The one model registry: ``register_model`` / ``create_model`` / ``list_models``.

The registry is filled on first use from an explicit list of modules (``MODEL_MODULES``), so importing
``vision`` registers nothing and imports no model code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from vision.errors import InputError
from vision.registry import Registry

__all__ = ["ModelSpec", "register_model", "create_model", "list_models", "model_spec", "MODEL_MODULES", "MODELS"]

#: Modules that register models, imported (in this order) the first time the registry is read.
MODEL_MODULES: tuple[str, ...] = (
    "vision.models.detection.opencv",
    "vision.models.detection.mtcnn",
    "vision.models.detection.yolo",
    "vision.models.detection.faster_rcnn",
    "vision.models.detection.rcnn",
    "vision.models.detection.fast_rcnn",
    "vision.models.segmentation.fcn",
    "vision.models.segmentation.mask_rcnn",
    "vision.models.segmentation.yolo_seg",
    "vision.models.segmentation.torchvision_seg",
    "vision.models.segmentation.selfie",
    "vision.models.classification.small_cnn",
    "vision.models.classification.cnns",
    "vision.models.classification.backbones",
    "vision.models.classification.pretrained",
    "vision.models.generative.autoencoder",
    "vision.models.generative.gan",
    "vision.models.video.classify",
)

TASKS = ("classify", "detect", "segment", "generate", "video")


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model: how to build it and which weights it uses by default."""

    name: str
    task: str
    factory: Callable[..., Any]
    weights: str | None = None
    description: str = ""


MODELS: Registry[ModelSpec] = Registry("model", MODEL_MODULES)


def register_model(name: str, *, task: str, weights: str | None = None, description: str = "") -> Callable:
    """Decorator registering a model factory (a class or a function returning the model).

    Example:
        >>> @register_model("my-net", task="classify")          # doctest: +SKIP
        ... def my_net(**kwargs): ...
    """
    if task not in TASKS:
        raise InputError(f"register_model({name!r}): task {task!r} is not one of {list(TASKS)}")

    def deco(factory: Callable) -> Callable:
        doc = (factory.__doc__ or "").strip().splitlines()
        spec = ModelSpec(name, task, factory, weights, description or (doc[0] if doc else ""))
        existing = MODELS._items.get(name)
        MODELS.add(name, spec, same=existing is not None and existing.factory is factory)
        return factory

    return deco


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; an unknown name raises an error suggesting close names."""
    return MODELS.get(name)


def create_model(name: str, **kwargs: Any) -> Any:
    """Build a registered model; keyword arguments go to its factory.

    The result carries ``registry_name`` (``name``), which :func:`~vision.models.config.model_config` uses to
    write an architecture file that rebuilds it.
    """
    model = model_spec(name).factory(**kwargs)
    try:
        model.registry_name = name
    except AttributeError:  # an object without instance attributes (model_config then says it cannot describe it)
        pass
    return model


def list_models(task: str | None = None, *, available: bool = False) -> list[str]:
    """Registered model names (sorted), optionally only those of one ``task``.

    Args:
        task: one of :data:`TASKS`, or None for all.
        available: only models whose default weights are here, offline (shipped in ``weights/``, inside an installed
            package, cached, or built in); architectures registered without default weights (untrained) and models
            whose weights are missing or fail their checksum (logged) are left out.
    """
    if task is not None and task not in TASKS:
        raise InputError(f"list_models: task {task!r} is not one of {list(TASKS)}")
    names = [s.name for s in MODELS if task is None or s.task == task]
    return [n for n in names if _weights_here(n)] if available else names


def _weights_here(name: str) -> bool:
    import logging

    from vision.errors import UnknownModelError
    from vision.weights import verify

    weights = model_spec(name).weights
    if not weights:
        return False
    try:
        state = verify(weights).state
    except UnknownModelError:
        return False
    if state == "mismatch":
        logging.getLogger(__name__).warning("model %s: weights %r fail their checksum; left out", name, weights)
    return state in ("ok", "unverified", "builtin")
