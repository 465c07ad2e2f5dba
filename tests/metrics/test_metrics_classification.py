"""vision.metrics.classification against scikit-learn, hand-computed cases and every bad input."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from vision.errors import DTypeError, InputError, ShapeError
from vision.metrics import (
    ClassificationMetrics,
    average_precision,
    classification_report,
    confusion_matrix,
    matthews_corrcoef,
    precision_recall_curve,
    precision_recall_curves,
    roc_auc,
    roc_curve,
    roc_curves,
)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _case(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(y_true, y_pred, num_classes) of a named case."""
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "binary":
        t = rng.integers(0, 2, 300)
        return t, np.where(rng.random(300) < 0.7, t, 1 - t), 2
    if name == "ten":
        t = rng.integers(0, 10, 600)
        return t, np.where(rng.random(600) < 0.6, t, rng.integers(0, 10, 600)), 10
    if name == "never_predicted":  # class 2 occurs in y_true but is never predicted
        t = np.array([0, 0, 1, 1, 2, 2, 2, 3, 3, 0, 1, 3])
        return t, np.array([0, 1, 1, 1, 0, 1, 3, 3, 3, 0, 0, 3]), 4
    if name == "absent":  # class 4 neither occurs nor is predicted; class 3 predicted but never true
        t = rng.integers(0, 3, 80)
        p = np.where(rng.random(80) < 0.5, t, rng.integers(0, 4, 80))
        return t, p, 5
    if name == "all_one_class":  # MCC undefined → 0
        return np.zeros(20, int), rng.integers(0, 3, 20), 3
    raise KeyError(name)


