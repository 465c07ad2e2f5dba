"""Real-time detection on a video file, camera or network stream: capture → detect → track → smooth → count →
draw → show / record (tracking, smoothing and counting when asked for).

:class:`DetectionStream` is the loop as an iterator of :class:`StreamItem`; :func:`run_stream` drives it to outputs
(an OpenCV window, an MJPEG page on ``127.0.0.1``, a recorded file) and returns :class:`StreamStats`.

Capture never builds up lag. Cameras and network streams are read by :class:`~vision.io.VideoSource`'s grabber thread
into a one-slot buffer (``latest=True``), so each inference takes the newest frame and the ones it skipped are counted
as dropped; network streams reconnect with back-off. A file is read by a decoder thread a few frames ahead (every
frame is processed, decoding overlaps inference); with ``realtime=True`` the file is released at its own frame rate
into the one-slot buffer instead, as a camera would deliver it. Latency is measured from the moment a frame was
grabbed (or released) to the moment the consumer is done with it (shown, written).

Smoothing of tracked boxes and counting objects that cross a line are :mod:`vision.infer.temporal`.

The outputs (:class:`~vision.infer.views.WindowOutput`, :class:`~vision.infer.views.MjpegServer`) live in
:mod:`vision.infer.views`.

Example:
    >>> from vision.models import create_model                                     # doctest: +SKIP
    >>> stats = run_stream("datasets/vtest_120.avi", create_model("hog-people"))   # doctest: +SKIP
    >>> stats.frames, stats.fps, stats.latency_ms["p95"]                           # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vision.errors import InputError, VideoSourceError, VisionError
from vision.infer.views import DISPLAYS, MjpegServer, WindowOutput, open_display

__all__ = ["DISPLAYS", "DetectionStream", "StreamItem", "StreamStats", "run_stream"]

logger = logging.getLogger(__name__)

_HISTORY = 100_000  # latency samples kept for the percentiles (memory stays flat on endless streams)


def _timed_predict(detector: Any, image: np.ndarray) -> tuple[Any, float]:
    """``detector.predict(image)`` and the seconds it took."""
    t0 = time.perf_counter()
    det = detector.predict(image)
    return det, time.perf_counter() - t0


def _percentiles(values: Any) -> dict[str, float | None]:
    a = np.asarray(values, dtype=np.float64) * 1000.0
    if a.size == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"p50": round(float(p50), 2), "p95": round(float(p95), 2), "p99": round(float(p99), 2),
            "max": round(float(a.max()), 2), "mean": round(float(a.mean()), 2)}


@dataclass
class StreamStats:
    """What a stream run did.

    Attributes:
        source: the source's display name (passwords hidden). frames: frames processed (detected and shown).
        mode: ``live`` (camera / stream: newest frame), ``realtime file`` (released at its frame rate: newest
            frame) or ``file`` (every frame, decoded ahead: latency then includes the read-ahead queue).
        seconds: wall time from the first frame requested to the end. fps: frames / seconds.
        dropped: frames the source delivered but that were skipped to stay current (live and realtime sources).
        latency_ms: capture → shown, percentiles p50 / p95 / p99 / max / mean (ms).
        inference_ms: detector (+ tracker) time per frame, same percentiles.
        age_ms: how old a frame already was when the loop picked it up, same percentiles.
        ended: why it stopped: ``end`` (the source ended), ``max_frames``, ``stopped`` (window closed / a
            callback), ``interrupted`` (Ctrl-C) or ``error`` (the source was lost; see ``error``).
        error: the message when ``ended == "error"``. outputs: where results went (window, url, recording).
        counts: with a counting line, ``{"in": …, "out": …}`` (see :class:`~vision.infer.temporal.LineCounter`);
            None (and left out of :meth:`to_dict`) without one.
    """

    source: str
    mode: str = "file"
    frames: int = 0
    seconds: float = 0.0
    dropped: int = 0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    inference_ms: dict[str, float | None] = field(default_factory=dict)
    age_ms: dict[str, float | None] = field(default_factory=dict)
    ended: str = "end"
    error: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] | None = None

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-safe form."""
        d = {"source": self.source, "mode": self.mode, "frames": self.frames, "seconds": round(self.seconds, 3),
             "fps": round(self.fps, 2), "dropped": self.dropped, "latency_ms": self.latency_ms,
             "inference_ms": self.inference_ms, "age_ms": self.age_ms, "ended": self.ended, "error": self.error,
             "outputs": dict(self.outputs)}
        if self.counts is not None:
            d["counts"] = dict(self.counts)
        return d


