"""apps/pages/7_Segment.py through Streamlit's AppTest: the shipped FCN on a held-out scene and on a photo."""

from __future__ import annotations

import numpy as np
from app_support import SEGMENT_PAGE, SLOW_TIMEOUT, assert_clean, run_app

from vision.metrics.segmentation import evaluate_segmentation
from vision.models import create_model
from vision.models.detection.scenes_preset import detection_scenes
from vision.models.segmentation.data import SemanticMaskDataset


def test_held_out_scene_shows_image_truth_prediction_and_the_library_miou():
    at = run_app(SEGMENT_PAGE, timeout=SLOW_TIMEOUT)
    assert_clean(at)
    assert at.selectbox(key="segment.model").value == "fcn"
    data = SemanticMaskDataset(detection_scenes("test", n=24))
    image, mask = data.read(0)
    want = evaluate_segmentation([create_model("fcn").predict(image)], [mask], names=data.names).miou
    assert at.metric[0].value == f"{want:.3f}"
    at.slider(key="segment.scene").set_value(3).run()
    assert_clean(at)
    image, mask = data.read(3)
    want = evaluate_segmentation([create_model("fcn").predict(image)], [mask], names=data.names).miou
    assert at.metric[0].value == f"{want:.3f}"


def test_photo_shows_class_shares_that_add_up():
    at = run_app(SEGMENT_PAGE, timeout=SLOW_TIMEOUT, **{"segment.source": "photo or upload"})
    assert_clean(at)
    table = at.dataframe[0].value
    assert table["class"].iloc[0] == "background"  # a photo is mostly not a synthetic shape
    assert table["pixels"].sum() == 512 * 512 and np.all(np.diff(table["pixels"].to_numpy()) <= 0)


def test_semantic_vs_instance_view_scores_the_instance_model_with_the_library():
    from vision.metrics.detection import evaluate_detections

    at = run_app(SEGMENT_PAGE, timeout=SLOW_TIMEOUT)
    assert_clean(at)
    assert at.radio(key="segment.view").value == "semantic vs instance"
    assert at.selectbox(key="segment.instance_model").value == "mask-rcnn-lite0"
    scenes = detection_scenes("test", n=24)
    image = SemanticMaskDataset(scenes).read(2)[0]
    at.slider(key="segment.scene").set_value(2).run()
    assert_clean(at)
    pred = create_model("mask-rcnn-lite0").predict(image).filter(min_score=0.5)  # the page's default threshold
    want = evaluate_detections([pred], [scenes.detections(2, masks=True)], iou_type="segm").map50
    assert [m.label for m in at.metric] == ["mIoU on this scene", "mask AP@0.5 on this scene"]
    assert at.metric[1].value == f"{want:.3f}"
    objects = at.dataframe[0].value
    assert len(objects) == len(pred) and list(objects["class"]) == list(pred.labels)
    assert all(objects["pixels"] == pred.masks.sum(axis=(1, 2)))


def test_instance_only_view_on_a_photo():
    at = run_app(SEGMENT_PAGE, timeout=SLOW_TIMEOUT,
                 **{"segment.view": "instance", "segment.source": "photo or upload"})
    assert_clean(at)
    assert "segment.model" not in [s.key for s in at.selectbox] and at.selectbox(key="segment.instance_model").value
    assert len(at.metric) == 0 and at.caption  # no truth on a photo: no score, an object count
