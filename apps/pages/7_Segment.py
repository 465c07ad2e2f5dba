"""Segment: per-pixel classes with the shipped FCN — on a held-out synthetic scene beside its truth, or on any photo.

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

from detectors import held_out  # noqa: E402  (needs the sys.path line above)
from image_input import image_input  # noqa: E402

from vision.errors import VisionError  # noqa: E402
from vision.models import create_model, list_models  # noqa: E402
from vision.types import Segmentation  # noqa: E402
from vision.viz import annotate  # noqa: E402

log = logging.getLogger("vision.apps.segment")

SCENES = 24
SCENE, PHOTO = "held-out scene", "photo or upload"
DEFAULT_OPACITY = 0.55


@st.cache_resource(show_spinner="Loading the segmenter…")
def load_segmenter(name: str):
    """One segmentation model per name for the whole server, warmed up once."""
    model = create_model(name)
    model.predict(np.full((64, 64, 3), 127, np.uint8))
    return model


@st.cache_data(show_spinner="Segmenting…", max_entries=64)
def segment(name: str, image: np.ndarray) -> tuple[Segmentation, float]:
    """The model's class map of ``image`` and the ``predict`` time in seconds (cached per image)."""
    model = load_segmenter(name)
    start = time.perf_counter()
    result = model.predict(image)
    return result, time.perf_counter() - start


def scene_and_truth(index: int) -> tuple[np.ndarray, Segmentation]:
    from vision.models.segmentation.data import SemanticMaskDataset

    data = SemanticMaskDataset(held_out(SCENES))
    image, mask = data.read(index)
    return image, Segmentation(mask, names=data.names)


def share_table(seg: Segmentation) -> list[dict]:
    total = max(1, seg.mask.size)
    return [{"class": name, "pixels": n, "share": f"{100 * n / total:.1f} %"}
            for name, n in sorted(seg.pixel_counts().items(), key=lambda kv: -kv[1])]


def main() -> None:
    st.set_page_config(page_title="vision · segment", page_icon="👁", layout="wide")
    st.title("Segment")
    st.markdown("Semantic segmentation: every pixel gets a class. The shipped **FCN-8s** was trained here from scratch "
                "on the synthetic shape scenes (background + circle, square, triangle, star, hexagon); on a held-out "
                "scene its map is shown beside the truth, on a photo it shows what it has learnt to call a shape.")
    models = list_models(task="segment", available=True)
    if not models:
        st.warning("No segmentation model has its weights here (vision weights list).")
        return
    with st.sidebar:
        name = st.selectbox("Model", models, key="segment.model")
        source = st.radio("Image", (SCENE, PHOTO), key="segment.source")
        opacity = st.slider("Overlay opacity", 0.0, 1.0, DEFAULT_OPACITY, step=0.05, key="segment.opacity")
    truth = None
    if source == SCENE:
        index = st.slider("Held-out scene", 0, SCENES - 1, 0, key="segment.scene")
        try:
            image, truth = scene_and_truth(index)
        except VisionError as exc:
            st.error(str(exc))
            return
    else:
        chosen = image_input(key="segment")
        if chosen is None:
            return
        image = chosen.image
    try:
        result, seconds = segment(name, image)
    except VisionError as exc:
        st.error(f"{name} could not run: {exc}")
        return
    cols = st.columns(3 if truth is not None else 2)
    cols[0].image(image, caption="image", width="stretch")
    if truth is not None:
        cols[1].image(annotate(image, truth, mask_alpha=opacity), caption="truth", width="stretch")
    cols[-1].image(annotate(image, result, mask_alpha=opacity), caption=f"{name} · {1e3 * seconds:.0f} ms",
                   width="stretch")
    if truth is not None:
        from vision.metrics.segmentation import evaluate_segmentation

        report = evaluate_segmentation([result], [truth], names=truth.names)
        st.metric("mIoU on this scene", f"{report.miou:.3f}", help="Mean IoU over the classes present in the truth "
                                                                     "or the prediction.")
        st.markdown(report.table())
    else:
        st.dataframe(share_table(result), hide_index=True)


main()
