"""vision.classic.convolve: the issue's known answers, agreement with scipy.signal, size rule, kernels, pooling."""

import itertools

import numpy as np
import pytest
import scipy.signal as ss
from numpy.lib.stride_tricks import sliding_window_view

from vision.classic.convolve import (KERNELS, box, convolve2d, correlate2d, gaussian, get_kernel, output_size,
                                     pool2d)
from vision.errors import InputError, ShapeError

RNG = np.random.default_rng(0)


def _ng_image():
    img = np.zeros((6, 6), np.uint8)
    img[:, :3] = 10
    return img


# ------------------------------------------------------------------------------------------- known answers

def test_vertical_edge_over_a_10_0_step_gives_the_column_of_30s():
    """Andrew Ng's example: CNN 'convolution' = correlation, bright-left/dark-right is +30."""
    out = correlate2d(_ng_image(), kernel=[[1, 0, -1]] * 3, padding="valid")
    assert out.shape == (4, 4) and out.dtype == np.float32
    assert np.array_equal(out, np.tile([0, 30, 30, 0], (4, 1)))
    assert np.array_equal(correlate2d(_ng_image(), kernel="vertical_edge", padding="valid"), out)
    # the true convolution flips the kernel, and with it the sign
    assert np.array_equal(convolve2d(_ng_image(), kernel="vertical_edge", padding="valid"), -out)


def test_same_keeps_the_size_and_valid_full_follow_the_rule():
    for (h, w), (kh, kw) in itertools.product([(6, 6), (7, 10), (15, 4)], [(1, 1), (3, 3), (2, 2), (3, 4), (5, 1)]):
        if kh > h or kw > w:
            continue
        img = RNG.integers(0, 256, (h, w), dtype=np.uint8)
        k = RNG.normal(size=(kh, kw))
        for fn in (correlate2d, convolve2d):
            assert fn(img, kernel=k, padding="same").shape == (h, w)
            assert fn(img, kernel=k, padding="valid").shape == (h - kh + 1, w - kw + 1)
            assert fn(img, kernel=k, padding="full").shape == (h + kh - 1, w + kw - 1)
            rgb = np.dstack([img] * 3)
            assert fn(rgb, kernel=k, padding="same").shape == (h, w, 3)
    img = RNG.integers(0, 256, (9, 11), dtype=np.uint8)
    for f in (1, 3, 5, 7):
        got = correlate2d(img, kernel=np.ones((f, f)), padding="valid").shape
        assert got == (output_size(9, f, padding=0, stride=1), output_size(11, f, padding=0, stride=1))


@pytest.mark.parametrize("padding, f, pad", [("valid", 3, 0), ("same", 3, 1), ("same", 5, 2), ("valid", 5, 0),
                                              ("full", 3, 2)])
@pytest.mark.parametrize("stride", [2, 3])
def test_stride_output_size_and_values(padding, f, pad, stride):
    img = RNG.integers(0, 256, (13, 16), dtype=np.uint8)
    k = RNG.normal(size=(f, f))
    out = correlate2d(img, kernel=k, padding=padding, stride=stride)
    want = (output_size(13, f, padding=pad, stride=stride, floor=True),
            output_size(16, f, padding=pad, stride=stride, floor=True))
    assert out.shape == want
    assert np.array_equal(out, correlate2d(img, kernel=k, padding=padding)[::stride, ::stride])
    assert out.flags.c_contiguous
    rgb = RNG.integers(0, 256, (13, 16, 3), dtype=np.uint8)
    assert np.array_equal(correlate2d(rgb, kernel=k, padding=padding, stride=stride),
                          correlate2d(rgb, kernel=k, padding=padding)[::stride, ::stride])


def test_stride_2_on_7x7_with_3x3_same_gives_4x4():
    img = RNG.integers(0, 256, (7, 7), dtype=np.uint8)
    assert correlate2d(img, kernel="box_3", stride=2).shape == (4, 4)
    assert correlate2d(img, kernel="box_3", padding="valid", stride=2).shape == (3, 3)


