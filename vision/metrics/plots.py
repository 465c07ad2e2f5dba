"""Plots of classification results and training runs: confusion matrix, ROC, precision-recall, history.

Each function builds a ``matplotlib.figure.Figure`` through the object API (no pyplot, no global state,
matplotlib imported only when called), returns it, and, when ``path`` is given, writes it as a PNG
atomically (rendered in memory, written to a temporary file in the target folder, then ``os.replace``), so
readers never see half a file and a failed call leaves nothing behind. Figure sizes are fixed in inches, so
the PNG is exactly ``figsize × dpi`` pixels.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import InputError, ShapeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_confusion_matrix", "plot_history", "plot_pr", "plot_roc", "save_figure"]

#: history keys whose best value is the smallest (everything else: the largest)
_LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "perplexity")
_LR_KEYS = ("lr", "learning_rate")


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------
def _check_path(path: str | os.PathLike[str]) -> Path:
    try:
        target = Path(path)
    except TypeError:
        raise InputError(f"path: expected a file path ending in .png, got {type(path).__name__}") from None
    if target.suffix.lower() != ".png":
        raise InputError(f"path: expected a file path ending in .png, got {str(target)!r}")
    if target.is_dir():
        raise InputError(f"path: {target} is a directory; expected a .png file path")
    return target


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float | None = None) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically; missing parent folders are created.

    Args:
        fig: a matplotlib figure.
        path: target file, suffix ``.png``.
        dpi: resolution; default the figure's own ``dpi``.

    Returns:
        ``Path(path)``.

    Raises:
        InputError: ``path`` is not a ``.png`` path or is a directory.
        OSError: the file system refused the write (no temporary file is left behind).
    """
    from vision.io.files import atomic_write_bytes

    target = _check_path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi if dpi is not None else fig.dpi)
    return atomic_write_bytes(target, buf.getvalue())


def _figure(width: float, height: float, dpi: float) -> Figure:
    from matplotlib.figure import Figure

    if not (isinstance(dpi, (int, float)) and not isinstance(dpi, bool) and 10 <= dpi <= 1000):
        raise InputError(f"dpi: expected a number in [10, 1000], got {dpi!r}")
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        save_figure(fig, path)
    return fig


