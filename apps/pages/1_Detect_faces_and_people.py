"""Detect faces (Haar cascade) and people (HOG + SVM) on a sample photo or an upload, with their main options.

Run from the repository root:  streamlit run apps/Home.py   (then pick this page in the sidebar)
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import numpy as np
import streamlit as st

# `streamlit run apps/Home.py` puts apps/ on sys.path, but AppTest (and running this file directly) does not;
# add it so the shared widget modules in apps/ import the same way everywhere.
_APPS_DIR = str(Path(__file__).resolve().parents[1])
if _APPS_DIR not in sys.path:
    sys.path.insert(0, _APPS_DIR)

from image_input import image_input  # noqa: E402  (needs the sys.path line above)
from result_view import detections_table  # noqa: E402

from vision.errors import VisionError  # noqa: E402
from vision.io import encode_image  # noqa: E402
from vision.models import create_model, list_models, model_spec  # noqa: E402
from vision.types import Detections  # noqa: E402
from vision.viz import annotate  # noqa: E402

log = logging.getLogger("vision.apps.detect")

DETECTORS = ("haar-face", "hog-people")


@st.cache_resource(show_spinner="Loading the detector…", max_entries=32)
def load_detector(name: str, options: tuple[tuple[str, object], ...]):
    """One detector per (name, options); options are a sorted tuple of pairs so the cache can hash them."""
    return create_model(name, **dict(options))


@st.cache_data(show_spinner="Detecting…", max_entries=64)
def detect(name: str, options: tuple[tuple[str, object], ...], image: np.ndarray) -> tuple[Detections, float]:
    """Run one detector on one image; return its detections and the inference time in seconds.

    Cached on (detector, options, image), so moving one detector's slider does not rerun the other detectors.
    """
    model = load_detector(name, options)
    start = time.perf_counter()
    result = model.predict(image)
    return result, time.perf_counter() - start


def haar_options() -> dict:
    """Widgets for the Haar face cascade's main options."""
    return {
        "min_neighbors": st.slider("min_neighbors", 0, 20, 5, key="haar.min_neighbors",
                                   help="Overlapping raw hits a face needs: higher = fewer false positives."),
        "scale_factor": st.slider("scale_factor", 1.02, 1.5, 1.1, step=0.01, key="haar.scale_factor",
                                  help="Image-pyramid step: smaller is slower and finds more."),
        "min_size": st.slider("min_size (px)", 10, 200, 30, key="haar.min_size",
                              help="Smallest face, in pixels of the (possibly shrunk) image."),
    }


def hog_options() -> dict:
    """Widgets for the HOG people detector's main options."""
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


OPTION_WIDGETS = {"haar-face": haar_options, "hog-people": hog_options}


def main() -> None:
    st.set_page_config(page_title="vision · detect faces and people", page_icon="👁", layout="wide")
    st.title("Detect faces and people")
    st.markdown("Two classic detectors that ship inside OpenCV, so they work with no download: Viola–Jones "
                "**Haar cascade** for frontal faces and **HOG + linear SVM** (Dalal–Triggs) for standing people. "
                "Scores are the detectors' raw margins squashed into [0, 1]; they rank, they are not probabilities.")

    available = [m for m in DETECTORS if m in list_models(task="detect")]
    with st.sidebar:
        st.header("Detectors")
        chosen_models = st.multiselect("Run", available, default=available, key="detect.models")
        min_score = st.slider("min_score", 0.0, 1.0, 0.5, step=0.01, key="detect.min_score",
                              help="Keep detections whose score is at least this.")
        options: dict[str, dict] = {}
        for name in chosen_models:
            with st.expander(f"{name} options", expanded=False):
                st.caption(model_spec(name).description)
                options[name] = {**OPTION_WIDGETS[name](), "min_score": min_score}

    chosen = image_input(key="detect")
    if chosen is None:
        return
    if not chosen_models:
        st.info("Pick at least one detector in the sidebar.")
        return

    results, seconds = {}, {}
    for name in chosen_models:
        try:
            results[name], seconds[name] = detect(name, tuple(sorted(options[name].items())), chosen.image)
        except VisionError as exc:
            st.error(f"{name} could not run: {exc}")
        except Exception as exc:  # a bug, not bad input: keep the page usable and log the traceback for developers
            log.exception("detector %s failed on %s", name, chosen.name)
            st.error(f"{name} failed unexpectedly ({type(exc).__name__}: {exc}); the server log has the details.")
    if not results:
        return

    for column, name in zip(st.columns(len(results)), results, strict=True):
        column.metric(f"{name}: {', '.join(results[name].names)}", f"{len(results[name])} found")
        column.caption(f"{seconds[name] * 1000:.0f} ms inference")

    merged = Detections.merge(results.values(), image_shape=chosen.image.shape[:2])
    drawn = annotate(chosen.image, merged)
    picture, details = st.columns(2)
    with picture:
        st.image(drawn, caption=chosen.caption, width="stretch")
    with details:
        st.subheader(f"{len(merged)} detection{'s' if len(merged) != 1 else ''}")
        st.dataframe(detections_table(results), hide_index=True)
        stem = Path(chosen.name).stem
        st.download_button("Download annotated PNG", encode_image(drawn, format=".png"),
                           file_name=f"{stem}_detections.png", mime="image/png", key="detect.download_png",
                           on_click="ignore")
        st.download_button("Download JSON", merged.to_json(indent=2), file_name=f"{stem}_detections.json",
                           mime="application/json", key="detect.download_json", on_click="ignore")
        with st.expander("Result as JSON"):
            st.json(merged.to_dict())


main()
