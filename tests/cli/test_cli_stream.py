"""`vision stream`: exit codes, printed stats, recording and the MJPEG view, on real videos with real detectors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from vision.cli.main import main
from vision.io import VideoSink, VideoSource

VTEST = Path(__file__).resolve().parents[2] / "datasets" / "vtest_120.avi"


@pytest.fixture()
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.avi"
    with VideoSink(path, fps=10) as sink:
        for i in range(20):
            frame = np.full((48, 64, 3), 40, np.uint8)
            frame[16:32, i:i + 16] = 255
            sink.write(frame)
    return path


def test_source_that_ends_exits_0_with_stats(clip, capsys):
    before = set(threading.enumerate())
    assert main(["stream", str(clip), "--model", "haar-face", "--no-display"]) == 0
    out = capsys.readouterr().out
    assert "20 frames in" in out and "ended: end" in out and "latency (capture → shown): p50" in out
    assert set(threading.enumerate()) == before


def test_json_stats_and_recording(tmp_path, clip, capsys):
    out = tmp_path / "annotated.avi"
    assert main(["stream", str(clip), "--model", "haar-face", "--no-display", "--save", str(out), "--json",
                 "--track", "bytetrack"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["frames"] == 20 and stats["ended"] == "end" and stats["outputs"]["recording"] == str(out)
    with VideoSource(out) as video:
        assert video.frame_count == 20 and (video.width, video.height) == (64, 48)


@pytest.mark.slow
def test_people_on_the_street_video(capsys):
    assert main(["stream", str(VTEST), "--model", "hog-people", "--option", "max_side=none", "--no-display",
                 "--max-frames", "2", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["frames"] == 2 and stats["ended"] == "max_frames" and stats["inference_ms"]["p50"] > 0


@pytest.mark.parametrize("source, message", [("missing.avi", "video file not found"),
                                             ("95", "camera 95 could not be opened")])
def test_missing_file_or_camera_exits_2(tmp_path, capsys, source, message):
    src = str(tmp_path / source) if source.endswith(".avi") else source
    assert main(["stream", src, "--model", "haar-face", "--no-display", "--reconnect", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_bad_options_exit_2(clip, capsys):
    assert main(["stream", str(clip), "--model", "haar-face", "--no-display", "--max-frames", "0"]) == 2
    assert "max_frames" in capsys.readouterr().err
    assert main(["stream", str(clip), "--model", "no-such-model", "--no-display"]) == 2


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_http_display_prints_the_local_url(clip, capsys):
    assert main(["stream", str(clip), "--model", "haar-face", "--display", "http", "--port", "0"]) == 0
    out = capsys.readouterr().out
    assert "MJPEG view: http://127.0.0.1:" in out and "ended: end" in out


def test_detector_options_reach_the_detector(clip, capsys):
    assert main(["stream", str(clip), "--model", "hog-people", "--option", "max_side=none", "--option", "win_stride=4",
                 "--no-display", "--max-frames", "1"]) == 0
    assert main(["stream", str(clip), "--model", "hog-people", "--option", "no_such=1", "--no-display"]) == 2
    assert "no_such" in capsys.readouterr().err
    assert main(["stream", str(clip), "--model", "hog-people", "--option", "max_side", "--no-display"]) == 2


@pytest.mark.slow
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_stream_lost_mid_run_exits_1_after_reconnecting(capsys):
    import time

    from vision.infer.views import MjpegServer

    server = MjpegServer(port=0)

    def feed_then_die():
        i = 0
        while server.frames_served < 40 and i < 3000:  # live video until the command has read 40 frames…
            frame = np.full((48, 64, 3), 30, np.uint8)
            frame[10:30, i % 48:i % 48 + 16] = 255
            server.show(frame)
            time.sleep(0.02)
            i += 1
        server.close()  # …then the camera server goes away

    feeder = threading.Thread(target=feed_then_die)
    feeder.start()
    try:
        code = main(["stream", server.url + "stream.mjpg", "--model", "haar-face", "--no-display", "--reconnect", "1"])
    finally:
        feeder.join()
        server.close()
    captured = capsys.readouterr()
    assert code == 1 and "ended: error" in captured.out
    assert "error: " in captured.err and "stopped delivering frames" in captured.err and "1 reconnect" in captured.err
