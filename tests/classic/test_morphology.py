"""Morphology: known answers on drawn shapes, bool in → bool out, agreement with SciPy/scikit-image, bad input."""

import cv2
import numpy as np
import pytest

from vision.classic.morphology import (
    blackhat,
    closing,
    dilate,
    erode,
    fill_holes,
    morph_gradient,
    opening,
    remove_small_objects,
    skeletonize,
    structuring_element,
    tophat,
)
from vision.errors import DTypeError, InputError, ShapeError

GREY_OPS = [erode, dilate, opening, closing, morph_gradient, tophat, blackhat]
BINARY_OPS = [skeletonize, fill_holes, remove_small_objects]


def _square(shape=(40, 40), box=(10, 30)):
    m = np.zeros(shape, bool)
    m[box[0]:box[1], box[0]:box[1]] = True
    return m


# ----------------------------------------------------------------------------------------- structuring element

def test_structuring_elements():
    assert structuring_element("cross", 3).tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    assert structuring_element("rect", 4).tolist() == np.ones((4, 4), np.uint8).tolist()
    assert structuring_element("rect", 1).tolist() == [[1]]
    e = structuring_element("ellipse", 7)
    # OpenCV's ellipse is mirror-symmetric but not transpose-symmetric (its rows are rounded differently)
    assert e.shape == (7, 7) and e[0, 0] == 0 and e[3, 3] == 1 and np.array_equal(e, e[::-1]) and np.array_equal(e, e[:, ::-1])
    assert structuring_element("rect", (3, 5)).shape == (3, 5)


@pytest.mark.parametrize("shape, size", [("hex", 3), ("rect", 0), ("rect", -2), ("rect", 2.5), ("rect", (3,)),
                                         ("rect", True)])
def test_bad_structuring_element(shape, size):
    with pytest.raises(InputError, match="expected"):
        structuring_element(shape, size)


# ----------------------------------------------------------------------------------------- grey ops

@pytest.mark.parametrize("as_bool", [True, False])
def test_opening_removes_a_speck_and_keeps_the_square(as_bool):
    m = _square()
    m[3, 3] = True          # 1-px speck
    m[35:37, 2:4] = True    # 2×2 speck
    img = m if as_bool else m.astype(np.uint8) * 255
    out = opening(img, size=3)
    assert out.dtype == img.dtype and out.shape == img.shape
    assert np.array_equal(out.astype(bool), _square())


@pytest.mark.parametrize("as_bool", [True, False])
def test_closing_fills_a_small_hole(as_bool):
    m = _square()
    m[20, 20] = False
    m[15:17, 24:26] = False
    img = m if as_bool else m.astype(np.uint8) * 200
    out = closing(img, size=3)
    assert out.dtype == img.dtype
    assert np.array_equal(out.astype(bool), _square())


def test_erode_and_dilate_move_the_outline_by_the_radius():
    m = _square()
    assert np.array_equal(erode(m, size=3), _square(box=(11, 29)))
    assert np.array_equal(dilate(m, size=3), _square(box=(9, 31)))
    assert np.array_equal(erode(m, size=3, iterations=2), erode(m, size=5))  # two 3×3 = one 5×5 for rectangles


def test_cross_element_keeps_diagonal_corners_on_dilation():
    m = np.zeros((7, 7), bool)
    m[3, 3] = True
    assert np.array_equal(dilate(m, shape="cross", size=3).view(np.uint8)[2:5, 2:5], structuring_element("cross", 3))


def test_gradient_is_the_outline():
    g = morph_gradient(_square(), size=3)
    expected = _square(box=(9, 31)) & ~_square(box=(11, 29))
    assert np.array_equal(g, expected)


def test_tophat_keeps_small_bright_details_and_blackhat_small_dark_ones():
    img = np.full((60, 60), 50, np.uint8)
    img[5:45, 5:45] = 200          # large bright plateau: not a detail
    img[52, 52] = 250              # small bright spot on the dark part
    img[20, 20] = 60               # small dark spot inside the plateau
    th = tophat(img, size=9)
    assert th[52, 52] == 200 and th[5:45, 5:45].max() == 0
    bh = blackhat(img, size=9)
    assert bh[20, 20] == 140 and bh[50:, 50:].max() == 0


