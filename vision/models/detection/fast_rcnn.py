"""Fast R-CNN (Girshick, ICCV 2015), registered as ``"fast-rcnn"``: the same selective search proposals as R-CNN,
but one backbone pass per image and RoI pooling instead of one CNN pass per proposal.

* **Backbone**: EfficientNet-Lite0 (ImageNet weights shipped by pip, see
  :func:`~vision.models.classification.pretrained.efficientnet_lite0`) up to its stride-16 stage; the stride-8 map
  (40 channels) and the upsampled stride-16 map (112 channels) are concatenated and mixed by a 1×1 conv to
  ``neck_channels``: objects of 30 px still cover 4×4 cells. Batch norms stay frozen (batches of 2 images) and the
  stem plus the first ``5 - trainable_blocks`` stages keep their ImageNet weights, as Fast R-CNN kept VGG's first
  layers.
* **RoI head** from torchvision's building blocks: :func:`torchvision.ops.roi_align` (``roi_size``²) over the
  proposals, :class:`~torchvision.models.detection.faster_rcnn.TwoMLPHead` ("fc6, fc7"),
  :class:`~torchvision.models.detection.faster_rcnn.FastRCNNPredictor` (C + 1 class scores, class-specific box
  deltas), all driven by :class:`~torchvision.models.detection.roi_heads.RoIHeads`: RoI sampling (IoU ≥ ``fg_iou``
  positive, a ``positive_fraction`` of ``rois_per_image``; the ground-truth boxes are added as proposals), the
  multi-task loss (cross-entropy + smooth L1), and at test time per-class NMS (``nms_iou``).

Training (:func:`train_fast_rcnn`) uses the shared :class:`~vision.train.Trainer` with :class:`FastRCNNTask` (the
detection task of :mod:`vision.models.detection.task`, with the proposals carried in the targets): batches from
:class:`ProposalDataset` are ``(images, targets)`` where each target also holds ``"proposals"``.

Example:
    >>> from vision.models import create_model
    >>> det = create_model("fast-rcnn")                                  # doctest: +SKIP
    >>> det.predict("scene.jpg").labels                                  # doctest: +SKIP
    ('square', 'star')
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.data.scenes import SHAPE_CLASSES
from vision.errors import InputError
from vision.models.config import ModelConfig, build_config, positive_int, probability
from vision.models.detection.proposal_detector import (
    ProposalDetector,
    check_common,
    check_number,
    to_detections,
)
from vision.models.detection.task import DetectionTask
from vision.models.registry import register_model
from vision.train.task import StepOutput
from vision.types import Detections

__all__ = [
    "WEIGHTS_FORMAT",
    "FastRCNN",
    "FastRCNNConfig",
    "FastRCNNNet",
    "FastRCNNTask",
    "ProposalDataset",
    "train_fast_rcnn",
]

logger = logging.getLogger(__name__)

#: the ``format`` entry in the metadata of the safetensors files :meth:`FastRCNN.save` writes
WEIGHTS_FORMAT = "vision.fast-rcnn/1"
_BLOCKS = 5  # EfficientNet-Lite0 stages used (up to stride 16)


@dataclass(frozen=True)
class FastRCNNConfig(ModelConfig):
    """Options of :class:`FastRCNN` (JSON-serialisable).

    Attributes:
        classes: the object class names (background excluded).
        weights: a manifest name, a ``.safetensors`` path from :meth:`FastRCNN.save`, or None (untrained head).
        pretrained_backbone: with ``weights=None``, start the backbone from the ImageNet EfficientNet-Lite0 weights.
        trainable_blocks: how many of the 5 backbone stages (from the deepest) train; the stem never does.
        neck_channels: channels of the fused stride-8 feature map. roi_size: RoIAlign output side.
        representation: width of the two fully connected layers.
        proposals, max_proposals: selective search mode and the best-ranked proposals used per image.
        max_side: images with a longer side shrink to this first (boxes are mapped back).
        rois_per_image, positive_fraction, fg_iou, bg_iou: RoI sampling in training (below ``bg_iou`` background).
        score_threshold, nms_iou, max_detections: test-time filtering and per-class NMS.

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    classes: tuple[str, ...] = SHAPE_CLASSES
    weights: str | None = "fast-rcnn-scenes"
    pretrained_backbone: bool = True
    trainable_blocks: int = 1
    neck_channels: int = 64
    roi_size: int = 7
    representation: int = 256
    proposals: str = "fast"
    max_proposals: int = 2000
    max_side: int = 640
    rois_per_image: int = 64
    positive_fraction: float = 0.25
    fg_iou: float = 0.5
    bg_iou: float = 0.5
    score_threshold: float = 0.05
    nms_iou: float = 0.3
    max_detections: int = 100

    def __post_init__(self) -> None:
        who = "FastRCNNConfig"
        check_common(self, who)
        for name in ("neck_channels", "roi_size", "representation", "rois_per_image"):
            positive_int(who, name, getattr(self, name))
        if not isinstance(self.pretrained_backbone, bool):
            raise InputError(f"{who}: pretrained_backbone must be True or False; got {self.pretrained_backbone!r}")
        t = self.trainable_blocks
        if isinstance(t, bool) or not isinstance(t, int) or not 0 <= t <= _BLOCKS:
            raise InputError(f"{who}: trainable_blocks must be an integer in 0..{_BLOCKS}; got {t!r}")
        if isinstance(self.max_side, bool) or not isinstance(self.max_side, int) or self.max_side < 32:
            raise InputError(f"{who}: max_side must be an integer ≥ 32; got {self.max_side!r}")
        object.__setattr__(self, "positive_fraction", probability(who, "positive_fraction", self.positive_fraction))
        for name in ("fg_iou", "bg_iou"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 < v <= 1:
                raise InputError(f"{who}: {name} must be a number in (0, 1]; got {v!r}")
            object.__setattr__(self, name, float(v))
        if self.bg_iou > self.fg_iou:
            raise InputError(f"{who}: bg_iou ({self.bg_iou}) must be ≤ fg_iou ({self.fg_iou})")


class _LiteFeatures(nn.Module):
    """EfficientNet-Lite0's stem and first 5 stages → a fused stride-8 map (see the module docstring)."""

    def __init__(self, config: FastRCNNConfig, pretrained: bool) -> None:
        from vision.models.classification.pretrained import efficientnet_lite0

        super().__init__()
        lite = efficientnet_lite0(num_classes=0, pretrained=pretrained)
        self.stem = nn.Sequential(lite.conv_stem, lite.bn1)
        self.blocks = nn.ModuleList(lite.blocks[:_BLOCKS])
        c8, c16 = _channels(self.blocks[2]), _channels(self.blocks[4])
        self.neck = nn.Sequential(nn.Conv2d(c8 + c16, config.neck_channels, 1), nn.ReLU(inplace=True))
        frozen = [self.stem, *self.blocks[:_BLOCKS - config.trainable_blocks]]
        for module in frozen:
            for p in module.parameters():
                p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(127.0 / 255.0).view(1, 1, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(128.0 / 255.0).view(1, 1, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> _LiteFeatures:
        super().train(mode)
        for m in self.modules():  # frozen batch norm: statistics of 2-image batches would be noise
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem((x - self.mean) / self.scale)
        c8 = None
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == 2:
                c8 = x
        up = nn.functional.interpolate(x, size=c8.shape[-2:], mode="nearest")
        return self.neck(torch.cat([c8, up], dim=1))


def _channels(stage: nn.Module) -> int:
    convs = [m for m in stage.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


class _RoIAlign(nn.Module):
    """``RoIHeads``' pooler over one stride-8 map: :func:`torchvision.ops.roi_align`, ``roi_size``² bins."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, features: dict[str, torch.Tensor], proposals: list[torch.Tensor],
                image_shapes: list[tuple[int, int]]) -> torch.Tensor:
        from torchvision.ops import roi_align

        return roi_align(features["0"], proposals, output_size=self.size, spatial_scale=1 / 8, sampling_ratio=2,
                         aligned=True)


class FastRCNNNet(nn.Module):
    """The network: backbone + RoI heads, called like a torchvision detector.

    ``forward(images, targets=None, proposals=None)``: ``images`` a list of 3×H×W float tensors in [0, 1];
    proposals per image as N×4 xyxy tensors, or taken from ``targets[i]["proposals"]``, else computed by selective
    search. Training mode returns ``{"loss_classifier", "loss_box_reg"}``; eval mode one dict per image with
    ``boxes``, ``scores``, ``labels`` (1..C).
    """

    def __init__(self, config: FastRCNNConfig, *, pretrained_backbone: bool = False) -> None:
        from torchvision.models.detection.faster_rcnn import (
            FastRCNNPredictor,
            TwoMLPHead,
        )
        from torchvision.models.detection.roi_heads import RoIHeads

        super().__init__()
        self.config = config
        self.backbone = _LiteFeatures(config, pretrained_backbone)
        rep = config.representation
        self.roi_heads = RoIHeads(
            _RoIAlign(config.roi_size), TwoMLPHead(config.neck_channels * config.roi_size ** 2, rep),
            FastRCNNPredictor(rep, len(config.classes) + 1),
            fg_iou_thresh=config.fg_iou, bg_iou_thresh=config.bg_iou, batch_size_per_image=config.rois_per_image,
            positive_fraction=config.positive_fraction, bbox_reg_weights=None,
            score_thresh=config.score_threshold, nms_thresh=config.nms_iou,
            detections_per_img=config.max_detections)

    def _features(self, images: list[torch.Tensor]) -> torch.Tensor:
        h = max(int(i.shape[-2]) for i in images)
        w = max(int(i.shape[-1]) for i in images)
        h, w = -(-h // 16) * 16, -(-w // 16) * 16  # pad to the stride: the stride-8 and -16 maps stay aligned
        batch = images[0].new_full((len(images), 3, h, w), 127.0 / 255.0)  # pads normalise to 0
        for k, im in enumerate(images):
            batch[k, :, :im.shape[-2], :im.shape[-1]] = im
        return self.backbone(batch)

    def _proposals(self, images: list[torch.Tensor], targets: list[dict[str, Any]] | None,
                   proposals: list[torch.Tensor] | None) -> list[torch.Tensor]:
        if proposals is None and targets is not None and all("proposals" in t for t in targets):
            proposals = [t["proposals"] for t in targets]
        if proposals is None:
            from vision.models.detection.selective_search import selective_search

            proposals = [torch.from_numpy(selective_search(
                (im.detach().permute(1, 2, 0).clamp(0, 1) * 255).round().byte().cpu().numpy(),
                mode=self.config.proposals, max_proposals=self.config.max_proposals)) for im in images]
        if len(proposals) != len(images):
            raise InputError(f"FastRCNNNet: {len(proposals)} proposal sets for {len(images)} images")
        dev = images[0].device
        return [p.to(dev, torch.float32).reshape(-1, 4)[:self.config.max_proposals] for p in proposals]

    def forward(self, images: list[torch.Tensor], targets: list[dict[str, Any]] | None = None,
                proposals: list[torch.Tensor] | None = None) -> Any:
        images = list(images)
        props = self._proposals(images, targets, proposals)
        shapes = [(int(i.shape[-2]), int(i.shape[-1])) for i in images]
        feats = {"0": self._features(images)}
        if self.training:
            if targets is None:
                raise InputError("FastRCNNNet: training mode needs targets (boxes, labels)")
            tg = [{"boxes": t["boxes"].float(), "labels": t["labels"]} for t in targets]
            return self.roi_heads(feats, props, shapes, tg)[1]
        return self.roi_heads(feats, props, shapes)[0]

    def predict_with_losses(self, images: list[torch.Tensor], targets: list[dict[str, Any]]
                            ) -> tuple[list[dict[str, torch.Tensor]], dict[str, torch.Tensor]]:
        """Eval-mode predictions and the training losses on the same batch (one backbone pass, no gradients).

        The losses come from the RoI heads in training mode (RoI sampling + multi-task loss) on the eval-mode
        features; the heads have no normalisation or dropout layers, so nothing else changes.
        """
        images = list(images)
        props = self._proposals(images, targets, None)
        shapes = [(int(i.shape[-2]), int(i.shape[-1])) for i in images]
        heads = self.roi_heads
        was = heads.training
        with torch.no_grad():
            feats = {"0": self._features(images)}
            heads.eval()
            preds = heads(feats, props, shapes)[0]
            heads.train()
            tg = [{"boxes": t["boxes"].float(), "labels": t["labels"]} for t in targets]
            losses = heads(feats, props, shapes, tg)[1]
        heads.train(was)
        return preds, losses


class FastRCNNTask(DetectionTask):
    """:class:`~vision.models.detection.task.DetectionTask` for :class:`FastRCNNNet`: the proposals travel in the
    targets (``"proposals"``, from :class:`ProposalDataset`), so evaluation uses the cached ones too and reports
    ``loss`` (the heads' training loss on the validation batch), its components, ``map50`` and ``map``."""

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        if train:
            return super().step(model, batch, train=True)
        images, targets = batch
        net = getattr(model, "module", model)
        predictions, losses = net.predict_with_losses(images, targets)
        outputs = {"predictions": predictions, "losses": {k: v.detach() for k, v in losses.items()}}
        return StepOutput(loss=sum(outputs["losses"].values()), outputs=outputs, targets=targets,
                          batch_size=len(images))

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        """Per-image prediction dicts; proposals from the targets when the batch has them, else selective search."""
        if isinstance(batch, (list, tuple)) and len(batch) == 2 and isinstance(batch[1], (list, tuple)) \
                and all(isinstance(t, dict) for t in batch[1]):
            return model(list(batch[0]), list(batch[1]))
        return model(list(batch))


class ProposalDataset:
    """A :class:`~vision.models.detection.data.DetectionTorchDataset` whose targets also carry ``"proposals"``.

    Args:
        base: the detection dataset (image 3×H×W float, target dict). proposals: one N×4 xyxy array per image.
        hflip: probability of mirroring image, boxes and proposals together (torch's global generator).
    """

    def __init__(self, base: Any, proposals: Sequence[np.ndarray], *, hflip: float = 0.0) -> None:
        if len(proposals) != len(base):
            raise InputError(f"ProposalDataset: {len(proposals)} proposal arrays for {len(base)} images")
        self.base, self.proposals = base, proposals
        self.hflip = check_number("ProposalDataset", "hflip", hflip, low=0.0, high=1.0)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, Any]]:
        image, target = self.base[index]
        props = torch.as_tensor(np.asarray(self.proposals[index], np.float32)).reshape(-1, 4)
        target = dict(target)
        if self.hflip and float(torch.rand(())) < self.hflip:
            w = image.shape[-1]
            image = image.flip(-1)
            target["boxes"] = _flip_boxes(target["boxes"], w)
            props = _flip_boxes(props, w)
        target["proposals"] = props
        return image, target


def _flip_boxes(boxes: torch.Tensor, width: int) -> torch.Tensor:
    out = boxes.clone()
    out[:, 0], out[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return out


@register_model("fast-rcnn", task="detect", weights="fast-rcnn-scenes")
class FastRCNN(ProposalDetector):
    """Fast R-CNN: selective search → one EfficientNet-Lite0 pass → RoIAlign → class + box heads → per-class NMS.

    Args:
        config: a :class:`FastRCNNConfig` or its ``to_dict()``; default the shipped shapes detector.
        **overrides: config fields to replace (``weights=None`` for an untrained head on ImageNet features...).

    Attributes:
        config, names (the class names), model (the :class:`FastRCNNNet`).

    ``predict`` / ``predict_batch`` / ``save`` are :class:`~vision.models.detection.proposal_detector.ProposalDetector`'s;
    one backbone pass serves ``batch_size`` images.

    Raises:
        InputError: a bad option. WeightsNotFoundError: the weights are absent. WeightsError: weights for another
        class count or architecture.
    """

    name = "fast-rcnn"
    config_class = FastRCNNConfig
    weights_format = WEIGHTS_FORMAT

    def _build_net(self) -> FastRCNNNet:
        return FastRCNNNet(self.config, pretrained_backbone=self.config.weights is None
                           and self.config.pretrained_backbone)

    def _detect(self, images: list[np.ndarray], boxes: list[np.ndarray], min_score: float) -> list[Detections]:
        import cv2

        prepared = []
        for image, b in zip(images, boxes):
            h, w = image.shape[:2]
            scale = min(1.0, self.config.max_side / max(h, w))
            if scale < 1.0:
                image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                                   interpolation=cv2.INTER_AREA)
            x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
            prepared.append((x, torch.from_numpy(np.asarray(b, np.float32) * scale), scale, (h, w)))
        with torch.inference_mode():
            results = self.model([p[0] for p in prepared], proposals=[p[1] for p in prepared])
        out = []
        for (_, _, scale, shape), res in zip(prepared, results):
            keep = res["scores"] >= min_score
            out.append(to_detections(res["boxes"][keep].numpy() / scale, res["scores"][keep].numpy(),
                                     res["labels"][keep].numpy(), self.names, shape))
        return out


def train_fast_rcnn(train: Any, val: Any = None, *, config: FastRCNNConfig | dict | None = None, epochs: int = 3,
                    batch_size: int = 2, lr: float = 3e-4, weight_decay: float = 1e-4, hflip: float = 0.5,
                    proposals: Sequence[np.ndarray] | None = None, val_proposals: Sequence[np.ndarray] | None = None,
                    seed: int = 0, callbacks: Sequence[Any] = (), progress: bool = False) -> tuple[FastRCNN, Any]:
    """Train Fast R-CNN on a :class:`~vision.data.records.DetectionDataset` with the shared trainer.

    Builds the detector with ImageNet backbone weights, wraps the datasets in
    :class:`~vision.models.detection.data.DetectionTorchDataset` + :class:`ProposalDataset` (proposals computed by
    selective search when not given), and fits with AdamW + cosine schedule, :class:`FastRCNNTask` and
    :class:`~vision.train.Trainer` (validation logs ``val_loss``, ``val_map50``, ``val_map``).

    Args:
        train, val: the datasets. config: model options (``weights`` is ignored: training starts from ImageNet).
        epochs, batch_size, lr, weight_decay: the optimisation. hflip: flip probability in training.
        proposals, val_proposals: precomputed proposals per image (see
            :func:`~vision.models.detection.selective_search.dataset_proposals`).
        seed: seeds torch and the loader's shuffling. callbacks: trainer callbacks. progress: progress bars.

    Returns:
        ``(FastRCNN, History)``.

    Raises:
        InputError: bad options or config classes that differ from the dataset's. AnnotationError / DatasetError:
        bad annotations (see ``DetectionTorchDataset``).
    """
    from torch.utils.data import DataLoader

    from vision.models.detection.data import DetectionTorchDataset, detection_collate
    from vision.models.detection.selective_search import dataset_proposals
    from vision.train import Trainer
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule

    cfg = build_config(FastRCNNConfig, config, {}, "fast-rcnn")
    cfg = replace(cfg, weights=None, classes=tuple(train.classes)) if config is None else replace(cfg, weights=None)
    if list(cfg.classes) != list(train.classes):
        raise InputError(f"train_fast_rcnn: config classes {list(cfg.classes)} differ from the dataset's "
                         f"{list(train.classes)}")
    for name, v in (("epochs", epochs), ("batch_size", batch_size)):
        positive_int("train_fast_rcnn", name, v)
    torch.manual_seed(seed)
    detector = FastRCNN(cfg)

    def wrap(ds: Any, props: Any, flip: float) -> ProposalDataset:
        if props is None:
            props = dataset_proposals(ds, mode=cfg.proposals, max_proposals=cfg.max_proposals, progress=progress)
        return ProposalDataset(DetectionTorchDataset(ds), props, hflip=flip)

    gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(wrap(train, proposals, hflip), batch_size=batch_size, shuffle=True, generator=gen,
                              collate_fn=detection_collate)
    val_loader = None
    if val is not None:
        val_loader = DataLoader(wrap(val, val_proposals, 0.0), batch_size=batch_size, collate_fn=detection_collate)
    net = detector.model
    optimizer = make_optimizer(net, "adamw", lr=lr, weight_decay=weight_decay)
    schedule = make_schedule(optimizer, "cosine", epochs=epochs)
    trainer = Trainer(net, FastRCNNTask(), optimizer=optimizer, schedule=schedule, callbacks=callbacks)
    history = trainer.fit(train_loader, val_loader, epochs=epochs)
    net.eval()
    return detector, history
