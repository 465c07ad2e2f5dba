"""Detect: every shipped detector (YOLO, Faster / Fast R-CNN, R-CNN, Haar faces, HOG people) on a photo, an upload
or a held-out synthetic scene, with confidence and NMS-IoU sliders and each OpenCV detector's own options.

Run from the repository root:  vision app   (or: streamlit run apps/Home.py; then pick this page in the sidebar)
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from detectors import detect, held_out, threshold_options  # noqa: E402  (needs the sys.path line above)
from image_input import image_input  # noqa: E402
from result_view import detections_table  # noqa: E402

from vision.errors import VisionError  # noqa: E402
from vision.io import encode_image  # noqa: E402
from vision.models import model_spec  # noqa: E402
from vision.models.detection.compare import shipped_detectors  # noqa: E402
from vision.types import Detections  # noqa: E402
from vision.viz import annotate  # noqa: E402

log = logging.getLogger("vision.apps.detect")

#: detectors run on the first visit: the default photo (astronaut) has a face and two people
DEFAULT_DETECTORS = ("haar-face", "hog-people")
DEFAULT_CONF, DEFAULT_IOU = 0.5, 0.5
SOURCES = ("Photo or upload", "Held-out synthetic scene")
SCENES = 20





def haar_options() -> dict:
    """Widgets for the Haar face cascade's own options."""
    return {
        "min_neighbors": st.slider("min_neighbors", 0, 20, 5, key="haar.min_neighbors",
                                   help="Overlapping raw hits a face needs: higher = fewer false positives."),
        "scale_factor": st.slider("scale_factor", 1.02, 1.5, 1.1, step=0.01, key="haar.scale_factor",
                                  help="Image-pyramid step: smaller is slower and finds more."),
        "min_size": st.slider("min_size (px)", 10, 200, 30, key="haar.min_size",
                              help="Smallest face, in pixels of the (possibly shrunk) image."),
    }


def hog_options() -> dict:
    """Widgets for the HOG people detector's own options."""
    full = st.checkbox("Full resolution (distant people)", value=False, key="hog.full",
                       help="Detect on the image as it is instead of shrinking it first.")
    max_side = st.slider("max_side (px)", 128, 1600, 480, step=16, key="hog.max_side", disabled=full,
                         help="Shrink images whose longer side exceeds this: HOG sees people best at 128–300 px tall.")
    return {
        "max_side": None if full else max_side,
        "win_stride": st.select_slider("win_stride (px)", [2, 4, 8, 16], value=4, key="hog.win_stride",
                                       help="Sliding-window step: 8 is ~3× faster than 4, and finds less."),
        "hit_threshold": st.slider("hit_threshold", -1.0, 2.0, 0.0, step=0.05, key="hog.hit_threshold",
                                   help="SVM margin a window needs: raise it to cut false positives."),
    }


#: detectors with options beyond confidence and IoU
OPTION_WIDGETS = {"haar-face": haar_options, "hog-people": hog_options}


def sidebar(available: list[str]) -> tuple[list[str], dict[str, dict]]:
    """The detector picker, the shared thresholds and each detector's own options: (chosen names, name → options)."""
    with st.sidebar:
        st.header("Detectors")
        chosen = st.multiselect("Run", available, default=[m for m in DEFAULT_DETECTORS if m in available],
                                key="detect.models",
                                help="Every registered detector whose weights are on this machine. The shape "
                                     "detectors (YOLO, R-CNN family) were trained on synthetic scenes: try them on "
                                     "a held-out scene.")
        conf = st.slider("Confidence (min score)", 0.0, 1.0, DEFAULT_CONF, step=0.01, key="detect.min_score",
                         help="Keep detections whose score is at least this (each detector's own threshold option).")
        own_iou = st.checkbox("Set the NMS IoU", value=False, key="detect.set_iou",
                              help="Off: each detector keeps its own default overlap threshold.")
        iou = st.slider("NMS IoU", 0.05, 1.0, DEFAULT_IOU, step=0.05, key="detect.iou", disabled=not own_iou,
                        help="Overlap above which non-maximum suppression drops the lower-scoring box.")
        options: dict[str, dict] = {}
        for name in chosen:
            options[name], note = threshold_options(name, conf=conf, iou=iou if own_iou else None)
            if note:
                st.caption(note)
            if name in OPTION_WIDGETS:
                with st.expander(f"{name} options", expanded=False):
                    st.caption(model_spec(name).description)
                    options[name].update(OPTION_WIDGETS[name]())
    return chosen, options


