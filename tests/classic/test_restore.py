"""PSFs (sum, orientation, size), simulated blur, and deconvolution that raises PSNR on a known blur."""

import math

import cv2
import numpy as np
import pytest
from skimage import data, restoration

from vision.classic import get_op, list_ops
from vision.classic.quality import psnr
from vision.classic.restore import (
    blur_psf,
    gaussian_psf,
    motion_psf,
    richardson_lucy,
    unsupervised_wiener,
    wiener,
)
from vision.errors import InputError

RESTORERS = ["wiener", "unsupervised_wiener", "richardson_lucy"]
CAMERA = cv2.resize(data.camera(), (256, 256), interpolation=cv2.INTER_AREA)
ASTRONAUT = data.astronaut()[200:328, 200:328].copy()
BLURS = {"motion": {"psf": "motion", "length": 15, "angle_deg": 30.0},
         "gaussian": {"psf": "gaussian", "size": 15, "sigma": 3.0}}


def _principal_angle(kernel):
    """Direction (degrees, counter-clockwise from +x on screen, in [0, 180)) of the kernel's main axis."""
    r = np.arange(kernel.shape[0]) - kernel.shape[0] // 2
    y, x = np.meshgrid(r, r, indexing="ij")
    up = -y  # screen "up" is -row
    cxx, cyy, cxy = (kernel * x * x).sum(), (kernel * up * up).sum(), (kernel * x * up).sum()
    return math.degrees(0.5 * math.atan2(2 * cxy, cxx - cyy)) % 180


def test_registered():
    assert set(RESTORERS + ["blur_psf"]) <= set(list_ops("restore"))
    assert get_op("wiener").param("psf").choices == ("motion", "gaussian")


# ------------------------------------------------------------------------------------------ PSFs


@pytest.mark.parametrize("length", [1, 2, 7.5, 15, 30])
@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 90.0, 137.0, -20.0])
def test_motion_psf_sums_to_one_and_points_along_the_angle(length, angle):
    k = motion_psf(length, angle)
    assert k.sum() == pytest.approx(1.0) and k.min() >= 0
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert np.allclose(k, k[::-1, ::-1])  # point-symmetric: convolution = correlation
    if length >= 7:
        assert _principal_angle(k) == pytest.approx(angle % 180, abs=1.0)


def test_motion_psf_known_kernels():
    assert np.array_equal(motion_psf(1), np.ones((1, 1)))
    horizontal = motion_psf(5, 0.0)
    assert np.allclose(horizontal[2], 0.2) and horizontal.sum(axis=1)[[0, 1, 3, 4]].max() == 0
    vertical = motion_psf(5, 90.0)
    assert np.allclose(vertical[:, 2], 0.2) and np.allclose(vertical.sum(axis=0)[[0, 1, 3, 4]], 0)
    diagonal = motion_psf(9, 45.0)  # bottom-left to top-right on screen; ends at ±(2.83, 2.83) from the centre
    assert diagonal[1, 7] > 0.5 * diagonal[4, 4] and diagonal[7, 1] == diagonal[1, 7]
    assert diagonal[1, 1] == 0 and diagonal[7, 7] == 0 and diagonal[0, 8] == 0
    # a horizontal line of 15 has the variance of a uniform over 15 pixels: (15² − 1) / 12
    k = motion_psf(15, 0.0)
    xs = np.arange(15) - 7
    assert (k.sum(axis=0) * xs**2).sum() == pytest.approx((15**2 - 1) / 12)


def test_gaussian_psf():
    k = gaussian_psf(15, 3.0)
    g = cv2.getGaussianKernel(15, 3.0, cv2.CV_64F)
    assert k.shape == (15, 15) and k.sum() == pytest.approx(1.0)
    assert np.allclose(k, g @ g.T / (g @ g.T).sum())
    assert np.allclose(k, k.T) and k.argmax() == 7 * 15 + 7
    assert np.array_equal(gaussian_psf(1, 2.0), np.ones((1, 1)))


@pytest.mark.parametrize("call", [
    lambda: motion_psf(0.5), lambda: motion_psf(15, float("nan")), lambda: motion_psf("15"),
    lambda: gaussian_psf(4, 1.0), lambda: gaussian_psf(15, 0.0), lambda: gaussian_psf(0, 1.0),
])
def test_bad_psf_parameters(call):
    with pytest.raises(InputError):
        call()


# ------------------------------------------------------------------------------------------ blur


def test_blur_psf_is_filter2d_with_the_psf():
    for kwargs, kernel in [(BLURS["motion"], motion_psf(15, 30.0)), (BLURS["gaussian"], gaussian_psf(15, 3.0))]:
        assert np.array_equal(blur_psf(ASTRONAUT, **kwargs), cv2.filter2D(ASTRONAUT, -1, kernel))


def test_motion_blur_smears_a_dot_along_the_angle():
    dot = np.zeros((41, 41), np.uint8)
    dot[20, 20] = 255
    out = blur_psf(dot, psf="motion", length=21, angle_deg=90.0)
    assert set(np.nonzero(out)[1]) == {20} and out[10:31, 20].min() > 0  # a vertical streak of 21 pixels
    flat = np.full((20, 20, 3), 90, np.uint8)
    assert np.array_equal(blur_psf(flat), flat)


