"""Trainer callbacks: early stopping, checkpoints, CSV logs, LR reduction on plateaus, LR functions, NaN guard.

Hooks (all optional): ``on_train_begin(trainer)``, ``on_train_end(trainer)``, ``on_epoch_begin(trainer, epoch)``,
``on_epoch_end(trainer, epoch, logs)``, ``on_batch_end(trainer, step, logs)``. Epochs count from 1; ``step`` is
the trainer's global batch count (from 1). ``trainer.stop_training = True`` ends training after the current
epoch; ``trainer.stop_training_now = True`` (what :class:`TerminateOnNaN` sets) ends it after the current batch,
without that epoch's end-of-epoch work. ``state_dict()`` / ``load_state_dict()`` carry a callback's progress in
the trainer's checkpoints; a loaded state survives the next ``on_train_begin`` (that is how ``resume`` works).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vision.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from vision.train.trainer import Trainer

__all__ = [
    "CSVLogger",
    "ProgressBar",
    "Callback",
    "EarlyStopping",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]

logger = logging.getLogger(__name__)

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_end")
_MAX_WORDS = ("acc", "auc", "f1", "fbeta", "precision", "recall", "mcc", "iou", "map", "dice", "specificity")


class Callback:
    """Base class: every hook does nothing; the state is empty.

    ``main_process_only = True`` marks a callback that writes files or draws (checkpoints, logs, bars): in a
    multi-process run (``torchrun``) the trainer calls it on rank 0 only, so each file is written once.
    """

    main_process_only: bool = False

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called once when ``fit`` starts (after a resume has restored the states)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when ``fit`` ends."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Called before epoch ``epoch`` (from 1)."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        """Called after epoch ``epoch`` with its logs (``loss``, metrics, ``val_*``, ``lr``)."""

    def on_batch_end(self, trainer: Trainer, step: int, logs: Mapping[str, float]) -> None:
        """Called after each training batch with ``{"loss", "batch_size"}``."""

    def state_dict(self) -> dict[str, Any]:
        """The callback's progress, saved in the trainer's checkpoints (tensors, numbers, strings, lists, dicts)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


def _monitored(logs: Mapping[str, float], monitor: str, who: str) -> float:
    if monitor not in logs:
        raise InputError(f"{who}: monitored value {monitor!r} is not in the epoch logs; available: "
                         f"{', '.join(sorted(logs)) or 'none'}")
    return float(logs[monitor])


