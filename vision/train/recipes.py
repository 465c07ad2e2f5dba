"""Ready-made runs behind ``vision train classify`` and ``vision val``: data → model → Trainer → files → bundle.

:func:`train_classifier` trains any registered ``classify`` model (or a torchvision/timm backbone by name) on an
offline dataset (``fashion-mnist``, ``digits``), an image folder (``root/<class>/<image>``, or the Ultralytics
layout ``root/train|val|test/<class>/<image>``) or a CSV label file; from scratch, or from ImageNet weights with
the two-phase transfer recipe (:func:`~vision.models.classification.transfer_learn`). It writes the resumable
best checkpoint, the history, curves, the confusion matrix, the metrics and the saved-classifier bundle
(``model.json`` + ``weights.safetensors``, :mod:`vision.models.classification.bundle`) of the best epoch.
:func:`evaluate_classifier` scores such a bundle on a dataset.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import DatasetError, InputError, SourceNotFoundError, UnknownModelError

if TYPE_CHECKING:
    from vision.data.formats.classification import ClassificationTable

__all__ = ["CLASSIFY_DATASETS", "ClassifierRun", "evaluate_classifier", "train_classifier"]

log = logging.getLogger(__name__)

#: the built-in offline datasets ``data=`` names
CLASSIFY_DATASETS = ("fashion-mnist", "digits")
#: split folder names of the Ultralytics classification layout
_SPLIT_DIRS = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
#: in-memory datasets without augmentation up to this size are turned into tensors once, not per epoch
_MATERIALIZE_BYTES = 1 << 30


@dataclass
class ClassifierRun:
    """What :func:`train_classifier` wrote and measured (``bundle``: the saved-classifier folder)."""

    out_dir: Path
    history: dict[str, list[float]]
    test: dict[str, Any]
    checkpoint: Path
    files: list[Path]
    bundle: Path | None = None
    classes: list[str] = field(default_factory=list)


@dataclass
class _Splits:
    train: ClassificationTable
    val: ClassificationTable | None  # None: hold out val_fraction of train
    test: ClassificationTable | None  # None: hold out a fraction of train
    names: list[str]


# ---------------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------------
def _builtin(data: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Train and test images as N×28×28 uint8 with labels; digits are resized from 8×8 and split 80/20."""
    import cv2

    from vision.data import load_digits_dataset, load_fashion_mnist, random_split

    if data == "fashion-mnist":
        x, y, names = load_fashion_mnist("train")
        xt, yt, _ = load_fashion_mnist("test")
    else:
        images, labels, names = load_digits_dataset()
        images = np.stack([cv2.resize(im, (28, 28), interpolation=cv2.INTER_LINEAR) for im in images])
        parts = random_split(len(images), fractions={"train": 0.8, "test": 0.2}, seed=seed)
        x, y, xt, yt = images[parts["train"]], labels[parts["train"]], images[parts["test"]], labels[parts["test"]]
    return x, y, xt, yt, list(names)


def _layout(root: Path) -> dict[str, Path] | None:
    """``{"train": …, "val": …, "test": …}`` for a ``root/train|val|test/<class>`` folder, else None."""
    subdirs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    known = {name: split for split, names in _SPLIT_DIRS.items() for name in names}
    if not subdirs or any(d.name not in known for d in subdirs) or not (root / "train").is_dir():
        return None
    return {known[d.name]: d for d in subdirs}


def _read_table(source: str | Path, *, image_col: str, label_col: str,
                classes: list[str] | None = None) -> ClassificationTable:
    """An image folder or a CSV label file (ids of a CSV index ``classes`` when given)."""
    from vision.data import read_csv_labels, read_image_folder

    path = Path(source)
    if path.is_dir():
        return read_image_folder(path)
    if path.is_file():
        return read_csv_labels(path, image_col=image_col, label_col=label_col, classes=classes)
    raise SourceNotFoundError(f"data: {str(source)!r} is neither one of {list(CLASSIFY_DATASETS)}, an image folder "
                              "(root/<class>/<image>) nor a CSV label file; the path does not exist")


