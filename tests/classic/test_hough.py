"""Hough lines, segments and circles: drawn shapes are recovered; end points lie on the border and the line."""

import math

import cv2
import numpy as np
import pytest

from vision.classic import Circles, Lines
from vision.classic.hough import clip_lines, hough_circles, hough_lines, hough_segments
from vision.errors import DTypeError, InputError

H, W = 120, 160


def _line_image(lines, shape=(H, W)):
    """Thin (1 px) lines given as (ρ, θ in degrees), drawn far past the borders so cv2 clips them."""
    img = np.zeros(shape, np.uint8)
    for rho, deg in lines:
        t = math.radians(deg)
        x0, y0 = rho * math.cos(t), rho * math.sin(t)
        dx, dy = -math.sin(t), math.cos(t)
        p1 = (round(x0 - 1000 * dx), round(y0 - 1000 * dy))
        p2 = (round(x0 + 1000 * dx), round(y0 + 1000 * dy))
        cv2.line(img, p1, p2, 255, 1)
    return img


def _close(found: Lines, rho, deg, tol_px=1.0, tol_deg=1.0):
    """Some found line is within tol of (ρ, θ), counting (ρ, θ) ≡ (−ρ, θ − π)."""
    t = math.radians(deg)
    dt = np.abs(found.theta - t)
    same = (np.abs(found.rho - rho) <= tol_px) & (dt <= math.radians(tol_deg))
    wrapped = (np.abs(found.rho + rho) <= tol_px) & (math.pi - dt <= math.radians(tol_deg))
    return bool((same | wrapped).any())


DRAWN = [(40, 0), (70, 90), (100, 45), (20, 120), (90, 30), (-30, 150)]


def test_thin_drawn_lines_are_recovered_from_an_edge_map():
    img = _line_image(DRAWN)
    found = hough_lines(img, threshold=60, edges="input", min_distance=5, min_angle_deg=5, max_lines=20)
    for rho, deg in DRAWN:
        assert _close(found, rho, deg), f"line ρ={rho}, θ={deg}° not found in {found.to_dict()}"
    assert len(found) == len(DRAWN)  # suppression leaves one answer per line


@pytest.mark.parametrize("deg", [0, 30, 45, 90, 120, 150, 179])
def test_step_edges_are_recovered_through_canny(deg):
    t = math.radians(deg)
    rho = 0.5 * (W - 1) * math.cos(t) + 0.5 * (H - 1) * math.sin(t) + 7
    yy, xx = np.mgrid[:H, :W]
    img = np.where(xx * math.cos(t) + yy * math.sin(t) > rho, 200, 40).astype(np.uint8)
    found = hough_lines(np.dstack([img] * 3), threshold=60, min_distance=5, min_angle_deg=5)
    assert len(found) >= 1
    assert _close(Lines(found.segments[:1], found.rho[:1], found.theta[:1], found.votes[:1], found.image_shape),
                  rho, deg), f"strongest line {found.rho[0]}, {math.degrees(found.theta[0])}° is not ρ={rho:.1f}, {deg}°"


def test_lines_are_normalised_sorted_and_clipped_to_the_image():
    found = hough_lines(_line_image(DRAWN), threshold=40, edges="input", max_lines=200)
    assert len(found) > len(DRAWN)  # no suppression: neighbours of each peak show up too
    assert np.all((found.theta >= 0) & (found.theta < math.pi))
    assert np.all(np.diff(found.votes) <= 0), "not sorted by votes"
    assert found.image_shape == (H, W)
    c, s = np.cos(found.theta.astype(np.float64)), np.sin(found.theta.astype(np.float64))
    for k in (0, 2):
        x, y = found.segments[:, k].astype(np.float64), found.segments[:, k + 1].astype(np.float64)
        assert np.all((x >= 0) & (x <= W - 1) & (y >= 0) & (y <= H - 1)), "end point outside the image"
        on_border = (np.isclose(x, 0, atol=1e-3) | np.isclose(x, W - 1, atol=1e-3)
                     | np.isclose(y, 0, atol=1e-3) | np.isclose(y, H - 1, atol=1e-3))
        assert on_border.all(), "end point not on the image border"
        assert np.allclose(x * c + y * s, found.rho, atol=1e-2), "end point not on its line"
    assert (found.rho < 0).any(), "lines with θ > 90° through the image need negative ρ"


def test_max_lines_keeps_the_strongest():
    img = _line_image(DRAWN)
    every = hough_lines(img, threshold=40, edges="input", max_lines=1000)
    top = hough_lines(img, threshold=40, edges="input", max_lines=3)
    assert len(top) == 3
    assert top.votes.tolist() == every.votes[:3].tolist()


def test_clip_lines_border_cases():
    seg, inside = clip_lines([5.0, 0.0, 500.0, -3.0], [0.0, math.pi / 2, 0.3, 0.0], (10, 20))
    assert inside.tolist() == [True, True, False, False]
    assert seg[0].tolist() == [5.0, 0.0, 5.0, 9.0]       # vertical x = 5
    ends = sorted(map(tuple, np.round(seg[1].reshape(2, 2), 4).tolist()))
    assert ends == [(0.0, 0.0), (19.0, 0.0)]             # horizontal along the top row


def test_canny_on_a_thin_line_gives_its_two_sides():
    """Why edges='input' exists: Canny of a 1-px line is two edges, one each side."""
    img = _line_image([(50, 0)])
    via_canny = hough_lines(img, threshold=100)
    direct = hough_lines(img, threshold=100, edges="input")
    assert sorted(via_canny.rho.tolist()) == [49.0, 51.0]
    assert direct.rho.tolist() == [50.0]


