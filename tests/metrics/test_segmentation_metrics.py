"""Semantic segmentation metrics (hand-computed example, torchmetrics cross-check, bad input) and COCO mask AP."""

from __future__ import annotations

import numpy as np
import pytest

from vision.errors import DTypeError, InputError, ShapeError
from vision.metrics.detection import evaluate_detections
from vision.metrics.segmentation import evaluate_segmentation, segmentation_confusion
from vision.types import Detections, Segmentation

TRUTH = np.array([[0, 0, 1],
                  [0, 1, 1],
                  [2, 2, 2]])
PRED = np.array([[0, 1, 1],
                 [0, 1, 1],
                 [2, 2, 0]])


def test_hand_computed_example():
    """By hand: class 0 tp 2, truth 3, pred 3 → IoU 2/4, Dice 4/6; class 1 tp 3, truth 3, pred 4 → 3/4, 6/7;
    class 2 tp 2, truth 3, pred 2 → 2/3, 4/5; 7 of 9 pixels right."""
    cm = segmentation_confusion(PRED, TRUTH, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 3, 0], [1, 0, 2]]
    r = evaluate_segmentation([Segmentation(PRED, names=("bg", "a", "b"))], [TRUTH], names=("bg", "a", "b"))
    assert r.pixel_accuracy == pytest.approx(7 / 9)
    assert [r.iou[n] for n in ("bg", "a", "b")] == pytest.approx([2 / 4, 3 / 4, 2 / 3])
    assert [r.dice[n] for n in ("bg", "a", "b")] == pytest.approx([4 / 6, 6 / 7, 4 / 5])
    assert r.miou == pytest.approx((2 / 4 + 3 / 4 + 2 / 3) / 3)
    assert r.mdice == pytest.approx((4 / 6 + 6 / 7 + 4 / 5) / 3)
    assert r.mean_accuracy == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert "| **mean** | 9 | 0.639 |" in r.table()
    assert r.to_dict()["confusion"] == cm.tolist()


def test_absent_class_is_nan_and_left_out_of_means_and_ignore_index_is_not_counted():
    t = TRUTH.copy()
    t[0, 0] = 255
    r = evaluate_segmentation([PRED], [t], names=("bg", "a", "b", "unused"), ignore_index=255)
    assert np.isnan(r.iou["unused"]) and r.to_dict()["iou"]["unused"] is None and "| unused | 0 | — | — |" in r.table()
    assert r.confusion.sum() == 8  # the ignored pixel is not counted
    assert r.miou == pytest.approx(np.nanmean([r.iou[n] for n in ("bg", "a", "b")]))


def test_agrees_with_torchmetrics_on_random_maps():
    import torch
    from torchmetrics.functional.classification import multiclass_accuracy, multiclass_jaccard_index

    rng = np.random.default_rng(0)
    preds = [rng.integers(0, 5, (40, 30)) for _ in range(4)]
    gts = [np.where(rng.random((40, 30)) < 0.6, p, rng.integers(0, 5, (40, 30))) for p in preds]
    r = evaluate_segmentation(preds, gts, names=list("abcde"))
    tp, tt = torch.from_numpy(np.stack(preds)), torch.from_numpy(np.stack(gts))
    ref = multiclass_jaccard_index(tp, tt, num_classes=5, average="none").numpy()
    np.testing.assert_allclose([r.iou[n] for n in "abcde"], ref, rtol=1e-6)
    assert r.pixel_accuracy == pytest.approx(float(multiclass_accuracy(tp, tt, num_classes=5, average="micro")))


def test_bad_input_is_named():
    with pytest.raises(ShapeError, match="3×3 but target is 2×3"):
        segmentation_confusion(PRED, TRUTH[:2], 3)
    with pytest.raises(InputError, match="prediction: class id 3 is outside 0..2"):
        segmentation_confusion(PRED + 1, TRUTH, 3)
    with pytest.raises(DTypeError, match="integer class ids"):
        segmentation_confusion(PRED.astype(float), TRUTH, 3)
    with pytest.raises(ShapeError, match="H×W"):
        segmentation_confusion(np.zeros((2, 2, 3), int), TRUTH, 3)
    with pytest.raises(InputError, match="image 1: target: class id 7"):
        evaluate_segmentation([PRED, PRED], [TRUTH, TRUTH * 0 + 7], names=("a", "b", "c"))
    with pytest.raises(InputError, match="one prediction per target"):
        evaluate_segmentation([PRED], [], names=("a",))
    with pytest.raises(InputError, match="at least one image"):
        evaluate_segmentation([], [], names=("a",))


def _square(shape, y0, x0, size):
    m = np.zeros(shape, bool)
    m[y0:y0 + size, x0:x0 + size] = True
    return m


def test_mask_ap_scores_masks_not_boxes():
    """Same box, a mask covering 40 % of the truth's: box AP@0.5 is 1, mask AP@0.5 is 0; an exact mask scores 1."""
    shape = (64, 64)
    gt_mask = _square(shape, 10, 10, 20)
    gt = Detections([[10, 10, 30, 30]], [1.0], [0], names=("sq",), masks=gt_mask[None], image_shape=shape)
    thin = np.zeros(shape, bool)
    thin[10:30, 10:18] = True  # 8 of 20 columns
    pred = Detections([[10, 10, 30, 30]], [0.9], [0], names=("sq",), masks=thin[None], image_shape=shape)
    assert evaluate_detections([pred], [gt]).map50 == pytest.approx(1.0)
    assert evaluate_detections([pred], [gt], iou_type="segm").map50 == pytest.approx(0.0)
    exact = Detections([[10, 10, 30, 30]], [0.9], [0], names=("sq",), masks=gt_mask[None], image_shape=shape)
    assert evaluate_detections([exact], [gt], iou_type="segm").map50_95 == pytest.approx(1.0)
    no_masks = Detections([[10, 10, 30, 30]], [0.9], [0], names=("sq",), image_shape=shape)
    with pytest.raises(InputError, match="no masks; iou_type='segm'"):
        evaluate_detections([no_masks], [gt], iou_type="segm")
    with pytest.raises(InputError, match="iou_type"):
        evaluate_detections([exact], [gt], iou_type="keypoints")
