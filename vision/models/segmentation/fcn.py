"""FCN (Long, Shelhamer & Darrell, CVPR 2015) trained from scratch: registered as ``"fcn"``.

A fully convolutional network — no dense layer, so any input size works:

* **encoder**: five stages of two :class:`~vision.nn.blocks.ConvBNAct` 3×3 layers, each followed by 2×2 max
  pooling, so the stage outputs (pool1 … pool5) are at 1/2 … 1/32 of the input;
* **scoring**: a 1×1 convolution turns pool5 (and, for the skip variants, pool4 and pool3) into ``C`` class scores;
* **decoder**: transposed convolutions initialised to bilinear interpolation upsample the scores. ``variant``
  chooses the paper's three: ``"32s"`` (pool5 scores ×32), ``"16s"`` (pool5 ×2 + pool4 scores, then ×16) and
  ``"8s"`` (… + pool3 scores, then ×8 — the finest boundaries). Inputs whose sides are not multiples of 32 are
  padded on the right / bottom and the output is cropped back.

This is the paper's architecture at a CPU-sized width (``widths``) with batch normalisation (the paper's VGG-16
had none and needed staged training); the network is hand-written because torchvision's ``fcn_resnet50`` is the
dilated-ResNet "FCN head" variant, not the skip-connection FCN, and is 35 M parameters.

:class:`FCNSegmenter` (the registered model) wraps the network: ``predict(image) →``
:class:`~vision.types.Segmentation` with per-pixel confidence, ``predict_batch``, ``save``. Weights: ``weights=``
names a manifest entry (default ``"fcn-scenes"``: trained here on the synthetic scenes, shipped) or a ``.safetensors``
file written by :meth:`FCNSegmenter.save` (its classes and config are read from the file); None builds an untrained
network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vision.data.scenes import SHAPE_CLASSES
from vision.errors import InputError
from vision.models.config import ModelConfig, build_config, int_tuple
from vision.models.detection.proposal_detector import load_detector_weights, save_detector_weights, saved_config
from vision.models.registry import register_model
from vision.models.segmentation.data import semantic_names
from vision.types import Segmentation

__all__ = ["FCNConfig", "FCNNet", "FCNSegmenter", "WEIGHTS_FORMAT", "bilinear_kernel"]

#: the ``format`` entry in the metadata of the safetensors files :meth:`FCNSegmenter.save` writes
WEIGHTS_FORMAT = "vision.fcn/1"
VARIANTS = ("32s", "16s", "8s")


@dataclass(frozen=True)
class FCNConfig(ModelConfig):
    """Options of :class:`FCNSegmenter`; JSON-serialisable.

    Attributes:
        classes: the foreground classes; class 0 of the output is always ``"background"``.
        variant: ``"32s"``, ``"16s"`` or ``"8s"`` (which skip connections the decoder fuses).
        widths: channels of the five encoder stages.
        weights: a manifest name or ``.safetensors`` path (default ``"fcn-scenes"``, the shipped scenes model), or
            None (untrained).

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    classes: tuple[str, ...] = SHAPE_CLASSES
    variant: str = "8s"
    widths: tuple[int, ...] = (8, 16, 32, 64, 128)
    weights: str | None = "fcn-scenes"

    def __post_init__(self) -> None:
        who = "FCNConfig"
        classes = self.classes
        if isinstance(classes, str) or not isinstance(classes, (tuple, list)) or not classes \
                or not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
            raise InputError(f"{who}: classes must be a non-empty sequence of unique names (background excluded); "
                             f"got {classes!r}")
        if "background" in classes:
            raise InputError(f"{who}: classes must not include 'background' (class 0 is added); got {list(classes)}")
        object.__setattr__(self, "classes", tuple(classes))
        if self.variant not in VARIANTS:
            raise InputError(f"{who}: variant must be one of {list(VARIANTS)}; got {self.variant!r}")
        widths = int_tuple(who, "widths", self.widths)
        if len(widths) != 5:
            raise InputError(f"{who}: widths must give the 5 encoder stages' channels; got {list(widths)}")
        object.__setattr__(self, "widths", widths)
        if self.weights is not None and (not isinstance(self.weights, str) or not self.weights):
            raise InputError(f"{who}: weights must be None, a weights manifest name or a .safetensors path; "
                             f"got {self.weights!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """The output class table: background, then ``classes``."""
        return semantic_names(self.classes)


def bilinear_kernel(channels: int, factor: int) -> torch.Tensor:
    """The ``channels×channels×k×k`` transposed-convolution weight that upsamples by ``factor`` bilinearly, each
    channel on its own (the FCN paper's initialisation; ``k = 2·factor``)."""
    k = 2 * factor
    center = factor - 0.5
    og = torch.arange(k, dtype=torch.float32)
    filt = 1 - (og - center).abs() / factor
    kernel = filt[:, None] * filt[None, :]
    weight = torch.zeros(channels, channels, k, k)
    weight[range(channels), range(channels)] = kernel
    return weight


def _up(channels: int, factor: int) -> nn.ConvTranspose2d:
    layer = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, padding=factor // 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(bilinear_kernel(channels, factor))
    return layer


class FCNNet(nn.Module):
    """The network of :class:`FCNSegmenter`: N×3×H×W floats in [0, 1] → N×C×H×W class logits."""

    def __init__(self, config: FCNConfig) -> None:
        super().__init__()
        from vision.nn.blocks import ConvBNAct

        self.config = config
        c = len(config.names)
        stages, cin = [], 3
        for w in config.widths:
            stages.append(nn.Sequential(ConvBNAct(cin, w), ConvBNAct(w, w), nn.MaxPool2d(2)))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.score5 = nn.Conv2d(config.widths[4], c, 1)
        if config.variant in ("16s", "8s"):
            self.score4, self.up5 = nn.Conv2d(config.widths[3], c, 1), _up(c, 2)
        if config.variant == "8s":
            self.score3, self.up4 = nn.Conv2d(config.widths[2], c, 1), _up(c, 2)
        self.up_final = _up(c, {"32s": 32, "16s": 16, "8s": 8}[config.variant])
        for score in (m for n, m in self.named_children() if n.startswith("score")):
            nn.init.zeros_(score.weight)  # the paper's zero-initialised scoring layers
            nn.init.zeros_(score.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 32, (-w) % 32
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        x = (x - 0.5) / 0.25
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        out = self.score5(feats[4])
        if self.config.variant in ("16s", "8s"):
            out = self.up5(out) + self.score4(feats[3])
        if self.config.variant == "8s":
            out = self.up4(out) + self.score3(feats[2])
        return self.up_final(out)[..., :h, :w]


@register_model("fcn", task="segment", weights="fcn-scenes")
class FCNSegmenter:
    """FCN semantic segmentation (8s / 16s / 32s), trained here from scratch.

    Args:
        config: an :class:`FCNConfig` or its ``to_dict()``.
        **overrides: config fields to replace (``variant="16s"``, ``weights=PATH``...). With ``weights=`` alone,
            the classes and architecture stored in the file are used.

    Attributes:
        config, names (background + classes), model (the :class:`FCNNet`).

    Raises:
        InputError: a bad option. WeightsNotFoundError: the weights are absent. WeightsError: weights for another
        class count or architecture.
    """

    task = "segment"

    def __init__(self, config: FCNConfig | dict | None = None, **overrides: Any) -> None:
        cfg = build_config(FCNConfig, config, overrides, "fcn")
        explicit = "classes" in overrides or isinstance(config, ModelConfig) \
            or (isinstance(config, dict) and "classes" in config)
        if cfg.weights is not None and not explicit:
            saved = saved_config(cfg.weights)
            if saved is not None:
                cfg = build_config(FCNConfig, {**saved, "weights": cfg.weights},
                                   {k: v for k, v in overrides.items() if k != "weights"}, "fcn")
        self.config = cfg
        self.names = cfg.names
        self.model = FCNNet(cfg)
        if cfg.weights is not None:
            load_detector_weights(self.model, cfg.weights, cfg.classes, WEIGHTS_FORMAT, "fcn")
        self.model.eval()

    def save(self, path: str | os.PathLike[str], *, half: bool = True) -> Path:
        """Write the weights (fp16 by default) with the classes and config as a safetensors file."""
        return save_detector_weights(self.model, path, config=self.config, fmt=WEIGHTS_FORMAT, half=half)

    def predict(self, source: Any) -> Segmentation:
        """The class map of one image (a path, bytes or an H×W×3 / H×W uint8 array), at the image's size.

        Returns:
            :class:`~vision.types.Segmentation` with ``names`` = background + classes and per-pixel ``confidence``
            (the winning class's softmax probability).

        Raises:
            ShapeError / DTypeError / SourceNotFoundError: as :func:`vision.io.read_image`.
        """
        return self.predict_batch([source])[0]

    __call__ = predict

    def predict_batch(self, sources: Sequence[Any], *, batch_size: int = 8) -> list[Segmentation]:
        """:meth:`predict` for a list of images, ``batch_size`` same-size images per network call."""
        from vision.io import read_image
        from vision.models.config import positive_int

        if not isinstance(sources, (list, tuple)):
            raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
        positive_int("fcn.predict_batch", "batch_size", batch_size)
        images = [read_image(s) for s in sources]
        out: list[Segmentation | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            by_size.setdefault(im.shape[:2], []).append(i)
        for idx in by_size.values():
            for s in range(0, len(idx), batch_size):
                part = idx[s:s + batch_size]
                x = torch.from_numpy(np.stack([images[i] for i in part])).permute(0, 3, 1, 2).float().div_(255.0)
                with torch.inference_mode():
                    prob = self.model(x).float().softmax(dim=1)
                conf, cls = prob.max(dim=1)
                for j, i in enumerate(part):
                    out[i] = Segmentation(cls[j].numpy(), names=self.names, confidence=conf[j].numpy())
        return out  # type: ignore[return-value]

    def __repr__(self) -> str:
        params = sum(p.numel() for p in self.model.parameters())
        return (f"FCNSegmenter(variant={self.config.variant!r}, classes={list(self.config.classes)}, "
                f"params={params}, weights={self.config.weights!r})")


def train_fcn(train: Any, val: Any = None, *, config: FCNConfig | dict | None = None, epochs: int = 20,
              batch_size: int = 8, lr: float = 3e-3, weight_decay: float = 1e-4, hflip: float = 0.5,
              background_weight: float = 1.0, seed: int = 0, callbacks: Sequence[Any] = (),
              progress: bool = False) -> tuple[FCNSegmenter, Any]:
    """Train an FCN from scratch on a dataset with semantic masks, with the shared trainer.

    AdamW + one-cycle schedule, :class:`~vision.models.segmentation.data.SegmentationTask` (per-pixel cross-entropy;
    validation logs ``val_loss``, ``val_miou``, ``val_pixel_accuracy``).

    Args:
        train, val: :class:`~vision.data.records.DetectionDataset` s with ``semantic_mask`` files (as written by
            :func:`vision.data.make_scenes`); the config's classes default to ``train.classes``.
        config: model options (``weights`` is ignored: training starts from scratch).
        epochs, batch_size, lr, weight_decay: the optimisation. hflip: mirror probability in training.
        background_weight: loss weight of class 0 relative to the others (< 1 when background dominates).
        seed: seeds torch and the loader's shuffling. callbacks: trainer callbacks. progress: a progress bar.

    Returns:
        ``(FCNSegmenter, History)``.

    Raises:
        InputError: bad options, or config classes that differ from the dataset's. DatasetError: images without
        semantic masks.
    """
    from dataclasses import replace

    from torch.utils.data import DataLoader

    from vision.models.config import positive_int
    from vision.models.segmentation.data import SegmentationTask, SemanticMaskDataset
    from vision.train import Trainer
    from vision.train.callbacks import ProgressBar
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule

    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        positive_int("train_fcn", name, v)
    cfg = build_config(FCNConfig, config if config is not None else {"classes": tuple(train.classes)}, {}, "fcn")
    cfg = replace(cfg, weights=None)
    if list(cfg.classes) != list(train.classes):
        raise InputError(f"train_fcn: config classes {list(cfg.classes)} differ from the dataset's "
                         f"{list(train.classes)}")
    torch.manual_seed(seed)
    segmenter = FCNSegmenter(cfg)
    gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(SemanticMaskDataset(train, hflip=hflip), batch_size=batch_size, shuffle=True,
                              generator=gen)
    val_loader = DataLoader(SemanticMaskDataset(val), batch_size=batch_size) if val is not None else None
    weights = [float(background_weight)] + [1.0] * len(cfg.classes)
    net = segmenter.model
    optimizer = make_optimizer(net, "adamw", lr=lr, weight_decay=weight_decay)
    schedule = make_schedule(optimizer, "onecycle", epochs=epochs, steps_per_epoch=len(train_loader))
    cbs = [*callbacks, *([ProgressBar()] if progress else [])]
    trainer = Trainer(net, SegmentationTask(class_weights=weights), optimizer=optimizer, schedule=schedule,
                      callbacks=cbs)
    history = trainer.fit(train_loader, val_loader, epochs=epochs)
    net.eval()
    return segmenter, history
