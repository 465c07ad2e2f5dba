"""Training building blocks: optimizers, LR schedules, weight averaging, the LR range test (and, later, the Trainer).

Names load on first use, so ``import vision.train`` does not import torch.

* :mod:`vision.train.optim` — :func:`make_optimizer`, :data:`OPTIMIZERS`, :func:`l2_penalty`, :func:`l1_penalty`,
  :func:`regularization_penalty`, :func:`make_ema`.
* :mod:`vision.train.schedules` — :func:`make_schedule`, :data:`SCHEDULES`.
* :mod:`vision.train.lr_finder` — :func:`lr_range_test`, :class:`LRFinderResult`.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name → module that defines it (each module adds its own names)
_EXPORTS: dict[str, str] = {
    # optimizers, penalties, averaging
    "OPTIMIZERS": "vision.train.optim",
    "make_optimizer": "vision.train.optim",
    "l1_penalty": "vision.nn.regularization",
    "l2_penalty": "vision.nn.regularization",
    "regularization_penalty": "vision.train.optim",
    "make_ema": "vision.train.optim",
    # learning-rate schedules
    "SCHEDULES": "vision.train.schedules",
    "make_schedule": "vision.train.schedules",
    # LR range test
    "lr_range_test": "vision.train.lr_finder",
    "LRFinderResult": "vision.train.lr_finder",
}

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "LRFinderResult",
    "l1_penalty",
    "l2_penalty",
    "lr_range_test",
    "make_ema",
    "make_optimizer",
    "make_schedule",
    "regularization_penalty",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vision.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
