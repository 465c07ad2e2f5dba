"""apps/Home.py through Streamlit's AppTest: default sample, sample switching, model choice, uploads, sidebar."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from app_support import HOME, assert_clean, encode, png_header_only, run_app, truncated
from PIL import Image
from streamlit.testing.v1.element_tree import FileUploader

from vision.data.photos import load_sample
from vision.models import create_model

needs_upload = pytest.mark.skipif(not hasattr(FileUploader, "upload"),
                                  reason="this Streamlit's AppTest cannot set a file_uploader's value")


def test_default_sample_renders_with_a_face_and_no_clicks():
    at = run_app(HOME)
    assert_clean(at)
    assert at.title[0].value.startswith("vision")
    assert at.selectbox(key="home.sample").value == "astronaut"
    assert at.selectbox(key="home.model").value == "haar-face"
    assert len(at.image) == 1
    table = at.dataframe[0].value
    expected = create_model("haar-face").predict(load_sample("astronaut"))
    assert len(table) == len(expected) >= 1
    assert list(table["label"]) == ["face"] * len(expected)
    np.testing.assert_array_equal(table[["x1", "y1", "x2", "y2"]].to_numpy(), np.round(expected.xyxy))
    assert at.subheader[0].value == f"{len(expected)} detection" + ("s" if len(expected) != 1 else "")
    shown = json.loads(at.json[0].value)  # the result's JSON, as Detections.to_dict() gives it
    assert shown == json.loads(expected.to_json())


def test_switching_samples_runs_the_model_on_the_new_photo():
    at = run_app(HOME)
    at.selectbox(key="home.sample").set_value("grace_hopper").run()
    assert_clean(at)
    expected = create_model("haar-face").predict(load_sample("grace_hopper"))
    assert len(at.dataframe[0].value) == len(expected) >= 1
    assert at.image[0].captions[0].startswith("grace_hopper")
    # the choice is remembered for the other pages
    assert at.session_state["vision_app.sample"] == "grace_hopper"
    at.selectbox(key="home.sample").set_value("coffee").run()
    assert_clean(at)
    assert len(at.dataframe[0].value) == len(create_model("haar-face").predict(load_sample("coffee"))) == 0
    assert at.subheader[0].value == "0 detections"


def test_a_sample_chosen_on_another_page_is_shown():
    at = run_app(HOME, **{"vision_app.sample": "rocket"})
    assert_clean(at)
    assert at.selectbox(key="home.sample").value == "rocket"
    assert at.image[0].captions[0].startswith("rocket")


def test_switching_the_model():
    at = run_app(HOME)
    at.selectbox(key="home.model").set_value("hog-people").run()
    assert_clean(at)
    table = at.dataframe[0].value
    expected = create_model("hog-people").predict(load_sample("astronaut"))
    assert len(table) == len(expected) >= 1
    assert set(table["label"]) == {"person"} and set(table["model"]) == {"hog-people"}


def test_sidebar_shows_versions_offline_status_and_weights():
    at = run_app(HOME)
    assert_clean(at)
    text = "\n".join(m.value for m in at.sidebar.markdown)
    assert "torch" in text and "OpenCV" in text and "vision" in text
    assert "haar-face" in text and "hog-people" in text  # weights available here
    assert any("VISION_OFFLINE=1" in s.value for s in at.sidebar.success)  # tests run offline (conftest)


@needs_upload
def test_a_good_upload_replaces_the_sample():
    photo = load_sample("grace_hopper")
    at = run_app(HOME)
    at.file_uploader(key="home.upload").set_value(("admiral.jpg", encode(photo, "JPEG"), "image/jpeg")).run()
    assert_clean(at)
    caption = at.image[0].captions[0]
    assert "admiral.jpg" in caption and "uploaded" in caption and f"{photo.shape[1]}×{photo.shape[0]}" in caption
    decoded = np.asarray(Image.open(io.BytesIO(encode(photo, "JPEG"))).convert("RGB"))
    assert len(at.dataframe[0].value) == len(create_model("haar-face").predict(decoded)) >= 1
    # removing the upload brings the sample back
    at.file_uploader(key="home.upload").clear().run()
    assert_clean(at)
    assert "astronaut" in at.image[0].captions[0]


@needs_upload
@pytest.mark.parametrize("name, data, message", [
    ("empty.png", b"", "empty.png is empty (0 bytes)"),
    ("notes.png", b"these are my notes, not a picture\n" * 20, "notes.png is not an image"),
    ("half.png", truncated("PNG"), "half.png"),
    ("half.jpg", truncated("JPEG"), "half.jpg"),
    ("bomb.png", png_header_only(10_000, 10_000), "bomb.png has 10000×10000 = 100,000,000 pixels"),
], ids=["zero-byte", "not-an-image", "truncated-png", "truncated-jpeg", "huge"])
def test_a_bad_upload_shows_the_library_message_and_no_traceback(name, data, message):
    at = run_app(HOME)
    at.file_uploader(key="home.upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Could not use the uploaded file:") and message in at.error[0].value
    assert not at.image and not at.dataframe  # nothing half-shown


def test_pages_section_links_every_page_in_the_pages_folder():
    at = run_app(HOME)
    assert_clean(at)
    files = sorted(p.stem.split("_", 1)[1] for p in (HOME.parent / "pages").glob("*.py"))
    links = at.get("page_link")
    assert sorted(link.proto.page for link in links) == files  # Streamlit's URL path of each page file
    labels = [link.proto.label for link in links]
    assert labels[:6] == ["Detect", "Classic ops", "Classify", "Compare detectors", "Train", "Video"]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Video: a detector on a live webcam") for c in captions)


def test_a_page_added_to_the_folder_appears_on_home(tmp_path):
    import shutil

    apps = tmp_path / "apps"
    shutil.copytree(HOME.parent, apps, ignore=shutil.ignore_patterns("__pycache__"))
    (apps / "pages" / "99_Later_page.py").write_text('"""Later page: one from a later issue."""\n'
                                                      'import streamlit as st\nst.title("Later page")\n')
    at = run_app(apps / "Home.py")
    assert_clean(at)
    assert [link.proto.label for link in at.get("page_link")][-1] == "Later page"
    assert any(c.value == "Later page: one from a later issue." for c in at.caption)
