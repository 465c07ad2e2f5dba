"""Optimizers over ``torch.optim``: one factory, per-layer-group learning rates, L1/L2 penalties and EMA averaging.

Weight decay and an L2 penalty are two distinct options here, and the difference is precise:

* ``weight_decay`` is passed to the torch optimizer unchanged. For **AdamW** it is *decoupled* weight decay
  (Loshchilov & Hutter): every step multiplies each weight by ``1 − lr·weight_decay`` outside the adaptive
  update, so the decay is not rescaled by Adam's per-coordinate ``1/(√v̂+ε)``. For **SGD, Adagrad, Adadelta,
  RMSprop and Adam** torch's ``weight_decay`` is *not* decoupled: it adds ``weight_decay·w`` to the gradient
  before the update rule, which is exactly the gradient of the penalty ``weight_decay/2·‖w‖²``; with an adaptive
  optimizer that term is then divided by ``√v̂+ε`` like the rest of the gradient. It applies to every parameter
  of its group (biases and norm layers included, unless a param group sets ``weight_decay=0`` for them).
* ``l2`` (and ``l1``) is an explicit penalty *added to the loss* — ``l2/2·Σw²`` (``l1·Σ|w|``) over weights only
  (biases and normalization-layer parameters excluded by default). The optimizer never applies it by itself;
  :func:`make_optimizer` records it in each param group (keys ``"l2"`` / ``"l1"``, saved in the optimizer's
  ``state_dict``) and :func:`regularization_penalty` turns it into the loss term the training loop adds.
  :func:`l2_penalty` / :func:`l1_penalty` compute the same term directly from a model.

Consequences (all checked by the tests): with plain SGD, ``weight_decay=c`` and ``l2=c`` give identical updates
(on the same parameters); with Adam, torch's ``weight_decay=c`` equals the ``l2=c`` loss term, while AdamW's
decoupled ``weight_decay=c`` gives a different trajectory. Our ``l2`` coefficient follows torch's convention
(gradient ``l2·w``); Keras' ``regularizers.l2(x)`` adds ``x·Σw²``, i.e. it equals ``l2=2x`` here.
"""

from __future__ import annotations

import fnmatch
import inspect
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from vision.errors import InputError
from vision.nn.regularization import (
    ParamInclude,
    l1_penalty,
    l2_penalty,
    name_patterns,
    preview_names,
    select_parameters,
    sum_abs,
    sum_squares,
    zero_like_model,
)

__all__ = [
    "OPTIMIZERS",
    "l1_penalty",
    "l2_penalty",
    "make_ema",
    "make_optimizer",
    "regularization_penalty",
]

logger = logging.getLogger(__name__)

#: optimizer names accepted by :func:`make_optimizer`, mapped to their ``torch.optim`` class name
_CLASSES: dict[str, str] = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}
OPTIMIZERS: tuple[str, ...] = tuple(_CLASSES)

_MOMENTUM = ("sgd", "rmsprop")
_BETAS = ("adam", "adamw")
_PENALTY_KEYS = ("l1", "l2")


# --------------------------------------------------------------------------------------------------
# parameters and their names
# --------------------------------------------------------------------------------------------------
def _named_trainable(params_or_model: Any) -> tuple[list[tuple[str, nn.Parameter]], bool]:
    """``([(name, parameter)], named)`` of the trainable parameters; ``named`` is False for a bare iterable."""
    if isinstance(params_or_model, nn.Module):
        pairs = [(n, p) for n, p in params_or_model.named_parameters() if p.requires_grad]
        if not pairs:
            raise InputError(f"{type(params_or_model).__name__} has no trainable parameters "
                             "(all have requires_grad=False); expected at least one")
        return pairs, True
    if isinstance(params_or_model, (torch.Tensor, str, bytes, Mapping)) or not isinstance(params_or_model, Iterable):
        raise InputError(f"expected an nn.Module, an iterable of parameters or of (name, parameter) pairs; "
                         f"got {type(params_or_model).__name__}")
    items = list(params_or_model)
    if not items:
        raise InputError("got an empty parameter list; expected at least one parameter to optimize")
    if all(isinstance(it, tuple) and len(it) == 2 and isinstance(it[0], str) and isinstance(it[1], torch.Tensor)
           for it in items):
        pairs, named = [(n, p) for n, p in items], True
    elif all(isinstance(it, torch.Tensor) for it in items):
        pairs, named = [(f"{i}", p) for i, p in enumerate(items)], False
    else:
        kinds = sorted({type(it).__name__ for it in items})
        raise InputError(f"expected parameters (tensors) or (name, tensor) pairs; got items of type {kinds}")
    seen: set[int] = set()
    unique = []
    for n, p in pairs:  # a parameter listed twice would be updated twice per step
        if id(p) not in seen:
            seen.add(id(p))
            unique.append((n, p))
    trainable = [(n, p) for n, p in unique if p.requires_grad]
    if not trainable:
        raise InputError("none of the given parameters requires grad; expected at least one trainable parameter")
    return trainable, named


