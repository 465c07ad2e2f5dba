"""Frames → fixed-length clips for the clip classifiers: a sliding window (length, stride) with optional resize.

Example:
    >>> import numpy as np
    >>> from vision.models.video.clips import clips_from_frames
    >>> frames = np.zeros((20, 48, 64, 3), np.uint8)
    >>> clips, starts = clips_from_frames(frames, length=8, stride=4, size=(32, 32))
    >>> clips.shape, starts.tolist()
    ((4, 8, 32, 32, 3), [0, 4, 8, 12])
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError

__all__ = ["clips_from_frames", "read_clips"]


def _window(length: Any, stride: Any, who: str) -> None:
    for name, value in (("length", length), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{who}: {name} must be an integer ≥ 1; got {value!r}")


def clips_from_frames(frames: Any, *, length: int = 8, stride: int | None = None,
                      size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut a T×H×W×3 uint8 frame sequence (array or list of frames) into clips of ``length`` frames.

    Args:
        frames: the frames, all the same size unless ``size`` is given (then each is resized on its own).
        length: frames per clip. stride: start-to-start step (default ``length``: no overlap). Trailing frames
            that do not fill a clip are dropped.
        size: ``(width, height)`` to resize every frame to (area interpolation when shrinking), or None.

    Returns:
        ``(clips, starts)``: N×length×H×W×3 uint8 clips and the N start frame indices.

    Raises:
        ShapeError: fewer frames than one clip, frames of different sizes, not H×W×3. DTypeError: not uint8.
    """
    who = "clips_from_frames"
    _window(length, stride if stride is not None else length, who)
    stride = length if stride is None else stride
    if isinstance(frames, np.ndarray):
        seq = list(frames) if frames.ndim == 4 else None
        if seq is None:
            raise ShapeError(f"{who}: expected T×H×W×3 frames; got an array of shape {frames.shape}")
    elif isinstance(frames, (list, tuple)):
        seq = list(frames)
    else:
        raise InputError(f"{who}: expected a T×H×W×3 uint8 array or a list of frames; got {type(frames).__name__}")
    if len(seq) < length:
        raise ShapeError(f"{who}: got {len(seq)} frames; expected at least one clip of length={length}")
    first = seq[0]
    for i, f in enumerate(seq):
        if not isinstance(f, np.ndarray) or f.ndim != 3 or f.shape[2] != 3:
            got = f.shape if isinstance(f, np.ndarray) else type(f).__name__
            raise ShapeError(f"{who}: frame {i} is {got}; expected H×W×3 RGB")
        if f.dtype != np.uint8:
            raise DTypeError(f"{who}: frame {i} is {f.dtype}; expected uint8")
        if f.shape != first.shape and size is None:
            raise ShapeError(f"{who}: frame {i} is {f.shape[1]}×{f.shape[0]} but frame 0 is "
                             f"{first.shape[1]}×{first.shape[0]}; expected one frame size (pass size= to resize)")
    if size is not None:
        if (not isinstance(size, (tuple, list)) or len(size) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in size)):
            raise InputError(f"{who}: size must be (width, height) positive integers; got {size!r}")
        import cv2

        w, h = size
        seq = [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA if w * h < f.shape[0] * f.shape[1]
                          else cv2.INTER_LINEAR) for f in seq]
    stack = np.stack(seq)
    starts = np.arange(0, len(stack) - length + 1, stride)
    return np.stack([stack[s:s + length] for s in starts]), starts


def read_clips(path: str | os.PathLike, *, length: int = 8, stride: int | None = None,
               size: tuple[int, int] | None = (32, 32), max_frames: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Read a video file (:class:`vision.io.VideoSource`) and cut it into clips (:func:`clips_from_frames`).

    Args:
        path: the video file. length, stride, size: as :func:`clips_from_frames` (frames are resized while
            reading, so a long video does not sit in memory at full size).
        max_frames: read at most this many frames (None = all).

    Returns:
        ``(clips, starts, fps)``; ``fps`` is None when the file reports none or 0 (then start times are unknown;
        use the frame indices in ``starts``).

    Raises:
        SourceNotFoundError: no such file. VideoSourceError: it cannot be opened. ShapeError: fewer frames than
            one clip.
    """
    from vision.io import VideoSource

    _window(length, stride if stride is not None else length, "read_clips")
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise InputError(f"read_clips: max_frames must be an integer ≥ 1 or None; got {max_frames!r}")
    frames = []
    with VideoSource(path, size=size) as video:
        fps = video.fps
        for frame in video:
            frames.append(frame.image)
            if max_frames is not None and len(frames) >= max_frames:
                break
    if len(frames) < length:
        raise ShapeError(f"read_clips: {os.fspath(path)} has {len(frames)} frames; expected at least one clip of "
                         f"length={length}")
    clips, starts = clips_from_frames(frames, length=length, stride=stride)
    return clips, starts, (fps if fps else None)
