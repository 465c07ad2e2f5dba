"""Video: a detector on a live webcam (WebRTC), on camera snapshots, or over the frames of a video file (an upload,
the street sample or a synthetic-scenes clip made on the fly), with annotated frames and frames per second; on files
optionally tracking the objects, smoothing their boxes and counting those that cross a line. And an action timeline:
a clip classifier labelling a video clip by clip (apps/video_actions.py).

Run from the repository root:  vision app   (or: streamlit run apps/Home.py; then pick this page in the sidebar)

The live webcam needs the optional ``streamlit-webrtc`` (``pip install -e ".[app]"``). The browser and this server
then exchange video over WebRTC: on this machine or a LAN that needs nothing more; for a server elsewhere (behind
NAT or a firewall) set ``VISION_WEBRTC_ICE_SERVERS`` to a JSON list of STUN / TURN servers before starting the app,
e.g. ``[{"urls": ["turn:turn.example.org:3478"], "username": "user", "credential": "secret"}]``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from detectors import load_detector  # noqa: E402  (needs the sys.path line above)
from image_input import image_or_error, upload_max_pixels  # noqa: E402
from result_view import detections_table  # noqa: E402
from video_actions import action_mode, uploaded_file  # noqa: E402

from vision.errors import InputError, VideoSourceError, VisionError  # noqa: E402
from vision.models.detection.compare import detector_options, shipped_detectors  # noqa: E402
from vision.viz import annotate  # noqa: E402
from vision.viz.annotate import draw_label  # noqa: E402

log = logging.getLogger("vision.apps.video")

MODES = ("Video file", "Action timeline", "Camera snapshot", "Live webcam (WebRTC)")
SYNTHETIC, STREET, UPLOAD = "Synthetic scenes clip", "Street (vtest)", "Upload a video"
VIDEO_TYPES = ("mp4", "m4v", "mov", "avi", "mkv", "webm")
#: the first detector offered for each built-in clip
DEFAULT_DETECTOR = {SYNTHETIC: "yolov8n", STREET: "hog-people"}
DEFAULT_CONF = 0.25
#: frames kept for display are shrunk to this longer side (the session holds them all)
SHOWN_SIDE = 640
ICE_ENV = "VISION_WEBRTC_ICE_SERVERS"
#: session-state key of the last processed video
RESULT_KEY = "video.result"
#: the count-line choices of the tracking view
NO_LINE, VERTICAL, HORIZONTAL = "None", "Vertical", "Horizontal"
REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------ library calls
@st.cache_resource(show_spinner="Making the synthetic-scenes clip…")
def synthetic_clip(frames: int = 64, step: int = 6) -> str:
    """A clip panning across one wide held-out synthetic scene (the shape detectors' recipe), written once per
    server; returns its path."""
    from vision.models.detection.scenes_preset import write_scene_pan

    path = Path(tempfile.mkdtemp(prefix="vision_app_clip_")) / "synthetic_scenes.avi"
    return str(write_scene_pan(path, frames=frames, step=step))


def street_clip() -> Path | None:
    """The street video with pedestrians: a short cut shipped in datasets/, else Debian's opencv-doc file, else None."""
    shipped = sorted((REPO / "datasets").glob("vtest_*.avi"))
    debian = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
    return shipped[0] if shipped else (debian if debian.is_file() else None)


def _shrink(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    scale = SHOWN_SIDE / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def process_video(path: str, name: str, options: dict, *, max_frames: int, stride: int, label: str) -> dict:
    """Run detector ``name`` over every ``stride``-th frame of the video (at most ``max_frames``), with a progress bar.

    Returns the annotated frames (shrunk for display), boxes per frame, the detector's frames per second (model time
    only) and the end-to-end rate (decoding, detection and drawing).
    Raises:
        VideoSourceError / SourceNotFoundError: the file cannot be read as a video (the library's message).
    """
    from vision.io import VideoSource

    detector = load_detector(name, tuple(sorted(options.items())))
    frames, counts, indices, model_s = [], [], [], 0.0
    progress = st.progress(0.0, text=f"{name} on {label}…")
    start = time.perf_counter()
    with VideoSource(path) as video:
        fps, total = video.fps, video.frame_count
        for frame in video:
            if frame.index % stride:
                continue
            t0 = time.perf_counter()
            det = detector.predict(frame.image)
            model_s += time.perf_counter() - t0
            frames.append(_shrink(annotate(frame.image, det)))
            counts.append(len(det))
            indices.append(frame.index)
            progress.progress(len(frames) / max_frames, text=f"{name}: frame {frame.index} ({len(det)} boxes)")
            if len(frames) >= max_frames:
                break
    wall = time.perf_counter() - start
    progress.empty()
    if not frames:
        raise VideoSourceError(f"{label}: no frame could be decoded; expected a video with at least one frame")
    return {"frames": frames, "boxes": counts, "indices": indices, "model": name, "label": label,
            "model_fps": len(frames) / model_s if model_s > 0 else float("inf"), "wall_fps": len(frames) / wall,
            "video_fps": fps, "video_frames": total}


def process_tracked(path: str, name: str, options: dict, *, max_frames: int, label: str, line: str | None,
                    smooth: int) -> dict:
    """Detector → ByteTrack → box smoothing → line counting over the first ``max_frames`` frames (every frame: the
    tracker needs them in a row), all done by :class:`vision.infer.stream.DetectionStream`, with a progress bar.

    Returns the annotated frames (track ids, the line and its counts drawn; shrunk for display), boxes per frame, the
    in / out totals after each frame, the number of distinct track ids and the end-to-end rate.
    Raises:
        VideoSourceError / SourceNotFoundError: the file cannot be read as a video (the library's message).
        InputError: a bad count line.
    """
    from vision.infer.stream import DetectionStream

    detector = load_detector(name, tuple(sorted(options.items())))
    frames, counts, indices, ins, outs, ids = [], [], [], [], [], set()
    progress = st.progress(0.0, text=f"{name} + ByteTrack on {label}…")
    start = time.perf_counter()
    with DetectionStream(path, detector, tracker="bytetrack", smooth=smooth if smooth > 1 else None,
                         count_line=line, max_frames=max_frames, overlay=False) as stream:
        fps, total = stream.fps, stream.video.frame_count
        for item in stream:
            det = item.detections
            if det.track_ids is not None:
                ids.update(det.track_ids.tolist())
            frames.append(_shrink(item.image))
            counts.append(len(det))
            indices.append(item.frame.index)
            ins.append(item.counts["in"] if item.counts else 0)
            outs.append(item.counts["out"] if item.counts else 0)
            progress.progress(len(frames) / max_frames, text=f"{name}: frame {item.frame.index} ({len(ids)} tracks)")
    wall = time.perf_counter() - start
    progress.empty()
    if not frames:
        raise VideoSourceError(f"{label}: no frame could be decoded; expected a video with at least one frame")
    return {"frames": frames, "boxes": counts, "indices": indices, "model": name, "label": label, "tracked": True,
            "tracks": len(ids), "in": ins, "out": outs, "line": line,
            "wall_fps": len(frames) / wall, "video_fps": fps, "video_frames": total}


# ------------------------------------------------------------------------------------------------ modes
def boxes(n: int) -> str:
    return f"{n} box{'es' if n != 1 else ''}"


def sidebar(default: str) -> tuple[str, dict]:
    """The detector picker and its confidence: (name, create_model options)."""
    available = shipped_detectors()
    with st.sidebar:
        st.header("Detector")
        name = st.selectbox("Run", available, index=available.index(default) if default in available else 0,
                            key="video.model", help="Every registered detector whose weights are on this machine.")
        conf = st.slider("Confidence (min score)", 0.0, 1.0, DEFAULT_CONF, step=0.01, key="video.conf")
    return name, detector_options(name, conf=conf)


def video_source() -> tuple[str | None, bytes | None, str]:
    """The chosen video as (path, None, label) for a file here, (None, bytes, file name) for an upload, or
    (None, None, "") when nothing is chosen yet (a note is shown)."""
    street = street_clip()
    sources = [SYNTHETIC, *([STREET] if street else []), UPLOAD]
    source = st.radio("Video", sources, horizontal=True, key="video.source")
    if source == SYNTHETIC:
        return synthetic_clip(), None, "synthetic scenes clip"
    if source == STREET:
        return str(street), None, f"{street.name} (street with pedestrians, OpenCV sample)"
    uploaded = st.file_uploader("Video file", type=list(VIDEO_TYPES), key="video.upload",
                                help=f"{', '.join(VIDEO_TYPES)}; read with OpenCV.")
    if uploaded is None:
        st.info("Choose a video file to run the detector over its frames.")
        return None, None, ""
    return None, uploaded.getvalue(), uploaded.name


def run_on(path: str | None, data: bytes | None, label: str, process) -> dict:
    """``process(path)`` on a file, or on an upload written to a temporary folder (deleted afterwards)."""
    if path is not None:
        return process(path)
    with uploaded_file(data, label) as target:
        return process(target)


def track_controls() -> tuple[dict, str] | None:
    """The tracking options and their description, None while "Track objects" is off; the options are the count line
    (text in fractions of the frame for :func:`vision.infer.temporal.parse_line`, or None) and the smoothing length
    in frames."""
    if not st.checkbox("Track objects", key="video.track",
                       help="Follow each object across frames (ByteTrack ids), smooth its box, count line crossings."):
        return None
    a, b, c = st.columns(3)
    kind = a.radio("Count line", (NO_LINE, VERTICAL, HORIZONTAL), horizontal=True, key="video.line",
                   help="Count the objects whose box's bottom centre crosses the line, in each direction.")
    at = b.slider("Line at (% of the width, or of the height)", 5, 95, 50, key="video.line_at",
                  disabled=kind == NO_LINE, help="Vertical: x = this % of the width; horizontal: y = % of the height.")
    smooth = c.slider("Smoothing (frames, 1 = off)", 1, 15, 5, key="video.smooth",
                      help="Average each track's box over its last n frames (steadier boxes and counts).")
    f = at / 100
    line = {NO_LINE: None, VERTICAL: f"{f:.2f},0.0,{f:.2f},1.0", HORIZONTAL: f"0.0,{f:.2f},1.0,{f:.2f}"}[kind]
    where = {NO_LINE: "no count line", VERTICAL: f"count line at x = {at}% of the width",
             HORIZONTAL: f"count line at y = {at}% of the height"}[kind]
    smoothing = f"boxes smoothed over {smooth} frames" if smooth > 1 else "no smoothing"
    return {"line": line, "smooth": smooth}, f"{smoothing} · {where}"


def video_mode(name: str, options: dict) -> None:
    path, data, label = video_source()
    track, described = track_controls() or (None, "")
    a, b = st.columns(2)
    max_frames = a.slider("Frames to process", 4, 300, 48, step=4, key="video.max_frames")
    stride = b.slider("Every n-th frame", 1, 10, 1, key="video.stride", disabled=track is not None,
                      help="Tracking follows every frame." if track is not None else None)
    if path is None and data is None:
        return
    which = path if path is not None else f"{label}:{hashlib.sha1(data).hexdigest()}"
    signature = (which, name, tuple(sorted(options.items())), max_frames,
                 stride if track is None else tuple(sorted(track.items())))
    if track is None:
        def process(target: str) -> dict:
            return process_video(target, name, options, max_frames=max_frames, stride=stride, label=label)
    else:
        def process(target: str) -> dict:
            return process_tracked(target, name, options, max_frames=max_frames, label=label, **track)
    shown = st.session_state.get(RESULT_KEY)
    if shown is None or shown["signature"] != signature:
        st.session_state.pop(RESULT_KEY, None)
        try:
            shown = {"signature": signature, "settings": described, **run_on(path, data, label, process)}
        except VisionError as exc:
            st.error(f"Could not use the video: {exc}")
            return
        except Exception as exc:  # a decoder or model bug: keep the page usable, full traceback in the log
            log.exception("%s failed on %s", name, label)
            st.error(f"{name} failed unexpectedly on {label} ({type(exc).__name__}: {exc}); the server log has "
                     "the details.")
            return
        st.session_state[RESULT_KEY] = shown
    (show_tracked_result if shown.get("tracked") else show_video_result)(shown)


def show_video_result(r: dict) -> None:
    n = len(r["frames"])
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Frames processed", n)
    m2.metric("Detector fps", f"{r['model_fps']:.1f}", help="Frames per second of the detector's predict alone.")
    m3.metric("End-to-end fps", f"{r['wall_fps']:.1f}", help="Decoding + detection + drawing, frames per second.")
    m4.metric("Boxes per frame", f"{np.mean(r['boxes']):.1f}")
    st.caption(f"{r['model']} on {r['label']}" + (f" · the video runs at {r['video_fps']:.0f} fps"
                                                   if r["video_fps"] else ""))
    picture, chart = st.columns([3, 2])
    with picture:
        i = st.slider("Frame", 0, n - 1, 0, key="video.frame") if n > 1 else 0
        st.image(r["frames"][i], caption=f"frame {r['indices'][i]}: {boxes(r['boxes'][i])}", width="stretch")
    with chart:
        import pandas as pd

        st.caption("Boxes per frame")
        st.line_chart(pd.DataFrame({"boxes": r["boxes"]}, index=pd.Index(r["indices"], name="frame")), height=240)


def show_tracked_result(r: dict) -> None:
    n, line = len(r["frames"]), r["line"]
    cols = st.columns(5 if line else 4)
    cols[0].metric("Frames processed", n)
    cols[1].metric("Tracks", r["tracks"], help="Distinct track ids over the frames processed.")
    cols[2].metric("End-to-end fps", f"{r['wall_fps']:.1f}",
                   help="Decoding + detection + tracking + smoothing + counting + drawing, frames per second.")
    if line:
        cols[3].metric("In", r["in"][-1], help="Crossings in the direction of the arrow drawn on the line.")
        cols[4].metric("Out", r["out"][-1], help="Crossings against the arrow.")
    else:
        cols[3].metric("Boxes per frame", f"{np.mean(r['boxes']):.1f}")
    st.caption(f"{r['model']} + ByteTrack on {r['label']} · {r['settings']}")
    picture, chart = st.columns([3, 2])
    with picture:
        i = st.slider("Frame", 0, n - 1, 0, key="video.frame") if n > 1 else 0
        counted = f" · in {r['in'][i]} · out {r['out'][i]}" if line else ""
        st.image(r["frames"][i], caption=f"frame {r['indices'][i]}: {boxes(r['boxes'][i])}{counted}", width="stretch")
    with chart:
        import pandas as pd

        index = pd.Index(r["indices"], name="frame")
        if line:
            st.caption("Crossings so far")
            st.line_chart(pd.DataFrame({"in": r["in"], "out": r["out"]}, index=index), height=240)
        else:
            st.caption("Tracked boxes per frame")
            st.line_chart(pd.DataFrame({"boxes": r["boxes"]}, index=index), height=240)


def snapshot_mode(name: str, options: dict) -> None:
    shot = st.camera_input("Take a photo with your camera", key="video.camera",
                           help="Your browser asks for the camera; nothing leaves this app's server.")
    if shot is None:
        st.info("No snapshot yet (no camera? use the video-file mode).")
        return
    image, error = image_or_error(shot.getvalue(), name="camera snapshot", max_pixels=upload_max_pixels())
    if error is not None:
        st.error(f"Could not use the snapshot: {error}")
        return
    try:
        det = load_detector(name, tuple(sorted(options.items()))).predict(image)
    except VisionError as exc:
        st.error(f"{name} could not run: {exc}")
        return
    picture, details = st.columns(2)
    picture.image(annotate(image, det), caption=f"{name}: {boxes(len(det))}", width="stretch")
    details.dataframe(detections_table({name: det}), hide_index=True)


def ice_servers() -> list[dict]:
    """STUN / TURN servers for WebRTC from ``$VISION_WEBRTC_ICE_SERVERS`` (a JSON list); none by default.

    Raises:
        InputError: the variable is not a JSON list of objects with ``urls``.
    """
    text = os.environ.get(ICE_ENV, "").strip()
    if not text:
        return []
    try:
        servers = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{ICE_ENV} is not valid JSON ({exc}); expected a list such as "
                         '[{"urls": ["turn:host:3478"], "username": "u", "credential": "p"}]') from None
    if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
        raise InputError(f"{ICE_ENV}: expected a JSON list of objects with a 'urls' key; got {text[:80]!r}")
    return servers


def webrtc_mode(name: str, options: dict) -> None:
    try:
        import av
        from streamlit_webrtc import WebRtcMode, webrtc_streamer
    except ImportError:
        st.info("The live webcam needs the optional package streamlit-webrtc: `pip install -e \".[app]\"` "
                "(or `pip install streamlit-webrtc`), then restart the app. Meanwhile, camera snapshots:")
        snapshot_mode(name, options)
        return
    try:
        servers = ice_servers()
    except InputError as exc:
        st.error(str(exc))
        return
    detector = load_detector(name, tuple(sorted(options.items())))
    rates: list[float] = []

    def on_frame(frame: "av.VideoFrame") -> "av.VideoFrame":
        """Runs in streamlit-webrtc's worker thread for every frame the browser sends."""
        image = frame.to_ndarray(format="rgb24")
        start = time.perf_counter()
        det = detector.predict(image)
        rates.append(time.perf_counter() - start)
        del rates[:-30]
        drawn = annotate(image, det)
        draw_label(drawn, f"{name}  {len(rates) / sum(rates):.1f} fps  {1000 * rates[-1]:.0f} ms", 4, 4,
                   (255, 255, 255), 0.6)
        return av.VideoFrame.from_ndarray(drawn, format="rgb24")

    st.caption("Press START and allow the camera. Frames the detector cannot keep up with are dropped, so the "
               "picture stays live. No camera? Use the camera-snapshot or video-file mode.")
    try:
        webrtc_streamer(key="video.webrtc", mode=WebRtcMode.SENDRECV, video_frame_callback=on_frame,
                        rtc_configuration={"iceServers": servers},
                        media_stream_constraints={"video": True, "audio": False}, async_processing=True)
    except Exception as exc:  # e.g. no real Streamlit server (AppTest) or a streamlit-webrtc / Streamlit mismatch
        log.warning("streamlit-webrtc could not start: %s: %s", type(exc).__name__, exc)
        st.warning(f"The live webcam could not start here ({type(exc).__name__}: {exc}); camera snapshots instead:")
        snapshot_mode(name, options)
        return
    with st.expander("Using the app from another machine (TURN)"):
        st.markdown(f"On this machine or a LAN, WebRTC connects directly. When the server runs elsewhere (a cloud VM, "
                    f"behind NAT), set `{ICE_ENV}` to a JSON list of STUN/TURN servers before `vision app`, e.g. "
                    '`[{"urls": ["turn:turn.example.org:3478"], "username": "user", "credential": "secret"}]` '
                    f"(a coturn server or a hosted TURN service). Now: {len(servers)} server(s) configured.")


def main() -> None:
    st.set_page_config(page_title="vision · video", page_icon="👁", layout="wide")
    st.title("Video")
    st.markdown("A detector on moving pictures: a **video file** frame by frame (with the detector's frames per "
                "second; optionally tracking and counting objects), **camera snapshots**, or your **live webcam** "
                "over WebRTC. Or an **action timeline**: a clip classifier labelling what happens in a video.")
    mode = st.radio("Source", MODES, horizontal=True, key="video.mode")
    if mode == MODES[1]:
        action_mode()
        return
    source = st.session_state.get("video.source", SYNTHETIC)
    try:
        name, options = sidebar(DEFAULT_DETECTOR.get(source, "yolov8n"))
    except VisionError as exc:
        st.error(f"Could not list the detectors: {exc}")
        return
    if mode == MODES[0]:
        video_mode(name, options)
    elif mode == MODES[2]:
        snapshot_mode(name, options)
    else:
        webrtc_mode(name, options)


main()
