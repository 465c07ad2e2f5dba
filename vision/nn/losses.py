"""Losses by name: MSE, MAE, Huber, binary and categorical cross-entropy (from logits or from probabilities).

Every loss is an ``nn.Module`` called as ``loss(input, target)``. The per-sample loss ``L_i`` is the mean over the
sample's elements (regression, binary) or the cross-entropy of the sample (categorical; the mean over positions for
dense ``B×C×H×W`` outputs). ``reduction`` gives ``"mean"`` → ``mean_i L_i``, the cost ``J`` (the default);
``"sum"`` → ``sum_i L_i``; ``"none"`` → the vector ``(L_i)`` of shape ``(B,)``. (Unlike torch, ``"sum"`` and
``"none"`` are per sample, not per element, as in Keras; ``"mean"`` is the same number as torch's.)

From-logits variants use torch's fused, numerically stable functions. From-probabilities variants clamp the
probabilities to ``[eps, 1 − eps]`` (``eps=1e-7``, Keras' epsilon) before the log, so a confident wrong prediction
costs ``−log(eps) ≈ 16.1`` instead of ``inf``, and compute in float32 at least (half-precision ``1 − eps`` would
round to 1). Prefer from-logits: it is exact and its gradient never vanishes at the clamp.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vision.errors import DTypeError, InputError, ShapeError

__all__ = [
    "LOSSES",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Huber",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "make_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise InputError(f"unknown reduction {reduction!r}; expected one of {list(_REDUCTIONS)}")
    return reduction


def _check_fraction(label: str, value: float, *, high: float = 1.0, open_low: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not ((0 < value) if open_low else (0 <= value)) or not value < high:
        lo = "(0" if open_low else "[0"
        raise InputError(f"{label} must be a number in {lo}, {high:g}), got {value!r}")
    return float(value)


def _reduce(per_element: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce per-element losses of shape ``(B, ...)``: per-sample means, then mean/sum over the batch."""
    if reduction == "mean":
        return per_element.mean()
    per_sample = per_element.flatten(1).mean(dim=1) if per_element.dim() > 1 else per_element
    return per_sample.sum() if reduction == "sum" else per_sample


def _check_same_shape(name: str, input: torch.Tensor, target: torch.Tensor) -> None:
    if input.dim() == 0:
        raise ShapeError(f"{name}: expected input with a batch dimension (B, ...), got a 0-d tensor")
    if input.shape != target.shape:
        raise ShapeError(f"{name}: expected target of the input's shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")


