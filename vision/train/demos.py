"""Small, fast training runs for demos and apps: ``fmnist-cnn`` on scikit-learn's digits in a few seconds.

Everything goes through the public library: :func:`vision.data.load_digits_dataset` →
:func:`vision.data.from_arrays` → :func:`vision.data.stratified_split` → :func:`vision.data.classification_loaders`
(which resizes the 8×8 digits to 28×28) → :func:`vision.train.fit` with a
:class:`~vision.train.LambdaCallback` for live updates → :func:`vision.metrics.classification_report` on a held-out
test split. Nothing is written to disk; the CLI's checkpointed runs are :func:`vision.train.train_classifier`.

Example:
    >>> from vision.train.demos import train_digits                                 # doctest: +SKIP
    >>> run = train_digits(epochs=3, on_epoch_end=lambda epoch, logs: print(epoch, logs["val_accuracy"]))
    >>> round(run.accuracy, 2)                                                      # doctest: +SKIP
    0.95
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import InputError

if TYPE_CHECKING:
    from torch import nn

__all__ = ["DIGITS_SIZE", "DigitsRun", "train_digits"]

log = logging.getLogger(__name__)

#: the side the 8×8 digits are resized to: the input size of ``fmnist-cnn``
DIGITS_SIZE = 28


@dataclass(frozen=True)
class DigitsRun:
    """What :func:`train_digits` trained and measured.

    Attributes:
        model: the trained network (eval mode, on the CPU).
        history: per-epoch logs (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``).
        accuracy: accuracy on the held-out test split.
        macro_f1: macro-averaged F1 on the test split.
        confusion: C×C test confusion matrix (true in rows, predicted in columns).
        names: the class names ("0" … "9").
        train_images, val_images, test_images: the split sizes.
        seconds: wall time of the whole run.
    """

    model: nn.Module
    history: dict[str, list[float]]
    accuracy: float
    macro_f1: float
    confusion: np.ndarray
    names: tuple[str, ...]
    train_images: int
    val_images: int
    test_images: int
    seconds: float


def _check(epochs: Any, lr: Any, batch_size: Any, test_fraction: Any, val_fraction: Any, seed: Any,
           on_epoch_end: Any) -> None:
    def integer(value: Any) -> bool:
        return not isinstance(value, bool) and isinstance(value, (int, np.integer))

    def number(value: Any) -> bool:
        return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
            and math.isfinite(float(value))

    if not integer(epochs) or not 1 <= epochs <= 100:
        raise InputError(f"train_digits: epochs must be an integer in [1, 100]; got {epochs!r}")
    if not number(lr) or not 0 < float(lr) <= 1:
        raise InputError(f"train_digits: lr must be a number in (0, 1]; got {lr!r}")
    if not integer(batch_size) or batch_size < 1:
        raise InputError(f"train_digits: batch_size must be an integer ≥ 1; got {batch_size!r}")
    for name, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not number(value) or not 0 < float(value) < 0.5:
            raise InputError(f"train_digits: {name} must be a number in (0, 0.5); got {value!r}")
    if not integer(seed) or seed < 0:
        raise InputError(f"train_digits: seed must be an integer ≥ 0; got {seed!r}")
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise InputError(f"train_digits: on_epoch_end must be callable or None; got {on_epoch_end!r}")


def train_digits(*, epochs: int = 3, lr: float = 3e-3, batch_size: int = 64, test_fraction: float = 0.2,
                 val_fraction: float = 0.1, seed: int = 0,
                 on_epoch_end: Callable[[int, Mapping[str, float]], None] | None = None) -> DigitsRun:
    """Train the registered ``fmnist-cnn`` on scikit-learn's 1797 digits (resized to 28×28) and test it.

    The digits are split stratified by class into train/test (``test_fraction``); ``val_fraction`` of the training
    part is held out for per-epoch validation. AdamW (weight decay 5e-4) with a one-cycle schedule peaking at
    ``lr``; 3 epochs reach > 90 % test accuracy in a few seconds on 2 CPU cores.

    Args:
        epochs: training epochs (1–100).
        lr: the one-cycle schedule's peak learning rate, in (0, 1].
        batch_size: training batch size.
        test_fraction, val_fraction: held-out shares, each in (0, 0.5).
        seed: seeds the splits, the shuffling and the initialisation.
        on_epoch_end: called after every epoch as ``on_epoch_end(epoch, logs)`` with the epoch's number (from 1)
            and its logs (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``), e.g. to draw live curves.
    Returns:
        A :class:`DigitsRun`.
    Raises:
        InputError: a bad argument (checked before anything is loaded or trained).
    """
    _check(epochs, lr, batch_size, test_fraction, val_fraction, seed, on_epoch_end)
    import torch
    from torch.utils.data import DataLoader

    from vision.data import (
        ImageClassificationDataset,
        classification_loaders,
        from_arrays,
        load_digits_dataset,
        stratified_split,
    )
    from vision.metrics import classification_report
    from vision.models import create_model
    from vision.train import LambdaCallback, fit

    start = time.perf_counter()
    images, labels, names = load_digits_dataset()
    table = from_arrays(images, labels, names=names)
    parts = stratified_split(table.labels, fractions={"train": 1 - test_fraction, "test": test_fraction}, seed=seed)
    train_table, test_table = table.subset(parts["train"]), table.subset(parts["test"])
    train, val = classification_loaders(train_table, size=DIGITS_SIZE, batch_size=int(batch_size),
                                        val=float(val_fraction), seed=int(seed), channels=1)
    test = DataLoader(ImageClassificationDataset(test_table, size=DIGITS_SIZE, channels=1, seed=int(seed)),
                      batch_size=256, shuffle=False)

    torch.manual_seed(seed)
    net = create_model("fmnist-cnn", num_classes=len(names))
    callbacks = []
    if on_epoch_end is not None:
        callbacks.append(LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: on_epoch_end(epoch, dict(logs))))
    history = fit(net, train, val, epochs=int(epochs), optimizer="adamw", lr=float(lr), weight_decay=5e-4,
                  schedule="onecycle", callbacks=callbacks)

    net.eval()
    predicted = []
    with torch.inference_mode():
        for x, _ in test:
            predicted.append(net(x).argmax(1))
    report = classification_report(test_table.labels, torch.cat(predicted).numpy(), num_classes=len(names))
    seconds = time.perf_counter() - start
    log.info("fmnist-cnn on digits, %d epochs: test accuracy %.4f in %.1f s", epochs, report.accuracy, seconds)
    return DigitsRun(model=net, history={k: list(v) for k, v in history.history.items()},
                     accuracy=float(report.accuracy), macro_f1=float(report.f1),
                     confusion=np.asarray(report.confusion), names=tuple(names), train_images=len(train.dataset),
                     val_images=len(val.dataset), test_images=len(test_table), seconds=seconds)
