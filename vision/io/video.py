"""Video sources (files, cameras, network streams) and sinks, with frames as ``H×W×3 uint8`` RGB.

:class:`VideoSource` wraps ``cv2.VideoCapture``: iterate it for :class:`Frame` objects, or call
:meth:`VideoSource.read`. With ``latest=True`` a background thread keeps grabbing and only the newest frame
is kept (a one-slot buffer), so a slow consumer always sees the current picture instead of a growing
backlog; ``realtime=True`` makes a file behave like a camera (frames arrive at the file's frame rate).
:class:`~vision.io.video_sink.VideoSink` (its own module) wraps ``cv2.VideoWriter``.

OpenCV's BGR order stays inside this module. ``cv2`` is imported on first use, so ``import vision.io``
stays cheap.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Union

import numpy as np

from vision.errors import InputError, SourceNotFoundError, VideoSourceError

__all__ = ["Frame", "VideoSource", "STREAM_SCHEMES"]

logger = logging.getLogger(__name__)

#: URL schemes opened as live network streams.
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")

VideoInput = Union[str, "os.PathLike[str]", int]


def _cv2() -> Any:
    import cv2

    return cv2


def _redact(url: str) -> str:
    """Hide the password of ``scheme://user:password@host`` so it never reaches a log or an error."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]+):[^@/]*@", r"\1:***@", url)


def _check_size(size: Any, what: str) -> tuple[int, int] | None:
    if size is None:
        return None
    ok = (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in size)
    )
    if not ok:
        raise InputError(f"{what}: size must be (width, height) with two positive integers, got {size!r}")
    return int(size[0]), int(size[1])


@dataclass(frozen=True, eq=False)
class Frame:
    """One video frame.

    Attributes:
        image: ``H×W×3`` uint8 RGB.
        index: position of the frame in what the source delivered, from 0. With ``latest=True`` indices
            of dropped frames are skipped, so gaps show what was dropped.
        timestamp: seconds. For files, the frame's presentation time (``CAP_PROP_POS_MSEC``); for cameras
            and streams, monotonic wall-clock time since the source was opened.
        captured: ``time.monotonic()`` when the frame was grabbed from the capture (with ``realtime=True``:
            when it was released at the file's frame rate); latency = now − captured. 0.0 when unknown.
    """

    image: np.ndarray
    index: int
    timestamp: float
    captured: float = 0.0


def _describe_source(source: Any) -> tuple[str, Any, str]:
    """Classify ``source`` → (kind, what to pass to cv2, display name); kind is file, camera or stream."""
    if isinstance(source, bool) or not isinstance(source, (int, np.integer, str, os.PathLike)):
        raise InputError(
            "VideoSource: expected a file path, a camera index (int) or an rtsp:// / http(s):// URL, "
            f"got {type(source).__name__}"
        )
    if isinstance(source, (int, np.integer)):
        if source < 0:
            raise InputError(f"VideoSource: camera index must be ≥ 0, got {source}")
        return "camera", int(source), f"camera {int(source)}"
    text = os.fsdecode(os.fspath(source))
    if isinstance(source, str) and text.strip().isdigit():
        return "camera", int(text), f"camera {int(text)}"
    if text.lower().startswith(STREAM_SCHEMES):
        return "stream", text, _redact(text)
    path = Path(text)
    if not path.exists():
        if "%" in path.name and path.parent.is_dir():  # image sequence pattern such as frame_%04d.png
            return "file", text, text
        raise SourceNotFoundError(f"video file not found: {path} (expected an existing video file)")
    if path.is_dir():
        raise InputError(f"{path} is a directory; expected a video file")
    return "file", str(path), str(path)