# --------------------------------------------------------------------------------------------------
# the factory
# --------------------------------------------------------------------------------------------------
def _check_number(value: Any, name: str, *, low: float, high: float = math.inf, low_open: bool = False,
                  high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name} must be a finite number; got {value!r}")
    bad_low = value <= low if low_open else value < low
    bad_high = value >= high if high_open else value > high
    if bad_low or bad_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise InputError(f"{name} must lie in {lo}{low}, {high}{hi}; got {value!r}")
    return float(value)


def _hyper_names(cls: type[torch.optim.Optimizer]) -> set[str]:
    """The keyword hyper-parameters a torch optimizer class accepts (what a param group may override)."""
    return {n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "params")}


def make_optimizer(
    params_or_model: nn.Module | Iterable[nn.Parameter] | Iterable[tuple[str, nn.Parameter]],
    name: str = "sgd",
    *,
    lr: float,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    l2: float = 0.0,
    l1: float = 0.0,
    betas: tuple[float, float] | None = None,
    eps: float | None = None,
    param_groups: Sequence[Mapping[str, Any]] | None = None,
    options: Mapping[str, Any] | None = None,
) -> torch.optim.Optimizer:
    """Build a ``torch.optim`` optimizer by name, with optional per-layer-group learning rates.

    Only trainable parameters (``requires_grad``) are optimized. With ``param_groups`` every parameter lands in
    exactly one group: the first group whose glob pattern (``fnmatch``, on the names of
    ``model.named_parameters()``) matches it, or else the default group built from the factory's own arguments;
    the groups keep the given order and the default group comes last (left out when it would be empty). Each
    group has a ``"name"`` key (its pattern(s), or ``"default"``) and, with a model, ``"param_names"``.

    See the module docstring for ``weight_decay`` (torch's, decoupled only for AdamW) versus ``l2``/``l1``
    (explicit loss terms applied by :func:`regularization_penalty`).

    Args:
        params_or_model: an ``nn.Module``, an iterable of parameters, or of ``(name, parameter)`` pairs
            (``param_groups`` needs names).
        name: one of :data:`OPTIMIZERS` (``"sgd"``, ``"adagrad"``, ``"adadelta"``, ``"rmsprop"``, ``"adam"``,
            ``"adamw"``), case-insensitive.
        lr: learning rate (> 0) of the default group.
        momentum: in [0, 1); SGD and RMSprop only.
        nesterov: Nesterov momentum; SGD with ``momentum > 0`` only.
        weight_decay: ≥ 0, torch's ``weight_decay`` (decoupled for AdamW, an L2 gradient term otherwise).
        l2: ≥ 0, coefficient of the explicit ``l2/2·Σw²`` loss term (see :func:`regularization_penalty`).
        l1: ≥ 0, coefficient of the explicit ``l1·Σ|w|`` loss term.
        betas: Adam/AdamW ``(β1, β2)``; ``None`` keeps torch's ``(0.9, 0.999)``.
        eps: numerical-stability term; ``None`` keeps torch's default for the optimizer.
        param_groups: e.g. ``[{"params": "backbone.*", "lr": 1e-4}, {"params": ["head.*"], "lr": 1e-2}]``;
            any other key must be a hyper-parameter of the chosen optimizer, ``"l1"`` or ``"l2"``.
        options: further keyword arguments for the torch class, passed verbatim (e.g. ``{"amsgrad": True}``,
            ``{"alpha": 0.9}``, ``{"rho": 0.95}``).

    Returns:
        The ``torch.optim.Optimizer``.

    Raises:
        InputError: unknown name (the message lists the choices); an argument out of range or not applicable to
            the optimizer; a malformed group; a pattern matching no trainable parameter (the message lists the
            parameter names); a group left empty because earlier groups took all its matches; no trainable
            parameters.

    Example:
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> opt = make_optimizer(net, "sgd", lr=0.1, momentum=0.9,
        ...                      param_groups=[{"params": "0.*", "lr": 0.01}])
        >>> [g["lr"] for g in opt.param_groups]
        [0.01, 0.1]
    """
    if not isinstance(name, str) or name.lower() not in _CLASSES:
        raise InputError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    key = name.lower()
    cls: type[torch.optim.Optimizer] = getattr(torch.optim, _CLASSES[key])

    lr = _check_number(lr, "lr", low=0.0, low_open=True)
    momentum = _check_number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    weight_decay = _check_number(weight_decay, "weight_decay", low=0.0)
    l2 = _check_number(l2, "l2", low=0.0)
    l1 = _check_number(l1, "l1", low=0.0)
    if not isinstance(nesterov, bool):
        raise InputError(f"nesterov must be True or False; got {nesterov!r}")
    if momentum and key not in _MOMENTUM:
        raise InputError(f"momentum applies to {', '.join(_MOMENTUM)}; got momentum={momentum} for {key!r} "
                         "(Adam/AdamW use betas)")
    if nesterov and (key != "sgd" or momentum == 0.0):
        raise InputError(f"nesterov=True needs name='sgd' and momentum > 0; got name={key!r}, momentum={momentum}")
    if betas is not None:
        if key not in _BETAS:
            raise InputError(f"betas apply to {', '.join(_BETAS)}; got betas={betas!r} for {key!r}")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise InputError(f"betas must be a pair (β1, β2); got {betas!r}")
        betas = (_check_number(betas[0], "betas[0]", low=0.0, high=1.0, high_open=True),
                 _check_number(betas[1], "betas[1]", low=0.0, high=1.0, high_open=True))
    if eps is not None:
        eps = _check_number(eps, "eps", low=0.0, low_open=True)

    hyper = _hyper_names(cls)
    kwargs: dict[str, Any] = {"lr": lr, "weight_decay": weight_decay}
    if key in _MOMENTUM:
        kwargs["momentum"] = momentum
    if key == "sgd":
        kwargs["nesterov"] = nesterov
    if betas is not None:
        kwargs["betas"] = betas
    if eps is not None:
        kwargs["eps"] = eps
    if options:
        if not isinstance(options, Mapping):
            raise InputError(f"options must be a mapping of keyword arguments; got {type(options).__name__}")
        unknown = sorted(set(options) - hyper)
        if unknown:
            raise InputError(f"options {unknown} are not arguments of torch.optim.{cls.__name__}; "
                             f"expected some of {', '.join(sorted(hyper))}")
        clash = sorted(set(options) & set(kwargs))
        if clash:
            raise InputError(f"options {clash} repeat the factory's own arguments; pass them as keywords instead")
        kwargs.update(options)

    pairs, named = _named_trainable(params_or_model)
    groups = _build_groups(pairs, named, param_groups, hyper | set(_PENALTY_KEYS) - {"params"}, key)
    for g in groups:
        g.setdefault("l2", l2)
        g.setdefault("l1", l1)
        for k in _PENALTY_KEYS:
            g[k] = _check_number(g[k], f"param group {g['name']!r}: {k}", low=0.0)
        if "lr" in g:
            g["lr"] = _check_number(g["lr"], f"param group {g['name']!r}: lr", low=0.0, low_open=True)
    try:
        optimizer = cls(groups, **kwargs)
    except (ValueError, TypeError) as exc:  # torch's own range checks (e.g. a group's lr < 0)
        raise InputError(f"torch.optim.{cls.__name__} refused the arguments: {exc}") from exc
    optimizer.defaults.setdefault("l2", l2)
    optimizer.defaults.setdefault("l1", l1)
    logger.debug("built %s with %d param group(s): %s", cls.__name__, len(groups),
                 [(g["name"], len(g["params"]), g.get("lr", lr)) for g in groups])
    return optimizer


