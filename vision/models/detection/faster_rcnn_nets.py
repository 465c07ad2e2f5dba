"""The torchvision ``FasterRCNN`` networks behind :mod:`vision.models.detection.faster_rcnn`: three backbones.

* ``lite0`` — timm's ``tf_efficientnet_lite0`` (ImageNet weights from the pip package, through
  :func:`~vision.models.classification.backbones.create_backbone`), features at strides 8 / 16 / 32, an FPN with a
  max-pool level on top (4 maps), a light two-layer box head (``representation_size``) — sized for small images;
* ``mobilenet`` / ``resnet50`` — torchvision's own FPN extractors (the same modules, and so the same state-dict
  keys, as ``fasterrcnn_mobilenet_v3_large_fpn`` / ``fasterrcnn_resnet50_fpn``), always built with
  ``weights=None``; ImageNet weights, when asked for, come through :func:`vision.weights.resolve`.

With pretrained weights the batch norms are frozen (torchvision's ``FrozenBatchNorm2d``; timm's frozen
equivalents for Lite0) and only the top ``trainable_backbone_layers`` stages train, as in torchvision.

``masks=True`` builds torchvision's ``MaskRCNN`` on the same backbone and box heads instead (for
:mod:`vision.models.segmentation.mask_rcnn`): a mask head of ``cfg.mask_layers`` 3×3 convolutions on 14×14 RoI
features and a predictor with a ``cfg.mask_dim_reduced``-channel transposed convolution (torchvision's
``MaskRCNNHeads`` / ``MaskRCNNPredictor``; ``(256,) * 4`` and 256 are ``maskrcnn_resnet50_fpn``'s, so its
state-dict keys are the same).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from vision.errors import InputError, WeightsError

if TYPE_CHECKING:
    from vision.models.detection.faster_rcnn import FasterRCNNConfig, FasterRCNNLite0Config

__all__ = ["build_network"]

#: config fields passed unchanged to torchvision's ``FasterRCNN`` (same names)
_FASTER_RCNN_OPTIONS = (
    "min_size", "max_size", "rpn_pre_nms_top_n_train", "rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_train",
    "rpn_post_nms_top_n_test", "rpn_nms_thresh", "rpn_score_thresh", "rpn_batch_size_per_image", "box_score_thresh",
    "box_nms_thresh", "box_detections_per_img", "box_batch_size_per_image",
)


# ---------------------------------------------------------------------------------------------------------------
def _trainable_layers(cfg: FasterRCNNConfig, pretrained: bool) -> int:
    """``cfg.trainable_backbone_layers``, or its default: ``default_trainable_layers`` when pretrained, else all."""
    if cfg.trainable_backbone_layers is not None:
        return cfg.trainable_backbone_layers
    return cfg.default_trainable_layers if pretrained else cfg.max_trainable_layers


def _freeze_stages(stages: list[Any], trainable: int) -> None:
    """Turn off gradients of every stage except the last ``trainable`` ones."""
    for stage in stages[:len(stages) - trainable]:
        for p in stage.parameters():
            p.requires_grad_(False)


def _lite0_backbone(cfg: FasterRCNNLite0Config, pretrained: bool, frozen_bn: bool) -> Any:
    """timm's ``tf_efficientnet_lite0`` features at strides 8/16/32 + an FPN with a max-pool level (4 maps)."""
    import torch
    from torch import nn
    from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

    from vision.models.classification.backbones import create_backbone

    net = create_backbone("efficientnet_lite0", num_classes=0, pretrained=pretrained)
    if frozen_bn:
        from timm.layers import freeze_batch_norm_2d

        net = freeze_batch_norm_2d(net)
    taps = (2, 4, 6)  # blocks ending at strides 8, 16, 32
    channels = [net.blocks[i][-1].conv_pwl.out_channels for i in taps]

    class _Lite0FPN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv_stem, self.bn1, self.blocks = net.conv_stem, net.bn1, net.blocks
            self.fpn = FeaturePyramidNetwork(channels, cfg.fpn_channels, extra_blocks=LastLevelMaxPool())
            self.out_channels = cfg.fpn_channels

        def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
            x = self.bn1(self.conv_stem(x))
            feats: OrderedDict[str, torch.Tensor] = OrderedDict()
            for i, block in enumerate(self.blocks):
                x = block(x)
                if i in taps:
                    feats[str(len(feats))] = x
            return self.fpn(feats)

    backbone = _Lite0FPN()
    stages = [nn.ModuleList([backbone.conv_stem, backbone.bn1]), *backbone.blocks]
    _freeze_stages(stages, _trainable_layers(cfg, frozen_bn))
    return backbone


