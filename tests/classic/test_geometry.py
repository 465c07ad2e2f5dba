"""Geometry ops: matrices move points as the image moved, sizes, expand, shear angle, perspective, document scan."""

import math

import cv2
import numpy as np
import pytest

from vision.classic import Warped, get_op, list_ops
from vision.classic.geometry import (
    affine,
    crop,
    document_scan,
    flip,
    pad,
    perspective,
    resize,
    rotate,
    scale,
    shear,
    transform_boxes,
    transform_points,
)
from vision.errors import InputError, ShapeError

FUNCS = {f.__name__: f for f in (scale, resize, rotate, shear, affine, perspective, document_scan, flip, crop, pad)}
GEOMETRY_OPS = list(FUNCS)
RNG = np.random.default_rng(7)
PHOTO = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)


def _marker(h=60, w=80, x=23, y=17):
    """A black gray image with a 3×3 white square centred on pixel (x, y)."""
    img = np.zeros((h, w), np.uint8)
    img[y - 1:y + 2, x - 1:x + 2] = 255
    return img


def _centroid(img):
    ys, xs = np.nonzero(img)
    wts = img[ys, xs].astype(float)
    return np.array([(xs * wts).sum() / wts.sum(), (ys * wts).sum() / wts.sum()])


QUAD_SRC = [[5, 4], [70, 8], [75, 55], [2, 50]]
QUAD_DST = [[0, 0], [79, 0], [79, 59], [0, 59]]
MARKER_CASES = {
    "rotate 30": lambda im: rotate(im, angle=30),
    "rotate -50 expand": lambda im: rotate(im, angle=-50, expand=True),
    "rotate about a point": lambda im: rotate(im, angle=75, center=(30, 30)),
    "rotate 90 expand": lambda im: rotate(im, angle=90, expand=True),
    "scale 1.5×0.75": lambda im: scale(im, fx=1.5, fy=0.75),
    "scale 3 nearest": lambda im: scale(im, fx=3, interpolation="nearest"),
    "scale 0.5 area": lambda im: scale(im, fx=0.5, interpolation="area"),
    "resize width": lambda im: resize(im, width=200),
    "shear x": lambda im: shear(im, factor=0.7),
    "shear y 120°": lambda im: shear(im, axis="y", angle_deg=120),
    "shear x no expand": lambda im: shear(im, factor=-0.4, expand=False),
    "affine points": lambda im: affine(im, src=[[0, 0], [79, 0], [0, 59]], dst=[[10, 5], [70, 15], [5, 55]]),
    "affine matrix": lambda im: affine(im, matrix=[[0.8, 0.2, 5], [-0.1, 0.9, 8]], output_size=(90, 70)),
    "perspective": lambda im: perspective(im, src=QUAD_SRC, dst=QUAD_DST),
    "flip horizontal": lambda im: flip(im),
    "flip vertical": lambda im: flip(im, axis="vertical"),
    "flip both": lambda im: flip(im, axis="both"),
    "crop": lambda im: crop(im, x=10, y=5, width=30, height=40),
    "pad": lambda im: pad(im, top=7, left=11, bottom=2, right=3, mode="reflect"),
}


@pytest.mark.parametrize("case", list(MARKER_CASES))
def test_marker_lands_where_transform_points_says(case):
    img = _marker()
    out = MARKER_CASES[case](img)
    assert isinstance(out, Warped) and out.matrix.shape == (3, 3)
    expected = transform_points([[23, 17]], out.matrix)[0]
    found = out.image.copy()
    if case == "pad":          # reflect copies the marker into the border too: look near the prediction only
        found[:, :int(expected[0]) - 6] = 0
    got = _centroid(found)
    assert np.abs(got - expected).max() <= 1.0, f"{case}: marker at {got}, matrix says {expected}"


@pytest.mark.parametrize("angle", [0.0, 17.0, 90.0, -123.5, 200.0])
def test_rotation_matrix_is_r_theta_about_the_centre(angle):
    img = np.zeros((40, 60, 3), np.uint8)
    out = rotate(img, angle=angle)
    t = math.radians(angle)
    r = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])   # counter-clockwise on screen (y down)
    c = np.array([29.5, 19.5])
    pts = np.array([[0, 0], [59, 0], [10, 30], [29.5, 19.5], [100, -20]], float)
    np.testing.assert_allclose(transform_points(pts, out.matrix), (pts - c) @ r.T + c, atol=1e-9)
    assert out.image.shape == img.shape


