"""Synthetic-scene videos: shapes from :func:`~vision.data.scenes.make_scene` moving over a scene background.

For the video paths of the suite (``vision stream``, ``vision predict detect`` on videos, tracking) with the
shipped scenes-trained detectors, and with exact ground truth: every frame's boxes are known by construction.
A background is a scene drawn with no objects; each object is the single object of its own scene, cut out with its
instance mask and pasted at a position that moves at constant velocity and bounces off the borders (later objects
are drawn over earlier ones). Deterministic by seed.

Example:
    >>> from vision.data.scene_video import make_scene_video           # doctest: +SKIP
    >>> video = make_scene_video("moving.mp4", frames=60, objects=2)   # doctest: +SKIP
    >>> video.boxes[0].shape, video.labels                              # doctest: +SKIP
    ((2, 4), ('star', 'circle'))
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.errors import InputError

__all__ = ["SceneVideo", "make_scene_video"]


@dataclass(frozen=True)
class SceneVideo:
    """A written synthetic-scene video and its ground truth.

    Attributes:
        path: the video file. fps: its frame rate.
        boxes: per frame, ``K×4`` float32 xyxy pixel boxes of the K objects (same order every frame).
        class_ids: ``K`` class ids into ``classes``. classes: the class table.
    """

    path: Path
    fps: float
    boxes: list[np.ndarray]
    class_ids: np.ndarray
    classes: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """Class name of each object."""
        return tuple(self.classes[int(i)] for i in self.class_ids)


def _sprite(seed: int, config: object) -> tuple[np.ndarray, np.ndarray, int]:
    """One object cut out of its own scene: (RGB crop, boolean mask crop, class id)."""
    from vision.data.scenes import make_scene

    image, objects, inst, _ = make_scene(seed, config)  # type: ignore[arg-type]
    mask = inst == 1
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return image[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy(), int(objects[0].category_id)


def make_scene_video(path: str | os.PathLike, *, frames: int = 90, fps: float = 30.0, size: tuple[int, int] = (256, 256),
                     objects: int = 1, speed: tuple[float, float] = (1.5, 4.0), seed: int = 0,
                     object_scale: tuple[float, float] = (0.2, 0.35)) -> SceneVideo:
    """Write a video of ``objects`` shapes moving over a synthetic-scene background.

    Args:
        path: the file to write (``.mp4`` → mp4v, ``.avi`` → MJPG, ``.mkv`` → FFV1; see :class:`vision.io.VideoSink`).
        frames: number of frames (≥ 1). fps: frame rate.
        size: ``(height, width)``, both even (video writers need even sizes).
        objects: how many moving objects (0 … 20); classes are the five shapes the shipped detectors know.
        speed: per-object speed range in pixels per frame.
        seed: everything (background, objects, paths) follows from it.
        object_scale: object size as a fraction of ``min(size)``.
    Returns:
        The :class:`SceneVideo` with per-frame ground-truth boxes.
    Raises:
        InputError: bad counts, sizes or ranges.
    """
    from vision.data.scenes import SHAPE_CLASSES, SceneConfig, image_seed
    from vision.io import VideoSink

    for name, value, lo, hi in (("frames", frames, 1, 10**6), ("objects", objects, 0, 20)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise InputError(f"make_scene_video: {name} must be an integer in [{lo}, {hi}]; got {value!r}")
    if (not isinstance(size, (tuple, list)) or len(size) != 2 or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 32 or v % 2 for v in size)):
        raise InputError(f"make_scene_video: size must be (height, width), even integers ≥ 32; got {size!r}")
    if not (isinstance(speed, (tuple, list)) and len(speed) == 2 and 0 <= speed[0] <= speed[1]):
        raise InputError(f"make_scene_video: speed must be (min, max) pixels per frame with 0 ≤ min ≤ max; got {speed!r}")
    height, width = size
    base = SceneConfig(image_size=(height, width), classes=SHAPE_CLASSES, objects=(0, 0), distractors=(0, 3),
                       jpeg_quality=None, blur_sigma=(0.0, 0.0), noise_sigma=(0.0, 2.0))
    background = _sprite_free_background(image_seed(seed, 0), base)
    one = dataclasses.replace(base, objects=(1, 1), distractors=(0, 0), object_scale=tuple(object_scale),
                              max_truncation=0.0, max_occlusion=0.0)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7]))
    sprites, pos, vel = [], [], []
    for k in range(objects):
        rgb, mask, cls = _sprite(image_seed(seed, k + 1), one)
        h, w = mask.shape
        sprites.append((rgb, mask, cls))
        pos.append([rng.uniform(0, max(width - w, 0)), rng.uniform(0, max(height - h, 0))])
        angle, v = rng.uniform(0, 2 * np.pi), rng.uniform(*speed)
        vel.append([v * np.cos(angle), v * np.sin(angle)])
    all_boxes: list[np.ndarray] = []
    with VideoSink(path, fps=fps) as sink:
        for _ in range(frames):
            canvas = background.copy()
            boxes = np.zeros((objects, 4), np.float32)
            for k, (rgb, mask, _) in enumerate(sprites):
                h, w = mask.shape
                x, y = round(pos[k][0]), round(pos[k][1])
                view = canvas[y:y + h, x:x + w]
                view[mask] = rgb[mask]
                boxes[k] = (x, y, x + w, y + h)
                for axis, extent, limit in ((0, w, width), (1, h, height)):  # move, bouncing off the borders
                    pos[k][axis] += vel[k][axis]
                    if pos[k][axis] < 0 or pos[k][axis] > limit - extent:
                        vel[k][axis] = -vel[k][axis]
                        pos[k][axis] = min(max(pos[k][axis], 0.0), float(max(limit - extent, 0)))
            sink.write(canvas)
            all_boxes.append(boxes)
    return SceneVideo(path=Path(path), fps=float(fps), boxes=all_boxes,
                      class_ids=np.array([s[2] for s in sprites], np.int64), classes=tuple(SHAPE_CLASSES))


def _sprite_free_background(seed: int, config: object) -> np.ndarray:
    from vision.data.scenes import make_scene

    return make_scene(seed, config)[0]  # type: ignore[arg-type]
