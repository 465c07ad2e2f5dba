"""apps/pages/6_Video.py through AppTest: a detector over video frames (with tracking and a count line), snapshots,
the webcam fallback, and the action timeline."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import replace
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


# ------------------------------------------------------------------------------------------------ action timeline
ACTION_MODE = {"video.mode": "Action timeline"}


def test_action_timeline_labels_every_clip_of_the_sample():
    at = run_app(VIDEO_PAGE, timeout=SLOW_TIMEOUT, **ACTION_MODE)
    assert_clean(at)
    classes = list(create_model("video-cnn-lstm").classes)
    shown = metrics(at)
    # the sample: each of the 6 actions as two 8-frame clips, cut every 8 frames → 12 clips, 6 segments
    assert shown["Clips"] == "12" and shown["Segments"] == "6"
    assert shown["Clips correct"] == "12/12"
    segments, per_action = at.dataframe[0].value, at.dataframe[1].value
    assert segments["label"].tolist() == classes
    assert segments["start frame"].tolist() == list(range(0, 96, 16)) and segments["end frame"].tolist()[-1] == 96
    assert segments["start (s)"].tolist()[1] == 2.0  # the sample is written at 8 fps
    assert (segments["score"] > 0.9).all()
    assert per_action["action"].tolist() == classes and (per_action["correct"] == 2).all()
    assert len(at.image) == 1 and "over the true ones" in at.image[0].captions[0]  # the timeline, with its truth band
    assert [b.label for b in at.get("download_button")] == ["Download clips (JSON lines)", "Download timeline PNG"]
    # the result is kept: moving back and forth between modes does not relabel, and the page stays clean
    at.radio(key="video.mode").set_value("Camera snapshot").run()
    at.radio(key="video.mode").set_value("Action timeline").run()
    assert_clean(at)
    assert metrics(at)["Clips correct"] == "12/12"


def test_action_timeline_uploads_bad_short_and_good(tmp_path):
    from vision.data.action_videos import make_action_sequence, write_action_video

    at = run_app(VIDEO_PAGE, timeout=SLOW_TIMEOUT, **ACTION_MODE, **{"video.actions.source": "Upload a video"})
    assert_clean(at)
    assert "Choose a video file" in at.info[0].value
    model = create_model("video-cnn-lstm")
    seq = make_action_sequence(model.classes, classes=model.classes, clips_per_action=2, seed=3)
    short = write_action_video(tmp_path / "short.avi", replace(seq, frames=seq.frames[:5]))
    good = write_action_video(tmp_path / "good.avi", seq)
    for name, data, message in [
        ("notes.mp4", b"these are my notes, not a video\n" * 20, "notes.mp4 could not be opened as a video"),
        ("short.avi", short.read_bytes(), "short.avi has 5 frames; expected at least one clip of 8 frames"),
    ]:
        at.file_uploader(key="video.actions.upload").set_value((name, data, "video/mp4")).run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.error) == 1 and at.error[0].value.startswith("Could not use the video:"), at.error
        assert message in at.error[0].value and "vision_app_upload_" not in at.error[0].value, at.error[0].value
        assert not at.image and not at.metric and not at.dataframe  # nothing stale is left on the page
    at.file_uploader(key="video.actions.upload").set_value(("good.avi", good.read_bytes(), "video/x-msvideo")).run()
    assert_clean(at)
    # an upload has no truth: no accuracy; clips every 4 frames by default (half-overlapping) → (96 − 8) / 4 + 1
    assert metrics(at)["Clips"] == "23" and "Clips correct" not in metrics(at)
    assert len(at.dataframe) == 1 and set(at.dataframe[0].value["label"]) == set(model.classes)
    at.slider(key="video.actions.stride").set_value(8).run()
    assert_clean(at)
    assert metrics(at)["Clips"] == "12"
    assert at.dataframe[0].value["label"].tolist() == list(model.classes)


# ------------------------------------------------------------------------------------------------ tracking
def test_tracking_with_a_count_line_on_the_synthetic_clip():
    at = run_app(VIDEO_PAGE, timeout=SLOW_TIMEOUT, **{"video.track": True, "video.line": "Vertical",
                                                       "video.max_frames": 16, "video.stride": 3})
    assert_clean(at)
    shown = metrics(at)
    assert shown["Frames processed"] == "16"
    first = int(re.match(r"frame 0: (\d+) box", at.image[0].captions[0]).group(1))
    assert int(shown["Tracks"]) >= first >= 1
    # the clip pans right over the scene, so every object moves left: they cross the middle line one way only
    assert shown["In"] == "0" and int(shown["Out"]) >= 1
    assert any("yolov8n + ByteTrack on synthetic scenes clip · boxes smoothed over 5 frames · count line at x = 50% "
               "of the width" in c.value for c in at.caption)
    at.slider(key="video.frame").set_value(15).run()  # tracking follows every frame, whatever the stride slider says
    assert_clean(at)
    assert at.image[0].captions[0].startswith("frame 15:")
    assert at.image[0].captions[0].endswith(f"· in 0 · out {shown['Out']}")
    # switching tracking off goes back to the per-frame detector path
    at.checkbox(key="video.track").uncheck().run()
    assert_clean(at)
    assert "Tracks" not in metrics(at) and "Detector fps" in metrics(at)