def test_positive_angle_turns_counter_clockwise_on_screen():
    out = rotate(np.zeros((51, 51), np.uint8), angle=90)
    # a point right of the centre goes above it (smaller y) for a counter-clockwise quarter turn
    np.testing.assert_allclose(transform_points([35, 25], out.matrix), [25, 15], atol=1e-9)


@pytest.mark.parametrize("angle", [10.0, 45.0, 90.0, 135.0, -30.0, 200.0, 271.0])
def test_expand_keeps_every_corner_and_the_whole_picture(angle):
    h, w = 30, 50
    out = rotate(np.full((h, w), 255, np.uint8), angle=angle, expand=True)
    H, W = out.image.shape
    corners = transform_points([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], out.matrix)
    assert (corners >= -1e-6).all() and (corners[:, 0] <= W - 1 + 1e-6).all() and (corners[:, 1] <= H - 1 + 1e-6).all()
    t = math.radians(angle)
    assert W <= math.ceil(w * abs(math.cos(t)) + h * abs(math.sin(t))) + 1        # tight canvas
    assert out.image.astype(float).sum() / 255 == pytest.approx(h * w, rel=0.03)  # nothing cut
    cut = rotate(np.full((h, w), 255, np.uint8), angle=angle)
    if angle % 180:
        assert cut.image.shape == (h, w) and cut.image.astype(float).sum() / 255 < 0.97 * h * w