# ------------------------------------------------------------------------------------------ deconvolution


@pytest.mark.parametrize("name", RESTORERS)
@pytest.mark.parametrize("blur", ["motion", "gaussian"])
def test_deconvolution_raises_psnr_of_a_known_blur(name, blur):
    blurred = blur_psf(CAMERA, **BLURS[blur])
    restored = get_op(name)(blurred, **BLURS[blur])
    assert restored.shape == CAMERA.shape and restored.dtype == np.uint8
    assert psnr(CAMERA, restored) > psnr(CAMERA, blurred) + 0.5, (psnr(CAMERA, blurred), psnr(CAMERA, restored))


@pytest.mark.parametrize("name", ["wiener", "richardson_lucy"])
def test_deconvolution_of_a_crop_of_a_larger_blurred_scene(name):
    """The realistic case: the scene goes on past the frame, so the borders fit no padding rule."""
    scene = data.camera()
    sharp = scene[128:384, 128:384]
    blurred = blur_psf(scene, **BLURS["motion"])[128:384, 128:384]
    assert psnr(sharp, get_op(name)(blurred, **BLURS["motion"])) > psnr(sharp, blurred) + 3


@pytest.mark.parametrize("name", RESTORERS)
def test_deconvolution_of_colour(name):
    blurred = blur_psf(ASTRONAUT, **BLURS["gaussian"])
    restored = get_op(name)(blurred, **BLURS["gaussian"])
    assert restored.shape == ASTRONAUT.shape
    assert psnr(ASTRONAUT, restored) > psnr(ASTRONAUT, blurred)


def test_border_handling_beats_the_plain_scikit_image_call():
    """scikit-image's wiener assumes wrap-around; reflect padding plus edge tapering removes the ringing."""
    kernel = motion_psf(15, 30.0)
    blurred = blur_psf(CAMERA, **BLURS["motion"])
    plain = restoration.wiener(blurred / 255.0, kernel, balance=0.01)
    plain = np.clip(np.rint(plain * 255), 0, 255).astype(np.uint8)
    ours = wiener(blurred, **BLURS["motion"], balance=0.01)
    assert psnr(CAMERA, plain) < psnr(CAMERA, blurred)  # the plain call makes it worse
    assert psnr(CAMERA, ours) > psnr(CAMERA, plain) + 5


def test_richardson_lucy_refocuses_a_point():
    dot = np.zeros((31, 31), np.uint8)
    dot[15, 15] = 255
    blurred = blur_psf(dot, psf="gaussian", size=9, sigma=1.5)
    restored = richardson_lucy(blurred, psf="gaussian", size=9, sigma=1.5, iterations=50)
    assert restored[15, 15] > 2 * blurred[15, 15]
    assert np.unravel_index(restored.argmax(), restored.shape) == (15, 15)


def test_wiener_balance_trades_sharpness_for_smoothness():
    blurred = blur_psf(CAMERA, **BLURS["gaussian"])
    sharp, smooth = (wiener(blurred, **BLURS["gaussian"], balance=b) for b in (0.001, 1.0))
    laplacian = [np.abs(cv2.Laplacian(x, cv2.CV_32F)).mean() for x in (sharp, smooth)]
    assert laplacian[0] > laplacian[1]


def test_unsupervised_wiener_is_deterministic_by_seed():
    img = ASTRONAUT[:48, :48, 0].copy()
    a, b = unsupervised_wiener(img, seed=3), unsupervised_wiener(img, seed=3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, unsupervised_wiener(img, seed=4))


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", RESTORERS + ["blur_psf"])
def test_tiny_images_keep_their_shape(name):
    for shape in [(1, 1), (1, 5), (2, 3), (2, 3, 3), (17, 23, 3)]:
        img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
        before = img.copy()
        out = get_op(name)(img)
        assert out.shape == shape and out.dtype == np.uint8
        assert np.array_equal(img, before)


@pytest.mark.parametrize("name", RESTORERS + ["blur_psf"])
@pytest.mark.parametrize("kwargs", [{"psf": "box"}, {"length": 0}, {"psf": "gaussian", "size": 4},
                                    {"psf": "gaussian", "sigma": -1.0}, {"angle_deg": float("inf")}])
def test_bad_psf_options(name, kwargs):
    with pytest.raises(InputError):
        get_op(name)(ASTRONAUT, **kwargs)


@pytest.mark.parametrize("call", [
    lambda: wiener(ASTRONAUT, balance=0), lambda: wiener(ASTRONAUT, balance=-1.0),
    lambda: richardson_lucy(ASTRONAUT, iterations=0), lambda: richardson_lucy(ASTRONAUT, iterations=2.5),
    lambda: unsupervised_wiener(ASTRONAUT, seed=-1),
])
def test_bad_options(call):
    with pytest.raises(InputError):
        call()
