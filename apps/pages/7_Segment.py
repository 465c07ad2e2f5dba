"""Segment: semantic (per-pixel classes, the shipped FCN) beside instance (one mask per object, the shipped Mask
R-CNN) — on a held-out synthetic scene beside the truth, or on any photo.

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
from vision.types import Detections, Segmentation  # noqa: E402
from vision.viz import annotate  # noqa: E402

log = logging.getLogger("vision.apps.segment")

SCENES = 24
SCENE, PHOTO = "held-out scene", "photo or upload"
SEMANTIC, INSTANCE = "semantic", "instance"
BOTH = "semantic vs instance"
DEFAULT_OPACITY = 0.55
DEFAULT_MIN_SCORE = 0.5


@st.cache_resource(show_spinner="Loading the segmenter…")
def load_segmenter(name: str) -> tuple[object, str]:
    """One segmentation model per name for the whole server, warmed up once; its kind (semantic / instance)."""
    model = create_model(name)
    warm = model.predict(np.full((64, 64, 3), 127, np.uint8))
    return model, INSTANCE if isinstance(warm, Detections) else SEMANTIC


@st.cache_data(show_spinner="Segmenting…", max_entries=64)
def segment(name: str, image: np.ndarray) -> tuple[Segmentation | Detections, float]:
    """The model's result on ``image`` and the ``predict`` time in seconds (cached per image)."""
    model, _ = load_segmenter(name)
    start = time.perf_counter()
    result = model.predict(image)
    return result, time.perf_counter() - start


def models_by_kind() -> dict[str, list[str]]:
    """The segment models with weights here, split into semantic and instance ones."""
    kinds: dict[str, list[str]] = {SEMANTIC: [], INSTANCE: []}
    for name in list_models(task="segment", available=True):
        try:
            kinds[load_segmenter(name)[1]].append(name)
        except VisionError as exc:  # a model whose weights fail to load is left out, with the reason logged
            log.warning("segment page: %s left out: %s", name, exc)
    return kinds


def scene_and_truth(index: int) -> tuple[np.ndarray, Segmentation, Detections]:
    """Held-out scene ``index``: the image, its semantic truth and its instance truth."""
    from vision.models.segmentation.data import SemanticMaskDataset

    scenes = held_out(SCENES)
    data = SemanticMaskDataset(scenes)
    image, mask = data.read(index)
    return image, Segmentation(mask, names=data.names), scenes.detections(index, masks=True)


def share_table(seg: Segmentation) -> list[dict]:
    total = max(1, seg.mask.size)
    return [{"class": name, "pixels": n, "share": f"{100 * n / total:.1f} %"}
            for name, n in sorted(seg.pixel_counts().items(), key=lambda kv: -kv[1])]


def instance_table(det: Detections) -> list[dict]:
    return [{"object": i + 1, "class": det.labels[i], "score": round(float(det.scores[i]), 3),
             "pixels": int(det.masks[i].sum()) if det.masks is not None else None} for i in range(len(det))]


def _show(col, image: np.ndarray, result: Segmentation | Detections, caption: str, opacity: float) -> None:
    picture = annotate(image, result, mask_alpha=opacity, color_by="instance", show_score=False) \
        if isinstance(result, Detections) else annotate(image, result, mask_alpha=opacity)
    col.image(picture, caption=caption, width="stretch")


