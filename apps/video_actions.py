"""The Video page's action-timeline mode: a clip classifier (``video-cnn-lstm``) over the sample action video or an
upload → a labelled timeline, the segments, the per-clip JSON lines and, for the sample, the accuracy against its
true labels.

Widgets only: cutting the video into clips, classifying them and drawing the timeline are
:func:`vision.models.video.predict.classify_video` and :func:`~vision.models.video.predict.plot_timeline`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from vision.errors import VisionError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ACTIONS_KEY", "SAMPLE", "UPLOAD", "action_mode", "uploaded_file"]

SAMPLE, UPLOAD = "Sample action video", "Upload a video"
VIDEO_TYPES = ("mp4", "m4v", "mov", "avi", "mkv", "webm")
MODEL = "video-cnn-lstm"
#: session-state key of the last labelled video
ACTIONS_KEY = "video.actions.result"
SAMPLE_SEED = 0


@contextlib.contextmanager
def uploaded_file(data: bytes, name: str) -> Iterator[str]:
    """An upload written under its own name to a temporary folder (deleted afterwards), for readers that take a path.

    The library's errors name the file they were given; the temporary folder means nothing to the user, so a
    :class:`VisionError` raised inside is raised again (same type) with the folder left out of its message.
    """
    with tempfile.TemporaryDirectory(prefix="vision_app_upload_") as folder:
        target = Path(folder) / (Path(name).name or "upload")
        target.write_bytes(data)
        try:
            yield str(target)
        except VisionError as exc:
            message = str(exc)
            if str(target) not in message:
                raise
            raise type(exc)(message.replace(str(target), target.name)) from exc


@st.cache_resource(show_spinner="Loading the action classifier…")
def action_model():
    """``video-cnn-lstm`` with its shipped weights (6 actions), once per server."""
    from vision.models import create_model

    return create_model(MODEL)


@st.cache_resource(show_spinner="Making the sample action video…")
def sample_video(seed: int = SAMPLE_SEED) -> tuple[str, np.ndarray]:
    """The sample: every action of the classifier in turn, two 8-frame clips each, written once per server as
    MJPG .avi (:func:`vision.data.action_videos.write_action_video`); returns (path, true class id of each frame)."""
    from vision.data.action_videos import make_action_sequence, write_action_video

    model = action_model()
    seq = make_action_sequence(model.classes, classes=model.classes, clips_per_action=2, seed=seed)
    path = Path(tempfile.mkdtemp(prefix="vision_app_actions_")) / "sample_actions.avi"
    write_action_video(path, seq)
    return str(path), seq.labels


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def label_video(path: str, *, stride: int, max_frames: int | None, truth: np.ndarray | None, title: str) -> dict:
    """:func:`classify_video` on ``path`` and its timeline as PNG bytes (with the truth band when ``truth`` is given).

    Raises:
        VideoSourceError / SourceNotFoundError / ShapeError: the file is not a video, or is shorter than one clip.
    """
    from vision.models.video.predict import classify_video, plot_timeline

    model = action_model()
    start = time.perf_counter()
    labels = classify_video(model, path, stride=stride, max_frames=max_frames)
    seconds = time.perf_counter() - start
    timeline = _png(plot_timeline(labels, truth=truth, title=f"{title}: {len(labels)} clips of {labels.length} "
                                                             f"frames, one every {stride}"))
    return {"labels": labels, "timeline": timeline, "seconds": seconds, "truth": truth, "title": title,
            "stride": stride}


def segments_table(labels) -> "pd.DataFrame":
    """The runs of equal labels as a DataFrame: frames, seconds (when the file has a frame rate), label, score."""
    import pandas as pd

    rows = []
    for seg in labels.segments():
        row = {"start frame": seg["start"], "end frame": seg["end"]}
        if labels.fps:
            row |= {"start (s)": round(labels.seconds(seg["start"]), 2), "end (s)": round(labels.seconds(seg["end"]), 2)}
        rows.append(row | {"label": seg["label"], "score": seg["score"], "clips": seg["clips"]})
    return pd.DataFrame(rows)


def accuracy_table(labels, truth: np.ndarray) -> tuple[int, int, "pd.DataFrame"]:
    """(clips correct, clips, per-action DataFrame) of the predictions against ``truth`` (one class id a frame);
    a clip's true action is that of its middle frame (the sample's clips are cut on its action boundaries)."""
    import pandas as pd

    from vision.metrics.classification import classification_report

    wanted = truth[labels.starts + labels.length // 2]
    report = classification_report(wanted, labels.labels, num_classes=len(labels.classes), average=None)
    rows = [{"action": name, "clips": int(report.support_per_class[c]), "correct": int(report.tp[c]),
             "accuracy": f"{100 * report.recall_per_class[c]:.0f}%"}
            for c, name in enumerate(labels.classes) if report.support_per_class[c]]
    return int(report.tp.sum()), len(wanted), pd.DataFrame(rows)


def action_mode() -> None:
    """The mode's widgets: pick the sample or an upload, label it, show the result (kept in the session)."""
    with st.sidebar:
        st.header("Action classifier")
        st.caption(f"{MODEL}: a small CNN per frame + an LSTM over the clip, trained on synthetic action clips.")
    try:
        model = action_model()
    except VisionError as exc:
        st.error(f"Could not load {MODEL}: {exc}")
        return
    length = model.config.clip_length
    st.markdown(f"**{MODEL}** labels every clip of {length} frames with one of: "
                f"{', '.join(model.classes)} — a moving shape's direction, or a shape appearing or disappearing.")
    source = st.radio("Video", (SAMPLE, UPLOAD), horizontal=True, key="video.actions.source")
    if source == SAMPLE:
        try:
            path, truth = sample_video()
        except VisionError as exc:
            st.error(f"Could not make the sample video: {exc}")
            return
        st.caption(f"Each action for two clips of {length} frames; clips are cut every {length} frames, on the "
                   "sample's action boundaries. The truth band under the prediction shows the true actions.")
        data, name, stride, max_frames = None, "sample action video", length, None
    else:
        uploaded = st.file_uploader("Video file", type=list(VIDEO_TYPES), key="video.actions.upload",
                                    help=f"{', '.join(VIDEO_TYPES)}; read with OpenCV.")
        a, b = st.columns(2)
        stride = a.slider("New clip every n frames (stride)", 1, 4 * length, max(1, length // 2),
                          key="video.actions.stride", help=f"{length} = clips side by side; less = overlapping.")
        max_frames = b.slider("Frames to read", 16, 3000, 600, step=16, key="video.actions.max_frames")
        if uploaded is None:
            st.info("Choose a video file to label its clips.")
            return
        path, truth, data, name = None, None, uploaded.getvalue(), uploaded.name
    which = path if path is not None else f"{name}:{hashlib.sha1(data).hexdigest()}"
    signature = (which, stride, max_frames)
    shown = st.session_state.get(ACTIONS_KEY)
    if shown is None or shown["signature"] != signature:
        st.session_state.pop(ACTIONS_KEY, None)
        try:
            with st.spinner(f"Labelling the clips of {name}…"):
                if path is not None:
                    result = label_video(path, stride=stride, max_frames=max_frames, truth=truth, title=name)
                else:
                    with uploaded_file(data, name) as target:
                        result = label_video(target, stride=stride, max_frames=max_frames, truth=None, title=name)
        except VisionError as exc:
            st.error(f"Could not use the video: {exc}")
            return
        shown = {"signature": signature, **result}
        st.session_state[ACTIONS_KEY] = shown
    show_actions(shown)


def show_actions(r: dict) -> None:
    labels, truth = r["labels"], r["truth"]
    segments = labels.segments()
    cols = st.columns(4)
    cols[0].metric("Clips", len(labels), help=f"{labels.length} frames each, one every {r['stride']} frames.")
    cols[1].metric("Segments", len(segments), help="Runs of consecutive clips with the same label.")
    cols[2].metric("Clips per second", f"{len(labels) / r['seconds']:.0f}" if r["seconds"] > 0 else "–",
                   help="Decoding, resizing and classifying, end to end.")
    if truth is not None:
        correct, total, per_action = accuracy_table(labels, truth)
        cols[3].metric("Clips correct", f"{correct}/{total}", help="Against the sample's true actions.")
    st.image(r["timeline"], caption=f"{r['title']}: thumbnails, predicted actions"
             + (" over the true ones" if truth is not None else "") + ", and each action's probability",
             width="stretch")
    left, right = st.columns([3, 2])
    with left:
        st.caption("Segments")
        st.dataframe(segments_table(labels), hide_index=True, width="stretch")
    with right:
        if truth is not None:
            st.caption("Accuracy per action")
            st.dataframe(per_action, hide_index=True, width="stretch")
        lines = "".join(json.dumps(record) + "\n" for record in labels.records())
        st.download_button("Download clips (JSON lines)", lines, file_name=f"{Path(r['title']).stem}_clips.jsonl",
                           mime="application/x-ndjson", key="video.actions.jsonl")
        st.download_button("Download timeline PNG", r["timeline"], file_name=f"{Path(r['title']).stem}_timeline.png",
                           mime="image/png", key="video.actions.png")
