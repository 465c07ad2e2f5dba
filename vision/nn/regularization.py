"""Regularisation helpers: gradient clipping, L1/L2 penalties, batch-norm freezing, parameter counts.

Dropout is ``torch.nn.Dropout`` (``Dropout2d`` for feature maps) and is not wrapped here. Gradient clipping is
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``; with AMP, call ``GradScaler.unscale_(optimizer)`` before
clipping so the bounds apply to the true gradients.

L2 penalty vs weight decay: ``l2_penalty(model, λ)`` adds ``λ/2·Σw²`` to the loss, whose gradient ``λ·w`` is what
torch's (non-decoupled) ``weight_decay=λ`` adds; so for plain SGD the two give the same updates. Keras'
``regularizers.l2(x)`` adds ``x·Σw²``, i.e. ``λ = 2x`` here. For adaptive optimisers the two differ (and AdamW's
decoupled decay is no loss term at all), which is why both exist.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from vision.errors import InputError

__all__ = [
    "clip_gradients",
    "count_parameters",
    "freeze_batchnorm",
    "l1_penalty",
    "l2_penalty",
    "select_parameters",
    "unfreeze_batchnorm",
]

_NORM_LAYERS = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
    nn.GroupNorm, nn.LayerNorm, nn.RMSNorm, nn.LocalResponseNorm,
)
_BATCHNORM = nn.modules.batchnorm._BatchNorm  # BatchNorm1d/2d/3d, their lazy forms and SyncBatchNorm
_FROZEN_FLAG = "_vision_bn_frozen"

ParamInclude = Callable[[str, nn.Parameter, nn.Module], bool] | str | Sequence[str] | None


def _positive(label: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{label} must be a finite number > 0 or None, got {value!r}")
    return float(value)


def clip_gradients(
    model_or_params: nn.Module | torch.Tensor | Iterable[torch.Tensor],
    *,
    max_norm: float | None = None,
    max_value: float | None = None,
    norm_type: float = 2.0,
) -> torch.Tensor:
    """Clip gradients in place by value and/or by total norm; return the total gradient norm before clipping.

    With both bounds, each element is first clamped to ``[−max_value, max_value]``, then the whole gradient is
    rescaled to total norm ≤ ``max_norm``. Parameters without a gradient are skipped.

    Args:
        model_or_params: a module, one tensor, or an iterable of tensors whose ``.grad`` to clip.
        max_norm: bound on the total ``norm_type``-norm of all gradients together (``clip_grad_norm_``).
        max_value: bound on each gradient element's absolute value (``clip_grad_value_``).
        norm_type: the norm measured and bounded (2 = Euclidean, ``inf`` = max).

    Returns:
        The total norm before clipping as a 0-d tensor on the gradients' device (``.item()`` syncs with the device).

    Raises:
        InputError: neither bound given, or a bound that is not a finite number > 0.
    """
    max_norm = _positive("max_norm", max_norm)
    max_value = _positive("max_value", max_value)
    if max_norm is None and max_value is None:
        raise InputError("clip_gradients needs max_norm and/or max_value, got neither")
    if isinstance(model_or_params, nn.Module):
        params = list(model_or_params.parameters())
    elif isinstance(model_or_params, torch.Tensor):
        params = [model_or_params]
    else:
        params = list(model_or_params)
    params = [p for p in params if p.grad is not None]
    if max_value is None:
        return nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    total = nn.utils.get_total_norm([p.grad for p in params], norm_type=norm_type)
    nn.utils.clip_grad_value_(params, max_value)
    if max_norm is not None:
        nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return total


def preview_names(names: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


def name_patterns(spec: Any, where: str) -> list[str]:
    if isinstance(spec, str):
        spec = [spec]
    if (not isinstance(spec, Sequence) or isinstance(spec, (str, bytes)) or not spec
            or not all(isinstance(s, str) and s for s in spec)):
        raise InputError(f"{where}: 'params' must be a glob pattern or a non-empty list of glob patterns on "
                         f"parameter names (e.g. 'backbone.*'); got {spec!r}")
    return list(spec)


def _check_coeff(coeff: float) -> float:
    if isinstance(coeff, bool) or not isinstance(coeff, (int, float)) or not math.isfinite(coeff) or coeff < 0:
        raise InputError(f"penalty coeff must be a finite number >= 0, got {coeff!r}")
    return float(coeff)


def _is_weight(name: str, param: nn.Parameter, module: nn.Module) -> bool:
    """Default filter: not a bias and not a parameter of a normalization layer."""
    return not name.rsplit(".", 1)[-1].startswith("bias") and not isinstance(module, _NORM_LAYERS)


def select_parameters(model: nn.Module, include: ParamInclude) -> list[nn.Parameter]:
    """The trainable parameters of ``model`` that ``include`` selects (see :func:`l2_penalty`)."""
    if not isinstance(model, nn.Module):
        raise InputError(f"expected an nn.Module; got {type(model).__name__}")
    entries = []  # (full name, parameter, owning module); shared parameters once
    seen: set[int] = set()
    for mod_name, module in model.named_modules():
        for p_name, p in module.named_parameters(recurse=False):
            if id(p) in seen or not p.requires_grad:
                continue
            seen.add(id(p))
            entries.append((f"{mod_name}.{p_name}" if mod_name else p_name, p, module))
    if include is None:
        return [p for n, p, m in entries if _is_weight(n, p, m)]
    if callable(include):
        return [p for n, p, m in entries if include(n, p, m)]
    pats = name_patterns(include, "include")
    names = [n for n, _, _ in entries]
    for pat in pats:
        if not any(fnmatch.fnmatchcase(n, pat) for n in names):
            raise InputError(f"include: pattern {pat!r} matches no trainable parameter of "
                             f"{type(model).__name__}; parameter names are: {preview_names(names)}")
    return [p for n, p, _ in entries if any(fnmatch.fnmatchcase(n, pat) for pat in pats)]


def l2_penalty(model: nn.Module, coeff: float, *, include: ParamInclude = None) -> torch.Tensor:
    """The explicit L2 loss term ``coeff/2 · Σ w²`` over the selected parameters of ``model``.

    Its gradient is ``coeff·w``, the same as torch's ``weight_decay=coeff`` (see the module docstring).

    Args:
        model: the network.
        coeff: ≥ 0.
        include: which trainable parameters: ``None`` (default) = all but biases and the parameters of
            normalization layers (BatchNorm/InstanceNorm/LayerNorm/GroupNorm/RMSNorm); glob pattern(s) on parameter
            names (``"head.*"``, ``["*.weight"]``); or a callable ``(name, parameter, module) -> bool``.

    Returns:
        A scalar tensor (differentiable; zero when nothing is selected or ``coeff == 0``).

    Raises:
        InputError: not a module, ``coeff`` negative or not finite, a pattern that matches no parameter.
    """
    coeff = _check_coeff(coeff)
    params = select_parameters(model, include)
    return sum_squares(params, model) * (coeff / 2.0)


def l1_penalty(model: nn.Module, coeff: float, *, include: ParamInclude = None) -> torch.Tensor:
    """The explicit L1 loss term ``coeff · Σ |w|`` over the selected parameters (``include`` as in l2_penalty).

    Raises:
        InputError: not a module, ``coeff`` negative or not finite, a pattern that matches no parameter.
    """
    coeff = _check_coeff(coeff)
    params = select_parameters(model, include)
    return sum_abs(params, model) * coeff


def zero_like_model(model: nn.Module) -> torch.Tensor:
    p = next(model.parameters(), None)
    return torch.zeros((), device=p.device if p is not None else "cpu",
                       dtype=p.dtype if p is not None and p.is_floating_point() else torch.float32)


def sum_squares(params: Sequence[torch.Tensor], model: nn.Module) -> torch.Tensor:
    return torch.stack([p.pow(2).sum() for p in params]).sum() if params else zero_like_model(model)


def sum_abs(params: Sequence[torch.Tensor], model: nn.Module) -> torch.Tensor:
    return torch.stack([p.abs().sum() for p in params]).sum() if params else zero_like_model(model)


def _keep_frozen_bn_in_eval(module: nn.Module, args: tuple) -> None:
    """Forward pre-hook: a frozen BN layer always normalises with its running statistics, even after ``.train()``."""
    if getattr(module, _FROZEN_FLAG, False):
        module.training = False


def freeze_batchnorm(model: nn.Module) -> list[str]:
    """Freeze every BatchNorm layer: running statistics fixed, affine parameters not trained.

    Each BN layer is put in eval mode, its parameters get ``requires_grad=False``, and a forward pre-hook keeps it in
    eval mode when ``model.train()`` is called later (as a training loop does each epoch), so a forward pass in train
    mode normalises with the stored statistics and does not update them. Undo with :func:`unfreeze_batchnorm`.
    Build the optimizer after freezing (or it still holds the frozen parameters, harmlessly without gradients).

    Args:
        model: the model (or a single BN layer).

    Returns:
        The names of the frozen layers (``""`` for ``model`` itself).

    Raises:
        InputError: ``model`` is not a Module.
    """
    if not isinstance(model, nn.Module):
        raise InputError(f"freeze_batchnorm expects an nn.Module, got {type(model).__name__}")
    frozen = []
    for name, m in model.named_modules():
        if not isinstance(m, _BATCHNORM):
            continue
        if not hasattr(m, _FROZEN_FLAG):
            m.register_forward_pre_hook(_keep_frozen_bn_in_eval)
        setattr(m, _FROZEN_FLAG, True)
        m.eval()
        for p in m.parameters(recurse=False):
            p.requires_grad_(False)
        frozen.append(name)
    return frozen


def unfreeze_batchnorm(model: nn.Module) -> list[str]:
    """Undo :func:`freeze_batchnorm`: BN layers follow the model's train/eval mode and train their parameters again.

    Args:
        model: the model.

    Returns:
        The names of the unfrozen layers.

    Raises:
        InputError: ``model`` is not a Module.
    """
    if not isinstance(model, nn.Module):
        raise InputError(f"unfreeze_batchnorm expects an nn.Module, got {type(model).__name__}")
    thawed = []
    for name, m in model.named_modules():
        if isinstance(m, _BATCHNORM) and getattr(m, _FROZEN_FLAG, False):
            setattr(m, _FROZEN_FLAG, False)
            m.train(model.training)
            for p in m.parameters(recurse=False):
                p.requires_grad_(True)
            thawed.append(name)
    return thawed


def count_parameters(model: nn.Module, *, trainable_only: bool = True) -> int:
    """Count the parameters (scalars) of ``model``, each shared parameter once.

    Args:
        model: the model.
        trainable_only: count only parameters with ``requires_grad=True``.

    Returns:
        The number of scalars.

    Raises:
        InputError: ``model`` is not a Module, or it has lazy parameters not yet materialised.
    """
    if not isinstance(model, nn.Module):
        raise InputError(f"count_parameters expects an nn.Module, got {type(model).__name__}")
    total = 0
    for name, p in model.named_parameters():
        if isinstance(p, nn.parameter.UninitializedParameter):
            raise InputError(f"parameter {name!r} is uninitialised (lazy); run one forward pass before counting")
        if p.requires_grad or not trainable_only:
            total += p.numel()
    return total
