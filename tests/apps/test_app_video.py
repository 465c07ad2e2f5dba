"""apps/pages/6_Video.py through AppTest: a detector over video frames, snapshots and the webcam fallback."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from app_support import SLOW_TIMEOUT, VIDEO_PAGE, assert_clean, run_app

from vision.io import VideoSource
from vision.models import create_model
from vision.models.detection.compare import detector_options

STREET = sorted((Path(__file__).resolve().parents[2] / "datasets").glob("vtest_*.avi"))
HAS_WEBRTC = importlib.util.find_spec("streamlit_webrtc") is not None


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_synthetic_clip_runs_the_default_detector_over_its_frames():
    at = run_app(VIDEO_PAGE, timeout=SLOW_TIMEOUT)
    assert_clean(at)
    assert at.radio(key="video.mode").value == "Video file"
    assert at.radio(key="video.source").value == "Synthetic scenes clip"
    assert at.selectbox(key="video.model").value == "yolov8n"
    shown = metrics(at)
    assert shown["Frames processed"] == "48"
    assert float(shown["Detector fps"]) > 0 and float(shown["End-to-end fps"]) > 0
    assert float(shown["Boxes per frame"]) >= 1  # the clip pans over 4–8 shapes the detector was trained on
    first = at.image[0]
    assert re.fullmatch(r"frame 0: \d+ box(es)?", first.captions[0])
    at.slider(key="video.frame").set_value(47).run()
    assert_clean(at)
    assert at.image[0].captions[0].startswith("frame 47:")
    assert any("yolov8n on synthetic scenes clip" in c.value for c in at.caption)


def test_stride_and_frame_count_reach_the_loop():
    at = run_app(VIDEO_PAGE, **{"video.model": "haar-face", "video.max_frames": 8, "video.stride": 3})
    assert_clean(at)
    assert metrics(at)["Frames processed"] == "8"
    at.slider(key="video.frame").set_value(7).run()
    assert at.image[0].captions[0].startswith("frame 21:")  # every 3rd frame: 0, 3, …, 21


@pytest.mark.skipif(not STREET, reason="datasets/vtest_*.avi (the street clip) is not in this checkout")
def test_street_clip_people_counts_match_the_library():
    at = run_app(VIDEO_PAGE, **{"video.model": "hog-people", "video.source": "Street (vtest)", "video.max_frames": 4})
    assert_clean(at)
    people = create_model("hog-people", **detector_options("hog-people", conf=0.25))
    with VideoSource(STREET[0]) as video:
        want = [len(people.predict(next(iter(video)).image)) for _ in range(4)]
    assert metrics(at)["Frames processed"] == "4"
    assert metrics(at)["Boxes per frame"] == f"{np.mean(want):.1f}" and sum(want) > 0
    assert at.image[0].captions[0] == f"frame 0: {want[0]} box" + ("es" if want[0] != 1 else "")


def test_snapshot_mode_asks_for_the_camera():
    at = run_app(VIDEO_PAGE, **{"video.mode": "Camera snapshot"})
    assert_clean(at)
    assert at.get("camera_input") and "No snapshot yet" in at.info[0].value


def test_live_webcam_falls_back_to_snapshots_without_a_browser_session():
    # AppTest has no real server for WebRTC (and streamlit-webrtc may be absent): the page must fall back, not crash
    at = run_app(VIDEO_PAGE, **{"video.mode": "Live webcam (WebRTC)"})
    assert not at.exception and not at.error
    assert at.get("camera_input")
    if HAS_WEBRTC:
        assert "camera snapshots instead" in at.warning[0].value
    else:
        assert "streamlit-webrtc" in at.info[0].value


@pytest.mark.skipif(not HAS_WEBRTC, reason="streamlit-webrtc is not installed (pip install -e '.[app]')")
def test_a_bad_turn_setting_is_reported(monkeypatch):
    monkeypatch.setenv("VISION_WEBRTC_ICE_SERVERS", "turn:example.org")
    at = run_app(VIDEO_PAGE, **{"video.mode": "Live webcam (WebRTC)"})
    assert not at.exception
    assert len(at.error) == 1 and "VISION_WEBRTC_ICE_SERVERS is not valid JSON" in at.error[0].value
