"""Convolutional building blocks: conv-BN-activation, ResNet's residual block, GoogLeNet's inception module,
Xception's depthwise-separable convolution and residual block.

Every block is an ``nn.Module`` mapping N×C×H×W float tensors to N×C'×H'×W' ones, with "same" padding for odd
kernels so that only ``stride`` changes the spatial size (``H' = ceil(H / stride)``). Blocks keep torch's default
weight initialisation; a model built from them calls :func:`vision.nn.init_weights` once (each weight layer is
registered before the activation that follows it, so ``scheme="auto"`` pairs them correctly). Activations are
given by name (see :func:`vision.nn.make_activation`).

Example:
    >>> import torch
    >>> from vision.nn.blocks import ConvBNAct, ResidualBlock
    >>> x = torch.zeros(2, 3, 32, 32)
    >>> ResidualBlock(3, 16, stride=2)(ConvBNAct(3, 3)(x)).shape
    torch.Size([2, 16, 16, 16])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vision.errors import InputError
from vision.nn.activations import make_activation

__all__ = ["ConvBNAct", "InceptionModule", "ResidualBlock", "SeparableConv", "XceptionBlock"]


def _positive(who: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{who}: {name} must be an integer ≥ 1; got {value!r}")
    return value


def _flag(who: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{who}: {name} must be True or False; got {value!r}")
    return value


def _activation(who: str, name: Any) -> nn.Module:
    """``make_activation(name)``, with the block named in the error (maxout needs sizes: refused here)."""
    try:
        return make_activation(name)
    except InputError as exc:
        raise InputError(f"{who}: activation {name!r} cannot be used in a conv block ({exc})") from exc


class ConvBNAct(nn.Module):
    """Conv2d → BatchNorm2d → activation, the basic unit of VGG/ResNet-style networks.

    The convolution has no bias when ``bn`` is on (BN's shift replaces it) and a bias otherwise.

    Args:
        cin: input channels.
        cout: output channels.
        kernel: square kernel size.
        stride: convolution stride.
        groups: channel groups (``cin`` and ``cout`` must be divisible by it; ``groups=cin`` is depthwise).
        activation: a :func:`~vision.nn.make_activation` name; ``"identity"`` for none.
        bn: add batch normalisation.
        padding: zero padding on each side; None (default) is ``kernel // 2`` ("same" for odd kernels).

    Raises:
        InputError: a size that is not a positive integer (padding: not ≥ 0), ``groups`` not dividing the
            channels, an unknown activation, ``bn`` not a bool.
    """

    def __init__(self, cin: int, cout: int, *, kernel: int = 3, stride: int = 1, groups: int = 1,
                 activation: str = "relu", bn: bool = True, padding: int | None = None) -> None:
        super().__init__()
        who = "ConvBNAct"
        for name, value in (("cin", cin), ("cout", cout), ("kernel", kernel), ("stride", stride), ("groups", groups)):
            _positive(who, name, value)
        _flag(who, "bn", bn)
        if cin % groups or cout % groups:
            raise InputError(f"{who}: groups must divide cin and cout; got groups={groups}, cin={cin}, cout={cout}")
        if padding is None:
            padding = kernel // 2
        elif isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise InputError(f"{who}: padding must be an integer ≥ 0 or None; got {padding!r}")
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, groups=groups, bias=not bn)
        self.bn = nn.BatchNorm2d(cout) if bn else nn.Identity()
        self.act = _activation(who, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``act(bn(conv(x)))``."""
        return self.act(self.bn(self.conv(x)))


class ResidualBlock(nn.Module):
    """ResNet's basic block: two 3×3 ConvBN layers plus a shortcut, then the activation (He et al., 2016).

    ``out = act(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x))``; the first conv carries the stride. The shortcut
    is the identity when the shape does not change (``stride == 1`` and ``cin == cout``) and a strided 1×1 conv +
    BN projection otherwise.

    Args:
        cin: input channels.
        cout: output channels.
        stride: stride of the first conv and of the projection (2 halves the spatial size).
        activation: a :func:`~vision.nn.make_activation` name.

    Attributes:
        shortcut: ``nn.Identity`` or the projection :class:`ConvBNAct` (1×1, no activation).

    Raises:
        InputError: a size that is not a positive integer, an unknown activation.
    """

    def __init__(self, cin: int, cout: int, *, stride: int = 1, activation: str = "relu") -> None:
        super().__init__()
        who = "ResidualBlock"
        for name, value in (("cin", cin), ("cout", cout), ("stride", stride)):
            _positive(who, name, value)
        self.conv1 = ConvBNAct(cin, cout, stride=stride, activation=activation)
        self.conv2 = ConvBNAct(cout, cout, activation="identity")
        if stride != 1 or cin != cout:
            self.shortcut: nn.Module = ConvBNAct(cin, cout, kernel=1, stride=stride, activation="identity")
        else:
            self.shortcut = nn.Identity()
        self.act = _activation(who, activation)  # registered last: conv2 and the projection pair with it in init

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output, ``cout`` channels at ``ceil(H / stride)`` × ``ceil(W / stride)``."""
        return self.act(self.conv2(self.conv1(x)) + self.shortcut(x))


class InceptionModule(nn.Module):
    """GoogLeNet's inception module with 1×1 reductions (Szegedy et al., 2015), with BN as in torchvision.

    Four parallel branches, concatenated along channels (in this order): a 1×1 conv (``c1``); a 1×1 reduction
    (``c3_reduce``) then a 3×3 conv (``c3``); a 1×1 reduction (``c5_reduce``) then a 5×5 conv (``c5``); a 3×3
    stride-1 max-pool then a 1×1 projection (``pool_proj``). Every conv is a :class:`ConvBNAct`. The spatial size
    is kept; output channels = ``c1 + c3 + c5 + pool_proj``.

    Args:
        cin: input channels.
        c1: channels of the 1×1 branch.
        c3_reduce: 1×1 reduction before the 3×3 conv.
        c3: channels of the 3×3 branch.
        c5_reduce: 1×1 reduction before the 5×5 conv.
        c5: channels of the 5×5 branch.
        pool_proj: channels of the 1×1 projection after the pool.
        activation: a :func:`~vision.nn.make_activation` name.
        bn: batch normalisation after each conv.

    Attributes:
        out_channels: ``c1 + c3 + c5 + pool_proj``.

    Raises:
        InputError: a size that is not a positive integer, an unknown activation.
    """

    def __init__(self, cin: int, *, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int,
                 activation: str = "relu", bn: bool = True) -> None:
        super().__init__()
        who = "InceptionModule"
        for name, value in (("cin", cin), ("c1", c1), ("c3_reduce", c3_reduce), ("c3", c3),
                            ("c5_reduce", c5_reduce), ("c5", c5), ("pool_proj", pool_proj)):
            _positive(who, name, value)
        _flag(who, "bn", bn)
        opts: dict[str, Any] = {"activation": activation, "bn": bn}
        self.branch1 = ConvBNAct(cin, c1, kernel=1, **opts)
        self.branch3 = nn.Sequential(ConvBNAct(cin, c3_reduce, kernel=1, **opts),
                                     ConvBNAct(c3_reduce, c3, kernel=3, **opts))
        self.branch5 = nn.Sequential(ConvBNAct(cin, c5_reduce, kernel=1, **opts),
                                     ConvBNAct(c5_reduce, c5, kernel=5, **opts))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                         ConvBNAct(cin, pool_proj, kernel=1, **opts))
        self.out_channels = c1 + c3 + c5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The four branches concatenated: N×out_channels×H×W."""
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


class SeparableConv(nn.Module):
    """Depthwise-separable convolution as in Xception (Chollet, 2017): depthwise k×k → pointwise 1×1 → BN → act.

    The depthwise conv (``groups=cin``, one k×k filter per input channel, carrying the stride) and the pointwise
    1×1 conv have no biases and no activation between them, so the block has ``k·k·cin + cin·cout`` weights
    (plus ``2·cout`` BN parameters) where a full conv has ``k·k·cin·cout``.

    Args:
        cin: input channels.
        cout: output channels.
        kernel: depthwise kernel size.
        stride: depthwise stride.
        activation: a :func:`~vision.nn.make_activation` name; ``"identity"`` for none.

    Raises:
        InputError: a size that is not a positive integer, an unknown activation.
    """

    def __init__(self, cin: int, cout: int, *, kernel: int = 3, stride: int = 1, activation: str = "relu") -> None:
        super().__init__()
        who = "SeparableConv"
        for name, value in (("cin", cin), ("cout", cout), ("kernel", kernel), ("stride", stride)):
            _positive(who, name, value)
        self.depthwise = nn.Conv2d(cin, cin, kernel, stride=stride, padding=kernel // 2, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = _activation(who, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``act(bn(pointwise(depthwise(x))))``."""
        return self.act(self.bn(self.pointwise(self.depthwise(x))))


class XceptionBlock(nn.Module):
    """Xception's residual block: ``reps`` separable convs, a strided max-pool, and a 1×1 shortcut.

    Main path: ``reps`` :class:`SeparableConv` layers (the first ``cin → cout``, the rest ``cout → cout``; every
    one but the last followed by the activation), then, when ``stride > 1``, a 3×3 max-pool with that stride
    (padding 1). Shortcut: the identity when ``stride == 1`` and ``cin == cout``, else a strided 1×1 conv + BN.
    The sum then goes through the activation. Output: ``cout`` channels at ``ceil(H / stride)``.

    Args:
        cin: input channels.
        cout: output channels.
        reps: number of separable convs on the main path.
        stride: down-sampling factor (of the pool and the shortcut).
        activation: a :func:`~vision.nn.make_activation` name.

    Attributes:
        shortcut: ``nn.Identity`` or the projection :class:`ConvBNAct` (1×1, no activation).

    Raises:
        InputError: a size that is not a positive integer, an unknown activation.
    """

    def __init__(self, cin: int, cout: int, *, reps: int = 2, stride: int = 1, activation: str = "relu") -> None:
        super().__init__()
        who = "XceptionBlock"
        for name, value in (("cin", cin), ("cout", cout), ("reps", reps), ("stride", stride)):
            _positive(who, name, value)
        layers: list[nn.Module] = []
        for i in range(reps):
            last = i == reps - 1
            layers.append(SeparableConv(cin if i == 0 else cout, cout,
                                        activation="identity" if last else activation))
        if stride > 1:
            layers.append(nn.MaxPool2d(3, stride=stride, padding=1))
        self.body = nn.Sequential(*layers)
        if stride != 1 or cin != cout:
            self.shortcut: nn.Module = ConvBNAct(cin, cout, kernel=1, stride=stride, activation="identity")
        else:
            self.shortcut = nn.Identity()
        self.act = _activation(who, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``act(body(x) + shortcut(x))``."""
        return self.act(self.body(x) + self.shortcut(x))
