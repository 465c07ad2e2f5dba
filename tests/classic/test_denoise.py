"""Denoisers raise PSNR on noised photos; noise generators are seeded and have the requested statistics."""

import cv2
import numpy as np
import pytest
from skimage import data, restoration

from vision.classic import get_op, list_ops
from vision.classic.denoise import (
    add_gaussian_noise,
    add_poisson_noise,
    add_salt_pepper,
    add_speckle,
    bilateral,
    box_blur,
    gaussian_blur,
    median_blur,
    nl_means,
    tv_denoise,
    wavelet_denoise,
)
from vision.classic.quality import psnr
from vision.errors import InputError, ShapeError

DENOISERS = ["gaussian_blur", "box_blur", "median_blur", "bilateral", "nl_means", "tv_denoise", "wavelet_denoise"]
NOISES = ["add_gaussian_noise", "add_salt_pepper", "add_poisson_noise", "add_speckle"]
CAMERA = cv2.resize(data.camera(), (256, 256), interpolation=cv2.INTER_AREA)
ASTRONAUT = data.astronaut()[200:328, 200:328].copy()  # 128×128: visor, suit and flag
#: Settings for noise of σ = 20 gray levels (the defaults of some suit weaker or stronger noise).
SIGMA20 = {"gaussian_blur": {"sigma": 1.0}, "box_blur": {"size": 3}, "median_blur": {"size": 3}, "bilateral": {},
           "nl_means": {"h": 15.0}, "tv_denoise": {}, "wavelet_denoise": {}}
RNG = np.random.default_rng(3)
RGB = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)


def test_registered_with_categories():
    assert set(DENOISERS) <= set(list_ops("denoise"))
    assert set(NOISES) <= set(list_ops("noise"))
    assert get_op("wavelet_denoise").param("mode").choices == ("soft", "hard")
    assert get_op("wavelet_denoise").param("method").choices == ("BayesShrink", "VisuShrink")


# ------------------------------------------------------------------------------------------ denoising


@pytest.mark.parametrize("name", DENOISERS)
@pytest.mark.parametrize("photo", ["camera", "astronaut"])
def test_every_denoiser_raises_psnr_of_gaussian_noise(name, photo):
    clean = CAMERA if photo == "camera" else ASTRONAUT
    noisy = add_gaussian_noise(clean, sigma=20, seed=1)
    out = get_op(name)(noisy, **SIGMA20[name])
    assert out.shape == clean.shape and out.dtype == np.uint8
    assert psnr(clean, out) > psnr(clean, noisy) + 2.0, (psnr(clean, noisy), psnr(clean, out))


@pytest.mark.parametrize("photo", ["camera", "astronaut"])
def test_median_removes_salt_and_pepper(photo):
    clean = CAMERA if photo == "camera" else ASTRONAUT
    noisy = add_salt_pepper(clean, amount=0.05, seed=2)
    out = median_blur(noisy, size=3)
    assert psnr(clean, out) > psnr(clean, noisy) + 8
    assert psnr(clean, out) > psnr(clean, gaussian_blur(noisy, sigma=1.0))  # the right tool beats blurring


def test_gaussian_blur_is_opencv_and_keeps_constants():
    assert np.array_equal(gaussian_blur(RGB, sigma=2.0), cv2.GaussianBlur(RGB, (0, 0), 2.0))
    assert np.array_equal(gaussian_blur(RGB, sigma=2.0, ksize=5), cv2.GaussianBlur(RGB, (5, 5), 2.0))
    flat = np.full((9, 9), 77, np.uint8)
    assert np.array_equal(gaussian_blur(flat, sigma=3.0), flat)


def test_box_blur_spreads_an_impulse_evenly():
    img = np.zeros((11, 11), np.uint8)
    img[5, 5] = 250
    out = box_blur(img, size=5)
    assert np.array_equal(out[3:8, 3:8], np.full((5, 5), 10, np.uint8))
    assert out.sum() == 250


def test_median_blur_removes_an_isolated_outlier_exactly():
    img = np.full((9, 9, 3), 40, np.uint8)
    img[4, 4] = 255
    assert np.array_equal(median_blur(img, size=3), np.full((9, 9, 3), 40, np.uint8))


