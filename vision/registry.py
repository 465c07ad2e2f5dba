"""A named registry filled on first use from an explicit module list; shared by models and classic ops."""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, Iterator, TypeVar

from vision.errors import InputError, UnknownModelError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → item. ``modules`` are imported (in order) the first time the registry is read, so importing
    ``vision`` registers nothing; each of them calls :meth:`add` at import.

    Args:
        kind: what the items are, for messages ("model", "op").
        modules: the explicit list of modules that register items.
    """

    def __init__(self, kind: str, modules: tuple[str, ...]) -> None:
        self.kind, self.modules = kind, modules
        self._items: dict[str, T] = {}
        self._loaded = False

    def add(self, name: str, item: T, *, same: bool = False) -> None:
        """Register ``item``; a second, different item under the same name is an error (``same`` = re-import)."""
        if name in self._items and not same:
            raise InputError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item

    def _load(self) -> None:
        if not self._loaded:
            for module in self.modules:
                importlib.import_module(module)
            self._loaded = True

    def get(self, name: str) -> T:
        """The item called ``name``; an unknown name raises an error that suggests close names."""
        self._load()
        if name not in self._items:
            close = difflib.get_close_matches(name, list(self._items), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownModelError(f"unknown {self.kind} {name!r}{hint}; expected one of: {', '.join(sorted(self._items))}")
        return self._items[name]

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        self._load()
        return iter([self._items[n] for n in sorted(self._items)])

    def snapshot(self) -> dict[str, T]:
        """A copy of the contents (tests restore it with :meth:`restore`)."""
        self._load()
        return dict(self._items)

    def restore(self, items: dict[str, T]) -> None:
        self._items = dict(items)
