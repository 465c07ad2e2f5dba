"""apps/pages/1_Detect.py through Streamlit's AppTest: every shipped detector, thresholds, sources, uploads."""

from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest
from app_support import DETECT_PAGE, SLOW_TIMEOUT, assert_clean, encode, run_app
from streamlit.testing.v1.element_tree import FileUploader

from vision.data.photos import load_sample
from vision.models import create_model
from vision.types import Detections


@functools.cache
def _predict(name: str, sample: str, options: tuple = ()) -> Detections:
    return create_model(name, **dict(options)).predict(load_sample(sample))


def expected(sample: str, **options) -> dict[str, Detections]:
    """What the library itself finds with the page's default options (which are the library's defaults)."""
    return {name: _predict(name, sample, tuple(sorted(options.get(name, {}).items())))
            for name in ("haar-face", "hog-people")}


def test_default_page_finds_the_astronaut_face_and_shows_the_table():
    at = run_app(DETECT_PAGE)
    assert_clean(at)
    assert at.multiselect(key="detect.models").value == ["haar-face", "hog-people"]
    assert at.slider(key="detect.min_score").value == 0.5
    want = expected("astronaut")
    table = at.dataframe[0].value
    assert len(table) == sum(len(d) for d in want.values())
    assert (table["label"] == "face").sum() == len(want["haar-face"]) >= 1
    assert (table["label"] == "person").sum() == len(want["hog-people"])
    faces = table[table["model"] == "haar-face"][["x1", "y1", "x2", "y2"]].to_numpy()
    np.testing.assert_array_equal(faces, np.round(want["haar-face"].xyxy))
    assert at.subheader[0].value == f"{len(table)} detections"
    # one metric per detector: count and inference time
    metrics = {m.label: m for m in at.metric}
    assert metrics["haar-face: face"].value == f"{len(want['haar-face'])} found"
    assert metrics["hog-people: person"].value == f"{len(want['hog-people'])} found"
    assert sum(bool(re.fullmatch(r"\d+ ms inference", c.value)) for c in at.caption) == 2
    # downloads: the annotated PNG and the JSON
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download annotated PNG", "Download JSON"]
    shown = json.loads(at.json[0].value)
    merged = Detections.from_dict(shown)
    assert merged.names == ("face", "person") and len(merged) == len(table)
    assert merged.image_shape == (512, 512)


def test_min_score_slider_filters_detections():
    at = run_app(DETECT_PAGE)
    at.slider(key="detect.min_score").set_value(1.0).run()
    assert_clean(at)
    assert len(at.dataframe[0].value) == 0 and at.subheader[0].value == "0 detections"
    at.slider(key="detect.min_score").set_value(0.0).run()
    assert_clean(at)
    want = expected("astronaut", **{n: {"min_score": 0.0} for n in ("haar-face", "hog-people")})
    assert len(at.dataframe[0].value) == sum(len(d) for d in want.values()) >= 1


def test_haar_min_neighbors_reaches_the_detector():
    at = run_app(DETECT_PAGE)
    at.multiselect(key="detect.models").set_value(["haar-face"])
    at.slider(key="haar.min_neighbors").set_value(0).run()
    assert_clean(at)
    loose = _predict("haar-face", "astronaut", (("min_neighbors", 0),))
    strict = _predict("haar-face", "astronaut")
    assert len(loose) > len(strict)  # the option matters on this photo, so the check below can fail
    table = at.dataframe[0].value
    assert len(table) == len(loose) and set(table["model"]) == {"haar-face"}


def test_hog_max_side_reaches_the_detector():
    at = run_app(DETECT_PAGE)
    at.multiselect(key="detect.models").set_value(["hog-people"])
    at.slider(key="hog.max_side").set_value(800).run()
    assert_clean(at)
    big = _predict("hog-people", "astronaut", (("max_side", 800),))
    assert len(big) != len(_predict("hog-people", "astronaut"))
    assert len(at.dataframe[0].value) == len(big)


def test_switching_samples_and_the_shared_choice():
    at = run_app(DETECT_PAGE, **{"vision_app.sample": "grace_hopper"})  # as if picked on the Home page
    assert_clean(at)
    assert at.selectbox(key="detect.sample").value == "grace_hopper"
    want = expected("grace_hopper")
    assert len(at.dataframe[0].value) == sum(len(d) for d in want.values()) >= 1
    at.selectbox(key="detect.sample").set_value("rocket").run()
    assert_clean(at)
    want = expected("rocket")
    table = at.dataframe[0].value
    assert list(table["label"]) == ["face"] * len(want["haar-face"]) + ["person"] * len(want["hog-people"])
    assert at.image[0].captions[0].startswith("rocket")
    assert at.session_state["vision_app.sample"] == "rocket"