def test_multichannel_kernel_plus_bias_is_the_sum_of_per_channel_correlations():
    rgb = RNG.integers(0, 256, (12, 14, 3), dtype=np.uint8)
    k = RNG.normal(size=(3, 3, 3))
    for padding in ("valid", "same", "full"):
        out = correlate2d(rgb, kernel=k, bias=1.5, padding=padding)
        ref = sum(ss.correlate2d(rgb[:, :, c].astype(float), k[:, :, c], mode=padding) for c in range(3)) + 1.5
        assert out.shape == ref.shape and out.ndim == 2
        assert np.allclose(out, ref, atol=1e-3)
        per_channel = sum(correlate2d(rgb[:, :, c].copy(), kernel=k[:, :, c], padding=padding) for c in range(3))
        assert np.allclose(out, per_channel + 1.5, atol=1e-3)
        conv = convolve2d(rgb, kernel=k, bias=-2.0, padding=padding)
        ref = sum(ss.convolve2d(rgb[:, :, c].astype(float), k[:, :, c], mode=padding) for c in range(3)) - 2.0
        assert np.allclose(conv, ref, atol=1e-3)
    gray = rgb[:, :, 0].copy()
    assert np.allclose(correlate2d(gray, kernel=k[:, :, :1]), correlate2d(gray, kernel=k[:, :, 0]))
    assert np.allclose(correlate2d(gray, kernel=k[:, :, 0], bias=3.0), correlate2d(gray, kernel=k[:, :, 0]) + 3.0)


SCIPY_BOUNDARY = {"constant": "fill", "symmetric": "symm", "wrap": "wrap"}


@pytest.mark.parametrize("padding", ["valid", "same", "full"])
@pytest.mark.parametrize("border", list(SCIPY_BOUNDARY))
@pytest.mark.parametrize("shape", [(3, 3), (2, 2), (4, 5), (1, 3), (7, 7)])
def test_matches_scipy_signal(padding, border, shape):
    img = RNG.integers(0, 256, (17, 13), dtype=np.uint8)
    k = RNG.normal(size=shape)
    for fn, ref in ((correlate2d, ss.correlate2d), (convolve2d, ss.convolve2d)):
        want = ref(img.astype(float), k, mode=padding, boundary=SCIPY_BOUNDARY[border])
        got = fn(img, kernel=k, padding=padding, border=border)
        assert got.shape == want.shape
        assert np.allclose(got, want, atol=1e-3), (fn.__name__, padding, border, shape)


@pytest.mark.parametrize("border, numpy_mode", [("reflect", "reflect"), ("replicate", "edge"),
                                                ("symmetric", "symmetric"), ("wrap", "wrap")])
@pytest.mark.parametrize("padding", ["same", "full"])
def test_border_modes_equal_numpy_padding(border, numpy_mode, padding):
    img = RNG.integers(0, 256, (10, 12), dtype=np.uint8)
    k = RNG.normal(size=(3, 5))
    kh, kw = k.shape
    pads = ((1, 1), (2, 2)) if padding == "same" else ((kh - 1, kh - 1), (kw - 1, kw - 1))
    padded = np.pad(img.astype(float), pads, mode=numpy_mode)
    assert np.allclose(correlate2d(img, kernel=k, padding=padding, border=border),
                       ss.correlate2d(padded, k, mode="valid"), atol=1e-3)


def test_even_kernel_same_padding_matches_pytorch_convention():
    """For a 2×2 kernel, 'same' correlation pads the extra row/column at the bottom/right (PyTorch/TF)."""
    img = RNG.integers(0, 256, (5, 6), dtype=np.uint8)
    k = RNG.normal(size=(2, 2))
    padded = np.pad(img.astype(float), ((0, 1), (0, 1)))
    assert np.allclose(correlate2d(img, kernel=k), ss.correlate2d(padded, k, mode="valid"), atol=1e-4)


def test_output_modes():
    img = _ng_image()
    f = correlate2d(img, kernel="vertical_edge", padding="same")
    assert f.min() < 0 and f.max() > 0
    u = correlate2d(img, kernel="vertical_edge", padding="same", output="uint8")
    a = correlate2d(img, kernel="vertical_edge", padding="same", output="abs")
    assert u.dtype == a.dtype == np.uint8
    assert np.array_equal(u, np.clip(np.rint(f), 0, 255).astype(np.uint8))
    assert np.array_equal(a, np.clip(np.rint(np.abs(f)), 0, 255).astype(np.uint8))
    big = correlate2d(np.full((4, 4), 200, np.uint8), kernel="sharpen", bias=300.0, output="uint8")
    assert np.all(big == 255)


