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

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from vision.errors import InputError, ShapeError
from vision.models.registry import register_model

__all__ = ["SmallCNN", "SmallCNNConfig", "fmnist_cnn"]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"SmallCNNConfig: {name} must be an integer ≥ 1; got {value!r}")
    return value


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value < 1.0:
        raise InputError(f"SmallCNNConfig: {name} must be a number in [0, 1); got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SmallCNNConfig:
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
        _positive_int("in_channels", self.in_channels)
        _positive_int("num_classes", self.num_classes)
        _positive_int("hidden", self.hidden)
        if isinstance(self.widths, (str, bytes)) or not isinstance(self.widths, (tuple, list)) or not self.widths:
            raise InputError(f"SmallCNNConfig: widths must be a non-empty sequence of integers ≥ 1; "
                             f"got {self.widths!r}")
        object.__setattr__(self, "widths", tuple(_positive_int("widths[]", w) for w in self.widths))
        if isinstance(self.depths, (str, bytes)) or not isinstance(self.depths, (tuple, list)) \
                or len(self.depths) != len(self.widths):
            raise InputError(f"SmallCNNConfig: depths must be a sequence of {len(self.widths)} integers ≥ 1 (one per "
                             f"width); got {self.depths!r}")
        object.__setattr__(self, "depths", tuple(_positive_int("depths[]", d) for d in self.depths))
        _positive_int("head_grid", self.head_grid)
        if not isinstance(self.channels_last, bool):
            raise InputError(f"SmallCNNConfig: channels_last must be True or False; got {self.channels_last!r}")
        object.__setattr__(self, "dropout", _probability("dropout", self.dropout))
        object.__setattr__(self, "head_dropout", _probability("head_dropout", self.head_dropout))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (``widths`` as a list)."""
        d = asdict(self)
        d["widths"] = list(self.widths)
        d["depths"] = list(self.depths)
        return d

    @classmethod
    def from_dict(cls, data: Any) -> SmallCNNConfig:
        """Build from :meth:`to_dict`'s output.

        Raises:
            InputError: not a mapping, an unknown key, or a bad value.
        """
        if not isinstance(data, dict):
            raise InputError(f"SmallCNNConfig.from_dict: expected a dict; got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"SmallCNNConfig.from_dict: unknown keys {unknown}; expected some of {sorted(known)}")
        return cls(**data)

    def to_json(self) -> str:
        """The config as a JSON object string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SmallCNNConfig:
        """Build from :meth:`to_json`'s output.

        Raises:
            InputError: not valid JSON, or as :meth:`from_dict`.
        """
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise InputError(f"SmallCNNConfig.from_json: expected a JSON object string; got {text!r:.80} ({exc})") \
                from exc
        return cls.from_dict(data)


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
    if config is None:
        config = SmallCNNConfig()
    elif isinstance(config, dict):
        config = SmallCNNConfig.from_dict(config)
    elif not isinstance(config, SmallCNNConfig):
        raise InputError(f"fmnist-cnn: config must be a SmallCNNConfig or dict; got {type(config).__name__}")
    if overrides:
        config = SmallCNNConfig.from_dict({**config.to_dict(), **overrides})
    return SmallCNN(config)
