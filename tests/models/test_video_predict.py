"""vision.models.video.predict: classify_video on real video files and frame arrays, VideoLabels' segments and
records, plot_timeline, and every kind of bad input (unopenable files, short videos, mixed frame sizes, a file
without a usable frame rate, wrong dtypes and shapes)."""

from __future__ import annotations

import json
import struct
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.data.action_videos import make_action_sequence, write_action_video
from vision.errors import (
    DTypeError,
    InputError,
    ShapeError,
    SourceNotFoundError,
    VideoSourceError,
)
from vision.io import VideoSink, VideoSource, read_image
from vision.models import create_model
from vision.models.video import clips_from_frames, read_clips
from vision.models.video.predict import (
    THUMB_HEIGHT,
    VideoLabels,
    classify_video,
    plot_timeline,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PER_ACTION = 3  # clips of each action in the test sequence


@pytest.fixture(scope="module")
def model():
    return create_model("video-cnn-lstm").eval()  # the shipped video-cnn-lstm-actions


@pytest.fixture(scope="module")
def sequence(model):
    """Every action of the shipped model in turn, PER_ACTION fresh 8-frame clips each: 6 × 3 × 8 = 144 frames."""
    return make_action_sequence(model.classes, clips_per_action=PER_ACTION, classes=model.classes, seed=0)


@pytest.fixture(scope="module")
def video(sequence, tmp_path_factory):
    """The sequence as an MJPG .avi at 8 fps, 128×128 (4× nearest-neighbour)."""
    return write_action_video(tmp_path_factory.mktemp("video") / "actions.avi", sequence, scale=4, fps=8)


def unusable_rate_avi(path: Path, frames: np.ndarray) -> Path:
    """An MJPG .avi whose stream header claims 1,000,000 frames a second (dwScale 1, dwRate 10⁶, 1 µs a frame).

    A rate of exactly 0 cannot be read back through OpenCV: FFmpeg replaces a 0 scale / rate in an AVI header by 25
    fps and OpenCV falls back to 1 / time base, so ``CAP_PROP_FPS`` is never 0 (0 in a .mp4's stts gives 0.5 fps,
    a 0 mdhd time scale 0.0005). This broken header is the honest file whose rate VideoSource rejects (None)."""
    with VideoSink(path, fps=8, codec="MJPG") as sink:
        for frame in frames:
            sink.write(frame)
    data = bytearray(path.read_bytes())
    avih, strh = data.find(b"avih"), data.find(b"strh")
    assert avih > 0 and data[strh + 8:strh + 12] == b"vids", "expected the video stream header of an OpenCV AVI"
    struct.pack_into("<I", data, avih + 8, 1)  # dwMicroSecPerFrame
    struct.pack_into("<II", data, strh + 8 + 20, 1, 1_000_000)  # dwScale, dwRate
    path.write_bytes(data)
    return path


def truth_of(sequence, result: VideoLabels) -> np.ndarray:
    return sequence.labels[result.starts]


# ------------------------------------------------------------------------------------------------ labels
def test_aligned_clips_from_a_file_are_all_right(model, sequence, video):
    result = classify_video(model, video, stride=8)
    assert isinstance(result, VideoLabels) and result.source == str(video)
    assert len(result) == 18 and result.frames == 144 and result.length == 8 and result.fps == 8.0
    assert result.starts.tolist() == list(range(0, 144, 8))
    assert result.labels.tolist() == truth_of(sequence, result).tolist()  # measured 18/18
    assert result.names == [a for a in model.classes for _ in range(PER_ACTION)]
    assert result.probs.shape == (18, 6) and np.allclose(result.probs.sum(1), 1, atol=1e-5)
    assert result.probs.max(1).min() > 0.5
    assert result.thumbnails.shape == (18, THUMB_HEIGHT, THUMB_HEIGHT, 3) and result.thumbnails.dtype == np.uint8


def test_raw_frames_give_the_same_labels(model, sequence, video):
    from_file = classify_video(model, Path(video), stride=8)
    result = classify_video(model, sequence.frames, stride=8)
    assert result.source == "frames" and result.fps is None and result.frames == 144
    assert result.labels.tolist() == truth_of(sequence, result).tolist()
    assert np.abs(result.probs - from_file.probs).max() < 0.2  # MJPG loss only
    for i, start in enumerate(result.starts):  # each thumbnail is its clip's middle frame, enlarged
        middle = cv2.resize(sequence.frames[start + 4], (THUMB_HEIGHT, THUMB_HEIGHT), interpolation=cv2.INTER_NEAREST)
        assert np.array_equal(result.thumbnails[i], middle)
    assert classify_video(model, list(sequence.frames), stride=8).labels.tolist() == result.labels.tolist()


def test_default_stride_half_overlaps_and_options(model, sequence, video):
    result = classify_video(model, video)
    assert len(result) == (144 - 8) // 4 + 1 == 35 and result.starts.tolist() == list(range(0, 137, 4))
    aligned = classify_video(model, video, stride=8)
    assert np.allclose(result.probs[::2], aligned.probs, atol=1e-5)  # even clips are the aligned ones
    assert np.allclose(classify_video(model, video, batch_size=5).probs, result.probs, atol=1e-5)
    short = classify_video(model, video, max_frames=20)
    assert short.frames == 20 and short.starts.tolist() == [0, 4, 8, 12]
    assert classify_video(model, video, stride=500).starts.tolist() == [0]  # one clip; the rest is not labelled
    with VideoSource(video) as source:  # an open VideoSource is read and left open for its owner
        assert classify_video(model, source, stride=8).labels.tolist() == aligned.labels.tolist()
        assert source.read() is None  # read to the end, not released


def test_segments_and_records(model, video):
    result = classify_video(model, video, stride=8)
    segments = result.segments()
    assert [(s["start"], s["end"], s["label"], s["clips"]) for s in segments] == \
        [(24 * k, 24 * k + 24, action, PER_ACTION) for k, action in enumerate(model.classes)]
    assert all(0.9 < s["score"] <= 1 for s in segments)
    records = list(result.records())
    assert len(records) == 18 and json.loads(json.dumps(records)) == records
    r = records[4]
    assert (r["clip"], r["start_frame"], r["end_frame"], r["start_s"], r["end_s"]) == (4, 32, 40, 4.0, 5.0)
    assert r["label"] == "right" and r["score"] == max(r["probs"].values())
    assert list(r["probs"]) == list(model.classes) and abs(sum(r["probs"].values()) - 1) < 1e-3
    assert result.seconds(12) == 1.5

    overlapping = classify_video(model, video)  # straddling clips may take either label; segments stay a cover
    segs = overlapping.segments()
    assert segs[0]["start"] == 0 and segs[-1]["end"] == 136 + 8
    assert sum(s["clips"] for s in segs) == len(overlapping)
    assert all(b["start"] <= a["end"] for a, b in pairwise(segs))
    assert all(a["label"] != b["label"] for a, b in pairwise(segs))


# ------------------------------------------------------------------------------------------------ timeline
def test_plot_timeline_writes_a_png(model, sequence, video, tmp_path):
    result = classify_video(model, video, stride=8)
    fig = plot_timeline(result, path=tmp_path / "timeline.png")
    image = read_image(tmp_path / "timeline.png")
    assert image.shape == (520, 1100, 3)  # 11 × 5.2 in at 100 dpi
    assert image.std() > 20 and len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # not blank
    assert fig.axes[2].get_xlabel() == "seconds" and fig.axes[2].get_xlim() == (0, 18.0)
    fig = plot_timeline(result, truth=sequence.labels, path=tmp_path / "truth.png", title="with truth")
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["predicted", "truth"]
    with_truth = read_image(tmp_path / "truth.png")
    assert with_truth.shape == image.shape and not np.array_equal(with_truth, image)

    frames_only = classify_video(model, sequence.frames, stride=8)
    fig = plot_timeline(frames_only)
    assert fig.axes[2].get_xlabel() == "frame" and fig.axes[2].get_xlim() == (0, 144.0)


def test_plot_timeline_bad_input(model, sequence):
    result = classify_video(model, sequence.frames, stride=8)
    with pytest.raises(InputError, match=r"one class id a frame \(144\); got shape \(143,\) int64"):
        plot_timeline(result, truth=sequence.labels[:-1])
    with pytest.raises(InputError, match="float64"):
        plot_timeline(result, truth=sequence.labels.astype(float))
    with pytest.raises(InputError, match=r"got shape \(144, 1\)"):
        plot_timeline(result, truth=sequence.labels[:, None])
    with pytest.raises(InputError, match=r"class ids 0 … 6; expected ids in 0 … 5 \(6 classes\)"):
        plot_timeline(result, truth=np.where(sequence.labels == 5, 6, sequence.labels))
    with pytest.raises(InputError, match="class ids -1"):
        plot_timeline(result, truth=sequence.labels - 1)
    with pytest.raises(InputError, match="expected VideoLabels .* got dict"):
        plot_timeline({"labels": [0]})
    with pytest.raises(InputError, match=r"\.png"):
        plot_timeline(result, path="timeline.jpg")


# ------------------------------------------------------------------------------------------------ bad input
def test_missing_file(model, tmp_path):
    with pytest.raises(SourceNotFoundError, match="not found: .*nowhere.avi"):
        classify_video(model, tmp_path / "nowhere.avi")


@pytest.mark.parametrize(("name", "content"), [
    ("random.avi", np.random.default_rng(0).bytes(8192)),
    ("notes.avi", b"this is a text file renamed .avi, not a video\n" * 40),
    ("empty.mp4", b""),
])
def test_files_that_are_not_videos(model, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(VideoSourceError, match=f"{name} could not be opened as a video"):
        classify_video(model, path)
    with pytest.raises(VideoSourceError):
        read_clips(path)


def test_fewer_frames_than_a_clip(model, sequence, tmp_path):
    path = tmp_path / "five.avi"
    with VideoSink(path, fps=8, codec="MJPG") as sink:
        for frame in sequence.frames[:5]:
            sink.write(frame)
    with pytest.raises(ShapeError, match=r"five.avi has 5 frames; expected at least one clip of 8 frames"):
        classify_video(model, path)
    with pytest.raises(ShapeError, match=r"has 7 frames; expected at least one clip of 8"):
        classify_video(model, sequence.frames[:7])
    with pytest.raises(ShapeError, match=r"has 4 frames"):
        classify_video(model, sequence.frames, max_frames=4)
    with pytest.raises(ShapeError, match=r"has 0 frames"):
        classify_video(model, [])
    with pytest.raises(ShapeError, match=r"five.avi has 5 frames; expected at least one clip of length=8"):
        read_clips(path)


def test_frames_of_different_sizes(model, sequence):
    """classify_video resizes every frame on its own (documented): frames enlarged by whole factors shrink back to
    the same pixels, so the labels and probabilities are those of the 32×32 frames."""
    scales = [(2, 2), (3, 1), (1, 4)]  # (x, y) factors, a different one every 8 frames
    mixed = [cv2.resize(f, None, fx=scales[i // 8 % 3][0], fy=scales[i // 8 % 3][1], interpolation=cv2.INTER_NEAREST)
             for i, f in enumerate(sequence.frames)]
    assert len({f.shape for f in mixed}) == 3
    result = classify_video(model, mixed, stride=8)
    plain = classify_video(model, sequence.frames, stride=8)
    assert result.labels.tolist() == plain.labels.tolist() and np.allclose(result.probs, plain.probs, atol=1e-5)
    assert result.thumbnails.shape == (18, THUMB_HEIGHT, 3 * THUMB_HEIGHT, 3)  # padded to the widest (96×32)

    with pytest.raises(ShapeError, match=r"frame 8 is 96×32 but frame 0 is 64×64; expected one frame size"):
        clips_from_frames(mixed, length=8)  # documented: "frames: the frames, all the same size unless size= …"
    clips, starts = clips_from_frames(mixed, length=8, stride=8, size=(32, 32))  # each frame resized on its own
    assert clips.shape == (18, 8, 32, 32, 3) and np.array_equal(clips.reshape(-1, 32, 32, 3), sequence.frames)


def test_a_file_without_a_usable_frame_rate(model, sequence, tmp_path):
    path = unusable_rate_avi(tmp_path / "no_rate.avi", sequence.frames[:48])
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS) == 1e6  # what the header says
    with VideoSource(path) as source:
        assert source.fps is None and source.frame_count == 48
    result = classify_video(model, path, stride=8)
    assert result.fps is None and result.frames == 48 and len(result) == 6
    assert result.labels.tolist() == truth_of(sequence, result).tolist()
    assert result.seconds(8) is None
    record = next(result.records())
    assert (record["start_frame"], record["end_frame"], record["start_s"], record["end_s"]) == (0, 8, None, None)
    assert plot_timeline(result).axes[2].get_xlabel() == "frame"
    clips, starts, fps = read_clips(path, length=8)
    assert fps is None and clips.shape == (6, 8, 32, 32, 3) and starts.tolist() == list(range(0, 48, 8))


def test_a_source_reporting_zero_fps(model, video):
    """classify_video treats a 0 frame rate as unknown (the real VideoSource, its fps property set to 0)."""

    class ZeroRate(VideoSource):
        @property
        def fps(self):
            return 0.0

    with ZeroRate(video) as source:
        result = classify_video(model, source, stride=8, max_frames=24)
    assert result.fps is None and result.seconds(8) is None and next(result.records())["start_s"] is None


def test_wrong_frames_and_options(model, sequence):
    with pytest.raises(DTypeError, match="frame 0 is float32; expected uint8"):
        classify_video(model, sequence.frames.astype(np.float32) / 255)
    with pytest.raises(ShapeError, match=r"expected T×H×W×3 RGB frames; got an array of shape \(144, 32, 32\)"):
        classify_video(model, sequence.frames[..., 0])
    with pytest.raises(ShapeError, match=r"got an array of shape \(144, 32, 32, 4\)"):
        classify_video(model, np.concatenate([sequence.frames, sequence.frames[..., :1]], axis=-1))
    with pytest.raises(ShapeError, match=r"frame 0 is \(32, 32\); expected H×W×3 RGB"):
        classify_video(model, list(sequence.frames[..., 0]))
    with pytest.raises(ShapeError, match=r"frame 3 is str; expected H×W×3"):
        classify_video(model, [*sequence.frames[:3], "frame.png", *sequence.frames[4:]])
    with pytest.raises(DTypeError, match="frame 9 is int64; expected uint8"):
        classify_video(model, [*sequence.frames[:9], sequence.frames[9].astype(np.int64), *sequence.frames[10:]])
    for kwargs, name in (({"stride": 0}, "stride"), ({"batch_size": 0}, "batch_size"), ({"max_frames": 0}, "max_frames"),
                         ({"stride": 2.5}, "stride"), ({"stride": True}, "stride")):
        with pytest.raises(InputError, match=f"{name} must be an integer ≥ 1"):
            classify_video(model, sequence.frames, **kwargs)
    with pytest.raises(InputError, match="expected a clip classifier .* got str"):
        classify_video("video-cnn-lstm", sequence.frames)
