"""`vision predict video` and `vision train video` end to end: the real command on real video files (the shipped
video-cnn-lstm-actions model), its output files, its refusals, and a tiny training run whose weights load back."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vision
from vision.cli.main import main
from vision.data.action_videos import make_action_sequence, write_action_video
from vision.io import VideoSink, read_image
from vision.models import create_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(vision.__file__).resolve().parent.parent
MOTION = ("left", "right", "up", "down", "appear", "disappear")  # the shipped model's classes, in order


@pytest.fixture(scope="module")
def sequence():
    return make_action_sequence(MOTION, clips_per_action=2, classes=MOTION, seed=0)  # 6 × 2 × 8 = 96 frames


@pytest.fixture(scope="module")
def video(sequence, tmp_path_factory):
    return write_action_video(tmp_path_factory.mktemp("cli_video") / "actions.avi", sequence, fps=8)


def vision_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m vision ARGS`` with this test's offline environment (VISION_OFFLINE, VISION_HOME), one thread."""
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "vision", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_predict_video_end_to_end(video, tmp_path):
    out = tmp_path / "out"
    done = vision_cli("predict", "video", str(video), "--stride", "8", "--out", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[5] for line in lines[:6]] == list(MOTION)  # "0.00 s –   2.00 s  left  1.00  (2 clips)"
    assert lines[0].split()[:5] == ["0.00", "s", "–", "2.00", "s"] and lines[0].endswith("(2 clips)")
    assert lines[6].startswith("12 clips of 8 frames from 96 frames; 6 segments")
    records = [json.loads(line) for line in (out / "clips.jsonl").read_text().splitlines()]
    assert len(records) == 12 and [r["clip"] for r in records] == list(range(12))
    assert [r["label"] for r in records] == [a for a in MOTION for _ in range(2)]
    assert records[3]["start_frame"] == 24 and records[3]["start_s"] == 3.0 and set(records[3]["probs"]) == set(MOTION)
    summary = json.loads((out / "summary.json").read_text())
    assert {k: summary[k] for k in ("model", "weights", "fps", "frames", "clip_length", "stride", "clips")} == \
        {"model": "video-cnn-lstm", "weights": "video-cnn-lstm-actions", "fps": 8.0, "frames": 96, "clip_length": 8,
         "stride": 8, "clips": 12}
    assert [s["label"] for s in summary["segments"]] == list(MOTION)
    timeline = read_image(out / "timeline.png")
    assert timeline.shape == (520, 1100, 3) and timeline.std() > 20


def test_predict_video_missing_file(tmp_path):
    done = vision_cli("predict", "video", str(tmp_path / "nowhere.mp4"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: video file not found: {tmp_path / 'nowhere.mp4'} (expected an existing video file)\n"
    assert not (tmp_path / "out").exists()


def test_predict_video_options(video, tmp_path, capsys):
    assert main(["predict", "video", str(video), "--json", "--max-frames", "40", "--out", str(tmp_path / "j")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["frames"], summary["stride"], summary["clips"]) == (40, 4, (40 - 8) // 4 + 1)
    assert summary == json.loads((tmp_path / "j" / "summary.json").read_text())


def test_predict_video_without_a_frame_rate(sequence, tmp_path, capsys):
    """A file whose header gives no usable rate (1,000,000 fps, which VideoSource reports as None): frame numbers."""
    path = tmp_path / "no_rate.avi"
    with VideoSink(path, fps=8, codec="MJPG") as sink:
        for frame in sequence.frames[:32]:
            sink.write(frame)
    data = bytearray(path.read_bytes())
    strh = data.find(b"strh")
    assert data[strh + 8:strh + 12] == b"vids"
    struct.pack_into("<II", data, strh + 8 + 20, 1, 1_000_000)  # dwScale, dwRate
    path.write_bytes(data)
    out = tmp_path / "out"
    assert main(["predict", "video", str(path), "--stride", "8", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("frame 0 – frame 16  left") and lines[1].startswith("frame 16 – frame 32  right")
    assert "(no frame rate in the file: times are frame numbers)" in lines[-1]
    assert json.loads((out / "summary.json").read_text())["fps"] is None
    records = [json.loads(line) for line in (out / "clips.jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["start_s"] is None and r["end_s"] is None for r in records)


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "yolov8n"], "--model yolov8n: a 'detect' model; expected a video model"),
    (["--model", "nope"], "unknown model 'nope'"),
    (["--stride", "0"], "stride must be an integer ≥ 1; got 0"),
    (["--max-frames", "0"], "max_frames must be an integer ≥ 1; got 0"),
])
def test_predict_video_refusals(video, tmp_path, capsys, argv, message):
    assert main(["predict", "video", str(video), *argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_predict_video_out_is_a_file(video, tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["predict", "video", str(video), "--out", str(tmp_path / "taken")]) == 2
    assert "taken: is a file; expected a folder" in capsys.readouterr().err


def test_predict_video_not_a_video(tmp_path, capsys):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n")
    assert main(["predict", "video", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "notes.mp4 could not be opened as a video by OpenCV" in capsys.readouterr().err


@pytest.mark.slow
def test_train_video_then_load_the_weights(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "video", "--train", "48", "--val", "16", "--epochs", "1", "--out", str(run)]) == 0
    text = capsys.readouterr().out
    weights = run / "video-cnn-lstm.safetensors"
    assert f"vision predict video FILE --model video-cnn-lstm --weights {weights}" in text
    assert "val accuracy" in text and "on 16 held-out clips" in text
    assert weights.is_file() and (run / "history.png").is_file()
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
    assert read_image(run / "timeline.png").std() > 20 and read_image(run / "history.png").std() > 10
    model = create_model("video-cnn-lstm", weights=str(weights))
    assert model.classes == MOTION and model.config.clip_length == 8 and model.config.frame_size == 32
    assert main(["train", "video", "--train", "48", "--out", str(run)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["train", "video", "--train", "0", "--out", str(tmp_path / "zero")]) == 2
    assert "--train must be ≥ 1; got 0" in capsys.readouterr().err
    assert main(["train", "video", "--out", str(weights), "--overwrite"]) == 2
    assert "video-cnn-lstm.safetensors: is a file; expected a folder" in capsys.readouterr().err
    assert main(["train", "video", "--model", "lenet", "--out", str(tmp_path / "lenet")]) == 2
    assert "expected a video model" in capsys.readouterr().err