def test_quarter_turns_are_exact():
    img = PHOTO
    np.testing.assert_array_equal(rotate(img, angle=90, expand=True).image, np.rot90(img, 1))
    np.testing.assert_array_equal(rotate(img, angle=-90, expand=True).image, np.rot90(img, -1))
    np.testing.assert_array_equal(rotate(img, angle=180).image, img[::-1, ::-1])
    np.testing.assert_array_equal(rotate(img, angle=360, expand=True).image, img)
    # the quick path agrees with a plain warp by the same matrix
    out = rotate(img, angle=90, expand=True)
    warped = cv2.warpAffine(img, out.matrix[:2], out.image.shape[1::-1], flags=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(out.image, warped)


def test_rotate_fill_and_border():
    out = rotate(PHOTO, angle=45, fill=(255, 0, 0))
    np.testing.assert_array_equal(out.image[0, 0], [255, 0, 0])
    gray = rotate(PHOTO[..., 0], angle=45, fill=9)
    assert gray.image.ndim == 2 and gray.image[0, 0] == 9
    rep = rotate(np.full((20, 20, 3), 77, np.uint8), angle=30, border="replicate")
    assert (rep.image == 77).all()


def test_shear_angle_cot_and_factor_agree():
    theta = 60.0
    a = 1 / math.tan(math.radians(theta))
    by_angle, by_cot, by_factor = (shear(PHOTO, angle_deg=theta), shear(PHOTO, cot=a), shear(PHOTO, factor=a))
    np.testing.assert_allclose(by_angle.matrix, by_factor.matrix, atol=1e-12)
    np.testing.assert_allclose(by_cot.matrix, by_factor.matrix, atol=1e-12)
    np.testing.assert_array_equal(by_angle.image, by_factor.image)
    np.testing.assert_array_equal(by_cot.image, by_factor.image)
    assert by_factor.matrix[0, 1] == pytest.approx(a)


@pytest.mark.parametrize("axis", ["x", "y"])
@pytest.mark.parametrize("theta", [30.0, 60.0, 90.0, 115.0])
def test_shear_angle_is_the_angle_between_the_sheared_edges(axis, theta):
    h, w = 40, 50
    out = shear(np.zeros((h, w), np.uint8), axis=axis, angle_deg=theta)
    o, right, down = transform_points([[0, 0], [w - 1, 0], [0, h - 1]], out.matrix)
    u, v = right - o, down - o
    got = math.degrees(math.acos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
    assert got == pytest.approx(theta, abs=1e-9)
    if axis == "x":
        assert v[0] * (90 - theta) >= 0 and u[1] == 0      # θ < 90: the bottom moves right; rows stay rows
    else:
        assert u[1] * (90 - theta) >= 0 and v[0] == 0      # θ < 90: the right side moves down
    if theta == 90:
        np.testing.assert_allclose(out.matrix, np.eye(3), atol=1e-12)
        assert out.image.shape == (h, w)


def test_shear_sizes():
    assert shear(np.zeros((40, 50), np.uint8), factor=0.5).image.shape == (40, 70)
    assert shear(np.zeros((40, 50), np.uint8), axis="y", factor=-1.0).image.shape == (90, 50)
    assert shear(np.zeros((40, 50), np.uint8), factor=0.5, expand=False).image.shape == (40, 50)


def test_perspective_maps_the_four_pairs_exactly():
    src = [[12.5, 7.0], [180.0, 20.0], [170.25, 140.0], [3.0, 120.0]]
    dst = [[0, 0], [199, 0], [199, 149], [0, 149]]
    out = perspective(np.zeros((150, 200, 3), np.uint8), src=src, dst=dst)
    np.testing.assert_allclose(transform_points(src, out.matrix), dst, atol=1e-3)
    np.testing.assert_allclose(transform_points(dst, np.linalg.inv(out.matrix)), src, atol=1e-3)
    assert out.image.shape == (150, 200, 3)
    same = perspective(PHOTO, matrix=out.matrix, output_size=(30, 20))
    assert same.image.shape == (20, 30, 3) and np.allclose(same.matrix, out.matrix)


def test_affine_from_points_and_identity_default():
    src, dst = [[0, 0], [10, 0], [0, 10]], [[5, 5], [25, 5], [5, 15]]
    out = affine(PHOTO, src=src, dst=dst)
    np.testing.assert_allclose(transform_points(src, out), dst, atol=1e-9)
    tiny = affine(PHOTO, matrix=[[1e-3, 0, 1e4], [0, 1e-3, -1e4]])      # far and small, yet invertible
    assert tiny.image.shape == PHOTO.shape and not tiny.image.any()
    ident = affine(PHOTO)
    np.testing.assert_array_equal(ident.image, PHOTO)
    assert not np.shares_memory(ident.image, PHOTO)


def _page_photo(seed=0, tilt=12.0, page=(300, 420), size=(560, 640)):
    """A white page with dark text lines, rotated and seen at a slant, on a blocky dark textured background."""
    rng = np.random.default_rng(seed)
    h, w = size
    bg = cv2.resize(rng.integers(0, 90, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    bg = cv2.add(bg, rng.integers(0, 40, (h, w, 3), dtype=np.uint8))
    pw, ph = page
    flat = np.full((ph, pw, 3), 235, np.uint8)
    for y in range(40, ph - 30, 22):
        cv2.line(flat, (30, y), (pw - 30 - int(rng.integers(0, 80)), y), (30, 30, 30), 3)
    t = math.radians(tilt)
    c = np.array([w / 2, h / 2])
    rect = np.array([[-pw, -ph], [pw, -ph], [pw, ph], [-pw, ph]]) / 2 * 0.95
    quad = rect @ np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]]) + c
    quad += np.array([[6, -4], [-5, 3], [4, 5], [-6, -2]])       # a slight perspective
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]]),
                                    quad.astype(np.float32))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h)) > 127
    out = bg.copy()
    out[mask] = cv2.warpPerspective(flat, m, (w, h))[mask]
    return out, quad


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_document_scan_recovers_the_page(seed):
    photo, quad = _page_photo(seed, tilt=[12.0, -20.0, 5.0][seed])
    out = document_scan(photo)
    h, w = out.image.shape[:2]
    assert w / h == pytest.approx(300 / 420, rel=0.04)
    found = transform_points([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.linalg.inv(out.matrix))
    assert np.abs(found - quad).max() < 4.0            # corners in tl, tr, br, bl order, within a few pixels
    page = out.image.mean(axis=2)
    rows = page[:, w // 4: w // 2].mean(axis=1)         # text lines come out horizontal: some rows dark, most white
    assert np.median(page) > 200 and rows.min() < 120


def test_document_scan_without_a_page_says_so():
    with pytest.raises(InputError, match="no quadrilateral found.*640×560"):
        document_scan(np.full((560, 640, 3), 90, np.uint8))
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    with pytest.raises(InputError, match="no quadrilateral found"):
        document_scan(noise)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "area", "lanczos"])
