"""Video files written from RGB frames, published atomically: :class:`VideoSink` (``cv2.VideoWriter``, imported on
first use; OpenCV's BGR order stays inside)."""

from __future__ import annotations

import logging
import math
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError, VideoSourceError
from vision.io.video import Frame, _check_size, _cv2

__all__ = ["SINK_CODECS", "VideoSink"]

logger = logging.getLogger(__name__)

#: Default codec (FourCC) per container suffix for :class:`VideoSink`. These work with the OpenCV wheels'
#: FFMPEG build; H.264 ("avc1") writing does not.
SINK_CODECS: dict[str, str] = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "FFV1"}


class VideoSink:
    """Write RGB frames to a video file; the file appears (atomically) only when the sink is closed.

    Frames go to a temporary file in the target's folder, renamed over ``path`` by :meth:`close`. Leaving
    the ``with`` block by an exception, or calling :meth:`abort`, deletes the temporary file and leaves an
    existing ``path`` untouched::

        with VideoSink("out.mp4", fps=25) as sink:
            for frame in frames:
                sink.write(frame)  # H×W×3 uint8 RGB (or a Frame)

    Args:
        path: target file; missing parent folders are created.
        fps: frames per second (> 0).
        size: ``(width, height)``, both even (OpenCV's FFMPEG writer crops odd sizes); None takes it from
            the first frame. Every frame must have this size.
        codec: FourCC such as ``"mp4v"``, ``"MJPG"``, ``"FFV1"``; None picks from the suffix
            (:data:`SINK_CODECS`: .mp4/.m4v/.mov → mp4v, .avi → MJPG, .mkv → FFV1). H.264 is not available
            in the OpenCV wheels.

    Raises:
        InputError: bad fps, size, codec, or an unknown suffix without a codec.
        ShapeError: an odd width or height.
        VideoSourceError: OpenCV cannot open a writer for this path/codec/size.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fps: float,
        size: tuple[int, int] | None = None,
        codec: str | None = None,
    ) -> None:
        self.path = Path(os.fsdecode(os.fspath(path)))
        if isinstance(fps, bool) or not isinstance(fps, (int, float, np.number)) or not (
            math.isfinite(fps) and fps > 0
        ):
            raise InputError(f"VideoSink {self.path}: fps must be a positive number, got {fps!r}")
        self.fps = float(fps)
        suffix = self.path.suffix.lower()
        if codec is None:
            if suffix not in SINK_CODECS:
                raise InputError(
                    f"VideoSink {self.path}: no default codec for suffix {suffix or '(none)'!r}; expected one of "
                    f"{' '.join(SINK_CODECS)} or an explicit codec= FourCC"
                )
            codec = SINK_CODECS[suffix]
        if not isinstance(codec, str) or len(codec) != 4:
            raise InputError(f"VideoSink {self.path}: codec must be a 4-character FourCC like 'mp4v', got {codec!r}")
        if self.path.is_dir():
            raise InputError(f"VideoSink: {self.path} is a directory; expected a video file path")
        self.codec = codec
        self._size = _check_size(size, f"VideoSink {self.path}")
        self._writer: Any = None
        self._tmp: Path | None = None
        self._count = 0
        self._closed = False
        self._published = False
        if self._size is not None:
            self._open(self._size)

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the video, None until the first frame when not given."""
        return self._size

    @property
    def frames_written(self) -> int:
        """Number of frames written so far."""
        return self._count

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or :meth:`abort`."""
        return self._closed

    def _open(self, size: tuple[int, int]) -> None:
        if size[0] % 2 or size[1] % 2:
            raise ShapeError(
                f"VideoSink {self.path}: got frames of {size[0]}×{size[1]} (width×height); expected even width and "
                f"height (OpenCV's FFMPEG writer would silently crop to {size[0] & ~1}×{size[1] & ~1}); crop or "
                "resize the frames first"
            )
        cv2 = _cv2()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.parent / f".{self.path.stem}.{secrets.token_hex(6)}.tmp{self.path.suffix}"
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*self.codec), self.fps, size)
        if not writer.isOpened():
            writer.release()
            tmp.unlink(missing_ok=True)
            raise VideoSourceError(
                f"OpenCV could not open a video writer for {self.path} with codec {self.codec!r} at "
                f"{size[0]}×{size[1]}, {self.fps:g} fps; expected a codec this build supports "
                "(mp4v for .mp4, MJPG for .avi, FFV1 for .mkv)"
            )
        self._writer, self._tmp, self._size = writer, tmp, size

    def write(self, frame: np.ndarray | Frame) -> None:
        """Append one frame: ``H×W×3`` uint8 RGB (or ``H×W`` uint8 gray, or a :class:`Frame`).

        Raises:
            ShapeError: wrong dimensions, or a size other than the sink's.
            DTypeError: not uint8.
            VideoSourceError: the sink is closed.
        """
        if self._closed:
            raise VideoSourceError(f"VideoSink {self.path} is closed; expected writes before close()")
        image = frame.image if isinstance(frame, Frame) else frame
        if not isinstance(image, np.ndarray):
            raise InputError(
                f"VideoSink {self.path}: expected a numpy array H×W×3 uint8 RGB, got {type(image).__name__}"
            )
        shape = "×".join(map(str, image.shape))
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3) or 0 in image.shape:
            raise ShapeError(f"VideoSink {self.path}: expected H×W×3 uint8 RGB, got {shape} {image.dtype}")
        if image.dtype != np.uint8:
            raise DTypeError(f"VideoSink {self.path}: expected uint8 frames, got {shape} {image.dtype}")
        got = (image.shape[1], image.shape[0])
        if self._writer is None:
            self._open(self._size or got)
        want = self._size or got
        if got != want:
            raise ShapeError(
                f"VideoSink {self.path}: frame {self._count} is {got[0]}×{got[1]} (width×height) but the video is "
                f"{want[0]}×{want[1]}; resize frames first"
            )
        cv2 = _cv2()
        code = cv2.COLOR_GRAY2BGR if image.ndim == 2 else cv2.COLOR_RGB2BGR
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(image), code))
        self._count += 1

    def close(self) -> Path | None:
        """Finish the file and move it to ``path``; idempotent.

        Returns:
            ``path``, or None when no frame was written (then no file is created).
        """
        if self._closed:
            return self.path if self._published else None
        self._closed = True
        if self._writer is not None:
            self._writer.release()
        if self._tmp is None:
            logger.warning("VideoSink %s closed without frames; no file written", self.path)
            return None
        if self._count == 0:
            self._tmp.unlink(missing_ok=True)
            logger.warning("VideoSink %s closed without frames; no file written", self.path)
            return None
        try:
            os.replace(self._tmp, self.path)
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        self._published = True
        return self.path

    def abort(self) -> None:
        """Stop writing and delete the temporary file; an existing ``path`` is left as it was."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.release()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoSink:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # an unclosed sink never publishes a partial file
        try:
            self.abort()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"VideoSink({str(self.path)!r}, fps={self.fps:g}, size={self._size}, codec={self.codec!r})"
