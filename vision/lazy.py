"""Explicit re-exports that load on first use, so importing a package stays cheap and side-effect free."""

from __future__ import annotations

import importlib
from typing import Any, Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str], namespace: dict[str, Any], *,
                 renamed: dict[str, str] | None = None) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` of ``package`` for ``exports`` (public name → defining module).

    The first access imports the module and caches the value in ``namespace`` (the package's ``globals()``).
    ``renamed`` maps a public name to the attribute's name in its module when they differ.
    """
    renamed = renamed or {}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), renamed.get(name, name))
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
