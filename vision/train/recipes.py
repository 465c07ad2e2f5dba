"""Ready-made training runs behind ``vision train``: data → model → Trainer → checkpoint, curves, confusion matrix."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError

__all__ = ["ClassifierRun", "train_classifier", "CLASSIFY_DATASETS"]

log = logging.getLogger(__name__)

CLASSIFY_DATASETS = ("fashion-mnist", "digits")


@dataclass
class ClassifierRun:
    """What :func:`train_classifier` wrote and measured."""

    out_dir: Path
    history: dict[str, list[float]]
    test: dict[str, Any]
    checkpoint: Path
    files: list[Path]


def _load(data: str, subset: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple]:
    """Train and test images as N×28×28 uint8 with labels; digits are resized from 8×8 and split 80/20."""
    import cv2

    from vision.data import load_digits_dataset, load_fashion_mnist, random_split

    if data == "fashion-mnist":
        x, y, names = load_fashion_mnist("train")
        xt, yt, _ = load_fashion_mnist("test")
    elif data == "digits":
        images, labels, names = load_digits_dataset()
        images = np.stack([cv2.resize(im, (28, 28), interpolation=cv2.INTER_LINEAR) for im in images])
        parts = random_split(len(images), fractions={"train": 0.8, "test": 0.2}, seed=seed)
        x, y, xt, yt = images[parts["train"]], labels[parts["train"]], images[parts["test"]], labels[parts["test"]]
    else:
        raise InputError(f"data: expected one of {list(CLASSIFY_DATASETS)}, got {data!r}")
    if subset is not None:
        if subset < 20:
            raise InputError(f"subset: expected at least 20 training images, got {subset}")
        order = np.random.default_rng(seed).permutation(len(x))[:subset]
        x, y = x[order], y[order]
    return x, y, xt, yt, tuple(names)


def train_classifier(*, data: str = "fashion-mnist", model: str = "fmnist-cnn", epochs: int = 5,
                     batch_size: int = 128, lr: float = 3e-3, subset: int | None = None, val_fraction: float = 0.1,
                     out_dir: str | Path = "runs/train/classify", seed: int = 0, progress: bool = False) -> ClassifierRun:
    """Train a registered classifier on an offline dataset with AdamW + one-cycle and report test accuracy.

    Writes to ``out_dir``: ``best.pt`` (resumable checkpoint of the best validation accuracy), ``history.csv``,
    ``curves.png``, ``confusion_matrix.png`` and ``metrics.json``.

    Args:
        data: ``fashion-mnist`` (Debian package ``dataset-fashion-mnist``) or ``digits`` (scikit-learn, resized to 28×28).
        model: a registered ``classify`` model taking N×1×28×28 input.
        epochs, batch_size, lr: the run (lr is one-cycle's peak).
        subset: train on this many random training images (None = all).
        val_fraction: share of the training images held out for validation (model selection).
        out_dir: where the files go.
        seed: seeds the split, shuffling and initialisation.
        progress: draw a progress bar per epoch.
    Raises:
        InputError: unknown data, bad sizes; SourceNotFoundError: Fashion-MNIST files missing.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from vision.data import random_split
    from vision.metrics import classification_report, plot_confusion_matrix, plot_history
    from vision.models import create_model, model_spec
    from vision.train import (ClassificationTask, CSVLogger, ModelCheckpoint, ProgressBar, Trainer, make_optimizer,
                              make_schedule)

    if model_spec(model).task != "classify":
        raise InputError(f"model: expected a classify model, got {model!r} ({model_spec(model).task})")
    if not 0.0 < val_fraction < 0.5:
        raise InputError(f"val_fraction: expected a value in (0, 0.5), got {val_fraction}")
    x, y, xt, yt, names = _load(data, subset, seed)
    parts = random_split(len(x), fractions={"train": 1 - val_fraction, "val": val_fraction}, seed=seed)

    def tensors(images: np.ndarray, labels: np.ndarray) -> TensorDataset:
        return TensorDataset(torch.from_numpy(images).float().div_(255.0).unsqueeze(1), torch.from_numpy(labels).long())

    torch.manual_seed(seed)
    train = DataLoader(tensors(x[parts["train"]], y[parts["train"]]), batch_size=batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    val = DataLoader(tensors(x[parts["val"]], y[parts["val"]]), batch_size=512)
    test = DataLoader(tensors(xt, yt), batch_size=512)
    net = create_model(model, num_classes=len(names))
    optimizer = make_optimizer(net, "adamw", lr=lr, weight_decay=5e-4)
    schedule = make_schedule(optimizer, "onecycle", steps_per_epoch=len(train), epochs=epochs)
    out = Path(out_dir)
    best = out / "best.pt"
    callbacks = [ModelCheckpoint(str(best), monitor="val_accuracy", save_best_only=True),
                 CSVLogger(out / "history.csv")]
    if progress:
        callbacks.append(ProgressBar())
    trainer = Trainer(net, ClassificationTask(), optimizer=optimizer, schedule=schedule, callbacks=callbacks)
    history = trainer.fit(train, val, epochs=epochs)
    trainer.load_checkpoint(best)  # test the best validation epoch, not the last
    logits = torch.cat(trainer.predict(test))
    report = classification_report(yt, logits.argmax(1).numpy(), num_classes=len(names))
    test_metrics = {"accuracy": float(report.accuracy), "macro_f1": float(report.f1), "images": int(len(yt)),
                    "best_epoch": int(trainer.epoch)}
    from vision.io.files import atomic_write_text

    plot_history(history, path=out / "curves.png")
    plot_confusion_matrix(report.confusion, names=list(names), path=out / "confusion_matrix.png")
    files = [best, out / "history.csv", out / "curves.png", out / "confusion_matrix.png"]
    files.append(atomic_write_text(out / "metrics.json", json.dumps(
        {"data": data, "model": model, "epochs": epochs, "subset": subset, "test": test_metrics,
         "history": history.history}, indent=2)))
    log.info("%s on %s: test accuracy %.4f", model, data, test_metrics["accuracy"])
    return ClassifierRun(out, dict(history.history), test_metrics, best, files)
