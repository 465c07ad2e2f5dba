"""The training loop: :class:`Trainer` (fit / evaluate / predict, checkpoints, exact resume) and :class:`History`.

The loop knows nothing about what a batch holds: a :class:`~vision.train.task.Task` turns ``(model, batch)`` into
a loss and outputs, and reports its metrics. Per epoch the logs hold ``loss`` (the batch-size-weighted mean of
the data loss plus :func:`~vision.train.optim.regularization_penalty`), the task's metrics (``accuracy`` for
classification), the same with a ``val_`` prefix when a validation loader is given, and ``lr`` (the first param
group's learning rate at the epoch's end, before an epoch schedule steps: the rate the epoch trained with, or,
for a batch schedule, the rate after its last step).

Checkpoints (:meth:`Trainer.save_checkpoint`) hold the model, optimizer, schedule and callbacks' states, the
epoch, the history and every random state the next epoch consumes: torch's CPU (and CUDA) generators, numpy's
and Python's global generators, and the training ``DataLoader``'s own shuffling generator
(``loader.generator``, or its sampler's ``generator``) — without the last, a resumed run would shuffle
differently from an uninterrupted one. Every state is stored as tensors, numbers, strings, lists and dicts, so
checkpoints load with ``torch.load(weights_only=True)`` (no pickled code runs when reading one).
"""

from __future__ import annotations

import io
import logging
import math
import os
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vision.errors import InputError, SourceNotFoundError
from vision.nn import clip_gradients
from vision.train.callbacks import Callback
from vision.train.optim import regularization_penalty
from vision.train.task import Task

__all__ = ["CHECKPOINT_FORMAT", "History", "Trainer"]

logger = logging.getLogger(__name__)

#: the ``"format"`` entry of every checkpoint this module writes
CHECKPOINT_FORMAT = "vision.trainer.checkpoint/1"


@dataclass
class History:
    """What :meth:`Trainer.fit` recorded.

    Attributes:
        history: log name → one value per completed epoch (``loss``, ``accuracy``, ``val_loss``, …, ``lr``).
        epoch: the completed epochs' numbers (from 1).
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)

    def append(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Record one epoch's logs (a name first seen now gets NaN for the earlier epochs)."""
        for name, value in logs.items():
            self.history.setdefault(name, [math.nan] * len(self.epoch)).append(float(value))
        for name, values in self.history.items():
            if name not in logs:
                values.append(math.nan)
        self.epoch.append(int(epoch))


def _to_device(batch: Any, device: torch.device) -> Any:
    """Tensors in ``batch`` (nested in tuples, lists, dicts) moved to ``device``; anything else unchanged."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(_to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch


def _detach_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, Mapping):
        return {k: _detach_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_detach_cpu(v) for v in value)
    return value


def _loader_generator(loader: Any) -> torch.Generator | None:
    """The generator that shuffles ``loader``: ``loader.generator`` or its sampler's, if any."""
    gen = getattr(loader, "generator", None)
    if isinstance(gen, torch.Generator):
        return gen
    gen = getattr(getattr(loader, "sampler", None), "generator", None)
    return gen if isinstance(gen, torch.Generator) else None


def _rng_state(loader: Any) -> dict[str, Any]:
    """Every random state the training loop draws from, as tensors, numbers and lists (``weights_only``-safe)."""
    kind, key, pos, has_gauss, cached = np.random.get_state(legacy=True)
    version, internal, gauss_next = random.getstate()
    gen = _loader_generator(loader)
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else [],
        "numpy": {"kind": kind, "key": torch.from_numpy(key.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": int(version), "internal": list(internal), "gauss_next": gauss_next},
        "loader": gen.get_state() if gen is not None else None,
    }


def _set_rng_state(state: Mapping[str, Any], loader: Any) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))
    gen = _loader_generator(loader)
    if state["loader"] is not None:
        if gen is None:
            logger.warning("the checkpoint holds a data-loader generator state but the training loader has no "
                           "generator; shuffling will differ from the original run")
        else:
            gen.set_state(state["loader"])


