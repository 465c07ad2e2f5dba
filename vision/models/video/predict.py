"""A video file (or a frame sequence) → one label per clip: :func:`classify_video` and its result,
:class:`VideoLabels`, with a timeline figure (:func:`plot_timeline`).

The video is read once (:class:`vision.io.VideoSource`); every frame is resized on its own to the model's
``frame_size`` (so a file whose frame size changes midway is read as it is), cut into clips of the model's
``clip_length`` every ``stride`` frames, and classified in batches. Only the small frames are kept (3 KB each at
32 px) plus one thumbnail per clip for the timeline.

Example:
    >>> from vision.models import create_model                                  # doctest: +SKIP
    >>> from vision.models.video import classify_video, plot_timeline           # doctest: +SKIP
    >>> labels = classify_video(create_model("video-cnn-lstm"), "actions.avi")   # doctest: +SKIP
    >>> plot_timeline(labels, path="timeline.png")                              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError, ShapeError
from vision.models.config import positive_int

__all__ = ["VideoLabels", "classify_video", "plot_timeline"]

#: thumbnails of the timeline are this many pixels high
THUMB_HEIGHT = 72


@dataclass(frozen=True)
class VideoLabels:
    """Per-clip labels of one video.

    Attributes:
        source: the file (or ``"frames"``). classes: the class names.
        starts: N first-frame indices of the clips. length: frames per clip.
        labels: N class ids. probs: N×classes probabilities.
        fps: the file's frame rate, or None when it reports none (times are then unknown; frame numbers are not).
        frames: frames read. thumbnails: N×h×w×3 uint8, the middle frame of each clip (for the timeline).
    """

    source: str
    classes: tuple[str, ...]
    starts: np.ndarray
    length: int
    labels: np.ndarray
    probs: np.ndarray
    fps: float | None
    frames: int
    thumbnails: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def names(self) -> list[str]:
        """The predicted action of each clip."""
        return [self.classes[int(i)] for i in self.labels]

    def seconds(self, frame: float) -> float | None:
        """The time of ``frame`` in seconds, or None without a frame rate."""
        return None if not self.fps else float(frame) / self.fps

    def segments(self) -> list[dict[str, Any]]:
        """Runs of consecutive clips with the same label: ``{"start", "end" (frames, end exclusive), "label",
        "score" (mean probability of the label), "clips"}``."""
        out: list[dict[str, Any]] = []
        for i, (start, label) in enumerate(zip(self.starts.tolist(), self.labels.tolist())):
            p = float(self.probs[i, label])
            if out and out[-1]["label"] == self.classes[label] and start <= out[-1]["end"]:
                seg = out[-1]
                seg["end"], seg["clips"], seg["score"] = start + self.length, seg["clips"] + 1, seg["score"] + p
            else:
                out.append({"start": start, "end": start + self.length, "label": self.classes[label], "score": p,
                            "clips": 1})
        for seg in out:
            seg["score"] = round(seg["score"] / seg["clips"], 4)
        return out

    def records(self) -> Iterator[dict[str, Any]]:
        """One JSON-able dict a clip: start / end frame, start / end seconds (None without fps), label, score and
        the probability of every class."""
        for i, start in enumerate(self.starts.tolist()):
            label = int(self.labels[i])
            t0, t1 = self.seconds(start), self.seconds(start + self.length)
            yield {"clip": i, "start_frame": start, "end_frame": start + self.length,
                   "start_s": None if t0 is None else round(t0, 3), "end_s": None if t1 is None else round(t1, 3),
                   "label": self.classes[label], "score": round(float(self.probs[i, label]), 4),
                   "probs": {c: round(float(p), 4) for c, p in zip(self.classes, self.probs[i])}}


def _frames_of(source: Any) -> tuple[str, Iterable[np.ndarray], float | None, Any]:
    """(name, frame iterator, fps, closer) of a path / VideoSource / T×H×W×3 array / list of frames."""
    if isinstance(source, np.ndarray):
        if source.ndim != 4 or source.shape[-1] != 3 or 0 in source.shape:
            raise ShapeError(f"classify_video: expected T×H×W×3 RGB frames; got an array of shape {source.shape}")
        return "frames", iter(source), None, None
    if isinstance(source, (list, tuple)):
        return "frames", iter(source), None, None
    from vision.io import VideoSource

    video = source if isinstance(source, VideoSource) else VideoSource(source)
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else video.name
    return name, (frame.image for frame in video), (video.fps or None), video


def _small(frame: Any, side: int, index: int, thumb: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(the model's side×side frame, a THUMB_HEIGHT-high thumbnail when ``thumb`` else None) of one uint8 RGB
    frame."""
    import cv2

    from vision.errors import DTypeError

    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or 0 in frame.shape:
        got = frame.shape if isinstance(frame, np.ndarray) else type(frame).__name__
        raise ShapeError(f"classify_video: frame {index} is {got}; expected H×W×3 RGB")
    if frame.dtype != np.uint8:
        raise DTypeError(f"classify_video: frame {index} is {frame.dtype}; expected uint8")
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (side, side), interpolation=cv2.INTER_AREA if h * w > side * side else cv2.INTER_LINEAR)
    if not thumb:
        return small, None
    thumb_w = max(1, round(w * THUMB_HEIGHT / h))
    thumb_interp = cv2.INTER_AREA if h > THUMB_HEIGHT else cv2.INTER_NEAREST  # tiny synthetic frames stay crisp
    return small, cv2.resize(frame, (thumb_w, THUMB_HEIGHT), interpolation=thumb_interp)