def _array(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected numbers, got {type(value).__name__}") from None
    return arr


# --------------------------------------------------------------------------------------------------
# Confusion matrix
# --------------------------------------------------------------------------------------------------
def plot_confusion_matrix(cm: Any, *, names: Sequence[str] | None = None, normalize: bool | str = False,
                          path: str | os.PathLike[str] | None = None, title: str = "Confusion matrix",
                          cmap: str = "Blues", dpi: float = 100) -> Figure:
    """Heat map of a C×C confusion matrix (true in rows, predicted in columns) with a colour bar.

    Cells show the count (and, when normalised, the fraction above it) for C ≤ 30; the title gives the
    accuracy and the number of samples.

    Args:
        cm: C×C non-negative counts, e.g. from :func:`vision.metrics.confusion_matrix`.
        names: C class names for the axes; default ``0 … C−1``.
        normalize: ``False``; ``True`` or ``"true"`` (each row sums to 1: recall on the diagonal),
            ``"pred"`` (each column sums to 1: precision on the diagonal) or ``"all"``. Colours follow the
            fractions; the counts are still printed.
        path: write a PNG here as well.
        title: figure title (accuracy and N are appended).
        cmap: matplotlib colour map name.
        dpi: resolution of the figure and its PNG.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ShapeError: ``cm`` is not square 2-D. InputError: negative or non-finite cells, wrong number of
            names, bad ``normalize``/``path``/``dpi``.
    """
    counts = _array(cm, "cm")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ShapeError(f"cm: expected a C×C matrix, got shape {'×'.join(map(str, counts.shape)) or 'scalar'}")
    if not np.all(np.isfinite(counts)) or counts.min() < 0:
        raise InputError("cm: expected finite counts ≥ 0, got negative, NaN or inf cells")
    c = counts.shape[0]
    labels = [str(i) for i in range(c)] if names is None else [str(n) for n in names]
    if len(labels) != c:
        raise InputError(f"names: expected {c} names for a {c}×{c} matrix, got {len(labels)}")
    how = {False: None, None: None, True: "true", "true": "true", "pred": "pred", "all": "all"}
    if not isinstance(normalize, (bool, str)) or normalize not in how:
        raise InputError(f"normalize: expected False, True, 'true', 'pred' or 'all', got {normalize!r}")
    mode = how[normalize]
    if mode is None:
        shown = counts
    else:
        axis = {"true": 1, "pred": 0, "all": None}[mode]
        total = counts.sum(axis=axis, keepdims=axis is not None)
        shown = np.divide(counts, total, out=np.zeros_like(counts), where=total != 0)

    side = float(np.clip(0.5 * c + 2.5, 4.5, 16.0))
    fig = _figure(side + 1.2, side, dpi)
    ax = fig.add_subplot()
    vmax = 1.0 if mode is not None else max(float(shown.max()), 1.0)
    im = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label({None: "count", "true": "fraction of the true class", "pred": "fraction of the predicted class",
                   "all": "fraction of all samples"}[mode])

    ax.set_xticks(range(c), labels, rotation=45 if max(map(len, labels)) > 3 else 0, ha="right"
                  if max(map(len, labels)) > 3 else "center", rotation_mode="anchor")
    ax.set_yticks(range(c), labels)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    n = counts.sum()
    acc = np.trace(counts) / n if n else 0.0
    integral = bool(np.all(counts == np.round(counts)))
    ax.set_title(f"{title}\naccuracy {acc:.1%}, N = {int(n) if integral else f'{n:g}'}")

    if c <= 30:
        size = float(np.clip(13 - 0.3 * c, 6, 11))
        cmap_obj = im.get_cmap()
        for i in range(c):
            for j in range(c):
                v = counts[i, j]
                text = f"{int(v)}" if integral else f"{v:.3g}"
                if mode is not None and v > 0:
                    text = f"{shown[i, j]:.2f}\n{text}" if c <= 15 else f"{shown[i, j]:.2f}"
                r, g, b, _ = cmap_obj(im.norm(shown[i, j]))
                color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=size)
    return _finish(fig, path)