def _float_target(name: str, target: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if target.is_complex():
        raise DTypeError(f"{name}: expected a real target, got {target.dtype}")
    return target if target.dtype == like.dtype else target.to(like.dtype)


class _Loss(nn.Module):
    name = "loss"

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction(reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MeanSquaredError(_Loss):
    """Mean squared error ``(input − target)²``; ``reduction`` as in the module docstring."""

    name = "mse"

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check_same_shape(self.name, input, target)
        return _reduce(F.mse_loss(input, _float_target(self.name, target, input), reduction="none"), self.reduction)


class MeanAbsoluteError(_Loss):
    """Mean absolute error ``|input − target|``; ``reduction`` as in the module docstring."""

    name = "mae"

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check_same_shape(self.name, input, target)
        return _reduce(F.l1_loss(input, _float_target(self.name, target, input), reduction="none"), self.reduction)


class Huber(_Loss):
    """Huber loss: ``e²/2`` for ``|e| ≤ delta``, ``delta·(|e| − delta/2)`` beyond (``e = input − target``).

    Args:
        delta: the threshold between the quadratic and the linear part, > 0.
        reduction: ``"mean"`` (the cost), ``"sum"`` or ``"none"``.
    """

    name = "huber"

    def __init__(self, *, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.delta = _check_fraction("huber delta", delta, high=math.inf, open_low=True)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check_same_shape(self.name, input, target)
        target = _float_target(self.name, target, input)
        return _reduce(F.huber_loss(input, target, reduction="none", delta=self.delta), self.reduction)

    def extra_repr(self) -> str:
        return f"delta={self.delta}, reduction={self.reduction!r}"


class BinaryCrossEntropy(_Loss):
    """Binary cross-entropy ``−[t·log p + (1 − t)·log(1 − p)]`` per element, for 0/1 (or soft) targets.

    Args:
        from_logits: True → ``input`` holds logits and ``p = sigmoid(input)`` (stable, fused in torch);
            False → ``input`` holds probabilities, clamped to ``[eps, 1 − eps]``.
        label_smoothing: ``t ← t·(1 − s) + s/2`` (Keras' rule), in ``[0, 1)``.
        eps: the clamp of the from-probabilities variant, in ``(0, 0.5)``.
        reduction: ``"mean"`` (the cost), ``"sum"`` or ``"none"``.
    """

    name = "binary_cross_entropy"

    def __init__(self, *, from_logits: bool = True, label_smoothing: float = 0.0, eps: float = 1e-7,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_fraction("label_smoothing", label_smoothing)
        self.eps = _check_fraction("eps", eps, high=0.5, open_low=True)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        _check_same_shape(self.name, input, target)
        if not input.is_floating_point():
            raise DTypeError(f"{self.name}: expected a floating-point input, got {input.dtype}")
        if self.from_logits:
            target = _float_target(self.name, target, input)
        else:
            input = input.float() if input.dtype in (torch.float16, torch.bfloat16) else input
            target = _float_target(self.name, target, input)
        if self.label_smoothing:
            target = target * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            per_element = F.binary_cross_entropy_with_logits(input, target, reduction="none")
        else:
            p = input.clamp(self.eps, 1.0 - self.eps)
            per_element = -(target * torch.log(p) + (1.0 - target) * torch.log1p(-p))
        return _reduce(per_element, self.reduction)

    def extra_repr(self) -> str:
        return (f"from_logits={self.from_logits}, label_smoothing={self.label_smoothing}, "
                f"eps={self.eps}, reduction={self.reduction!r}")


class CategoricalCrossEntropy(_Loss):
    """Categorical cross-entropy ``−Σ_c t_c·log p_c`` over the class dimension 1 of ``(B, C, ...)`` scores.

    The target is either class indices of shape ``(B, ...)`` (integer dtype) or class probabilities / one-hot of the
    input's shape (float).

    Args:
        from_logits: True → ``input`` holds logits, ``p = softmax(input, dim=1)`` (``F.cross_entropy``);
            False → ``input`` holds probabilities, clamped to ``[eps, 1 − eps]`` (not renormalised).
        label_smoothing: ``t ← t·(1 − s) + s/C``, in ``[0, 1)`` (torch's and Keras' rule).
        eps: the clamp of the from-probabilities variant, in ``(0, 0.5)``.
        reduction: ``"mean"`` (the cost), ``"sum"`` or ``"none"``.
    """

    name = "categorical_cross_entropy"

    def __init__(self, *, from_logits: bool = True, label_smoothing: float = 0.0, eps: float = 1e-7,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_fraction("label_smoothing", label_smoothing)
        self.eps = _check_fraction("eps", eps, high=0.5, open_low=True)

    def _check(self, input: torch.Tensor, target: torch.Tensor) -> bool:
        """Validate shapes and dtypes; return True for class-index targets."""
        if input.dim() < 2:
            raise ShapeError(f"{self.name}: expected input of shape (B, C, ...) with a class dimension, "
                             f"got {tuple(input.shape)}")
        if not input.is_floating_point():
            raise DTypeError(f"{self.name}: expected a floating-point input, got {input.dtype}")
        if target.dtype == torch.bool or target.is_complex():
            raise DTypeError(f"{self.name}: expected integer class indices or float probabilities as target, "
                             f"got {target.dtype}")
        if target.is_floating_point():
            if target.shape != input.shape:
                raise ShapeError(f"{self.name}: expected probability target of the input's shape "
                                 f"{tuple(input.shape)}, got {tuple(target.shape)}")
            return False
        expected = (input.shape[0], *input.shape[2:])
        if tuple(target.shape) != expected:
            raise ShapeError(f"{self.name}: expected class-index target of shape {expected} for input "
                             f"{tuple(input.shape)}, got {tuple(target.shape)}")
        return True

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        indices = self._check(input, target)
        if indices:
            target = target.long()
        s = self.label_smoothing
        if self.from_logits:
            if not indices:
                target = target.to(input.dtype)
            per_sample = F.cross_entropy(input, target, label_smoothing=s, reduction="none")
        else:
            input = input.float() if input.dtype in (torch.float16, torch.bfloat16) else input
            log_p = torch.log(input.clamp(self.eps, 1.0 - self.eps))
            if indices:
                nll = -log_p.gather(1, target.unsqueeze(1)).squeeze(1)
                per_sample = (1.0 - s) * nll - s * log_p.mean(dim=1) if s else nll
            else:
                t = target.to(log_p.dtype)
                if s:
                    t = t * (1.0 - s) + s / input.shape[1]
                per_sample = -(t * log_p).sum(dim=1)
        return _reduce(per_sample, self.reduction)

    def extra_repr(self) -> str:
        return (f"from_logits={self.from_logits}, label_smoothing={self.label_smoothing}, "
                f"eps={self.eps}, reduction={self.reduction!r}")


_CLASSES: dict[str, type[_Loss]] = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "l1": MeanAbsoluteError,
    "huber": Huber,
    "binary_cross_entropy": BinaryCrossEntropy,
    "bce": BinaryCrossEntropy,
    "categorical_cross_entropy": CategoricalCrossEntropy,
    "cross_entropy": CategoricalCrossEntropy,
    "cce": CategoricalCrossEntropy,
}

#: every name ``make_loss`` accepts (aliases included)
LOSSES: tuple[str, ...] = tuple(sorted(_CLASSES))


def make_loss(name: str, **kwargs: object) -> nn.Module:
    """Build a loss module by name.

    Names: ``mse`` (``mean_squared_error``), ``mae`` (``mean_absolute_error``, ``l1``), ``huber`` (``delta=1.0``),
    ``binary_cross_entropy`` (``bce``), ``categorical_cross_entropy`` (``cross_entropy``, ``cce``). The
    cross-entropies take ``from_logits=True`` (False: probabilities, clamped to ``[eps, 1 − eps]``),
    ``label_smoothing=0.0`` and ``eps=1e-7``; every loss takes ``reduction="mean"`` (the mean over the batch, the
    cost), ``"sum"`` or ``"none"``. Case and ``-`` vs ``_`` do not matter.

    Args:
        name: loss name, one of :data:`LOSSES`.
        **kwargs: options of the loss class.

    Returns:
        An ``nn.Module`` called as ``loss(input, target)``.

    Raises:
        InputError: unknown name (the message lists the choices) or an option the loss does not take / a bad value.

    Example:
        >>> loss = make_loss("cross_entropy", label_smoothing=0.1)
        >>> round(float(loss(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))), 4)  # log 3
        1.0986
    """
    if not isinstance(name, str):
        raise InputError(f"loss name must be a str, got {type(name).__name__}; expected one of {list(LOSSES)}")
    key = name.strip().lower().replace("-", "_")
    if key not in _CLASSES:
        raise InputError(f"unknown loss {name!r}; expected one of {list(LOSSES)}")
    try:
        return _CLASSES[key](**kwargs)
    except TypeError as exc:
        raise InputError(f"loss {name!r} does not accept options {sorted(kwargs)}: {exc}") from exc
