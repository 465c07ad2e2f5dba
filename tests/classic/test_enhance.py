"""vision.classic.enhance: sharpening raises sharpness, contrast ops give their known curves, bad input."""

import cv2
import numpy as np
import pytest

from vision.classic.convolve import correlate2d
from vision.classic.enhance import (clahe, contrast_stretch, equalize_hist, gamma, high_boost, laplacian_sharpen,
                                    unsharp_mask)
from vision.errors import InputError

OPS = [unsharp_mask, laplacian_sharpen, high_boost, equalize_hist, clahe, gamma, contrast_stretch]
SHARPEN = [unsharp_mask, laplacian_sharpen, high_boost]


@pytest.fixture(scope="module")
def camera():
    from vision.data import load_sample

    return load_sample("camera")[::2, ::2, 0].copy()  # 256×256 gray


@pytest.fixture(scope="module")
def astronaut():
    from vision.data import load_sample

    return load_sample("astronaut")[::2, ::2].copy()


def _sharpness(img):
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return cv2.Laplacian(gray, cv2.CV_64F).var()


# ----------------------------------------------------------------------------------------------- sharpening

@pytest.mark.parametrize("fn", SHARPEN, ids=lambda f: f.__name__)
def test_sharpening_raises_the_variance_of_the_laplacian(fn, camera, astronaut):
    for photo in (camera, astronaut):
        blurred = cv2.GaussianBlur(photo, (0, 0), 2.0)
        out = fn(blurred)
        assert out.dtype == np.uint8 and out.shape == photo.shape
        assert _sharpness(out) > 1.3 * _sharpness(blurred), fn.__name__


def test_stronger_settings_sharpen_more(camera):
    blurred = cv2.GaussianBlur(camera, (0, 0), 2.0)
    assert _sharpness(unsharp_mask(blurred, amount=2.0)) > _sharpness(unsharp_mask(blurred, amount=0.5))
    assert _sharpness(high_boost(blurred, k=3.0)) > _sharpness(high_boost(blurred, k=1.0))
    assert _sharpness(laplacian_sharpen(blurred, strength=2.0)) > _sharpness(laplacian_sharpen(blurred))


def test_unsharp_mask_formula_and_identity(astronaut):
    img = astronaut
    blurred = cv2.GaussianBlur(img, (0, 0), 1.5).astype(float)
    want = np.clip(np.rint(img + 0.8 * (img - blurred)), 0, 255)
    assert np.abs(unsharp_mask(img, radius=1.5, amount=0.8).astype(float) - want).max() <= 1
    assert np.array_equal(unsharp_mask(img, amount=0.0), img)
    assert np.array_equal(high_boost(img, k=1.0, sigma=1.5), unsharp_mask(img, radius=1.5, amount=1.0))