def _build_groups(pairs: list[tuple[str, nn.Parameter]], named: bool, specs: Any, allowed: set[str],
                  key: str) -> list[dict[str, Any]]:
    """Split ``pairs`` into torch param groups by the glob patterns of ``specs`` (first match wins)."""
    def group(name: str, members: list[tuple[str, nn.Parameter]], extra: Mapping[str, Any]) -> dict[str, Any]:
        g: dict[str, Any] = {"params": [p for _, p in members], "name": name, **extra}
        if named:
            g["param_names"] = [n for n, _ in members]
        return g

    if specs is None:
        return [group("default", pairs, {})]
    if isinstance(specs, (str, Mapping)) or not isinstance(specs, Sequence):
        raise InputError(f"param_groups must be a list of dicts like {{'params': 'backbone.*', 'lr': 1e-4}}; "
                         f"got {type(specs).__name__}")
    if not named:
        raise InputError("param_groups select parameters by name; pass the nn.Module (or (name, parameter) pairs) "
                         "instead of a bare parameter list")
    names = [n for n, _ in pairs]
    taken: set[str] = set()
    groups = []
    for i, spec in enumerate(specs):
        where = f"param_groups[{i}]"
        if not isinstance(spec, Mapping) or "params" not in spec:
            raise InputError(f"{where}: expected a dict with a 'params' glob pattern; got {spec!r}")
        bad = sorted(set(spec) - allowed - {"params"})
        if bad:
            raise InputError(f"{where}: keys {bad} are not hyper-parameters of {key!r}; "
                             f"expected some of {', '.join(sorted(allowed))}")
        pats = name_patterns(spec["params"], where)
        for pat in pats:
            if not any(fnmatch.fnmatchcase(n, pat) for n in names):
                raise InputError(f"{where}: pattern {pat!r} matches no trainable parameter; "
                                 f"parameter names are: {preview_names(names)}")
        members = [(n, p) for n, p in pairs
                   if n not in taken and any(fnmatch.fnmatchcase(n, pat) for pat in pats)]
        if not members:
            raise InputError(f"{where}: every parameter matching {pats} is already in an earlier group "
                             "(the first matching group wins); expected this group to receive at least one")
        taken.update(n for n, _ in members)
        groups.append(group(pats[0] if len(pats) == 1 else ",".join(pats), members,
                            {k: v for k, v in spec.items() if k != "params"}))
    rest = [(n, p) for n, p in pairs if n not in taken]
    if rest:
        groups.append(group("default", rest, {}))
    return groups


