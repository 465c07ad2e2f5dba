"""Tasks: what one training step of a model family means, so the :class:`~vision.train.trainer.Trainer` loop never
needs to know what a batch holds.

A :class:`Task` turns ``(model, batch)`` into a :class:`StepOutput` (loss, outputs, targets, batch size), predicts
from a batch, and accumulates its per-epoch metrics. :class:`ClassificationTask` is the first family (batch =
``(x, y)``, outputs = logits, metric ``accuracy``); detection, segmentation or GAN tasks plug in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from vision.errors import InputError, ShapeError

__all__ = ["ClassificationTask", "MetricAccumulator", "StepOutput", "Task", "split_xy"]


@dataclass
class StepOutput:
    """The result of one :meth:`Task.step`.

    Attributes:
        loss: scalar loss tensor (with its graph when ``train=True``), the mean over the batch.
        outputs: what the model produced (for classification: N×C logits).
        targets: what it is compared with (for classification: N class ids).
        batch_size: number of samples, the weight of ``loss`` in the epoch's mean.
    """

    loss: torch.Tensor
    outputs: Any
    targets: Any
    batch_size: int


class MetricAccumulator:
    """Collects :class:`StepOutput` s over an epoch and computes the task's metrics; the base one has none."""

    def update(self, out: StepOutput) -> None:
        """Add one batch's outputs."""

    def compute(self) -> dict[str, float]:
        """The epoch's metrics, name → value (empty for the base class)."""
        return {}

    def state(self) -> Any:
        """What this process accumulated, picklable; under ``torchrun`` the trainer gathers it from every process."""
        return None

    def merge(self, states: list[Any]) -> None:
        """Replace the accumulated data by all processes' :meth:`state` values (rank order) before ``compute``."""


class Task:
    """What a training step means for one model family; subclass it and implement :meth:`step`.

    Subclasses may override :meth:`predict_step` (default: ``model(batch)``) and :meth:`metrics` (default: no
    metrics besides the loss).
    """

    #: metric names the task reports besides ``loss`` (documentation; the logs hold what ``compute`` returns)
    metric_names: tuple[str, ...] = ()

    #: True when :meth:`step` with ``train=True`` updates the weights itself (several backward passes and optimizer
    #: steps per batch, e.g. a GAN's alternating discriminator and generator updates with two optimizers). The
    #: :class:`~vision.train.trainer.Trainer` then skips its own zero_grad / backward / gradient clipping / optimizer
    #: step for this task, logs ``StepOutput.loss`` as given (detached; no regularization penalty is added), and
    #: still runs the batch schedule, callbacks, history, metrics and checkpoints. Optimizers other than the
    #: trainer's own must be saved through :meth:`state_dict` so that checkpoints resume exactly. Such a task
    #: cannot use the trainer's ``amp``, ``grad_clip_norm`` or multi-process (``torchrun``) training.
    manual_optimization: bool = False

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        """Run ``model`` on ``batch`` and compute the loss.

        Args:
            model: the network (already in train or eval mode; the trainer handles ``no_grad``).
            batch: one item from the data loader, already moved to the trainer's device.
            train: True inside the training loop, False for evaluation.

        Returns:
            A :class:`StepOutput`.
        """
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        """The model's output for ``batch`` (called under ``torch.no_grad`` in eval mode)."""
        return model(batch)

    def metrics(self) -> MetricAccumulator:
        """A fresh accumulator for one epoch's metrics."""
        return MetricAccumulator()

    def state_dict(self) -> dict[str, Any]:
        """Training state the task owns (e.g. a second optimizer's), saved in the trainer's checkpoints as tensors,
        numbers, strings, lists and dicts; the base task has none."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called when the trainer resumes from a checkpoint)."""