def _mask_heads(cfg: Any, in_channels: int, num_classes: int, levels: list[str]) -> dict[str, Any]:
    """``MaskRCNN``'s mask RoI pooling, head and predictor sized by ``cfg.mask_layers`` / ``cfg.mask_dim_reduced``."""
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    layers = tuple(cfg.mask_layers)
    return {"mask_roi_pool": MultiScaleRoIAlign(levels, output_size=14, sampling_ratio=2),
            "mask_head": MaskRCNNHeads(in_channels, layers, 1),
            "mask_predictor": MaskRCNNPredictor(layers[-1], cfg.mask_dim_reduced, num_classes)}


def build_network(kind: str, cfg: FasterRCNNConfig, num_classes: int, *, pretrained_backbone: bool,
                   frozen_bn: bool, masks: bool = False) -> Any:
    """The torchvision ``FasterRCNN`` of ``cfg`` (heads freshly initialised); ``MaskRCNN`` with ``masks=True``."""
    from torchvision.models.detection import FasterRCNN, MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    kwargs: dict[str, Any] = {name: getattr(cfg, name) for name in _FASTER_RCNN_OPTIONS}
    kwargs["rpn_anchor_generator"] = AnchorGenerator(cfg.anchor_sizes, (cfg.aspect_ratios,) * len(cfg.anchor_sizes))
    network = MaskRCNN if masks else FasterRCNN
    if kind == "lite0":
        from torchvision.models.detection.faster_rcnn import TwoMLPHead

        backbone = _lite0_backbone(cfg, pretrained_backbone, frozen_bn)
        levels = len(cfg.anchor_sizes)
        if levels != 4:
            raise InputError(f"{'mask' if masks else 'faster'}-rcnn-lite0: anchor_sizes must have 4 levels (strides "
                             f"8, 16, 32, 64); got {levels}")
        rep = cfg.representation_size
        if masks:
            kwargs.update(_mask_heads(cfg, cfg.fpn_channels, num_classes, ["0", "1", "2"]))
        return network(
            backbone, num_classes=None, image_mean=[127.0 / 255] * 3, image_std=[128.0 / 255] * 3,
            box_roi_pool=MultiScaleRoIAlign(["0", "1", "2"], output_size=7, sampling_ratio=2),
            box_head=TwoMLPHead(cfg.fpn_channels * 7 * 7, rep), box_predictor=FastRCNNPredictor(rep, num_classes),
            **kwargs)
    from torch import nn
    from torchvision.ops import misc as misc_nn_ops

    norm = misc_nn_ops.FrozenBatchNorm2d if frozen_bn else nn.BatchNorm2d
    trainable = _trainable_layers(cfg, frozen_bn)
    if kind == "mobilenet":
        from torchvision.models import mobilenet_v3_large
        from torchvision.models.detection.backbone_utils import _mobilenet_extractor

        body = mobilenet_v3_large(weights=None, norm_layer=norm)
        if pretrained_backbone:
            _load_backbone(body, "mobilenet_v3_large", cfg.backbone_weights)
        backbone = _mobilenet_extractor(body, True, trainable)
        levels = 3
    else:
        from torchvision.models import resnet50
        from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor

        body = resnet50(weights=None, norm_layer=norm)
        if pretrained_backbone:
            _load_backbone(body, "resnet50", cfg.backbone_weights)
        backbone = _resnet_fpn_extractor(body, trainable)
        levels = 5
    if len(cfg.anchor_sizes) != levels:
        raise InputError(f"{'mask' if masks else 'faster'}-rcnn-{kind}: anchor_sizes must have {levels} levels (one "
                         f"per feature map); got {len(cfg.anchor_sizes)}")
    if masks:  # torchvision's FPN box head (TwoMLPHead, 1024 wide) is built by MaskRCNN itself
        kwargs.update(_mask_heads(cfg, backbone.out_channels, num_classes, ["0", "1", "2", "3"]))
        kwargs["box_predictor"] = FastRCNNPredictor(1024, num_classes)
        num_classes = None  # type: ignore[assignment]
    return network(backbone, num_classes=num_classes, **kwargs)


def _load_backbone(body: Any, arch: str, name: str | None) -> None:
    """Load ImageNet weights ``name`` (resolved and verified) into a torchvision classifier ``body``."""
    from vision.weights import load_state_dict, resolve

    path = resolve(str(name))
    state = load_state_dict(path)
    missing, unexpected = body.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise WeightsError(f"backbone weights {name!r} ({path}) do not fit {arch}: missing {missing[:3]}, "
                           f"unexpected {unexpected[:3]}")
