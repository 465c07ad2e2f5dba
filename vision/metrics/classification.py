"""Classification metrics at epoch end: confusion matrix, per-class and averaged scores, ROC and PR curves.

Numpy in, numpy or ``float`` out; torch tensors are accepted too (converted with ``.detach().cpu().numpy()``,
torch itself is never imported here). Everything is derived from one confusion matrix built with
``np.bincount``, so a whole epoch of a 10-class problem costs microseconds.

Written by hand with numpy on purpose: scikit-learn is the reference these functions are tested against,
not a runtime dependency, and torchmetrics works on tensors batch by batch (importing it costs seconds, and
its ROC thresholds are clipped to 1 rather than sklearn's ``inf``, with no ``drop_intermediate``). These
are the metrics that reports and plots read once per epoch; the curve code follows sklearn's
``_binary_clf_curve`` so results agree with ``sklearn.metrics`` to floating-point precision.

Conventions (the same as ``sklearn.metrics`` with ``zero_division=0``):

* The confusion matrix has true classes in rows and predicted classes in columns.
* Per class ``k`` (one-vs-rest): TP = ``cm[k, k]``, FP = column sum − TP, FN = row sum − TP, TN = the rest.
* Every ratio whose denominator is 0 is 0: precision with nothing predicted as ``k``, recall with no true
  ``k``, specificity/NPV/false-positive rate with no negatives, F-beta when TP + FP + FN = 0, and the
  Matthews correlation when a row or column total makes it undefined. (So ``fpr`` is not always
  ``1 − specificity``: both are 0 when a class has no negatives.)
* Averages: ``"macro"`` is the unweighted mean over all ``num_classes`` classes (classes that never occur
  count, as sklearn with ``labels=range(num_classes)``); ``"weighted"`` weighs each class by its support
  (number of true samples); ``"micro"`` sums TP/FP/FN/TN over classes first (micro precision = recall =
  F = accuracy for single-label data); ``"binary"`` (two classes only) reports class 1 as the positive
  class; ``None`` gives per-class arrays.
* ROC AUC and average precision are undefined for a class with no positive (or, for ROC, no negative)
  samples: the binary functions raise :class:`~vision.errors.InputError`; the one-vs-rest functions give
  NaN for that class and leave it out of the macro/weighted average (logged as a warning).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError

__all__ = [
    "ClassificationMetrics",
    "average_precision",
    "classification_report",
    "confusion_matrix",
    "matthews_corrcoef",
    "precision_recall_curve",
    "precision_recall_curves",
    "roc_auc",
    "roc_curve",
    "roc_curves",
]

log = logging.getLogger(__name__)

_AVERAGES = ("macro", "micro", "weighted", "binary", None)
_NORMALIZE = (None, "true", "pred", "all")


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------
def _as_numpy(value: Any, name: str) -> np.ndarray:
    """Numpy view of an array-like or a torch tensor (``.detach().cpu().numpy()``)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise InputError(f"{name}: expected a numeric array, got {type(value).__name__} ({exc})") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    return arr


def _shape(arr: np.ndarray) -> str:
    return "×".join(map(str, arr.shape)) or "scalar"


def _labels(value: Any, name: str) -> np.ndarray:
    """1-D int64 class ids ≥ 0 from ints, bools or whole-number floats."""
    arr = _as_numpy(value, name)
    if arr.ndim != 1:
        raise ShapeError(f"{name}: expected a 1-D array of N class ids, got shape {_shape(arr)}")
    if arr.size == 0:
        raise InputError(f"{name}: expected at least one sample, got an empty array")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
        bad = arr[~np.isfinite(arr) | (arr != np.round(arr))][0]
        raise DTypeError(f"{name}: expected whole-number class ids, got {float(bad)!r} (dtype {arr.dtype})")
    out = arr.astype(np.int64)
    if out.min() < 0:
        raise InputError(f"{name}: expected class ids ≥ 0, got {int(out.min())}")
    return out


