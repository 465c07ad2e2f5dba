"""Classic CNN classifiers trained from scratch on small images (28–64 px): ``"lenet"``, ``"vgg-small"``,
``"resnet-small"``, built from :mod:`vision.nn.blocks`.

* ``"lenet"`` (:class:`LeNet`): LeNet-5 layout (LeCun et al., 1998): 5×5 conv → act → 2×2 pool, 5×5 conv →
  act → pool, dense 120 → 84 → logits. The first conv pads by 2, so a 28 px image goes 28→14→10→5 exactly as
  the classic 32 px input did without padding.
* ``"vgg-small"`` (:class:`VGGSmall`): VGG layout (Simonyan & Zisserman, 2015): per stage ``depth`` 3×3
  :class:`~vision.nn.blocks.ConvBNAct` layers and a 2×2 max-pool; flatten, dense, dropout, logits.
* ``"resnet-small"`` (:class:`ResNetSmall`): CIFAR-style ResNet (He et al., 2016): a 3×3 stem, stages of
  :class:`~vision.nn.blocks.ResidualBlock` (the first block of every stage after the first strides 2 with a
  1×1 projection), global average pooling, logits.

Every model takes N×C×H×W float tensors (C = ``in_channels``; scaling pixels is the caller's job) and returns
N×``num_classes`` logits. LeNet and VGG size their dense head for ``config.input_size``; other input sizes are
average-pooled to that head's grid (as torchvision's VGG does), and ResNet pools globally, so any input of at least
``min_input_size`` pixels a side is accepted. Weights are initialised with :func:`vision.nn.init_weights` by
activation type (He for the ReLU family, Xavier for tanh/sigmoid, LeCun for SELU; Xavier for the logits layer).

Example:
    >>> import torch
    >>> from vision.models import create_model
    >>> net = create_model("resnet-small", in_channels=3, num_classes=5, input_size=32)
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 5])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vision.errors import DTypeError, InputError, ShapeError
from vision.models.config import (
    ModelConfig,
    build_config,
    int_tuple,
    positive_int,
    probability,
)
from vision.models.registry import register_model

__all__ = ["LeNet", "LeNetConfig", "ResNetSmall", "ResNetSmallConfig", "VGGSmall", "VGGSmallConfig",
           "lenet", "resnet_small", "vgg_small"]

_POOLS = ("max", "avg")


def _check_common(cfg: Any, who: str) -> None:
    """Validate the fields every config here has (in_channels, num_classes, input_size, activation, channels_last)."""
    for name in ("in_channels", "num_classes", "input_size"):
        positive_int(who, name, getattr(cfg, name))
    if not isinstance(cfg.channels_last, bool):
        raise InputError(f"{who}: channels_last must be True or False; got {cfg.channels_last!r}")
    from vision.nn.activations import make_activation

    try:
        make_activation(cfg.activation)
    except InputError as exc:
        raise InputError(f"{who}: activation must be a make_activation name usable without options; "
                         f"got {cfg.activation!r} ({exc})") from exc


def _check_input_size(cfg: Any, who: str, minimum: int) -> None:
    if cfg.input_size < minimum:
        raise InputError(f"{who}: input_size must be ≥ {minimum} for this layout; got {cfg.input_size}")


def _pool(kind: str) -> nn.Module:
    return nn.MaxPool2d(2) if kind == "max" else nn.AvgPool2d(2)


class _SmallClassifier(nn.Module):
    """What the three models share: the input check at the boundary, channels-last, weight initialisation."""

    config: Any
    #: smallest input side the layout accepts
    min_input_size: int

    def _finish(self) -> None:
        from vision.nn.init import init_weights

        init_weights(self)  # each conv/linear pairs with the activation registered after it; the logits get Xavier
        if self.config.channels_last:
            self.to(memory_format=torch.channels_last)

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        cfg, who = self.config, type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise InputError(f"{who}: expected a torch.Tensor N×{cfg.in_channels}×H×W; got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != cfg.in_channels or min(x.shape[-2:]) < self.min_input_size:
            raise ShapeError(f"{who}: expected N×{cfg.in_channels}×H×W input with H, W ≥ {self.min_input_size}; "
                             f"got {tuple(x.shape)}")
        if not x.is_floating_point():
            raise DTypeError(f"{who}: expected a floating-point input tensor; got {x.dtype} (scale pixels first, "
                             "e.g. x.float() / 255)")
        return x.contiguous(memory_format=torch.channels_last) if cfg.channels_last else x

    def _to_grid(self, x: torch.Tensor) -> torch.Tensor:
        """Average-pool a feature map to the head's grid unless it already has that size."""
        g = self.grid
        return x if tuple(x.shape[-2:]) == (g, g) else nn.functional.adaptive_avg_pool2d(x, g)