def chosen_picture() -> tuple[np.ndarray | None, str, str]:
    """(image, caption, file stem) from the photo picker / upload or from the held-out scenes; None after an error."""
    source = st.radio("Image", SOURCES, horizontal=True, key="detect.source")
    if source == SOURCES[1]:
        from vision.io import read_image

        index = st.slider("Held-out scene", 0, SCENES - 1, 0, key="detect.scene",
                          help="Synthetic scenes of the test split: never used to train or select a model.")
        try:
            image = read_image(held_out(SCENES).image_path(index))
        except VisionError as exc:
            st.error(f"Could not make the held-out scenes: {exc}")
            return None, "", ""
        return image, f"held-out scene {index}", f"scene_{index}"
    chosen = image_input(key="detect")
    return (None, "", "") if chosen is None else (chosen.image, chosen.caption, Path(chosen.name).stem)


def main() -> None:
    st.set_page_config(page_title="vision · detect", page_icon="👁", layout="wide")
    st.title("Detect")
    st.markdown("Every detector shipped with the suite, offline: **YOLOv8n**, **Faster R-CNN**, **Fast R-CNN** and "
                "**R-CNN** trained on the suite's synthetic shape scenes, and two classic detectors inside OpenCV — "
                "Viola–Jones **Haar cascade** for frontal faces and **HOG + linear SVM** for standing people. "
                "OpenCV scores are the detectors' raw margins squashed into [0, 1]; they rank, they are not "
                "probabilities.")

    try:
        available = shipped_detectors()
    except VisionError as exc:
        st.error(f"Could not list the detectors: {exc}")
        return
    chosen_models, options = sidebar(available)
    image, caption, stem = chosen_picture()
    if image is None:
        return
    if not chosen_models:
        st.info("Pick at least one detector in the sidebar.")
        return

    results, seconds = {}, {}
    for name in chosen_models:
        try:
            results[name], seconds[name] = detect(name, tuple(sorted(options[name].items())), image)
        except VisionError as exc:
            st.error(f"{name} could not run: {exc}")
        except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
            log.exception("detector %s failed on %s", name, caption)
            st.error(f"{name} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
    if not results:
        return

    for column, name in zip(st.columns(len(results)), results, strict=True):
        column.metric(f"{name}: {', '.join(results[name].names)}", f"{len(results[name])} found")
        column.caption(f"{seconds[name] * 1000:.0f} ms inference")

    merged = Detections.merge(results.values(), image_shape=image.shape[:2])
    drawn = annotate(image, merged)
    picture, details = st.columns(2)
    with picture:
        st.image(drawn, caption=caption, width="stretch")
    with details:
        st.subheader(f"{len(merged)} detection{'s' if len(merged) != 1 else ''}")
        st.dataframe(detections_table(results), hide_index=True)
        st.download_button("Download annotated PNG", encode_image(drawn, format=".png"),
                           file_name=f"{stem}_detections.png", mime="image/png", key="detect.download_png",
                           on_click="ignore")
        st.download_button("Download JSON", merged.to_json(indent=2), file_name=f"{stem}_detections.json",
                           mime="application/json", key="detect.download_json", on_click="ignore")
        with st.expander("Result as JSON"):
            st.json(merged.to_dict())


main()
