"""Image classification models (registered in :mod:`vision.models.registry`).

* :mod:`vision.models.classification.small_cnn` — :class:`SmallCNN`, :class:`SmallCNNConfig`, registered as
  ``"fmnist-cnn"`` (a small conv-BN-ReLU network for 28×28 grayscale images such as Fashion-MNIST).
* :mod:`vision.models.classification.backbones` — :func:`create_backbone` (resnet, mobilenet, efficientnet, vgg,
  inception, xception by name; registered as ``"backbone"``), :func:`replace_head`, :func:`backbone_parameters`,
  :func:`head_parameters`.
* :mod:`vision.models.classification.pretrained` — ``"efficientnet-lite0"`` pretrained on ImageNet offline,
  :class:`ImageClassifier` (``predict`` / ``predict_batch`` → Classification), :func:`imagenet_labels`.

Names load on first use, so importing this package does not import torch.
"""

from __future__ import annotations

from vision.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "SmallCNN": "vision.models.classification.small_cnn",
    "SmallCNNConfig": "vision.models.classification.small_cnn",
    "fmnist_cnn": "vision.models.classification.small_cnn",
    "BACKBONES": "vision.models.classification.backbones",
    "BackboneConfig": "vision.models.classification.backbones",
    "create_backbone": "vision.models.classification.backbones",
    "replace_head": "vision.models.classification.backbones",
    "head_module": "vision.models.classification.backbones",
    "backbone_parameters": "vision.models.classification.backbones",
    "head_parameters": "vision.models.classification.backbones",
    "load_by_position": "vision.models.classification.backbones",
    "EfficientNetLite0Config": "vision.models.classification.pretrained",
    "efficientnet_lite0": "vision.models.classification.pretrained",
    "imagenet_labels": "vision.models.classification.pretrained",
    "Preprocessing": "vision.models.classification.pretrained",
    "ImageClassifier": "vision.models.classification.pretrained",
}

__all__ = ["BACKBONES", "BackboneConfig", "EfficientNetLite0Config", "ImageClassifier", "Preprocessing", "SmallCNN",
           "SmallCNNConfig", "backbone_parameters", "create_backbone", "efficientnet_lite0", "fmnist_cnn",
           "head_module", "head_parameters", "imagenet_labels", "load_by_position", "replace_head"]

__getattr__, __dir__ = lazy_exports("vision.models.classification", _EXPORTS, globals())
