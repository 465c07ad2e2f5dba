"""The :class:`TensorBoard` callback: epoch and batch scalars, weight histograms and the model graph as TensorBoard
event files, written with ``torch.utils.tensorboard.SummaryWriter`` (needs the optional package ``tensorboard``).

Every event is stamped with the trainer's global step (batches trained), so epoch curves (``epoch/<name>``) and
batch curves (``batch/loss``) share one x-axis, and a resumed run continues the same steps in the same ``log_dir``.
When training resumes from a checkpoint, the writer purges the events a killed run wrote after that checkpoint
(TensorBoard's ``purge_step``), so each step appears once.

Example:
    >>> from vision.train import TensorBoard, Trainer                                     # doctest: +SKIP
    >>> trainer = Trainer(model, task, optimizer=opt, callbacks=[TensorBoard("runs/tb", update_freq=10)])  # doctest: +SKIP
    >>> trainer.fit(train, val, epochs=5)       # then: tensorboard --logdir runs/tb      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vision.errors import InputError, MissingDependencyError
from vision.train.callbacks import Callback

if TYPE_CHECKING:  # pragma: no cover
    from vision.train.trainer import Trainer

__all__ = ["TensorBoard"]

logger = logging.getLogger(__name__)


def _summary_writer_class() -> Any:
    """``torch.utils.tensorboard.SummaryWriter``, or an :class:`InputError` saying how to install the package."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise MissingDependencyError("TensorBoard: the optional package tensorboard is not installed (pip install tensorboard, "
                         "or pip install 'vision[tensorboard]'); expected it to write the event files") from exc
    return SummaryWriter


