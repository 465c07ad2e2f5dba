"""vision.infer.temporal: smoothing tracked boxes and counting line crossings (supervision's DetectionsSmoother and
LineZone over our Detections), alone on synthetic tracks with known answers, and wired into DetectionStream and
`vision stream` on the shipped street video and a synthetic scene video with the shipped YOLO."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vision.cli.main import main
from vision.errors import DTypeError, InputError, ShapeError
from vision.infer.stream import DetectionStream
from vision.infer.temporal import LINE_COLOR, Crossings, LineCounter, Smoother, parse_line
from vision.io import VideoSource
from vision.models import create_model
from vision.types import Detections

ROOT = Path(__file__).resolve().parents[2]
VTEST = ROOT / "datasets" / "vtest_120.avi"

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _one(x: float, y: float = 50.0, *, tid: int = 1, w: float = 10.0, h: float = 20.0, cls: int = 0) -> Detections:
    """One tracked box whose bottom centre is (x, y)."""
    return Detections([[x - w / 2, y - h, x + w / 2, y]], [0.9], [cls], names=["person", "car"], track_ids=[tid])


def _walk(counter: LineCounter, xs, **kw) -> list[Crossings]:
    return [counter.update(_one(x, **kw)) for x in xs]


# ------------------------------------------------------------------------------------------------ line counting
def test_crossing_left_to_right_is_in_and_back_is_out_for_a_line_drawn_top_to_bottom():
    counter = LineCounter((50, 0), (50, 100))
    steps = _walk(counter, [10, 20, 30, 40, 60, 70])
    assert counter.counts == {"in": 1, "out": 0}
    assert [bool(s.inward[0]) for s in steps] == [False, False, False, False, True, False]  # on the frame it crossed
    assert not any(s.outward.any() for s in steps)
    steps = _walk(counter, [65, 55, 45, 30])
    assert counter.counts == {"in": 1, "out": 1} and steps[2].outward.tolist() == [True] and steps[2].count == 1
    assert counter.class_counts == {"person": {"in": 1, "out": 1}}


def test_swapping_the_ends_swaps_in_and_out_and_a_horizontal_line_counts_bottom_to_top_as_in():
    flipped = LineCounter((50, 100), (50, 0))
    _walk(flipped, [10, 30, 70])
    assert flipped.counts == {"in": 0, "out": 1}
    horizontal = LineCounter((0, 50), (100, 50))
    for y in (90, 70, 40, 20):  # bottom centre moves up across y = 50
        horizontal.update(_one(50, y))
    assert horizontal.counts == {"in": 1, "out": 0}


def test_touching_the_line_without_crossing_counts_nothing():
    counter = LineCounter((50, 0), (50, 100))
    # the box's right half goes over the line, its bottom centre (the anchor) gets to 1 px short of it, then back
    _walk(counter, [20, 35, 45, 49, 45, 30])
    assert counter.counts == {"in": 0, "out": 0}
    corners = LineCounter((50, 0), (50, 100), anchor=("top_left", "top_right", "bottom_left", "bottom_right"))
    _walk(corners, [20, 40, 48, 52, 48, 40])  # straddles the line (corners on both sides), then goes back
    assert corners.counts == {"in": 0, "out": 0}
    _walk(corners, [52, 60])  # now wholly across
    assert corners.counts == {"in": 1, "out": 0}


def test_outside_the_segment_does_not_count():
    counter = LineCounter((50, 0), (50, 100))
    _walk(counter, [10, 90], y=150)  # crosses x = 50 below the segment's end
    assert counter.counts == {"in": 0, "out": 0}


def test_min_frames_ignores_a_one_frame_excursion():
    quick, patient = LineCounter((50, 0), (50, 100)), LineCounter((50, 0), (50, 100), min_frames=3)
    xs = [30, 40, 60, 40, 30, 30, 60, 62, 64, 66]  # one frame across and back; later across for good
    _walk(quick, xs)
    _walk(patient, xs)
    assert quick.counts == {"in": 2, "out": 1}
    assert patient.counts == {"in": 1, "out": 0}


def test_each_track_counts_once_and_untracked_rows_are_ignored():
    counter = LineCounter((50, 0), (50, 100))
    for x in (20, 40, 60, 80):
        det = Detections([[x - 5, 30, x + 5, 50], [x - 5, 60, x + 5, 80], [x - 5, 10, x + 5, 20]], [0.9, 0.8, 0.7],
                         [0, 1, 0], names=["person", "car"], track_ids=[1, 2, -1])
        crossed = counter.update(det)
        assert crossed.inward.shape == (3,) and not crossed.inward[2]
    assert counter.counts == {"in": 2, "out": 0}
    assert counter.class_counts == {"person": {"in": 1, "out": 0}, "car": {"in": 1, "out": 0}}
    counter.update(Detections(np.zeros((0, 4)), [], [], track_ids=np.zeros(0, np.int64)))  # empty frames are fine
    counter.reset()
    assert counter.counts == {"in": 0, "out": 0}


def test_draw_shows_the_line_in_its_colour_and_leaves_the_input_alone():
    image = np.full((120, 160, 3), 90, np.uint8)
    counter = LineCounter((80, 10), (80, 110))
    _walk(counter, [60, 70, 90])
    out = counter.draw(image)
    assert out.shape == image.shape and out.dtype == np.uint8 and (image == 90).all()
    magenta = (out == np.array(LINE_COLOR, np.uint8)).all(axis=2)
    assert magenta[20:100, 79:82].mean() > 0.9  # the line itself
    assert magenta[:, :70].sum() < magenta[:, 82:].sum()  # arrow and count label lie on the "in" (right) side
    with pytest.raises(ShapeError, match="H×W×3"):
        counter.draw(image[:, :, 0])
    with pytest.raises(DTypeError, match="uint8"):
        counter.draw(image.astype(np.float32))


@pytest.mark.parametrize("start, end, message", [
    ((10, 10), (10, 10), "must differ"),
    ((0, float("nan")), (10, 10), "finite"),
    ((0, float("inf")), (10, 10), "finite"),
    ((0, 1, 2), (10, 10), "shape"),
    ("ab", (10, 10), "point"),
    (None, (10, 10), "point"),
])
def test_bad_lines_raise_input_error(start, end, message):
    with pytest.raises(InputError, match=message):
        LineCounter(start, end)


def test_bad_options_and_untracked_input_raise_input_error():
    with pytest.raises(InputError, match="anchor must be one of"):
        LineCounter((0, 0), (0, 10), anchor="feet")
    with pytest.raises(InputError, match="anchor must be one of"):
        LineCounter((0, 0), (0, 10), anchor=())
    with pytest.raises(InputError, match="min_frames"):
        LineCounter((0, 0), (0, 10), min_frames=0)
    with pytest.raises(InputError, match="length must be an integer"):
        Smoother(length=0)
    untracked = Detections([[0, 0, 10, 10]], [0.9], [0])
    for thing in (LineCounter((0, 0), (0, 10)), Smoother()):
        with pytest.raises(InputError, match="tracked Detections"):
            thing.update(untracked)
        with pytest.raises(InputError, match="expected Detections, got ndarray"):
            thing.update(np.zeros((1, 4)))
    with pytest.raises(InputError, match="at most once per frame"):
        Smoother().update(Detections([[0, 0, 1, 1], [2, 2, 3, 3]], [0.5, 0.5], [0, 0], track_ids=[4, 4]))


# ------------------------------------------------------------------------------------------------ parse_line
def test_parse_line_pixels_and_fractions():
    assert parse_line("384,0,384,576") == ((384.0, 0.0), (384.0, 576.0))
    assert parse_line(" 10 , 20, 30,40") == ((10.0, 20.0), (30.0, 40.0))
    assert parse_line("0.5,0,0.5,1", image_shape=(576, 768)) == ((384.0, 0.0), (384.0, 576.0))
    assert parse_line("0,0.25,1.0,.25", image_shape=(100, 200)) == ((0.0, 25.0), (200.0, 25.0))
    assert parse_line("1,0,1,1") == ((1.0, 0.0), (1.0, 1.0))  # no decimal point: pixels


@pytest.mark.parametrize("text, message", [
    ("384,0,384", "four numbers"), ("a,b,c,d", "four numbers"), ("1,2,3,4,5", "four numbers"), ("", "four numbers"),
    ("nan,0,1,1", "four numbers"), ("0.5,0,1.5,1", r"\[0, 1\]"), ("10,10,10,10", "must differ"),
])
def test_parse_line_rejects_bad_text(text, message):
    with pytest.raises(InputError, match=message):
        parse_line(text, image_shape=(100, 100))


def test_parse_line_fractions_need_the_frame_size():
    with pytest.raises(InputError, match="image_shape"):
        parse_line("0.5,0,0.5,1")


# ------------------------------------------------------------------------------------------------ smoothing
def _centre_jitter(boxes: np.ndarray) -> float:
    """Mean length of the second difference of the box centre: 0 for constant velocity, grows with jitter."""
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    return float(np.linalg.norm(c[2:] - 2 * c[1:-1] + c[:-2], axis=1).mean())


def test_smoothing_reduces_the_jitter_of_a_noisy_track_and_keeps_ids_and_order():
    rng = np.random.default_rng(0)
    n = 60
    truth = np.stack([np.arange(n) * 3.0, np.full(n, 40.0)], axis=1)  # a walker at 3 px / frame
    noisy = truth + rng.normal(0, 3.0, (n, 2))
    smoother = Smoother(length=5)
    raw, smooth = [], []
    for t in range(n):
        x, y = noisy[t]
        still = [200.0, 200.0, 220.0, 240.0]  # a second, standing object (listed first) and an untracked row
        det = Detections([still, [x - 10, y - 30, x + 10, y + 30], [5, 5, 9, 9]], [0.6, 0.5 + 0.4 * (t % 2), 0.3],
                         [1, 0, 0], names=["person", "bag"], track_ids=[7, 3, -1], image_shape=(480, 640))
        out = smoother.update(det)
        assert out.track_ids.tolist() == [7, 3, -1] and out.class_ids.tolist() == [1, 0, 0]
        assert out.names == det.names and out.image_shape == (480, 640)
        np.testing.assert_array_equal(out.xyxy[2], det.xyxy[2])  # untracked: unchanged
        np.testing.assert_allclose(out.xyxy[0], still)
        raw.append(det.xyxy[1])
        smooth.append(out.xyxy[1])
        if t >= 4:  # scores: the mean of the last five (0.5 on even frames, 0.9 on odd ones)
            assert out.scores[1] == pytest.approx(0.66 if t % 2 == 0 else 0.74, abs=1e-5)
    before, after = _centre_jitter(np.array(raw)), _centre_jitter(np.array(smooth))
    # a 5-frame mean of independent noise: the second difference's std falls by sqrt(6 / (4/25)) ≈ 6.1
    assert after < before / 4, (before, after)
    lag = np.array(smooth)[10:, 0].mean() + 10 - (truth[10:, 0].mean() - 6)  # mean trails by (5 - 1) / 2 frames
    assert abs(lag) < 3


def test_smoothing_window_and_reset():
    smoother = Smoother(length=2)
    smoother.update(Detections([[0, 0, 10, 10]], [0.5], [0], track_ids=[1]))
    out = smoother.update(Detections([[2, 2, 12, 12]], [0.7], [0], track_ids=[1]))
    np.testing.assert_allclose(out.xyxy, [[1, 1, 11, 11]])
    assert out.scores[0] == pytest.approx(0.6)
    out = smoother.update(Detections([[4, 4, 14, 14]], [0.9], [0], track_ids=[1]))
    np.testing.assert_allclose(out.xyxy, [[3, 3, 13, 13]])  # only the last two frames
    smoother.reset()
    out = smoother.update(Detections([[8, 8, 18, 18]], [0.9], [0], track_ids=[1]))
    np.testing.assert_allclose(out.xyxy, [[8, 8, 18, 18]])
    assert len(smoother.update(Detections(np.zeros((0, 4)), [], [], track_ids=np.zeros(0, np.int64)))) == 0


# ------------------------------------------------------------------------------------------------ in the stream
def _expected_crossings(truth_boxes: np.ndarray, x_line: float) -> dict[str, int]:
    """From the true boxes: sign changes of the bottom centre's x against a vertical (top → bottom) line."""
    side = np.sign((truth_boxes[:, 0] + truth_boxes[:, 2]) / 2 - x_line)
    side = side[side != 0]
    steps = np.diff(side)
    return {"in": int((steps > 0).sum()), "out": int((steps < 0).sum())}