def test_bilateral_keeps_a_step_edge_that_gaussian_smears():
    step = np.zeros((32, 32), np.uint8)
    step[:, 16:] = 200
    sharp = bilateral(step, diameter=9, sigma_color=30, sigma_space=5)
    smeared = gaussian_blur(step, sigma=3.0)
    assert int(sharp[:, 16].min()) - int(sharp[:, 15].max()) > 190
    assert int(smeared[:, 16].min()) - int(smeared[:, 15].max()) < 60


def test_nl_means_gray_and_colour_are_opencv_in_bgr():
    noisy = add_gaussian_noise(ASTRONAUT, sigma=15, seed=0)
    bgr = cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR)
    want = cv2.cvtColor(cv2.fastNlMeansDenoisingColored(bgr, None, 10, 4, 7, 21), cv2.COLOR_BGR2RGB)
    assert np.array_equal(nl_means(noisy, h=10, h_color=4), want)
    # feeding RGB straight to OpenCV (Lab of swapped channels) gives a different answer: the conversion matters
    assert not np.array_equal(cv2.fastNlMeansDenoisingColored(noisy, None, 10, 4, 7, 21), want)
    gray = noisy[:, :, 1].copy()
    assert np.array_equal(nl_means(gray, h=12, template=5, search=11),
                          cv2.fastNlMeansDenoising(gray, None, 12, 5, 11))


def test_tv_denoise_matches_scikit_image():
    noisy = add_gaussian_noise(ASTRONAUT, sigma=20, seed=0)
    want = np.rint(restoration.denoise_tv_chambolle(noisy / 255.0, weight=0.1, channel_axis=-1) * 255).clip(0, 255)
    assert np.abs(tv_denoise(noisy).astype(int) - want).max() <= 1


@pytest.mark.parametrize("sigma", [None, 20.0])
@pytest.mark.parametrize("photo", ["camera", "astronaut"])
def test_wavelet_denoise_matches_scikit_image(sigma, photo):
    noisy = add_gaussian_noise(CAMERA[:96, :96] if photo == "camera" else ASTRONAUT[:96, :96], sigma=20, seed=0)
    color = noisy.ndim == 3
    want = np.rint(restoration.denoise_wavelet(noisy / 255.0, sigma=None if sigma is None else sigma / 255,
                                               convert2ycbcr=color, channel_axis=-1 if color else None,
                                               rescale_sigma=True) * 255).clip(0, 255)
    assert np.abs(wavelet_denoise(noisy, sigma=sigma).astype(int) - want).max() <= 1


@pytest.mark.parametrize("shape", [(16, 16), (16, 16, 3)])
def test_wavelet_denoise_leaves_noiseless_images_alone(shape):
    # scikit-image's σ estimate is NaN here (all fine diagonal details are 0); the op keeps the image instead
    for value in (0, 128, 255):
        flat = np.full(shape, value, np.uint8)
        assert np.array_equal(wavelet_denoise(flat), flat)
    ramp = np.tile(np.arange(16, dtype=np.uint8) * 16, (16, 1))
    assert np.array_equal(wavelet_denoise(ramp), ramp)


# ------------------------------------------------------------------------------------------ noise


