"""Image classification models (registered in :mod:`vision.models.registry`).

* :mod:`vision.models.classification.small_cnn` — :class:`SmallCNN`, :class:`SmallCNNConfig`, registered as
  ``"fmnist-cnn"`` (a small conv-BN-ReLU network for 28×28 grayscale images such as Fashion-MNIST).

Names load on first use, so importing this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "SmallCNN": "vision.models.classification.small_cnn",
    "SmallCNNConfig": "vision.models.classification.small_cnn",
    "fmnist_cnn": "vision.models.classification.small_cnn",
}

__all__ = ["SmallCNN", "SmallCNNConfig", "fmnist_cnn"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vision.models.classification' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
