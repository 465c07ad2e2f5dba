"""Learning-rate schedules by name over ``torch.optim.lr_scheduler``, each tagged with when it must be stepped.

Every schedule returned by :func:`make_schedule` is a plain torch scheduler with one extra attribute,
``schedule.interval`` ∈ {``"batch"``, ``"epoch"``}: the training loop calls ``schedule.step()`` after every
optimizer step (``"batch"``) or after every epoch (``"epoch"``). ``schedule.name`` holds the schedule's name. Both
attributes are saved by ``schedule.state_dict()``. In the formulas below ``t`` counts ``step()`` calls (epochs for
an ``"epoch"`` schedule) and ``lr0`` is each param group's learning rate when the schedule is built, so per-group
learning rates keep their ratios.

=============== ============================================ ============================================ ========
name            learning rate                                built on                                     interval
=============== ============================================ ============================================ ========
``time``        ``lr0 / (1 + decay·t)``                      ``LambdaLR`` (torch has no built-in)          epoch
``step``        ``lr0 · gamma^floor(t / step_size)``         ``StepLR``                                    epoch
``exponential`` ``lr0 · e^(−decay·t)``                       ``ExponentialLR(gamma=e^(−decay))``           epoch
``cosine``      ``min_lr + (lr0−min_lr)·(1+cos(π·t/T))/2``   ``CosineAnnealingLR``, ``T`` = epochs         epoch
``onecycle``    warm up to ``max_lr`` then anneal (Smith);   ``OneCycleLR``                                batch
                momentum does the mirror image (V shape)
``cyclic``      triangle between ``base_lr`` and ``max_lr``  ``CyclicLR(mode="triangular")``              batch
``triangular2`` the same, amplitude halved every cycle       ``CyclicLR(mode="triangular2")``              batch
``warmup``      ``lr0·(s + (1−s)·t/n)`` for ``t < n``, then  ``LinearLR`` + ``SequentialLR``               after's
                the ``after`` schedule started afresh
=============== ============================================ ============================================ ========

``time``, ``step``, ``exponential``, ``cosine`` and ``warmup`` accept ``interval="batch"`` to be stepped per batch;
their ``t`` (and ``step_size``, ``warmup_steps``, the cosine length) then count batches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler as sched

from vision.errors import InputError

__all__ = ["INTERVALS", "SCHEDULES", "make_schedule"]

SCHEDULES: tuple[str, ...] = ("time", "step", "exponential", "cosine", "onecycle", "cyclic", "triangular2", "warmup")
INTERVALS: tuple[str, ...] = ("batch", "epoch")
#: the schedules ``warmup`` can hand over to (``None`` = constant ``lr0``); one-cycle and cyclic have their own ramp
_AFTER: tuple[str, ...] = ("time", "step", "exponential", "cosine")

#: options each schedule accepts (besides ``steps_per_epoch``, ``epochs``)
_OPTIONS: dict[str, tuple[str, ...]] = {
    "time": ("decay", "interval"),
    "step": ("step_size", "gamma", "interval"),
    "exponential": ("decay", "interval"),
    "cosine": ("min_lr", "interval"),
    "onecycle": ("max_lr", "pct_start", "anneal", "div_factor", "final_div_factor", "cycle_momentum",
                 "base_momentum", "max_momentum"),
    "cyclic": ("max_lr", "base_lr", "step_size_up", "cycle_momentum", "base_momentum", "max_momentum"),
    "triangular2": ("max_lr", "base_lr", "step_size_up", "cycle_momentum", "base_momentum", "max_momentum"),
}
_WARMUP_OPTIONS = ("warmup_steps", "warmup_start", "after")


class TimeDecay:
    """``LambdaLR`` factor ``1 / (1 + decay·t)`` (a class, not a lambda, so the schedule's state_dict keeps it)."""

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def __call__(self, t: int) -> float:
        return 1.0 / (1.0 + self.decay * t)

    def __repr__(self) -> str:
        return f"TimeDecay(decay={self.decay})"


class Constant:
    """``LambdaLR`` factor 1 (the learning rate after a warm-up with no follow-up schedule)."""

    def __call__(self, t: int) -> float:
        return 1.0

    def __repr__(self) -> str:
        return "Constant()"


# --------------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------------
def _number(value: Any, name: str, schedule: str, *, low: float, high: float = math.inf, low_open: bool = False,
            high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"schedule {schedule!r}: {name} must be a finite number; got {value!r}")
    if (value <= low if low_open else value < low) or (value >= high if high_open else value > high):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise InputError(f"schedule {schedule!r}: {name} must lie in {lo}{low}, {high}{hi}; got {value!r}")
    return float(value)


def _count(value: Any, name: str, schedule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"schedule {schedule!r}: {name} must be an integer ≥ 1; got {value!r}")
    return value


def _required(value: Any, name: str, schedule: str, example: str) -> Any:
    if value is None:
        raise InputError(f"schedule {schedule!r} needs {name}= (e.g. {example}); got none")
    return value


def _per_group(value: Any, name: str, schedule: str, optimizer: torch.optim.Optimizer) -> list[float]:
    """A positive float or one per param group → a list with one value per group."""
    n = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise InputError(f"schedule {schedule!r}: {name} has {len(values)} values; expected one per param group "
                         f"({n}) or a single number")
    return [_number(v, name, schedule, low=0.0, low_open=True) for v in values]


# --------------------------------------------------------------------------------------------------
# the factory
# --------------------------------------------------------------------------------------------------
def make_schedule(
    optimizer: torch.optim.Optimizer,
    name: str,
    *,
    steps_per_epoch: int | None = None,
    epochs: int | None = None,
    interval: str | None = None,
    decay: float | None = None,
    step_size: int | None = None,
    gamma: float | None = None,
    min_lr: float | None = None,
    max_lr: float | list[float] | None = None,
    base_lr: float | list[float] | None = None,
    step_size_up: int | None = None,
    pct_start: float | None = None,
    anneal: str | None = None,
    div_factor: float | None = None,
    final_div_factor: float | None = None,
    cycle_momentum: bool | None = None,
    base_momentum: float | None = None,
    max_momentum: float | None = None,
    warmup_steps: int | None = None,
    warmup_start: float | None = None,
    after: str | None = None,
) -> sched.LRScheduler:
    """Build a named learning-rate schedule for ``optimizer`` (see the module table for the formulas).

    Build it on a fresh optimizer (its param groups' ``lr`` are taken as ``lr0``). An option that does not apply
    to the chosen schedule is refused rather than ignored.

    Args:
        optimizer: the ``torch.optim.Optimizer`` to drive.
        name: one of :data:`SCHEDULES`.
        steps_per_epoch: batches per epoch (``onecycle``; ``cyclic``/``triangular2`` without ``step_size_up``;
            ``cosine`` stepped per batch).
        epochs: training length (``onecycle``, ``cosine``).
        interval: ``"epoch"`` (default) or ``"batch"`` for ``time``/``step``/``exponential``/``cosine``/``warmup``;
            ``onecycle`` and the cyclic schedules are always ``"batch"``.
        decay: ``k`` ≥ 0 of ``time`` (``lr0/(1+k·t)``) and ``exponential`` (``lr0·e^(−k·t)``); required.
        step_size: ``n`` ≥ 1 of ``step``; required.
        gamma: factor in (0, 1] of ``step``; default 0.1.
        min_lr: floor of ``cosine``; default 0.
        max_lr: peak of ``onecycle``/``cyclic``/``triangular2``, one number or one per group; default each
            group's ``lr``.
        base_lr: trough of ``cyclic``/``triangular2``; default ``max_lr/10``.
        step_size_up: batches from trough to peak (half a cycle) of the cyclic schedules; default
            ``2·steps_per_epoch`` (Smith recommends 2–10 epochs).
        pct_start: ``onecycle`` fraction of the steps spent warming up; default 0.3.
        anneal: ``onecycle`` ``"cos"`` (default) or ``"linear"``.
        div_factor: ``onecycle`` start lr = ``max_lr/div_factor``; default 25.
        final_div_factor: ``onecycle`` final lr = start lr ``/final_div_factor``; default 1e4.
        cycle_momentum: cycle momentum (SGD/RMSprop ``momentum``, Adam ``β1``) opposite to the lr; default True
            for ``onecycle`` when the optimizer has momentum or betas, False for the cyclic schedules.
        base_momentum: momentum at the lr peak; default 0.85 (``onecycle``), 0.8 (cyclic).
        max_momentum: momentum at the lr trough; default 0.95 (``onecycle``), 0.9 (cyclic).
        warmup_steps: ``n`` ≥ 1 steps of linear warm-up; required for ``warmup``.
        warmup_start: ``s`` in (0, 1], the warm-up's first factor; default 0.01.
        after: the schedule after the warm-up (``time``, ``step``, ``exponential``, ``cosine``; ``None`` = keep
            ``lr0``), built from the remaining options and restarted at ``t = 0`` when the warm-up ends.

    Returns:
        The torch scheduler, with ``.interval`` and ``.name`` set.

    Raises:
        InputError: not an optimizer, unknown name or interval (the message lists the choices), a required
            option missing, an option out of range or not applicable to the schedule.

    Example:
        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        >>> s = make_schedule(opt, "step", step_size=10, gamma=0.5)
        >>> s.interval
        'epoch'
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise InputError(f"expected a torch.optim.Optimizer; got {type(optimizer).__name__}")
    if not isinstance(name, str) or name.lower() not in SCHEDULES:
        raise InputError(f"unknown schedule {name!r}; expected one of {', '.join(SCHEDULES)}")
    name = name.lower()
    given = {k: v for k, v in {
        "interval": interval, "decay": decay, "step_size": step_size, "gamma": gamma, "min_lr": min_lr,
        "max_lr": max_lr, "base_lr": base_lr, "step_size_up": step_size_up, "pct_start": pct_start,
        "anneal": anneal, "div_factor": div_factor, "final_div_factor": final_div_factor,
        "cycle_momentum": cycle_momentum, "base_momentum": base_momentum, "max_momentum": max_momentum,
        "warmup_steps": warmup_steps, "warmup_start": warmup_start, "after": after,
    }.items() if v is not None}
    if steps_per_epoch is not None:
        steps_per_epoch = _count(steps_per_epoch, "steps_per_epoch", name)
    if epochs is not None:
        epochs = _count(epochs, "epochs", name)

    if name == "warmup":
        if after is not None and (not isinstance(after, str) or after.lower() not in _AFTER):
            raise InputError(f"schedule 'warmup': after={after!r} is not supported; expected one of "
                             f"{', '.join(_AFTER)} or None (onecycle and the cyclic schedules have their own ramp)")
        inner = after.lower() if after is not None else None
        allowed = set(_WARMUP_OPTIONS) | set(_OPTIONS[inner] if inner else ("interval",))
    else:
        inner = None
        allowed = set(_OPTIONS[name])
    extra = sorted(set(given) - allowed)
    if extra:
        raise InputError(f"schedule {name!r}{f' (after={inner!r})' if inner else ''} does not take {extra}; "
                         f"it takes {sorted(allowed | {'steps_per_epoch', 'epochs'})}")
    if interval is not None and interval not in INTERVALS:
        raise InputError(f"schedule {name!r}: interval must be one of {', '.join(INTERVALS)}; got {interval!r}")
    opts = {k: v for k, v in given.items() if k not in _WARMUP_OPTIONS}

    if name != "warmup":
        result = _build(optimizer, name, steps_per_epoch, epochs, opts, offset=0)
    else:
        n = _count(_required(warmup_steps, "warmup_steps", name, "warmup_steps=500"), "warmup_steps", name)
        start = _number(0.01 if warmup_start is None else warmup_start, "warmup_start", name,
                        low=0.0, high=1.0, low_open=True)
        ramp = sched.LinearLR(optimizer, start_factor=start, end_factor=1.0, total_iters=n)
        if inner is None:
            rest = sched.LambdaLR(optimizer, Constant())
            rest.interval = opts.get("interval", "batch")  # type: ignore[attr-defined]
        else:
            rest = _build(optimizer, inner, steps_per_epoch, epochs, opts, offset=n)
        result = sched.SequentialLR(optimizer, [ramp, rest], milestones=[n])
        result.interval = rest.interval  # type: ignore[attr-defined]
    result.name = name  # type: ignore[attr-defined]
    return result


def _build(optimizer: torch.optim.Optimizer, name: str, steps_per_epoch: int | None, epochs: int | None,
           opts: Mapping[str, Any], *, offset: int) -> sched.LRScheduler:
    """One non-warm-up schedule with its ``interval``; ``offset`` steps are taken by a warm-up before it."""
    interval = opts.get("interval", "epoch")
    s: sched.LRScheduler
    if name == "time":
        k = _number(_required(opts.get("decay"), "decay", name, "decay=0.01"), "decay", name, low=0.0)
        s = sched.LambdaLR(optimizer, TimeDecay(k))
    elif name == "step":
        n = _count(_required(opts.get("step_size"), "step_size", name, "step_size=10"), "step_size", name)
        g = _number(opts.get("gamma", 0.1), "gamma", name, low=0.0, high=1.0, low_open=True)
        s = sched.StepLR(optimizer, step_size=n, gamma=g)
    elif name == "exponential":
        k = _number(_required(opts.get("decay"), "decay", name, "decay=0.05"), "decay", name, low=0.0)
        s = sched.ExponentialLR(optimizer, gamma=math.exp(-k))
    elif name == "cosine":
        total = _required(epochs, "epochs", name, "epochs=30")
        if interval == "batch":
            total *= _required(steps_per_epoch, "steps_per_epoch", name, "steps_per_epoch=100 with interval='batch'")
        if total - offset < 1:
            raise InputError(f"schedule 'cosine': {total} steps leave none after a {offset}-step warm-up; "
                             "expected more epochs or a shorter warm-up")
        floor = _number(opts.get("min_lr", 0.0), "min_lr", name, low=0.0)
        s = sched.CosineAnnealingLR(optimizer, T_max=total - offset, eta_min=floor)
    elif name == "onecycle":
        s = _one_cycle(optimizer, steps_per_epoch, epochs, opts)
        interval = "batch"
    else:  # cyclic, triangular2
        s = _cyclic(optimizer, name, steps_per_epoch, opts)
        interval = "batch"
    s.interval = interval  # type: ignore[attr-defined]
    s.name = name  # type: ignore[attr-defined]
    return s


def _has_momentum(optimizer: torch.optim.Optimizer) -> bool:
    return "momentum" in optimizer.defaults or "betas" in optimizer.defaults


def _momenta(optimizer: torch.optim.Optimizer, name: str, opts: Mapping[str, Any], *, cycle_default: bool,
             base: float, peak: float) -> tuple[bool, float, float]:
    cycle = opts.get("cycle_momentum", cycle_default and _has_momentum(optimizer))
    if not isinstance(cycle, bool):
        raise InputError(f"schedule {name!r}: cycle_momentum must be True or False; got {cycle!r}")
    if cycle and not _has_momentum(optimizer):
        raise InputError(f"schedule {name!r}: cycle_momentum=True needs an optimizer with momentum or betas "
                         f"(SGD, RMSprop, Adam, AdamW); got {type(optimizer).__name__}")
    if not cycle and ("base_momentum" in opts or "max_momentum" in opts):
        raise InputError(f"schedule {name!r}: base_momentum/max_momentum need cycle_momentum=True")
    lo = _number(opts.get("base_momentum", base), "base_momentum", name, low=0.0, high=1.0, high_open=True)
    hi = _number(opts.get("max_momentum", peak), "max_momentum", name, low=0.0, high=1.0, high_open=True)
    if lo > hi:
        raise InputError(f"schedule {name!r}: base_momentum ({lo}) must not exceed max_momentum ({hi})")
    return cycle, lo, hi


def _one_cycle(optimizer: torch.optim.Optimizer, steps_per_epoch: int | None, epochs: int | None,
               opts: Mapping[str, Any]) -> sched.OneCycleLR:
    name = "onecycle"
    spe = _required(steps_per_epoch, "steps_per_epoch", name, "steps_per_epoch=len(train_loader)")
    ep = _required(epochs, "epochs", name, "epochs=10")
    peak = _per_group(opts.get("max_lr", [g["lr"] for g in optimizer.param_groups]), "max_lr", name, optimizer)
    pct = _number(opts.get("pct_start", 0.3), "pct_start", name, low=0.0, high=1.0, low_open=True, high_open=True)
    anneal = opts.get("anneal", "cos")
    if anneal not in ("cos", "linear"):
        raise InputError(f"schedule 'onecycle': anneal must be 'cos' or 'linear'; got {anneal!r}")
    div = _number(opts.get("div_factor", 25.0), "div_factor", name, low=1.0)
    final = _number(opts.get("final_div_factor", 1e4), "final_div_factor", name, low=1.0)
    cycle, lo, hi = _momenta(optimizer, name, opts, cycle_default=True, base=0.85, peak=0.95)
    return sched.OneCycleLR(optimizer, max_lr=peak, epochs=ep, steps_per_epoch=spe, pct_start=pct,
                            anneal_strategy=anneal, div_factor=div, final_div_factor=final,
                            cycle_momentum=cycle, base_momentum=lo, max_momentum=hi)


def _cyclic(optimizer: torch.optim.Optimizer, name: str, steps_per_epoch: int | None,
            opts: Mapping[str, Any]) -> sched.CyclicLR:
    peak = _per_group(opts.get("max_lr", [g["lr"] for g in optimizer.param_groups]), "max_lr", name, optimizer)
    trough = _per_group(opts.get("base_lr", [p / 10.0 for p in peak]), "base_lr", name, optimizer)
    for lo, hi in zip(trough, peak):
        if lo >= hi:
            raise InputError(f"schedule {name!r}: base_lr ({lo}) must be below max_lr ({hi})")
    if "step_size_up" in opts:
        up = _count(opts["step_size_up"], "step_size_up", name)
    else:
        up = 2 * _required(steps_per_epoch, "steps_per_epoch (or step_size_up)", name,
                           "steps_per_epoch=len(train_loader)")
    cycle, lo_m, hi_m = _momenta(optimizer, name, opts, cycle_default=False, base=0.8, peak=0.9)
    mode = "triangular" if name == "cyclic" else "triangular2"
    return sched.CyclicLR(optimizer, base_lr=trough, max_lr=peak, step_size_up=up, mode=mode,
                          cycle_momentum=cycle, base_momentum=lo_m, max_momentum=hi_m)