class _AccuracyAccumulator(MetricAccumulator):
    """Arg-max predictions and targets of an epoch; accuracy via :func:`vision.metrics.classification_report`."""

    def __init__(self) -> None:
        self._pred: list[torch.Tensor] = []
        self._true: list[torch.Tensor] = []
        self._classes = 2

    def update(self, out: StepOutput) -> None:
        logits = out.outputs.detach()
        self._classes = max(self._classes, int(logits.shape[-1]))
        self._pred.append(logits.argmax(dim=-1).cpu())
        self._true.append(out.targets.detach().cpu())

    def state(self) -> Any:
        if not self._pred:
            return None
        return torch.cat(self._pred), torch.cat(self._true), self._classes

    def merge(self, states: list[Any]) -> None:
        states = [s for s in states if s is not None]
        self._pred = [s[0] for s in states]
        self._true = [s[1] for s in states]
        self._classes = max([self._classes, *(s[2] for s in states)])

    def compute(self) -> dict[str, float]:
        if not self._pred:
            return {}
        from vision.metrics import classification_report

        pred = torch.cat(self._pred).numpy()
        true = torch.cat(self._true).numpy()
        return {"accuracy": classification_report(true, pred, num_classes=self._classes).accuracy}


def split_xy(batch: Any, task: str) -> tuple[Any, Any]:
    """``(inputs, targets)`` of a two-item batch, or an :class:`InputError` naming ``task`` and what it got."""
    if isinstance(batch, Sequence) and not isinstance(batch, (str, bytes)) and len(batch) == 2:
        return batch[0], batch[1]
    got = f"a sequence of {len(batch)} items" if isinstance(batch, Sequence) else type(batch).__name__
    raise InputError(f"{task}: expected a batch (inputs, targets); got {got}")


class ClassificationTask(Task):
    """Single-label classification: batch ``(x, y)``, the model returns N×C logits, the loss compares them with ``y``.

    Args:
        loss: a :func:`vision.nn.make_loss` name (default ``"cross_entropy"`` on logits) or an ``nn.Module`` /
            callable ``loss(logits, targets)``.
        **loss_options: options for :func:`vision.nn.make_loss` (e.g. ``label_smoothing=0.1``); only with a name.

    Raises:
        InputError: unknown loss name or options (from ``make_loss``), options given with a loss object.
    """

    metric_names = ("accuracy",)

    def __init__(self, loss: str | nn.Module | Any = "cross_entropy", **loss_options: Any) -> None:
        if isinstance(loss, str):
            from vision.nn import make_loss

            self.loss_fn = make_loss(loss, **loss_options)
        elif callable(loss):
            if loss_options:
                raise InputError(f"loss options {sorted(loss_options)} apply to a loss name only; got a "
                                 f"{type(loss).__name__} object")
            self.loss_fn = loss
        else:
            raise InputError(f"loss must be a make_loss name or a callable loss(logits, targets); got "
                             f"{type(loss).__name__}")

    def step(self, model: nn.Module, batch: Any, *, train: bool) -> StepOutput:
        """``logits = model(x)``, ``loss = loss_fn(logits, y)``.

        Raises:
            InputError: the batch is not an ``(x, y)`` pair. ShapeError: logits are not N×C with N = len(y).
        """
        x, y = split_xy(batch, "ClassificationTask")
        logits = model(x)
        if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or logits.shape[0] != len(y):
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise ShapeError(f"ClassificationTask: the model returned {shape}; expected N×C logits with "
                             f"N = {len(y)} (the batch size)")
        return StepOutput(loss=self.loss_fn(logits, y), outputs=logits, targets=y, batch_size=len(y))

    def predict_step(self, model: nn.Module, batch: Any) -> Any:
        """Logits for ``x`` or for the ``x`` of an ``(x, y)`` batch."""
        if isinstance(batch, Sequence) and not isinstance(batch, (str, bytes)) and len(batch) == 2:
            batch = batch[0]
        return model(batch)

    def metrics(self) -> MetricAccumulator:
        """Accumulates ``accuracy``."""
        return _AccuracyAccumulator()
