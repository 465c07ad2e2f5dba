"""The registry of classic ops: every op is a plain function that is also a named, introspectable pipeline step.

An op is registered with :func:`register_op`; its keyword-only parameters (with their defaults and type hints)
become the :class:`Param` list that the CLI (``vision ops OP IMAGE --param value``), pipelines (YAML/JSON) and
the Streamlit page read. ``Literal[...]`` hints become choices; ``ranges`` give sliders their bounds.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from vision.errors import InputError
from vision.registry import Registry

__all__ = ["Param", "OpSpec", "register_op", "get_op", "list_ops", "apply_op", "OP_MODULES", "CATEGORIES"]

#: Modules that register ops, imported on first use of the registry.
OP_MODULES: tuple[str, ...] = (
    "vision.classic.edges",
    "vision.classic.hough",
    "vision.classic.morphology",
    "vision.classic.geometry",
    "vision.classic.perspective",
    "vision.classic.denoise",
    "vision.classic.enhance",
    "vision.classic.restore",
    "vision.classic.segment",
    "vision.classic.convolve",
)

CATEGORIES = ("edges", "hough", "morphology", "geometry", "denoise", "noise", "sharpen", "contrast", "restore",
              "segment", "convolve", "color")


@dataclass(frozen=True)
class Param:
    """One keyword-only parameter of an op.

    ``kind`` is ``int``, ``float``, ``bool``, ``choice`` (``choices`` lists the values), ``str`` or ``value``
    (anything else: tuples, point lists, kernels — given as YAML on the command line).
    """

    name: str
    default: Any
    kind: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    help: str = ""

    def parse(self, text: str) -> Any:
        """Turn a command-line string into this parameter's value (YAML syntax: ``3``, ``0.5``, ``[1, 2]``)."""
        import yaml

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"--{self.name}: could not read {text!r} ({exc})") from None
        if self.kind == "str" or (self.kind == "choice" and all(isinstance(c, str) for c in self.choices or ())):
            value = text
        if self.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.kind == "choice" and value not in (self.choices or ()):
            raise InputError(f"--{self.name}: expected one of {list(self.choices or ())}, got {text!r}")
        if self.kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            raise InputError(f"--{self.name}: expected an integer, got {text!r}")
        if self.kind == "float" and (not isinstance(value, float)):
            raise InputError(f"--{self.name}: expected a number, got {text!r}")
        if self.kind == "bool" and not isinstance(value, bool):
            raise InputError(f"--{self.name}: expected true or false, got {text!r}")
        return value


@dataclass(frozen=True)
class OpSpec:
    """A registered op: its function, category, parameters and one-line summary."""

    name: str
    category: str
    func: Callable[..., Any]
    params: tuple[Param, ...] = field(default=())
    summary: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise InputError(f"op {self.name!r} has no parameter {name!r}; expected one of {[p.name for p in self.params]}")

    def __call__(self, image: Any, **params: Any) -> Any:
        for key in params:
            self.param(key)
        return self.func(image, **params)


OPS: Registry[OpSpec] = Registry("op", OP_MODULES)


def _kind(default: Any, hint: Any) -> tuple[str, tuple[Any, ...] | None]:
    if typing.get_origin(hint) is typing.Literal:
        return "choice", typing.get_args(hint)
    if isinstance(default, bool):
        return "bool", None
    if isinstance(default, int):
        return "int", None
    if isinstance(default, float):
        return "float", None
    if isinstance(default, str):
        return "str", None
    return "value", None


def _params(func: Callable, ranges: dict[str, tuple[float, float]], helps: dict[str, str]) -> tuple[Param, ...]:
    sig = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: fall back to defaults only
        hints = {}
    positional = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != 1:
        raise InputError(f"op {func.__name__}: expected exactly one positional parameter (the image), "
                         f"got {[p.name for p in positional]}")
    out = []
    for p in sig.parameters.values():
        if p.kind != p.KEYWORD_ONLY:
            continue
        if p.default is inspect.Parameter.empty:
            raise InputError(f"op {func.__name__}: keyword-only parameter {p.name!r} needs a default")
        kind, choices = _kind(p.default, hints.get(p.name))
        low, high = ranges.get(p.name, (None, None))
        out.append(Param(p.name, p.default, kind, choices, low, high, helps.get(p.name, "")))
    unknown = (set(ranges) | set(helps)) - {p.name for p in out}
    if unknown:
        raise InputError(f"op {func.__name__}: ranges/help name unknown parameters {sorted(unknown)}")
    return tuple(out)


def register_op(name: str, *, category: str, ranges: dict[str, tuple[float, float]] | None = None,
                help: dict[str, str] | None = None) -> Callable:
    """Decorator: register an op ``func(image, *, param=default, ...)`` under ``name``.

    Args:
        name: the op's name in pipelines and on the command line (``snake_case``).
        category: one of :data:`CATEGORIES`.
        ranges: ``{param: (low, high)}`` for sliders (the function still validates its own input).
        help: ``{param: "one line"}``.
    """
    if category not in CATEGORIES:
        raise InputError(f"register_op({name!r}): category {category!r} is not one of {list(CATEGORIES)}")

    def deco(func: Callable) -> Callable:
        doc = (func.__doc__ or "").strip().splitlines()
        spec = OpSpec(name, category, func, _params(func, ranges or {}, help or {}), doc[0] if doc else "")
        existing = OPS._items.get(name)
        OPS.add(name, spec, same=existing is not None and existing.func.__qualname__ == func.__qualname__)
        return func

    return deco


def get_op(name: str) -> OpSpec:
    """The registered op ``name`` (unknown names raise an error suggesting close ones)."""
    return OPS.get(name)


def list_ops(category: str | None = None) -> list[str]:
    """Names of the registered ops, optionally of one category."""
    if category is not None and category not in CATEGORIES:
        raise InputError(f"list_ops: category {category!r} is not one of {list(CATEGORIES)}")
    return [s.name for s in OPS if category is None or s.category == category]


def apply_op(name: str, image: Any, **params: Any) -> Any:
    """Run op ``name`` on ``image``; unknown parameter names are an error listing the valid ones."""
    return get_op(name)(image, **params)