# --------------------------------------------------------------------------------------------------
# ROC and precision-recall
# --------------------------------------------------------------------------------------------------
def _curves(curves: Any, what: str, x_name: str, y_name: str, order: tuple[int, int]
            ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Normalise one curve tuple, a list of them or a name → tuple mapping to (name, x, y) triples.

    ``order`` gives the positions of x and y in each tuple. ``None`` entries (undefined classes) are skipped.
    """
    if isinstance(curves, tuple) and len(curves) in (2, 3) and not any(isinstance(c, tuple) for c in curves):
        items: list[tuple[str, Any]] = [("", curves)]
    elif isinstance(curves, Mapping):
        items = [(str(k), v) for k, v in curves.items()]
    elif isinstance(curves, (list, tuple)):
        items = [(f"class {i}", v) for i, v in enumerate(curves)]
    else:
        raise InputError(f"{what}: expected a ({x_name}, {y_name}[, thresholds]) tuple, a list of them or a "
                         f"name → tuple mapping, got {type(curves).__name__}")
    out = []
    for name, entry in items:
        if entry is None:
            continue
        if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
            raise InputError(f"{what}: curve {name or 0!r}: expected a ({x_name}, {y_name}[, thresholds]) tuple, "
                             f"got {type(entry).__name__}")
        x, y = _array(entry[order[0]], x_name), _array(entry[order[1]], y_name)
        if x.ndim != 1 or x.shape != y.shape or x.size < 2:
            raise ShapeError(f"{what}: curve {name or 0!r}: expected two 1-D arrays of the same length ≥ 2, got "
                             f"shapes {x.shape} and {y.shape}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))) or min(x.min(), y.min()) < 0 \
                or max(x.max(), y.max()) > 1:
            raise InputError(f"{what}: curve {name or 0!r}: expected {x_name} and {y_name} in [0, 1], got values "
                             f"outside (or NaN)")
        out.append((name, x, y))
    if not out:
        raise InputError(f"{what}: expected at least one curve, got none")
    return out


def _legend(ax: Any, count: int, corner: str) -> None:
    ax.legend(loc=corner if count <= 12 else "center left", fontsize=9 if count <= 6 else 7,
              ncol=1 if count <= 12 else 2, bbox_to_anchor=None if count <= 12 else (1.02, 0.5), frameon=True)


def plot_roc(curves: Any, *, path: str | os.PathLike[str] | None = None, title: str = "ROC curve",
             dpi: float = 100) -> Figure:
    """ROC curves with their AUC in the legend and the chance diagonal.

    Args:
        curves: one ``(fpr, tpr[, thresholds])`` tuple (from :func:`vision.metrics.roc_curve`), a list of them
            (named ``class 0 …``; ``None`` entries from :func:`~vision.metrics.roc_curves` are skipped) or a
            mapping name → tuple.
        path: write a PNG here as well.
        title: axes title.
        dpi: resolution.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        InputError: no curve, values outside [0, 1], bad ``path``/``dpi``. ShapeError: arrays of unequal length.
    """
    items = _curves(curves, "plot_roc", "fpr", "tpr", (0, 1))
    fig = _figure(6.4 if len(items) <= 12 else 8.4, 6.0, dpi)
    ax = fig.add_subplot()
    for name, fpr, tpr in items:
        auc = float(np.trapezoid(tpr, fpr))
        ax.plot(fpr, tpr, lw=1.8, label=f"{name} (AUC {auc:.3f})".strip() if name else f"AUC {auc:.3f}")
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="0.5", label="chance (AUC 0.5)")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal", title=title,
           xlabel="False-positive rate (1 − specificity)", ylabel="True-positive rate (recall)")
    ax.grid(alpha=0.3)
    _legend(ax, len(items) + 1, "lower right")
    return _finish(fig, path)


def plot_pr(curves: Any, *, path: str | os.PathLike[str] | None = None, title: str = "Precision-recall curve",
            dpi: float = 100) -> Figure:
    """Precision-recall curves (steps) with their average precision in the legend.

    Args:
        curves: one ``(precision, recall[, thresholds])`` tuple (from
            :func:`vision.metrics.precision_recall_curve`), a list of them (``None`` entries skipped) or a
            mapping name → tuple.
        path: write a PNG here as well.
        title: axes title.
        dpi: resolution.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        InputError: no curve, values outside [0, 1], bad ``path``/``dpi``. ShapeError: arrays of unequal length.
    """
    items = _curves(curves, "plot_pr", "precision", "recall", (0, 1))
    fig = _figure(6.4 if len(items) <= 12 else 8.4, 6.0, dpi)
    ax = fig.add_subplot()
    for name, precision, recall in items:
        ap = float(-np.sum(np.diff(recall) * precision[:-1]))
        ax.plot(recall, precision, lw=1.8, drawstyle="steps-post",
                label=f"{name} (AP {ap:.3f})" if name else f"AP {ap:.3f}")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.03), aspect="equal", title=title, xlabel="Recall",
           ylabel="Precision")
    ax.grid(alpha=0.3)
    _legend(ax, len(items), "lower left")
    return _finish(fig, path)


# --------------------------------------------------------------------------------------------------
# Training history
# --------------------------------------------------------------------------------------------------
def _split_key(key: str) -> tuple[str, str]:
    """``"val_loss"`` → ``("loss", "val")``, ``"train/acc"`` → ``("acc", "train")``, ``"lr"`` → ``("lr", "train")``."""
    for prefix, split in (("val_", "val"), ("val/", "val"), ("validation_", "val"), ("train_", "train"),
                          ("train/", "train")):
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix):], split
    return key, "train"


def plot_history(history: Any, *, path: str | os.PathLike[str] | None = None, title: str = "Training history",
                 dpi: float = 100) -> Figure:
    """Training curves per epoch: one panel per metric family, train and validation on shared axes.

    Keys are grouped by stripping a ``val_`` / ``val/`` / ``validation_`` / ``train_`` / ``train/`` prefix,
    so ``loss`` and ``val_loss`` share a panel. The best validation value (lowest for loss/error-like
    names, highest otherwise) is starred. Learning-rate keys (``lr``, ``learning_rate``) get a log axis.
    An ``epoch`` key, if present, is the x axis; otherwise epochs count 1, 2, … NaN values leave gaps.

    Args:
        history: mapping key → list of per-epoch numbers, or an object with such a ``.history`` mapping.
        path: write a PNG here as well.
        title: figure title.
        dpi: resolution.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        InputError: not a mapping, no values, a non-string key, non-numeric or non-1-D values, an ``epoch``
            column shorter than a series, bad ``path``/``dpi``.
    """
    if hasattr(history, "history") and not isinstance(history, Mapping):
        history = history.history
    if not isinstance(history, Mapping):
        raise InputError(f"history: expected a mapping of metric name → per-epoch values, "
                         f"got {type(history).__name__}")
    series: dict[str, np.ndarray] = {}
    for key, values in history.items():
        if not isinstance(key, str) or not key:
            raise InputError(f"history: expected non-empty string keys, got {key!r}")
        arr = _array(values, f"history[{key!r}]")
        if arr.ndim != 1:
            raise InputError(f"history[{key!r}]: expected a list of per-epoch numbers, got shape {arr.shape}")
        if arr.size:
            series[key] = np.where(np.isfinite(arr), arr, np.nan)
    epochs = series.pop("epoch", None)
    if not series:
        raise InputError(f"history: expected at least one non-empty series, got keys {list(history)}")
    if epochs is not None and max(a.size for a in series.values()) > epochs.size:
        raise InputError(f"history['epoch']: has {epochs.size} entries, expected at least "
                         f"{max(a.size for a in series.values())} (the longest series)")

    families: dict[str, list[tuple[str, str, np.ndarray]]] = {}
    for key, arr in series.items():
        family, split = _split_key(key)
        families.setdefault(family, []).append((split, key, arr))
    order = sorted(families, key=lambda f: (0 if "loss" in f else 2 if f in _LR_KEYS else 1))

    from matplotlib.ticker import MaxNLocator

    cols = min(3, len(order))
    rows = math.ceil(len(order) / cols)
    fig = _figure(4.6 * cols, 3.6 * rows + 0.4, dpi)
    fig.suptitle(title)
    axes = fig.subplots(rows, cols, squeeze=False)
    colours = {"train": "C0", "val": "C1"}
    for ax, family in zip(axes.ravel(), order):
        lower = any(word in family.lower() for word in _LOWER_IS_BETTER)
        for split, key, arr in sorted(families[family], key=lambda s: s[0] != "train"):
            x = epochs[: arr.size] if epochs is not None else np.arange(1, arr.size + 1)
            ax.plot(x, arr, color=colours[split], lw=1.8, ls="-" if split == "train" else "--",
                    marker="o" if arr.size <= 30 else None, ms=3.5, label=key)
            if split == "val" and family not in _LR_KEYS and np.any(np.isfinite(arr)):
                best = int(np.nanargmin(arr) if lower else np.nanargmax(arr))
                ax.plot(x[best], arr[best], marker="*", ms=13, color=colours[split], mec="black", ls="none",
                        label=f"best {arr[best]:.4g} (epoch {x[best]:g})")
        if family in _LR_KEYS and all(np.nanmin(a) > 0 for _, _, a in families[family] if np.any(np.isfinite(a))):
            ax.set_yscale("log")
        ax.set(title=family, xlabel="epoch", ylabel=family)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes.ravel()[len(order):]:
        ax.set_axis_off()
    return _finish(fig, path)
