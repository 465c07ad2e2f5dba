"""Architecture configs: a frozen-dataclass base every registered model's hyper-parameters derive from, and the
JSON file that rebuilds a model through the registry.

A registered factory takes ``config=`` (its :class:`ModelConfig` subclass or that config's ``to_dict()``) plus
keyword overrides, and the object it builds carries ``.config``. :func:`model_config` turns a built model into
``{"format": ..., "model": <registered name>, "config": {...}}``; :func:`model_from_config` builds the same
architecture again from that dict, its JSON text or a file (weights are separate: a checkpoint or safetensors).

Example:
    >>> from vision.models import create_model, model_config, model_from_config     # doctest: +SKIP
    >>> net = create_model("fmnist-cnn", num_classes=5)                             # doctest: +SKIP
    >>> again = model_from_config(model_config(net))                                # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from vision.errors import InputError, SourceNotFoundError

__all__ = ["CONFIG_FORMAT", "ModelConfig", "build_config", "model_config", "model_from_config", "save_model_config",
           "positive_int", "probability", "int_tuple"]

#: the ``"format"`` entry of every architecture file
CONFIG_FORMAT = "vision.model-config/1"

C = TypeVar("C", bound="ModelConfig")


def positive_int(who: str, name: str, value: Any) -> int:
    """``value`` if it is an integer ≥ 1, else an :class:`InputError` naming ``who.name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{who}: {name} must be an integer ≥ 1; got {value!r}")
    return value


def bounded_number(who: str, name: str, value: Any, *, low: float, high: float = math.inf) -> float:
    """``value`` as a float if it is a finite number in [``low``, ``high``], else an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise InputError(f"{who}: {name} must be a number in [{low}, {high}]; got {value!r}")
    return float(value)


def probability(who: str, name: str, value: Any) -> float:
    """``value`` as a float if it is a number in [0, 1), else an :class:`InputError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value < 1.0:
        raise InputError(f"{who}: {name} must be a number in [0, 1); got {value!r}")
    return float(value)


def int_tuple(who: str, name: str, value: Any, *, length: int | None = None) -> tuple[int, ...]:
    """``value`` as a non-empty tuple of integers ≥ 1 (of ``length`` entries when given)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or not value \
            or (length is not None and len(value) != length):
        size = f"{length}" if length is not None else "a non-empty sequence of"
        raise InputError(f"{who}: {name} must be {size} integers ≥ 1; got {value!r}")
    return tuple(positive_int(who, f"{name}[]", v) for v in value)


def _plain(value: Any) -> Any:
    """Tuples → lists, recursively (what JSON holds)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ModelConfig:
    """Base of the models' hyper-parameter dataclasses: dict / JSON round trips with unknown-key errors.

    Subclasses are frozen dataclasses whose fields are JSON values (numbers, strings, bools, None, tuples) and that
    validate in ``__post_init__`` (tuples may be given as lists there; normalise them with ``object.__setattr__``).
    """

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (tuples as lists)."""
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls: type[C], data: Any) -> C:
        """Build from :meth:`to_dict`'s output.

        Raises:
            InputError: not a mapping, an unknown key, or a bad value.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"{cls.__name__}.from_dict: expected a dict; got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{cls.__name__}: unknown keys {unknown}; expected some of {sorted(known)}")
        return cls(**data)

    def to_json(self) -> str:
        """The config as a JSON object string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        """Build from :meth:`to_json`'s output.

        Raises:
            InputError: not valid JSON, or as :meth:`from_dict`.
        """
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise InputError(f"{cls.__name__}.from_json: expected a JSON object string; got {text!r:.80} ({exc})") \
                from exc
        return cls.from_dict(data)


def build_config(cls: type[C], config: Any, overrides: Mapping[str, Any], who: str) -> C:
    """What a factory does with its ``config=`` and ``**overrides``: a ``cls`` instance.

    Args:
        cls: the factory's config class.
        config: None (the defaults), a ``cls`` instance or its ``to_dict()``.
        overrides: fields to replace.
        who: the model name, for messages.

    Raises:
        InputError: ``config`` of another type, an unknown field or a bad value.
    """
    if config is None:
        config = cls()
    elif isinstance(config, Mapping):
        config = cls.from_dict(dict(config))
    elif not isinstance(config, cls):
        raise InputError(f"{who}: config must be a {cls.__name__} or dict; got {type(config).__name__}")
    if overrides:
        config = cls.from_dict({**config.to_dict(), **overrides})
    return config


def model_config(model: Any) -> dict[str, Any]:
    """The architecture of a model built by :func:`~vision.models.create_model`, as a JSON-safe dict.

    Returns:
        ``{"format": CONFIG_FORMAT, "model": <registered name>, "config": <model.config.to_dict()>}``.

    Raises:
        InputError: the object was not built by the registry or has no ``.config``.
    """
    name = getattr(model, "registry_name", None)
    config = getattr(model, "config", None)
    if not isinstance(name, str) or not isinstance(config, ModelConfig):
        raise InputError(f"model_config: expected a model built by vision.models.create_model (with .registry_name "
                         f"and a ModelConfig .config); got {type(model).__name__} with registry_name={name!r}, "
                         f"config of type {type(config).__name__}")
    return {"format": CONFIG_FORMAT, "model": name, "config": config.to_dict()}


def save_model_config(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write :func:`model_config` as a JSON file (atomically); returns the path."""
    from vision.io.files import atomic_write_text

    return atomic_write_text(path, json.dumps(model_config(model), indent=2, sort_keys=True) + "\n")


def model_from_config(source: Mapping[str, Any] | str | os.PathLike[str]) -> Any:
    """Build the architecture described by :func:`model_config`'s dict, its JSON text, or a file holding it.

    Raises:
        SourceNotFoundError: a path that does not exist. InputError: not such a document (wrong format, no model
        name, unknown keys); UnknownModelError: the named model is not registered.
    """
    from vision.models.registry import create_model

    if isinstance(source, Mapping):
        doc: Any = dict(source)
        where = "config dict"
    else:
        text = str(source)
        if isinstance(source, os.PathLike) or not text.lstrip().startswith(("{", "[")):
            p = Path(source)
            if not p.is_file():
                raise SourceNotFoundError(f"{p}: architecture config file not found")
            text, where = p.read_text(encoding="utf-8"), str(p)
        else:
            where = "config JSON"
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc}); expected a model_config document") from exc
    if not isinstance(doc, dict) or doc.get("format") != CONFIG_FORMAT or not isinstance(doc.get("model"), str) \
            or not isinstance(doc.get("config"), dict):
        got = ({k: type(v).__name__ if k == "config" else v for k, v in doc.items()} if isinstance(doc, dict)
               else type(doc).__name__)
        raise InputError(f"{where}: expected {{'format': {CONFIG_FORMAT!r}, 'model': <name>, 'config': {{...}}}}; "
                         f"got {got!r:.200}")
    return create_model(doc["model"], config=doc["config"])