def test_stream_counts_one_moving_object_exactly_with_the_shipped_yolo(tmp_path):
    from vision.data.scene_video import make_scene_video

    truth = make_scene_video(tmp_path / "one.mp4", frames=30, objects=1, seed=5, speed=(4.0, 6.0))
    boxes = np.asarray(truth.boxes)[:, 0]
    assert _expected_crossings(boxes, 200) == {"in": 1, "out": 1}  # right across x = 200, turns, back across
    assert _expected_crossings(boxes, 150) == {"in": 1, "out": 0}
    second = LineCounter((150, 0), (150, 256))
    with DetectionStream(truth.path, create_model("yolov8n"), smooth=3, count_line="200,0,200,256",
                         lanes=1) as stream:
        assert stream.tracker is not None  # smoothing / counting default to bytetrack
        items = list(stream)
        for item in items:
            second.update(item.detections)
    assert stream.stats.counts == {"in": 1, "out": 1} == items[-1].counts
    assert stream.stats.to_dict()["counts"] == {"in": 1, "out": 1}
    assert sum(item.crossings.count for item in items) == 2
    assert second.counts == {"in": 1, "out": 0}


@pytest.mark.slow
def test_people_on_the_street_video_are_tracked_smoothed_and_counted():
    detector = create_model("hog-people", win_stride=8)  # ~75 ms / frame here (the default stride 4 is 3× slower)
    with VideoSource(VTEST) as video:
        raw_frame = video.read().image
    magenta = np.array(LINE_COLOR, np.uint8)
    assert not (raw_frame == magenta).all(axis=2).any()  # the colour is not in the scene
    counts, tracked, images = [], 0, []
    with DetectionStream(VTEST, detector, tracker="bytetrack", smooth=5, count_line="0.5,0,0.5,1",
                         max_frames=60) as stream:
        assert (stream.counter.start, stream.counter.end) == ((384.0, 0.0), (384.0, 576.0))
        for item in stream:
            counts.append((item.counts["in"], item.counts["out"]))
            tracked += len(item.detections)
            assert item.detections.track_ids is not None and (item.detections.track_ids > 0).all()
            if item.frame.index % 20 == 0:
                images.append(item.image)
    assert stream.stats.frames == 60 and tracked > 10
    assert min(min(c) for c in counts) >= 0 and counts == sorted(counts)  # counts never go down
    assert stream.stats.counts == {"in": counts[-1][0], "out": counts[-1][1]}
    for image in images:
        line = (image[:, 380:389] == magenta).all(axis=2)
        assert line.any(axis=1).mean() > 0.8  # the line runs down the frame (labels may cover parts of it)


