"""vision.metrics.plots: figures carry the right content, PNGs are written atomically at the right size."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from vision.errors import InputError, ShapeError
from vision.metrics import (
    confusion_matrix,
    plot_confusion_matrix,
    plot_history,
    plot_pr,
    plot_roc,
    precision_recall_curve,
    precision_recall_curves,
    roc_auc,
    roc_curve,
    roc_curves,
    save_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_png(path, fig: Figure) -> None:
    """A non-empty PNG of exactly figsize × dpi pixels, and nothing else (no temp file) in its folder."""
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 5000
    w, h = (fig.get_size_inches() * fig.dpi).round().astype(int)
    with Image.open(path) as im:
        assert im.size == (w, h)
        px = np.asarray(im.convert("L"))
    assert px.std() > 10  # something is drawn, not a blank canvas
    assert sorted(os.listdir(path.parent)) == [path.name]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _multiclass(c: int = 3, n: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, n)
    z = rng.standard_normal((n, c)) + 2 * np.eye(c)[t]
    e = np.exp(z)
    return t, e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------------
# Confusion matrix
# ---------------------------------------------------------------------------------------------------
def test_confusion_matrix_plot_has_counts_names_colourbar_and_png(tmp_path):
    cm = np.array([[50, 2, 0], [3, 40, 7], [0, 0, 0]])  # class "bird" never occurs
    path = tmp_path / "cm.png"
    fig = plot_confusion_matrix(cm, names=["cat", "dog", "bird"], path=path, dpi=80)
    assert isinstance(fig, Figure)
    _check_png(path, fig)
    ax, bar = fig.axes  # the matrix and its colour bar
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "bird"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    assert ax.get_xlabel() == "Predicted class" and ax.get_ylabel() == "True class"
    assert bar.get_ylabel() == "count"
    assert sorted(_texts(fig)) == sorted(str(v) for v in cm.ravel())
    assert "accuracy 88.2%" in ax.get_title() and "N = 102" in ax.get_title()


def test_confusion_matrix_plot_normalized_rows(tmp_path):
    cm = confusion_matrix([0, 0, 0, 1, 1], [0, 0, 1, 1, 1])
    fig = plot_confusion_matrix(cm, normalize=True)
    assert sorted(_texts(fig)) == sorted(["0.67\n2", "0.33\n1", "0", "1.00\n2"])
    assert fig.axes[1].get_ylabel() == "fraction of the true class"
    cm = np.array([[3, 1], [2, 2]])
    assert sorted(_texts(plot_confusion_matrix(cm, normalize="true"))) == ["0.25\n1", "0.50\n2", "0.50\n2", "0.75\n3"]
    fig = plot_confusion_matrix(cm, normalize="pred")  # columns hold 5 and 3
    assert sorted(_texts(fig)) == ["0.33\n1", "0.40\n2", "0.60\n3", "0.67\n2"]
    assert fig.axes[1].get_ylabel() == "fraction of the predicted class"


def test_confusion_matrix_plot_grows_with_classes_and_drops_cell_text_when_huge():
    small = plot_confusion_matrix(np.eye(2, dtype=int))
    big = plot_confusion_matrix(np.eye(40, dtype=int))
    assert big.get_size_inches()[0] > small.get_size_inches()[0]
    assert _texts(big) == []
    assert [t.get_text() for t in big.axes[0].get_xticklabels()][-1] == "39"


@pytest.mark.parametrize("cm, kwargs, error, message", [
    (np.zeros((2, 3)), {}, ShapeError, "C×C matrix, got shape 2×3"),
    (np.zeros(3), {}, ShapeError, "got shape 3"),
    (np.zeros((0, 0)), {}, ShapeError, "C×C"),
    (np.array([[1, -1], [0, 2]]), {}, InputError, "≥ 0"),
    (np.array([[1, np.nan], [0, 2]]), {}, InputError, "NaN"),
    (np.eye(2), {"names": ["a"]}, InputError, "expected 2 names for a 2×2 matrix, got 1"),
    (np.eye(2), {"normalize": "rows"}, InputError, "normalize: expected"),
    (np.eye(2), {"dpi": 0}, InputError, "dpi"),
    ([["a", "b"], ["c", "d"]], {}, InputError, "numbers"),
])
def test_confusion_matrix_plot_bad_input(tmp_path, cm, kwargs, error, message):
    with pytest.raises(error, match=message):
        plot_confusion_matrix(cm, path=tmp_path / "cm.png", **kwargs)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------
# ROC and PR
# ---------------------------------------------------------------------------------------------------
def test_roc_plot_per_class_with_auc_in_legend(tmp_path):
    t, s = _multiclass()
    curves = roc_curves(t, s)
    path = tmp_path / "roc.png"
    fig = plot_roc(dict(zip(["cat", "dog", "bird"], curves)), path=path)
    _check_png(path, fig)
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    aucs = roc_auc(t, s, average=None)
    assert labels == [f"{n} (AUC {a:.3f})" for n, a in zip(["cat", "dog", "bird"], aucs)] + ["chance (AUC 0.5)"]
    assert "False-positive rate" in ax.get_xlabel() and "True-positive rate" in ax.get_ylabel()
    assert len(ax.get_lines()) == 4


def test_roc_plot_single_binary_curve_and_list_skipping_undefined():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 2, 100)
    s = np.clip(0.3 * t + 0.7 * rng.random(100), 0, 1)
    fig = plot_roc(roc_curve(t, s))
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == f"AUC {roc_auc(t, s):.3f}"
    fig = plot_roc([roc_curve(t, s), None])
    assert fig.axes[0].get_legend().get_texts()[0].get_text().startswith("class 0 (AUC")
    assert len(fig.axes[0].get_lines()) == 2


def test_pr_plot_with_average_precision(tmp_path):
    t, s = _multiclass(c=4)
    path = tmp_path / "sub" / "pr.png"  # missing folders are created
    fig = plot_pr(precision_recall_curves(t, s), path=path)
    _check_png(path, fig)
    ax = fig.axes[0]
    from sklearn.metrics import average_precision_score

    first = ax.get_legend().get_texts()[0].get_text()
    assert first == f"class 0 (AP {average_precision_score(t == 0, s[:, 0]):.3f})"
    assert ax.get_xlabel() == "Recall" and ax.get_ylabel() == "Precision"
    assert ax.get_lines()[0].get_drawstyle() == "steps-post"
    p, r, _ = precision_recall_curve(t == 1, s[:, 1])
    assert plot_pr({"dog": (p, r)}).axes[0].get_legend().get_texts()[0].get_text().startswith("dog (AP")


@pytest.mark.parametrize("fn", [plot_roc, plot_pr])
@pytest.mark.parametrize("curves, error, message", [
    ({}, InputError, "at least one curve"),
    ([None, None], InputError, "at least one curve"),
    ({"a": ([0, 0.5, 1], [0, 1])}, ShapeError, "same length"),
    ({"a": ([0, 1.5], [0, 1])}, InputError, r"in \[0, 1\]"),
    ({"a": ([0, np.nan], [0, 1])}, InputError, "NaN"),
    ({"a": [0, 1]}, ShapeError, "two 1-D arrays"),
    ({"a": "xy"}, InputError, "tuple"),
    ("roc", InputError, "got str"),
])
def test_curve_plots_bad_input(tmp_path, fn, curves, error, message):
    with pytest.raises(error, match=message):
        fn(curves, path=tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------------------
HISTORY = {
    "loss": [1.0, 0.6, 0.4, 0.3, 0.25],
    "val_loss": [1.1, 0.7, 0.5, 0.55, 0.6],
    "accuracy": [0.5, 0.7, 0.8, 0.85, 0.9],
    "val_accuracy": [0.45, 0.65, 0.78, 0.77, 0.76],
    "lr": [0.1, 0.05, 0.025, 0.0125, 0.00625],
}


def test_history_panels_share_train_and_val_and_star_the_best(tmp_path):
    path = tmp_path / "history.png"
    fig = plot_history(HISTORY, path=path)
    _check_png(path, fig)
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in panels] == ["loss", "accuracy", "lr"]
    loss, acc, lr = panels
    assert [line.get_label() for line in loss.get_lines()] == ["loss", "val_loss", "best 0.5 (epoch 3)"]
    assert [line.get_label() for line in acc.get_lines()][-1] == "best 0.78 (epoch 3)"
    np.testing.assert_array_equal(loss.get_lines()[0].get_xdata(), [1, 2, 3, 4, 5])
    assert lr.get_yscale() == "log" and loss.get_yscale() == "linear"
    assert all(ax.get_xlabel() == "epoch" for ax in panels)


def test_history_object_epoch_column_gaps_and_prefixes():
    class History:  # what a Trainer's history object looks like: a .history mapping
        def __init__(self) -> None:
            self.history = {"epoch": [0, 2, 4], "train/loss": [1.0, float("nan"), 0.5], "val/loss": [1.2, 0.9, 1.0],
                            "val_f1": [0.1, 0.2, 0.3]}

    fig = plot_history(History(), title="run 7")
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in panels] == ["loss", "f1"]
    assert fig.get_suptitle() == "run 7"
    np.testing.assert_array_equal(panels[0].get_lines()[0].get_xdata(), [0, 2, 4])
    assert panels[0].get_lines()[-1].get_label() == "best 0.9 (epoch 2)"
    assert panels[1].get_lines()[-1].get_label() == "best 0.3 (epoch 4)"


@pytest.mark.parametrize("history, message", [
    ([1, 2, 3], "mapping"),
    ({}, "at least one non-empty series"),
    ({"loss": []}, "at least one non-empty series"),
    ({"loss": ["a", "b"]}, r"history\['loss'\]: expected numbers"),
    ({"loss": [[1, 2], [3, 4]]}, "per-epoch numbers"),
    ({1: [1.0]}, "string keys"),
    ({"epoch": [1], "loss": [1.0, 0.5]}, "has 1 entries, expected at least 2"),
])
def test_history_bad_input(tmp_path, history, message):
    with pytest.raises(InputError, match=message):
        plot_history(history, path=tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------
def test_save_figure_replaces_atomically_and_honours_umask(tmp_path):
    path = tmp_path / "h.png"
    path.write_bytes(b"old")
    fig = plot_history(HISTORY)
    assert save_figure(fig, path) == path
    _check_png(path, fig)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    save_figure(fig, str(path), dpi=50)
    with Image.open(path) as im:
        assert im.size == tuple((fig.get_size_inches() * 50).round().astype(int))


@pytest.mark.parametrize("name, message", [("plot.jpg", "ending in .png"), ("plot", "ending in .png"),
                                           ("adir.png", "is a directory")])
def test_save_figure_bad_path_writes_nothing(tmp_path, name, message):
    if name == "adir.png":
        (tmp_path / name).mkdir()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(InputError, match=message):
        plot_confusion_matrix(np.eye(2, dtype=int), path=tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == before


def test_existing_file_kept_when_plot_input_is_bad(tmp_path):
    path = tmp_path / "cm.png"
    path.write_bytes(b"previous")
    with pytest.raises(ShapeError):
        plot_confusion_matrix(np.zeros((2, 3)), path=path)
    assert path.read_bytes() == b"previous"


def test_import_is_light_and_plots_avoid_pyplot():
    code = textwrap.dedent("""
        import sys
        import vision.metrics as vm
        assert "matplotlib" not in sys.modules and "torch" not in sys.modules and "sklearn" not in sys.modules
        vm.plot_confusion_matrix([[1, 0], [0, 1]])
        vm.plot_history({"loss": [1.0, 0.5]})
        assert "matplotlib.pyplot" not in sys.modules
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