class VideoSource:
    """Frames from a video file, a camera or a network stream, as :class:`Frame` (RGB uint8).

    Use it as a context manager (or call :meth:`release`), and iterate it or call :meth:`read`::

        with VideoSource("clip.mp4") as video:
            for frame in video:
                ...  # frame.image is H×W×3 uint8 RGB

    Args:
        source: a file path; a camera index (``int`` or a string of digits); or an ``rtsp://``,
            ``rtsps://``, ``rtmp://``, ``http(s)://``, ``udp://`` or ``tcp://`` URL.
        latest: keep only the newest frame: a daemon thread grabs continuously into a one-slot buffer and
            :meth:`read` returns the newest frame not yet read (waiting for one if needed). Frames
            replaced before being read are counted in :attr:`dropped`. Meant for live sources; on a file
            the thread decodes as fast as it can (unless ``realtime=True``).
        realtime: with ``latest=True`` on a file, release frames at the file's frame rate (its ``fps``, else
            30), as a camera would deliver them, so a slow consumer skips frames instead of lagging behind.
        size: ``(width, height)`` of the frames returned; other sizes are resized (area interpolation
            when shrinking, bilinear when enlarging). For cameras it is also requested from the driver.
        reconnect: for cameras and streams, how many times to reopen the source after reads fail
            (backoff 0.5 s, 1 s, 2 s, … up to 8 s), counted from the last good frame; the first open of
            a stream is retried the same way. Files ignore it. Streams are opened with FFMPEG open/read
            timeouts of 10 s, so a dead stream fails instead of blocking forever.

    Raises:
        SourceNotFoundError: the file does not exist.
        VideoSourceError: the file, camera or stream cannot be opened.
        InputError: bad argument types or values.
    """

    _RECONNECT_DELAY = 0.5  # seconds before the first reconnect attempt; doubles each time
    _RECONNECT_MAX_DELAY = 8.0
    _JOIN_TIMEOUT = 5.0  # seconds release() waits for the grabber thread
    _STREAM_TIMEOUT_MS = 10_000  # FFMPEG open / read timeout for network streams

    def __init__(
        self,
        source: VideoInput,
        *,
        latest: bool = False,
        size: tuple[int, int] | None = None,
        reconnect: int = 0,
        realtime: bool = False,
    ) -> None:
        if not isinstance(latest, bool):
            raise InputError(f"VideoSource: latest must be True or False, got {latest!r}")
        if not isinstance(realtime, bool):
            raise InputError(f"VideoSource: realtime must be True or False, got {realtime!r}")
        if realtime and not latest:
            raise InputError("VideoSource: realtime=True needs latest=True (frames released at the file's rate "
                             "go to the newest-frame buffer)")
        if isinstance(reconnect, bool) or not isinstance(reconnect, (int, np.integer)) or reconnect < 0:
            raise InputError(f"VideoSource: reconnect must be an integer ≥ 0, got {reconnect!r}")
        self._size = _check_size(size, "VideoSource")
        self._kind, self._target, self.name = _describe_source(source)
        self._reconnect = int(reconnect)
        self._failures = 0  # consecutive failed reads of a live source
        self._next_index = 0
        self._cond = threading.Condition()
        self._io_lock = threading.Lock()  # serialises read() and release() without a grabber thread
        self._stop = threading.Event()
        self._slot: tuple[np.ndarray, int, float, float] | None = None
        self._dropped = 0
        self._ended = False
        self._error: BaseException | None = None
        self._released = False
        self._thread: threading.Thread | None = None
        self._t0 = time.monotonic()
        self._cap = self._open_first()
        self._t0 = time.monotonic()
        self._realtime = realtime and not self.is_live
        if latest:
            self._thread = threading.Thread(
                target=self._grab_loop, name=f"VideoSource-grabber[{self.name}]", daemon=True
            )
            self._thread.start()

    # ------------------------------------------------------------------ opening

    def _open_capture(self) -> Any:
        """A new ``cv2.VideoCapture`` for the source (may be unopened)."""
        cv2 = _cv2()
        if self._kind == "stream":  # bound how long an unreachable or stalled stream can block open/read
            timeout = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self._STREAM_TIMEOUT_MS,
                       cv2.CAP_PROP_READ_TIMEOUT_MSEC, self._STREAM_TIMEOUT_MS]
            cap = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, timeout)
        else:
            cap = cv2.VideoCapture(self._target)
        if self._kind == "camera" and self._size is not None and cap.isOpened():
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
        return cap

    def _open_first(self) -> Any:
        cap = self._open_capture()
        attempts = self._reconnect if self._kind == "stream" else 0
        for attempt in range(1, attempts + 1):
            if cap.isOpened():
                break
            cap.release()
            delay = self._backoff(attempt)
            logger.warning("%s could not be opened; retry %d/%d in %.1f s", self.name, attempt, attempts, delay)
            time.sleep(delay)
            cap = self._open_capture()
        if cap.isOpened():
            return cap
        cap.release()
        if self._kind == "camera":
            raise VideoSourceError(
                f"camera {self._target} could not be opened; expected a connected camera index (0, 1, …)"
            )
        if self._kind == "stream":
            raise VideoSourceError(
                f"stream {self.name} could not be opened after {1 + attempts} attempt(s); expected a reachable "
                "rtsp:// or http(s):// video URL (check the address, credentials and network)"
            )
        raise VideoSourceError(
            f"{self.name} could not be opened as a video by OpenCV; expected a readable video file "
            "(e.g. .mp4, .avi, .mkv, .mov)"
        )

    def _backoff(self, attempt: int) -> float:
        return min(self._RECONNECT_DELAY * 2 ** (attempt - 1), self._RECONNECT_MAX_DELAY)

    # ------------------------------------------------------------------ properties

    @property
    def is_live(self) -> bool:
        """True for cameras and network streams, False for files."""
        return self._kind != "file"

    @property
    def fps(self) -> float | None:
        """Frames per second reported by the source, or None when it does not say."""
        value = self._prop("CAP_PROP_FPS")
        return value if value is not None and 0 < value < 10_000 else None

    @property
    def width(self) -> int | None:
        """Width of the returned frames (``size[0]`` if given), or None when unknown."""
        if self._size is not None:
            return self._size[0]
        value = self._prop("CAP_PROP_FRAME_WIDTH")
        return int(value) if value else None

    @property
    def height(self) -> int | None:
        """Height of the returned frames (``size[1]`` if given), or None when unknown."""
        if self._size is not None:
            return self._size[1]
        value = self._prop("CAP_PROP_FRAME_HEIGHT")
        return int(value) if value else None

    @property
    def frame_count(self) -> int | None:
        """Number of frames of a file as its container states it; None for live sources or when unknown."""
        if self.is_live:
            return None
        value = self._prop("CAP_PROP_FRAME_COUNT")
        return int(value) if value and value > 0 else None

    @property
    def dropped(self) -> int:
        """Frames grabbed but replaced by a newer one before being read (``latest=True`` only)."""
        with self._cond:
            return self._dropped

    def _prop(self, name: str) -> float | None:
        cv2 = _cv2()
        try:
            value = float(self._cap.get(getattr(cv2, name)))
        except Exception:  # released capture
            return None
        return value if math.isfinite(value) and value > 0 else None

    # ------------------------------------------------------------------ grabbing

    def _grab(self) -> tuple[np.ndarray, int, float, float] | None:
        """Read one raw BGR frame (reconnecting live sources); None at the end of a file."""
        cv2 = _cv2()
        while True:
            ok, bgr = self._cap.read()
            if ok and bgr is not None:
                captured = time.monotonic()
                if self.is_live:
                    stamp = time.monotonic() - self._t0
                else:
                    stamp = float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
                self._failures = 0
                index = self._next_index
                self._next_index += 1
                return bgr, index, stamp, captured
            if not self.is_live or self._stop.is_set():
                return None
            if self._failures >= self._reconnect:
                raise VideoSourceError(
                    f"{self.name} stopped delivering frames after {self._next_index} frame(s) and "
                    f"{self._failures} reconnect attempt(s); expected a live source (check it, or allow more "
                    "attempts with reconnect=)"
                )
            self._failures += 1
            delay = self._backoff(self._failures)
            logger.warning(
                "%s: read failed; reconnect %d/%d in %.1f s", self.name, self._failures, self._reconnect, delay
            )
            if self._stop.wait(delay):
                return None
            self._cap.release()
            self._cap = self._open_capture()

    def _grab_loop(self) -> None:
        """Body of the ``latest=True`` thread: keep the newest frame in the one-slot buffer."""
        period = 1.0 / (self.fps or 30.0) if self._realtime else 0.0
        start = time.monotonic()
        try:
            while not self._stop.is_set():
                got = self._grab()
                if got is not None and period:  # realtime file: the frame "arrives" at its due time
                    if self._stop.wait(max(0.0, start + got[1] * period - time.monotonic())):
                        break
                    got = (got[0], got[1], got[2], time.monotonic())
                with self._cond:
                    if got is None:
                        break
                    if self._slot is not None:
                        self._dropped += 1
                    self._slot = got
                    self._cond.notify_all()
        except BaseException as exc:  # handed to the consumer by read()
            with self._cond:
                self._error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()
            self._cap.release()

    def _to_frame(self, raw: tuple[np.ndarray, int, float, float]) -> Frame:
        cv2 = _cv2()
        bgr, index, stamp, captured = raw
        if self._size is not None and (bgr.shape[1], bgr.shape[0]) != self._size:
            shrink = self._size[0] * self._size[1] < bgr.shape[0] * bgr.shape[1]
            bgr = cv2.resize(bgr, self._size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if bgr.ndim == 2:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        elif bgr.shape[2] == 4:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB)
        else:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return Frame(image=np.ascontiguousarray(rgb), index=index, timestamp=stamp, captured=captured)

    # ------------------------------------------------------------------ public API

    def read(self) -> Frame | None:
        """The next frame (with ``latest=True``: the newest one not yet read), or None at the end.

        Returns None at the end of a file and after :meth:`release`. Blocks until a frame arrives.

        Raises:
            VideoSourceError: a camera or stream stopped delivering frames and ``reconnect`` attempts failed.
        """
        if self._thread is None:
            with self._io_lock:
                if self._released:
                    return None
                raw = self._grab()
            return None if raw is None else self._to_frame(raw)
        with self._cond:
            while self._slot is None and not self._ended and not self._released:
                self._cond.wait()
            raw, self._slot = (None if self._released else self._slot), None
            if raw is None:
                if self._error is not None and not self._released:
                    raise self._error
                return None
        return self._to_frame(raw)

    def __iter__(self) -> Iterator[Frame]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame

    def release(self) -> None:
        """Stop the grabber thread (joined), close the capture; idempotent. Later reads return None."""
        with self._cond:
            if self._released:
                return
            self._released = True
            self._stop.set()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self._JOIN_TIMEOUT)
            if self._thread.is_alive():  # blocked inside cv2; it releases the capture when cv2 returns
                logger.warning("%s: grabber thread still blocked after %.0f s", self.name, self._JOIN_TIMEOUT)
        else:
            with self._io_lock:
                self._cap.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return (
            f"VideoSource({self.name!r}, live={self.is_live}, size={self.width}×{self.height}, fps={self.fps}, "
            f"latest={self._thread is not None}, realtime={self._realtime})"
        )
