"""Generate: the shipped Fashion-MNIST GANs and autoencoders — sample, walk the latent space, denoise, score anomalies.

Run from the repository root:  streamlit run apps/Home.py   (then pick this page in the sidebar)
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

from image_input import image_input  # noqa: E402  (needs the sys.path line above)

from vision.errors import VisionError  # noqa: E402
from vision.models import create_model, list_models  # noqa: E402

log = logging.getLogger("vision.apps.generate")

SAMPLE, WALK, DENOISE, ANOMALY = "sample", "interpolate", "denoise", "anomaly score"
#: the shipped models each tab uses
GANS = ("dcgan", "cgan")
DEFAULT_NOISE = 0.2
SCALE = 4  # 28 px images shown 4× larger (nearest neighbour: the pixels stay visible)


@st.cache_resource(show_spinner="Loading the model…")
def load(name: str):
    """One model per name for the whole server."""
    return create_model(name)


def big(images: np.ndarray, cols: int | None = None) -> np.ndarray:
    """A sheet of 28 px images, enlarged so a person can see them."""
    from vision.models.generative.data import image_grid

    grid = image_grid(images, cols=cols)
    return np.kron(grid, np.ones((SCALE, SCALE), dtype=np.uint8)) if grid.ndim == 2 else grid


def as_model_input(image: np.ndarray, size: int = 28) -> np.ndarray:
    """An uploaded photo as the models' input: gray, the object bright on black like Fashion-MNIST, 28×28."""
    import cv2

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if gray.mean() > 127:  # photos are usually a dark object on a light background: invert to Fashion-MNIST's look
        gray = 255 - gray
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)


@st.cache_data(show_spinner=False)
def reference_scores() -> dict[str, float]:
    """Median anomaly scores of 200 Fashion-MNIST test images (normal) and 200 digits (unseen), for the scale."""
    from vision.models.generative.data import load_image_arrays

    ae = load("ae")
    out = {}
    for label, source, kwargs in (("Fashion-MNIST (normal)", "fashion-mnist", {"split": "test"}),
                                  ("digits (never seen)", "digits", {"size": 28})):
        try:
            images, _, _ = load_image_arrays(source, limit=200, **kwargs)
        except VisionError as exc:
            log.info("reference scores: %s unavailable (%s)", source, exc)
            continue
        out[label] = float(np.median(ae.anomaly_scores(images)))
    return out


def tab_sample() -> None:
    name = st.selectbox("Model", [m for m in GANS if m in AVAILABLE], key="generate.model")
    model = load(name)
    left, right = st.columns(2)
    n = left.slider("Images", 4, 64, 32, step=4, key="generate.n")
    seed = right.number_input("Seed (same seed, same images)", 0, 10_000, 0, key="generate.seed")
    label = None
    if name == "cgan":
        label = st.selectbox("Class", model.names, key="generate.class")
    images = model.generate(n, seed=int(seed), labels=None if label is None else [label] * n)
    st.image(big(images, cols=8), caption=f"{n} images from {name}" + (f" · class {label}" if label else ""))


def tab_walk() -> None:
    name = st.selectbox("Model", [m for m in GANS if m in AVAILABLE], key="generate.walk_model")
    model = load(name)
    a, b, steps = st.columns(3)
    seed_a = a.slider("From seed", 0, 200, 1, key="generate.seed_a")
    seed_b = b.slider("To seed", 0, 200, 2, key="generate.seed_b")
    n = steps.slider("Steps", 3, 16, 10, key="generate.steps")
    label = st.selectbox("Class", model.names, key="generate.walk_class") if name == "cgan" else None
    images = model.interpolate(seed_a, seed_b, steps=n, **({"label": label} if label is not None else {}))
    st.image(big(images, cols=n), caption=f"{name}: the straight line between two latent points")


def tab_denoise() -> None:
    dae = load("dae")
    noise = st.slider("Noise σ (fraction of the gray range)", 0.0, 0.5, DEFAULT_NOISE, step=0.05,
                      key="generate.noise", help=f"the shipped denoiser was trained at σ = {dae.config.noise}")
    chosen = image_input(key="generate")
    if chosen is None:
        return
    from vision.classic.denoise import nl_means
    from vision.classic.quality import psnr

    clean = as_model_input(chosen.image)
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 255 * noise, clean.shape), 0, 255).astype(np.uint8)
    learned = dae.denoise(noisy)
    classic = nl_means(noisy, h=45, template=3, search=11)
    cols = st.columns(4)
    for col, image, caption in zip(cols, (clean, noisy, classic, learned), ("input (28 px, gray)", "noisy",
                                                                              "nl_means (classic)", "dae")):
        col.image(big(image[None]), caption=caption if image is clean else f"{caption} · {psnr(clean, image):.1f} dB")
    st.caption("PSNR against the input. The denoiser knows clothes: on other pictures it draws clothes-like shapes.")


def tab_anomaly() -> None:
    ae = load("ae")
    chosen = image_input(key="generate.anomaly")
    if chosen is None:
        return
    image = as_model_input(chosen.image)
    score = float(ae.anomaly_scores(image[None])[0])
    left, right = st.columns([1, 2])
    left.image(big(np.stack([image, ae.reconstruct(image[None])[0]]), cols=2), caption="input · reconstruction")
    right.metric("anomaly score (reconstruction error)", f"{score:.4f}")
    refs = reference_scores()
    if refs:
        right.dataframe([{"images": k, "median score": round(v, 4)} for k, v in refs.items()], hide_index=True)
    right.caption("Higher = less like Fashion-MNIST. Held out, the score separates Fashion-MNIST from digits with "
                  "ROC AUC 0.97 (bench/results/generative.json).")


AVAILABLE = set(list_models("generate", available=True))


def main() -> None:
    st.set_page_config(page_title="vision · generate", page_icon="👁", layout="wide")
    st.title("Generate")
    st.markdown("Generative models trained here on Fashion-MNIST: a **DCGAN** and a class-conditional **GAN** draw "
                "new clothes, a **denoising autoencoder** cleans noisy images (better than the best classic "
                "denoiser at the noise it knows), and an **autoencoder**'s reconstruction error tells how unlike "
                "Fashion-MNIST an image is.")
    missing = [m for m in (*GANS, "dae", "ae") if m not in AVAILABLE]
    if missing:
        st.warning(f"Weights missing here for {', '.join(missing)} (vision weights list).")
    view = st.radio("What", (SAMPLE, WALK, DENOISE, ANOMALY), horizontal=True, key="generate.view")
    try:
        {SAMPLE: tab_sample, WALK: tab_walk, DENOISE: tab_denoise, ANOMALY: tab_anomaly}[view]()
    except VisionError as exc:
        st.error(str(exc))


main()
