"""vision.data.action_videos: shapes, balance, determinism, time-reversal symmetry of the classes, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vision.data.action_videos import ACTIONS, DIRECTION_ACTIONS, make_action_videos
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
