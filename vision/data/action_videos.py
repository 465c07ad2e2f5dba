"""Synthetic action clips: one shape that moves, rotates, appears or disappears, labelled with what it does.

The clips are built so that **a single frame cannot tell the classes apart**: a "left" clip played backwards is a
"right" clip (start positions are uniform over the positions the whole path fits in), "rotate_cw" reversed is
"rotate_ccw", "appear" reversed is "disappear". Any model that pools frames without order (frame averaging) sees
the same distribution for each such pair, so the gap between it and a temporal model (CNN + LSTM) measures what
modelling time adds. Every frame is drawn fresh (per-frame background noise), deterministic by seed.

Drawn with OpenCV polygons at 1/16-pixel precision (smooth sub-pixel motion on a 32×32 frame) rather than with
:mod:`vision.data.scenes`' sprite helpers: those are private, draw a whole detection scene per image, and have no
rotation or visibility over time.

Example:
    >>> from vision.data.action_videos import make_action_videos
    >>> data = make_action_videos(8, frames=8, size=32, seed=0)
    >>> data.videos.shape, data.videos.dtype, data.classes
    ((8, 8, 32, 32, 3), dtype('uint8'), ('left', 'right', 'up', 'down'))
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError

__all__ = ["ACTIONS", "DIRECTION_ACTIONS", "SHAPES", "ActionSequence", "ActionVideos", "make_action_sequence",
           "make_action_videos", "write_action_video"]

#: motion-direction classes: the default, and the set a frame-averaging model cannot tell apart pairwise
DIRECTION_ACTIONS: tuple[str, ...] = ("left", "right", "up", "down")
#: every action the generator draws
ACTIONS: tuple[str, ...] = (*DIRECTION_ACTIONS, "rotate_cw", "rotate_ccw", "appear", "disappear")
#: the shapes drawn (rotating clips use the non-circular ones)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")

_DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}


@dataclass(frozen=True)
class ActionVideos:
    """A batch of synthetic action clips.

    Attributes:
        videos: N×T×H×W×3 uint8 RGB clips.
        labels: N int64 class ids into ``classes``.
        classes: the action names, in class-id order.
        shapes: N shape names (which shape each clip shows).
    """

    videos: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    shapes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def _outline(shape: str, radius: float, angle: float) -> np.ndarray:
    """K×2 polygon vertices around the origin (a 32-gon for the circle)."""
    if shape == "circle":
        k, radii, start = 32, [radius], 0.0
    elif shape == "square":
        k, radii, start = 4, [radius], math.pi / 4
    elif shape == "triangle":
        k, radii, start = 3, [radius * 1.1], -math.pi / 2
    else:  # star
        k, radii, start = 10, [radius * 1.15, radius * 0.5], -math.pi / 2
    a = start + angle + np.arange(k) * (2 * math.pi / k)
    r = np.array([radii[i % len(radii)] for i in range(k)])
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _draw(frame: np.ndarray, shape: str, cx: float, cy: float, radius: float, angle: float,
          color: tuple[float, float, float]) -> None:
    import cv2

    pts = np.round((_outline(shape, radius, angle) + (cx, cy)) * 16).astype(np.int32)
    cv2.fillPoly(frame, [pts], color, cv2.LINE_AA, 4)


def _check(value: Any, name: str, lo: float, hi: float, kind: type = int, who: str = "make_action_videos") -> Any:
    bad = isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int)
    if bad or not lo <= value <= hi:
        what = "an integer" if kind is int else "a number"
        raise InputError(f"{who}: {name} must be {what} in [{lo}, {hi}]; got {value!r}")
    return value


def _check_fits(who: str, frames: int, size: int, speed: tuple[float, float], radius: tuple[float, float]) -> None:
    """InputError unless the fastest, largest moving shape stays inside the frame for all ``frames``."""
    scale = size / 32
    needs = 2 * radius[1] * scale * 1.15 + speed[1] * scale * (frames - 1) + 2
    if needs > size:
        raise InputError(f"{who}: a shape of radius {radius[1]} moving {speed[1]} px/frame for {frames} "
                         f"frames does not fit in {size}×{size} (needs {needs:.0f} px); "
                         "expected fewer frames, a lower speed or a larger size")


def make_action_videos(n: int, *, frames: int = 8, size: int = 32, actions: tuple[str, ...] = DIRECTION_ACTIONS,
                       seed: int = 0, speed: tuple[float, float] = (1.5, 2.5), radius: tuple[float, float] = (3.5, 5.0),
                       noise: float = 8.0) -> ActionVideos:
    """Generate ``n`` labelled clips, classes balanced (round robin over ``actions``, then shuffled).

    Args:
        n: number of clips (≥ 1).
        frames: frames per clip T (2 … 64).
        size: frame height = width in pixels (16 … 256).
        actions: class names, a subset of :data:`ACTIONS`; their order defines the class ids.
        seed: everything follows from it; use different seeds for training and held-out sets.
        speed: (min, max) pixels per frame for moving clips, scaled by ``size / 32``.
        radius: (min, max) shape radius in pixels, scaled by ``size / 32``.
        noise: standard deviation of per-pixel, per-frame Gaussian background noise (0 = plain background).

    Returns:
        :class:`ActionVideos` with N×T×size×size×3 uint8 ``videos``.

    Raises:
        InputError: bad counts or ranges, unknown or repeated actions, a path that does not fit in the frame.
    """
    _check(n, "n", 1, 10**7)
    _check(frames, "frames", 2, 64)
    _check(size, "size", 16, 256)
    _check(noise, "noise", 0.0, 100.0, float)
    if not isinstance(actions, (tuple, list)) or not actions or len(set(actions)) != len(actions) \
            or any(a not in ACTIONS for a in actions):
        raise InputError(f"make_action_videos: actions must be distinct names from {list(ACTIONS)}; got {actions!r}")
    for name, pair in (("speed", speed), ("radius", radius)):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and 0 < pair[0] <= pair[1]):
            raise InputError(f"make_action_videos: {name} must be (min, max) with 0 < min ≤ max; got {pair!r}")
    _check_fits("make_action_videos", frames, size, speed, radius)
    scale = size / 32
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 10]))
    labels = np.arange(n, dtype=np.int64) % len(actions)
    rng.shuffle(labels)
    videos = np.empty((n, frames, size, size, 3), np.uint8)
    shapes = []
    for i, label in enumerate(labels):
        action = actions[int(label)]
        shape = str(rng.choice(SHAPES[1:] if action.startswith("rotate") else SHAPES))
        shapes.append(shape)
        videos[i] = _clip(rng, action, shape, frames, size, scale, speed, radius, noise)
    return ActionVideos(videos=videos, labels=labels, classes=tuple(actions), shapes=tuple(shapes))


@dataclass(frozen=True)
class ActionSequence:
    """One continuous video made of action segments (for timelines and the demo).

    Attributes:
        frames: T×H×W×3 uint8 RGB frames. labels: T int64 class ids (the action of each frame) into ``classes``.
        classes: the action names. segments: ``(first frame, end frame, action)`` of each segment.
    """

    frames: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    segments: tuple[tuple[int, int, str], ...]


def make_action_sequence(order: tuple[str, ...] | list[str], *, clips_per_action: int = 2, frames: int = 8,
                         size: int = 32, classes: tuple[str, ...] = ACTIONS, seed: int = 0) -> ActionSequence:
    """A video whose segments perform the actions of ``order`` in turn, each as ``clips_per_action`` fresh clips
    of ``frames`` frames (a new shape and background every clip, as in :func:`make_action_videos`): a clip
    classifier labels it best with clips aligned to those cuts (stride = clip length).

    Raises:
        InputError: an empty order, actions not in ``classes``, ``classes`` not distinct names from
            :data:`ACTIONS`, bad counts, or clips too long for the frame size.
    """
    who = "make_action_sequence"
    _check(clips_per_action, "clips_per_action", 1, 1000, who=who)
    _check(frames, "frames", 2, 64, who=who)
    _check(size, "size", 16, 256, who=who)
    if not isinstance(classes, (tuple, list)) or not classes or len(set(classes)) != len(classes) \
            or any(c not in ACTIONS for c in classes):
        raise InputError(f"{who}: classes must be distinct names from {list(ACTIONS)}; "
                         f"got {classes!r}")
    if not isinstance(order, (tuple, list)) or not order or any(a not in classes for a in order):
        raise InputError(f"{who}: order must be a non-empty list of actions from {list(classes)}; "
                         f"got {order!r}")
    speed, radius = (1.5, 2.5), (3.5, 5.0)  # make_action_videos' defaults
    if any(a in _DIRECTIONS for a in order):  # only moving shapes need room for their path
        _check_fits(who, frames, size, speed, radius)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 11]))
    parts, labels, segments = [], [], []
    for action in order:
        start = len(labels)
        for _ in range(clips_per_action):
            shape = str(rng.choice(SHAPES[1:] if action.startswith("rotate") else SHAPES))
            parts.append(_clip(rng, action, shape, frames, size, size / 32, speed, radius, 8.0))
            labels += [classes.index(action)] * frames
        segments.append((start, len(labels), action))
    return ActionSequence(np.concatenate(parts), np.asarray(labels, np.int64), tuple(classes), tuple(segments))


def write_action_video(path: str | os.PathLike[str], sequence: ActionSequence, *, scale: int = 4,
                       fps: float = 8.0) -> Path:
    """Write ``sequence``'s frames as a video file (MJPG ``.avi`` by default, :class:`vision.io.VideoSink`), each frame
    enlarged ``scale`` times with nearest-neighbour pixels (so it is visible in a player and shrinks back to the
    same pixels before the codec's loss). Returns the path.

    Raises:
        InputError: not an :class:`ActionSequence`, ``scale`` not in 1 … 16, or ``fps`` not in 0.1 … 1000.
    """
    import cv2

    from vision.io import VideoSink

    if not isinstance(sequence, ActionSequence):
        raise InputError(f"write_action_video: expected an ActionSequence (make_action_sequence); got "
                         f"{type(sequence).__name__}")
    _check(scale, "scale", 1, 16, who="write_action_video")
    _check(fps, "fps", 0.1, 1000.0, float, who="write_action_video")
    h, w = sequence.frames.shape[1:3]
    with VideoSink(path, fps=fps, codec="MJPG") as sink:
        for frame in sequence.frames:
            sink.write(cv2.resize(frame, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST))
    return Path(path)


def _clip(rng: np.random.Generator, action: str, shape: str, frames: int, size: int, scale: float,
          speed: tuple[float, float], radius: tuple[float, float], noise: float) -> np.ndarray:
    """One T×H×W×3 uint8 clip."""
    r = rng.uniform(*radius) * scale
    margin = r * 1.15 + 1
    background = rng.uniform(20, 235, 3)
    color = rng.uniform(0, 255, 3)
    while np.abs(color - background).sum() < 180:  # keep the shape visible against its background
        color = rng.uniform(0, 255, 3)
    angle0 = rng.uniform(0, 2 * math.pi)
    t = np.arange(frames, dtype=np.float64)
    visible = np.ones(frames, bool)
    angles = np.full(frames, angle0)
    if action in _DIRECTIONS:
        dx, dy = _DIRECTIONS[action]
        v = rng.uniform(*speed) * scale
        travel = v * (frames - 1)
        # the whole path lies inside the frame, its start uniform over all such paths (so the set of positions is
        # the same in distribution for a direction and its opposite)
        lo, hi = margin, size - margin
        along0 = rng.uniform(lo, hi - travel)
        across = rng.uniform(lo, hi)
        along = along0 + v * t
        if dx < 0 or dy < 0:
            along = along[::-1]
        xs, ys = (along, np.full(frames, across)) if dx else (np.full(frames, across), along)
    else:
        xs = np.full(frames, rng.uniform(margin, size - margin))
        ys = np.full(frames, rng.uniform(margin, size - margin))
        if action.startswith("rotate"):
            step = rng.uniform(math.radians(8), math.radians(14)) * (1 if action == "rotate_cw" else -1)
            angles = angle0 + step * t
        else:  # appear / disappear: present from (or until) a random cut, away from the ends
            cut = int(rng.integers(1, frames))
            visible = t >= cut if action == "appear" else t < frames - cut
    clip = np.empty((frames, size, size, 3), np.uint8)
    col = tuple(float(c) for c in color)
    for k in range(frames):
        frame = np.empty((size, size, 3), np.float32)
        frame[:] = background
        if noise:
            frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        if visible[k]:
            _draw(frame, shape, float(xs[k]), float(ys[k]), r, float(angles[k]), col)
        clip[k] = frame
    return clip