# ---------------------------------------------------------------------------------------------------------------
# LeNet
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeNetConfig(ModelConfig):
    """Hyper-parameters of :class:`LeNet`.

    Attributes:
        in_channels: image channels. num_classes: number of logits.
        input_size: the image side the dense head is sized for (≥ 12).
        widths: channels of the two 5×5 convs (LeNet-5: 6, 16).
        hidden: widths of the dense layers before the logits (LeNet-5: 120, 84).
        activation: a :func:`~vision.nn.make_activation` name (LeNet-5 used tanh-like squashing; ReLU trains faster).
        pool: ``"max"`` or ``"avg"`` (LeNet-5's subsampling was an average).
        bn: batch normalisation after each conv (not in LeNet-5).
        dropout: dropout before each dense layer.
        channels_last: keep weights and input in channels-last memory format (faster on CPU).

    Raises:
        InputError: a value of the wrong type or out of range (the message names the field).
    """

    in_channels: int = 1
    num_classes: int = 10
    input_size: int = 28
    widths: tuple[int, ...] = (6, 16)
    hidden: tuple[int, ...] = (120, 84)
    activation: str = "relu"
    pool: str = "max"
    bn: bool = False
    dropout: float = 0.0
    channels_last: bool = True

    def __post_init__(self) -> None:
        who = "LeNetConfig"
        _check_common(self, who)
        object.__setattr__(self, "widths", int_tuple(who, "widths", self.widths, length=2))
        object.__setattr__(self, "hidden", int_tuple(who, "hidden", self.hidden))
        if self.pool not in _POOLS:
            raise InputError(f"{who}: pool must be one of {list(_POOLS)}; got {self.pool!r}")
        if not isinstance(self.bn, bool):
            raise InputError(f"{who}: bn must be True or False; got {self.bn!r}")
        object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))
        _check_input_size(self, who, LeNet.min_input_size)


