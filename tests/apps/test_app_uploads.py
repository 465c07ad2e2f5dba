"""Bad uploads on every page that has an upload widget: the library's message in one st.error, no traceback, nothing
half-shown, and the page works again with the next good file."""

from __future__ import annotations

import pytest
from app_support import (
    CLASSIC_PAGE,
    CLASSIFY_PAGE,
    COMPARE_PAGE,
    DETECT_PAGE,
    HOME,
    SEGMENT_PAGE,
    VIDEO_PAGE,
    encode,
    png_header_only,
    run_app,
    truncated,
)
from streamlit.testing.v1.element_tree import FileUploader

from vision.data.photos import load_sample

pytestmark = pytest.mark.skipif(not hasattr(FileUploader, "upload"),
                                reason="this Streamlit's AppTest cannot set a file_uploader's value")

#: (name, bytes, what the message must contain)
BAD_IMAGES = [
    ("empty.png", b"", "empty.png is empty (0 bytes)"),
    ("notes.png", b"these are my notes, not a picture\n" * 20, "notes.png is not an image"),
    ("half.png", truncated("PNG"), "half.png"),
    ("half.jpg", truncated("JPEG"), "half.jpg"),
    ("bomb.png", png_header_only(10_000, 10_000), "bomb.png has 10000×10000 = 100,000,000 pixels"),
]

#: page → (its uploader's key, session state that makes it show the uploader and keeps it quick)
IMAGE_PAGES = {
    "home": (HOME, "home.upload", {}),
    "detect": (DETECT_PAGE, "detect.upload", {}),
    "classic_ops": (CLASSIC_PAGE, "classic.upload", {}),
    "classify": (CLASSIFY_PAGE, "classify.upload", {}),
    "compare": (COMPARE_PAGE, "compare.upload", {"compare.models": ["haar-face"], "compare.source": "Photo or upload"}),
    "segment": (SEGMENT_PAGE, "segment.upload", {"segment.source": "photo or upload"}),
}


def assert_message(at, *fragments: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1, [e.value for e in at.error]
    for fragment in fragments:
        assert fragment in at.error[0].value, at.error[0].value
    assert "Traceback" not in at.error[0].value


@pytest.mark.parametrize("page", list(IMAGE_PAGES))
def test_bad_image_uploads_show_the_library_message_and_the_page_recovers(page, monkeypatch):
    path, key, session = IMAGE_PAGES[page]
    at = run_app(path, **session)
    assert not at.exception and not at.error
    for name, data, message in BAD_IMAGES:
        at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()
        assert_message(at, "Could not use the uploaded file:", message)
        assert not at.image and not at.dataframe, f"{page}: a result is still shown after {name}"
    # VISION_MAX_PIXELS lowers the app's own limit: a normal photo is now refused before decoding
    monkeypatch.setenv("VISION_MAX_PIXELS", "100000")
    photo = encode(load_sample("astronaut"), "PNG")
    at.file_uploader(key=key).set_value(("astronaut.png", photo, "image/png")).run()
    assert_message(at, "astronaut.png has 512×512 = 262,144 pixels; the limit is 100,000", "VISION_MAX_PIXELS")
    monkeypatch.delenv("VISION_MAX_PIXELS")
    # … and the app is still up: the same photo works
    at.file_uploader(key=key).set_value(("astronaut.png", photo, "image/png")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.image, f"{page}: nothing shown for a good upload"


def _truncated_mp4(tmp_path) -> bytes:
    from vision.io import VideoSink

    with VideoSink(tmp_path / "clip.mp4", fps=10) as sink:
        for i in range(10):
            sink.write(load_sample("astronaut")[:256, :256])
    data = (tmp_path / "clip.mp4").read_bytes()
    return data[: len(data) // 2]  # mp4v writes its index (the moov atom) last


def test_bad_video_uploads_show_the_library_message_and_the_page_recovers(tmp_path):
    at = run_app(VIDEO_PAGE, **{"video.source": "Upload a video", "video.model": "haar-face"})
    assert not at.exception and not at.error and at.info
    for name, data, message in [
        ("empty.mp4", b"", "empty.mp4"),
        ("notes.mp4", b"these are my notes, not a video\n" * 20, "notes.mp4 could not be opened as a video"),
        ("half.mp4", _truncated_mp4(tmp_path), "half.mp4"),
    ]:
        at.file_uploader(key="video.upload").set_value((name, data, "video/mp4")).run()
        assert_message(at, "Could not use the video:", message)
        assert not at.image and not at.metric
    from vision.io import VideoSink, VideoSource
    from vision.models import create_model
    from vision.models.detection.compare import detector_options

    with VideoSink(tmp_path / "good.avi", fps=10, codec="MJPG") as sink:
        for i in range(6):
            sink.write(load_sample("astronaut")[i * 8:i * 8 + 448, :448])
    at.slider(key="video.max_frames").set_value(4).run()
    at.file_uploader(key="video.upload").set_value(("good.avi", (tmp_path / "good.avi").read_bytes(),
                                                    "video/x-msvideo")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with VideoSource(tmp_path / "good.avi") as video:
        first = video.read().image
    faces = create_model("haar-face", **detector_options("haar-face", conf=0.25)).predict(first)
    assert len(faces) >= 1
    assert at.metric[0].value == "4"
    assert at.image[0].captions[0] == f"frame 0: {len(faces)} box" + ("es" if len(faces) != 1 else "")