def main() -> None:
    st.set_page_config(page_title="vision · segment", page_icon="👁", layout="wide")
    st.title("Segment")
    st.markdown("**Semantic** segmentation gives every pixel a class: touching shapes of one class merge. "
                "**Instance** segmentation gives every object its own mask: each shape is told apart. The shipped "
                "**FCN-8s** (semantic) and **Mask R-CNN** (instance, EfficientNet-Lite0 backbone) were trained here "
                "on the synthetic shape scenes (circle, square, triangle, star, hexagon); on a held-out scene the "
                "truth is shown above the predictions, on a photo you see what they have learnt to call a shape.")
    kinds = models_by_kind()
    if not kinds[SEMANTIC] and not kinds[INSTANCE]:
        st.warning("No segmentation model has its weights here (vision weights list).")
        return
    with st.sidebar:
        views = [v for v, ok in ((BOTH, kinds[SEMANTIC] and kinds[INSTANCE]), (SEMANTIC, kinds[SEMANTIC]),
                                 (INSTANCE, kinds[INSTANCE])) if ok]
        view = st.radio("View", views, key="segment.view")
        names = {}
        if view in (BOTH, SEMANTIC):
            names[SEMANTIC] = st.selectbox("Semantic model", kinds[SEMANTIC], key="segment.model")
        if view in (BOTH, INSTANCE):
            names[INSTANCE] = st.selectbox("Instance model", kinds[INSTANCE], key="segment.instance_model")
        source = st.radio("Image", (SCENE, PHOTO), key="segment.source")
        opacity = st.slider("Overlay opacity", 0.0, 1.0, DEFAULT_OPACITY, step=0.05, key="segment.opacity")
        min_score = st.slider("Instance score threshold", 0.05, 0.95, DEFAULT_MIN_SCORE, step=0.05,
                              key="segment.min_score", disabled=INSTANCE not in names,
                              help="Objects the instance model scores lower are not shown or scored.")
    truths: dict[str, Segmentation | Detections] = {}
    if source == SCENE:
        index = st.slider("Held-out scene", 0, SCENES - 1, 0, key="segment.scene")
        try:
            image, truths[SEMANTIC], truths[INSTANCE] = scene_and_truth(index)
        except VisionError as exc:
            st.error(str(exc))
            return
    else:
        chosen = image_input(key="segment")
        if chosen is None:
            return
        image = chosen.image
    results = {}
    for kind, name in names.items():
        try:
            result, seconds = segment(name, image)
        except VisionError as exc:
            st.error(f"{name} could not run: {exc}")
            return
        if isinstance(result, Detections):
            result = result.filter(min_score=min_score)
        results[kind] = (name, result, seconds)
    # one grid: the image and the truths on top, each prediction under its truth (its scores under it)
    top = st.columns(1 + len(results))
    top[0].image(image, caption="image", width="stretch")
    for col, kind in zip(top[1:], results):
        if truths:
            _show(col, image, truths[kind], f"{kind} truth", opacity)
        else:
            _show_prediction(col, image, kind, results[kind], opacity)
    if truths:
        bottom = st.columns(1 + len(results))
        bottom[0].markdown("**Predictions** (below each truth)")
        for col, kind in zip(bottom[1:], results):
            _show_prediction(col, image, kind, results[kind], opacity)
    scores = st.columns(1 + len(results))
    for col, (kind, (name, result, _)) in zip(scores[1:], results.items()):
        with col:
            if kind == SEMANTIC and truths:
                from vision.metrics.segmentation import evaluate_segmentation

                report = evaluate_segmentation([result], [truths[SEMANTIC]], names=truths[SEMANTIC].names)
                st.metric("mIoU on this scene", f"{report.miou:.3f}",
                          help="Mean IoU over the classes present in the truth or the prediction.")
                st.markdown(report.table())
            elif kind == SEMANTIC:
                st.dataframe(share_table(result), hide_index=True)
            else:
                if truths:
                    from vision.metrics.detection import evaluate_detections

                    report = evaluate_detections([result], [truths[INSTANCE]], iou_type="segm")
                    st.metric("mask AP@0.5 on this scene", f"{report.map50:.3f}",
                              help="COCO mask average precision at mask IoU 0.5 (pycocotools), this scene only, "
                                   "objects above the score threshold.")
                st.caption(f"{len(result)} object(s) scoring ≥ {min_score:.2f}")
                st.dataframe(instance_table(result), hide_index=True)


def _show_prediction(col, image: np.ndarray, kind: str, entry: tuple, opacity: float) -> None:
    name, result, seconds = entry
    _show(col, image, result, f"{kind} · {name} · {1e3 * seconds:.0f} ms", opacity)

main()