@dataclass(frozen=True, eq=False)
class StreamItem:
    """One processed frame: the :class:`~vision.io.Frame`, its detections and the annotated image (RGB).

    With a counting line, ``crossings`` says which detections crossed in / out on this frame and ``counts`` holds
    the totals so far; both are None without one.
    """

    frame: Any
    detections: Any
    image: np.ndarray
    inference_s: float
    crossings: Any = None
    counts: dict[str, int] | None = None


class _Ring:
    """The last ``size`` samples (seconds) in a preallocated array: memory stays flat on endless streams."""

    def __init__(self, size: int = _HISTORY) -> None:
        self._data = np.zeros(size, np.float32)
        self._n = 0

    def append(self, value: float) -> None:
        self._data[self._n % len(self._data)] = value
        self._n += 1

    def values(self) -> np.ndarray:
        return self._data[:min(self._n, len(self._data))]


class _Prefetch:
    """A decoder thread reading a file ``depth`` frames ahead of the consumer (no frame is skipped)."""

    _END = object()

    def __init__(self, video: Any, depth: int) -> None:
        self._video = video
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"DetectionStream-decoder[{video.name}]", daemon=True)
        self._thread.start()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self._video.read()
                if not self._put(self._END if frame is None else frame) or frame is None:
                    return
        except BaseException as exc:  # handed to the consumer
            self._put(exc)

    def read(self) -> Any:
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)  # later reads see the end too
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a put() waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(5.0)