def test_scale_sizes(interpolation):
    out = scale(PHOTO, fx=1.5, fy=0.5, interpolation=interpolation)
    assert out.image.shape == (24, 96, 3) and out.image.dtype == np.uint8
    assert scale(PHOTO, fx=0.25, interpolation=interpolation).image.shape == (12, 16, 3)
    assert scale(PHOTO[..., 0], fx=2.0, interpolation=interpolation).image.shape == (96, 128)
    assert scale(PHOTO, fx=0.001, interpolation=interpolation).image.shape == (1, 1, 3)


def test_scale_nearest_keeps_the_values_and_area_averages():
    levels = np.array([3, 50, 101, 200, 254], np.uint8)
    img = levels[RNG.integers(0, 5, (20, 30))]
    up = scale(img, fx=2.0, interpolation="nearest").image
    np.testing.assert_array_equal(up, np.repeat(np.repeat(img, 2, 0), 2, 1))
    assert set(np.unique(scale(img, fx=1.7, fy=0.6, interpolation="nearest").image)) <= set(levels.tolist())
    assert len(np.unique(scale(img, fx=1.7, interpolation="bilinear").image)) > 5     # bilinear does interpolate
    down = scale(img, fx=0.5, interpolation="area").image
    np.testing.assert_allclose(down, img.reshape(10, 2, 15, 2).mean((1, 3)), atol=1)


def test_resize_sizes():
    img = np.zeros((40, 100), np.uint8)
    assert resize(img, width=50).image.shape == (20, 50)
    assert resize(img, height=10).image.shape == (10, 25)
    assert resize(img, width=50, height=50).image.shape == (20, 50)       # fits inside 50×50
    assert resize(img, width=50, height=50, keep_aspect=False).image.shape == (50, 50)
    assert resize(img, width=30, keep_aspect=False).image.shape == (40, 30)
    assert resize(img).image.shape == (40, 100)


@pytest.mark.parametrize("axis", ["horizontal", "vertical", "both"])
def test_flip_twice_is_identity(axis):
    once = flip(PHOTO, axis=axis)
    twice = flip(once.image, axis=axis)
    np.testing.assert_array_equal(twice.image, PHOTO)
    np.testing.assert_allclose(twice.matrix @ once.matrix, np.eye(3))
    expected = {"horizontal": PHOTO[:, ::-1], "vertical": PHOTO[::-1], "both": PHOTO[::-1, ::-1]}[axis]
    np.testing.assert_array_equal(once.image, expected)


def test_crop_and_pad():
    out = crop(PHOTO, x=5, y=6, width=10, height=7)
    np.testing.assert_array_equal(out.image, PHOTO[6:13, 5:15])
    assert not np.shares_memory(out.image, PHOTO)
    np.testing.assert_array_equal(crop(PHOTO, x=60, y=40).image, PHOTO[40:, 60:])
    for mode, np_mode in (("reflect", "reflect"), ("replicate", "edge"), ("wrap", "wrap")):
        got = pad(PHOTO, top=3, bottom=1, left=2, right=5, mode=mode).image
        np.testing.assert_array_equal(got, np.pad(PHOTO, ((3, 1), (2, 5), (0, 0)), mode=np_mode))
    const = pad(PHOTO, top=2, left=1, value=(1, 2, 3)).image
    assert const.shape == (50, 65, 3) and (const[0, 0] == [1, 2, 3]).all()
    np.testing.assert_array_equal(pad(PHOTO).image, PHOTO)


