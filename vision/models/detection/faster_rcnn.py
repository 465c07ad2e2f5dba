"""Faster R-CNN (torchvision): three registered backbones, configurable anchors / RPN / heads, offline weights.

* ``"faster-rcnn-lite0"`` — EfficientNet-Lite0 (ImageNet, shipped offline by pip) + FPN through torchvision's
  :class:`~torchvision.models.detection.FasterRCNN`; by default it loads ``faster-rcnn-lite0-scenes``, the detector
  trained on the synthetic shape scenes (``bench/train_faster_rcnn.py`` reproduces it).
* ``"faster-rcnn-mobilenet"`` — torchvision's ``fasterrcnn_mobilenet_v3_large_fpn`` architecture.
* ``"faster-rcnn-resnet50"`` — torchvision's ``fasterrcnn_resnet50_fpn`` architecture.

**Classes.** ``config.classes`` are the *object* classes, background excluded; the network has
``len(classes) + 1`` outputs because class 0 is torchvision's background. A prediction's ``class_ids`` index
``classes`` (network label − 1). ``classes=None`` takes the weights' own class table (their manifest ``labels``,
with a leading ``__background__`` dropped, or the names stored in a safetensors file) and, without weights, the
five scene shapes.

**Weights.** ``weights`` is a manifest name (or a ``.safetensors`` / ``.pth`` path) of a whole detector;
``backbone_weights`` (used only when ``weights`` is None) the ImageNet weights of the backbone. Both go through
:func:`vision.weights.resolve` — torchvision is always called with ``weights=None, weights_backbone=None``, so
nothing is downloaded behind the resolver's back. The official COCO detectors resolve through the manifest entries
``fasterrcnn_mobilenet_v3_large_fpn-coco`` / ``fasterrcnn_resnet50_fpn-coco`` when online (offline the resolver
says where to put the file). A file whose box predictor has another class count raises
:class:`~vision.errors.WeightsError` naming both counts. With pretrained weights the backbone's batch norms are
frozen (as torchvision does); an untrained backbone keeps trainable batch norms.

Example:
    >>> from vision.models import create_model                    # doctest: +SKIP
    >>> det = create_model("faster-rcnn-lite0")                     # shipped weights, offline  # doctest: +SKIP
    >>> det.predict("scene.jpg").labels                             # doctest: +SKIP
    ('circle', 'star')
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError, WeightsError
from vision.models.config import ModelConfig, bounded_number, build_config, positive_int, probability
from vision.models.registry import register_model
from vision.types import Detections

__all__ = [
    "EVAL_SCORE_THRESH",
    "SCENES_WEIGHTS",
    "WEIGHTS_FORMAT",
    "FasterRCNNConfig",
    "FasterRCNNDetector",
    "FasterRCNNLite0Config",
    "FasterRCNNMobileNetConfig",
    "FasterRCNNResNet50Config",
    "train_faster_rcnn",
]

#: the ``format`` metadata of safetensors files written by :meth:`FasterRCNNDetector.save_weights`
WEIGHTS_FORMAT = "vision.detector-weights/1"
#: the score threshold mAP is measured with (low-score boxes count in mAP; as ``vision val detect``'s default)
EVAL_SCORE_THRESH = 0.001
#: manifest name of the shipped scenes detector
SCENES_WEIGHTS = "faster-rcnn-lite0-scenes"
_SCENE_CLASSES = ("circle", "square", "triangle", "star", "hexagon")  # vision.data.scenes.SHAPE_CLASSES


_number = bounded_number  # the shared check (vision.models.config)


@dataclass(frozen=True)
class FasterRCNNConfig(ModelConfig):
    """Architecture and inference options of a Faster R-CNN (JSON-serialisable); see the module docstring.

    Attributes:
        classes: object class names, background **excluded** (the network has ``len(classes) + 1`` outputs);
            None = the weights' classes (the scene shapes without weights).
        weights: manifest name or file of whole-detector weights; None = untrained heads.
        backbone_weights: manifest name of the backbone's ImageNet weights, used only when ``weights`` is None.
        trainable_backbone_layers: backbone stages (from the top) that train; None = 3 with pretrained weights
            (torchvision's default; 4 for Lite0), every stage without.
        min_size, max_size: the transform resizes the shorter side to ``min_size`` unless the longer side would
            exceed ``max_size`` (torchvision's ``GeneralizedRCNNTransform``).
        anchor_sizes: anchor sizes in pixels, one tuple per feature-map level.
        aspect_ratios: anchor height/width ratios, the same at every level.
        rpn_pre_nms_top_n_train / _test, rpn_post_nms_top_n_train / _test: proposals kept per image before and
            after the RPN's NMS.
        rpn_nms_thresh: RPN NMS IoU. rpn_score_thresh: drop proposals scoring below this.
        rpn_batch_size_per_image: anchors sampled per image for the RPN loss.
        box_score_thresh: drop detections scoring below this. box_nms_thresh: per-class NMS IoU of the detections.
        box_detections_per_img: at most this many detections per image.
        box_batch_size_per_image: proposals sampled per image for the box-head loss.

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    classes: tuple[str, ...] | None = None
    weights: str | None = None
    backbone_weights: str | None = None
    trainable_backbone_layers: int | None = None
    min_size: int = 800
    max_size: int = 1333
    anchor_sizes: tuple[tuple[int, ...], ...] = ((32,), (64,), (128,), (256,), (512,))
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    rpn_pre_nms_top_n_train: int = 2000
    rpn_pre_nms_top_n_test: int = 1000
    rpn_post_nms_top_n_train: int = 2000
    rpn_post_nms_top_n_test: int = 1000
    rpn_nms_thresh: float = 0.7
    rpn_score_thresh: float = 0.0
    rpn_batch_size_per_image: int = 256
    box_score_thresh: float = 0.05
    box_nms_thresh: float = 0.5
    box_detections_per_img: int = 100
    box_batch_size_per_image: int = 512

    #: the backbone stages that ``trainable_backbone_layers`` counts, and its default with pretrained weights
    max_trainable_layers = 5
    default_trainable_layers = 3

    def __post_init__(self) -> None:
        who = type(self).__name__
        set_ = object.__setattr__
        if self.classes is not None:
            if isinstance(self.classes, str) or not isinstance(self.classes, (tuple, list)) or not self.classes \
                    or not all(isinstance(c, str) and c for c in self.classes):
                raise InputError(f"{who}: classes must be None or a non-empty list of class names (background "
                                 f"excluded); got {self.classes!r}")
            if len(set(self.classes)) != len(self.classes):
                raise InputError(f"{who}: classes must be unique; got {list(self.classes)}")
            set_(self, "classes", tuple(self.classes))
        for name in ("weights", "backbone_weights"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise InputError(f"{who}: {name} must be None or a weights manifest name / file path; got {value!r}")
        tbl = self.trainable_backbone_layers
        if tbl is not None and (isinstance(tbl, bool) or not isinstance(tbl, int)
                                or not 0 <= tbl <= self.max_trainable_layers):
            raise InputError(f"{who}: trainable_backbone_layers must be None or an integer in "
                             f"0..{self.max_trainable_layers}; got {tbl!r}")
        positive_int(who, "min_size", self.min_size)
        positive_int(who, "max_size", self.max_size)
        if self.max_size < self.min_size:
            raise InputError(f"{who}: max_size ({self.max_size}) must be ≥ min_size ({self.min_size})")
        sizes = self.anchor_sizes
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (tuple, list)) or not sizes:
            raise InputError(f"{who}: anchor_sizes must be one tuple of pixel sizes per feature level, e.g. "
                             f"((32,), (64,)); got {sizes!r}")
        levels = []
        for level in sizes:
            if isinstance(level, (int, float)) and not isinstance(level, bool):
                level = (level,)
            if not isinstance(level, (tuple, list)) or not level:
                raise InputError(f"{who}: anchor_sizes entries must be non-empty tuples of sizes; got {sizes!r}")
            levels.append(tuple(positive_int(who, "anchor_sizes[][]", v) for v in level))
        if len({len(level) for level in levels}) != 1:
            raise InputError(f"{who}: every anchor_sizes level needs the same number of sizes (the RPN head "
                             f"predicts a fixed number of anchors per location); got {sizes!r}")
        set_(self, "anchor_sizes", tuple(levels))
        ratios = self.aspect_ratios
        if isinstance(ratios, (str, bytes)) or not isinstance(ratios, (tuple, list)) or not ratios:
            raise InputError(f"{who}: aspect_ratios must be a non-empty tuple of numbers > 0; got {ratios!r}")
        set_(self, "aspect_ratios", tuple(_number(who, "aspect_ratios[]", r, low=1e-3, high=1e3) for r in ratios))
        for name in ("rpn_pre_nms_top_n_train", "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_train",
                     "rpn_post_nms_top_n_test", "rpn_batch_size_per_image", "box_detections_per_img",
                     "box_batch_size_per_image"):
            positive_int(who, name, getattr(self, name))
        for name in ("rpn_nms_thresh", "box_nms_thresh"):
            value = _number(who, name, getattr(self, name), low=0.0, high=1.0)
            if value == 0.0:
                raise InputError(f"{who}: {name} must be in (0, 1]; got {value!r}")
            set_(self, name, value)
        for name in ("rpn_score_thresh", "box_score_thresh"):
            set_(self, name, probability(who, name, getattr(self, name)))


@dataclass(frozen=True)
class FasterRCNNResNet50Config(FasterRCNNConfig):
    """:class:`FasterRCNNConfig` with torchvision's ``fasterrcnn_resnet50_fpn`` defaults (5 trainable stages)."""


@dataclass(frozen=True)
class FasterRCNNMobileNetConfig(FasterRCNNConfig):
    """:class:`FasterRCNNConfig` with torchvision's ``fasterrcnn_mobilenet_v3_large_fpn`` defaults (6 stages)."""

    anchor_sizes: tuple[tuple[int, ...], ...] = ((32, 64, 128, 256, 512),) * 3
    rpn_score_thresh: float = 0.05
    max_trainable_layers = 6


@dataclass(frozen=True)
class FasterRCNNLite0Config(FasterRCNNConfig):
    """:class:`FasterRCNNConfig` for the EfficientNet-Lite0 FPN detector, sized for 256 px scenes.

    Extra attributes:
        fpn_channels: channels of the FPN outputs (and of the RPN / RoI features).
        representation_size: width of the box head's two fully connected layers.

    ``trainable_backbone_layers`` counts 8 stages: the 7 block stages from the top, then the stem (None: the top 4
    with pretrained weights, all 8 without).
    """

    classes: tuple[str, ...] | None = None
    weights: str | None = SCENES_WEIGHTS
    backbone_weights: str | None = "efficientnet-lite0-imagenet"
    min_size: int = 256
    max_size: int = 512
    anchor_sizes: tuple[tuple[int, ...], ...] = ((32, 45), (64, 90), (128, 181), (256, 362))
    rpn_pre_nms_top_n_train: int = 1000
    rpn_pre_nms_top_n_test: int = 500
    rpn_post_nms_top_n_train: int = 500
    rpn_post_nms_top_n_test: int = 200
    box_batch_size_per_image: int = 128
    fpn_channels: int = 64
    representation_size: int = 256
    max_trainable_layers = 8
    default_trainable_layers = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        positive_int(type(self).__name__, "fpn_channels", self.fpn_channels)
        positive_int(type(self).__name__, "representation_size", self.representation_size)


# ---------------------------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------------------------
def _weights_file(name: str) -> tuple[Path, tuple[str, ...]]:
    """(verified local path, manifest labels) of a manifest name or an existing file path."""
    from vision.weights import get_entry, load_manifest, resolve

    if name not in load_manifest() and (name.endswith((".safetensors", ".pth", ".pt")) or os.sep in name):
        path = Path(name)
        if not path.is_file():
            from vision.errors import WeightsNotFoundError

            raise WeightsNotFoundError(f"weights file {path} does not exist")
        return path, ()
    path = resolve(name)
    if path is None:
        raise WeightsError(f"weights {name!r} are builtin; expected a Faster R-CNN weights file entry")
    labels = get_entry(name).labels
    return path, tuple(labels[1:] if labels and labels[0] == "__background__" else labels)


def _file_classes(path: Path) -> tuple[str, ...]:
    """The class names stored in a safetensors file written by :meth:`FasterRCNNDetector.save_weights`."""
    if path.suffix != ".safetensors":
        return ()
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    try:
        classes = json.loads(meta.get("classes", "[]"))
    except json.JSONDecodeError:
        return ()
    return tuple(str(c) for c in classes) if isinstance(classes, list) else ()


def _predictor_classes(state: dict[str, Any], where: str) -> int:
    key = "roi_heads.box_predictor.cls_score.weight"
    if key not in state:
        raise WeightsError(f"{where}: no {key!r} tensor; expected the state dict of a torchvision Faster R-CNN")
    return int(state[key].shape[0])


# ---------------------------------------------------------------------------------------------------------------
# the detector
# ---------------------------------------------------------------------------------------------------------------
class FasterRCNNDetector:
    """A torchvision Faster R-CNN with its class names: ``predict(image) -> Detections``.

    Built by the registered factories (``create_model("faster-rcnn-lite0")``); train ``.model`` with the shared
    :class:`~vision.train.Trainer` and :class:`~vision.models.detection.task.DetectionTask`.

    Attributes:
        model: the ``torchvision.models.detection.FasterRCNN`` (an ``nn.Module``, in eval mode after building).
        config: the :class:`FasterRCNNConfig` it was built from.
        names: the object class names (``class_ids`` of the predictions index them).
        weights_path: the file the weights came from, or None.
    """

    task = "detect"

    def __init__(self, model: Any, config: FasterRCNNConfig, names: tuple[str, ...], *,
                 weights_path: Path | None = None, registered_as: str = "") -> None:
        self.model = model
        self.config = config
        self.names = tuple(names)
        self.weights_path = weights_path
        self._registered_as = registered_as

    @property
    def num_classes(self) -> int:
        """Network outputs: ``len(names) + 1`` (background included)."""
        return len(self.names) + 1

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def to(self, device: Any) -> FasterRCNNDetector:
        """Move the network to ``device`` (``"cpu"``, ``"cuda"``); returns self."""
        self.model.to(device)
        return self

    def _images(self, sources: list[Any]) -> list[np.ndarray]:
        from vision.io import read_image

        images = []
        for src in sources:
            image = read_image(src)
            if image.shape[0] < 1 or image.shape[1] < 1:
                raise InputError(f"{type(self).__name__}: expected a non-empty image; got {image.shape[1]}×"
                                 f"{image.shape[0]} px")
            images.append(image)
        return images

    def _run(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        import torch

        from vision.models.detection.data import to_tensor_image

        device = self.device
        tensors = [to_tensor_image(im).to(device) for im in images]
        if self.model.training:
            self.model.eval()
        with torch.inference_mode():
            return self.model(tensors)

    def _result(self, out: dict[str, Any], shape: tuple[int, int], min_score: float | None) -> Detections:
        scores = out["scores"].float().cpu().numpy()
        keep = scores >= min_score if min_score is not None else slice(None)
        return Detections(out["boxes"].float().cpu().numpy()[keep], scores[keep],
                          out["labels"].cpu().numpy()[keep] - 1, names=self.names, image_shape=shape)

    def predict(self, source: Any, *, min_score: float | None = None) -> Detections:
        """Detect objects in one image.

        Args:
            source: a path, bytes, file object or H×W×3 uint8 RGB array (anything :func:`vision.io.read_image`
                reads).
            min_score: drop detections scoring below this (on top of ``config.box_score_thresh``).

        Returns:
            :class:`~vision.types.Detections` in the image's pixel coordinates, best score first.

        Raises:
            InputError / ShapeError / DTypeError / ImageDecodeError / SourceNotFoundError: a bad source.
        """
        min_score = self._min_score(min_score)
        image = self._images([source])[0]
        return self._result(self._run([image])[0], image.shape[:2], min_score)

    __call__ = predict

    def predict_batch(self, sources: Any, *, batch_size: int = 8, min_score: float | None = None
                      ) -> list[Detections]:
        """:meth:`predict` for several images, ``batch_size`` at a time through the network.

        Raises:
            InputError: ``sources`` is not a list / tuple, or a bad ``batch_size``; as :meth:`predict`.
        """
        if isinstance(sources, (str, bytes, np.ndarray)) or not isinstance(sources, (list, tuple)):
            raise InputError(f"predict_batch: expected a list of images or paths; got {type(sources).__name__}")
        positive_int("predict_batch", "batch_size", batch_size)
        min_score = self._min_score(min_score)
        results: list[Detections] = []
        for i in range(0, len(sources), batch_size):
            images = self._images(list(sources[i:i + batch_size]))
            outs = self._run(images)
            results.extend(self._result(o, im.shape[:2], min_score) for o, im in zip(outs, images))
        return results

    @staticmethod
    def _min_score(min_score: Any) -> float | None:
        if min_score is None:
            return None
        return _number("predict", "min_score", min_score, low=0.0, high=1.0)

    def save_weights(self, path: str | os.PathLike[str], *, half: bool = False) -> Path:
        """Write the network's weights as safetensors (atomically) with the class names and config as metadata.

        Args:
            path: the ``.safetensors`` file.
            half: store floating-point tensors as float16 (half the size; they load back into float32).

        Returns:
            The path written.
        """
        import torch
        from safetensors.torch import save

        from vision.io.files import atomic_write_bytes

        tensors = {}
        for k, v in self.model.state_dict().items():
            v = v.detach().cpu()
            if half and v.is_floating_point():
                v = v.to(torch.float16)
            tensors[k] = v.contiguous().clone()
        meta = {"format": WEIGHTS_FORMAT, "model": getattr(self, "registry_name", self._registered_as),
                "classes": json.dumps(list(self.names)), "config": self.config.to_json()}
        return atomic_write_bytes(path, save(tensors, metadata=meta))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({getattr(self, 'registry_name', self._registered_as)!r}, "
                f"classes={list(self.names)}, weights={self.config.weights!r})")


def _build(kind: str, cls: type[FasterRCNNConfig], config: Any, overrides: dict[str, Any], who: str, *,
           detector: type[FasterRCNNDetector] | None = None, masks: bool = False) -> Any:
    """Resolve weights, check the class count, build the network and load the weights (a Mask R-CNN with
    ``masks``, wrapped in ``detector``: :class:`FasterRCNNDetector` or a subclass)."""
    cfg = build_config(cls, config, overrides, who)
    state = None
    path = None
    names = cfg.classes
    if cfg.weights is not None:
        from vision.weights import load_state_dict

        path, labels = _weights_file(cfg.weights)
        state = load_state_dict(path)
        stored = _predictor_classes(state, f"weights {cfg.weights!r} ({path})")
        if names is None:
            names = _file_classes(path) or labels
            if not names:
                raise WeightsError(f"weights {cfg.weights!r} ({path}) hold {stored} classes (background included) "
                                   f"but no class names; pass classes=[...] with {stored - 1} names")
        if stored != len(names) + 1:
            raise WeightsError(f"weights {cfg.weights!r} ({path}) are for {stored - 1} object classes ({stored} "
                               f"outputs with background); this {who} is configured for {len(names)} classes "
                               f"({len(names) + 1} outputs): {list(names)[:10]}. Pass weights=None to train new "
                               f"heads, or classes with {stored - 1} names")
    elif names is None:
        names = _SCENE_CLASSES
    pretrained_backbone = state is None and cfg.backbone_weights is not None
    if pretrained_backbone and kind == "lite0" and cfg.backbone_weights != "efficientnet-lite0-imagenet":
        raise InputError(f"{who}: backbone_weights must be 'efficientnet-lite0-imagenet' or None; got "
                         f"{cfg.backbone_weights!r}")
    frozen_bn = state is not None or pretrained_backbone
    from vision.models.detection.faster_rcnn_nets import build_network

    model = build_network(kind, cfg, len(names) + 1, pretrained_backbone=pretrained_backbone, frozen_bn=frozen_bn,
                          masks=masks)
    if state is not None:
        ours = model.state_dict()
        missing = [k for k in ours if k not in state and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state if k not in ours and not k.endswith("num_batches_tracked")]
        shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in ours.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
        if missing or unexpected or shapes:
            raise WeightsError(f"weights {cfg.weights!r} ({path}) do not fit this {who} configuration: "
                               f"{len(missing)} missing tensors {missing[:3]}, {len(unexpected)} unexpected "
                               f"{unexpected[:3]}, {len(shapes)} of another shape {shapes[:2]} (file vs model)")
        model.load_state_dict(state, strict=False)
        if cfg.weights in ("fasterrcnn_resnet50_fpn-coco", "maskrcnn_resnet50_fpn-coco"):
            from torchvision.models.detection._utils import overwrite_eps

            overwrite_eps(model, 0.0)  # as torchvision does for these weights
    model.eval()
    return (detector or FasterRCNNDetector)(model, cfg, tuple(names), weights_path=path, registered_as=who)


@register_model("faster-rcnn-lite0", task="detect", weights=SCENES_WEIGHTS)
def faster_rcnn_lite0(*, config: FasterRCNNLite0Config | dict | None = None, **overrides: Any) -> FasterRCNNDetector:
    """Faster R-CNN with an EfficientNet-Lite0 FPN backbone; loads the shipped scenes detector by default.

    Args:
        config: a :class:`FasterRCNNLite0Config` or its ``to_dict()``.
        **overrides: config fields (``weights=None`` for new heads on the ImageNet backbone, ``classes=[...]``,
            ``box_score_thresh=0.3``, ...).

    Raises:
        InputError: a bad option. WeightsNotFoundError / ChecksumError: from the resolver. WeightsError: weights
            for another class count or architecture.
    """
    return _build("lite0", FasterRCNNLite0Config, config, overrides, "faster-rcnn-lite0")


@register_model("faster-rcnn-mobilenet", task="detect")
def faster_rcnn_mobilenet(*, config: FasterRCNNMobileNetConfig | dict | None = None,
                          **overrides: Any) -> FasterRCNNDetector:
    """torchvision ``fasterrcnn_mobilenet_v3_large_fpn``; untrained unless ``weights`` names a file / manifest entry.

    ``weights="fasterrcnn_mobilenet_v3_large_fpn-coco"`` gives torchvision's COCO detector (online, or with the file
    placed where the resolver says).

    Raises:
        As :func:`faster_rcnn_lite0`.
    """
    return _build("mobilenet", FasterRCNNMobileNetConfig, config, overrides, "faster-rcnn-mobilenet")


@register_model("faster-rcnn-resnet50", task="detect")
def faster_rcnn_resnet50(*, config: FasterRCNNResNet50Config | dict | None = None,
                         **overrides: Any) -> FasterRCNNDetector:
    """torchvision ``fasterrcnn_resnet50_fpn``; untrained unless ``weights`` names a file / manifest entry.

    ``weights="fasterrcnn_resnet50_fpn-coco"`` gives torchvision's COCO detector (online, or with the file placed
    where the resolver says).

    Raises:
        As :func:`faster_rcnn_lite0`.
    """
    return _build("resnet50", FasterRCNNResNet50Config, config, overrides, "faster-rcnn-resnet50")


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------
def train_faster_rcnn(train: Any, val: Any = None, *, model: str = "faster-rcnn-lite0", config: Any = None,
                      epochs: int = 3, batch_size: int = 4, lr: float = 1e-3, weight_decay: float = 1e-4,
                      warmup: int = 50, hflip: float = 0.5, grad_clip_norm: float | None = 10.0, seed: int = 0,
                      fix: bool = False, callbacks: Any = (), progress: bool = False) -> tuple[FasterRCNNDetector, Any]:
    """Train a registered Faster R-CNN on a :class:`~vision.data.records.DetectionDataset` with the shared trainer.

    The detector is built with ``weights=None`` (new heads; the backbone's ImageNet weights when its config names
    them) and the dataset's classes; the datasets are checked first (:class:`~vision.models.detection.data.
    DetectionTorchDataset`: degenerate / out-of-image boxes, unknown class ids). Optimisation: AdamW, ``warmup``
    batches of linear warm-up then a per-batch cosine decay to 0, horizontal flips with probability ``hflip``,
    gradient-norm clipping, :class:`~vision.models.detection.task.DetectionTask` (logs ``val_map50``, measured with
    the score threshold lowered to :data:`EVAL_SCORE_THRESH` as ``vision val detect`` does). With ``val`` the
    weights of the epoch with the best ``val_map50`` are kept. This is what ``bench/train_faster_rcnn.py``
    runs to make the shipped ``faster-rcnn-lite0-scenes`` weights.

    Args:
        train, val: the datasets (``val`` may be None).
        model: the registered architecture (``faster-rcnn-lite0``, ``faster-rcnn-mobilenet``, ``faster-rcnn-resnet50``).
        config: its config or config dict (``weights`` and ``classes`` are replaced as above).
        epochs, batch_size, lr, weight_decay, warmup, grad_clip_norm: the optimisation.
        hflip: flip probability (0 for classes that are not mirror-symmetric, e.g. digits).
        seed: seeds torch, the loader's shuffling and the augmentation.
        fix: clip out-of-image boxes and drop degenerate ones instead of raising.
        callbacks: extra trainer callbacks. progress: a progress bar per epoch.

    Returns:
        ``(detector, History)``; the detector is in eval mode, with the kept weights.

    Raises:
        InputError: bad options, or ``val`` with other classes. AnnotationError / DatasetError: bad annotations.
    """
    import torch

    from vision.models.detection.task import fit_detector
    from vision.models.registry import create_model

    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("warmup", warmup)):
        positive_int("train_faster_rcnn", name, value)
    if not hasattr(train, "classes"):
        raise InputError(f"train_faster_rcnn: expected a DetectionDataset; got {type(train).__name__}")
    torch.manual_seed(seed)
    detector = create_model(model, config=config, weights=None, classes=list(train.classes))
    history = fit_detector(detector, train, val, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                           warmup=warmup, hflip=hflip, grad_clip_norm=grad_clip_norm, seed=seed, fix=fix,
                           callbacks=callbacks, progress=progress, eval_score_thresh=EVAL_SCORE_THRESH)
    return detector, history