def test_symmetric_kernels_give_the_same_convolution_and_correlation():
    img = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    for name in ("box_5", "gaussian_5", "sharpen", "laplacian"):
        assert np.allclose(convolve2d(img, kernel=name), correlate2d(img, kernel=name), atol=1e-4)
    assert np.allclose(convolve2d(img, kernel="sobel_x"), -correlate2d(img, kernel="sobel_x"), atol=1e-4)


def test_kernel_given_as_text_for_the_command_line():
    img = _ng_image()
    assert np.array_equal(correlate2d(img, kernel="[[1, 0, -1], [1, 0, -1], [1, 0, -1]]", padding="valid"),
                          correlate2d(img, kernel="vertical_edge", padding="valid"))
    with pytest.raises(InputError, match="expected"):
        correlate2d(img, kernel="[[1, 0], [1]]")


def test_large_kernel_uses_the_same_rule():
    img = RNG.integers(0, 256, (40, 40), dtype=np.uint8)
    k = RNG.normal(size=(13, 13))  # OpenCV switches to a DFT for large kernels
    assert np.allclose(correlate2d(img, kernel=k), ss.correlate2d(img.astype(float), k, mode="same"),
                       atol=1e-2, rtol=1e-4)


# ---------------------------------------------------------------------------------------------- size rule

def test_output_size_rule():
    assert output_size(6, 3, padding=0, stride=1) == 4
    assert output_size(7, 3, padding=1, stride=2) == 4
    assert output_size(227, 11, padding=0, stride=4) == 55  # AlexNet conv1
    assert output_size(5, 5, padding=0, stride=1) == 1
    with pytest.raises(InputError, match="not a whole number"):
        output_size(6, 3, padding=0, stride=2)
    assert output_size(6, 3, padding=0, stride=2, floor=True) == 2
    with pytest.raises(InputError, match="larger than the padded input"):
        output_size(3, 5, padding=0, stride=1)
    for bad in ({"n": 0}, {"f": 0}, {"padding": -1}, {"stride": 0}, {"stride": 1.5}, {"n": True}):
        args = {"n": 6, "f": 3, "padding": 0, "stride": 1, **bad}
        with pytest.raises(InputError, match="expected"):
            output_size(args.pop("n"), args.pop("f"), **args)


# ------------------------------------------------------------------------------------------- kernel library

def test_kernel_library():
    for name in ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y", "sharpen", "emboss", "box_3", "box_5",
                 "gaussian_3", "gaussian_5", "laplacian", "identity"):
        k = get_kernel(name)
        assert k.dtype == np.float32 and k.ndim == 2
    assert np.array_equal(get_kernel("vertical_edge"), [[1, 0, -1]] * 3)
    assert np.array_equal(get_kernel("horizontal_edge"), get_kernel("vertical_edge").T)
    assert np.array_equal(get_kernel("sobel_y"), get_kernel("sobel_x").T)
    assert get_kernel("sharpen").sum() == 1 and get_kernel("emboss").sum() == 1
    assert np.allclose(box(4), 1 / 16) and get_kernel("box_7").shape == (7, 7)
    assert np.isclose(get_kernel("box_5").sum(), 1)
    g = gaussian(7, 1.5)
    assert np.isclose(g.sum(), 1) and np.allclose(g, g.T) and np.allclose(g, g[::-1]) and g[3, 3] == g.max()
    assert np.allclose(get_kernel("gaussian", size=7, sigma=1.5), g)
    assert get_kernel("gaussian_9").shape == (9, 9)
    # a fresh copy each time: editing one does not change the library
    k = get_kernel("sobel_x")
    k[:] = 0
    assert get_kernel("sobel_x").any()
    with pytest.raises(TypeError):
        KERNELS["mine"] = lambda: np.ones((3, 3))  # read-only mapping
    assert "mine" not in KERNELS


@pytest.mark.parametrize("call", [
    lambda: get_kernel("sobel"), lambda: get_kernel("sobel_x", size=3), lambda: gaussian(4),
    lambda: gaussian(5, sigma=0), lambda: box(0), lambda: get_kernel(3),
])
def test_kernel_library_errors(call):
    with pytest.raises(InputError, match="expected|does not take"):
        call()