def test_rgb_is_processed_per_channel():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    for op in GREY_OPS:
        out = op(img, shape="ellipse", size=5)
        assert out.shape == img.shape and out.dtype == np.uint8
        for ch in range(3):
            assert np.array_equal(out[:, :, ch], op(np.ascontiguousarray(img[:, :, ch]), shape="ellipse", size=5))


def test_grey_erosion_matches_scikit_image():
    from skimage.morphology import dilation, erosion

    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (50, 50), dtype=np.uint8)
    fp = structuring_element("ellipse", 5).astype(bool)
    # interior only: the two libraries pad differently, both so that the border does not leak in
    assert np.array_equal(erode(img, shape="ellipse", size=5)[2:-2, 2:-2], erosion(img, fp)[2:-2, 2:-2])
    assert np.array_equal(dilate(img, shape="ellipse", size=5)[2:-2, 2:-2], dilation(img, fp)[2:-2, 2:-2])


def test_border_does_not_erode_or_dilate():
    assert erode(np.ones((8, 8), bool), size=5).all()
    assert not dilate(np.zeros((8, 8), bool), size=5).any()


def test_even_size_anchor_is_the_centre_pixel():
    m = np.zeros((9, 9), bool)
    m[4, 4] = True
    # anchor (1, 1) of a 2×2 element: each output pixel looks at itself and its up/left neighbours,
    # so a dilated point grows down/right and an eroded square loses its top row and left column
    assert np.argwhere(dilate(m, size=2)).tolist() == [[4, 4], [4, 5], [5, 4], [5, 5]]
    assert np.array_equal(erode(_square(), size=2), _square(box=(11, 30)))


# ----------------------------------------------------------------------------------------- binary ops

@pytest.mark.parametrize("method", ["zhang", "lee"])
def test_skeleton_of_a_thick_line_is_one_pixel_wide(method):
    m = np.zeros((60, 100), np.uint8)
    cv2.line(m, (10, 30), (90, 30), 255, 7)
    cv2.line(m, (15, 50), (85, 10), 255, 7)
    sk = skeletonize(m, method=method)
    assert sk.dtype == np.bool_ and sk.any()
    assert not (sk & ~(m > 0)).any(), "skeleton leaves the shape"
    assert np.count_nonzero(sk[:, 40]) <= 2                     # horizontal bar + the diagonal crossing column 40
    assert np.count_nonzero(sk[24:37, 20]) == 1                 # one pixel across the bar, away from the crossing
    blocks = sk[:-1, :-1] & sk[1:, :-1] & sk[:-1, 1:] & sk[1:, 1:]
    assert not blocks.any(), "a 2×2 block of skeleton pixels: not 1 px wide"


def test_fill_holes_on_a_ring_gives_the_disc():
    outer = np.zeros((64, 64), np.uint8)
    inner = np.zeros((64, 64), np.uint8)
    cv2.circle(outer, (32, 30), 20, 1, -1)
    cv2.circle(inner, (32, 30), 16, 1, -1)
    ring = outer.astype(bool) & ~inner.astype(bool)
    assert np.array_equal(fill_holes(ring), outer.astype(bool))
    assert np.array_equal(fill_holes(ring.astype(np.uint8) * 255), outer.astype(bool))


def test_fill_holes_keeps_open_bays_and_matches_scipy():
    from scipy import ndimage

    cup = _square()
    cup[12:30, 14:26] = False       # opening reaches the bottom edge of the square, not the image border
    cup[30:, 14:26] = False
    assert np.array_equal(fill_holes(cup), ndimage.binary_fill_holes(cup))
    rng = np.random.default_rng(3)
    for _ in range(5):
        m = rng.random((40, 50)) > 0.45
        assert np.array_equal(fill_holes(m), ndimage.binary_fill_holes(m))


def test_remove_small_objects_drops_components_below_the_size():
    m = np.zeros((40, 60), bool)
    m[2:4, 2:7] = True              # 10 px
    m[10:17, 2:11] = True           # 63 px
    m[20:28, 2:10] = True           # 64 px
    m[30:40, 30:40] = True          # 100 px
    out = remove_small_objects(m, min_size=64)
    expected = np.zeros_like(m)
    expected[20:28, 2:10] = True
    expected[30:40, 30:40] = True
    assert np.array_equal(out, expected)
    assert np.array_equal(remove_small_objects(m, min_size=0), m)


