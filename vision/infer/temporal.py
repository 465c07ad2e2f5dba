"""Detections over time: smoothing tracked boxes and counting objects that cross a line.

Both work on *tracked* :class:`~vision.types.Detections` (``track_ids`` set, e.g. by
:class:`~vision.infer.track.Tracker`) and use the maintained implementations of ``supervision``:

* :class:`Smoother` — ``supervision.DetectionsSmoother``: each track's box and score become the mean over its last
  ``length`` frames. This takes out the frame-to-frame jitter of a detector (HOG boxes jump by several pixels) at
  the price of lag: a box moving at constant speed trails the object by ``(length - 1) / 2`` frames.
* :class:`LineCounter` — ``supervision.LineZone``: counts tracks whose anchor point (default the bottom centre of
  the box, where a walker's feet are) moves from one side of a segment to the other.

**Direction.** ``in`` and ``out`` follow supervision's convention: walking along the line from ``start`` to ``end``
on the image (a map seen from above, y down), ``in`` is crossing onto the walker's *left*-hand side and ``out`` back
onto the right. So for a line drawn top → bottom, moving left → right is ``in``; for a line drawn left → right,
moving bottom → top is ``in``. Swap ``start`` and ``end`` to swap them. The arrow :meth:`LineCounter.draw` puts
on the line points in the ``in`` direction.

supervision is an optional dependency (``pip install "vision[track]"``), imported on first use.

Example:
    >>> from vision.infer.temporal import LineCounter, Smoother              # doctest: +SKIP
    >>> smoother, counter = Smoother(length=5), LineCounter((384, 0), (384, 576))  # doctest: +SKIP
    >>> for frame in frames:                                                   # doctest: +SKIP
    ...     tracked = smoother.update(tracker.update(detector.predict(frame), frame))
    ...     counter.update(tracked)
    >>> counter.counts                                                         # doctest: +SKIP
    {'in': 3, 'out': 2}
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from vision.errors import InputError, MissingDependencyError
from vision.types import Detections

__all__ = ["ANCHORS", "LINE_COLOR", "Crossings", "LineCounter", "Smoother", "parse_line"]

#: anchor names accepted by :class:`LineCounter` (supervision's ``Position``, lower case)
ANCHORS: tuple[str, ...] = ("bottom_center", "center", "top_center", "center_left", "center_right", "top_left",
                            "top_right", "bottom_left", "bottom_right")
#: RGB colour of the counting line and its label box (magenta: no track colour of the palette, rare in scenes)
LINE_COLOR: tuple[int, int, int] = (255, 0, 255)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _supervision() -> Any:
    try:
        import supervision
    except ImportError as exc:
        raise MissingDependencyError(
            "smoothing and line counting need the optional package supervision, which is not installed; expected it "
            "with the tracking extras: pip install \"vision[track]\" (or supervision>=0.31)") from exc
    return supervision


def _check_tracked(detections: Any, who: str) -> Detections:
    if not isinstance(detections, Detections):
        raise InputError(f"{who}: expected Detections, got {type(detections).__name__}")
    if detections.track_ids is None:
        raise InputError(f"{who}: expected tracked Detections (track_ids set), got {len(detections)} detections "
                         "without track ids; track them first (Tracker('bytetrack').update or "
                         "DetectionStream(tracker='bytetrack'))")
    return detections


def _to_sv(detections: Detections, rows: np.ndarray | None = None) -> Any:
    """Our :class:`Detections` (or some ``rows``) as ``supervision.Detections`` (boxes, scores, classes, ids)."""
    sv = _supervision()
    d = detections
    keep = np.arange(len(d)) if rows is None else rows
    labels = np.array([d.labels[i] for i in keep], dtype=object) if len(keep) else np.zeros(0, dtype=object)
    return sv.Detections(xyxy=d.xyxy[keep].astype(np.float64), confidence=d.scores[keep].astype(np.float64),
                         class_id=d.class_ids[keep].astype(int), tracker_id=d.track_ids[keep].astype(int),
                         data={"class_name": labels})


class Smoother:
    """Average each track's box and score over its last ``length`` frames (``supervision.DetectionsSmoother``).

    Detections keep their order, ids, classes, names and masks; only ``xyxy`` and ``scores`` change. Rows with a
    negative track id (not tracked) pass through unchanged. A track that disappears keeps its history for
    ``length`` frames, so a short drop-out does not restart its average.

    Args:
        length: frames in the window (≥ 1; 1 changes nothing). Longer is smoother and lags more.
    Raises:
        InputError: a bad ``length``.
        MissingDependencyError: supervision is not installed.
    Example:
        >>> s = Smoother(length=2)                                                  # doctest: +SKIP
        >>> _ = s.update(Detections([[0, 0, 10, 10]], [0.5], [0], track_ids=[1]))  # doctest: +SKIP
        >>> s.update(Detections([[2, 2, 12, 12]], [0.7], [0], track_ids=[1])).xyxy # doctest: +SKIP
        array([[ 1.,  1., 11., 11.]], dtype=float32)
    """

    def __init__(self, length: int = 5) -> None:
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise InputError(f"Smoother: length must be an integer ≥ 1 (frames); got {length!r}")
        self.length = length
        self._smoother = _supervision().DetectionsSmoother(length=length)

    def update(self, detections: Detections) -> Detections:
        """Add one frame's tracked detections; returns them with smoothed boxes and scores.

        Raises:
            InputError: not Detections, no ``track_ids``, or one track id twice in the frame.
        """
        d = _check_tracked(detections, "Smoother.update")
        ids = d.track_ids
        tracked = np.flatnonzero(ids >= 0)
        unique, counts = np.unique(ids[tracked], return_counts=True)
        if np.any(counts > 1):
            raise InputError(f"Smoother.update: expected each track id at most once per frame, got id "
                             f"{int(unique[counts > 1][0])} {int(counts.max())} times")
        smoothed = self._smoother.update_with_detections(_to_sv(d, tracked))
        xyxy, scores = d.xyxy.copy(), d.scores.copy()
        if len(smoothed):
            where = {int(t): i for i, t in enumerate(ids)}
            rows = np.array([where[int(t)] for t in smoothed.tracker_id], dtype=np.int64)
            xyxy[rows] = smoothed.xyxy
            if smoothed.confidence is not None:
                scores[rows] = smoothed.confidence
        return Detections(xyxy, scores, d.class_ids, names=d.names, masks=d.masks, track_ids=ids,
                          image_shape=d.image_shape)

    def reset(self) -> None:
        """Forget every track's history."""
        self._smoother.reset()

    def __repr__(self) -> str:
        return f"Smoother(length={self.length})"