def test_bool_edge_map_is_accepted_with_edges_input():
    mask = np.zeros((50, 60), bool)
    mask[:, 20] = True
    assert hough_lines(mask, threshold=30, edges="input").rho.tolist() == [20.0]
    with pytest.raises(DTypeError):
        hough_lines(mask)  # Canny needs a uint8 image


def test_segments_are_recovered_with_their_normal_form():
    img = np.zeros((H, W), np.uint8)
    cv2.line(img, (20, 30), (140, 100), 255, 1)
    cv2.line(img, (10, 110), (10, 20), 255, 1)
    found = hough_segments(img, edges="input", threshold=20, min_length=40, max_gap=3)
    assert np.all(found.votes == -1)
    assert np.all(np.diff(found.length) <= 0), "not sorted by length"
    for a, b in [((20, 30), (140, 100)), ((10, 110), (10, 20))]:
        ends = found.segments.reshape(-1, 2, 2)
        d1 = np.hypot(*(ends[:, 0] - a).T) + np.hypot(*(ends[:, 1] - b).T)
        d2 = np.hypot(*(ends[:, 0] - b).T) + np.hypot(*(ends[:, 1] - a).T)
        assert np.minimum(d1, d2).min() <= 4, f"segment {a}-{b} not found in {found.to_dict()}"
    c, s = np.cos(found.theta), np.sin(found.theta)
    for k in (0, 2):
        assert np.allclose(found.segments[:, k] * c + found.segments[:, k + 1] * s, found.rho, atol=1e-2)
    assert np.all((found.theta >= 0) & (found.theta < math.pi))


CIRCLES = [((50, 60), 30), ((130, 50), 20), ((120, 130), 35)]


def _circle_image(filled: bool):
    img = np.zeros((180, 200), np.uint8)
    for (x, y), r in CIRCLES:
        cv2.circle(img, (x, y), r, 220, -1 if filled else 2)
    return img


@pytest.mark.parametrize("filled", [False, True])
@pytest.mark.parametrize("method", ["gradient", "gradient_alt"])
def test_drawn_circles_are_recovered(filled, method):
    found = hough_circles(_circle_image(filled), min_radius=10, max_radius=60, method=method)
    assert isinstance(found, Circles) and len(found) == len(CIRCLES), found.to_dict()
    for (x, y), r in CIRCLES:
        d = np.hypot(found.centers[:, 0] - x, found.centers[:, 1] - y)
        i = int(d.argmin())
        assert d[i] <= 2 and abs(found.radii[i] - r) <= 2, f"circle {(x, y)}, r={r} vs {found.to_dict()}"
    assert np.all(np.diff(found.votes) <= 0) and np.all(found.votes > 0)


def test_circles_radius_range_and_max_circles():
    img = _circle_image(False)
    only_small = hough_circles(img, min_radius=15, max_radius=25)
    assert len(only_small) == 1 and abs(only_small.radii[0] - 20) <= 2
    assert len(hough_circles(img, min_radius=10, max_radius=60, max_circles=2)) == 2


@pytest.mark.parametrize("op", [hough_lines, hough_segments, hough_circles])
@pytest.mark.parametrize("shape", [(64, 64), (64, 64, 3), (1, 1), (1, 5)])
def test_blank_image_gives_an_empty_result(op, shape):
    out = op(np.zeros(shape, np.uint8))
    assert len(out) == 0 and out.image_shape == shape[:2]
    assert out.to_dict()["count"] == 0


@pytest.mark.parametrize("kwargs", [
    {"rho": 0}, {"theta_deg": 0}, {"theta_deg": 200}, {"threshold": 0}, {"threshold": 2.5},
    {"canny_low": 200, "canny_high": 100}, {"canny_low": -1}, {"max_lines": 0}, {"edges": "sobel"},
    {"min_distance": -1}, {"min_angle_deg": 95}, {"rho": float("nan")}, {"threshold": True},
])
def test_bad_line_options(kwargs):
    with pytest.raises(InputError, match="expected"):
        hough_lines(np.zeros((20, 20), np.uint8), **kwargs)


@pytest.mark.parametrize("kwargs", [{"min_length": -1}, {"max_gap": -5}, {"edges": "none"}, {"max_lines": 0}])
def test_bad_segment_options(kwargs):
    with pytest.raises(InputError, match="expected"):
        hough_segments(np.zeros((20, 20), np.uint8), **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"min_radius": 50, "max_radius": 10}, {"min_radius": -1}, {"max_radius": 0}, {"min_dist": 0}, {"dp": 0.5},
    {"threshold": 0}, {"perfectness": 1.5, "method": "gradient_alt"}, {"method": "ransac"}, {"blur": -1},
    {"canny_high": 0}, {"max_circles": 0},
])
def test_bad_circle_options(kwargs):
    with pytest.raises(InputError, match="expected"):
        hough_circles(np.zeros((20, 20), np.uint8), **kwargs)


def test_input_is_not_modified():
    img = _circle_image(False)
    before = img.copy()
    hough_lines(img)
    hough_segments(img)
    hough_circles(img)
    assert np.array_equal(img, before)


def test_registered_with_choices():
    from vision.classic import get_op

    assert get_op("hough_lines").func is hough_lines
    assert get_op("hough_lines").param("edges").choices == ("canny", "input")
    assert get_op("hough_circles").param("method").choices == ("gradient", "gradient_alt")
    assert {get_op(n).category for n in ("hough_lines", "hough_segments", "hough_circles")} == {"hough"}