@pytest.mark.slow
def test_cli_prints_the_counts():
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "vision", "stream", str(VTEST), "--model", "hog-people", "--option", "win_stride=8",
           "--no-display", "--track", "bytetrack", "--smooth", "5", "--count-line", "384,0,384,576",
           "--max-frames", "40"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "40 frames in" in done.stdout and re.search(r"line crossings: \d+ in, \d+ out", done.stdout)


def test_cli_json_has_the_counts(capsys):
    assert main(["stream", str(VTEST), "--model", "hog-people", "--option", "win_stride=8", "--no-display",
                 "--count-line", "0.5,0,0.5,1", "--max-frames", "5", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["frames"] == 5 and stats["counts"] == {"in": 0, "out": 0}  # nobody crosses in 0.5 s (by eye)


def test_cli_rejects_a_bad_line_with_exit_2(capsys):
    assert main(["stream", str(VTEST), "--no-display", "--count-line", "384,0,384"]) == 2
    assert "four numbers" in capsys.readouterr().err
    assert main(["stream", str(VTEST), "--no-display", "--smooth", "0"]) == 2
    assert "--smooth" in capsys.readouterr().err


def test_without_supervision_the_error_says_what_to_install(monkeypatch):
    from vision.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "supervision", None)  # what `import supervision` sees when it is not installed
    for make in (Smoother, lambda: LineCounter((0, 0), (0, 10))):
        with pytest.raises(MissingDependencyError, match=r'pip install "vision\[track\]"'):
            make()