@pytest.mark.parametrize("kernel, error", [
    ([[1, 2], [3]], InputError), ([1, 0, -1], ShapeError), (np.zeros((0, 3)), ShapeError),
    (np.zeros((3, 3, 3, 1)), ShapeError), ([[np.nan, 0, 0]], InputError), ([[np.inf]], InputError),
    ("unknown_kernel", InputError), (np.zeros((3, 3, 2)), ShapeError), (np.ones((300, 3)), ShapeError),
    ([["a", "b"]], InputError),
])
def test_bad_kernels(kernel, error):
    img = RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    for fn in (correlate2d, convolve2d):
        with pytest.raises(error, match="expected"):
            fn(img, kernel=kernel)


def test_multichannel_kernel_channel_count_must_match():
    with pytest.raises(ShapeError, match="expected C = 1"):
        correlate2d(np.zeros((8, 8), np.uint8), kernel=np.ones((3, 3, 3)))
    with pytest.raises(ShapeError, match="expected C = 3"):
        correlate2d(np.zeros((8, 8, 3), np.uint8), kernel=np.ones((3, 3, 1)))


@pytest.mark.parametrize("kwargs", [{"padding": "half"}, {"border": "mirror"}, {"stride": 0}, {"stride": 1.0},
                                    {"bias": float("nan")}, {"bias": "1"}, {"output": "int32"}])
def test_bad_options(kwargs):
    with pytest.raises(InputError, match="expected"):
        correlate2d(_ng_image(), **kwargs)


def test_valid_kernel_larger_than_the_image():
    with pytest.raises(ShapeError, match="does not fit"):
        correlate2d(np.zeros((2, 8), np.uint8), kernel="box_3", padding="valid")
    assert correlate2d(np.zeros((2, 8), np.uint8), kernel="box_3", padding="same").shape == (2, 8)
    assert correlate2d(np.zeros((1, 1), np.uint8), kernel="box_5", padding="full").shape == (5, 5)


# -------------------------------------------------------------------------------------------------- pooling

def test_pooling_known_answers():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    mx = pool2d(img)
    assert mx.dtype == np.uint8 and mx.tolist() == [[5, 7], [13, 15]]
    avg = pool2d(img, mode="avg")
    assert avg.dtype == np.float32 and avg.tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert pool2d(img, mode="sum").tolist() == [[10, 18], [42, 50]]
    assert pool2d(img, size=2, stride=1).tolist() == [[5, 6, 7], [9, 10, 11], [13, 14, 15]]
    assert pool2d(img, size=3, stride=1, mode="sum").tolist() == [[45, 54], [81, 90]]
    assert pool2d(img, size=4).tolist() == [[15]]
    assert pool2d(np.arange(25, dtype=np.uint8).reshape(5, 5), size=2).tolist() == [[6, 8], [16, 18]]  # floor
    rgb = np.dstack([img, 15 - img, img * 2])
    assert np.array_equal(pool2d(rgb), np.dstack([pool2d(img), pool2d(15 - img), pool2d(img * 2)]))


@pytest.mark.parametrize("size, stride", [(2, None), (3, None), (2, 1), (3, 2), (2, 3), (5, 4), (1, 1), (1, 2)])
@pytest.mark.parametrize("shape", [(17, 23), (16, 16, 3), (9, 31, 3)])
def test_pooling_equals_window_reductions(size, stride, shape):
    img = RNG.integers(0, 256, shape, dtype=np.uint8)
    step = stride or size
    win = sliding_window_view(img, (size, size), axis=(0, 1))[::step, ::step]
    for mode, reduce in (("max", np.max), ("avg", np.mean), ("sum", np.sum)):
        got = pool2d(img, size=size, stride=stride, mode=mode)
        want = reduce(win.astype(np.float64), axis=(-2, -1))
        assert got.shape == want.shape and got.flags.c_contiguous
        assert np.allclose(got, want, atol=1e-3), (mode, size, stride, shape)


@pytest.mark.parametrize("kwargs, error", [({"size": 0}, InputError), ({"size": 2.0}, InputError),
                                           ({"stride": 0}, InputError), ({"mode": "min"}, InputError),
                                           ({"size": 9}, ShapeError)])
def test_pooling_bad_options(kwargs, error):
    with pytest.raises(error, match="expected"):
        pool2d(np.zeros((8, 8), np.uint8), **kwargs)


# ------------------------------------------------------------------------------------------------ bad images


@pytest.mark.parametrize("fn", [correlate2d, convolve2d], ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (2, 3), (1, 1, 3)])
def test_tiny_images(fn, shape):
    img = RNG.integers(0, 256, shape, dtype=np.uint8)
    out = fn(img)
    assert out.shape == shape and np.isfinite(out).all()