class Crossings(NamedTuple):
    """What crossed the line in one frame: boolean arrays aligned with that frame's detections."""

    inward: np.ndarray
    outward: np.ndarray

    @property
    def count(self) -> int:
        """Crossings (either way) in this frame."""
        return int(self.inward.sum() + self.outward.sum())


def _point(value: Any, who: str, name: str) -> tuple[float, float]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{who}: {name} must be a point (x, y) in pixels; got {value!r}") from None
    if arr.shape != (2,):
        raise InputError(f"{who}: {name} must be a point (x, y) in pixels; got shape {arr.shape} ({value!r})")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{who}: {name} must have finite coordinates; got {value!r}")
    return float(arr[0]), float(arr[1])


class LineCounter:
    """Count tracked objects crossing the segment ``start`` → ``end`` (``supervision.LineZone``).

    An object counts when its anchor point goes from one side of the line to the other within the segment's
    extent (between the perpendiculars through its ends) and stays there ``min_frames`` consecutive frames; an
    object that only touches the line and turns back does not count, and each crossing back counts the other way.
    Direction: see the module docstring (line drawn top → bottom: left → right is ``in``).

    Args:
        start, end: the line's end points ``(x, y)`` in pixels.
        anchor: the box point that must cross: one of :data:`ANCHORS` (default ``bottom_center``: the feet of a
            walker), or a sequence of them (then *all* must be across, and a box straddling the line waits).
        min_frames: frames the anchor must stay on the new side before the crossing counts (≥ 1; raise it
            against jittery boxes near the line).
    Raises:
        InputError: a point that is not two finite numbers, a zero-length line, an unknown anchor, bad min_frames.
        MissingDependencyError: supervision is not installed.
    """

    def __init__(self, start: Sequence[float], end: Sequence[float], *, anchor: str | Sequence[str] = "bottom_center",
                 min_frames: int = 1) -> None:
        who = "LineCounter"
        self.start, self.end = _point(start, who, "start"), _point(end, who, "end")
        if math.dist(self.start, self.end) < 1e-6:
            raise InputError(f"{who}: start and end must differ (a line needs a length); got both {self.start}")
        names = (anchor,) if isinstance(anchor, str) else tuple(anchor) if isinstance(anchor, Sequence) else None
        if not names or any(not isinstance(a, str) or a.lower() not in ANCHORS for a in names):
            raise InputError(f"{who}: anchor must be one of {list(ANCHORS)} or a non-empty sequence of them; "
                             f"got {anchor!r}")
        if isinstance(min_frames, bool) or not isinstance(min_frames, int) or min_frames < 1:
            raise InputError(f"{who}: min_frames must be an integer ≥ 1; got {min_frames!r}")
        self.anchor = tuple(a.lower() for a in names)
        self.min_frames = min_frames
        self._zone = self._new_zone()
        self._names: dict[int, str] = {}

    def _new_zone(self) -> Any:
        sv = _supervision()
        return sv.LineZone(start=sv.Point(*self.start), end=sv.Point(*self.end),
                           triggering_anchors=[sv.Position[a.upper()] for a in self.anchor],
                           minimum_crossing_threshold=self.min_frames)

    def update(self, detections: Detections) -> Crossings:
        """Feed one frame's tracked detections; returns which of them crossed in / out in this frame.

        Rows with a negative track id are ignored. Call it on every frame, also on frames without detections: a
        track absent for a few frames is forgotten.
        Raises:
            InputError: not Detections, or no ``track_ids``.
        """
        d = _check_tracked(detections, "LineCounter.update")
        self._names.update({int(c): d.labels[i] for i, c in enumerate(d.class_ids)})
        inward, outward = self._zone.trigger(_to_sv(d))
        return Crossings(np.asarray(inward, bool), np.asarray(outward, bool))

    @property
    def in_count(self) -> int:
        """Objects that crossed in so far."""
        return int(self._zone.in_count)

    @property
    def out_count(self) -> int:
        """Objects that crossed out so far."""
        return int(self._zone.out_count)

    @property
    def counts(self) -> dict[str, int]:
        """``{"in": in_count, "out": out_count}``."""
        return {"in": self.in_count, "out": self.out_count}

    @property
    def class_counts(self) -> dict[str, dict[str, int]]:
        """Counts per class name: ``{"person": {"in": 3, "out": 2}}``."""
        out: dict[str, dict[str, int]] = {}
        for key, per_class in (("in", self._zone.in_count_per_class), ("out", self._zone.out_count_per_class)):
            for cid, n in per_class.items():
                name = self._names.get(int(cid), str(cid)) if cid is not None else "object"
                out.setdefault(name, {"in": 0, "out": 0})[key] += int(n)
        return out

    def draw(self, image: np.ndarray) -> np.ndarray:
        """A copy of ``image`` (``H×W×3`` uint8 RGB) with the line, an arrow pointing ``in`` and the counts.

        Drawn with OpenCV rather than supervision's ``LineZoneAnnotator``, whose count boxes sit on the middle of
        the line (over the objects being counted) and which expects BGR frames.
        Raises:
            ShapeError / DTypeError: not an ``H×W×3`` uint8 image.
        """
        from vision.classic.validate import check_image

        canvas = np.array(check_image(image, name="LineCounter.draw", gray_ok=False), copy=True)
        self.draw_into(canvas)
        return canvas

    def draw_into(self, canvas: np.ndarray) -> None:
        """Draw on ``canvas`` (``H×W×3`` uint8 RGB) in place; what :meth:`draw` and the stream use."""
        import cv2

        from vision.viz.annotate import draw_label

        h, w = canvas.shape[:2]
        thick = max(2, round(min(h, w) / 200))
        p0 = tuple(int(round(v)) for v in self.start)
        p1 = tuple(int(round(v)) for v in self.end)
        cv2.line(canvas, p0, p1, LINE_COLOR, thick, cv2.LINE_AA)
        for p in (p0, p1):
            cv2.circle(canvas, p, thick + 2, LINE_COLOR, -1, cv2.LINE_AA)
        # the arrow: from the middle of the line towards the ``in`` side (the walker's left: (dy, -dx) on screen)
        (x0, y0), (x1, y1) = self.start, self.end
        length = math.dist(self.start, self.end)
        nx, ny = (y1 - y0) / length, -(x1 - x0) / length
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        reach = max(12.0, min(h, w) / 16)
        tip = (int(round(mx + nx * reach)), int(round(my + ny * reach)))
        cv2.arrowedLine(canvas, (int(round(mx)), int(round(my))), tip, LINE_COLOR, thick, cv2.LINE_AA,
                        tipLength=0.35)
        scale = max(0.4, min(h, w) / 900)
        # the counts beside the end point lower in the image (the top-left corner holds the stream's FPS line),
        # on the ``in`` side of the line
        text = f"in {self.in_count}  out {self.out_count}"
        (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, round(scale * 2)))
        ex, ey = max((self.start, self.end), key=lambda p: (p[1], p[0]))
        x = ex + thick * 3 if nx >= 0 else ex - thick * 3 - tw - 4
        draw_label(canvas, text, int(round(x)), int(round(min(ey, h - 4))), LINE_COLOR, scale)

    def reset(self) -> None:
        """Zero the counts and forget every track (same line and options)."""
        self._zone = self._new_zone()
        self._names.clear()

    def __repr__(self) -> str:
        anchor = self.anchor[0] if len(self.anchor) == 1 else self.anchor
        return (f"LineCounter(start={self.start}, end={self.end}, anchor={anchor!r}, in={self.in_count}, "
                f"out={self.out_count})")