def test_transform_boxes():
    boxes = [[0, 0, 10, 10], [20, 5, 30, 25]]
    np.testing.assert_allclose(transform_boxes(boxes, flip(np.zeros((50, 100), np.uint8))),
                               [[90, 0, 100, 10], [70, 5, 80, 25]], atol=1e-9)
    np.testing.assert_allclose(transform_boxes(boxes, scale(np.zeros((50, 100), np.uint8), fx=2.0)),
                               [[0, 0, 20, 20], [40, 10, 60, 50]], atol=1e-9)
    np.testing.assert_allclose(transform_boxes(boxes, crop(np.zeros((50, 100), np.uint8), x=5, y=5).matrix,
                                               clip_to=(45, 95)), [[0, 0, 5, 5], [15, 0, 25, 20]], atol=1e-9)
    assert transform_boxes(np.zeros((0, 4)), np.eye(3)).shape == (0, 4)
    # a drawn rectangle, rotated: its moved box surrounds every pixel of it and no more than needed
    img = np.zeros((60, 80), np.uint8)
    img[10:30, 20:50] = 255
    out = rotate(img, angle=33, expand=True, interpolation="nearest")
    x1, y1, x2, y2 = transform_boxes([[20, 10, 50, 30]], out)[0]
    ys, xs = np.nonzero(out.image)
    assert x1 - 0.5 <= xs.min() and xs.max() + 1 <= x2 + 0.5 and y1 - 0.5 <= ys.min() and ys.max() + 1 <= y2 + 0.5
    assert xs.min() < x1 + 1.5 and ys.min() < y1 + 1.5


def test_transform_points_forms_and_errors():
    np.testing.assert_allclose(transform_points([1, 2], [[1, 0, 10], [0, 1, 20]]), [11, 22])
    assert transform_points(np.zeros((0, 2)), np.eye(3)).shape == (0, 2)
    with pytest.raises(ShapeError, match="N×2"):
        transform_points([[1, 2, 3]], np.eye(3))
    with pytest.raises(ShapeError, match="2×3 or 3×3.*4×4"):
        transform_points([[1, 2]], np.eye(4))
    with pytest.raises(InputError, match="maps to infinity"):
        transform_points([[1, 0]], [[1, 0, 0], [0, 1, 0], [-1, 0, 1]])
    with pytest.raises(InputError, match="x1 ≤ x2"):
        transform_boxes([[10, 0, 5, 5]], np.eye(3))
    with pytest.raises(InputError, match="clip_to"):
        transform_boxes([[0, 0, 5, 5]], np.eye(3), clip_to=5)


