"""Image classification models (registered in :mod:`vision.models.registry`).

* :mod:`vision.models.classification.small_cnn` — :class:`SmallCNN`, :class:`SmallCNNConfig`, registered as
  ``"fmnist-cnn"`` (a small conv-BN-ReLU network for 28×28 grayscale images such as Fashion-MNIST).

Names load on first use, so importing this package does not import torch.
"""

from __future__ import annotations

from vision.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "SmallCNN": "vision.models.classification.small_cnn",
    "SmallCNNConfig": "vision.models.classification.small_cnn",
    "fmnist_cnn": "vision.models.classification.small_cnn",
}

__all__ = ["SmallCNN", "SmallCNNConfig", "fmnist_cnn"]

__getattr__, __dir__ = lazy_exports("vision.models.classification", _EXPORTS, globals())