def test_remove_small_objects_connectivity_and_scikit_image():
    from skimage.morphology import remove_small_objects as sk_remove

    diag = np.zeros((10, 10), bool)
    diag[2, 2] = diag[3, 3] = True  # 2 px joined only diagonally
    assert remove_small_objects(diag, min_size=2, connectivity=8).sum() == 2
    assert remove_small_objects(diag, min_size=2, connectivity=4).sum() == 0
    rng = np.random.default_rng(4)
    m = rng.random((80, 80)) > 0.6
    for conn, sk_conn in ((4, 1), (8, 2)):
        assert np.array_equal(remove_small_objects(m, min_size=5, connectivity=conn),
                              sk_remove(m, max_size=4, connectivity=sk_conn))


# ----------------------------------------------------------------------------------------- bad input

BAD_GREY = [
    (np.zeros((10, 10), np.float32), DTypeError), (np.zeros((10, 10), np.uint16), DTypeError),
    (np.zeros((10, 10, 4), np.uint8), ShapeError), (np.zeros((0, 10), np.uint8), ShapeError),
    (np.zeros((10, 10, 3), bool), ShapeError), (np.zeros((0, 10), bool), ShapeError),
]
BAD_BINARY = [
    (np.zeros((10, 10), np.float32), DTypeError), (np.zeros((10, 10), np.uint16), DTypeError),
    (np.zeros((10, 10, 3), np.uint8), ShapeError), (np.zeros((10, 10, 4), np.uint8), ShapeError),
    (np.zeros((0, 10), np.uint8), ShapeError), (np.zeros((0, 10), bool), ShapeError),
]


@pytest.mark.parametrize("op", GREY_OPS)
@pytest.mark.parametrize("image, error", BAD_GREY)
def test_grey_ops_reject_bad_images(op, image, error):
    with pytest.raises(error, match="expected"):
        op(image)


@pytest.mark.parametrize("op", BINARY_OPS)
@pytest.mark.parametrize("image, error", BAD_BINARY)
def test_binary_ops_reject_bad_images(op, image, error):
    with pytest.raises(error, match="expected"):
        op(image)


@pytest.mark.parametrize("op", GREY_OPS)
@pytest.mark.parametrize("kwargs", [{"shape": "disc"}, {"size": 0}, {"iterations": 0}, {"iterations": 1.5},
                                    {"iterations": 101}])
def test_grey_ops_reject_bad_options(op, kwargs):
    with pytest.raises(InputError, match="expected"):
        op(np.zeros((10, 10), np.uint8), **kwargs)


@pytest.mark.parametrize("call", [
    lambda m: skeletonize(m, method="medial"),
    lambda m: remove_small_objects(m, min_size=-1),
    lambda m: remove_small_objects(m, connectivity=6),
    lambda m: remove_small_objects(m, connectivity=2),
])
def test_binary_ops_reject_bad_options(call):
    with pytest.raises(InputError, match="expected"):
        call(np.zeros((10, 10), bool))


def test_inputs_are_not_modified():
    m = _square()
    m[3, 3] = True
    before = m.copy()
    img = m.astype(np.uint8) * 255
    img_before = img.copy()
    for op in GREY_OPS:
        op(m)
        op(img)
    for op in BINARY_OPS:
        op(m)
        op(img)
    assert np.array_equal(m, before) and np.array_equal(img, img_before)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (2, 3), (1, 1, 3)])
def test_tiny_images(shape):
    img = np.full(shape, 7, np.uint8)
    for op in GREY_OPS:
        assert op(img, size=5).shape == shape
    if len(shape) == 2:
        for op in BINARY_OPS:
            assert op(img).shape == shape


def test_registered():
    from vision.classic import get_op

    for op in GREY_OPS + BINARY_OPS:
        spec = get_op(op.__name__)
        assert spec.func is op and spec.category == "morphology"
    assert get_op("erode").param("shape").choices == ("rect", "ellipse", "cross")
    assert get_op("remove_small_objects").param("connectivity").choices == (4, 8)