BAD_OPTIONS = [
    (lambda: shear(PHOTO, factor=0.5, angle_deg=60), InputError, r"one of factor, angle_deg or cot.*'factor': 0.5"),
    (lambda: shear(PHOTO, cot=1.0, angle_deg=60), InputError, "angle_deg"),
    (lambda: shear(PHOTO, angle_deg=0), InputError, r"\(0, 180\).*got 0"),
    (lambda: shear(PHOTO, angle_deg=180.0), InputError, "got 180"),
    (lambda: shear(PHOTO, factor=1e6), InputError, "32767"),
    (lambda: shear(PHOTO, axis="z"), InputError, r"\['x', 'y'\], got 'z'"),
    (lambda: affine(PHOTO, src=[[0, 0], [1, 0], [0, 1], [1, 1]], dst=[[0, 0], [1, 0], [0, 1], [1, 1]]),
     ShapeError, "expected 3 .*got shape 4×2"),
    (lambda: perspective(PHOTO, src=QUAD_SRC[:3], dst=QUAD_DST[:3]), ShapeError, "expected 4 .*got shape 3×2"),
    (lambda: perspective(PHOTO, src=[[0, 0], [1, 1], [2, 2], [0, 5]], dst=QUAD_DST), InputError, "lie on one line"),
    (lambda: affine(PHOTO, src=[[0, 0], [1, 0], [0, 1]], dst=[[0, 0], [1, 1], [2, 2]]), InputError, "dst: points"),
    (lambda: affine(PHOTO, src=[[0, 0], [1, 0], [0, 1]]), InputError, "go together"),
    (lambda: affine(PHOTO, matrix=np.eye(3), src=[[0, 0], [1, 0], [0, 1]], dst=[[0, 0], [1, 0], [0, 1]]),
     InputError, "not both"),
    (lambda: affine(PHOTO, matrix=[[1, 0, 0], [0, 1, 0], [0.1, 0, 1]]), InputError, r"last row \[0, 0, 1\]"),
    (lambda: affine(PHOTO, matrix=[[1, 2, 0], [2, 4, 0]]), InputError, "singular"),
    (lambda: affine(PHOTO, matrix=[[1, 0], [0, 1]]), ShapeError, "got shape 2×2"),
    (lambda: perspective(PHOTO, matrix=[[1, 2, 3], [2, 4, 6], [0.1, 0, 1]]), InputError, "singular"),
    (lambda: affine(PHOTO, matrix=[[np.nan, 0, 0], [0, 1, 0]]), InputError, "finite"),
    (lambda: perspective(PHOTO, matrix=np.eye(3), output_size=(0, 10)), InputError, "width.*got 0"),
    (lambda: perspective(PHOTO, matrix=np.eye(3), output_size=100), InputError, r"\(width, height\), got 100"),
    (lambda: rotate(PHOTO, angle=float("nan")), InputError, "angle.*nan"),
    (lambda: rotate(PHOTO, center=(1, 2, 3)), InputError, r"center: expected \(x, y\).*\(1, 2, 3\)"),
    (lambda: rotate(PHOTO, center=("a", 2)), InputError, "center x.*'a'"),
    (lambda: rotate(PHOTO, interpolation="cubic"), InputError, "interpolation.*'cubic'"),
    (lambda: rotate(PHOTO, border="wrap"), InputError, "border.*'wrap'"),
    (lambda: rotate(PHOTO, fill=300), InputError, "0..255.*300"),
    (lambda: rotate(PHOTO, fill=(1, 2)), InputError, r"fill.*\(1, 2\)"),
    (lambda: rotate(PHOTO, angle=90, expand=True, interpolation="cubic"), InputError, "'cubic'"),
    (lambda: scale(PHOTO, fx=0), InputError, "fx.*> 0.*got 0"),
    (lambda: scale(PHOTO, fx=2, fy=-1), InputError, "fy.*got -1"),
    (lambda: scale(PHOTO, fx=1000), InputError, "32767"),
    (lambda: scale(PHOTO, interpolation="linear"), InputError, "'linear'"),
    (lambda: resize(PHOTO, width=0), InputError, "width.*≥ 1, got 0"),
    (lambda: resize(PHOTO, width=10.5), InputError, "10.5"),
    (lambda: flip(PHOTO, axis="x"), InputError, "horizontal.*got 'x'"),
    (lambda: crop(PHOTO, x=60, width=10), InputError, "64×48"),
    (lambda: crop(PHOTO, y=48), InputError, "64×48"),
    (lambda: crop(PHOTO, x=-1), InputError, "x.*got -1"),
    (lambda: crop(PHOTO, width=0), InputError, "width.*got 0"),
    (lambda: pad(PHOTO, top=-2), InputError, "top.*got -2"),
    (lambda: pad(PHOTO, mode="symmetric"), InputError, "'symmetric'"),
    (lambda: pad(PHOTO, left=1, value=(1, 2)), InputError, r"value: .*\(1, 2\)"),
    (lambda: document_scan(PHOTO, blur=4), InputError, "blur.*odd.*4"),
    (lambda: document_scan(PHOTO, low=200, high=100), InputError, "low=200"),
    (lambda: document_scan(PHOTO, min_area=2), InputError, "min_area.*2"),
]


@pytest.mark.parametrize("i", range(len(BAD_OPTIONS)))
def test_bad_options_raise_typed_errors_naming_the_value(i):
    call, error, pattern = BAD_OPTIONS[i]
    before = PHOTO.copy()
    with pytest.raises(error, match=pattern):
        call()
    np.testing.assert_array_equal(PHOTO, before)


@pytest.mark.parametrize("name", GEOMETRY_OPS)
def test_registered_and_input_untouched(name):
    assert name in list_ops("geometry")
    spec = get_op(name)
    assert spec.category == "geometry" and spec.summary
    img = _page_photo(0)[0] if name == "document_scan" else PHOTO
    before = img.copy()
    out = spec(img)
    assert isinstance(out, Warped) and out.image.dtype == np.uint8 and out.image.ndim == 3
    assert np.isfinite(out.matrix).all()
    np.testing.assert_array_equal(img, before)
    assert not np.shares_memory(out.image, img)
    for p in spec.params:
        if p.name == "interpolation":
            assert p.choices == ("nearest", "bilinear", "bicubic", "area", "lanczos")