def test_no_detector_chosen_asks_for_one():
    at = run_app(DETECT_PAGE)
    at.multiselect(key="detect.models").set_value([]).run()
    assert_clean(at)
    assert not at.dataframe and "at least one detector" in at.info[0].value


@pytest.mark.skipif(not hasattr(FileUploader, "upload"), reason="this Streamlit's AppTest cannot upload files")
def test_uploads_good_and_bad():
    at = run_app(DETECT_PAGE)
    photo = load_sample("grace_hopper")
    at.file_uploader(key="detect.upload").set_value(("hopper.png", encode(photo, "PNG"), "image/png")).run()
    assert_clean(at)
    assert "hopper.png" in at.image[0].captions[0]
    assert len(at.dataframe[0].value) == sum(len(d) for d in expected("grace_hopper").values())
    at.file_uploader(key="detect.upload").set_value(("broken.jpg", b"\xff\xd8\xff\xe0 not really", "image/jpeg")).run()
    assert not at.exception
    assert len(at.error) == 1 and "broken.jpg" in at.error[0].value
    assert not at.dataframe and not at.image


# ------------------------------------------------------------------------------------------------ every detector
@functools.cache
def _scene_predict(name: str, index: int, conf: float, iou: float | None = None) -> Detections:
    from vision.io import read_image
    from vision.models.detection.compare import detector_options
    from vision.models.detection.scenes_preset import detection_scenes

    image = read_image(detection_scenes("test", n=20).image_path(index))
    return create_model(name, **detector_options(name, conf=conf, iou=iou)).predict(image)


def scene_page(models: list[str], scene: int = 2, **session) -> object:
    at = run_app(DETECT_PAGE, timeout=SLOW_TIMEOUT, **{"detect.models": models, **session})
    at.radio(key="detect.source").set_value("Held-out synthetic scene").run()
    at.slider(key="detect.scene").set_value(scene).run()
    return at


def test_every_shipped_detector_is_offered():
    from vision.models.detection.compare import shipped_detectors

    at = run_app(DETECT_PAGE)
    assert_clean(at)
    offered = at.multiselect(key="detect.models").options
    assert offered == shipped_detectors()
    assert {"yolov8n", "faster-rcnn-lite0", "fast-rcnn", "rcnn", "haar-face", "hog-people"} <= set(offered)
    assert at.checkbox(key="detect.set_iou").value is False and at.slider(key="detect.iou").proto.disabled


@pytest.mark.slow
def test_all_shipped_detectors_on_a_held_out_scene_match_the_library():
    from vision.models.detection.compare import shipped_detectors

    names = shipped_detectors()
    at = scene_page(names)
    assert_clean(at)
    assert at.image[0].captions[0] == "held-out scene 2"
    table = at.dataframe[0].value
    for name in names:
        want = _scene_predict(name, 2, 0.5)
        rows = table[table["model"] == name]
        assert len(rows) == len(want), name
        np.testing.assert_array_equal(np.sort(rows[["x1", "y1", "x2", "y2"]].to_numpy(), axis=0),
                                      np.sort(np.round(want.xyxy), axis=0))
    metrics = {m.label.split(":")[0]: m.value for m in at.metric}
    assert metrics == {n: f"{len(_scene_predict(n, 2, 0.5))} found" for n in names}
    assert sum(len(_scene_predict(n, 2, 0.5)) for n in ("yolov8n", "faster-rcnn-lite0", "fast-rcnn")) >= 3


def test_confidence_and_iou_sliders_reach_a_shape_detector():
    at = scene_page(["yolov8n"])
    at.slider(key="detect.min_score").set_value(0.05).run()
    assert_clean(at)
    assert len(at.dataframe[0].value) == len(_scene_predict("yolov8n", 2, 0.05))
    at.checkbox(key="detect.set_iou").check().run()
    at.slider(key="detect.iou").set_value(1.0).run()
    assert_clean(at)
    loose = _scene_predict("yolov8n", 2, 0.05, 1.0)
    assert len(loose) > len(_scene_predict("yolov8n", 2, 0.05))  # the IoU matters here, so the check can fail
    assert len(at.dataframe[0].value) == len(loose)