class DetectionStream:
    """Detections on a video source, frame by frame, without lag build-up; iterate it for :class:`StreamItem`.

    Args:
        source: a video file, a camera index, or an rtsp:// / http(s):// URL (see :class:`~vision.io.VideoSource`).
        detector: anything with ``predict(image) -> Detections`` (every registered detector).
        realtime: for files, release frames at the file's frame rate and always take the newest (a live-rate
            test of the whole loop); ignored by cameras and streams, which are always live.
        tracker: None, ``"bytetrack"``, ``"botsort"`` or a :class:`~vision.infer.track.Tracker`. Default
            ``"bytetrack"`` when ``smooth`` or ``count_line`` is given (both need track ids).
        smooth: average each track's box and score over its last ``smooth`` frames
            (:class:`~vision.infer.temporal.Smoother`); None: raw boxes.
        count_line: count objects crossing a line (:class:`~vision.infer.temporal.LineCounter`, on the smoothed
            boxes when smoothing): a LineCounter, ``((x1, y1), (x2, y2))`` in pixels, or text for
            :func:`~vision.infer.temporal.parse_line` (``"384,0,384,576"`` pixels, ``"0.5,0,0.5,1"`` fractions of
            the frame). The annotated frames show the line and the counts; ``stats.counts`` holds them.
        draw: annotate frames (boxes, labels, and with ``overlay`` the FPS / latency line); False keeps the frame.
        overlay: draw the FPS / latency / inference line.
        reconnect: reopen attempts for cameras and network streams after reads fail (back-off 0.5 s … 8 s).
        max_frames: stop after this many processed frames (None: until the source ends).
        prefetch: frames a file is decoded ahead.
        lanes: for files (not ``realtime``), detector replicas working on consecutive frames side by side
            (:mod:`vision.infer.lanes`); frames still come out in order. Default 2 when there are 2 or more cores and
            the detector has ``replicate()`` (YOLO), else 1. Live sources always use one: the newest frame matters,
            not throughput.
        torch_threads: torch's intra-op threads while iterating; default ``cores // lanes`` with two or more lanes,
            else unchanged.
    Raises:
        SourceNotFoundError: the file does not exist. VideoSourceError: the source cannot be opened.
        InputError: a bad option (a bad line, ``smooth`` < 1) or a detector without ``predict``.
        MissingDependencyError: ``smooth`` / ``count_line`` without the supervision package.
    """

    def __init__(self, source: Any, detector: Any, *, realtime: bool = False, tracker: Any = None, draw: bool = True,
                 overlay: bool = True, reconnect: int = 3, max_frames: int | None = None, prefetch: int = 2,
                 lanes: int | None = None, torch_threads: int | None = None, smooth: int | None = None,
                 count_line: Any = None) -> None:
        from vision.io import VideoSource

        if not callable(getattr(detector, "predict", None)):
            raise InputError(f"DetectionStream: detector must have predict(image) -> Detections; got "
                             f"{type(detector).__name__}")
        if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int)
                                       or max_frames < 1):
            raise InputError(f"DetectionStream: max_frames must be None or an integer ≥ 1; got {max_frames!r}")
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 1:
            raise InputError(f"DetectionStream: prefetch must be an integer ≥ 1; got {prefetch!r}")
        if not isinstance(realtime, bool):
            raise InputError(f"DetectionStream: realtime must be True or False; got {realtime!r}")
        self.detector = detector
        self.draw, self.overlay, self.max_frames = bool(draw), bool(overlay), max_frames
        from vision.io.video import _describe_source

        live = _describe_source(source)[0] != "file"  # raises the typed errors (missing file, bad type) first
        if live or realtime:
            self.video = VideoSource(source, latest=True, reconnect=reconnect, realtime=realtime and not live)
            self._reader: Any = self.video
        else:
            self.video = VideoSource(source)
            self._reader = _Prefetch(self.video, prefetch)
        self.live, self.realtime = live, realtime and not live
        self._lanes = None
        try:
            self.smoother, self.counter = self._make_temporal(smooth, count_line)
            if tracker is None and (self.smoother is not None or self.counter is not None):
                tracker = "bytetrack"
            self.tracker = self._make_tracker(tracker)
            if not (live or realtime):
                from vision.infer.lanes import Lanes, default_lanes, replicas

                count = default_lanes(detector, enough_work=True) if lanes is None else lanes
                models = replicas(detector, count)
                if len(models) > 1:
                    self._lanes = Lanes(models, lambda m, frame: _timed_predict(m, frame.image),
                                        name="vision-stream-infer")
        except BaseException:
            self.close()
            raise
        self._torch_threads = torch_threads
        self.stats = StreamStats(source=self.video.name,
                                 mode="live" if live else "realtime file" if self.realtime else "file",
                                 counts=None if self.counter is None else self.counter.counts)
        self._latency, self._inference, self._age = _Ring(), _Ring(), _Ring()
        self._fps_ema: float | None = None
        self._last_shown: float | None = None
        self._closed = False

    def _make_temporal(self, smooth: Any, count_line: Any) -> tuple[Any, Any]:
        """The :class:`Smoother` and :class:`LineCounter` asked for (None where not); fractions use the frame size."""
        from vision.infer.temporal import LineCounter, Smoother, parse_line

        smoother = None if smooth is None else Smoother(length=smooth)
        if count_line is None or isinstance(count_line, LineCounter):
            return smoother, count_line
        if isinstance(count_line, str):
            shape = (self.video.height, self.video.width) if self.video.width and self.video.height else None
            return smoother, LineCounter(*parse_line(count_line, image_shape=shape))
        try:
            start, end = count_line
        except (TypeError, ValueError):
            raise InputError(f"DetectionStream: count_line must be a LineCounter, ((x1, y1), (x2, y2)) or "
                             f"'x1,y1,x2,y2'; got {count_line!r}") from None
        return smoother, LineCounter(start, end)

    def _make_tracker(self, tracker: Any) -> Any:
        if tracker is None:
            return None
        from vision.infer.track import Tracker

        if isinstance(tracker, str):
            return Tracker(tracker, frame_rate=self.video.fps or 30.0)
        if not callable(getattr(tracker, "update", None)):
            raise InputError(f"DetectionStream: tracker must be None, 'bytetrack', 'botsort' or a Tracker; "
                             f"got {type(tracker).__name__}")
        return tracker

    @property
    def fps(self) -> float | None:
        """The source's frame rate, or None when it does not say."""
        return self.video.fps

    def _annotate(self, image: np.ndarray, det: Any, latency: float | None, inference: float) -> np.ndarray:
        from vision.viz import annotate

        canvas = annotate(image, det)
        if self.counter is not None:
            self.counter.draw_into(canvas)
        if self.overlay:
            from vision.viz.annotate import draw_label

            fps = f"{self._fps_ema:.1f}" if self._fps_ema else "–"
            lat = f"{latency * 1000:.0f} ms" if latency is not None else "–"
            text = f"{fps} fps  latency {lat}  infer {inference * 1000:.0f} ms  {len(det)} obj"
            scale = max(0.4, min(canvas.shape[:2]) / 900)
            draw_label(canvas, text, 4, int(24 * scale / 0.5), (20, 20, 20), scale)
        return canvas

    def _record_shown(self, frame: Any) -> None:
        now = time.monotonic()
        if frame.captured:
            self._latency.append(now - frame.captured)
        if self._last_shown is not None and now > self._last_shown:
            rate = 1.0 / (now - self._last_shown)
            self._fps_ema = rate if self._fps_ema is None else 0.9 * self._fps_ema + 0.1 * rate
        self._last_shown = now

    def _read(self) -> Any:
        try:
            frame = self._reader.read()
        except VideoSourceError as exc:
            self.stats.ended, self.stats.error = "error", str(exc)
            raise
        if frame is not None and frame.captured:
            self._age.append(max(0.0, time.monotonic() - frame.captured))
        return frame

    def _detections(self) -> Iterator[tuple[Any, Any, float]]:
        """(frame, detections, predict seconds) in frame order until the source ends or ``max_frames``."""
        wanted = self.max_frames
        if self._lanes is None:
            while wanted is None or self.stats.frames < wanted:
                frame = self._read()
                if frame is None:
                    self.stats.ended = "end"
                    return
                det, seconds = _timed_predict(self.detector, frame.image)
                yield frame, det, seconds
            self.stats.ended = "max_frames"
            return
        started, ended = 0, False
        while True:  # keep every lane busy with the next frames; take the results oldest first
            while not ended and not self._lanes.full() and (wanted is None or started < wanted):
                frame = self._read()
                if frame is None:
                    ended = True
                    break
                self._lanes.start(frame)
                started += 1
            pair = self._lanes.next()
            if pair is None:
                self.stats.ended = "end" if ended else "max_frames"
                return
            frame, (det, seconds) = pair
            yield frame, det, seconds

    def __iter__(self) -> Iterator[StreamItem]:
        if self._closed:
            raise VisionError(f"DetectionStream on {self.stats.source} is closed; expected a new stream")
        from vision.infer.lanes import compute_threads, cores

        start = time.perf_counter()
        pending = None
        threads = self._torch_threads if self._lanes is None else (self._torch_threads or max(
            1, cores() // self._lanes.size))
        try:
            with compute_threads(threads) if threads is not None else contextlib.nullcontext():
                for frame, det, seconds in self._detections():
                    t0 = time.perf_counter()
                    crossings = counts = None
                    if self.tracker is not None:
                        det = self.tracker.update(det, frame.image)
                    if self.smoother is not None:
                        det = self.smoother.update(det)
                    if self.counter is not None:
                        crossings, counts = self.counter.update(det), self.counter.counts
                    inference = seconds + time.perf_counter() - t0
                    self._inference.append(inference)
                    latency = time.monotonic() - frame.captured if frame.captured else None
                    image = self._annotate(frame.image, det, latency, inference) if self.draw else frame.image
                    self.stats.frames += 1
                    pending = frame
                    yield StreamItem(frame=frame, detections=det, image=image, inference_s=inference,
                                     crossings=crossings, counts=counts)
                    self._record_shown(frame)  # the consumer asks for the next one: this one has been shown
                    pending = None
        except (KeyboardInterrupt, GeneratorExit) as exc:
            if isinstance(exc, KeyboardInterrupt):
                self.stats.ended = "interrupted"
            elif self.stats.ended == "end":
                self.stats.ended = "stopped"
            raise
        finally:
            if pending is not None:
                self._record_shown(pending)
            self.stats.seconds = time.perf_counter() - start
            self._finish_stats()

    def _finish_stats(self) -> None:
        self.stats.dropped = self.video.dropped
        self.stats.latency_ms = _percentiles(self._latency.values())
        self.stats.inference_ms = _percentiles(self._inference.values())
        self.stats.age_ms = _percentiles(self._age.values())
        if self.counter is not None:
            self.stats.counts = self.counter.counts

    def close(self) -> None:
        """Stop the capture (and decoder) threads and release the source; idempotent."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        if getattr(self, "_lanes", None) is not None:
            self._lanes.close()
        if self._reader is not self.video:
            self._reader.close()
        self.video.release()

    def __enter__(self) -> DetectionStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------------- outputs
def run_stream(source: Any, detector: Any, *, display: str = "none", record: Any = None, realtime: bool = False,
               tracker: Any = None, max_frames: int | None = None, reconnect: int = 3, host: str = "127.0.0.1",
               port: int = 8090, on_frame: Callable[[StreamItem], Any] | None = None,
               on_start: Callable[[dict[str, str]], Any] | None = None, lanes: int | None = None,
               smooth: int | None = None, count_line: Any = None) -> StreamStats:
    """Run detection on ``source`` until it ends (or ``max_frames``, q in the window, Ctrl-C); returns the stats.

    Args:
        source, detector, realtime, tracker, max_frames, reconnect, lanes, smooth, count_line: as
            :class:`DetectionStream` (``stats.counts`` holds the line counts).
        display: ``"window"`` (OpenCV), ``"http"`` (MJPEG on ``host:port``), ``"auto"`` (a window when OpenCV has
            a GUI and a display, else http) or ``"none"``.
        record: a video file to write the annotated frames to (:class:`~vision.io.VideoSink`; even sizes).
            With no display, no recording and no ``on_frame``, frames are not drawn at all.
        on_frame: called with each :class:`StreamItem` after it was shown; returning False stops the run.
        on_start: called once with the outputs (``{"url": ...}`` / ``{"window": ...}``) before the first frame.
    Returns:
        :class:`StreamStats`; a source lost mid-run gives ``ended == "error"`` and the message in ``error``,
        Ctrl-C gives ``ended == "interrupted"``. Every thread started here is joined before returning.
    Raises:
        SourceNotFoundError / VideoSourceError: the source cannot be opened. InputError: bad options.
        VisionError: the display cannot be opened (no GUI, port in use).
    """
    from vision.io import VideoSink

    draw = display != "none" or record is not None or on_frame is not None  # nobody sees frames: skip drawing
    stream = DetectionStream(source, detector, realtime=realtime, tracker=tracker, max_frames=max_frames,
                             reconnect=reconnect, draw=draw, lanes=lanes, smooth=smooth, count_line=count_line)
    out = sink = None
    try:
        out = open_display(display, host=host, port=port)
        if isinstance(out, MjpegServer):
            stream.stats.outputs["url"] = out.url
        elif isinstance(out, WindowOutput):
            stream.stats.outputs["window"] = out.title
        if record is not None:
            sink = VideoSink(record, fps=stream.fps or 30.0)
        if on_start is not None:
            on_start(dict(stream.stats.outputs))
        items = iter(stream)
        try:
            for item in items:
                image = item.image
                if sink is not None:
                    h, w = image.shape[:2]
                    sink.write(image[:h - h % 2, :w - w % 2])
                keep = out.show(image) if out is not None else True
                if on_frame is not None and on_frame(item) is False:
                    keep = False
                if not keep:
                    stream.stats.ended = "stopped"
                    break
        except KeyboardInterrupt:
            stream.stats.ended = "interrupted"
        except VideoSourceError as exc:
            if stream.stats.ended != "error":
                raise
            logger.warning("%s", exc)
        finally:
            items.close()  # type: ignore[attr-defined]
        if sink is not None:
            saved = sink.close()
            if saved is not None:
                stream.stats.outputs["recording"] = str(saved)
        return stream.stats
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        if out is not None:
            out.close()
        stream.close()