class Trainer:
    """Fit a model with a :class:`~vision.train.task.Task`, an optimizer, an optional LR schedule and callbacks.

    Args:
        model: the network; moved to ``device``.
        task: e.g. :class:`~vision.train.task.ClassificationTask`.
        optimizer: a ``torch.optim.Optimizer`` over ``model``'s parameters (e.g. from
            :func:`~vision.train.optim.make_optimizer`; its ``l2``/``l1`` terms are added to the loss).
        schedule: a scheduler from :func:`~vision.train.schedules.make_schedule` (its ``.interval``,
            ``"batch"`` or ``"epoch"``, says when it steps; epoch schedules step after each epoch), or None.
        callbacks: :class:`~vision.train.callbacks.Callback` objects, called in order.
        device: where the model and batches live (``"cpu"``, ``"cuda"``, …).
        grad_clip_norm: clip the total gradient norm to this before each step
            (:func:`~vision.nn.clip_gradients`); None = no clipping.

    Attributes:
        history: the :class:`History` so far. epoch: completed epochs. global_step: batches trained.
        stop_training: set True (e.g. by a callback) to end after the current epoch.
        stop_training_now: set True to end after the current batch.

    Raises:
        InputError: a wrong type for any argument, or a schedule without a valid ``.interval``.
    """

    def __init__(self, model: nn.Module, task: Task, *, optimizer: torch.optim.Optimizer, schedule: Any = None,
                 callbacks: Iterable[Callback] = (), device: str | torch.device = "cpu",
                 grad_clip_norm: float | None = None) -> None:
        if not isinstance(model, nn.Module):
            raise InputError(f"Trainer: model must be an nn.Module; got {type(model).__name__}")
        if not isinstance(task, Task):
            raise InputError(f"Trainer: task must be a vision.train.Task (e.g. ClassificationTask()); got "
                             f"{type(task).__name__}")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise InputError(f"Trainer: optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
        if schedule is not None and getattr(schedule, "interval", None) not in ("batch", "epoch"):
            raise InputError(f"Trainer: schedule must have .interval 'batch' or 'epoch' (use make_schedule); got "
                             f"{type(schedule).__name__} with interval {getattr(schedule, 'interval', None)!r}")
        callbacks = list(callbacks)
        bad = [type(c).__name__ for c in callbacks if not isinstance(c, Callback)]
        if bad:
            raise InputError(f"Trainer: callbacks must be Callback objects; got {bad}")
        if grad_clip_norm is not None and (isinstance(grad_clip_norm, bool)
                                           or not isinstance(grad_clip_norm, (int, float))
                                           or not math.isfinite(grad_clip_norm) or grad_clip_norm <= 0):
            raise InputError(f"Trainer: grad_clip_norm must be a finite number > 0 or None; got {grad_clip_norm!r}")
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"Trainer: device {device!r} is not a torch device; expected e.g. 'cpu' or 'cuda'") \
                from exc
        self.model = model.to(self.device)
        self.task = task
        self.optimizer = optimizer
        self.schedule = schedule
        self.callbacks = callbacks
        self.grad_clip_norm = None if grad_clip_norm is None else float(grad_clip_norm)
        self.history = History()
        self.epoch = 0
        self.global_step = 0
        self.stop_training = False
        self.stop_training_now = False
        self._train_loader: Any = None
        self._pending_checkpoints: list[Path] = []

    # ------------------------------------------------------------------------------------------------
    # the loop
    # ------------------------------------------------------------------------------------------------
    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def _train_epoch(self, loader: Iterable[Any]) -> dict[str, float]:
        self.model.train()
        acc = self.task.metrics()
        total, count = 0.0, 0
        for batch in loader:
            batch = _to_device(batch, self.device)
            out = self.task.step(self.model, batch, train=True)
            loss = out.loss + regularization_penalty(self.model, self.optimizer)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.grad_clip_norm is not None:
                clip_gradients(self.model, max_norm=self.grad_clip_norm)
            self.optimizer.step()
            if self.schedule is not None and self.schedule.interval == "batch":
                self.schedule.step()
            self.global_step += 1
            value = float(loss.detach())
            total += value * out.batch_size
            count += out.batch_size
            acc.update(out)
            self._call("on_batch_end", self.global_step, {"loss": value, "batch_size": out.batch_size})
            if self.stop_training_now:
                break
        if count == 0:
            raise InputError("Trainer: the training loader yielded no batches; expected at least one")
        return {"loss": total / count, **acc.compute()}

    def evaluate(self, loader: Iterable[Any]) -> dict[str, float]:
        """The model's loss (batch-size-weighted mean, plus the regularization penalty) and metrics on ``loader``.

        Args:
            loader: an iterable of batches, e.g. a ``DataLoader``.

        Returns:
            ``{"loss": ..., <task metrics>}`` (no prefix).

        Raises:
            InputError: the loader yields no batches.
        """
        self.model.eval()
        acc = self.task.metrics()
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in loader:
                out = self.task.step(self.model, _to_device(batch, self.device), train=False)
                total += float(out.loss) * out.batch_size
                count += out.batch_size
                acc.update(out)
            if count == 0:
                raise InputError("Trainer.evaluate: the loader yielded no batches; expected at least one")
            penalty = float(regularization_penalty(self.model, self.optimizer))
        return {"loss": total / count + penalty, **acc.compute()}

    def predict(self, loader: Iterable[Any]) -> list[Any]:
        """The task's predictions (e.g. logits), one entry per batch of ``loader``, detached and on the CPU.

        Args:
            loader: an iterable of batches (``(x, y)`` or ``x`` for classification).

        Returns:
            A list with one output per batch.
        """
        self.model.eval()
        results = []
        with torch.no_grad():
            for batch in loader:
                results.append(_detach_cpu(self.task.predict_step(self.model, _to_device(batch, self.device))))
        return results

    def fit(self, train: Iterable[Any], val: Iterable[Any] | None = None, *, epochs: int,
            resume: str | os.PathLike[str] | None = None) -> History:
        """Train up to epoch ``epochs`` (a total: a trainer that has completed 2 epochs trains 3.. ``epochs``).

        Args:
            train: iterable of training batches (a ``DataLoader``; give it a seeded ``generator=`` for
                reproducible, exactly resumable shuffling).
            val: iterable of validation batches, evaluated after each epoch (logs prefixed ``val_``).
            epochs: the last epoch to train, ≥ 1.
            resume: a checkpoint from :meth:`save_checkpoint`; everything is restored first and training goes on
                at the epoch after the saved one.

        Returns:
            The trainer's :class:`History` (all epochs so far).

        Raises:
            InputError: bad ``epochs``, an empty loader, a checkpoint that does not fit this trainer, a callback's
                monitored value missing from the logs. SourceNotFoundError: ``resume`` does not exist.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise InputError(f"Trainer.fit: epochs must be an integer ≥ 1; got {epochs!r}")
        self._train_loader = train
        if resume is not None:
            self.load_checkpoint(resume, loader=train)
        self.stop_training = self.stop_training_now = False
        self._call("on_train_begin")
        try:
            for epoch in range(self.epoch + 1, epochs + 1):
                self._pending_checkpoints = []
                self._call("on_epoch_begin", epoch)
                logs = self._train_epoch(train)
                if self.stop_training_now:
                    logger.info("training stopped during epoch %d (after step %d)", epoch, self.global_step)
                    break
                if val is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(val).items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                if self.schedule is not None and self.schedule.interval == "epoch":
                    self.schedule.step()
                self.epoch = epoch
                self.history.append(epoch, logs)
                logger.info("epoch %d/%d: %s", epoch, epochs, ", ".join(f"{k}={v:.4g}" for k, v in logs.items()))
                self._call("on_epoch_end", epoch, logs)
                for path in self._pending_checkpoints:
                    self.save_checkpoint(path)
                if self.stop_training:
                    break
        finally:
            self._call("on_train_end")
        return self.history

    # ------------------------------------------------------------------------------------------------
    # checkpoints
    # ------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything :meth:`save_checkpoint` writes (see the module docstring)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict() if self.schedule is not None else None,
            "callbacks": [{"type": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks],
            "history": {"history": {k: list(v) for k, v in self.history.history.items()},
                        "epoch": list(self.history.epoch)},
            "rng": _rng_state(self._train_loader),
        }

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Write a resumable checkpoint to ``path`` atomically (``torch.save`` format, ``weights_only``-loadable).

        Args:
            path: the file; parent folders are created.

        Returns:
            The path written.
        """
        from vision.io.files import atomic_write_bytes

        buf = io.BytesIO()
        torch.save(self.state_dict(), buf)
        return atomic_write_bytes(path, buf.getvalue())

    def save_checkpoint_after_epoch(self, path: str | os.PathLike[str]) -> None:
        """Have :meth:`save_checkpoint` write ``path`` once every callback's ``on_epoch_end`` has run.

        A callback that wants a full checkpoint calls this from ``on_epoch_end`` (as
        :class:`~vision.train.callbacks.ModelCheckpoint` does), so the checkpoint holds every callback's state
        *after* this epoch and resuming from it is exact.
        """
        self._pending_checkpoints.append(Path(path))

    def load_checkpoint(self, path: str | os.PathLike[str], *, loader: Any = None) -> None:
        """Restore a checkpoint written by :meth:`save_checkpoint` into this trainer (and ``loader``'s generator).

        Args:
            path: the checkpoint file.
            loader: the training loader whose shuffling generator to restore; default the last one ``fit`` used.

        Raises:
            SourceNotFoundError: no such file. InputError: not a checkpoint of this format, or one that does not
                fit this trainer (model keys/shapes, optimizer groups, schedule, callbacks differ).
        """
        p = Path(path)
        if not p.is_file():
            raise SourceNotFoundError(f"{p}: checkpoint not found")
        try:
            state = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many kinds for a foreign or corrupt file
            raise InputError(f"{p}: not a readable trainer checkpoint ({type(exc).__name__}: {exc}); expected a "
                             "file written by Trainer.save_checkpoint") from exc
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            got = state.get("format") if isinstance(state, dict) else type(state).__name__
            raise InputError(f"{p}: checkpoint format {got!r}; expected {CHECKPOINT_FORMAT!r}")
        saved_cbs = [c["type"] for c in state["callbacks"]]
        ours = [type(cb).__name__ for cb in self.callbacks]
        if saved_cbs != ours:
            raise InputError(f"{p}: the checkpoint holds callbacks {saved_cbs}; this trainer has {ours} "
                             "(give the same callbacks in the same order)")
        if (state["schedule"] is None) != (self.schedule is None):
            raise InputError(f"{p}: the checkpoint {'has no' if state['schedule'] is None else 'has a'} schedule; "
                             f"this trainer {'has one' if self.schedule is not None else 'has none'}")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.schedule is not None:
                self.schedule.load_state_dict(state["schedule"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise InputError(f"{p}: the checkpoint does not fit this trainer's model/optimizer/schedule: "
                             f"{exc}") from exc
        for cb, entry in zip(self.callbacks, state["callbacks"]):
            cb.load_state_dict(entry["state"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.history = History({k: list(v) for k, v in state["history"]["history"].items()},
                               list(state["history"]["epoch"]))
        _set_rng_state(state["rng"], loader if loader is not None else self._train_loader)
        logger.info("resumed from %s at epoch %d", p, self.epoch)