def _align(table: ClassificationTable, names: list[str], where: str) -> ClassificationTable:
    """``table`` with its labels re-indexed into ``names`` (a class of ``table`` missing there is an error)."""
    from vision.data import ClassificationTable

    if list(table.classes) == list(names):
        return table
    unknown = [c for c in table.classes if c not in names]
    if unknown:
        raise DatasetError(f"{where}: unknown class folder(s) or label(s) {unknown[:10]}; the model's classes are "
                           f"{names[:20]} (expected the same class names)")
    index = np.asarray([names.index(c) for c in table.classes], dtype=np.int64)
    return ClassificationTable(list(names), index[table.labels] if len(table) else table.labels,
                               paths=table.paths, images=table.images)


def _holdout(table: ClassificationTable, fraction: float, seed: int, what: str
             ) -> tuple[ClassificationTable, ClassificationTable]:
    from vision.data import stratified_split

    parts = stratified_split(table.labels, fractions={"keep": 1 - fraction, "out": fraction}, seed=seed)
    if not len(parts["keep"]) or not len(parts["out"]):
        raise DatasetError(f"{what}={fraction:g} of {len(table)} images leaves {len(parts['keep'])} for training and "
                           f"{len(parts['out'])} held out; expected at least one in each (more images needed)")
    return table.subset(parts["keep"]), table.subset(parts["out"])


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 0.5:
        raise InputError(f"{name}: expected a fraction in (0, 0.5), got {value!r}")
    return float(value)


def _splits(data: str | Path, *, test: Any, subset: int | None, seed: int, image_col: str,
            label_col: str) -> _Splits:
    """The train / val / test tables of ``data`` (see :func:`train_classifier`)."""
    from vision.data import from_arrays

    val = test_table = None
    if str(data) in CLASSIFY_DATASETS and not Path(str(data)).exists():
        x, y, xt, yt, names = _builtin(str(data), seed)
        train = from_arrays(x, y, names=names)
        if test is None:
            test_table = from_arrays(xt, yt, names=names)
    else:
        root = Path(data)
        layout = _layout(root) if root.is_dir() else None
        if layout is not None:
            train = _read_table(layout["train"], image_col=image_col, label_col=label_col)
            names = list(train.classes)
            if "val" in layout:
                val = _align(_read_table(layout["val"], image_col=image_col, label_col=label_col), names,
                             str(layout["val"]))
            if "test" in layout and test is None:
                test_table = _align(_read_table(layout["test"], image_col=image_col, label_col=label_col), names,
                                    str(layout["test"]))
        else:
            train = _read_table(root, image_col=image_col, label_col=label_col)
            names = list(train.classes)
    if isinstance(test, (str, Path)):
        test_table = _align(_read_table(test, image_col=image_col, label_col=label_col, classes=names), names,
                            f"test {str(test)!r}")
    elif test_table is None:
        fraction = 0.2 if test is None else _check_fraction(test, "test")
        train, test_table = _holdout(train, fraction, seed, "test")
    if subset is not None:
        if isinstance(subset, bool) or not isinstance(subset, int) or subset < 20:
            raise InputError(f"subset: expected at least 20 training images, got {subset}")
        order = np.sort(np.random.default_rng(seed).permutation(len(train))[:subset])
        train = train.subset(order)
    return _Splits(train, val, test_table, names)


def _tensors(table: ClassificationTable, ds: Any, channels: int, size: tuple[int, int]) -> Any:
    """All items of an in-memory table as one ``TensorDataset`` (a vectorised path for same-size gray arrays)."""
    import torch
    from torch.utils.data import TensorDataset

    images = table.images
    if images.ndim == 3 and images.dtype == np.uint8 and channels == 1 and images.shape[1:] == size:
        x = torch.from_numpy(images).float().div_(255.0).unsqueeze(1)
        if ds.normalize is not None:
            mean, std = ds.normalize
            x = (x - float(mean[0])) / float(std[0])
    else:
        x = torch.stack([ds[i][0] for i in range(len(ds))])
    return TensorDataset(x, torch.from_numpy(table.labels).long())


