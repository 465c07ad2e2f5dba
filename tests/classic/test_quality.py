"""MSE, PSNR and SSIM: hand-computed answers, agreement with scikit-image, and input validation."""

import math

import numpy as np
import pytest
from skimage import metrics

from vision.classic.quality import mse, psnr, ssim
from vision.errors import DTypeError, InputError, ShapeError

RNG = np.random.default_rng(11)
GRAY_A = RNG.integers(0, 256, (40, 50), dtype=np.uint8)
GRAY_B = RNG.integers(0, 256, (40, 50), dtype=np.uint8)
RGB_A = RNG.integers(0, 256, (40, 50, 3), dtype=np.uint8)
RGB_B = np.clip(RGB_A + RNG.normal(0, 25, RGB_A.shape), 0, 255).astype(np.uint8)


def test_psnr_of_a_known_mse():
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    b[0, 0] = 16  # one error of 16 over 16 pixels: MSE = 256 / 16 = 16
    assert mse(a, b) == 16.0
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 16))  # 36.0896 dB
    assert psnr(a, b, data_range=100) == pytest.approx(10 * math.log10(100**2 / 16))


def test_mse_averages_over_channels():
    a = np.zeros((2, 2, 3), np.uint8)
    b = a.copy()
    b[:, :, 0] = 6  # 4 of 12 values off by 6: MSE = 4·36 / 12 = 12
    assert mse(a, b) == 12.0
    assert mse(b, a) == 12.0


def test_identical_images():
    assert mse(RGB_A, RGB_A.copy()) == 0.0
    assert psnr(RGB_A, RGB_A.copy()) == math.inf
    assert ssim(RGB_A, RGB_A.copy()) == pytest.approx(1.0)
    assert ssim(GRAY_A, GRAY_A.copy()) == pytest.approx(1.0)


@pytest.mark.parametrize("a, b", [(GRAY_A, GRAY_B), (RGB_A, RGB_B)])
def test_agrees_with_scikit_image(a, b):
    assert mse(a, b) == pytest.approx(metrics.mean_squared_error(a, b), rel=1e-12)
    assert psnr(a, b) == pytest.approx(metrics.peak_signal_noise_ratio(a, b, data_range=255), rel=1e-12)
    channel_axis = -1 if a.ndim == 3 else None
    wang = metrics.structural_similarity(a, b, data_range=255, channel_axis=channel_axis, gaussian_weights=True,
                                         sigma=1.5, use_sample_covariance=False)
    assert ssim(a, b) == pytest.approx(wang, rel=1e-9)
    plain = metrics.structural_similarity(a, b, data_range=255, channel_axis=channel_axis)
    assert ssim(a, b, gaussian_weights=False) == pytest.approx(plain, rel=1e-9)


def test_more_noise_means_lower_scores():
    clean = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))
    rng = np.random.default_rng(0)
    mild, strong = (np.clip(clean + rng.normal(0, s, clean.shape), 0, 255).astype(np.uint8) for s in (5, 30))
    assert psnr(clean, mild) > psnr(clean, strong)
    assert 1.0 > ssim(clean, mild) > ssim(clean, strong)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError, match=r"40×50.*40×50×3"):
        psnr(GRAY_A, RGB_A)
    with pytest.raises(ShapeError, match=r"40×50×3.*20×50×3"):
        ssim(RGB_A, RGB_B[:20])
    with pytest.raises(ShapeError):
        mse(GRAY_A, GRAY_B.T)


@pytest.mark.parametrize("func", [mse, psnr, ssim])
@pytest.mark.parametrize("bad, error", [
    (np.zeros((40, 50), np.float32), DTypeError),
    (np.zeros((40, 50), np.uint16), DTypeError),
    (np.zeros((40, 50), bool), DTypeError),
    (np.zeros((40, 50, 4), np.uint8), ShapeError),
    (np.zeros((0, 50), np.uint8), ShapeError),
])
def test_bad_images_raise_typed_errors(func, bad, error):
    with pytest.raises(error):
        func(bad, bad)
    with pytest.raises(error):
        func(GRAY_A, bad)


def test_ssim_needs_a_window_worth_of_pixels():
    small = GRAY_A[:10, :10]
    with pytest.raises(ShapeError, match="11×11"):
        ssim(small, small)
    assert ssim(small, small, gaussian_weights=False) == pytest.approx(1.0)  # 7×7 window fits
    with pytest.raises(ShapeError, match="7×7"):
        ssim(small[:6], small[:6], gaussian_weights=False)


@pytest.mark.parametrize("call", [
    lambda: psnr(GRAY_A, GRAY_B, data_range=0),
    lambda: psnr(GRAY_A, GRAY_B, data_range=-255),
    lambda: ssim(GRAY_A, GRAY_B, data_range=0),
    lambda: ssim(GRAY_A, GRAY_B, sigma=0),
    lambda: ssim(GRAY_A, GRAY_B, sigma=True),
])
def test_bad_options_raise_input_error(call):
    with pytest.raises(InputError):
        call()
