"""Activation functions by name, over ``torch.nn``, plus the Maxout layer that torch does not have.

Example:
    >>> import torch
    >>> from vision.nn.activations import make_activation, Maxout
    >>> make_activation("leaky_relu", negative_slope=0.2)
    LeakyReLU(negative_slope=0.2)
    >>> Maxout(8, 4, pieces=3)(torch.zeros(2, 8)).shape
    torch.Size([2, 4])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from vision.errors import InputError

__all__ = ["ACTIVATIONS", "Maxout", "make_activation"]


class Maxout(nn.Module):
    """Maxout layer (Goodfellow et al., 2013): each output is the max over ``pieces`` affine maps of the input.

    Hand-written because torch has no maxout layer. ``y_j = max_k (W_jk · x + b_jk)`` for ``j < out_features``,
    ``k < pieces``; the ``out_features × pieces`` maps are one ``nn.Linear`` (``self.linear``) whose output unit
    ``j * pieces + k`` is piece ``k`` of output ``j``. It acts on the last dimension, like ``nn.Linear``.

    Args:
        in_features: size of the last input dimension.
        out_features: size of the last output dimension.
        pieces: number of affine pieces per output (``k`` in the paper), at least 1 (1 is a plain linear layer).
        bias: whether the affine maps have biases.

    Raises:
        InputError: a size is not a positive integer.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, *, bias: bool = True) -> None:
        super().__init__()
        for label, value in (("in_features", in_features), ("out_features", out_features), ("pieces", pieces)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"Maxout {label} must be a positive int, got {value!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.pieces = pieces
        self.linear = nn.Linear(in_features, out_features * pieces, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the max over pieces: ``(..., in_features)`` → ``(..., out_features)``."""
        return self.linear(x).unflatten(-1, (self.out_features, self.pieces)).amax(dim=-1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"


def _softmax(dim: int = 1) -> nn.Softmax:
    return nn.Softmax(dim=dim)


#: activation name → constructor; keyword arguments of ``make_activation`` go to the constructor
_FACTORIES: dict[str, Callable[..., nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softmax": _softmax,
    "identity": nn.Identity,
    "linear": nn.Identity,
    "maxout": Maxout,
}

#: every name ``make_activation`` accepts
ACTIVATIONS: tuple[str, ...] = tuple(sorted(_FACTORIES))


def make_activation(name: str, **kwargs: object) -> nn.Module:
    """Build an activation module by name.

    Names map to torch modules: ``relu``, ``leaky_relu`` (``negative_slope=0.01``), ``prelu``
    (``num_parameters=1, init=0.25``), ``elu`` (``alpha=1.0``), ``selu``, ``silu`` = ``swish`` (``x·σ(x)``),
    ``gelu`` (``approximate="none"``), ``tanh``, ``sigmoid``, ``softmax`` (``dim=1``, the class dimension of
    ``B×C`` and ``B×C×H×W`` tensors, as in ``nn.CrossEntropyLoss``), ``identity`` = ``linear``; and ``maxout``
    → :class:`Maxout` (needs ``in_features``, ``out_features``, optional ``pieces``). Case and ``-`` vs ``_`` do
    not matter.

    Args:
        name: activation name, one of :data:`ACTIVATIONS`.
        **kwargs: options of the underlying torch module (e.g. ``negative_slope``, ``alpha``, ``dim``, ``inplace``).

    Returns:
        A new ``nn.Module``.

    Raises:
        InputError: unknown name (the message lists the choices) or options the module does not take.
    """
    if not isinstance(name, str):
        raise InputError(f"activation name must be a str, got {type(name).__name__}; expected one of {list(ACTIVATIONS)}")
    key = name.strip().lower().replace("-", "_")
    if key not in _FACTORIES:
        raise InputError(f"unknown activation {name!r}; expected one of {list(ACTIVATIONS)}")
    try:
        return _FACTORIES[key](**kwargs)
    except TypeError as exc:
        raise InputError(f"activation {name!r} does not accept options {sorted(kwargs)}: {exc}") from exc
