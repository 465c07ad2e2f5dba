"""vision.data.action_videos: shapes, balance, determinism, time-reversal symmetry of the classes, sequences of
action segments and writing them as a video, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vision.data.action_videos import (
    ACTIONS,
    DIRECTION_ACTIONS,
    make_action_sequence,
    make_action_videos,
    write_action_video,
)
from vision.errors import InputError


def test_shapes_balance_and_determinism():
    d = make_action_videos(12, frames=6, size=32, seed=3)
    assert d.videos.shape == (12, 6, 32, 32, 3) and d.videos.dtype == np.uint8
    assert d.classes == DIRECTION_ACTIONS and len(d) == 12
    assert np.bincount(d.labels, minlength=4).tolist() == [3, 3, 3, 3]
    again = make_action_videos(12, frames=6, size=32, seed=3)
    assert np.array_equal(d.videos, again.videos) and np.array_equal(d.labels, again.labels)
    assert not np.array_equal(d.videos, make_action_videos(12, frames=6, size=32, seed=4).videos)


def _centroids(clip: np.ndarray) -> np.ndarray:
    """Per frame, the centre of the pixels that differ from the clip's median colour (the shape)."""
    bg = np.median(clip.reshape(-1, 3), axis=0)
    out = []
    for frame in clip:
        ys, xs = np.nonzero(np.abs(frame.astype(int) - bg).sum(-1) > 90)
        out.append((xs.mean(), ys.mean()) if len(xs) else (np.nan, np.nan))
    return np.array(out)


def test_the_shape_moves_in_the_labelled_direction():
    d = make_action_videos(16, seed=0, noise=0.0)
    for clip, label in zip(d.videos, d.labels):
        c = _centroids(clip)
        dx, dy = c[-1] - c[0]
        expected = {"left": dx < -5, "right": dx > 5, "up": dy < -5, "down": dy > 5}[d.classes[label]]
        assert expected, (d.classes[label], dx, dy)


def test_appear_disappear_and_rotation():
    d = make_action_videos(16, actions=ACTIONS, seed=1, noise=0.0)
    for clip, label in zip(d.videos, d.labels):
        present = ~np.isnan(_centroids(clip)[:, 0])
        name = d.classes[label]
        if name == "appear":
            assert not present[0] and present[-1]
        elif name == "disappear":
            assert present[0] and not present[-1]
        elif name.startswith("rotate"):
            assert present.all() and not np.array_equal(clip[0], clip[-1])