@pytest.mark.parametrize("name", NOISES)
def test_noise_is_deterministic_by_seed_and_new(name):
    op = get_op(name)
    before = RGB.copy()
    a, b, c = op(RGB, seed=5), op(RGB, seed=5), op(RGB, seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.uint8 and a.shape == RGB.shape
    assert np.array_equal(RGB, before)


def test_gaussian_noise_has_the_requested_std():
    img = np.full((200, 200, 3), 128, np.uint8)  # mid-gray: ±6σ stays inside 0..255, no clipping
    diff = add_gaussian_noise(img, sigma=20.0, seed=0).astype(float) - 128
    assert abs(diff.std() - 20.0) < 0.3 and abs(diff.mean()) < 0.2
    assert np.array_equal(add_gaussian_noise(img, sigma=0.0), img)


def test_gaussian_noise_clips_instead_of_wrapping():
    out = add_gaussian_noise(np.full((50, 50), 250, np.uint8), sigma=30.0, seed=0)
    assert out.max() == 255 and out.min() > 100  # a wrap-around would leave values near 0


def test_salt_and_pepper_fraction_and_ratio():
    img = np.full((200, 250, 3), 128, np.uint8)
    out = add_salt_pepper(img, amount=0.1, salt_ratio=0.3, seed=0)
    hit = (out != 128).any(axis=2)
    assert abs(hit.mean() - 0.1) < 0.005
    assert ((out == 255).all(axis=2) | (out == 0).all(axis=2) | ~hit).all()  # whole pixels change
    assert abs((out[hit] == 255).all(axis=1).mean() - 0.3) < 0.03
    assert np.array_equal(add_salt_pepper(img, amount=0.0), img)


def test_poisson_noise_variance_follows_brightness_and_peak():
    img = np.full((300, 300), 100, np.uint8)
    counts = add_poisson_noise(img, seed=0).astype(float)  # peak 255: gray levels are photon counts
    assert abs(counts.mean() - 100) < 0.2 and abs(counts.var() - 100) < 3
    dim = add_poisson_noise(img, peak=25.5, seed=0).astype(float)  # 10× fewer photons: variance × 10
    assert abs(dim.mean() - 100) < 1 and abs(dim.var() / 1000 - 1) < 0.05
    assert np.array_equal(add_poisson_noise(np.zeros((5, 5), np.uint8)), np.zeros((5, 5), np.uint8))


def test_speckle_is_multiplicative():
    img = np.full((200, 200), 100, np.uint8)
    rel = add_speckle(img, sigma=0.2, seed=0).astype(float) / 100 - 1
    assert abs(rel.std() - 0.2) < 0.005
    assert np.array_equal(add_speckle(np.zeros((5, 5), np.uint8), sigma=0.5), np.zeros((5, 5), np.uint8))


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", DENOISERS + NOISES)
def test_tiny_images_give_images_or_shape_errors(name):
    for shape in [(1, 1), (1, 5), (2, 3), (2, 3, 3)]:
        img = RNG.integers(0, 256, shape, dtype=np.uint8)
        try:
            out = get_op(name)(img)
        except ShapeError:
            assert name == "wavelet_denoise" and min(shape[:2]) < 2
            continue
        assert out.shape == img.shape and out.dtype == np.uint8


@pytest.mark.parametrize("func, kwargs", [
    (gaussian_blur, {"sigma": 0}), (gaussian_blur, {"sigma": -1.0}), (gaussian_blur, {"ksize": 4}),
    (gaussian_blur, {"sigma": float("nan")}),
    (box_blur, {"size": 0}), (box_blur, {"size": 2.5}),
    (median_blur, {"size": 4}), (median_blur, {"size": 0}),
    (bilateral, {"diameter": -1}), (bilateral, {"sigma_color": 0}), (bilateral, {"sigma_space": -5}),
    (nl_means, {"h": 0}), (nl_means, {"h_color": -1.0}), (nl_means, {"template": 6}), (nl_means, {"search": 20}),
    (tv_denoise, {"weight": 0}), (tv_denoise, {"iterations": 0}),
    (wavelet_denoise, {"sigma": -1.0}), (wavelet_denoise, {"wavelet": "nope"}),
    (wavelet_denoise, {"wavelet": "bior1.3"}),  # not orthogonal
    (wavelet_denoise, {"mode": "medium"}), (wavelet_denoise, {"method": "SureShrink"}),
    (add_gaussian_noise, {"sigma": -1.0}), (add_gaussian_noise, {"seed": -1}), (add_gaussian_noise, {"seed": 1.5}),
    (add_salt_pepper, {"amount": 1.5}), (add_salt_pepper, {"salt_ratio": -0.1}),
    (add_poisson_noise, {"peak": 0}), (add_speckle, {"sigma": -0.1}), (add_speckle, {"sigma": True}),
])
def test_bad_options_raise_input_error(func, kwargs):
    with pytest.raises(InputError):
        func(RGB, **kwargs)


@pytest.mark.parametrize("name", DENOISERS)
def test_denoisers_do_not_touch_their_input(name):
    img = RGB.copy()
    get_op(name)(img)
    assert np.array_equal(img, RGB)