def _loader(table: ClassificationTable, *, train: bool, size: tuple[int, int], channels: int, normalize: Any,
            augment: Any, batch_size: int, seed: int, num_workers: int) -> Any:
    """A ``DataLoader`` of ``table``: shuffled (seeded) and augmented for training, in order otherwise."""
    import torch
    from torch.utils.data import DataLoader

    from vision.data import ImageClassificationDataset, classification_loaders

    if train and augment is not None:
        loader, _ = classification_loaders(table, size=size, batch_size=batch_size, augment=augment, seed=seed,
                                           num_workers=num_workers, channels=channels, normalize=normalize)
        return loader
    ds = ImageClassificationDataset(table, size=size, channels=channels, normalize=normalize, seed=seed)
    if table.images is not None and len(table) * channels * size[0] * size[1] * 4 <= _MATERIALIZE_BYTES:
        ds, num_workers = _tensors(table, ds, channels, size), 0
    if train:
        return DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=num_workers,
                          generator=torch.Generator().manual_seed(seed))
    return DataLoader(ds, batch_size=max(batch_size, 256), shuffle=False, num_workers=num_workers)


# ---------------------------------------------------------------------------------------------------------------
# the model and its input
# ---------------------------------------------------------------------------------------------------------------
def _config_fields(factory: Any) -> dict[str, Any]:
    """Field name → default of the :class:`~vision.models.ModelConfig` a registered factory takes as ``config=``."""
    import dataclasses
    import inspect
    import typing

    from vision.models.config import ModelConfig

    param = inspect.signature(factory).parameters.get("config")
    hint = param.annotation if param is not None else None
    if isinstance(hint, str):  # postponed annotations: "SmallCNNConfig | dict | None", names from the factory's module
        scope = getattr(factory, "__globals__", {})
        candidates = [scope.get(part.strip()) for part in hint.split("|")]
    else:
        candidates = list(typing.get_args(hint)) or [hint]
    for cls in candidates:
        if isinstance(cls, type) and issubclass(cls, ModelConfig):
            return {f.name: f.default for f in dataclasses.fields(cls)}
    return {}


@dataclass
class _Input:
    size: tuple[int, int]
    channels: int
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None

    def preprocessing(self) -> Any:
        from vision.models.classification import Preprocessing

        mean, std = self.normalize if self.normalize is not None else ((0.0,) * self.channels, (1.0,) * self.channels)
        return Preprocessing(input_size=self.size, resize=None, interpolation="bilinear",
                             colour="gray" if self.channels == 1 else "rgb", scale=1.0 / 255.0,
                             mean=tuple(mean), std=tuple(std))


