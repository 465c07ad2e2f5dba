"""Compare detectors: one image through several detectors side by side, with latency, a table of boxes and mAP.

Run from the repository root:  streamlit run apps/Home.py   (then pick this page in the sidebar)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from detectors import detect, held_out, load_detector, threshold_options  # noqa: E402  (needs the sys.path line above)
from image_input import image_input  # noqa: E402
from result_view import detections_table  # noqa: E402

from vision.errors import VisionError  # noqa: E402
from vision.models import list_models  # noqa: E402
from vision.models.detection.compare import (  # noqa: E402
    EVAL_CONF,
    compare_detectors,
    detector_options,
    shipped_detectors,
)
from vision.models.detection.scenes_preset import TEST_SEED  # noqa: E402
from vision.viz import annotate  # noqa: E402

log = logging.getLogger("vision.apps.compare")

DEFAULT_CONF, DEFAULT_IOU = 0.25, 0.5
#: held-out scenes (test split) offered as pictures, and how many the mAP measurement runs on
SCENES, MAP_SCENES = 20, 8
SOURCES = ("Held-out scene", "Photo or upload")
#: session-state key of the last mAP measurement (kept on the page while the picture changes)
MAP_KEY = "compare.map_result"
COLUMNS = 3





def measure_map(names: list[str]) -> dict:
    """mAP of each detector on the first MAP_SCENES held-out scenes, at the evaluation threshold of `vision val`."""
    detectors = {name: load_detector(name, tuple(sorted(detector_options(name, conf=EVAL_CONF).items())))
                 for name in names}
    cmp = compare_detectors(held_out(MAP_SCENES), detectors)
    rows = [{"model": r.model, "mAP50": r.map50, "mAP50-95": r.map50_95, "latency ms": round(r.latency_ms, 1),
             "boxes / image": round(r.boxes_per_image, 2)} for r in cmp.rows]
    return {"models": list(names), "rows": rows, "notes": dict(cmp.notes)}


def chosen_picture():
    """(image, caption, ground truth or None) from the held-out scenes or the shared photo picker."""
    source = st.radio("Image", SOURCES, horizontal=True, key="compare.source")
    if source == SOURCES[0]:
        index = st.slider("Held-out scene", 0, SCENES - 1, 0, key="compare.scene",
                          help=f"Scenes of the test split (seed {TEST_SEED}): never used to train or select a model.")
        scenes = held_out(SCENES)
        from vision.io import read_image

        return (read_image(scenes.image_path(index)), f"held-out scene {index} (seed {TEST_SEED})",
                scenes.detections(index))
    chosen = image_input(key="compare", default="bus")
    return (None, "", None) if chosen is None else (chosen.image, chosen.caption, None)


def main() -> None:
    st.set_page_config(page_title="vision · compare detectors", page_icon="👁", layout="wide")
    st.title("Compare detectors")
    st.markdown("The same picture through several detectors, side by side with their measured latency on this "
                "machine: **R-CNN** classifies ~1000 warped crops per image, **Fast R-CNN** pools those proposals "
                "from one shared feature map, **Faster R-CNN** proposes regions with its own network and **YOLO** "
                "predicts boxes in a single pass. The shape detectors were trained on synthetic scenes; "
                "the OpenCV face and people detectors ship inside OpenCV.")
    offered = shipped_detectors()
    st.session_state.setdefault("compare.models", offered)
    with st.sidebar:
        st.header("Detectors")
        names = st.multiselect("Compare", offered, key="compare.models",
                               help="Every registered detector whose weights are on this machine.")
        others = [m for m in list_models(task="detect") if m not in offered]
        if others:
            st.caption(f"Not offered (no weights here, or untrained architectures): {', '.join(others)}.")
        conf = st.slider("Confidence", 0.0, 1.0, DEFAULT_CONF, step=0.01, key="compare.conf",
                         help="Keep boxes scoring at least this (each detector's own threshold option).")
        iou = st.slider("NMS IoU", 0.05, 1.0, DEFAULT_IOU, step=0.05, key="compare.iou",
                        help="Overlap above which non-maximum suppression drops the lower-scoring box.")

    image, caption, truth = chosen_picture()
    if image is None:
        return
    if not names:
        st.info("Pick at least one detector in the sidebar.")
        return

    results, seconds = {}, {}
    for name in names:
        try:
            chosen_options, note = threshold_options(name, conf=conf, iou=iou)
            if note:
                st.caption(note)
            options = tuple(sorted(chosen_options.items()))
            results[name], seconds[name] = detect(name, options, image)
        except VisionError as exc:
            st.error(f"{name} could not run: {exc}")
        except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
            log.exception("detector %s failed on %s", name, caption)
            st.error(f"{name} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
    if not results:
        return

    panels = [("ground truth", annotate(image, truth, show_score=False), f"ground truth: {len(truth)} objects")] \
        if truth is not None else []
    panels += [(name, annotate(image, det), f"{name}: {len(det)} boxes in {seconds[name] * 1000:.0f} ms")
               for name, det in results.items()]
    st.caption(caption)
    for start in range(0, len(panels), COLUMNS):
        for column, (_, drawn, label) in zip(st.columns(COLUMNS), panels[start:start + COLUMNS]):
            column.image(drawn, caption=label, width="stretch")

    st.subheader("Latency and boxes")
    st.dataframe([{"model": n, "boxes": len(d), "latency ms": round(seconds[n] * 1000, 1),
                   "classes": ", ".join(d.names)} for n, d in results.items()], hide_index=True)
    st.dataframe(detections_table(results), hide_index=True)

    st.subheader(f"mAP on {MAP_SCENES} held-out scenes")
    st.caption(f"COCO mAP against the scenes' boxes at confidence {EVAL_CONF} and each detector's own NMS IoU, as "
               "`vision val detect` measures it; detectors of other classes (faces, people) get a note instead.")
    if st.button("Measure mAP", key="compare.measure"):
        try:
            st.session_state[MAP_KEY] = measure_map(list(results))
        except VisionError as exc:
            st.session_state.pop(MAP_KEY, None)
            st.error(f"Could not measure mAP: {exc}")
    shown = st.session_state.get(MAP_KEY)
    if shown is not None:
        st.dataframe(shown["rows"], hide_index=True)
        for name, note in shown["notes"].items():
            st.caption(f"{name}: {note}")


main()
