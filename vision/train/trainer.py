"""The training loop: :class:`Trainer` (fit / evaluate / predict, checkpoints, exact resume) and :class:`History`.

The loop knows nothing about what a batch holds: a :class:`~vision.train.task.Task` turns ``(model, batch)`` into
a loss and outputs, and reports its metrics. Per epoch the logs hold ``loss`` (the batch-size-weighted mean of
the data loss plus :func:`~vision.train.optim.regularization_penalty`), the task's metrics (``accuracy`` for
classification), the same with a ``val_`` prefix when a validation loader is given, and ``lr`` (the first param
group's learning rate at the epoch's end, before an epoch schedule steps: the rate the epoch trained with, or,
for a batch schedule, the rate after its last step).

Checkpoints (:meth:`Trainer.save_checkpoint`) hold the model, optimizer, schedule, task and callbacks' states, the
epoch, the history and every random state the next epoch consumes: torch's CPU (and CUDA) generators, numpy's
and Python's global generators, and the training ``DataLoader``'s own shuffling generator
(``loader.generator``, or its sampler's ``generator``) — without the last, a resumed run would shuffle
differently from an uninterrupted one. Every state is stored as tensors, numbers, strings, lists and dicts, so
checkpoints load with ``torch.load(weights_only=True)`` (no pickled code runs when reading one).

Speed switches: ``amp`` runs the forward pass under ``torch.autocast`` (float16 with a gradient scaler on CUDA,
bfloat16 elsewhere; the scaler's state is checkpointed), ``channels_last`` keeps the model and 4-D inputs in
channels-last memory format. Under ``torchrun`` the same script trains in several processes
(:mod:`vision.train.distributed`): DistributedDataParallel, a sharded training loader, losses and metrics summed
over processes, files written by rank 0 only.

Manual optimisation: a task with ``manual_optimization = True`` (e.g. a GAN's, which alternates discriminator and
generator updates with two optimizers) does its own backward passes and optimizer steps inside ``step``; the loop
then only calls it, and keeps doing everything else (batch schedule, callbacks, history, metrics, checkpoints that
include :meth:`Task.state_dict <vision.train.task.Task.state_dict>`, exact resume).
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
from vision.train.distributed import distributed_context, shard_loader
from vision.train.optim import regularization_penalty
from vision.train.task import ClassificationTask, Task

__all__ = ["AMP_MODES", "CHECKPOINT_FORMAT", "History", "Trainer", "fit"]

logger = logging.getLogger(__name__)

#: the ``"format"`` entry of every checkpoint this module writes
CHECKPOINT_FORMAT = "vision.trainer.checkpoint/1"

#: ``amp=`` values: off, automatic (float16 on CUDA, bfloat16 elsewhere), or the autocast dtype by name
AMP_MODES = (False, True, "float16", "bfloat16")


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


def _to_device(batch: Any, device: torch.device, channels_last: bool = False) -> Any:
    """Tensors in ``batch`` (nested in tuples, lists, dicts) moved to ``device``; anything else unchanged.

    With ``channels_last``, 4-D floating-point tensors (image batches) also take channels-last memory format.
    """
    if isinstance(batch, torch.Tensor):
        batch = batch.to(device, non_blocking=True)
        if channels_last and batch.ndim == 4 and batch.is_floating_point():
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device, channels_last) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(_to_device(v, device, channels_last) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device, channels_last) for v in batch)
    return batch


def _detach_cpu(value: Any) -> Any:
    """Tensors detached on the CPU; half-precision (autocast) outputs as float32."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.float() if value.dtype in (torch.float16, torch.bfloat16) else value
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
        amp: mixed precision, one of :data:`AMP_MODES`: ``True`` = float16 autocast with gradient scaling on
            CUDA, bfloat16 autocast elsewhere; or the dtype name.
        channels_last: keep the model and 4-D input batches in channels-last memory format.

    Attributes:
        history: the :class:`History` so far. epoch: completed epochs. global_step: batches trained.
        stop_training: set True (e.g. by a callback) to end after the current epoch.
        stop_training_now: set True to end after the current batch.

    Raises:
        InputError: a wrong type for any argument, or a schedule without a valid ``.interval``.
    """

    def __init__(self, model: nn.Module, task: Task, *, optimizer: torch.optim.Optimizer, schedule: Any = None,
                 callbacks: Iterable[Callback] = (), device: str | torch.device = "cpu",
                 grad_clip_norm: float | None = None, amp: bool | str = False, channels_last: bool = False) -> None:
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
        if not any(amp is mode for mode in AMP_MODES[:2]) and amp not in AMP_MODES[2:]:
            raise InputError(f"Trainer: amp must be one of {list(AMP_MODES)}; got {amp!r}")
        if not isinstance(channels_last, bool):
            raise InputError(f"Trainer: channels_last must be True or False; got {channels_last!r}")
        if task.manual_optimization and (amp is not False or grad_clip_norm is not None):
            raise InputError(f"Trainer: {type(task).__name__} optimizes manually (manual_optimization=True), so the "
                             f"trainer's amp and grad_clip_norm do not apply; got amp={amp!r}, "
                             f"grad_clip_norm={grad_clip_norm!r}; expected amp=False, grad_clip_norm=None")
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"Trainer: device {device!r} is not a torch device; expected e.g. 'cpu' or 'cuda'") \
                from exc
        self.dist = distributed_context(self.device)
        if self.dist.enabled and task.manual_optimization:
            raise InputError(f"Trainer: {type(task).__name__} optimizes manually (manual_optimization=True); "
                             "multi-process (torchrun) training is not supported for such tasks; expected one process")
        if self.dist.enabled and self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", self.dist.local_rank)
        self.amp_dtype: torch.dtype | None = None
        if amp is not False:
            name = amp if isinstance(amp, str) else ("float16" if self.device.type == "cuda" else "bfloat16")
            self.amp_dtype = getattr(torch, name)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp_dtype == torch.float16)
        self.channels_last = channels_last
        self.model = model.to(self.device)
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self._net: nn.Module = self.model  # what the training step calls: the model, or its DDP wrapper
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
            if self.dist.is_main or not cb.main_process_only:
                getattr(cb, hook)(self, *args)

    def _autocast(self) -> Any:
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def _penalty(self) -> torch.Tensor | float:
        """The optimizer's L1/L2 term; 0.0 without computing anything when no param group has one."""
        if not any(g.get("l2", 0.0) or g.get("l1", 0.0) for g in self.optimizer.param_groups):
            return 0.0
        return regularization_penalty(self.model, self.optimizer)

    def _train_epoch(self, loader: Iterable[Any]) -> dict[str, float]:
        self.model.train()
        acc = self.task.metrics()
        total, count = 0.0, 0
        manual = self.task.manual_optimization
        for batch in loader:
            batch = _to_device(batch, self.device, self.channels_last)
            if manual:  # the task stepped its optimizers itself (see Task.manual_optimization)
                out = self.task.step(self._net, batch, train=True)
                loss = out.loss.detach()
            else:
                with self._autocast():
                    out = self.task.step(self._net, batch, train=True)
                loss = out.loss + self._penalty()
                self.optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                if self.grad_clip_norm is not None:
                    self.scaler.unscale_(self.optimizer)
                    clip_gradients(self.model, max_norm=self.grad_clip_norm)
                self.scaler.step(self.optimizer)
                self.scaler.update()
            if self.schedule is not None and self.schedule.interval == "batch":
                self.schedule.step()
            self.global_step += 1
            value = float(loss.detach())
            total += value * out.batch_size
            count += out.batch_size
            acc.update(out)
            self._call("on_batch_end", self.global_step, {"loss": value, "batch_size": out.batch_size})
            if self.dist.enabled:  # every process stops at the same batch, or the next all-reduce would hang
                self.stop_training_now = self.dist.any(self.stop_training_now)
            if self.stop_training_now:
                break
        total, count = self.dist.sum([total, float(count)])
        if count == 0:
            raise InputError("Trainer: the training loader yielded no batches; expected at least one")
        if self.dist.enabled:
            acc.merge(self.dist.gather(acc.state()))
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
                with self._autocast():
                    out = self.task.step(self.model, _to_device(batch, self.device, self.channels_last), train=False)
                total += float(out.loss) * out.batch_size
                count += out.batch_size
                acc.update(out)
            if count == 0:
                raise InputError("Trainer.evaluate: the loader yielded no batches; expected at least one")
            penalty = float(self._penalty())
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
                with self._autocast():
                    out = self.task.predict_step(self.model, _to_device(batch, self.device, self.channels_last))
                results.append(_detach_cpu(out))
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
        train = shard_loader(train, self.dist)
        self._train_loader = train
        if resume is not None:
            self.load_checkpoint(resume, loader=train)
        if self.dist.enabled and self._net is self.model:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self._net = DistributedDataParallel(self.model, device_ids=ids)
        self.stop_training = self.stop_training_now = False
        self._call("on_train_begin")
        try:
            for epoch in range(self.epoch + 1, epochs + 1):
                self._pending_checkpoints = []
                self._call("on_epoch_begin", epoch)
                if hasattr(getattr(train, "sampler", None), "set_epoch"):  # DistributedSampler: a new order per epoch
                    train.sampler.set_epoch(epoch)
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
                if self.dist.any(self.stop_training):
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
            "scaler": self.scaler.state_dict(),
            "task": self.task.state_dict(),
            "callbacks": [{"type": type(cb).__name__, "state": cb.state_dict()} for cb in self.callbacks],
            "history": {"history": {k: list(v) for k, v in self.history.history.items()},
                        "epoch": list(self.history.epoch)},
            "rng": _rng_state(self._train_loader),
        }

    def save_checkpoint(self, path: str | os.PathLike[str]) -> Path:
        """Write a resumable checkpoint to ``path`` atomically (``torch.save`` format, ``weights_only``-loadable).

        In a multi-process run only rank 0 writes (the others return the same path without writing).

        Args:
            path: the file; parent folders are created.

        Returns:
            The path written.
        """
        from vision.io.files import atomic_write_bytes

        if not self.dist.is_main:
            return Path(path)
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
            if state.get("scaler"):
                self.scaler.load_state_dict(state["scaler"])
            if state.get("task"):  # absent from checkpoints written before tasks had a state
                self.task.load_state_dict(state["task"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise InputError(f"{p}: the checkpoint does not fit this trainer's model/optimizer/schedule/task: "
                             f"{exc}") from exc
        for cb, entry in zip(self.callbacks, state["callbacks"]):
            cb.load_state_dict(entry["state"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.history = History({k: list(v) for k, v in state["history"]["history"].items()},
                               list(state["history"]["epoch"]))
        _set_rng_state(state["rng"], loader if loader is not None else self._train_loader)
        logger.info("resumed from %s at epoch %d", p, self.epoch)



def fit(model: nn.Module, train: Iterable[Any], val: Iterable[Any] | None = None, *, epochs: int,
        optimizer: str | torch.optim.Optimizer = "adamw", lr: float = 1e-3, weight_decay: float = 0.0,
        loss: str | Any = "cross_entropy", task: Task | None = None, schedule: str | Any = None,
        callbacks: Iterable[Callback] = (), device: str | torch.device = "cpu", amp: bool | str = False,
        channels_last: bool = False, grad_clip_norm: float | None = None,
        resume: str | os.PathLike[str] | None = None) -> History:
    """Train ``model`` in one call (Keras' ``model.fit``): builds the optimizer, schedule, task and :class:`Trainer`.

    Args:
        model: the network.
        train, val: iterables of batches (``DataLoader`` s); ``val`` is evaluated after every epoch.
        epochs: the number of epochs.
        optimizer: a :func:`~vision.train.optim.make_optimizer` name (with ``lr``, ``weight_decay``) or an optimizer.
        lr, weight_decay: for a named optimizer.
        loss: the :class:`~vision.train.task.ClassificationTask` loss (a ``make_loss`` name or callable); ignored
            when ``task`` is given.
        task: the :class:`~vision.train.task.Task`; default classification with ``loss``.
        schedule: a :func:`~vision.train.schedules.make_schedule` name (built with ``steps_per_epoch=len(train)``
            and ``epochs``), a schedule object, or None.
        callbacks, device, amp, channels_last, grad_clip_norm: as for :class:`Trainer`.
        resume: a checkpoint to continue from (see :meth:`Trainer.fit`).

    Returns:
        The :class:`History`.

    Raises:
        InputError: as :class:`Trainer`, :func:`make_optimizer` and :func:`make_schedule`; a named schedule with a
            ``train`` that has no length.
    """
    from vision.train.optim import make_optimizer
    from vision.train.schedules import make_schedule

    if isinstance(optimizer, str):
        optimizer = make_optimizer(model, optimizer, lr=lr, weight_decay=weight_decay)
    if isinstance(schedule, str):
        try:
            steps = len(train)  # type: ignore[arg-type]
        except TypeError as exc:
            raise InputError(f"fit: schedule={schedule!r} needs the number of batches per epoch; got a "
                             f"{type(train).__name__} without len(); pass a DataLoader or a schedule object") from exc
        schedule = make_schedule(optimizer, schedule, steps_per_epoch=steps, epochs=epochs)
    trainer = Trainer(model, task if task is not None else ClassificationTask(loss), optimizer=optimizer,
                      schedule=schedule, callbacks=callbacks, device=device, amp=amp, channels_last=channels_last,
                      grad_clip_norm=grad_clip_norm)
    return trainer.fit(train, val, epochs=epochs, resume=resume)
