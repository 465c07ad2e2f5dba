"""MediaPipe's selfie segmentation through OpenCV DNN: a real offline segmenter when the mediapipe wheel is there."""

from __future__ import annotations

import importlib.util

import pytest

from vision.data import load_sample
from vision.errors import InputError, WeightsNotFoundError
from vision.models import create_model, list_models

needs_mediapipe = pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is None,
    reason="optional: pip install --no-deps mediapipe==0.10.21 (its wheel ships the selfie-segmentation model)")


@needs_mediapipe
def test_people_are_segmented_and_a_cup_mostly_is_not():
    seg = create_model("selfie-segmentation")
    assert "selfie-segmentation" in list_models("segment", available=True)
    shares = {}
    for name in ("astronaut", "grace_hopper", "coffee"):
        image = load_sample(name)
        result = seg.predict(image)
        assert result.names == ("background", "person") and result.mask.shape == image.shape[:2]
        assert result.confidence.min() >= 0.5 - 1e-6  # the winning side's probability
        shares[name] = float((result.mask == 1).mean())
    assert shares["astronaut"] > 0.35 and shares["grace_hopper"] > 0.35  # measured 0.54 and 0.58
    assert shares["coffee"] < min(shares["astronaut"], shares["grace_hopper"])  # measured 0.21: no person
    # the person is in the middle of the astronaut portrait, the corners are background
    astro = seg.predict(load_sample("astronaut")).mask
    assert astro[200:300, 150:250].mean() > 0.9 and astro[:40, :40].mean() < 0.1


@needs_mediapipe
def test_landscape_model_threshold_and_batch():
    wide = create_model("selfie-segmentation", landscape=True)
    image = load_sample("astronaut")[:300]
    assert wide.predict(image).mask.shape == (300, 512)
    strict = create_model("selfie-segmentation", threshold=0.9)
    loose = create_model("selfie-segmentation", threshold=0.1)
    assert (strict.predict(image).mask == 1).sum() <= (loose.predict(image).mask == 1).sum()
    assert len(loose.predict_batch([image, image[..., 0]])) == 2  # grey images go through as three channels


def test_options_and_missing_package(monkeypatch):
    for bad in ({"threshold": 0}, {"threshold": 1.5}, {"landscape": "yes"}):
        with pytest.raises(InputError):
            create_model("selfie-segmentation", **bad)
    import vision.weights as weights

    real = importlib.util.find_spec
    monkeypatch.setattr(weights.importlib.util, "find_spec",
                        lambda name, *a: None if name == "mediapipe" else real(name, *a))
    monkeypatch.setenv("VISION_OFFLINE", "1")
    with pytest.raises(WeightsNotFoundError, match="install the pip package 'mediapipe'"):
        create_model("selfie-segmentation")
