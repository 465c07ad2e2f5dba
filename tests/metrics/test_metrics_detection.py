"""Detection metrics: COCO mAP checked against pycocotools run on a COCO JSON file, edge cases, errors, plots."""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pytest

from vision.errors import InputError, ShapeError
from vision.metrics import DetectionReport, evaluate_detections, plot_pr_curves
from vision.types import Detections

NAMES = ("circle", "square", "triangle", "star", "hexagon")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    from vision.models.detection.scenes_preset import detection_scenes

    return detection_scenes("test", n=16, root=tmp_path_factory.mktemp("scenes"))


def _noisy_predictions(ds, seed: int = 0) -> list[Detections]:
    """Jittered ground truth (some boxes dropped, some relabelled) plus false positives with random scores."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(len(ds)):
        gt = ds.detections(i)
        h, w = gt.image_shape
        boxes = gt.xyxy.astype(np.float64)
        size = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)
        boxes = boxes + rng.normal(0, 0.07, boxes.shape) * size
        keep = rng.random(len(boxes)) > 0.1
        ids = gt.class_ids.copy()
        flip = rng.random(len(ids)) < 0.1
        ids[flip] = rng.integers(0, len(NAMES), int(flip.sum()))
        m = int(rng.integers(0, 4))
        xy = rng.uniform(0, min(h, w) - 60, (m, 2))
        fp = np.concatenate([xy, xy + rng.uniform(8, 60, (m, 2))], axis=1)
        boxes = np.concatenate([boxes[keep], fp])
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.5)
        scores = np.concatenate([rng.uniform(0.3, 1.0, int(keep.sum())), rng.uniform(0.0, 0.9, m)])
        out.append(Detections(boxes, scores, np.concatenate([ids[keep], rng.integers(0, len(NAMES), m)]),
                              names=NAMES, image_shape=(h, w)))
    return out


def _pycocotools(ds, preds, tmp_path, *, iou_thresholds=None, cat=None):
    """COCOeval run the usual way: ground truth from a COCO JSON file (our writer), detections through loadRes."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from vision.data.formats import write_coco

    gt_file = tmp_path / "coco" / "annotations.json"
    if not gt_file.exists():
        write_coco(ds, gt_file)
    doc = json.loads(gt_file.read_text())
    cat_of = {c["name"]: c["id"] for c in doc["categories"]}
    res = []
    for img, det in zip(doc["images"], preds):
        for box, score, cid in zip(det.xyxy.tolist(), det.scores.tolist(), det.class_ids.tolist()):
            res.append({"image_id": img["id"], "category_id": cat_of[NAMES[cid]],
                        "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]], "score": score})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        ev = COCOeval(gt, gt.loadRes(res), "bbox")
        if iou_thresholds is not None:
            ev.params.iouThrs = np.asarray(iou_thresholds, float)
        if cat is not None:
            ev.params.catIds = [cat_of[cat]]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def test_map_equals_pycocotools_on_a_coco_file(scenes, tmp_path):
    preds = _noisy_predictions(scenes)
    report = evaluate_detections(preds, scenes)
    stats = _pycocotools(scenes, preds, tmp_path)
    assert 0.2 < report.map50_95 < report.map50 < 1.0  # a non-trivial case
    assert report.map50_95 == pytest.approx(stats[0], abs=1e-6)
    assert report.map50 == pytest.approx(stats[1], abs=1e-6)
    assert report.map75 == pytest.approx(stats[2], abs=1e-6)
    for name in NAMES:
        cls_stats = _pycocotools(scenes, preds, tmp_path, cat=name)
        assert report.ap50_95[name] == pytest.approx(cls_stats[0], abs=1e-6), name
        assert report.ap50[name] == pytest.approx(cls_stats[1], abs=1e-6), name
    assert report.num_images == len(scenes)
    assert report.num_targets == sum(len(r.objects) for r in scenes.images)
    assert report.num_predictions == sum(len(p) for p in preds)
    assert sum(report.class_targets.values()) == report.num_targets
    # the curves are COCO's: their mean precision is the AP
    for name, curve in report.pr_curves.items():
        assert curve.ap == pytest.approx(report.ap50[name], abs=1e-12)
        assert curve.recall.shape == curve.precision.shape == curve.scores.shape == (101,)
        assert np.all(np.diff(curve.precision) <= 1e-12)  # COCO's interpolated precision never rises


def test_custom_iou_thresholds_match_pycocotools(scenes, tmp_path):
    preds = _noisy_predictions(scenes, seed=3)
    thr = (0.3, 0.5, 0.7)
    report = evaluate_detections(preds, scenes, iou_thresholds=[0.7, 0.3, 0.5])
    stats = _pycocotools(scenes, preds, tmp_path, iou_thresholds=thr)
    assert report.iou_thresholds == thr
    assert report.map50_95 == pytest.approx(stats[0], abs=1e-6)
    assert report.map50 == pytest.approx(stats[1], abs=1e-6)
    assert math.isnan(report.map75)  # 0.75 was not evaluated
    only = evaluate_detections(preds, scenes, iou_thresholds=[0.6])
    assert math.isnan(only.map50) and only.curve_iou == 0.6 and not math.isnan(only.map50_95)


def test_perfect_predictions_score_one(scenes):
    preds = [scenes.detections(i) for i in range(len(scenes))]
    report = evaluate_detections(preds, scenes)
    assert report.map50 == pytest.approx(1.0) and report.map50_95 == pytest.approx(1.0)
    assert report.precision == 1.0 and report.recall == 1.0 and report.f1 == 1.0
    assert all(v == pytest.approx(1.0) for v in report.ap50.values())


def test_no_predictions_score_zero(scenes):
    preds = [Detections.empty(names=NAMES) for _ in range(len(scenes))]
    report = evaluate_detections(preds, scenes)
    assert report.map50 == 0.0 and report.map50_95 == 0.0
    assert report.precision == 0.0 and report.recall == 0.0 and report.num_predictions == 0
    assert math.isnan(report.confidence)


def test_best_f1_point_is_exact():
    gt = Detections([[0, 0, 10, 10], [20, 20, 30, 30]], [1, 1], [0, 0], names=("a",))
    # TP .9, FP .8, TP .7, FP .6 → F1 .667, .5, .8, .667: best at .7 with P = 2/3, R = 1
    pred = Detections([[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 31], [70, 70, 80, 80]],
                      [0.9, 0.8, 0.7, 0.6], [0, 0, 0, 0], names=("a",))
    r = evaluate_detections([pred], [gt])
    assert r.confidence == pytest.approx(0.7)
    assert r.precision == pytest.approx(2 / 3) and r.recall == pytest.approx(1.0)
    assert r.f1 == pytest.approx(0.8)
    assert r.class_precision["a"] == pytest.approx(2 / 3)


def test_images_without_objects():
    hit = Detections([[10, 10, 40, 40]], [0.8], [0], names=("a", "b"), image_shape=(64, 64))
    false = Detections([[5, 5, 30, 30]], [0.9], [0], names=("a", "b"), image_shape=(64, 64))
    empty = Detections.empty(names=("a", "b"), image_shape=(64, 64))
    truth = Detections([[10, 10, 40, 40]], [1.0], [0], names=("a", "b"), image_shape=(64, 64))
    r = evaluate_detections([hit, false], [truth, empty])
    # ranked FP (.9) then TP (.8): precision .5 at every recall → AP .5; class b has no ground truth → no AP
    assert r.ap50["a"] == pytest.approx(0.5) and math.isnan(r.ap50["b"])
    assert r.map50 == pytest.approx(0.5) and r.class_targets == {"a": 1, "b": 0}
    assert list(r.pr_curves) == ["a"]
    # no ground truth anywhere: mAP is undefined (nan), reported as None / "—"
    r = evaluate_detections([false, empty], [empty, empty])
    assert math.isnan(r.map50) and math.isnan(r.precision)
    d = r.to_dict()
    assert d["map50"] is None and d["classes"]["a"]["ap50"] is None
    json.dumps(d, allow_nan=False)
    assert "—" in r.table()


def test_report_dict_table_and_names(scenes):
    preds = _noisy_predictions(scenes, seed=1)
    report = evaluate_detections(preds, [scenes.detections(i) for i in range(len(scenes))])
    assert isinstance(report, DetectionReport) and report.names == NAMES
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["map50"] == pytest.approx(report.map50) and set(d["classes"]) == set(NAMES)
    assert len(d["pr_curves"]["circle"]["recall"]) == 101
    table = report.table()
    lines = table.splitlines()
    assert lines[0].startswith("| class |") and len(lines) == 3 + len(NAMES)
    assert f"{report.map50:.3f}" in lines[2]
    # names from the argument, without names on the Detections
    bare_gt = [Detections([[0, 0, 9, 9]], [1], [1])]
    bare_pred = [Detections([[0, 0, 9, 9]], [0.5], [1])]
    r = evaluate_detections(bare_pred, bare_gt, names=["x", "y"])
    assert r.names == ("x", "y") and r.ap50["y"] == pytest.approx(1.0)
    assert evaluate_detections(bare_pred, bare_gt).names == ("0", "1")


def test_bad_inputs_raise_typed_errors(scenes):
    preds = [scenes.detections(i) for i in range(len(scenes))]
    with pytest.raises(InputError, match="15 predictions for 16"):
        evaluate_detections(preds[:-1], scenes)
    with pytest.raises(InputError, match="at least one image"):
        evaluate_detections([], [])
    bad = list(preds)
    bad[2] = Detections([[0, 0, 5, 5]], [0.5], [7])  # no names: id 7 is not one of the 5 classes
    with pytest.raises(InputError, match="prediction 2: class id 7"):
        evaluate_detections(bad, scenes)
    with pytest.raises(InputError, match="target 0: class id 3"):
        evaluate_detections([Detections.empty()], [Detections([[0, 0, 5, 5]], [1], [3])], names=["a", "b"])
    bad[2] = Detections([[0, 0, 5, 5]], [0.5], [0], names=("face",))
    with pytest.raises(InputError, match=r"prediction 2: class names \['face'\] differ"):
        evaluate_detections(bad, scenes)
    bad[2] = {"boxes": [[0, 0, 5, 5]]}
    with pytest.raises(InputError, match="prediction 2: expected a vision.types.Detections, got dict"):
        evaluate_detections(bad, scenes)
    bad[2] = Detections.empty(names=NAMES, image_shape=(100, 80))
    with pytest.raises(ShapeError, match="100×80 image, its target for 256×256"):
        evaluate_detections(bad, scenes)
    with pytest.raises(InputError, match="one Detections per image"):
        evaluate_detections(preds[0], scenes)
    for thr in ([], [0.5, 0.5], [0.0], [1.5], ["a"]):
        with pytest.raises(InputError, match="iou_thresholds"):
            evaluate_detections(preds, scenes, iou_thresholds=thr)
    for names in ("abc", [], ["a", "a"], [1, 2]):
        with pytest.raises(InputError, match="names"):
            evaluate_detections(preds, scenes, names=names)


def test_plot_pr_curves_png(scenes, tmp_path):
    from PIL import Image

    report = evaluate_detections(_noisy_predictions(scenes), scenes)
    fig = plot_pr_curves(report, tmp_path / "pr.png", dpi=50)
    with Image.open(tmp_path / "pr.png") as im:
        assert im.size == (360, 300)
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.std() > 10  # something was drawn
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == f"circle (AP {report.ap50['circle']:.3f})"
    assert any(t.startswith("all classes (mAP") for t in labels)
    # errors leave nothing behind
    empty = evaluate_detections([Detections.empty()], [Detections.empty()])
    with pytest.raises(InputError, match="no object"):
        plot_pr_curves(empty, tmp_path / "none.png")
    with pytest.raises(InputError, match=".png"):
        plot_pr_curves(report, tmp_path / "pr.jpg")
    with pytest.raises(InputError, match="DetectionReport"):
        plot_pr_curves({"map50": 1.0}, tmp_path / "x.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pr.png"]


@pytest.mark.slow
def test_matches_torchmetrics_on_exact_boxes(scenes):
    """torchmetrics' MeanAveragePrecision (float32 boxes) agrees exactly where float32 holds the boxes exactly."""
    import torch
    from torchmetrics.detection import MeanAveragePrecision

    preds = [Detections(np.round(p.xyxy * 8) / 8, p.scores, p.class_ids, names=NAMES, image_shape=p.image_shape)
             for p in _noisy_predictions(scenes, seed=5)]
    report = evaluate_detections(preds, scenes)
    metric = MeanAveragePrecision(iou_type="bbox", class_metrics=True)
    metric.update([{"boxes": torch.tensor(p.xyxy), "scores": torch.tensor(p.scores),
                    "labels": torch.tensor(p.class_ids)} for p in preds],
                  [{"boxes": torch.tensor(scenes.detections(i).xyxy),
                    "labels": torch.tensor(scenes.detections(i).class_ids)} for i in range(len(scenes))])
    out = metric.compute()
    assert report.map50_95 == pytest.approx(float(out["map"]), abs=1e-6)
    assert report.map50 == pytest.approx(float(out["map_50"]), abs=1e-6)
    per_class = dict(zip(out["classes"].tolist(), out["map_per_class"].tolist()))
    for k, name in enumerate(NAMES):
        assert report.ap50_95[name] == pytest.approx(per_class[k], abs=1e-6)
