"""The learning-rate range test (Smith 2015, popularised by fast.ai): sweep the LR exponentially, watch the loss.

Hand-written: neither torch nor another maintained dependency of the suite ships one (``torch-lr-finder`` and
fast.ai's ``lr_find`` are not dependencies). The sweep trains the real model for at most one epoch with
``lr_i = start · q^i``, ``q = (end/start)^(1/(steps−1))``, keeps an exponentially smoothed, bias-corrected loss
``s_i = a_i / (1 − β^(i+1))`` with ``a_i = β·a_{i−1} + (1−β)·loss_i``, and stops once
``s_i > diverge · min s``.
The model's weights and buffers, the optimizer's state, the train/eval mode and the global RNG state are restored
afterwards, so the test leaves no trace on the training that follows.
"""

from __future__ import annotations

import copy
import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError

__all__ = ["LRFinderResult", "lr_range_test"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LRFinderResult:
    """The outcome of :func:`lr_range_test`.

    Attributes:
        lrs: the learning rate of each step that ran.
        losses: the raw batch loss of each step.
        smoothed: the smoothed, bias-corrected loss of each step.
        suggested_lr: one order of magnitude below ``min_loss_lr`` — the learning rate to train with.
        min_loss_lr: the learning rate where the smoothed loss is lowest (after the first ``skip_start`` steps).
        steepest_lr: the learning rate where the smoothed loss falls fastest per decade of LR, on the descent from
            the highest smoothed loss (after ``skip_start``) to the minimum.
        diverged: True when the sweep stopped early because the loss exceeded ``diverge ×`` its best value (or
            became NaN/inf).
        skip_start: the number of first steps ignored by the suggestions.
        start, end, steps: the requested sweep.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggested_lr: float
    min_loss_lr: float
    steepest_lr: float
    diverged: bool
    skip_start: int
    start: float
    end: float
    steps: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists of floats)."""
        return {
            "lrs": [float(v) for v in self.lrs],
            "losses": [float(v) for v in self.losses],
            "smoothed": [float(v) for v in self.smoothed],
            "suggested_lr": self.suggested_lr,
            "min_loss_lr": self.min_loss_lr,
            "steepest_lr": self.steepest_lr,
            "diverged": self.diverged,
            "skip_start": self.skip_start,
            "start": self.start,
            "end": self.end,
            "steps": self.steps,
        }

    def figure(self, *, title: str | None = None) -> Any:
        """A ``matplotlib.figure.Figure`` of loss vs learning rate (log x), the suggestion marked."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.0, 4.5), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        finite = np.isfinite(self.losses)
        ax.plot(self.lrs[finite], self.losses[finite], color="0.75", lw=0.8, label="batch loss")
        ax.plot(self.lrs, self.smoothed, color="tab:blue", lw=1.8, label="smoothed loss")
        i_min = int(np.argmin(np.abs(self.lrs - self.min_loss_lr)))
        ax.plot([self.min_loss_lr], [self.smoothed[i_min]], "o", color="tab:red", ms=7,
                label=f"minimum at {self.min_loss_lr:.2g}")
        i_steep = int(np.argmin(np.abs(self.lrs - self.steepest_lr)))
        ax.plot([self.steepest_lr], [self.smoothed[i_steep]], "s", color="tab:orange", ms=6,
                label=f"steepest descent at {self.steepest_lr:.2g}")
        ax.axvline(self.suggested_lr, color="tab:green", ls="--", lw=1.5,
                   label=f"suggested lr {self.suggested_lr:.2g} (minimum / 10)")
        ax.set_xscale("log")
        # keep the view on the informative part: from the minimum up to the plateau before it (the divergent
        # tail and the first, barely averaged steps may leave the frame)
        skip = min(self.skip_start, i_min)
        lo, hi = float(self.smoothed[i_min]), float(np.max(self.smoothed[skip:i_min + 1]))
        span = max(hi - lo, 1e-3 * abs(hi), 1e-12)
        ax.set_ylim(lo - 0.15 * span, hi + 0.35 * span)
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("loss")
        ax.set_title(title or f"LR range test: {len(self.lrs)} steps"
                     f"{', stopped at divergence' if self.diverged else ''}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        return fig

    def plot(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Write the loss-vs-LR plot as a PNG, atomically (missing folders are created).

        Raises:
            InputError: the path does not end in ``.png`` or is a directory.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        from vision.io import write_image

        target = Path(path)
        if target.suffix.lower() != ".png":
            raise InputError(f"{target}: the LR finder plot is a PNG; expected a path ending in .png")
        if target.is_dir():
            raise InputError(f"{target} is a directory; expected a file path ending in .png")
        canvas = FigureCanvasAgg(self.figure(title=title))
        canvas.draw()
        rgb = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        return write_image(target, rgb)


# --------------------------------------------------------------------------------------------------
# the sweep
# --------------------------------------------------------------------------------------------------
def _check_float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InputError(f"{name} must be a number; got {value!r}")
    return float(value)


def _to_device(obj: Any, device: Any) -> Any:
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


def lr_range_test(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    batches: Iterable[Sequence[Any]],
    *,
    optimizer: str | Any = "sgd",
    start: float = 1e-8,
    end: float = 10.0,
    steps: int | None = None,
    smooth: float = 0.98,
    diverge: float = 4.0,
    skip_start: int | None = None,
    device: str | Any = "cpu",
) -> LRFinderResult:
    """Run the LR range test and suggest a learning rate; the model and optimizer are left as they were.

    Each step takes the next ``(inputs, targets)`` batch, sets every param group's LR to ``lr_i``, computes
    ``loss_fn(model(inputs), targets)``, records it and takes an optimizer step. The sweep stops early when the
    smoothed loss exceeds ``diverge ×`` its best value or the loss is not finite. The suggestions ignore the first
    ``skip_start`` steps, where the bias-corrected average still rests on a handful of noisy batches.

    Args:
        model: the ``nn.Module`` to probe (moved to ``device`` during the test, back afterwards).
        loss_fn: ``loss_fn(outputs, targets) -> scalar tensor``.
        batches: an iterable (e.g. a ``DataLoader``) of ``(inputs, targets)`` pairs; tensors (also inside lists,
            tuples and dicts) are moved to ``device``.
        optimizer: a name for :func:`vision.train.make_optimizer` (default ``"sgd"``, no momentum), or an
            existing ``torch.optim.Optimizer`` over the model's parameters (its state is restored afterwards;
            all of its groups get the same swept LR).
        start: first learning rate (> 0).
        end: last learning rate (> start).
        steps: number of steps, 2 ≤ steps ≤ ``len(batches)`` (at most one epoch); default ``len(batches)``.
        smooth: β in [0, 1) of the loss smoothing (0 = none).
        diverge: stop when the smoothed loss exceeds this multiple (> 1) of its minimum; ``math.inf`` never stops.
        skip_start: first steps ignored by the suggestions; default ``max(2, min(10, steps // 10))``, at most
            ``steps − 2``.
        device: where to run (``"cpu"``, ``"cuda"``, a ``torch.device``).

    Returns:
        :class:`LRFinderResult`, with ``plot(path)``.

    Raises:
        InputError: a bad range (``start <= 0``, ``end <= start``), ``steps`` out of range or missing for an
            iterable without ``len``, ``smooth``/``diverge``/``skip_start`` out of range, no batches, a batch
            that is not an ``(inputs, targets)`` pair, a loss that is not a scalar tensor, an optimizer that
            does not hold the model's parameters.

    Example:
        >>> result = lr_range_test(net, torch.nn.functional.cross_entropy, train_loader)  # doctest: +SKIP
        >>> result.suggested_lr, result.plot("lr_finder.png")  # doctest: +SKIP
    """
    import torch
    from torch import nn

    from vision.train.optim import make_optimizer

    if not isinstance(model, nn.Module):
        raise InputError(f"expected an nn.Module; got {type(model).__name__}")
    if not callable(loss_fn):
        raise InputError(f"loss_fn must be callable (outputs, targets) -> loss; got {type(loss_fn).__name__}")
    start = _check_float(start, "start")
    end = _check_float(end, "end")
    if not (0.0 < start < end < math.inf):
        raise InputError(f"expected 0 < start < end < inf; got start={start}, end={end}")
    smooth = _check_float(smooth, "smooth")
    if not 0.0 <= smooth < 1.0:
        raise InputError(f"smooth must lie in [0, 1); got {smooth}")
    diverge = _check_float(diverge, "diverge")
    if not diverge > 1.0:
        raise InputError(f"diverge must be > 1 (a multiple of the best loss) or math.inf; got {diverge}")
    if batches is None or isinstance(batches, (str, bytes, torch.Tensor)) or not isinstance(batches, Iterable):
        raise InputError(f"batches must be an iterable of (inputs, targets) pairs (e.g. a DataLoader); "
                         f"got {type(batches).__name__}")
    try:
        available: int | None = len(batches)  # type: ignore[arg-type]
    except TypeError:
        available = None
    if available == 0:
        raise InputError("batches is empty; expected at least 2 (inputs, targets) batches")
    if steps is None:
        if available is None:
            raise InputError(f"batches ({type(batches).__name__}) has no len(); pass steps= (≤ one epoch)")
        steps = available
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise InputError(f"steps must be an integer ≥ 2; got {steps!r}")
    if available is not None and steps > available:
        raise InputError(f"steps={steps} exceeds the {available} batches of one epoch; expected steps ≤ {available}")
    if skip_start is None:
        skip_start = min(max(2, min(10, steps // 10)), steps - 2)
    if isinstance(skip_start, bool) or not isinstance(skip_start, int) or not 0 <= skip_start < steps - 1:
        raise InputError(f"skip_start must be an integer in [0, {steps - 2}]; got {skip_start!r}")
    device = torch.device(device)

    if isinstance(optimizer, str):
        opt = make_optimizer(model, optimizer, lr=start)
        opt_state = None
    elif isinstance(optimizer, torch.optim.Optimizer):
        owned = {id(p) for p in model.parameters()}
        foreign = [p for g in optimizer.param_groups for p in g["params"] if id(p) not in owned]
        if foreign:
            raise InputError(f"the optimizer holds {len(foreign)} tensor(s) that are not parameters of the model; "
                             "expected an optimizer over model.parameters()")
        opt = optimizer
        opt_state = copy.deepcopy(opt.state_dict())
    else:
        raise InputError(f"optimizer must be a name ({', '.join(_optimizer_names())}) or a torch.optim.Optimizer; "
                         f"got {type(optimizer).__name__}")

    first = next(model.parameters(), None)
    home = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    saved = copy.deepcopy(model.state_dict())
    factor = (end / start) ** (1.0 / (steps - 1))
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    diverged = False
    rng_devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=rng_devices):
            model.to(device)
            model.train()
            avg, best = 0.0, math.inf
            iterator = iter(batches)
            for i in range(steps):
                try:
                    batch = next(iterator)
                except StopIteration:
                    break
                if not isinstance(batch, (list, tuple)) or len(batch) != 2:
                    size = f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else ""
                    raise InputError(f"batch {i}: expected an (inputs, targets) pair; got {type(batch).__name__}{size}")
                inputs, targets = _to_device(batch[0], device), _to_device(batch[1], device)
                lr = start * factor**i
                for g in opt.param_groups:
                    g["lr"] = lr
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(inputs), targets)
                if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                    shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else ""
                    raise InputError(f"loss_fn must return a scalar tensor; got {type(loss).__name__}{shape}")
                value = float(loss.detach())
                lrs.append(lr)
                losses.append(value)
                if not math.isfinite(value):
                    smoothed.append(math.inf)
                    diverged = True
                    break
                avg = smooth * avg + (1.0 - smooth) * value
                s = avg / (1.0 - smooth ** (i + 1))
                smoothed.append(s)
                if i >= skip_start and s > diverge * best:
                    diverged = True
                    break
                if i >= skip_start:
                    best = min(best, s)
                loss.backward()
                opt.step()
    finally:
        model.load_state_dict(saved)
        model.to(home)
        model.train(was_training)
        opt.zero_grad(set_to_none=True)
        if opt_state is not None:
            opt.load_state_dict(opt_state)
    if len(lrs) < 2:
        raise InputError(f"the sweep ran {len(lrs)} step(s); batches ran out or the first loss was not finite "
                         "(expected at least 2 finite steps)")
    return _summarise(np.asarray(lrs), np.asarray(losses), np.asarray(smoothed), skip_start=skip_start,
                      diverged=diverged, start=start, end=end, steps=steps)


def _optimizer_names() -> tuple[str, ...]:
    from vision.train.optim import OPTIMIZERS

    return OPTIMIZERS


def _summarise(lrs: np.ndarray, losses: np.ndarray, smoothed: np.ndarray, *, skip_start: int, diverged: bool,
               start: float, end: float, steps: int) -> LRFinderResult:
    """Pick the minimum, the steepest descent and the suggestion from the recorded curve."""
    skip = min(skip_start, len(lrs) - 1)
    window = np.where(np.isfinite(smoothed[skip:]), smoothed[skip:], np.inf)
    i_min = skip + int(np.argmin(window))
    min_lr = float(lrs[i_min])
    # steepest descent per decade of LR, on the final descent: from the highest smoothed loss before the minimum
    # down to the minimum (earlier wiggles of the barely averaged first steps are not a descent)
    i_top = skip + int(np.argmax(smoothed[skip:i_min + 1]))
    if i_min - i_top >= 2:
        grad = np.gradient(smoothed[i_top:i_min + 1], np.log10(lrs[i_top:i_min + 1]))
        steep_lr = float(lrs[i_top + int(np.argmin(grad[:-1]))])  # the one-sided slope at the minimum left out
    else:
        steep_lr = min_lr
    if i_min == skip:
        logger.warning("LR range test: the loss never fell below its value after %d steps (lr %.3g); the "
                       "suggestion is unreliable: widen the range (lower start) or use more steps", skip, min_lr)
    elif not diverged:
        logger.info("LR range test: the loss did not diverge up to lr %.3g; the minimum may lie beyond end", lrs[-1])
    return LRFinderResult(lrs=lrs, losses=losses, smoothed=smoothed, suggested_lr=min_lr / 10.0, min_loss_lr=min_lr,
                          steepest_lr=steep_lr, diverged=diverged, skip_start=skip, start=start, end=end,
                          steps=steps)