def _resolve_mode(mode: str, monitor: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise InputError(f"{who}: mode must be 'auto', 'min' or 'max'; got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.lower()
    return "max" if any(w in name for w in _MAX_WORDS) and "loss" not in name else "min"


def _check_monitor(monitor: Any, who: str) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise InputError(f"{who}: monitor must be a non-empty log name such as 'val_loss'; got {monitor!r}")
    return monitor


def _non_negative(value: Any, name: str, who: str, *, integer: bool = False) -> Any:
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not math.isfinite(value) or value < 0:
        kind = "an integer" if integer else "a finite number"
        raise InputError(f"{who}: {name} must be {kind} ≥ 0; got {value!r}")
    return value


class _Improvement:
    """Tracks the best value of a monitored log under ``mode`` with an absolute ``min_delta``."""

    def __init__(self, mode: str, min_delta: float) -> None:
        self.mode = mode
        self.min_delta = float(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: log name to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: epochs without improvement before stopping (≥ 0).
        min_delta: the least change (absolute) that counts as an improvement.
        mode: ``"min"``, ``"max"``, or ``"auto"`` (max for accuracy-like names, min otherwise).
        restore_best: when it stops training, load the weights of the best epoch back into the model.

    Raises:
        InputError: a bad option; at an epoch end, ``monitor`` missing from the logs (the message lists them).
    """

    def __init__(self, monitor: str = "val_loss", *, patience: int = 3, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True) -> None:
        who = "EarlyStopping"
        self.monitor = _check_monitor(monitor, who)
        self.patience = _non_negative(patience, "patience", who, integer=True)
        self.min_delta = float(_non_negative(min_delta, "min_delta", who))
        self.mode = _resolve_mode(mode, self.monitor, who)
        self.restore_best = bool(restore_best)
        self._reset()
        self._loaded = False

    def _reset(self) -> None:
        self._tracker = _Improvement(self.mode, self.min_delta)
        self.wait = 0
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, Any] | None = None

    @property
    def best(self) -> float:
        """The best monitored value so far (±inf before the first epoch)."""
        return self._tracker.best

    def on_train_begin(self, trainer: Trainer) -> None:
        if not self._loaded:
            self._reset()
        self._loaded = False

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._tracker.improved(value):
            self._tracker.best = value
            self.wait = 0
            self.best_epoch = epoch
            if self.restore_best:
                self.best_weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            logger.info("EarlyStopping: %s did not improve for %d epochs; stopping after epoch %d (best %g at "
                        "epoch %d)", self.monitor, self.wait, epoch, self.best, self.best_epoch)

    def on_train_end(self, trainer: Trainer) -> None:
        if self.stopped_epoch and self.restore_best and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
            logger.info("EarlyStopping: restored the weights of epoch %d", self.best_epoch)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._reset()
        self._tracker.best = float(state["best"])
        self.wait = int(state["wait"])
        self.best_epoch = int(state["best_epoch"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best_weights = state["best_weights"]
        self._loaded = True


class ModelCheckpoint(Callback):
    """Save a checkpoint after each epoch (or only after improving ones) to a path formatted from the logs.

    The path template is formatted with ``epoch`` and every log value, e.g.
    ``"ckpt/epoch{epoch:03d}-{val_loss:.4f}.pt"``. A full checkpoint is :meth:`Trainer.save_checkpoint` (model,
    optimizer, schedule, callbacks, RNG — resumable), written by the trainer after every callback's
    ``on_epoch_end`` (so later callbacks' states are current); ``weights_only=True`` writes the model's
    ``state_dict`` as safetensors at once instead. Files are written atomically. ``saved`` lists the paths.

    Args:
        path_template: ``str.format`` template of the file path.
        monitor: log name judged by ``save_best_only``.
        save_best_only: write only when ``monitor`` improved on the best so far.
        weights_only: write only the weights, as safetensors.
        mode: ``"min"``, ``"max"`` or ``"auto"`` for ``monitor``.

    Raises:
        InputError: a bad option; at an epoch end, the template or ``monitor`` names a value missing from the logs
            (the message lists them).
    """

    main_process_only = True

    def __init__(self, path_template: str = "ckpt/epoch{epoch:03d}-{val_loss:.4f}.pt", *,
                 monitor: str = "val_loss", save_best_only: bool = False, weights_only: bool = False,
                 mode: str = "auto") -> None:
        who = "ModelCheckpoint"
        if not isinstance(path_template, (str, Path)) or not str(path_template):
            raise InputError(f"{who}: path_template must be a non-empty path template; got {path_template!r}")
        self.path_template = str(path_template)
        self.monitor = _check_monitor(monitor, who)
        self.save_best_only = bool(save_best_only)
        self.weights_only = bool(weights_only)
        self.mode = _resolve_mode(mode, self.monitor, who)
        self._tracker = _Improvement(self.mode, 0.0)
        self.saved: list[str] = []
        self._loaded = False

    def on_train_begin(self, trainer: Trainer) -> None:
        if not self._loaded:
            self._tracker = _Improvement(self.mode, 0.0)
            self.saved = []
        self._loaded = False

    def _path(self, epoch: int, logs: Mapping[str, float]) -> Path:
        try:
            return Path(self.path_template.format(epoch=epoch, **logs))
        except KeyError as exc:
            raise InputError(f"ModelCheckpoint: path_template {self.path_template!r} names {exc.args[0]!r}, which "
                             f"is not in the epoch logs; available: epoch, {', '.join(sorted(logs))}") from exc
        except (ValueError, IndexError) as exc:
            raise InputError(f"ModelCheckpoint: cannot format path_template {self.path_template!r} with the "
                             f"epoch logs ({exc}); expected named fields such as {{epoch:03d}}") from exc

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._tracker.improved(value):
                return
            self._tracker.best = value
        path = self._path(epoch, logs)
        if self.weights_only:
            from safetensors.torch import save

            from vision.io.files import atomic_write_bytes

            tensors = {k: v.detach().cpu().contiguous().clone() for k, v in trainer.model.state_dict().items()}
            atomic_write_bytes(path, save(tensors, metadata={"epoch": str(epoch)}))
        else:  # written once every callback has finished this epoch, so their states are current
            trainer.save_checkpoint_after_epoch(path)
        self.saved.append(str(path))
        logger.info("ModelCheckpoint: epoch %d saved to %s", epoch, path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._tracker.best, "saved": list(self.saved)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._tracker = _Improvement(self.mode, 0.0)
        self._tracker.best = float(state["best"])
        self.saved = list(state["saved"])
        self._loaded = True


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the log names in sorted order (header from the first epoch).

    The whole file is rewritten atomically after each epoch, so it is never half-written. The rows are part of
    the callback's state, so a resumed run keeps the earlier rows.

    Args:
        path: the CSV file.
        separator: field separator (one character).
        append: keep the rows of an existing file (its header must match the logs' names) instead of starting
            a new file.

    Raises:
        InputError: a bad separator; with ``append``, an existing header that differs from the logs' names.
    """

    main_process_only = True

    def __init__(self, path: str | Path, *, separator: str = ",", append: bool = False) -> None:
        if not isinstance(separator, str) or len(separator) != 1 or separator in "\r\n\"":
            raise InputError(f"CSVLogger: separator must be one character other than a quote or newline; "
                             f"got {separator!r}")
        self.path = Path(path)
        self.separator = separator
        self.append = bool(append)
        self._header: list[str] | None = None
        self._rows: list[str] = []
        self._loaded = False

    def on_train_begin(self, trainer: Trainer) -> None:
        if self._loaded:
            self._loaded = False
            return
        self._header, self._rows = None, []
        if self.append and self.path.exists():
            lines = self.path.read_text(encoding="utf-8").splitlines()
            if lines:
                self._header = lines[0].split(self.separator)
                self._rows = lines[1:]

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        names = ["epoch", *sorted(logs)]
        if self._header is None:
            self._header = names
        elif self._header != names:
            raise InputError(f"CSVLogger: {self.path}: the logs now hold {names}; expected the header's columns "
                             f"{self._header}")
        self._rows.append(self.separator.join([str(epoch), *(repr(float(logs[k])) for k in names[1:])]))
        from vision.io.files import atomic_write_text

        atomic_write_text(self.path, "\n".join([self.separator.join(self._header), *self._rows]) + "\n")

    def state_dict(self) -> dict[str, Any]:
        return {"header": list(self._header) if self._header is not None else None, "rows": list(self._rows)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._header = list(state["header"]) if state["header"] is not None else None
        self._rows = list(state["rows"])
        self._loaded = True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    Wraps ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (absolute threshold ``min_delta``), built on the
    trainer's optimizer when training begins.

    Args:
        monitor: log name to watch.
        factor: in (0, 1).
        patience: epochs without improvement before reducing.
        min_lr: floor of the learning rate.
        min_delta: the least change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        mode: ``"min"``, ``"max"`` or ``"auto"``.

    Raises:
        InputError: a bad option; ``monitor`` missing from the logs (the message lists them).
    """

    def __init__(self, monitor: str = "val_loss", *, factor: float = 0.1, patience: int = 2, min_lr: float = 0.0,
                 min_delta: float = 0.0, cooldown: int = 0, mode: str = "auto") -> None:
        who = "ReduceLROnPlateau"
        self.monitor = _check_monitor(monitor, who)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
            raise InputError(f"{who}: factor must lie in (0, 1); got {factor!r}")
        self.factor = float(factor)
        self.patience = _non_negative(patience, "patience", who, integer=True)
        self.min_lr = float(_non_negative(min_lr, "min_lr", who))
        self.min_delta = float(_non_negative(min_delta, "min_delta", who))
        self.cooldown = _non_negative(cooldown, "cooldown", who, integer=True)
        self.mode = _resolve_mode(mode, self.monitor, who)
        self.scheduler: Any = None
        self._pending: Mapping[str, Any] | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        from torch.optim.lr_scheduler import ReduceLROnPlateau as TorchPlateau

        self.scheduler = TorchPlateau(trainer.optimizer, mode=self.mode, factor=self.factor, patience=self.patience,
                                      threshold=self.min_delta, threshold_mode="abs", cooldown=self.cooldown,
                                      min_lr=self.min_lr)
        if self._pending is not None:
            self.scheduler.load_state_dict(dict(self._pending))
            self._pending = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        self.scheduler.step(_monitored(logs, self.monitor, "ReduceLROnPlateau"))

    def state_dict(self) -> dict[str, Any]:
        if self.scheduler is None:
            return dict(self._pending) if self._pending is not None else {}
        return dict(self.scheduler.state_dict())

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._pending = dict(state) if state else None
        if self.scheduler is not None and self._pending is not None:
            self.scheduler.load_state_dict(dict(self._pending))
            self._pending = None


class LearningRateScheduler(Callback):
    """Set every param group's learning rate to ``fn(epoch, lr)`` before each epoch (epochs from 1).

    Args:
        fn: ``fn(epoch, current_lr) -> new_lr`` (a finite number ≥ 0).

    Raises:
        InputError: ``fn`` not callable, or it returns something other than a finite number ≥ 0.
    """

    def __init__(self, fn: Callable[[int, float], float]) -> None:
        if not callable(fn):
            raise InputError(f"LearningRateScheduler: expected a function fn(epoch, lr); got {type(fn).__name__}")
        self.fn = fn

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        for group in trainer.optimizer.param_groups:
            new = self.fn(epoch, float(group["lr"]))
            if isinstance(new, bool) or not isinstance(new, (int, float)) or not math.isfinite(new) or new < 0:
                raise InputError(f"LearningRateScheduler: fn({epoch}, {group['lr']}) returned {new!r}; expected a "
                                 "finite number ≥ 0")
            group["lr"] = float(new)


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda tr, ep, logs: ...)``.

    Args:
        **hooks: any of ``on_train_begin``, ``on_train_end``, ``on_epoch_begin``, ``on_epoch_end``,
            ``on_batch_end``, with the hook's signature.

    Raises:
        InputError: an unknown hook name or a value that is not callable.
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        unknown = sorted(set(hooks) - set(_HOOKS))
        if unknown:
            raise InputError(f"LambdaCallback: unknown hooks {unknown}; expected some of {', '.join(_HOOKS)}")
        for name, fn in hooks.items():
            if not callable(fn):
                raise InputError(f"LambdaCallback: {name} must be callable; got {type(fn).__name__}")
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """End training at once (after the current batch) when a batch loss is NaN or infinite."""

    def __init__(self) -> None:
        self.stopped_step = 0

    def on_batch_end(self, trainer: Trainer, step: int, logs: Mapping[str, float]) -> None:
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped_step = step
            trainer.stop_training = True
            trainer.stop_training_now = True
            logger.warning("TerminateOnNaN: batch %d gave loss %s; training ends", step, loss)



class ProgressBar(Callback):
    """A tqdm bar per epoch showing the running batch loss, then the epoch's logs (for the CLI and notebooks).

    Library code prints nothing by itself: this callback is the explicit opt-in. Its state is not checkpointed.

    Args:
        leave: keep each epoch's finished bar on screen.
        file: where to draw (default: stderr).
    """

    main_process_only = True

    def __init__(self, *, leave: bool = True, file: Any = None) -> None:
        self.leave, self.file = leave, file
        self._bar: Any = None

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        from tqdm.auto import tqdm

        loader = getattr(trainer, "_train_loader", None)
        try:
            total = len(loader) if loader is not None else None
        except TypeError:  # an iterable without a length
            total = None
        self._bar = tqdm(total=total, desc=f"epoch {epoch}", leave=self.leave, file=self.file, unit="batch")

    def on_batch_end(self, trainer: Trainer, step: int, logs: Mapping[str, float]) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
            self._bar.close()
            self._bar = None

    def on_train_end(self, trainer: Trainer) -> None:
        if self._bar is not None:  # stopped in the middle of an epoch
            self._bar.close()
            self._bar = None