#: largest class count inferred from the labels alone (a K×K confusion matrix must fit in memory)
MAX_INFERRED_CLASSES = 10_000


def _num_classes(num_classes: int | None, *ids: np.ndarray) -> int:
    top = max(int(a.max()) for a in ids) + 1
    if num_classes is None:
        if top > MAX_INFERRED_CLASSES:
            raise InputError(f"class id {top - 1} implies {top} classes; expected at most {MAX_INFERRED_CLASSES:,} "
                             "when num_classes is not given — pass num_classes= explicitly")
        return max(top, 2)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise InputError(f"num_classes: expected an int ≥ 2 or None, got {num_classes!r}")
    if top > num_classes:
        raise InputError(f"class id {top - 1} is outside [0, {num_classes}); expected ids < num_classes={num_classes}")
    return int(num_classes)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check true labels and predictions; N×C predictions (scores) become their arg-max."""
    t = _labels(y_true, "y_true")
    p = _as_numpy(y_pred, "y_pred")
    if p.ndim == 2:
        if p.shape[0] == 0 or p.shape[1] == 0:
            raise InputError(f"y_pred: expected N×C scores with N, C ≥ 1, got shape {_shape(p)}")
        p = p.argmax(axis=1)
    p = _labels(p, "y_pred")
    if t.shape != p.shape:
        raise ShapeError(f"y_true and y_pred: expected the same length, got {t.size} and {p.size}")
    return t, p


def _check_choice(value: Any, choices: tuple, name: str) -> None:
    if value not in choices:
        raise InputError(f"{name}: expected one of {list(choices)}, got {value!r}")


# --------------------------------------------------------------------------------------------------
# Confusion matrix and the report
# --------------------------------------------------------------------------------------------------
def confusion_matrix(y_true: Any, y_pred: Any, *, num_classes: int | None = None,
                     normalize: str | None = None) -> np.ndarray:
    """Count matrix ``cm[i, j]`` = samples of true class ``i`` predicted as ``j`` (as ``sklearn.metrics``).

    Args:
        y_true: N class ids (ints, bools or whole-number floats; numpy, list or torch tensor).
        y_pred: N predicted class ids, or N×C scores whose arg-max is the prediction.
        num_classes: C; default ``max(id) + 1`` (at least 2). Classes that never occur still get a row/column.
        normalize: ``None`` (counts), ``"true"`` (rows sum to 1), ``"pred"`` (columns sum to 1) or ``"all"``
            (the matrix sums to 1). An empty row or column stays 0.

    Returns:
        C×C ``int64`` counts, or ``float64`` fractions when ``normalize`` is given.

    Raises:
        ShapeError: not 1-D (or N×C), or different lengths. InputError: empty input, negative ids, an id ≥
            ``num_classes``, bad ``normalize``. DTypeError: non-numeric or fractional ids.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 0, 1]).tolist()
        [[1, 0], [1, 1]]
    """
    _check_choice(normalize, _NORMALIZE, "normalize")
    t, p = _pair(y_true, y_pred)
    c = _num_classes(num_classes, t, p)
    cm = np.bincount(t * c + p, minlength=c * c).reshape(c, c).astype(np.int64)
    return cm if normalize is None else _normalized(cm, normalize)


def _normalized(cm: np.ndarray, how: str) -> np.ndarray:
    axis = {"true": 1, "pred": 0, "all": None}[how]
    total = cm.sum(axis=axis, keepdims=axis is not None).astype(np.float64)
    return _div(cm.astype(np.float64), total)


def _div(num: np.ndarray | float, den: np.ndarray | float) -> Any:
    """``num / den`` with 0 wherever ``den`` is 0 (sklearn's ``zero_division=0``)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    out = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)
    return out if out.ndim else float(out)


def matthews_corrcoef(cm: np.ndarray) -> float:
    """Matthews correlation (Gorodkin's multi-class R_K, equal to the binary φ for 2×2) of a confusion matrix.

    Returns 0 where it is undefined (all samples in one true class or one predicted class), as sklearn.
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ShapeError(f"cm: expected a C×C confusion matrix, got shape {_shape(cm)}")
    t_sum, p_sum = cm.sum(axis=1), cm.sum(axis=0)
    n, correct = cm.sum(), np.trace(cm)
    cov_tp = correct * n - t_sum @ p_sum
    cov_pp = n * n - p_sum @ p_sum
    cov_tt = n * n - t_sum @ t_sum
    if cov_pp * cov_tt == 0:
        return 0.0
    return float(cov_tp / np.sqrt(cov_tt * cov_pp))


@dataclass(frozen=True, eq=False)
class ClassificationMetrics:
    """Scores of one classification run, all derived from :attr:`confusion`.

    The averaged fields (``precision`` … ``fbeta``) follow :attr:`average`; with ``average=None`` they are
    per-class arrays. The ``*_per_class`` arrays are always there. ``recall`` is sensitivity (true-positive
    rate). The one-vs-rest counts ``tp``/``fp``/``fn``/``tn`` are per-class ``int64`` arrays; with two
    classes :attr:`binary_counts` gives them for the positive class 1.
    """

    confusion: np.ndarray
    average: str | None
    beta: float
    accuracy: float
    error_rate: float
    mcc: float
    precision: Any
    recall: Any
    specificity: Any
    npv: Any
    fpr: Any
    f1: Any
    fbeta: Any
    support: int
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    precision_per_class: np.ndarray
    recall_per_class: np.ndarray
    specificity_per_class: np.ndarray
    npv_per_class: np.ndarray
    fpr_per_class: np.ndarray
    f1_per_class: np.ndarray
    fbeta_per_class: np.ndarray
    support_per_class: np.ndarray

    @property
    def num_classes(self) -> int:
        """C, the side of the confusion matrix."""
        return int(self.confusion.shape[0])

    @property
    def sensitivity(self) -> Any:
        """Alias of :attr:`recall` (true-positive rate)."""
        return self.recall

    @property
    def binary_counts(self) -> tuple[int, int, int, int]:
        """``(TP, FP, FN, TN)`` of the positive class 1; two classes only (raises :class:`InputError` else)."""
        if self.num_classes != 2:
            raise InputError(f"binary_counts: expected 2 classes, got {self.num_classes}")
        return int(self.tp[1]), int(self.fp[1]), int(self.fn[1]), int(self.tn[1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy: arrays become (nested) lists, numpy scalars become Python numbers."""
        out: dict[str, Any] = {"num_classes": self.num_classes}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else v
        return out


def classification_report(y_true: Any, y_pred: Any, *, num_classes: int | None = None,
                          average: str | None = "macro", beta: float = 1.0) -> ClassificationMetrics:
    """Accuracy, error rate, precision, recall, specificity, NPV, FPR, F1, F-beta and MCC of predictions.

    Args:
        y_true: N class ids (numpy, list or torch tensor).
        y_pred: N predicted ids, or N×C scores whose arg-max is the prediction.
        num_classes: C; default ``max(id) + 1`` (at least 2).
        average: ``"macro"``, ``"micro"``, ``"weighted"``, ``"binary"`` (class 1 of two) or ``None``
            (per-class arrays in the averaged fields). See the module docstring for the exact rules.
        beta: weight of recall in F-beta (``beta`` > 1 favours recall); finite and ≥ 0 (0 gives precision).

    Returns:
        A :class:`ClassificationMetrics`.

    Raises:
        InputError: bad ``average``/``beta``/``num_classes``, empty input, ids out of range, ``"binary"`` with
            more than 2 classes. ShapeError: lengths differ. DTypeError: non-numeric or fractional ids.

    Example:
        >>> m = classification_report([0, 1, 1, 0], [0, 1, 0, 0], average="binary")
        >>> m.binary_counts, m.precision, m.recall
        ((1, 0, 1, 2), 1.0, 0.5)
    """
    _check_choice(average, _AVERAGES, "average")
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating, np.integer)) \
            or not np.isfinite(beta) or beta < 0:
        raise InputError(f"beta: expected a finite number ≥ 0, got {beta!r}")
    cm = confusion_matrix(y_true, y_pred, num_classes=num_classes)
    c = cm.shape[0]
    if average == "binary" and c != 2:
        raise InputError(f"average='binary': expected 2 classes, got {c}; use 'macro', 'micro' or 'weighted'")

    tp = np.diag(cm).astype(np.int64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    n = int(cm.sum())
    tn = n - tp - fp - fn
    support = tp + fn

    def scores(tp: Any, fp: Any, fn: Any, tn: Any) -> dict[str, Any]:
        b2 = float(beta) ** 2
        return {
            "precision": _div(tp, tp + fp),
            "recall": _div(tp, tp + fn),
            "specificity": _div(tn, tn + fp),
            "npv": _div(tn, tn + fn),
            "fpr": _div(fp, fp + tn),
            "f1": _div(2 * tp, 2 * tp + fp + fn),
            "fbeta": _div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp),
        }

    per = scores(tp, fp, fn, tn)
    if average is None:
        avg = {k: v.copy() for k, v in per.items()}
    elif average == "binary":
        avg = {k: float(v[1]) for k, v in per.items()}
    elif average == "micro":
        avg = scores(tp.sum(), fp.sum(), fn.sum(), tn.sum())
    elif average == "macro":
        avg = {k: float(v.mean()) for k, v in per.items()}
    else:  # weighted by support; n ≥ 1, so the weights sum to 1
        avg = {k: float(v @ support / n) for k, v in per.items()}

    accuracy = float(tp.sum() / n)
    return ClassificationMetrics(
        confusion=cm, average=average, beta=float(beta), accuracy=accuracy, error_rate=1.0 - accuracy,
        mcc=matthews_corrcoef(cm), support=n, tp=tp, fp=fp, fn=fn, tn=tn,
        support_per_class=support, **avg, **{f"{k}_per_class": v for k, v in per.items()},
    )


