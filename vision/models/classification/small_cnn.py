"""A small conv-BN-ReLU classifier for 28×28 grayscale images (Fashion-MNIST, MNIST), registered as ``"fmnist-cnn"``.

Layout (defaults ``widths=(32, 64)``, ``depths=(1, 1)``): per stage ``depth`` 3×3 conv-BN-ReLU layers, a 2×2
max-pool and 2-D dropout (28→14→7); then adaptive average pooling to ``head_grid``×``head_grid`` (the identity for
28×28 input), flatten, dropout, a hidden linear layer with ReLU, dropout, and the logits layer. It takes
N×C×H×W float tensors (C = ``in_channels``) and returns N×``num_classes`` logits; scaling pixels (e.g. ``x / 255``
then standardising) is the caller's job; inputs smaller than 2**len(widths) pixels a side are refused. With ``channels_last`` (default) the weights and the input are kept in
channels-last memory format, which makes CPU convolutions 1.5–3× faster here.

Example:
    >>> from vision.models import create_model
    >>> net = create_model("fmnist-cnn")                         # doctest: +SKIP
    >>> net(torch.zeros(2, 1, 28, 28)).shape                      # doctest: +SKIP
    torch.Size([2, 10])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vision.errors import InputError, ShapeError
from vision.models.config import ModelConfig, build_config, int_tuple, positive_int, probability
from vision.models.registry import register_model

__all__ = ["SmallCNN", "SmallCNNConfig", "fmnist_cnn"]


@dataclass(frozen=True)
class SmallCNNConfig(ModelConfig):
    """Hyper-parameters of :class:`SmallCNN` (JSON-serialisable via :meth:`to_json` / :meth:`from_json`).

    Attributes:
        in_channels: image channels (1 for grayscale).
        num_classes: number of logits.
        widths: output channels of each stage (each stage: ``depth`` conv-BN-ReLU, max-pool, dropout).
        depths: conv-BN-ReLU layers per stage, one per entry of ``widths``.
        hidden: width of the hidden linear layer of the head.
        dropout: 2-D dropout after each stage's pooling.
        head_dropout: dropout before each linear layer of the head.
        head_grid: side of the pooled feature map the head flattens.
        channels_last: keep weights and input in channels-last memory format (faster on CPU).

    Raises:
        InputError: a value of the wrong type or out of range.
    """

    in_channels: int = 1
    num_classes: int = 10
    widths: tuple[int, ...] = (32, 64)
    depths: tuple[int, ...] = (1, 1)
    hidden: int = 128
    dropout: float = 0.05
    head_dropout: float = 0.2
    head_grid: int = 7
    channels_last: bool = True

    def __post_init__(self) -> None:
        who = "SmallCNNConfig"
        for name in ("in_channels", "num_classes", "hidden", "head_grid"):
            positive_int(who, name, getattr(self, name))
        object.__setattr__(self, "widths", int_tuple(who, "widths", self.widths))
        object.__setattr__(self, "depths", int_tuple(who, "depths", self.depths, length=len(self.widths)))
        if not isinstance(self.channels_last, bool):
            raise InputError(f"{who}: channels_last must be True or False; got {self.channels_last!r}")
        object.__setattr__(self, "dropout", probability(who, "dropout", self.dropout))
        object.__setattr__(self, "head_dropout", probability(who, "head_dropout", self.head_dropout))


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class SmallCNN(nn.Module):
    """Small conv-BN-ReLU classifier (see the module docstring for the layout).

    Args:
        config: a :class:`SmallCNNConfig`; default the 28×28 grayscale, 10-class one.

    Attributes:
        config: the configuration it was built from.

    Raises:
        InputError: ``config`` is not a SmallCNNConfig.
    """

    def __init__(self, config: SmallCNNConfig | None = None) -> None:
        super().__init__()
        if config is None:
            config = SmallCNNConfig()
        if not isinstance(config, SmallCNNConfig):
            raise InputError(f"SmallCNN: config must be a SmallCNNConfig; got {type(config).__name__}")
        self.config = config
        layers: list[nn.Module] = []
        cin = config.in_channels
        for width, depth in zip(config.widths, config.depths):
            for _ in range(depth):
                layers += _conv_bn_relu(cin, width)
                cin = width
            layers += [nn.MaxPool2d(2), nn.Dropout2d(config.dropout)]
        self.features = nn.Sequential(*layers)
        g = config.head_grid
        self.pool = nn.AdaptiveAvgPool2d(g)  # skipped when the map is already g×g (slow backward channels-last)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(config.head_dropout), nn.Linear(cin * g * g, config.hidden), nn.ReLU(inplace=True),
            nn.Dropout(config.head_dropout), nn.Linear(config.hidden, config.num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if config.channels_last:
            self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits N×num_classes for N×C×H×W float input.

        Raises:
            ShapeError: ``x`` is not 4-D with ``in_channels`` channels.
        """
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise ShapeError(f"SmallCNN: expected N×{self.config.in_channels}×H×W input; got {tuple(x.shape)}")
        if self.config.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.features(x)
        if tuple(x.shape[-2:]) != (self.config.head_grid, self.config.head_grid):
            x = self.pool(x)
        return self.head(x)


@register_model("fmnist-cnn", task="classify")
def fmnist_cnn(*, config: SmallCNNConfig | dict | None = None, **overrides: Any) -> SmallCNN:
    """Small conv-BN-ReLU CNN for 28×28 grayscale images (Fashion-MNIST), randomly initialised.

    Args:
        config: a :class:`SmallCNNConfig` or its ``to_dict()``; default the 1-channel, 10-class one.
        **overrides: config fields to replace (e.g. ``num_classes=5``, ``widths=(16, 32)``, ``depths=(1, 1)``).

    Returns:
        A :class:`SmallCNN`.

    Raises:
        InputError: an unknown field or a bad value.
    """
    return SmallCNN(build_config(SmallCNNConfig, config, overrides, "fmnist-cnn"))