def test_opposite_directions_cover_the_same_positions():
    """A frame alone cannot tell left from right: over many clips, per-frame shape positions have the same
    distribution for both (the property that leaves frame averaging at chance)."""
    d = make_action_videos(400, actions=("left", "right"), seed=5, noise=0.0)
    xs = {0: [], 1: []}
    for clip, label in zip(d.videos, d.labels):
        xs[int(label)].extend(_centroids(clip)[:, 0])
    assert abs(np.mean(xs[0]) - np.mean(xs[1])) < 1.0
    assert abs(np.std(xs[0]) - np.std(xs[1])) < 1.0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": 0}, "n must be an integer in \\[1"),
    ({"n": 4, "frames": 1}, "frames must be an integer in \\[2"),
    ({"n": 4, "actions": ("left", "jump")}, "actions must be distinct names"),
    ({"n": 4, "actions": ("left", "left")}, "actions must be distinct names"),
    ({"n": 4, "frames": 30}, "does not fit in 32×32"),
    ({"n": 4, "speed": (3, 1)}, "speed must be \\(min, max\\)"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        make_action_videos(**kwargs)


# ------------------------------------------------------------------------------------------------ sequences
def test_action_sequence_segments_labels_and_determinism():
    order = ("up", "appear", "left", "up")  # an action may come back
    seq = make_action_sequence(order, clips_per_action=2, frames=6, classes=ACTIONS, seed=4)
    assert seq.frames.shape == (4 * 2 * 6, 32, 32, 3) and seq.frames.dtype == np.uint8
    assert seq.classes == ACTIONS and seq.labels.dtype == np.int64
    assert seq.segments == ((0, 12, "up"), (12, 24, "appear"), (24, 36, "left"), (36, 48, "up"))
    for start, end, action in seq.segments:
        assert (seq.labels[start:end] == ACTIONS.index(action)).all()
    again = make_action_sequence(order, clips_per_action=2, frames=6, classes=ACTIONS, seed=4)
    assert np.array_equal(seq.frames, again.frames) and np.array_equal(seq.labels, again.labels)
    other = make_action_sequence(order, clips_per_action=2, frames=6, classes=ACTIONS, seed=5)
    assert not np.array_equal(seq.frames, other.frames)
    small = make_action_sequence(("right",), classes=("left", "right"), clips_per_action=1)
    assert small.classes == ("left", "right") and small.labels.tolist() == [1] * 8


def test_every_clip_of_a_sequence_does_its_action():
    """Each clip is drawn afresh (new shape, new background); within a clip the shape does what the label says."""
    seq = make_action_sequence(("left", "down", "appear", "disappear"), clips_per_action=3, frames=8, seed=2)
    for k in range(len(seq.frames) // 8):
        clip, action = seq.frames[8 * k:8 * k + 8], seq.classes[seq.labels[8 * k]]
        c = _centroids(clip)
        present = ~np.isnan(c[:, 0])
        if action == "left":
            assert present.all() and c[-1, 0] - c[0, 0] < -5
        elif action == "down":
            assert present.all() and c[-1, 1] - c[0, 1] > 5
        else:
            assert present[0] != present[-1] and present[-1] == (action == "appear")
        if k:  # a new clip: a new background
            assert np.abs(np.median(clip[0].reshape(-1, 3), 0) -
                          np.median(seq.frames[8 * k - 1].reshape(-1, 3), 0)).sum() > 5


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"order": ()}, "order must be a non-empty list"),
    ({"order": "left"}, "order must be a non-empty list"),
    ({"order": ("left", "jump")}, "order must be a non-empty list of actions from"),
    ({"order": ("rotate_cw",), "classes": DIRECTION_ACTIONS}, "order must be a non-empty list"),
    ({"order": ("jump",), "classes": ("jump",)}, "classes must be distinct names from"),
    ({"order": ("left",), "classes": ("left", "left")}, "classes must be distinct names from"),
    ({"order": ("left",), "clips_per_action": 0}, "make_action_sequence: clips_per_action must be an integer in \\[1"),
    ({"order": ("left",), "frames": 30}, "make_action_sequence: .* does not fit in 32×32"),
    ({"order": ("left",), "size": 8}, "make_action_sequence: size must be an integer in \\[16"),
])
def test_action_sequence_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        make_action_sequence(**kwargs)


def test_long_clips_fit_when_nothing_moves():
    seq = make_action_sequence(("appear", "rotate_cw"), clips_per_action=1, frames=30)
    assert seq.frames.shape == (60, 32, 32, 3)


def test_write_action_video_reads_back(tmp_path):
    from vision.io import VideoSource

    seq = make_action_sequence(("left", "appear"), clips_per_action=1, frames=8, seed=1)
    path = write_action_video(tmp_path / "seq.avi", seq, scale=3, fps=12)
    assert path == tmp_path / "seq.avi" and path.stat().st_size > 0
    with VideoSource(path) as video:
        assert (video.width, video.height, video.fps, video.frame_count) == (96, 96, 12.0, 16)
        frames = [f.image for f in video]
    assert len(frames) == 16
    import cv2

    back = np.stack([cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA) for f in frames])
    error = np.abs(back.astype(int) - seq.frames.astype(int))
    assert error.mean() < 6 and np.percentile(error, 99) < 40  # MJPG loss only; same frames, same order


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"scale": 0}, "write_action_video: scale must be an integer in \\[1, 16\\]"),
    ({"scale": 2.0}, "scale must be an integer"),
    ({"fps": 0}, "write_action_video: fps must be a number in \\[0.1"),
    ({"fps": -8.0}, "fps must be a number"),
])
def test_write_action_video_bad_arguments(tmp_path, kwargs, match):
    seq = make_action_sequence(("left",), clips_per_action=1)
    with pytest.raises(InputError, match=match):
        write_action_video(tmp_path / "x.avi", seq, **kwargs)
    assert not (tmp_path / "x.avi").exists()


def test_write_action_video_needs_a_sequence(tmp_path):
    seq = make_action_sequence(("left",), clips_per_action=1)
    with pytest.raises(InputError, match="expected an ActionSequence .* got ndarray"):
        write_action_video(tmp_path / "x.avi", seq.frames)