# --------------------------------------------------------------------------------------------------
# ROC and precision-recall curves
# --------------------------------------------------------------------------------------------------
def _binary_scores(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _labels(y_true, "y_true")
    if t.max() > 1:
        raise InputError(f"y_true: expected binary labels 0/1, got class id {int(t.max())}; "
                         "for more classes pass N×C scores to the one-vs-rest functions")
    s = _as_numpy(scores, "scores")
    if s.ndim != 1:
        raise ShapeError(f"scores: expected a 1-D array of N scores for class 1, got shape {_shape(s)}")
    if s.shape != t.shape:
        raise ShapeError(f"y_true and scores: expected the same length, got {t.size} and {s.size}")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)):
        raise InputError("scores: expected finite values, got NaN or inf")
    return t, s


def _multiclass_scores(y_true: Any, scores: Any, num_classes: int | None) -> tuple[np.ndarray, np.ndarray]:
    """True ids and N×C class probabilities (each in [0, 1]) for the one-vs-rest functions."""
    t = _labels(y_true, "y_true")
    s = _as_numpy(scores, "scores")
    if s.ndim != 2 or s.shape[1] < 2:
        raise ShapeError(f"scores: expected N×C class probabilities with C ≥ 2, got shape {_shape(s)}")
    if s.shape[0] != t.size:
        raise ShapeError(f"y_true and scores: expected the same length, got {t.size} and {s.shape[0]}")
    c = s.shape[1]
    if num_classes is not None and num_classes != c:
        raise ShapeError(f"scores: expected {num_classes} columns (num_classes), got {c}")
    if t.max() >= c:
        raise InputError(f"y_true: class id {int(t.max())} is outside [0, {c}) for N×{c} scores")
    s = s.astype(np.float64)
    if not np.all(np.isfinite(s)) or s.min() < 0 or s.max() > 1:
        bad = s[~(np.isfinite(s) & (s >= 0) & (s <= 1))][0]
        raise InputError(f"scores: expected probabilities in [0, 1] (apply softmax to logits first), "
                         f"got {float(bad)!r}")
    return t, s