# --------------------------------------------------------------------------------------------------
# explicit penalties
# --------------------------------------------------------------------------------------------------
def regularization_penalty(model: nn.Module, optimizer: torch.optim.Optimizer, *,
                           include: ParamInclude = None) -> torch.Tensor:
    """The loss term of the ``l2``/``l1`` coefficients stored in ``optimizer``'s param groups.

    Sums ``group["l2"]/2·Σw² + group["l1"]·Σ|w|`` over each group's parameters that ``include`` selects (default:
    weights only, no biases or normalization layers). The training loop adds it to the data loss; groups without
    the keys (an optimizer not built by :func:`make_optimizer`) contribute nothing.

    Args:
        model: the network whose parameters the optimizer holds (it gives names and module types).
        optimizer: typically from :func:`make_optimizer`.
        include: as in :func:`l2_penalty`.

    Returns:
        A scalar tensor (zero when every coefficient is zero).

    Raises:
        InputError: not a module / optimizer, or an ``include`` pattern that matches nothing.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InputError(f"expected a torch.optim.Optimizer; got {type(optimizer).__name__}")
    active = [g for g in optimizer.param_groups if g.get("l2", 0.0) or g.get("l1", 0.0)]
    if not isinstance(model, nn.Module):
        raise InputError(f"expected an nn.Module; got {type(model).__name__}")
    if not active:
        return zero_like_model(model)
    chosen = {id(p) for p in select_parameters(model, include)}
    total = zero_like_model(model)
    for g in active:
        params = [p for p in g["params"] if id(p) in chosen]
        if g.get("l2", 0.0):
            total = total + sum_squares(params, model) * (g["l2"] / 2.0)
        if g.get("l1", 0.0):
            total = total + sum_abs(params, model) * g["l1"]
    return total


# --------------------------------------------------------------------------------------------------
# weight averaging
# --------------------------------------------------------------------------------------------------
def make_ema(model: nn.Module, *, decay: float | None = 0.999, use_buffers: bool = True,
             device: torch.device | str | None = None) -> torch.optim.swa_utils.AveragedModel:
    """An exponential-moving-average (or Polyak) copy of ``model`` via ``torch.optim.swa_utils.AveragedModel``.

    Call ``ema.update_parameters(model)`` after each optimizer step; evaluate or save ``ema.module``. The first
    update copies the weights; later ones do ``ema = decay·ema + (1 − decay)·w`` (``get_ema_multi_avg_fn``).
    ``decay=None`` gives Polyak–Ruppert averaging instead: the equal-weight running mean of all updates
    (``get_swa_multi_avg_fn``, as in SWA).

    BatchNorm: with ``use_buffers=True`` (default) the running mean/var buffers are averaged with the same rule,
    so ``ema.module`` is usable as is. With ``use_buffers=False`` only parameters are averaged and the buffers
    keep the copy made at construction — then recompute them after training with
    ``torch.optim.swa_utils.update_bn(train_loader, ema)`` before evaluating a model that has BatchNorm.

    Args:
        model: the network being trained.
        decay: in (0, 1); closer to 1 averages over more steps (≈ ``1/(1−decay)``). ``None`` = Polyak mean.
        use_buffers: average buffers too (see above).
        device: where to keep the average (``None`` = the model's device).

    Returns:
        The ``AveragedModel`` (its ``state_dict`` includes ``n_averaged``, so it checkpoints and resumes).

    Raises:
        InputError: not a module, ``decay`` outside (0, 1).
    """
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, get_swa_multi_avg_fn

    if not isinstance(model, nn.Module):
        raise InputError(f"expected an nn.Module; got {type(model).__name__}")
    if decay is None:
        fn = get_swa_multi_avg_fn()
    else:
        decay = _check_number(decay, "decay", low=0.0, high=1.0, low_open=True, high_open=True)
        fn = get_ema_multi_avg_fn(decay)
    return AveragedModel(model, device=device, multi_avg_fn=fn, use_buffers=bool(use_buffers))