CASES = ["binary", "ten", "never_predicted", "absent", "all_one_class"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn(case, normalize):
    t, p, c = _case(case)
    got = confusion_matrix(t, p, num_classes=c, normalize=normalize)
    want = skm.confusion_matrix(t, p, labels=list(range(c)), normalize=normalize)
    assert got.shape == (c, c)
    assert got.dtype == (np.int64 if normalize is None else np.float64)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_confusion_matrix_infers_classes_and_takes_argmax_of_scores():
    assert confusion_matrix([0, 1, 1], [0, 0, 1]).tolist() == [[1, 0], [1, 1]]
    assert confusion_matrix([0, 0], [0, 0]).shape == (2, 2)  # at least two classes
    assert confusion_matrix([3, 1], [0, 1]).shape == (4, 4)
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.1, 0.7], [0.1, 0.8, 0.1]])
    assert confusion_matrix([0, 2, 2], scores).tolist() == [[1, 0, 0], [0, 0, 0], [0, 1, 1]]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_precision_recall_fbeta_match_sklearn(case, average, beta):
    t, p, c = _case(case)
    m = classification_report(t, p, num_classes=c, average=average, beta=beta)
    prec, rec, fb, _ = skm.precision_recall_fscore_support(t, p, labels=list(range(c)), average=average, beta=beta,
                                                           zero_division=0)
    np.testing.assert_allclose(m.precision, prec, atol=1e-12)
    np.testing.assert_allclose(m.recall, rec, atol=1e-12)
    np.testing.assert_allclose(m.fbeta, fb, atol=1e-12)
    f1 = skm.f1_score(t, p, labels=list(range(c)), average=average, zero_division=0)
    np.testing.assert_allclose(m.f1, f1, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_per_class_counts_accuracy_and_mcc_match_sklearn(case):
    t, p, c = _case(case)
    m = classification_report(t, p, num_classes=c)
    mcm = skm.multilabel_confusion_matrix(t, p, labels=list(range(c)))  # per class [[tn, fp], [fn, tp]]
    np.testing.assert_array_equal(m.tn, mcm[:, 0, 0])
    np.testing.assert_array_equal(m.fp, mcm[:, 0, 1])
    np.testing.assert_array_equal(m.fn, mcm[:, 1, 0])
    np.testing.assert_array_equal(m.tp, mcm[:, 1, 1])
    _, _, _, support = skm.precision_recall_fscore_support(t, p, labels=list(range(c)), zero_division=0)
    np.testing.assert_array_equal(m.support_per_class, support)
    assert m.support == t.size
    assert m.accuracy == pytest.approx(skm.accuracy_score(t, p), abs=1e-12)
    assert m.error_rate == pytest.approx(1 - skm.accuracy_score(t, p), abs=1e-12)
    assert m.mcc == pytest.approx(skm.matthews_corrcoef(t, p), abs=1e-12)
    # specificity of class k = recall of "not k"; NPV of class k = precision of "not k"
    for k in range(c):
        neg_t, neg_p = (t != k).astype(int), (p != k).astype(int)
        assert m.specificity_per_class[k] == pytest.approx(skm.recall_score(neg_t, neg_p, zero_division=0))
        assert m.npv_per_class[k] == pytest.approx(skm.precision_score(neg_t, neg_p, zero_division=0))


def test_mcc_undefined_is_zero_and_perfect_is_one():
    assert matthews_corrcoef(np.array([[5, 0], [0, 0]])) == 0.0
    assert matthews_corrcoef(np.diag([3, 4, 5])) == pytest.approx(1.0)
    assert matthews_corrcoef(np.array([[0, 3], [4, 0]])) == pytest.approx(-1.0)
    with pytest.raises(ShapeError, match="C×C"):
        matthews_corrcoef(np.zeros((2, 3)))


def test_hand_computed_binary_example():
    # TP = 3, FP = 1, FN = 2, TN = 4 (positive class 1)
    t = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    p = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    m = classification_report(t, p, average="binary", beta=2.0)
    assert m.binary_counts == (3, 1, 2, 4)
    assert m.precision == pytest.approx(3 / 4)
    assert m.recall == m.sensitivity == pytest.approx(3 / 5)
    assert m.specificity == pytest.approx(4 / 5)
    assert m.npv == pytest.approx(4 / 6)
    assert m.fpr == pytest.approx(1 / 5)
    assert m.f1 == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    assert m.fbeta == pytest.approx(5 * (3 / 4) * (3 / 5) / (4 * (3 / 4) + 3 / 5))
    assert m.accuracy == pytest.approx(0.7)
    assert m.error_rate == pytest.approx(0.3)
    assert m.mcc == pytest.approx((3 * 4 - 1 * 2) / np.sqrt(4 * 5 * 5 * 6))
    # class 0 is the mirror image: its specificity is class 1's recall, its NPV class 1's precision
    assert m.specificity_per_class[0] == pytest.approx(3 / 5)
    assert m.npv_per_class[0] == pytest.approx(3 / 4)


def test_zero_division_gives_zero():
    # nothing predicted as 1 → precision of class 1 is 0/0 → 0; no negatives for class 0 would be 0 too
    m = classification_report([0, 1, 1], [0, 0, 0], average=None)
    assert m.precision.tolist() == pytest.approx([1 / 3, 0.0])
    assert m.f1[1] == 0.0
    m = classification_report([1, 1], [1, 1], num_classes=2, average=None)  # class 0: no samples, no predictions
    assert m.precision[0] == m.recall[0] == m.f1[0] == 0.0
    assert m.specificity[1] == m.npv[1] == m.fpr[1] == 0.0  # class 1 has no negatives


def test_micro_average_and_other_averages():
    t, p, c = _case("ten")
    micro = classification_report(t, p, num_classes=c, average="micro")
    assert micro.precision == micro.recall == micro.f1 == pytest.approx(micro.accuracy)
    assert micro.fpr == pytest.approx(micro.fp.sum() / (micro.fp.sum() + micro.tn.sum()))
    macro = classification_report(t, p, num_classes=c, average="macro")
    assert macro.specificity == pytest.approx(macro.specificity_per_class.mean())
    weighted = classification_report(t, p, num_classes=c, average="weighted")
    w = macro.support_per_class / macro.support
    assert weighted.npv == pytest.approx(float(macro.npv_per_class @ w))


def test_binary_average_matches_sklearn_default():
    t, p, _ = _case("binary")
    m = classification_report(t, p, average="binary")
    assert m.precision == pytest.approx(skm.precision_score(t, p))
    assert m.recall == pytest.approx(skm.recall_score(t, p))
    assert m.f1 == pytest.approx(skm.f1_score(t, p))


def test_torch_tensors_bool_and_float_labels_are_accepted():
    torch = pytest.importorskip("torch")
    t, p, c = _case("ten")
    a = classification_report(torch.from_numpy(t), torch.from_numpy(p).float().requires_grad_(False))
    b = classification_report(t, p, num_classes=c)
    assert a.f1 == b.f1 and a.mcc == b.mcc
    logits = torch.randn(6, 3, requires_grad=True)
    assert confusion_matrix(torch.tensor([0, 1, 2, 0, 1, 2]), logits).sum() == 6
    assert confusion_matrix(np.array([True, False]), [1.0, 0.0]).tolist() == [[1, 0], [0, 1]]


def test_to_dict_is_json_ready():
    t, p, c = _case("never_predicted")
    for average in ("macro", None):
        d = classification_report(t, p, num_classes=c, average=average).to_dict()
        back = json.loads(json.dumps(d))
        assert back["num_classes"] == c
        assert back["confusion"] == confusion_matrix(t, p, num_classes=c).tolist()
        assert isinstance(back["recall_per_class"], list) and len(back["recall_per_class"]) == c
    assert isinstance(classification_report(t, p).to_dict()["f1"], float)


def test_binary_counts_needs_two_classes():
    m = classification_report([0, 1, 2], [0, 1, 2])
    assert isinstance(m, ClassificationMetrics) and m.num_classes == 3
    with pytest.raises(InputError, match="expected 2 classes, got 3"):
        _ = m.binary_counts


# ---------------------------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------------------------
def _binary_scores(seed: int = 0, n: int = 400, ties: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    s = np.clip(0.5 + 0.25 * (2 * t - 1) + 0.3 * rng.standard_normal(n), 0, 1)
    return t, (np.round(s, 1) if ties else s)


@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("drop", [True, False])
def test_roc_curve_matches_sklearn(ties, drop):
    t, s = _binary_scores(ties=ties)
    fpr, tpr, thr = roc_curve(t, s, drop_intermediate=drop)
    f2, t2, th2 = skm.roc_curve(t, s, drop_intermediate=drop)
    np.testing.assert_allclose(fpr, f2)
    np.testing.assert_allclose(tpr, t2)
    np.testing.assert_array_equal(thr, th2)
    assert roc_auc(t, s) == pytest.approx(skm.roc_auc_score(t, s), abs=1e-12)


def test_roc_accepts_logits_for_binary():
    t, s = _binary_scores(ties=False)
    z = np.log(s + 1e-9) * 5 - 3  # monotone, outside [0, 1]
    assert roc_auc(t, z) == pytest.approx(skm.roc_auc_score(t, z), abs=1e-12)


@pytest.mark.parametrize("ties", [True, False])
def test_precision_recall_curve_and_ap_match_sklearn(ties):
    t, s = _binary_scores(seed=3, ties=ties)
    p, r, thr = precision_recall_curve(t, s)
    p2, r2, th2 = skm.precision_recall_curve(t, s)
    np.testing.assert_allclose(p, p2)
    np.testing.assert_allclose(r, r2)
    np.testing.assert_allclose(thr, th2)
    assert average_precision(t, s) == pytest.approx(skm.average_precision_score(t, s), abs=1e-12)


def test_hand_made_roc():
    # scores 0.9(+) 0.8(−) 0.7(+) 0.1(−): AUC = 3 of 4 positive/negative pairs ordered right
    t, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert roc_auc(t, s) == pytest.approx(0.75)
    assert average_precision(t, s) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    fpr, tpr, thr = roc_curve(t, s, drop_intermediate=False)
    assert fpr.tolist() == [0, 0, 0.5, 0.5, 1] and tpr.tolist() == [0, 0.5, 0.5, 1, 1]
    assert thr[0] == np.inf


def _multiclass(c: int = 10, n: int = 500, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, n)
    logits = rng.standard_normal((n, c)) + 1.5 * np.eye(c)[t]
    return t, _softmax(logits)


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_one_vs_rest_auc_and_ap_match_sklearn(average):
    t, s = _multiclass()
    assert roc_auc(t, s, average=average) == pytest.approx(
        skm.roc_auc_score(t, s, multi_class="ovr", average=average), abs=1e-12)
    onehot = label_binarize(t, classes=list(range(10)))
    assert average_precision(t, s, average=average) == pytest.approx(
        skm.average_precision_score(onehot, s, average=average), abs=1e-12)
    np.testing.assert_allclose(average_precision(t, s, average=None),
                               skm.average_precision_score(onehot, s, average=None))


def test_one_vs_rest_curves_match_binary_sklearn_per_class():
    t, s = _multiclass(c=3, n=120)
    for k, (roc, pr) in enumerate(zip(roc_curves(t, s), precision_recall_curves(t, s))):
        f2, t2, _ = skm.roc_curve(t == k, s[:, k])
        np.testing.assert_allclose(roc[0], f2)
        np.testing.assert_allclose(roc[1], t2)
        p2, r2, _ = skm.precision_recall_curve(t == k, s[:, k])
        np.testing.assert_allclose(pr[0], p2)
        np.testing.assert_allclose(pr[1], r2)


def test_class_absent_from_y_true_is_nan_and_skipped(caplog):
    t, s = _multiclass(c=4, n=200)
    keep = t != 2
    t, s = t[keep], s[keep]
    per = roc_auc(t, s, average=None)
    assert np.isnan(per[2]) and np.all(np.isfinite(per[[0, 1, 3]]))
    want = np.mean([skm.roc_auc_score(t == k, s[:, k]) for k in (0, 1, 3)])
    with caplog.at_level(logging.WARNING, logger="vision.metrics.classification"):
        assert roc_auc(t, s) == pytest.approx(want, abs=1e-12)
    assert "[2]" in caplog.text
    assert roc_curves(t, s)[2] is None and precision_recall_curves(t, s)[2] is None
    assert average_precision(t, s) == pytest.approx(
        np.mean([skm.average_precision_score(t == k, s[:, k]) for k in (0, 1, 3)]), abs=1e-12)


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: confusion_matrix([0, 1, 1], [0, 1]), ShapeError, "same length, got 3 and 2"),
    (lambda: confusion_matrix([], []), InputError, "empty"),
    (lambda: confusion_matrix([0, 5], [0, 1], num_classes=3), InputError, r"class id 5 is outside \[0, 3\)"),
    (lambda: confusion_matrix([0, 1], [0, 3], num_classes=3), InputError, r"class id 3 is outside \[0, 3\)"),
    (lambda: confusion_matrix([0, -1], [0, 1]), InputError, "≥ 0, got -1"),
    (lambda: confusion_matrix([0, 1.5], [0, 1]), DTypeError, "whole-number class ids, got 1.5"),
    (lambda: confusion_matrix([0, np.nan], [0, 1]), DTypeError, "whole-number"),
    (lambda: confusion_matrix(["a", "b"], [0, 1]), DTypeError, "numeric array, got dtype <U1"),
    (lambda: confusion_matrix([[0, 1]], [0, 1]), ShapeError, "1-D array of N class ids, got shape 1×2"),
    (lambda: confusion_matrix([0, 1], [0, 1], num_classes=1), InputError, "int ≥ 2 or None, got 1"),
    (lambda: confusion_matrix([0, 1], [0, 1], num_classes=True), InputError, "got True"),
    (lambda: confusion_matrix([0, 1], [0, 1], normalize="rows"), InputError, "normalize: expected one of"),
    (lambda: confusion_matrix([0, 1], np.zeros((2, 0))), InputError, "N×C scores"),
    (lambda: classification_report([0, 1], [0, 1], average="samples"), InputError, "average: expected one of"),
    (lambda: classification_report([0, 1], [0, 1], beta=-1), InputError, "beta: expected a finite number ≥ 0"),
    (lambda: classification_report([0, 1], [0, 1], beta=float("inf")), InputError, "beta"),
    (lambda: classification_report([0, 1, 2], [0, 1, 2], average="binary"), InputError, "expected 2 classes, got 3"),
    (lambda: roc_curve([0, 0, 0], [0.1, 0.2, 0.3]), InputError, "positive"),
    (lambda: roc_curve([1, 1], [0.1, 0.2]), InputError, "negative"),
    (lambda: roc_auc([0, 1, 2], [0.1, 0.2, 0.3]), InputError, "binary labels 0/1, got class id 2"),
    (lambda: roc_curve([0, 1], [0.1, np.nan]), InputError, "finite"),
    (lambda: roc_curve([0, 1, 1], [0.1, 0.2]), ShapeError, "same length, got 3 and 2"),
    (lambda: precision_recall_curve([0, 0], [0.1, 0.2]), InputError, "positive"),
    (lambda: average_precision([0, 0], [0.1, 0.2]), InputError, "positive"),
    (lambda: roc_auc([0, 1], np.array([[0.5, 1.5], [0.2, 0.8]])), InputError, r"probabilities in \[0, 1\].*1.5"),
    (lambda: roc_auc([0, 1], np.array([[0.5, -0.1], [0.2, 0.8]])), InputError, "softmax"),
    (lambda: roc_auc([0, 2], np.array([[0.5, 0.5], [0.2, 0.8]])), InputError, r"class id 2 is outside \[0, 2\)"),
    (lambda: roc_auc([0, 1, 2], np.full((2, 3), 1 / 3)), ShapeError, "same length, got 3 and 2"),
    (lambda: roc_auc([0, 1], np.full((2, 3), 1 / 3), num_classes=4), ShapeError, "expected 4 columns"),
    (lambda: roc_auc([0, 1], [0.2, 0.3], num_classes=3), ShapeError, "1-D scores mean 2 classes"),
    (lambda: roc_auc([0, 1], np.full((2, 1), 0.5)), ShapeError, "C ≥ 2"),
    (lambda: roc_auc([0, 0], np.full((2, 3), 1 / 3)), InputError, "undefined for every class"),
    (lambda: roc_auc([0, 1], [0.2, 0.3], average="micro"), InputError, "average: expected one of"),
])
def test_bad_input_raises_typed_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_huge_inferred_class_id_is_refused_before_allocating():
    import numpy as np
    import pytest

    from vision.errors import InputError
    from vision.metrics.classification import confusion_matrix

    with pytest.raises(InputError, match="implies 1000001 classes"):
        confusion_matrix(np.array([0, 1_000_000]), np.array([0, 1]))
