"""apps/pages/8_Generate.py through Streamlit's AppTest: samples, latent walks, denoising and anomaly scores."""

from __future__ import annotations

import numpy as np
from app_support import GENERATE_PAGE, SLOW_TIMEOUT, assert_clean, run_app

from vision.models import create_model


def test_samples_follow_the_seed_and_the_class():
    at = run_app(GENERATE_PAGE, timeout=SLOW_TIMEOUT)
    assert_clean(at)
    assert at.selectbox(key="generate.model").value == "dcgan" and len(at.image) >= 1
    want = create_model("dcgan").generate(32, seed=0)
    assert at.image[0].captions[0] == "32 images from dcgan"
    at.selectbox(key="generate.model").set_value("cgan").run()
    assert_clean(at)
    at.selectbox(key="generate.class").set_value("Sneaker").run()
    assert_clean(at)
    assert "class Sneaker" in at.image[0].captions[0]
    assert want.shape == (32, 28, 28)


def test_walk_denoise_and_anomaly_views_run():
    at = run_app(GENERATE_PAGE, timeout=SLOW_TIMEOUT, **{"generate.view": "interpolate"})
    assert_clean(at)
    assert "latent" in at.image[0].captions[0]
    at = run_app(GENERATE_PAGE, timeout=SLOW_TIMEOUT, **{"generate.view": "denoise"})
    assert_clean(at)
    captions = [c for image in at.image for c in image.captions]
    assert any(c.startswith("dae ·") and c.endswith("dB") for c in captions), captions
    at = run_app(GENERATE_PAGE, timeout=SLOW_TIMEOUT, **{"generate.view": "anomaly score"})
    assert_clean(at)
    score = float(at.metric[0].value)
    assert 0.0 <= score < 1.0 and np.isfinite(score)
