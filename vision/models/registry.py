"""The one model registry: ``register_model`` / ``create_model`` / ``list_models``.

The registry is filled on first use from an explicit list of modules (``MODEL_MODULES``), so importing
``vision`` registers nothing and imports no model code.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any, Callable

from vision.errors import InputError, UnknownModelError

__all__ = ["ModelSpec", "register_model", "create_model", "list_models", "model_spec", "MODEL_MODULES"]

#: Modules that register models, imported (in this order) the first time the registry is read.
MODEL_MODULES: tuple[str, ...] = (
    "vision.models.detection.opencv",
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


_REGISTRY: dict[str, ModelSpec] = {}
_loaded = False


def register_model(name: str, *, task: str, weights: str | None = None, description: str = "") -> Callable:
    """Decorator registering a model factory (a class or a function returning the model).

    Example:
        >>> @register_model("my-net", task="classify")          # doctest: +SKIP
        ... def my_net(**kwargs): ...
    """
    if task not in TASKS:
        raise InputError(f"register_model({name!r}): task {task!r} is not one of {list(TASKS)}")

    def deco(factory: Callable) -> Callable:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.factory is not factory:
            raise InputError(f"model {name!r} is already registered by {existing.factory.__module__}")
        doc = (factory.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelSpec(name, task, factory, weights, description or (doc[0] if doc else ""))
        return factory

    return deco


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for module in MODEL_MODULES:
            importlib.import_module(module)
        _loaded = True


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; an unknown name raises an error suggesting close names."""
    _ensure_loaded()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(f"unknown model {name!r}{hint} Registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def create_model(name: str, **kwargs: Any) -> Any:
    """Build a registered model; keyword arguments go to its factory."""
    return model_spec(name).factory(**kwargs)


def list_models(task: str | None = None) -> list[str]:
    """Registered model names (sorted), optionally only those of one ``task``."""
    _ensure_loaded()
    if task is not None and task not in TASKS:
        raise InputError(f"list_models: task {task!r} is not one of {list(TASKS)}")
    return sorted(n for n, s in _REGISTRY.items() if task is None or s.task == task)