class LeNet(_SmallClassifier):
    """LeNet-5-style classifier (see the module docstring).

    Args:
        config: a :class:`LeNetConfig`; default the 28×28 grayscale, 10-class one.

    Attributes:
        config: the configuration it was built from. grid: side of the last feature map for ``input_size``.

    Raises:
        InputError: ``config`` is not a LeNetConfig.
    """

    #: 12 → 12 → 6 → 2 → 1 (conv pad 2, pool, 5×5 valid conv, pool)
    min_input_size = 12

    def __init__(self, config: LeNetConfig | None = None) -> None:
        super().__init__()
        config = LeNetConfig() if config is None else config
        if not isinstance(config, LeNetConfig):
            raise InputError(f"LeNet: config must be a LeNetConfig; got {type(config).__name__}")
        self.config = config
        from vision.nn.activations import make_activation
        from vision.nn.blocks import ConvBNAct

        c1, c2 = config.widths
        opts: dict[str, Any] = {"kernel": 5, "activation": config.activation, "bn": config.bn}
        self.features = nn.Sequential(
            ConvBNAct(config.in_channels, c1, padding=2, **opts), _pool(config.pool),
            ConvBNAct(c1, c2, padding=0, **opts), _pool(config.pool),
        )
        self.grid = ((config.input_size // 2) - 4) // 2
        layers: list[nn.Module] = [nn.Flatten()]
        width = c2 * self.grid * self.grid
        for h in config.hidden:
            layers += [nn.Dropout(config.dropout), nn.Linear(width, h), make_activation(config.activation)]
            width = h
        layers += [nn.Dropout(config.dropout), nn.Linear(width, config.num_classes)]
        self.classifier = nn.Sequential(*layers)
        self._finish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×num_classes for N×C×H×W float input.

        Raises:
            ShapeError: not 4-D, wrong channel count, or a side under 12 px. DTypeError: an integer tensor.
        """
        return self.classifier(self._to_grid(self.features(self._check(x))))


@register_model("lenet", task="classify")
def lenet(*, config: LeNetConfig | dict | None = None, **overrides: Any) -> LeNet:
    """LeNet-5-style CNN for small grayscale or colour images (28 px by default), randomly initialised.

    Args:
        config: a :class:`LeNetConfig` or its ``to_dict()``; default the 1-channel, 28 px, 10-class one.
        **overrides: config fields to replace (e.g. ``in_channels=3, input_size=32, activation="tanh"``).

    Returns:
        A :class:`LeNet`.

    Raises:
        InputError: an unknown field or a bad value.
    """
    return LeNet(build_config(LeNetConfig, config, overrides, "lenet"))


# ---------------------------------------------------------------------------------------------------------------
# VGG
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VGGSmallConfig(ModelConfig):
    """Hyper-parameters of :class:`VGGSmall`.

    Attributes:
        in_channels: image channels. num_classes: number of logits.
        input_size: the image side the dense head is sized for (≥ 2**len(widths)).
        widths: output channels of each stage.
        depths: 3×3 ConvBNAct layers per stage, one entry per stage.
        hidden: width of the dense layer before the logits.
        dropout: dropout before the dense layer and before the logits.
        activation: a :func:`~vision.nn.make_activation` name.
        bn: batch normalisation after each conv.
        channels_last: keep weights and input in channels-last memory format (faster on CPU).

    Raises:
        InputError: a value of the wrong type or out of range (the message names the field).
    """

    in_channels: int = 1
    num_classes: int = 10
    input_size: int = 28
    widths: tuple[int, ...] = (32, 64, 128)
    depths: tuple[int, ...] = (2, 2, 2)
    hidden: int = 256
    dropout: float = 0.5
    activation: str = "relu"
    bn: bool = True
    channels_last: bool = True

    def __post_init__(self) -> None:
        who = "VGGSmallConfig"
        _check_common(self, who)
        object.__setattr__(self, "widths", int_tuple(who, "widths", self.widths))
        object.__setattr__(self, "depths", int_tuple(who, "depths", self.depths, length=len(self.widths)))
        positive_int(who, "hidden", self.hidden)
        if not isinstance(self.bn, bool):
            raise InputError(f"{who}: bn must be True or False; got {self.bn!r}")
        object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))
        _check_input_size(self, who, 2 ** len(self.widths))


class VGGSmall(_SmallClassifier):
    """VGG-style classifier (see the module docstring).

    Args:
        config: a :class:`VGGSmallConfig`; default the 28×28 grayscale, 10-class one.

    Attributes:
        config: the configuration it was built from. grid: side of the last feature map for ``input_size``.
        min_input_size: ``2 ** len(widths)``.

    Raises:
        InputError: ``config`` is not a VGGSmallConfig.
    """

    def __init__(self, config: VGGSmallConfig | None = None) -> None:
        super().__init__()
        config = VGGSmallConfig() if config is None else config
        if not isinstance(config, VGGSmallConfig):
            raise InputError(f"VGGSmall: config must be a VGGSmallConfig; got {type(config).__name__}")
        self.config = config
        from vision.nn.activations import make_activation
        from vision.nn.blocks import ConvBNAct

        layers: list[nn.Module] = []
        cin = config.in_channels
        for width, depth in zip(config.widths, config.depths):
            for _ in range(depth):
                layers.append(ConvBNAct(cin, width, activation=config.activation, bn=config.bn))
                cin = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.min_input_size = 2 ** len(config.widths)
        self.grid = config.input_size // self.min_input_size
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(config.dropout), nn.Linear(cin * self.grid * self.grid, config.hidden),
            make_activation(config.activation),
            nn.Dropout(config.dropout), nn.Linear(config.hidden, config.num_classes),
        )
        self._finish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×num_classes for N×C×H×W float input.

        Raises:
            ShapeError: not 4-D, wrong channel count, or a side under ``min_input_size``. DTypeError: integers.
        """
        return self.classifier(self._to_grid(self.features(self._check(x))))


@register_model("vgg-small", task="classify")
def vgg_small(*, config: VGGSmallConfig | dict | None = None, **overrides: Any) -> VGGSmall:
    """VGG-style CNN (stacks of 3×3 conv-BN-act and max-pools) for 28–64 px images, randomly initialised.

    Args:
        config: a :class:`VGGSmallConfig` or its ``to_dict()``; default the 1-channel, 28 px, 10-class one.
        **overrides: config fields to replace (e.g. ``widths=(16, 32), depths=(1, 1), bn=False``).

    Returns:
        A :class:`VGGSmall`.

    Raises:
        InputError: an unknown field or a bad value.
    """
    return VGGSmall(build_config(VGGSmallConfig, config, overrides, "vgg-small"))


# ---------------------------------------------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResNetSmallConfig(ModelConfig):
    """Hyper-parameters of :class:`ResNetSmall`.

    Attributes:
        in_channels: image channels. num_classes: number of logits.
        input_size: the nominal image side (≥ 2**(len(widths) - 1)); the network pools globally, so it only
            sets the smallest input side accepted.
        stem: channels of the 3×3 stem conv.
        widths: output channels of each stage (stages after the first halve the spatial size).
        depths: residual blocks per stage, one entry per stage.
        dropout: dropout before the logits.
        activation: a :func:`~vision.nn.make_activation` name.
        channels_last: keep weights and input in channels-last memory format (faster on CPU).

    Raises:
        InputError: a value of the wrong type or out of range (the message names the field).
    """

    in_channels: int = 1
    num_classes: int = 10
    input_size: int = 28
    stem: int = 16
    widths: tuple[int, ...] = (16, 32, 64)
    depths: tuple[int, ...] = (2, 2, 2)
    dropout: float = 0.0
    activation: str = "relu"
    channels_last: bool = True

    def __post_init__(self) -> None:
        who = "ResNetSmallConfig"
        _check_common(self, who)
        positive_int(who, "stem", self.stem)
        object.__setattr__(self, "widths", int_tuple(who, "widths", self.widths))
        object.__setattr__(self, "depths", int_tuple(who, "depths", self.depths, length=len(self.widths)))
        object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))
        _check_input_size(self, who, 2 ** (len(self.widths) - 1))