def test_unsharp_threshold_spares_small_details():
    rng = np.random.default_rng(0)
    img = np.full((64, 64), 100, np.uint8)
    img[:, 32:] = 200
    noisy = np.clip(img + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    out = unsharp_mask(noisy, radius=1.0, amount=2.0, threshold=10)
    flat = np.s_[:, 2:26]
    assert np.array_equal(out[flat], noisy[flat]), "noise below the threshold must not be amplified"
    assert out[:, 31].mean() < noisy[:, 31].mean() - 10 and out[:, 32].mean() > noisy[:, 32].mean() + 10
    assert not np.array_equal(unsharp_mask(noisy, radius=1.0, amount=2.0)[flat], noisy[flat])
    assert np.array_equal(unsharp_mask(noisy, amount=2.0, threshold=255), noisy)
    # the threshold rule, pixel by pixel
    blurred = cv2.GaussianBlur(noisy, (0, 0), 1.0)
    keep = cv2.absdiff(noisy, blurred) <= 10
    assert np.array_equal(out[keep], noisy[keep])
    assert np.array_equal(out[~keep], unsharp_mask(noisy, radius=1.0, amount=2.0)[~keep])


def test_laplacian_sharpen_is_the_classic_sharpen_kernel(astronaut):
    assert np.array_equal(laplacian_sharpen(astronaut), correlate2d(astronaut, kernel="sharpen", border="reflect",
                                                                   output="uint8"))
    assert np.array_equal(laplacian_sharpen(astronaut, strength=0.0), astronaut)
    gray = astronaut[:, :, 1].copy()
    for k in (3, 5, 7):
        want = np.clip(np.rint(gray - 0.05 * cv2.Laplacian(gray, cv2.CV_64F, ksize=k)), 0, 255)
        assert np.abs(laplacian_sharpen(gray, strength=0.05, ksize=k).astype(float) - want).max() <= 1


# ------------------------------------------------------------------------------------------------- contrast

def test_gamma_known_values():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    g2 = gamma(ramp, gamma=2.0)
    assert g2[8, 0] == 64 and g2.flat[0] == 0 and g2.flat[255] == 255  # 128 → 64
    assert gamma(ramp, gamma=0.5).flat[64] == 128
    assert np.array_equal(gamma(ramp), ramp)
    assert np.array_equal(g2.ravel(), np.rint(255 * (np.arange(256) / 255) ** 2).astype(np.uint8))
    assert np.all(np.diff(g2.ravel().astype(int)) >= 0)
    rgb = np.dstack([ramp, ramp[::-1], ramp.T])
    assert np.array_equal(gamma(rgb, gamma=2.0), np.dstack([g2, g2[::-1], g2.T]))


def _cdf_gap(img):
    """Largest gap between the image's CDF and a flat histogram's (0 = perfectly equalised)."""
    cdf = np.cumsum(np.bincount(img.ravel(), minlength=256)) / img.size
    return np.abs(cdf - (np.arange(256) + 1) / 256).max()


def test_equalisation_flattens_the_histogram_of_a_low_contrast_image(camera):
    low = (100 + camera.astype(float) * 40 / 255).astype(np.uint8)  # values in 100..140
    out = equalize_hist(low)
    assert out.min() < 10 and out.max() == 255
    assert _cdf_gap(out) < 0.1 < _cdf_gap(low)
    assert np.std(out) > 3 * np.std(low)


def test_equalisation_of_rgb_works_on_the_luma(astronaut):
    low = (60 + astronaut.astype(float) * 0.3).astype(np.uint8)
    out = equalize_hist(low)
    assert out.shape == low.shape and out.dtype == np.uint8
    y_in = cv2.cvtColor(low, cv2.COLOR_RGB2YCrCb)
    y_out = cv2.cvtColor(out, cv2.COLOR_RGB2YCrCb)
    assert np.abs(y_out[:, :, 0].astype(int) - cv2.equalizeHist(y_in[:, :, 0])).max() <= 3
    # gray stays gray: no hue shift (per-channel equalisation would tint it)
    grayish = np.dstack([low[:, :, 0]] * 3)
    eq = equalize_hist(grayish)
    assert np.abs(eq[:, :, 0].astype(int) - eq[:, :, 2]).max() <= 2


def test_clahe_raises_local_contrast(camera, astronaut):
    low = (100 + camera.astype(float) * 40 / 255).astype(np.uint8)
    out = clahe(low)
    assert out.dtype == np.uint8 and out.shape == low.shape
    assert np.std(out) > 1.3 * np.std(low) and _sharpness(out) > 4 * _sharpness(low)
    assert _sharpness(clahe(low, clip_limit=8.0)) > _sharpness(clahe(low, clip_limit=1.0))
    assert np.array_equal(out, cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(low))
    assert np.array_equal(clahe(low, tile=4), cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(low))
    rgb = clahe(astronaut)
    assert rgb.shape == astronaut.shape
    grayish = np.dstack([low] * 3)
    c = clahe(grayish)
    assert np.abs(c[:, :, 0].astype(int) - c[:, :, 1]).max() <= 2


def test_stretch_maps_the_percentiles_to_0_and_255(camera, astronaut):
    for img in (camera, astronaut, (50 + camera.astype(float) * 0.4).astype(np.uint8)):
        for lo_q, hi_q in ((2.0, 98.0), (0.0, 100.0), (10.0, 60.0)):
            out = contrast_stretch(img, low_percentile=lo_q, high_percentile=hi_q)
            lo, hi = np.percentile(img, (lo_q, hi_q))
            assert np.all(out[img <= lo] == 0) and np.all(out[img >= hi] == 255)
            inside = (img > lo) & (img < hi)
            want = np.rint((img[inside] - lo) * 255 / (hi - lo))
            assert np.abs(out[inside] - want).max() <= 0.5 + 1e-9
    flat = np.full((5, 5, 3), 77, np.uint8)
    assert np.array_equal(contrast_stretch(flat), flat)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 50, 101])
def test_stretch_percentiles_equal_numpy(n):
    from vision.classic.enhance import _percentiles

    img = np.random.default_rng(n).integers(0, 256, (n, 3), dtype=np.uint8)
    for q in ((0.0, 100.0), (2.0, 98.0), (13.3, 57.1), (49.0, 51.0), (99.9, 100.0)):
        assert np.allclose(_percentiles(img, q), np.percentile(img, q))


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("fn, kwargs", [
    (unsharp_mask, {"radius": 0}), (unsharp_mask, {"amount": -1}), (unsharp_mask, {"threshold": 300}),
    (unsharp_mask, {"radius": float("nan")}), (laplacian_sharpen, {"ksize": 2}),
    (laplacian_sharpen, {"strength": -0.5}), (laplacian_sharpen, {"ksize": True}), (high_boost, {"k": -1}),
    (high_boost, {"sigma": 0.0}), (clahe, {"clip_limit": 0}), (clahe, {"tile": 0}), (clahe, {"tile": 2.5}),
    (gamma, {"gamma": 0}), (gamma, {"gamma": -2}), (gamma, {"gamma": "2"}),
    (contrast_stretch, {"low_percentile": 50, "high_percentile": 50}),
    (contrast_stretch, {"low_percentile": -1}), (contrast_stretch, {"high_percentile": 101}),
])
def test_bad_options(fn, kwargs):
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(InputError, match="expected"):
        fn(img, **kwargs)


@pytest.mark.parametrize("fn", OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (2, 3), (1, 1, 3), (3, 2, 3)])
def test_tiny_images(fn, shape):
    img = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    before = img.copy()
    out = fn(img)
    assert out.shape == shape and out.dtype == np.uint8
    assert np.array_equal(img, before), "ops must not modify their input"
