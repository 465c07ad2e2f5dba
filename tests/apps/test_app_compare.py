"""apps/pages/4_Compare_detectors.py through Streamlit's AppTest, against the library's own results."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from app_support import APPS, assert_clean, encode, run_app
from streamlit.testing.v1.element_tree import FileUploader

from vision.data.photos import load_sample
from vision.io import read_image
from vision.models import create_model
from vision.models.detection.compare import detector_options, shipped_detectors
from vision.models.detection.scenes_preset import detection_scenes
from vision.types import Detections

COMPARE_PAGE = APPS / "pages" / "4_Compare_detectors.py"
OPENCV = ["haar-face", "hog-people"]


@functools.cache
def _predict(name: str, source: str, conf: float = 0.25, iou: float = 0.5) -> Detections:
    """What the library finds with the thresholds the page passes; ``source`` is a sample name or ``scene:i``."""
    if source.startswith("scene:"):
        scenes = detection_scenes("test", n=20)
        image = read_image(scenes.image_path(int(source[6:])))
    else:
        image = load_sample(source)
    return create_model(name, **detector_options(name, conf=conf, iou=iou)).predict(image)


def run_opencv(**session):
    return run_app(COMPARE_PAGE, **{"compare.models": OPENCV, **session})


def test_held_out_scene_side_by_side_with_ground_truth():
    at = run_opencv()
    assert_clean(at)
    assert at.radio(key="compare.source").value == "Held-out scene" and at.slider(key="compare.scene").value == 0
    assert at.slider(key="compare.conf").value == 0.25 and at.slider(key="compare.iou").value == 0.5
    truth = detection_scenes("test", n=20).detections(0)
    captions = [img.captions[0] for img in at.image]
    assert captions[0] == f"ground truth: {len(truth)} objects"
    for caption, name in zip(captions[1:], OPENCV, strict=True):
        assert re.fullmatch(rf"{name}: {len(_predict(name, 'scene:0'))} boxes in \d+ ms", caption), caption
    summary, boxes = at.dataframe[0].value, at.dataframe[1].value
    assert list(summary["model"]) == OPENCV and list(summary["boxes"]) == [len(_predict(n, "scene:0")) for n in OPENCV]
    assert (summary["latency ms"] > 0).all()
    assert len(boxes) == summary["boxes"].sum()
    # another scene: new ground truth, new detections
    at.slider(key="compare.scene").set_value(3).run()
    assert_clean(at)
    assert at.image[0].captions[0] == f"ground truth: {len(detection_scenes('test', n=20).detections(3))} objects"
    assert list(at.dataframe[0].value["boxes"]) == [len(_predict(n, "scene:3")) for n in OPENCV]


def test_photo_and_threshold_sliders_reach_the_detectors():
    at = run_opencv(**{"vision_app.sample": "astronaut"})
    at.radio(key="compare.source").set_value("Photo or upload").run()
    assert_clean(at)
    assert at.selectbox(key="compare.sample").value == "astronaut"
    assert len(at.image) == 2  # no ground truth for a photo
    boxes = at.dataframe[1].value
    want = _predict("haar-face", "astronaut")
    faces = boxes[boxes["model"] == "haar-face"][["x1", "y1", "x2", "y2"]].to_numpy()
    np.testing.assert_array_equal(faces, np.round(want.xyxy))
    assert (boxes["model"] == "hog-people").sum() == len(_predict("hog-people", "astronaut")) >= 1
    at.slider(key="compare.conf").set_value(1.0).run()
    assert_clean(at)
    assert len(at.dataframe[1].value) == 0 and list(at.dataframe[0].value["boxes"]) == [0, 0]
    at.slider(key="compare.conf").set_value(0.0)
    at.slider(key="compare.iou").set_value(0.9).run()
    assert_clean(at)
    assert list(at.dataframe[0].value["boxes"]) == [len(_predict(n, "astronaut", 0.0, 0.9)) for n in OPENCV]


def test_measure_map_notes_detectors_of_other_classes():
    at = run_opencv()
    at.button(key="compare.measure").click().run()
    assert_clean(at)
    table = at.dataframe[2].value
    assert list(table["model"]) == OPENCV and table["mAP50"].isna().all()
    notes = [c.value for c in at.caption if "differ from the targets'" in c.value]
    assert [n.split(":")[0] for n in notes] == OPENCV
    at.slider(key="compare.scene").set_value(1).run()  # the measurement stays on the page
    assert_clean(at)
    assert len(at.dataframe) == 3


def test_no_detector_and_bad_upload():
    at = run_app(COMPARE_PAGE, **{"compare.models": []})
    assert_clean(at)
    assert not at.dataframe and "at least one detector" in at.info[0].value
    if not hasattr(FileUploader, "upload"):
        return
    at = run_opencv()
    at.radio(key="compare.source").set_value("Photo or upload").run()
    at.file_uploader(key="compare.upload").set_value(("hopper.png", encode(load_sample("grace_hopper"), "PNG"),
                                                       "image/png")).run()
    assert_clean(at)
    assert len(at.image) == 2 and len(at.dataframe[1].value) == sum(len(_predict(n, "grace_hopper")) for n in OPENCV)
    at.file_uploader(key="compare.upload").set_value(("broken.jpg", b"\xff\xd8\xff not really", "image/jpeg")).run()
    assert not at.exception and len(at.error) == 1 and "broken.jpg" in at.error[0].value
    assert not at.image and not at.dataframe


@pytest.mark.slow
def test_default_page_runs_every_shipped_detector_and_its_map_matches_the_library():
    from streamlit.testing.v1 import AppTest

    from vision.models.detection.compare import EVAL_CONF, evaluate_detector

    at = AppTest.from_file(str(COMPARE_PAGE), default_timeout=600).run()  # loads every shipped detector
    assert_clean(at)
    shipped = shipped_detectors()
    assert at.multiselect(key="compare.models").value == shipped
    assert list(at.dataframe[0].value["model"]) == shipped and len(at.image) == len(shipped) + 1
    at.button(key="compare.measure").click().run()
    assert_clean(at)
    table = at.dataframe[2].value.set_index("model")
    scene_models = [m for m in shipped if m not in OPENCV]
    if not scene_models:
        pytest.skip("no scene detector has its weights here")
    name = scene_models[0]
    report = evaluate_detector(create_model(name, **detector_options(name, conf=EVAL_CONF)),
                               detection_scenes("test", n=8))
    assert table.loc[name, "mAP50"] == pytest.approx(report.map50)