def _build_model(model: str, *, num_classes: int, pretrained: bool, channels: int | None,
                 image_size: int | None) -> tuple[Any, _Input]:
    """The network (a registered classify model, or a backbone arch by name) and the input it is trained on."""
    from vision.models import create_model, model_spec
    from vision.models.classification import BACKBONES, Preprocessing
    from vision.weights import get_entry

    options: dict[str, Any] = {}
    try:
        spec = model_spec(model)
    except UnknownModelError as exc:
        if model not in BACKBONES:
            raise UnknownModelError(f"{exc}; or a backbone architecture: {', '.join(BACKBONES)}") from None
        spec, options = model_spec("backbone"), {"arch": model}
    if spec.task != "classify":
        raise InputError(f"model: expected a classify model, got {model!r} ({spec.task})")
    fields = _config_fields(spec.factory)
    if "num_classes" not in fields:
        raise InputError(f"model: {model!r} has no num_classes option; expected a classifier whose head can be sized")
    options["num_classes"] = num_classes
    if pretrained and "pretrained" not in fields:
        raise InputError(f"model: {model!r} has no pretrained weights; train it from scratch (no --pretrained) or "
                         f"use efficientnet-lite0 or a backbone such as {', '.join(BACKBONES[:3])}")
    if "pretrained" in fields:
        options["pretrained"] = bool(pretrained)
    chan_key = next((k for k in ("in_channels", "in_chans") if k in fields), None)
    default_channels = fields[chan_key] if chan_key else 3
    if channels is None:
        channels = 3 if pretrained else default_channels
    if isinstance(channels, bool) or channels not in (1, 3):
        raise InputError(f"channels: expected 1 (gray) or 3 (RGB), got {channels!r}")
    if channels != default_channels:
        if chan_key is None:
            raise InputError(f"channels: {model!r} takes {default_channels}-channel input only; got {channels}")
        options[chan_key] = channels
    if image_size is None:
        image_size = fields.get("input_size") if isinstance(fields.get("input_size"), int) else None
    if image_size is not None and "input_size" in fields:
        options["input_size"] = image_size
    net = create_model(spec.name, **options)
    weights = getattr(net, "weights_name", None)
    pre = Preprocessing.from_manifest(get_entry(weights).preprocessing, where=weights) if weights else None
    if image_size is None:
        image_size = pre.input_size[0] if pre is not None else 28
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise InputError(f"image_size: expected an integer ≥ 8 (pixels a side), got {image_size!r}")
    normalize = None
    if pretrained and pre is not None:  # the weights' (p·scale − mean)/std as the dataset's (p/255 − m)/s
        factor = 255.0 * pre.scale
        mean, std = [m / factor for m in pre.mean], [s / factor for s in pre.std]
        if channels == 1:  # a first convolution adapted to gray input: one value for the one channel
            mean, std = [float(np.mean(mean))], [float(np.mean(std))]
        normalize = (tuple(mean), tuple(std))
    return net, _Input((image_size, image_size), channels, normalize)


