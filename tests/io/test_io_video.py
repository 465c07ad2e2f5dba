"""vision.io video: sources and sinks on short clips generated here (no camera and no network exist)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vision.errors import DTypeError, InputError, ShapeError, SourceNotFoundError, VideoSourceError
from vision.io import Frame, VideoSink, VideoSource
from vision.io.video import _describe_source, _redact

W, H, N, FPS = 64, 48, 30, 10.0


def _moving_square(i: int) -> np.ndarray:
    frame = np.full((H, W, 3), 30, np.uint8)
    frame[16:32, i : i + 16] = (255, 255, 255)
    return frame


def _grabber_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("VideoSource-grabber")]


@pytest.fixture(params=[".mp4", ".avi"])
def clip(request, tmp_path) -> Path:
    path = tmp_path / f"clip{request.param}"
    with VideoSink(path, fps=FPS) as sink:
        for i in range(N):
            sink.write(_moving_square(i))
    return path


@pytest.fixture()
def mp4(tmp_path) -> Path:
    path = tmp_path / "clip.mp4"
    with VideoSink(path, fps=FPS) as sink:
        for i in range(N):
            sink.write(_moving_square(i))
    return path


# ------------------------------------------------------------------------------------------------ reading


def test_round_trip_metadata_and_frames(clip):
    with VideoSource(clip) as video:
        assert (video.width, video.height, video.fps, video.frame_count) == (W, H, FPS, N)
        assert video.is_live is False
        frames = list(video)
    assert len(frames) == N
    assert [f.index for f in frames] == list(range(N))
    stamps = np.array([f.timestamp for f in frames])
    assert np.all(np.diff(stamps) > 0)
    np.testing.assert_allclose(stamps, np.arange(N) / FPS, atol=1e-3)
    for f in frames:
        assert f.image.shape == (H, W, 3) and f.image.dtype == np.uint8 and f.image.flags.c_contiguous


def test_square_moves_right(clip):
    with VideoSource(clip) as video:
        xs = [np.nonzero(f.image[24, :, 0] > 128)[0].mean() for f in video]
    np.testing.assert_allclose(xs, np.arange(N) + 7.5, atol=1.0)


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_colour_order_is_rgb(tmp_path, suffix):
    path = tmp_path / f"red{suffix}"
    red = np.zeros((H, W, 3), np.uint8)
    red[..., 0] = 255
    with VideoSink(path, fps=FPS) as sink:
        for _ in range(3):
            sink.write(red)
    with VideoSource(path) as video:
        image = video.read().image
    assert image[..., 0].mean() > 230 and image[..., 1].mean() < 25 and image[..., 2].mean() < 25


def test_lossless_codec_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(4)]
    with VideoSink(tmp_path / "exact.mkv", fps=FPS) as sink:  # FFV1
        for f in frames:
            sink.write(f)
    with VideoSource(tmp_path / "exact.mkv") as video:
        for want, got in zip(frames, video, strict=True):
            np.testing.assert_array_equal(got.image, want)


def test_resize_on_read(mp4):
    with VideoSource(mp4, size=(32, 24)) as video:
        assert (video.width, video.height) == (32, 24)
        frame = video.read()
    assert frame.image.shape == (24, 32, 3)


def test_read_returns_none_at_end_and_after_release(mp4):
    video = VideoSource(mp4)
    for _ in range(N):
        assert isinstance(video.read(), Frame)
    assert video.read() is None
    video.release()
    video.release()  # idempotent
    assert video.read() is None


def test_digits_string_is_a_camera_index():
    assert _describe_source("0")[:2] == ("camera", 0)
    assert _describe_source(3)[:2] == ("camera", 3)


def test_stream_urls_are_classified_and_redacted():
    kind, target, name = _describe_source("rtsp://admin:s3cret@10.0.0.5:554/stream1")
    assert kind == "stream" and target == "rtsp://admin:s3cret@10.0.0.5:554/stream1"
    assert "s3cret" not in name and name == "rtsp://admin:***@10.0.0.5:554/stream1"
    assert _redact("http://cam.local/video.mjpg") == "http://cam.local/video.mjpg"


# ------------------------------------------------------------------------------------------------ latest mode


def test_latest_mode_drops_frames_for_a_slow_consumer(mp4):
    assert _grabber_threads() == []
    with VideoSource(mp4, latest=True) as video:
        assert len(_grabber_threads()) == 1
        got = []
        while (frame := video.read()) is not None:
            got.append(frame)
            time.sleep(0.02)  # the grabber decodes far faster than this
        dropped = video.dropped
    indices = [f.index for f in got]
    assert indices == sorted(set(indices))  # never out of order, never repeated
    assert indices[-1] == N - 1  # the newest frame is never lost
    assert dropped > 0 and len(got) + dropped == N
    stamps = [f.timestamp for f in got]
    assert stamps == sorted(stamps)
    np.testing.assert_allclose(stamps, np.array(indices) / FPS, atol=1e-3)
    assert _grabber_threads() == []


def test_latest_mode_release_joins_the_thread_mid_stream(tmp_path):
    path = tmp_path / "long.avi"
    with VideoSink(path, fps=FPS) as sink:
        for i in range(300):
            sink.write(_moving_square(i % 48))
    video = VideoSource(path, latest=True)
    first = video.read()
    assert first is not None and first.image.shape == (H, W, 3)
    video.release()
    assert _grabber_threads() == []
    assert video.read() is None


# ------------------------------------------------------------------------------------------------ live sources


class _FileAsStream(VideoSource):
    """A real file read through cv2 but handled as a live stream, to exercise reconnecting offline."""

    _RECONNECT_DELAY = 0.001

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kind = "stream"


def test_stream_reconnects_after_read_failure(mp4):
    with _FileAsStream(mp4, reconnect=1) as video:
        assert video.is_live and video.frame_count is None
        frames = [video.read() for _ in range(75)]  # the "stream" ends every 30 frames and is reopened
    assert [f.index for f in frames] == list(range(75))
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps)  # monotonic wall clock for live sources
    np.testing.assert_array_equal(frames[30].image, frames[0].image)


class _SlowReconnect(_FileAsStream):
    _RECONNECT_DELAY = 30.0


def test_release_wakes_a_waiting_consumer_and_a_backing_off_grabber(mp4):
    video = _SlowReconnect(mp4, latest=True, reconnect=3)
    mp4.unlink()
    while video.read().index < N - 1:  # drain; the grabber then sleeps 30 s before reconnecting
        pass
    results = []
    waiter = threading.Thread(target=lambda: results.append(video.read()))
    waiter.start()
    time.sleep(0.1)
    assert waiter.is_alive()  # blocked: no frame and the source has not ended
    start = time.monotonic()
    video.release()
    waiter.join(2)
    assert not waiter.is_alive() and results == [None]
    assert time.monotonic() - start < 2 and _grabber_threads() == []


@pytest.mark.parametrize("latest", [False, True])
def test_stream_gives_up_after_reconnect_attempts(mp4, latest):
    video = _FileAsStream(mp4, reconnect=2, latest=latest)
    mp4.unlink()  # the open capture keeps reading; every reopen now fails
    with pytest.raises(VideoSourceError, match=r"stopped delivering frames after 30 frame\(s\) and 2 reconnect"):
        for _ in video:
            pass
    video.release()
    assert _grabber_threads() == []


def test_camera_failure_without_reconnect(mp4):
    with _FileAsStream(mp4) as video:
        assert len(list(video.read() for _ in range(N))) == N
        with pytest.raises(VideoSourceError, match="reconnect="):
            video.read()


def test_missing_camera_is_reported_quickly():
    start = time.monotonic()
    try:
        with pytest.raises(VideoSourceError, match=r"camera 99 could not be opened; expected a connected camera"):
            VideoSource(99)
        with pytest.raises(VideoSourceError, match="camera 98"):
            VideoSource("98")
    finally:
        elapsed = time.monotonic() - start
    if elapsed > 2:  # pragma: no cover - depends on the machine's camera drivers
        pytest.skip(f"cv2 took {elapsed:.1f} s to probe cameras here")


# ------------------------------------------------------------------------------------------------ bad sources


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(SourceNotFoundError, match="missing.mp4"):
        VideoSource(tmp_path / "missing.mp4")


def test_non_video_file_is_a_video_source_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n" * 20)
    with pytest.raises(VideoSourceError, match=r"notes\.mp4 could not be opened as a video"):
        VideoSource(path)


def test_directory_and_bad_arguments(tmp_path, mp4):
    with pytest.raises(InputError, match="is a directory"):
        VideoSource(tmp_path)
    with pytest.raises(InputError, match="got float"):
        VideoSource(1.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="camera index must be ≥ 0"):
        VideoSource(-1)
    with pytest.raises(InputError, match=r"size must be \(width, height\)"):
        VideoSource(mp4, size=(32,))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="reconnect must be an integer"):
        VideoSource(mp4, reconnect=-1)
    with pytest.raises(InputError, match="latest must be True or False"):
        VideoSource(mp4, latest=1)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ sink


def test_sink_publishes_only_on_close(tmp_path):
    target = tmp_path / "out" / "video.avi"
    sink = VideoSink(target, fps=FPS)
    assert sink.codec == "MJPG" and sink.size is None
    sink.write(_moving_square(0))
    assert not target.exists()
    assert len(list(target.parent.iterdir())) == 1  # the hidden temp file
    sink.write(Frame(image=_moving_square(1), index=1, timestamp=0.1))  # a Frame is accepted
    sink.write(np.full((H, W), 128, np.uint8))  # and gray
    assert sink.close() == target and sink.frames_written == 3 and sink.size == (W, H)
    assert sorted(p.name for p in target.parent.iterdir()) == ["video.avi"]
    with VideoSource(target) as video:
        assert video.frame_count == 3
    with pytest.raises(VideoSourceError, match="is closed"):
        sink.write(_moving_square(2))


def test_exception_inside_with_removes_temp_and_keeps_old_file(tmp_path):
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"old")
    with pytest.raises(ShapeError, match=r"frame 2 is 32×48 \(width×height\) but the video is 64×48"):
        with VideoSink(target, fps=FPS) as sink:
            sink.write(_moving_square(0))
            sink.write(_moving_square(1))
            sink.write(np.zeros((H, 32, 3), np.uint8))
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_abort_and_empty_sink_write_nothing(tmp_path):
    sink = VideoSink(tmp_path / "a.mp4", fps=FPS, size=(W, H))
    sink.write(_moving_square(0))
    sink.abort()
    assert list(tmp_path.iterdir()) == []
    assert VideoSink(tmp_path / "b.mp4", fps=FPS).close() is None
    assert VideoSink(tmp_path / "c.mp4", fps=FPS, size=(W, H)).close() is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "frame, error, pattern",
    [
        (np.zeros((H, W, 3), np.float32), DTypeError, r"expected uint8 frames, got 48×64×3 float32"),
        (np.zeros((H, W, 4), np.uint8), ShapeError, r"expected H×W×3 uint8 RGB, got 48×64×4 uint8"),
        (np.zeros((2, H, W, 3), np.uint8), ShapeError, "got 2×48×64×3"),
        (np.zeros((47, 63, 3), np.uint8), ShapeError, "expected even width and height"),
        ("frame", InputError, "got str"),
    ],
)
def test_sink_refuses_bad_frames(tmp_path, frame, error, pattern):
    sink = VideoSink(tmp_path / "x.mp4", fps=FPS)
    with pytest.raises(error, match=pattern):
        sink.write(frame)
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_sink_size_given_up_front(tmp_path):
    with pytest.raises(ShapeError, match="but the video is 32×24"):
        with VideoSink(tmp_path / "s.avi", fps=FPS, size=(32, 24)) as sink:
            sink.write(_moving_square(0))
    assert list(tmp_path.iterdir()) == []


def test_sink_bad_arguments(tmp_path):
    with pytest.raises(InputError, match=r"no default codec for suffix '\.webm'.*\.mp4"):
        VideoSink(tmp_path / "x.webm", fps=FPS)
    with pytest.raises(InputError, match="fps must be a positive number"):
        VideoSink(tmp_path / "x.mp4", fps=0)
    with pytest.raises(InputError, match="codec must be a 4-character FourCC"):
        VideoSink(tmp_path / "x.mp4", fps=FPS, codec="h264x")
    with pytest.raises(InputError, match="is a directory"):
        VideoSink(tmp_path, fps=FPS, codec="MJPG")
    assert list(tmp_path.iterdir()) == []


def test_sink_explicit_codec(tmp_path):
    with VideoSink(tmp_path / "x.avi", fps=FPS, codec="FFV1") as sink:
        sink.write(_moving_square(0))
    with VideoSource(tmp_path / "x.avi") as video:
        np.testing.assert_array_equal(video.read().image, _moving_square(0))


# ------------------------------------------------------------------------------------------------ realtime files


def test_frames_carry_their_capture_time(mp4):
    start = time.monotonic()
    with VideoSource(mp4) as video:
        frames = list(video)
    captured = [f.captured for f in frames]
    assert start <= captured[0] and captured == sorted(captured) and captured[-1] <= time.monotonic()


def test_realtime_file_releases_frames_at_the_file_rate(mp4):
    with VideoSource(mp4, latest=True, realtime=True) as video:
        assert "realtime=True" in repr(video)
        frames = list(video)  # a fast consumer: it waits for every frame, none is dropped
    assert [f.index for f in frames] == list(range(N)) and video.dropped == 0
    # frame k is not released before k / fps seconds after the first one (it may be later on a busy machine)
    assert frames[-1].captured - frames[0].captured >= (N - 1) / FPS - 0.02


def test_realtime_file_drops_frames_for_a_slow_consumer(mp4):
    with VideoSource(mp4, latest=True, realtime=True) as video:
        got = []
        while (frame := video.read()) is not None:
            got.append(frame.index)
            time.sleep(0.35)  # 3.5 frame periods
        dropped = video.dropped
    assert dropped > 0 and len(got) + dropped == N and got == sorted(got)


def test_realtime_needs_latest(mp4):
    with pytest.raises(InputError, match="realtime=True needs latest=True"):
        VideoSource(mp4, realtime=True)
    with pytest.raises(InputError, match="realtime must be True or False"):
        VideoSource(mp4, latest=True, realtime="yes")  # type: ignore[arg-type]
