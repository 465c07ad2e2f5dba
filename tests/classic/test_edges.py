"""vision.classic.edges: known answers on synthetic images, agreement with scipy.ndimage, options and bad input."""

import math

import cv2
import numpy as np
import pytest
from scipy import ndimage

from vision.classic.edges import canny, canny_thresholds, laplacian, log, prewitt, roberts, scharr, sobel
from vision.classic.validate import to_gray
from vision.errors import InputError

OPS = [sobel, scharr, prewitt, roberts, laplacian, log, canny]


def _disc(radius=20, size=100, value=200):
    img = np.zeros((size, size), np.uint8)
    cv2.circle(img, (size // 2, size // 2), radius, value, -1, lineType=cv2.LINE_AA)
    return img


def _step(width=20, at=10, value=200):
    img = np.zeros((width, width), np.uint8)
    img[:, at:] = value
    return img


@pytest.fixture(scope="module")
def photo():
    from vision.data import load_sample

    return load_sample("astronaut")[::4, ::4].copy()


# ------------------------------------------------------------------------------------------------------ Canny

@pytest.mark.parametrize("kwargs", [{"low": 50, "high": 150}, {"low": 50, "high": 150, "l2_gradient": True},
                                    {"auto": True}, {"low": 50, "high": 150, "blur_sigma": 1.0},
                                    {"low": 500, "high": 1500, "aperture": 5}])
def test_canny_edges_of_a_disc_lie_on_its_outline(kwargs):
    radius, size = 20, 100
    edges = canny(_disc(radius, size), **kwargs)
    assert edges.dtype == np.bool_ and edges.shape == (size, size)
    ys, xs = np.nonzero(edges)
    dist = np.hypot(xs - size // 2, ys - size // 2)
    assert np.all(np.abs(dist - radius) <= 1.5), f"edge pixels off the outline: {np.abs(dist - radius).max()}"
    # and the outline is found all the way round (not just a few pixels)
    angles = np.unique(np.round(np.degrees(np.arctan2(ys - size // 2, xs - size // 2)) / 10))
    assert len(angles) >= 35 and len(xs) >= 2 * math.pi * radius * 0.8


def test_canny_of_colour_is_canny_of_gray(photo):
    assert np.array_equal(canny(photo), canny(to_gray(photo)))


def test_canny_blur_removes_noise_edges():
    rng = np.random.default_rng(0)
    noisy = np.clip(_disc().astype(float) + rng.normal(0, 25, (100, 100)), 0, 255).astype(np.uint8)
    assert canny(noisy, low=60, high=120, blur_sigma=2.0).sum() < 0.5 * canny(noisy, low=60, high=120).sum()


def test_canny_auto_thresholds_follow_the_median_and_differ_with_contrast():
    flat = np.full((10, 10), 100, np.uint8)
    low, high = canny_thresholds(flat)
    assert low == pytest.approx(67.0) and high == pytest.approx(133.0)
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (64, 64)).astype(np.float64)
    bright = base.astype(np.uint8)
    dim = (40 + base * 40 / 255).astype(np.uint8)  # the same scene at low contrast
    t_bright, t_dim = canny_thresholds(bright), canny_thresholds(dim)
    assert t_bright != t_dim
    for img, (lo, hi) in ((bright, t_bright), (dim, t_dim)):
        med = np.median(img)
        assert lo == pytest.approx(0.67 * med) and hi == pytest.approx(min(255, 1.33 * med))
    assert canny_thresholds(bright, sigma=0.5) == pytest.approx((0.5 * np.median(bright),
                                                                 min(255, 1.5 * np.median(bright))))
    # auto on the image equals explicit thresholds from canny_thresholds
    assert np.array_equal(canny(dim, auto=True), canny(dim, low=t_dim[0], high=t_dim[1]))
    assert not np.array_equal(canny(dim, auto=True), canny(dim))


def test_canny_median_of_an_even_count_is_the_mean_of_the_middle_pair():
    img = np.array([[10, 20, 30, 40]], np.uint8)  # median 25
    assert canny_thresholds(img, sigma=0.2) == pytest.approx((20.0, 30.0))


# ------------------------------------------------------------------------------------------ gradient operators

@pytest.mark.parametrize("ksize, values", [(1, [200, 200]), (3, [800, 800]), (5, [3200, 9600, 9600, 3200]),
                                           (7, None)])
def test_sobel_dx_of_a_vertical_step_is_nonzero_only_at_the_step(ksize, values):
    dx = sobel(_step(), output="dx", ksize=ksize, dtype="float32")
    cols = np.nonzero(np.abs(dx).sum(axis=0))[0]
    half = max(ksize, 3) // 2
    assert set(cols) == set(range(10 - half, 10 + half)), cols
    assert (dx >= 0).all(), "dark → bright to the right must be positive"
    if values is not None:  # hand-computed: (smoothing sum) × (derivative taps over the step) × 200
        assert np.allclose(dx[:, 10 - half:10 + half], values)
    assert np.all(sobel(_step(), output="dy", ksize=ksize, dtype="float32") == 0)


def test_step_values_of_the_other_operators():
    step = _step()
    assert np.allclose(prewitt(step, output="dx", dtype="float32")[:, 9:11], 600)
    assert np.allclose(scharr(step, output="dx", dtype="float32")[:, 9:11], 3200)
    assert np.all(scharr(step, output="dy", dtype="float32") == 0)
    pos = roberts(step, output="pos_diag", dtype="float32")
    assert np.allclose(pos[:-1, 9], -200) and np.count_nonzero(pos[:-1]) == 19
    assert np.allclose(roberts(step, output="neg_diag", dtype="float32")[1:, 9], 200)
    assert np.allclose(roberts(step, dtype="float32")[:-1, 9], 200 * math.sqrt(2))


KERNELS = {
    "sobel": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float),
    "scharr": np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], float),
    "prewitt": np.array([[-1, 0, 1]] * 3, float),
}


@pytest.mark.parametrize("name", list(KERNELS))
def test_gradients_equal_the_kernel_correlation(name):
    fn = {"sobel": sobel, "scharr": scharr, "prewitt": prewitt}[name]
    img = np.random.default_rng(2).integers(0, 256, (31, 37), dtype=np.uint8)
    k = KERNELS[name]
    ref_x = ndimage.correlate(img.astype(float), k, mode="mirror")  # mirror = OpenCV's reflect-101
    ref_y = ndimage.correlate(img.astype(float), k.T, mode="mirror")
    assert np.allclose(fn(img, output="dx", dtype="float32"), ref_x)
    assert np.allclose(fn(img, output="dy", dtype="float32"), ref_y)
    assert np.allclose(fn(img, dtype="float32"), np.hypot(ref_x, ref_y), rtol=1e-5)
    assert np.allclose(fn(img, output="direction", dtype="float32"),
                       np.mod(np.arctan2(ref_y, ref_x), 2 * np.pi), atol=1e-3)


def test_roberts_equals_diagonal_differences():
    img = np.random.default_rng(3).integers(0, 256, (20, 25), dtype=np.uint8).astype(float)
    pos = roberts(img.astype(np.uint8), output="pos_diag", dtype="float32")
    neg = roberts(img.astype(np.uint8), output="neg_diag", dtype="float32")
    assert np.allclose(pos[:-1, :-1], img[:-1, :-1] - img[1:, 1:])
    assert np.allclose(neg[:-1, :-1], img[:-1, 1:] - img[1:, :-1])


@pytest.mark.parametrize("ramp, angle", [("x", 0.0), ("y", math.pi / 2), ("-x", math.pi), ("-y", 1.5 * math.pi),
                                         ("x+y", math.pi / 4)])
def test_direction_of_a_known_gradient(ramp, angle):
    yy, xx = np.mgrid[0:40, 0:40].astype(float)
    field = {"x": xx, "y": yy, "-x": 39 - xx, "-y": 39 - yy, "x+y": (xx + yy) / 2}[ramp]
    img = (field * 5).astype(np.uint8)
    for fn in (sobel, scharr, prewitt):
        d = fn(img, output="direction", dtype="float32")[5:-5, 5:-5]
        assert np.allclose(d, angle, atol=1e-3), (fn.__name__, ramp)  # cv2.phase: ~1e-4 rad
        d8 = fn(img, output="direction")[5:-5, 5:-5]
        assert np.all(d8 == round(angle * 255 / (2 * math.pi)))


@pytest.mark.parametrize("output", ["magnitude", "dx", "dy", "direction"])
@pytest.mark.parametrize("ksize", [1, 3, 5, 7])
def test_uint8_is_the_rounded_clipped_absolute_float(photo, output, ksize):
    f = sobel(photo, output=output, ksize=ksize, dtype="float32")
    u = sobel(photo, output=output, ksize=ksize)
    assert u.dtype == np.uint8 and f.dtype == np.float32 and u.shape == f.shape == photo.shape[:2]
    scale = 255 / (2 * math.pi) if output == "direction" else 1.0
    ref = np.clip(np.abs(f) * scale, 0, 255)
    assert np.abs(u.astype(float) - ref).max() <= 0.5 + 1e-3


def test_colour_input_is_converted_to_gray(photo):
    gray = to_gray(photo)
    for fn in (sobel, scharr, prewitt, roberts, laplacian, log):
        assert np.array_equal(fn(photo), fn(gray)), fn.__name__
        assert fn(photo).shape == photo.shape[:2]


# --------------------------------------------------------------------------------------------- Laplacian, LoG

def test_laplacian_equals_the_4_neighbour_kernel():
    img = np.random.default_rng(4).integers(0, 256, (30, 30), dtype=np.uint8)
    ref = ndimage.correlate(img.astype(float), [[0, 1, 0], [1, -4, 1], [0, 1, 0]], mode="mirror")
    assert np.allclose(laplacian(img, output="float32"), ref)
    assert np.array_equal(laplacian(img), np.clip(np.abs(ref), 0, 255).astype(np.uint8))
    for k in (3, 5, 7):
        assert np.allclose(laplacian(img, ksize=k, output="float32"), cv2.Laplacian(img, cv2.CV_32F, ksize=k))


def test_log_responds_most_at_the_blob_scale():
    radius = 8
    img = _disc(radius, 80, 200)
    sigmas = [2.0, 4.0, radius / math.sqrt(2), 8.0, 12.0]
    centre = [log(img, sigma=s, output="float32", normalize=True)[40, 40] for s in sigmas]
    assert all(v < 0 for v in centre), "a bright blob gives a negative LoG at its centre"
    assert int(np.argmin(centre)) == 2, centre
    plain = log(img, sigma=2.0, output="float32")
    assert np.allclose(log(img, sigma=2.0, output="float32", normalize=True), plain * 4.0, atol=1e-4)


def test_log_zero_crossings_lie_on_the_edge():
    img = _step(40, 20, 200)
    v = log(img, sigma=2.0, output="float32")[20]
    assert v[19] < 0 < v[20] or v[19] > 0 > v[20]
    assert np.array_equal(log(img), np.clip(np.rint(np.abs(log(img, output="float32"))), 0, 255).astype(np.uint8))


# ------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("fn, kwargs", [
    (sobel, {"output": "angle"}), (sobel, {"ksize": 4}), (sobel, {"ksize": 9}), (sobel, {"dtype": "int16"}),
    (sobel, {"ksize": 3.0}), (sobel, {"ksize": True}), (canny, {"aperture": "3"}),
    (scharr, {"output": "pos_diag"}), (prewitt, {"dtype": "uint16"}), (roberts, {"output": "dx"}),
    (laplacian, {"ksize": 2}), (laplacian, {"output": "abs"}),
    (log, {"sigma": 0}), (log, {"sigma": -1.0}), (log, {"sigma": float("nan")}), (log, {"sigma": "2"}),
    (canny, {"low": 200, "high": 100}), (canny, {"low": -1}), (canny, {"aperture": 4}), (canny, {"aperture": 9}),
    (canny, {"auto": True, "auto_sigma": 1.5}), (canny, {"blur_sigma": -1.0}), (canny, {"high": float("inf")}),
])
def test_bad_options_raise_input_error(fn, kwargs):
    img = _disc()
    before = img.copy()
    with pytest.raises(InputError, match="expected"):
        fn(img, **kwargs)
    assert np.array_equal(img, before)


def test_canny_thresholds_rejects_bad_sigma():
    with pytest.raises(InputError, match="expected"):
        canny_thresholds(_disc(), sigma=-0.1)


@pytest.mark.parametrize("fn", OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (2, 3), (1, 1, 3), (3, 2, 3)])
def test_tiny_images_work(fn, shape):
    img = np.random.default_rng(5).integers(0, 256, shape, dtype=np.uint8)
    out = fn(img)
    assert out.shape == shape[:2]
    if out.dtype == np.float32:
        assert np.isfinite(out).all()