class TensorBoard(Callback):
    """Write training curves, weight histograms and the model graph for TensorBoard (``tensorboard --logdir``).

    What is written, every event at the trainer's global step (batches trained so far):

    * ``epoch/<name>`` after each epoch, for every log (``loss``, ``accuracy``, ``val_*``, ``lr``, …);
    * ``batch/loss`` every ``update_freq`` batches when it is an integer: the batch-size-weighted mean loss of the
      batches since the previous write;
    * ``weights/<parameter name>`` histograms every ``histogram_freq`` epochs;
    * the model graph once, traced on the first training batch's input (one sample, in eval mode and without
      gradients, so training is not disturbed), when ``write_graph`` is set.

    The writer is opened when training begins and flushed after each epoch; it is closed when training ends, also
    when it stops early or fails. The step of the last write (and a partly filled ``update_freq`` window) is the
    callback's checkpointed state, so a run resumed from a checkpoint appends to the same ``log_dir`` with
    continuing steps, and events written after that checkpoint by the interrupted run are purged.

    Args:
        log_dir: the folder of the event files (one TensorBoard run); created when training begins.
        update_freq: ``"epoch"`` (scalars once per epoch only) or an integer ≥ 1: also write ``batch/loss`` every
            that many batches (``"batch"`` means 1).
        histogram_freq: write weight histograms every that many epochs (0 = never).
        write_graph: write the model graph (traced with ``torch.jit.trace``; a model that cannot be traced logs a
            warning and training goes on).

    Raises:
        InputError: a bad option, or the package ``tensorboard`` is not installed (the message says
            ``pip install tensorboard``).
    """

    main_process_only = True

    def __init__(self, log_dir: str | os.PathLike[str] = "runs/tensorboard", *, update_freq: str | int = "epoch",
                 histogram_freq: int = 0, write_graph: bool = False) -> None:
        who = "TensorBoard"
        if not isinstance(log_dir, (str, os.PathLike)) or not str(log_dir):
            raise InputError(f"{who}: log_dir must be a non-empty folder path; got {log_dir!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, int)
                                       or update_freq < 1):
            raise InputError(f"{who}: update_freq must be 'epoch', 'batch' or an integer ≥ 1 (batches between "
                             f"writes); got {update_freq!r}")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise InputError(f"{who}: histogram_freq must be an integer ≥ 0 (epochs between histograms, 0 = "
                             f"never); got {histogram_freq!r}")
        if not isinstance(write_graph, bool):
            raise InputError(f"{who}: write_graph must be True or False; got {write_graph!r}")
        self._writer_class = _summary_writer_class()
        self.log_dir = Path(log_dir)
        self.update_freq: str | int = update_freq
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.step = 0  # the global step of the last write
        self._window_loss, self._window_count = 0.0, 0
        self._writer: Any = None
        self._graph_input: tuple[Any, ...] | None = None
        self._graph_hook: Any = None
        self._graph_done = False
        self._loaded = False

    @property
    def writer(self) -> Any:
        """The open ``SummaryWriter`` while training runs (None before and after), e.g. to add images."""
        return self._writer

    # ------------------------------------------------------------------------------------------------
    # hooks
    # ------------------------------------------------------------------------------------------------
    def on_train_begin(self, trainer: Trainer) -> None:
        self._close()
        purge_step = None
        if self._loaded:  # resumed: drop what an interrupted run wrote after the checkpoint
            purge_step = self.step + 1
        elif trainer.global_step == 0:  # a fresh run (a continued fit on the same trainer keeps its window)
            self.step = 0
            self._window_loss, self._window_count = 0.0, 0
        self._loaded = False
        self._writer = self._writer_class(log_dir=str(self.log_dir), purge_step=purge_step)
        self._graph_done = not self.write_graph
        if self.write_graph:
            self._graph_hook = _unwrap(trainer.model).register_forward_pre_hook(self._capture_input)
        logger.info("TensorBoard: writing to %s%s", self.log_dir,
                    f" (resumed after step {self.step})" if purge_step is not None else "")

    def on_batch_end(self, trainer: Trainer, step: int, logs: Mapping[str, float]) -> None:
        if self._writer is None:
            return
        if not self._graph_done and self._graph_input is not None:
            self._add_graph(trainer)
        if self.update_freq == "epoch":
            return
        size = int(logs.get("batch_size", 1))
        self._window_loss += float(logs["loss"]) * size
        self._window_count += size
        if step % int(self.update_freq) == 0 and self._window_count:
            self._writer.add_scalar("batch/loss", self._window_loss / self._window_count, step)
            self._window_loss, self._window_count = 0.0, 0
            self.step = step

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Mapping[str, float]) -> None:
        if self._writer is None:
            return
        step = trainer.global_step
        for name, value in logs.items():
            self._writer.add_scalar(f"epoch/{name}", float(value), step)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, param in _unwrap(trainer.model).named_parameters():
                self._writer.add_histogram(f"weights/{name}", param.detach().cpu(), step)
        self._writer.flush()
        self.step = step

    def on_train_end(self, trainer: Trainer) -> None:
        self._close()

    def state_dict(self) -> dict[str, Any]:
        return {"step": int(self.step), "window_loss": float(self._window_loss),
                "window_count": int(self._window_count)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.step = int(state["step"])
        self._window_loss = float(state["window_loss"])
        self._window_count = int(state["window_count"])
        self._loaded = True

    # ------------------------------------------------------------------------------------------------
    # internals
    # ------------------------------------------------------------------------------------------------
    def _capture_input(self, module: Any, args: tuple[Any, ...]) -> None:
        """Forward pre-hook: keep the first sample of the first training input, then remove the hook."""
        import torch

        self._graph_input = tuple(a.detach()[:1].clone() if isinstance(a, torch.Tensor) else a for a in args)
        self._remove_hook()

    def _add_graph(self, trainer: Trainer) -> None:
        import torch

        model = _unwrap(trainer.model)
        example = self._graph_input
        self._graph_done, self._graph_input = True, None
        was_training = model.training
        model.eval()  # no batch-norm statistics move, no dropout randomness is drawn
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._writer.add_graph(model, example[0] if len(example) == 1 else example)
        except Exception as exc:  # a model jit.trace cannot follow must not stop training
            logger.warning("TensorBoard: could not trace the model graph of %s (%s: %s); no graph written",
                           type(model).__name__, type(exc).__name__, exc)
        finally:
            model.train(was_training)

    def _remove_hook(self) -> None:
        if self._graph_hook is not None:
            self._graph_hook.remove()
            self._graph_hook = None

    def _close(self) -> None:
        self._remove_hook()
        self._graph_input = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __repr__(self) -> str:
        return (f"TensorBoard({str(self.log_dir)!r}, update_freq={self.update_freq!r}, "
                f"histogram_freq={self.histogram_freq}, write_graph={self.write_graph})")


def _unwrap(model: Any) -> Any:
    """The module inside a ``DistributedDataParallel`` / ``DataParallel`` wrapper (the model itself otherwise)."""
    from torch import nn

    if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        return model.module
    return model