def parse_line(text: str, *, image_shape: tuple[int, int] | None = None) -> tuple[tuple[float, float],
                                                                                  tuple[float, float]]:
    """``"x1,y1,x2,y2"`` → ``((x1, y1), (x2, y2))`` in pixels (what ``--count-line`` takes).

    Two forms, told apart by the decimal point:

    * **pixels** — four numbers without a decimal point: ``"384,0,384,576"``.
    * **fractions of the frame** — any number written with a decimal point makes all four fractions of the
      width (x) and height (y), each in [0, 1]: ``"0.5,0,0.5,1"`` is a vertical line through the middle (on a
      768×576 frame, ``(384, 0) → (384, 576)``). They need ``image_shape`` to become pixels.

    Args:
        text: four comma-separated numbers (spaces allowed).
        image_shape: ``(height, width)`` of the frames; needed only for fractions.
    Raises:
        InputError: not four numbers, fractions outside [0, 1], fractions without ``image_shape``, or a
            zero-length line.
    Example:
        >>> parse_line("0.5,0,0.5,1", image_shape=(576, 768))
        ((384.0, 0.0), (384.0, 576.0))
    """
    if not isinstance(text, str):
        raise InputError(f"count line: expected text 'x1,y1,x2,y2', got {type(text).__name__}")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(_NUMBER.match(p) for p in parts):
        raise InputError(f"count line: expected four numbers 'x1,y1,x2,y2' (pixels, e.g. 384,0,384,576, or "
                         f"fractions of the frame with a decimal point, e.g. 0.5,0,0.5,1); got {text!r}")
    values = [float(p) for p in parts]
    if any("." in p for p in parts):
        if any(not 0.0 <= v <= 1.0 for v in values):
            raise InputError(f"count line: numbers with a decimal point are fractions of the frame and must lie in "
                             f"[0, 1]; got {text!r} (write pixels without a decimal point)")
        if image_shape is None:
            raise InputError(f"count line: {text!r} is in fractions of the frame; expected image_shape "
                             "(height, width) to turn it into pixels")
        h, w = (float(v) for v in tuple(image_shape)[:2])
        values = [values[0] * w, values[1] * h, values[2] * w, values[3] * h]
    start, end = (values[0], values[1]), (values[2], values[3])
    if start == end:
        raise InputError(f"count line: start and end must differ (a line needs a length); got {text!r}")
    return start, end