class ResNetSmall(_SmallClassifier):
    """CIFAR-style ResNet classifier (see the module docstring).

    Args:
        config: a :class:`ResNetSmallConfig`; default the 28×28 grayscale, 10-class one (3 stages × 2 blocks).

    Attributes:
        config: the configuration it was built from. min_input_size: ``2 ** (len(widths) - 1)``.

    Raises:
        InputError: ``config`` is not a ResNetSmallConfig.
    """

    def __init__(self, config: ResNetSmallConfig | None = None) -> None:
        super().__init__()
        config = ResNetSmallConfig() if config is None else config
        if not isinstance(config, ResNetSmallConfig):
            raise InputError(f"ResNetSmall: config must be a ResNetSmallConfig; got {type(config).__name__}")
        self.config = config
        from vision.nn.blocks import ConvBNAct, ResidualBlock

        act = config.activation
        self.stem = ConvBNAct(config.in_channels, config.stem, activation=act)
        stages: list[nn.Module] = []
        cin = config.stem
        for i, (width, depth) in enumerate(zip(config.widths, config.depths)):
            blocks = [ResidualBlock(cin if j == 0 else width, width, stride=2 if (i > 0 and j == 0) else 1,
                                    activation=act) for j in range(depth)]
            stages.append(nn.Sequential(*blocks))
            cin = width
        self.stages = nn.Sequential(*stages)
        self.min_input_size = 2 ** (len(config.widths) - 1)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(config.dropout),
                                  nn.Linear(cin, config.num_classes))
        self._finish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×num_classes for N×C×H×W float input.

        Raises:
            ShapeError: not 4-D, wrong channel count, or a side under ``min_input_size``. DTypeError: integers.
        """
        return self.head(self.stages(self.stem(self._check(x))))


@register_model("resnet-small", task="classify")
def resnet_small(*, config: ResNetSmallConfig | dict | None = None, **overrides: Any) -> ResNetSmall:
    """CIFAR-style ResNet (basic residual blocks, global average pooling) for 28–64 px images, randomly initialised.

    Args:
        config: a :class:`ResNetSmallConfig` or its ``to_dict()``; default the 1-channel, 28 px, 10-class one.
        **overrides: config fields to replace (e.g. ``widths=(8, 16), depths=(1, 1), in_channels=3``).

    Returns:
        A :class:`ResNetSmall`.

    Raises:
        InputError: an unknown field or a bad value.
    """
    return ResNetSmall(build_config(ResNetSmallConfig, config, overrides, "resnet-small"))