def _clf_curve(t: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative false and true positives at each distinct score, highest first (sklearn's ``_binary_clf_curve``)."""
    order = np.argsort(s, kind="mergesort")[::-1]
    s, t = s[order], t[order]
    cut = np.r_[np.flatnonzero(np.diff(s)), t.size - 1]
    tps = np.cumsum(t)[cut].astype(np.float64)
    fps = 1 + cut - tps
    return fps, tps, s[cut]


def _require_both(t: np.ndarray, what: str, *, negatives: bool) -> None:
    pos = int(t.sum())
    if pos == 0 or (negatives and pos == t.size):
        missing = "positive (1)" if pos == 0 else "negative (0)"
        raise InputError(f"{what}: undefined without a {missing} sample in y_true; got {t.size} samples, "
                         f"{pos} positive; expected both classes")


def roc_curve(y_true: Any, scores: Any, *, drop_intermediate: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary ROC curve: false- and true-positive rates as the threshold falls (as ``sklearn.metrics.roc_curve``).

    Args:
        y_true: N labels in {0, 1}; 1 is the positive class.
        scores: N finite scores for class 1 (probabilities, logits or any decision value; only order counts).
        drop_intermediate: drop thresholds that do not change the curve's shape.

    Returns:
        ``(fpr, tpr, thresholds)``, each of length K; ``thresholds[0]`` is ``inf`` (nothing predicted positive)
        and ``fpr[i]``/``tpr[i]`` are the rates for ``scores >= thresholds[i]``.

    Raises:
        InputError: y_true has only one class, labels beyond 1, non-finite scores, empty input.
        ShapeError: not 1-D or lengths differ.
    """
    t, s = _binary_scores(y_true, scores)
    _require_both(t, "roc_curve", negatives=True)
    fps, tps, thr = _clf_curve(t, s)
    if drop_intermediate and fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps, tps, thr = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thr]
    return fps / fps[-1], tps / tps[-1], thr


def precision_recall_curve(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary precision-recall curve (as ``sklearn.metrics.precision_recall_curve``).

    Args:
        y_true: N labels in {0, 1}; 1 is the positive class.
        scores: N finite scores for class 1.

    Returns:
        ``(precision, recall, thresholds)``: precision and recall have K + 1 entries for K distinct thresholds
        in increasing order; the last point is (precision 1, recall 0), with no threshold.

    Raises:
        InputError: no positive sample in y_true, labels beyond 1, non-finite scores, empty input.
        ShapeError: not 1-D or lengths differ.
    """
    t, s = _binary_scores(y_true, scores)
    _require_both(t, "precision_recall_curve", negatives=False)
    fps, tps, thr = _clf_curve(t, s)
    precision = _div(tps, tps + fps)
    recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thr[::-1]


def _ap(precision: np.ndarray, recall: np.ndarray) -> float:
    return float(-np.sum(np.diff(recall) * precision[:-1]))


def _auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    return float(np.trapezoid(tpr, fpr))


def roc_curves(y_true: Any, scores: Any, *, num_classes: int | None = None,
               drop_intermediate: bool = True) -> list[tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """One-vs-rest ROC curves, one per class of N×C class probabilities.

    Args:
        y_true: N class ids in [0, C).
        scores: N×C probabilities in [0, 1] (softmax output).
        num_classes: C, checked against the number of columns when given.
        drop_intermediate: as :func:`roc_curve`.

    Returns:
        C entries ``(fpr, tpr, thresholds)``; ``None`` for a class absent from y_true (or the only one present).

    Raises:
        InputError: ids out of range, scores outside [0, 1], empty input. ShapeError: shapes disagree.
    """
    t, s = _multiclass_scores(y_true, scores, num_classes)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    for k in range(s.shape[1]):
        pos = t == k
        defined = 0 < pos.sum() < t.size
        out.append(roc_curve(pos.astype(np.int64), s[:, k], drop_intermediate=drop_intermediate)
                   if defined else None)
    return out


def precision_recall_curves(y_true: Any, scores: Any, *, num_classes: int | None = None
                            ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """One-vs-rest precision-recall curves, one per class; ``None`` for a class absent from y_true.

    Args and Raises as :func:`roc_curves`. Returns C entries ``(precision, recall, thresholds)`` or ``None``.
    """
    t, s = _multiclass_scores(y_true, scores, num_classes)
    return [precision_recall_curve((t == k).astype(np.int64), s[:, k]) if np.any(t == k) else None
            for k in range(s.shape[1])]


def _average_ovr(values: np.ndarray, support: np.ndarray, average: str | None, what: str) -> Any:
    undefined = np.flatnonzero(np.isnan(values))
    if average is None:
        return values
    if undefined.size == values.size:
        raise InputError(f"{what}: undefined for every class (each needs positive and negative samples in y_true)")
    if undefined.size:
        log.warning("%s: classes %s have no positive (or no negative) samples in y_true; left out of the %s average",
                    what, undefined.tolist(), average)
    ok = ~np.isnan(values)
    if average == "macro":
        return float(values[ok].mean())
    return float(values[ok] @ support[ok] / support[ok].sum())


def _score_fn(y_true: Any, scores: Any, *, num_classes: int | None, average: str | None, what: str,
              binary: Any, curves: Any, area: Any) -> Any:
    _check_choice(average, ("macro", "weighted", None), "average")
    if _as_numpy(scores, "scores").ndim == 1:
        if num_classes not in (None, 2):
            raise ShapeError(f"scores: 1-D scores mean 2 classes, got num_classes={num_classes}; "
                             "pass N×C probabilities for more")
        return area(*binary(y_true, scores)[:2])
    t, s = _multiclass_scores(y_true, scores, num_classes)
    values = np.array([np.nan if c is None else area(c[0], c[1]) for c in curves(t, s)])
    return _average_ovr(values, np.bincount(t, minlength=s.shape[1]).astype(np.float64), average, what)


def roc_auc(y_true: Any, scores: Any, *, num_classes: int | None = None, average: str | None = "macro") -> Any:
    """Area under the ROC curve: binary (1-D scores) or one-vs-rest over N×C probabilities.

    Matches ``sklearn.metrics.roc_auc_score`` (``multi_class="ovr"`` for N×C scores).

    Args:
        y_true: N class ids.
        scores: N scores for class 1, or N×C probabilities in [0, 1].
        num_classes: C, checked against the scores' columns when given.
        average: for N×C scores, ``"macro"`` (mean over classes), ``"weighted"`` (by support) or ``None``
            (per-class array, NaN for classes with no positive or no negative sample, which the averages skip).

    Returns:
        A float, or a C-array with ``average=None``.

    Raises:
        InputError: binary y_true with a single class, every class undefined, bad ``average``, scores outside
            [0, 1] (N×C only), ids out of range. ShapeError: shapes disagree.
    """
    return _score_fn(y_true, scores, num_classes=num_classes, average=average, what="roc_auc",
                     binary=roc_curve, curves=lambda t, s: roc_curves(t, s), area=_auc)


def average_precision(y_true: Any, scores: Any, *, num_classes: int | None = None,
                      average: str | None = "macro") -> Any:
    """Average precision ``Σ (Rₙ − Rₙ₋₁) Pₙ``, not interpolated (as ``sklearn.metrics.average_precision_score``).

    Binary for 1-D scores; one-vs-rest over N×C probabilities otherwise, averaged as :func:`roc_auc` (a class
    with no positive sample is NaN and skipped).

    Raises:
        InputError: no positive sample (binary), every class undefined, bad ``average``, scores outside [0, 1]
            (N×C only), ids out of range. ShapeError: shapes disagree.
    """
    return _score_fn(y_true, scores, num_classes=num_classes, average=average, what="average_precision",
                     binary=precision_recall_curve, curves=lambda t, s: precision_recall_curves(t, s), area=_ap)
