"""Image classification models (registered in :mod:`vision.models.registry`).

* :mod:`vision.models.classification.small_cnn` — :class:`SmallCNN`, :class:`SmallCNNConfig`, registered as
  ``"fmnist-cnn"`` (a small conv-BN-ReLU network for 28×28 grayscale images such as Fashion-MNIST).
* :mod:`vision.models.classification.backbones` — :func:`create_backbone` (resnet, mobilenet, efficientnet, vgg,
  inception, xception by name; registered as ``"backbone"``), :func:`replace_head`, :func:`backbone_parameters`,
  :func:`head_parameters`.
* :mod:`vision.models.classification.pretrained` — ``"efficientnet-lite0"`` pretrained on ImageNet offline,
  :class:`ImageClassifier` (``predict`` / ``predict_batch`` → Classification), :func:`imagenet_labels`.
* :mod:`vision.models.classification.transfer` — :func:`freeze_base`, :func:`unfreeze`, :func:`backbone_blocks`,
  :func:`transfer_param_groups` and the two-phase :func:`transfer_learn`.
* :mod:`vision.models.classification.bundle` — a trained classifier on disk (``model.json`` +
  ``weights.safetensors``): :func:`save_classifier`, :func:`load_classifier`, :func:`classifier_info`.

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
    "TransferResult": "vision.models.classification.transfer",
    "backbone_blocks": "vision.models.classification.transfer",
    "freeze_base": "vision.models.classification.transfer",
    "head_layer": "vision.models.classification.transfer",
    "transfer_learn": "vision.models.classification.transfer",
    "transfer_param_groups": "vision.models.classification.transfer",
    "unfreeze": "vision.models.classification.transfer",
    "MODEL_FILE": "vision.models.classification.bundle",
    "WEIGHTS_FILE": "vision.models.classification.bundle",
    "classifier_info": "vision.models.classification.bundle",
    "load_classifier": "vision.models.classification.bundle",
    "save_classifier": "vision.models.classification.bundle",
}

__all__ = ["BACKBONES", "BackboneConfig", "EfficientNetLite0Config", "ImageClassifier", "Preprocessing", "SmallCNN",
           "SmallCNNConfig", "backbone_parameters", "create_backbone", "efficientnet_lite0", "fmnist_cnn",
           "head_module", "head_parameters", "imagenet_labels", "load_by_position", "replace_head",
           "TransferResult", "backbone_blocks", "freeze_base", "head_layer", "transfer_learn", "transfer_param_groups",
           "unfreeze", "MODEL_FILE", "WEIGHTS_FILE", "classifier_info", "load_classifier", "save_classifier"]

__getattr__, __dir__ = lazy_exports("vision.models.classification", _EXPORTS, globals())