# ---------------------------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------------------------
def _transfer_plan(net: Any, freeze: Any, epochs: int, head_epochs: int | None) -> tuple[int, int, int]:
    """``(head_epochs, fine_tune_epochs, last_blocks)`` of a ``freeze=`` run."""
    from vision.models.classification import backbone_blocks

    n = len(backbone_blocks(net))
    if isinstance(freeze, bool) or not isinstance(freeze, int) or not 0 <= freeze <= n:
        raise InputError(f"freeze: expected None (train everything) or 0…{n} (the first blocks kept frozen while "
                         f"fine-tuning; {n} = train the head only) for this model; got {freeze!r}")
    last = n - freeze
    if head_epochs is None:
        head_epochs = epochs if last == 0 else max(1, epochs // 2)
    if isinstance(head_epochs, bool) or not isinstance(head_epochs, int) or not 0 <= head_epochs <= epochs:
        raise InputError(f"head_epochs: expected an integer in [0, epochs={epochs}], got {head_epochs!r}")
    return head_epochs, (epochs - head_epochs) if last else 0, last


def train_classifier(*, data: str | Path = "fashion-mnist", model: str = "fmnist-cnn", epochs: int = 5,
                     batch_size: int = 128, lr: float = 3e-3, subset: int | None = None, val_fraction: float = 0.1,
                     out_dir: str | Path = "runs/train/classify", seed: int = 0, progress: bool = False,
                     pretrained: bool = False, freeze: int | None = None, head_epochs: int | None = None,
                     base_lr: float | None = None, image_size: int | None = None, channels: int | None = None,
                     augment: str | None = None, test: float | str | Path | None = None,
                     image_col: str = "filename", label_col: str = "label", weight_decay: float = 5e-4,
                     num_workers: int = 0) -> ClassifierRun:
    """Train a classifier with AdamW + one-cycle, keep its best validation epoch, and report test metrics.

    Writes to ``out_dir``: ``best.pt`` (resumable checkpoint of the best validation accuracy), ``history.csv``,
    ``curves.png``, ``confusion_matrix.png``, ``metrics.json`` and the bundle of the best epoch, ``model.json`` +
    ``weights.safetensors`` (:func:`~vision.models.classification.load_classifier` reads it).

    Args:
        data: ``fashion-mnist`` (Debian package ``dataset-fashion-mnist``), ``digits`` (scikit-learn, resized to
            28×28, split 80/20), an image folder ``root/<class>/<image>`` (or ``root/train|val|test/<class>/…``),
            or a CSV file of image paths (relative to the CSV) and labels. Gray, RGBA and RGB images may be mixed:
            each is converted to the model's input.
        model: a registered ``classify`` model (``fmnist-cnn``, ``lenet``, ``resnet-small``, ``efficientnet-lite0``,
            ``backbone`` …) or a backbone arch name (``resnet18``, ``mobilenet_v3_small``, …).
        epochs, batch_size, lr: the run (``lr`` is one-cycle's peak; with ``freeze`` the head's rate).
        subset: train on this many random training images (None = all).
        val_fraction: share of the training images held out for validation (stratified) when ``data`` has no
            ``val/`` folder.
        out_dir: where the files go.
        seed: seeds the splits, shuffling, augmentation and initialisation.
        progress: draw a progress bar per epoch.
        pretrained: start from the model's ImageNet weights (input normalised as those weights expect, RGB).
        freeze: None trains everything from the start; an integer runs the two-phase transfer recipe — the head
            alone on the frozen base for ``head_epochs``, then fine-tuning with the first ``freeze`` blocks of the
            base still frozen (0 = fine-tune the whole base; the model's number of blocks = train the head only).
        head_epochs: phase-1 epochs with ``freeze`` (default half of ``epochs``, all of them when nothing is
            fine-tuned).
        base_lr: the fine-tuned base's rate with ``freeze`` (default ``lr / 10``).
        image_size: input side in pixels (default the model's: 28 for the small CNNs, the weights' 224 for
            ImageNet models — use 64–128 on a CPU).
        channels: 1 (gray) or 3 (RGB); default 3 with ``pretrained``, else the model's default.
        augment: an augmentation preset (``light``, ``standard``, ``strong``) for the training images, or None.
        test: the test set: None = the dataset's own (Fashion-MNIST's test files, digits' 20 %, a ``test/``
            folder) or else 20 % held out (stratified); a fraction to hold out; or an image folder / CSV.
        image_col, label_col: the CSV columns of the image paths and the labels.
        weight_decay: AdamW's decoupled weight decay.
        num_workers: ``DataLoader`` worker processes.

    Returns:
        A :class:`ClassifierRun`.

    Raises:
        InputError: a bad option (unknown model kind, sizes, ``freeze`` above the model's blocks …).
        UnknownModelError: an unknown model name. SourceNotFoundError: data that does not exist (or Fashion-MNIST
        files missing). DatasetError: an empty class folder, a CSV naming missing files, test/val class folders
        unknown to the training set, a split left empty. AnnotationError: an unknown or empty CSV label.
        ImageDecodeError: an unreadable image (the message names the file).
    """
    import torch

    from vision.io.files import atomic_write_text
    from vision.metrics import classification_report, plot_confusion_matrix, plot_history
    from vision.models.classification import MODEL_FILE, WEIGHTS_FILE, save_classifier, transfer_learn
    from vision.train import (
        ClassificationTask,
        CSVLogger,
        ModelCheckpoint,
        ProgressBar,
        Trainer,
        make_optimizer,
        make_schedule,
    )

    val_fraction = _check_fraction(val_fraction, "val_fraction")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise InputError(f"epochs: expected an integer ≥ 1, got {epochs!r}")
    splits = _splits(data, test=test, subset=subset, seed=seed, image_col=image_col, label_col=label_col)
    torch.manual_seed(seed)
    net, spec = _build_model(model, num_classes=len(splits.names), pretrained=pretrained, channels=channels,
                             image_size=image_size)
    plan = _transfer_plan(net, freeze, epochs, head_epochs) if freeze is not None else None
    if plan is not None and not pretrained:
        log.warning("freeze=%s without pretrained weights freezes a randomly initialised base", freeze)
    train_table, val_table = splits.train, splits.val
    if val_table is None:
        train_table, val_table = _holdout(train_table, val_fraction, seed, "val_fraction")
    opts = {"size": spec.size, "channels": spec.channels, "normalize": spec.normalize, "batch_size": batch_size,
            "seed": seed, "num_workers": num_workers, "augment": augment}
    train = _loader(train_table, train=True, **opts)
    val = _loader(val_table, train=False, **opts)
    test_loader = _loader(splits.test, train=False, **opts)

    out = Path(out_dir)
    best = out / "best.pt"
    callbacks = [ModelCheckpoint(str(best), monitor="val_accuracy", save_best_only=True),
                 CSVLogger(out / "history.csv")]
    if progress:
        callbacks.append(ProgressBar())
    extra: dict[str, Any] = {}
    if plan is None:
        optimizer = make_optimizer(net, "adamw", lr=lr, weight_decay=weight_decay)
        schedule = make_schedule(optimizer, "onecycle", steps_per_epoch=len(train), epochs=epochs)
        trainer = Trainer(net, ClassificationTask(), optimizer=optimizer, schedule=schedule, callbacks=callbacks)
        history = trainer.fit(train, val, epochs=epochs)
    else:
        result = transfer_learn(net, train, val, head_epochs=plan[0], fine_tune_epochs=plan[1], head_lr=lr,
                                base_lr=base_lr if base_lr is not None else lr / 10, last_blocks=plan[2],
                                weight_decay=weight_decay, callbacks=callbacks)
        trainer, history = result.trainer, result.history
        extra = {"head_epochs": plan[0], "fine_tune_epochs": plan[1], "fine_tuned": result.fine_tuned,
                 "seconds": result.seconds, "trainable": result.trainable}
    state = torch.load(best, map_location="cpu", weights_only=True)  # test the best validation epoch, not the last
    net.load_state_dict(state["model"])
    logits = torch.cat(trainer.predict(test_loader))
    report = classification_report(splits.test.labels, logits.argmax(1).numpy(), num_classes=len(splits.names))
    test_metrics = {"accuracy": float(report.accuracy), "macro_f1": float(report.f1),
                    "images": len(splits.test), "best_epoch": int(state["epoch"])}
    plot_history(history, path=out / "curves.png")
    plot_confusion_matrix(report.confusion, names=splits.names, path=out / "confusion_matrix.png")
    files = [best, out / "history.csv", out / "curves.png", out / "confusion_matrix.png"]
    files.append(atomic_write_text(out / "metrics.json", json.dumps(
        {"data": str(data), "model": model, "epochs": epochs, "subset": subset, "pretrained": pretrained,
         "freeze": freeze, "image_size": spec.size[0], "channels": spec.channels, "augment": augment,
         "classes": splits.names, "images": {"train": len(train_table), "val": len(val_table),
                                             "test": len(splits.test)},
         "test": test_metrics, "transfer": extra or None, "history": history.history}, indent=2)))
    save_classifier(out, net, classes=splits.names, preprocessing=spec.preprocessing())
    files += [out / MODEL_FILE, out / WEIGHTS_FILE]
    log.info("%s on %s: test accuracy %.4f", model, data, test_metrics["accuracy"])
    return ClassifierRun(out, dict(history.history), test_metrics, best, files, out, list(splits.names))


# ---------------------------------------------------------------------------------------------------------------
# evaluation of a saved classifier
# ---------------------------------------------------------------------------------------------------------------
def _eval_table(data: str | Path, classes: list[str], *, seed: int, image_col: str,
                label_col: str) -> tuple[ClassificationTable, str]:
    """The images ``vision val`` scores and a description of the split."""
    from vision.data import from_arrays

    if str(data) in CLASSIFY_DATASETS and not Path(str(data)).exists():
        _, _, xt, yt, names = _builtin(str(data), seed)
        return _align(from_arrays(xt, yt, names=names), classes, str(data)), "test"
    root = Path(data)
    layout = _layout(root) if root.is_dir() else None
    if layout is not None:
        split = "val" if "val" in layout else ("test" if "test" in layout else "train")
        source: Path = layout[split]
    else:
        split, source = "all", root
    table = _read_table(source, image_col=image_col, label_col=label_col, classes=classes)
    return _align(table, classes, str(source)), split


def evaluate_classifier(bundle: str | Path, data: str | Path, *, out_dir: str | Path | None = None,
                        batch_size: int = 64, image_col: str = "filename", label_col: str = "label", seed: int = 0,
                        device: str = "cpu") -> dict[str, Any]:
    """Score a saved classifier on a dataset: accuracy, macro F1, per-class precision/recall, confusion matrix.

    Images go through the bundle's own preprocessing (:class:`~vision.models.classification.ImageClassifier`), as in
    ``vision predict``.

    Args:
        bundle: the bundle folder or its ``model.json``.
        data: ``fashion-mnist`` (its test files), ``digits`` (the 20 % test split of ``seed``), an image folder
            (a ``root/train|val|test`` layout is scored on ``val/``, else ``test/``) or a CSV label file.
        out_dir: write ``confusion_matrix.png`` and ``report.json`` here (None: write nothing).
        batch_size: images per forward pass.
        image_col, label_col: the CSV columns.
        seed: the digits split seed (the one the model was trained with).
        device: torch device.

    Returns:
        ``{"bundle", "model", "data", "split", "images", "accuracy", "macro_f1", "macro_precision",
        "macro_recall", "classes", "per_class": [{"class", "precision", "recall", "f1", "support"}, …],
        "confusion_matrix", "files"}``.

    Raises:
        The errors of :func:`~vision.models.classification.load_classifier`. DatasetError: class folders the model
        does not know (named), an empty folder, a CSV naming missing files. AnnotationError: an unknown CSV label.
        SourceNotFoundError: data that does not exist.
    """
    from vision.metrics import classification_report, plot_confusion_matrix
    from vision.models.classification import classifier_info, load_classifier

    info = classifier_info(bundle)
    classes = list(info["classes"])
    table, split = _eval_table(data, classes, seed=seed, image_col=image_col, label_col=label_col)
    clf = load_classifier(bundle, device=device)
    sources = list(table.paths) if table.paths is not None else list(table.images)
    results = clf.predict_batch(sources, top_k=1, batch_size=batch_size)
    pred = np.asarray([int(r.class_ids[0]) for r in results], dtype=np.int64)
    report = classification_report(table.labels, pred, num_classes=len(classes))
    per_class = [{"class": name, "precision": float(report.precision_per_class[i]),
                  "recall": float(report.recall_per_class[i]), "f1": float(report.f1_per_class[i]),
                  "support": int(report.support_per_class[i])} for i, name in enumerate(classes)]
    result: dict[str, Any] = {
        "bundle": str(info["path"]), "model": info["model"], "data": str(data), "split": split,
        "images": len(table), "accuracy": float(report.accuracy), "macro_f1": float(report.f1),
        "macro_precision": float(report.precision), "macro_recall": float(report.recall), "classes": classes,
        "per_class": per_class, "confusion_matrix": report.confusion.astype(int).tolist(), "files": []}
    if out_dir is not None:
        from vision.io.files import atomic_write_text

        out = Path(out_dir)
        plot_confusion_matrix(report.confusion, names=classes, path=out / "confusion_matrix.png")
        result["files"] = [str(out / "confusion_matrix.png"), str(out / "report.json")]
        atomic_write_text(out / "report.json", json.dumps(result, indent=2) + "\n")
    return result