def classify_video(model: Any, source: Any, *, stride: int | None = None, batch_size: int = 64,
                   max_frames: int | None = None) -> VideoLabels:
    """Label every clip of a video with a clip classifier (:class:`~vision.models.video.classify.VideoClassifier`).

    Args:
        model: the classifier; its config's ``clip_length`` and ``frame_size`` set how the video is cut.
        source: a video file, a :class:`vision.io.VideoSource`, or frames (a T×H×W×3 uint8 array or a list).
        stride: frames from one clip's start to the next (default ``clip_length // 2``: half-overlapping clips).
            Trailing frames that do not fill a clip are not labelled.
        batch_size: clips per forward pass. max_frames: read at most this many frames (None: all).

    Returns:
        A :class:`VideoLabels`.

    Raises:
        SourceNotFoundError / VideoSourceError: the file is missing or cannot be opened.
        ShapeError: fewer frames than one clip, or frames that are not H×W×3. DTypeError: frames not uint8.
        InputError: bad options, or ``model`` is not a clip classifier.
    """
    cfg = getattr(model, "config", None)
    if not (hasattr(cfg, "clip_length") and hasattr(cfg, "frame_size") and hasattr(model, "predict")):
        raise InputError(f"classify_video: expected a clip classifier (a VideoClassifier, with config.clip_length "
                         f"and config.frame_size); got {type(model).__name__}")
    length, side = cfg.clip_length, cfg.frame_size
    stride = max(1, length // 2) if stride is None else positive_int("classify_video", "stride", stride)
    positive_int("classify_video", "batch_size", batch_size)
    if max_frames is not None:
        positive_int("classify_video", "max_frames", max_frames)
    name, frames, fps, closer = _frames_of(source)
    small: list[np.ndarray] = []
    thumbs: dict[int, np.ndarray] = {}  # only the clips' middle frames: a long video's thumbnails would not fit
    middle = length // 2
    try:
        for i, frame in enumerate(frames):
            if max_frames is not None and i >= max_frames:
                break
            s, t = _small(frame, side, i, i >= middle and (i - middle) % stride == 0)
            small.append(s)
            if t is not None:
                thumbs[i] = t
    finally:
        if closer is not None and closer is not source:
            closer.release()
    if len(small) < length:
        raise ShapeError(f"classify_video: {name} has {len(small)} frames; expected at least one clip of "
                         f"{length} frames (the model's clip_length)")
    stack = np.stack(small)
    starts = np.arange(0, len(stack) - length + 1, stride)
    probs = []
    for i in range(0, len(starts), batch_size):
        clips = np.stack([stack[s:s + length] for s in starts[i:i + batch_size]])
        probs.append(model.predict(clips, batch_size=batch_size).probs)
    p = np.concatenate(probs)
    shown = [thumbs[s + middle] for s in starts]
    widest = max(t.shape[1] for t in shown)
    thumbnails = np.stack([np.pad(t, ((0, 0), (0, widest - t.shape[1]), (0, 0))) for t in shown])
    return VideoLabels(source=name, classes=model.classes, starts=starts, length=length, labels=p.argmax(1),
                       probs=p, fps=fps, frames=len(small), thumbnails=thumbnails)


def plot_timeline(result: VideoLabels, *, truth: Any = None, path: str | os.PathLike[str] | None = None,
                  max_thumbnails: int = 12, title: str | None = None) -> Any:
    """A timeline figure of :func:`classify_video`'s result: clip thumbnails, one coloured band of predicted labels
    (and, given ``truth`` — one class id a frame — a band of true labels beneath), and each class's probability
    over time. Returns the matplotlib ``Figure``; writes a PNG when ``path`` is given.

    Raises:
        InputError: ``result`` is not a VideoLabels, or ``truth`` is not one class id (of ``result.classes``) a
            frame.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from vision.metrics.plots import save_figure

    if not isinstance(result, VideoLabels):
        raise InputError(f"plot_timeline: expected VideoLabels (from classify_video); got {type(result).__name__}")
    if truth is not None:
        truth = np.asarray(truth)
        if truth.ndim != 1 or len(truth) < result.frames or not np.issubdtype(truth.dtype, np.integer):
            raise InputError(f"plot_timeline: truth must be one class id a frame ({result.frames}); got shape "
                             f"{truth.shape} {truth.dtype}")
        lo, hi = int(truth[:result.frames].min()), int(truth[:result.frames].max())
        if lo < 0 or hi >= len(result.classes):
            raise InputError(f"plot_timeline: truth holds class ids {lo} … {hi}; expected ids in 0 … "
                             f"{len(result.classes) - 1} ({len(result.classes)} classes)")
    x_scale = 1.0 / result.fps if result.fps else 1.0
    unit = "seconds" if result.fps else "frame"
    end = result.frames * x_scale
    colors = [_tab_color(i) for i in range(len(result.classes))]
    fig = Figure(figsize=(11, 5.2), dpi=100)
    grid = fig.add_gridspec(3, 1, height_ratios=[1.3, 0.6 if truth is None else 1.0, 1.6], hspace=0.35)
    ax_img, ax_band, ax_prob = (fig.add_subplot(grid[i]) for i in range(3))
    step = max(1, int(np.ceil(len(result) / max_thumbnails)))
    picks = list(range(0, len(result), step))
    strip = np.concatenate([np.pad(result.thumbnails[i], ((4, 4), (2, 2), (0, 0)),
                                   constant_values=255) for i in picks], axis=1)
    for k, i in enumerate(picks):  # a coloured edge under each thumbnail: its clip's label
        w = strip.shape[1] // len(picks)
        strip[-4:, k * w:(k + 1) * w] = np.array(colors[int(result.labels[i])]) * 255
    ax_img.imshow(strip)
    ax_img.set_axis_off()
    ax_img.set_title(title or f"{Path(result.source).name}: {len(result)} clips of {result.length} frames",
                     fontsize=11)
    rows = [("predicted", [(int(s), int(s) + result.length, int(c)) for s, c in zip(result.starts, result.labels)])]
    if truth is not None:
        runs, start = [], 0
        for f in range(1, result.frames + 1):
            if f == result.frames or truth[f] != truth[start]:
                runs.append((start, f, int(truth[start])))
                start = f
        rows.append(("truth", runs))
    for r, (_, runs) in enumerate(rows):
        for s, e, c in runs:
            ax_band.axvspan(s * x_scale, e * x_scale, ymin=1 - (r + 1) / len(rows), ymax=1 - r / len(rows),
                            color=colors[c], linewidth=0)
    ax_band.set_xlim(0, end)
    ax_band.set_yticks([1 - (r + 0.5) / len(rows) for r in range(len(rows))], [n for n, _ in rows])
    ax_band.set_ylim(0, 1)
    ax_band.tick_params(labelbottom=False)
    centres = (result.starts + result.length / 2) * x_scale
    for c, name in enumerate(result.classes):
        ax_prob.plot(centres, result.probs[:, c], color=colors[c], linewidth=1.6, label=name)
    ax_prob.set_xlim(0, end)
    ax_prob.set_ylim(0, 1.02)
    ax_prob.set_xlabel(unit)
    ax_prob.set_ylabel("probability")
    ax_prob.grid(alpha=0.3)
    handles = [Patch(color=colors[c], label=n) for c, n in enumerate(result.classes)]
    fig.legend(handles=handles, loc="lower center", ncol=min(8, len(handles)), fontsize=9, frameon=False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.17)
    if path is not None:
        save_figure(fig, path)
    return fig


def _tab_color(i: int) -> tuple[float, float, float]:
    """The i-th colour of matplotlib's ``tab10`` (then ``tab20``) palette."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if i < 10 else "tab20"]
    return tuple(cmap(i % cmap.N)[:3])  # type: ignore[return-value]
