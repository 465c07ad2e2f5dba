"""Hough transforms: straight lines (ρ, θ) clipped to the image, probabilistic segments, and circles.

Every op takes a uint8 gray or RGB image (RGB is converted to gray). Lines and segments are found on edges:
by default Canny runs inside the op with ``canny_low``/``canny_high``; pass ``edges="input"`` when the image
already is an edge map (the output of the ``canny`` op, or any mask where non-zero pixels vote) — running
Canny on an edge map would double every edge. Circles use OpenCV's gradient Hough, which runs its own Canny.

Results are :class:`~vision.classic.results.Lines` and :class:`~vision.classic.results.Circles`, strongest
first; draw them with :func:`vision.viz.annotate`.
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.results import Circles, Lines
from vision.classic.validate import check_gray, check_mask, check_number
from vision.errors import InputError

__all__ = ["clip_lines", "hough_circles", "hough_lines", "hough_segments"]

_LINE_RANGES = {"rho": (0.5, 10.0), "theta_deg": (0.1, 10.0), "threshold": (1, 1000), "canny_low": (0, 1000),
                "canny_high": (0, 1000), "max_lines": (1, 1000)}
_SUPPRESS_RANGES = {"min_distance": (0.0, 100.0), "min_angle_deg": (0.0, 90.0)}
_LINE_HELP = {
    "rho": "distance resolution of the accumulator, pixels",
    "theta_deg": "angle resolution of the accumulator, degrees",
    "threshold": "minimum number of edge pixels (votes) on a line",
    "canny_low": "lower Canny hysteresis threshold (edges='canny')",
    "canny_high": "upper Canny hysteresis threshold (edges='canny')",
    "max_lines": "keep at most this many lines, strongest first",
    "edges": "'canny': detect edges first; 'input': the image is already an edge map (non-zero pixels vote)",
}


def _edge_map(image: object, edges: str, canny_low: float, canny_high: float) -> np.ndarray:
    if edges == "input":
        arr = np.asarray(image)
        return check_mask(arr, name="image").view(np.uint8) if arr.dtype == np.bool_ else check_gray(arr)
    gray = check_gray(image)
    if edges != "canny":
        raise InputError(f"edges: expected 'canny' or 'input', got {edges!r}")
    lo = check_number(canny_low, name="canny_low", low=0)
    hi = check_number(canny_high, name="canny_high", low=0)
    if lo > hi:
        raise InputError(f"canny_low: expected ≤ canny_high ({canny_high!r}), got {canny_low!r}")
    return cv2.Canny(gray, lo, hi)


def clip_lines(rho: np.ndarray, theta: np.ndarray, image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Clip lines ``x·cosθ + y·sinθ = ρ`` to the pixel-centre rectangle [0, W−1] × [0, H−1] (Liang–Barsky).

    Hand-written because OpenCV's ``clipLine`` takes integer segments, not infinite lines. Vectorised.

    Args:
        rho: N distances in pixels; theta: N normal angles in radians.
        image_shape: (height, width).

    Returns:
        ``(segments, inside)``: N×4 float32 end points (x1, y1, x2, y2), valid where the boolean N-vector
        ``inside`` is true (lines that miss the rectangle have ``inside`` false).
    """
    rho = np.asarray(rho, np.float64).reshape(-1)
    theta = np.asarray(theta, np.float64).reshape(-1)
    h, w = int(image_shape[0]), int(image_shape[1])
    c, s = np.cos(theta), np.sin(theta)
    p = np.stack([rho * c, rho * s], axis=1)            # foot of the normal: a point on each line
    d = np.stack([-s, c], axis=1)                        # unit direction along each line
    lo = np.array([0.0, 0.0])
    hi = np.array([w - 1.0, h - 1.0])
    flat = np.abs(d) < 1e-12                             # parallel to that axis: inside or out, no bound on t
    with np.errstate(divide="ignore", invalid="ignore"):
        t_a = (lo - p) / d
        t_b = (hi - p) / d
    t_min = np.where(flat, -np.inf, np.minimum(t_a, t_b))
    t_max = np.where(flat, np.inf, np.maximum(t_a, t_b))
    out_flat = flat & ((p < lo - 1e-9) | (p > hi + 1e-9))
    t0 = t_min.max(axis=1)
    t1 = t_max.min(axis=1)
    inside = (t0 <= t1 + 1e-9) & ~out_flat.any(axis=1)
    t0 = np.where(inside, t0, 0.0)
    t1 = np.where(inside, t1, 0.0)
    a = np.clip(p + t0[:, None] * d, lo, hi)
    b = np.clip(p + t1[:, None] * d, lo, hi)
    return np.concatenate([a, b], axis=1).astype(np.float32), inside


def _empty_lines(shape: tuple[int, ...]) -> Lines:
    return Lines(np.zeros((0, 4), np.float32), [], [], [], shape[:2])


@register_op("hough_lines", category="hough", ranges={**_LINE_RANGES, **_SUPPRESS_RANGES},
             help={**_LINE_HELP, "min_distance": "drop lines this close in ρ (and min_angle_deg in θ) to a stronger one",
                   "min_angle_deg": "drop lines this close in θ (and min_distance in ρ) to a stronger one"})
def hough_lines(image: np.ndarray, *, rho: float = 1.0, theta_deg: float = 1.0, threshold: int = 150,
                canny_low: float = 50.0, canny_high: float = 150.0, max_lines: int = 50,
                min_distance: float = 0.0, min_angle_deg: float = 0.0,
                edges: Literal["canny", "input"] = "canny") -> Lines:
    """Find straight lines with the standard Hough transform; each is (ρ, θ) plus end points clipped to the image.

    Edges come from Canny (or the image itself with ``edges="input"``); ``cv2.HoughLinesWithAccumulator``
    gives each line its votes. θ is the normal's angle in [0, π) and ρ the signed distance from the top-left
    pixel, so ``x·cosθ + y·sinθ = ρ`` (ρ < 0 for lines whose normal points up-left of the origin). The end
    points are where the infinite line crosses the pixel-centre rectangle [0, W−1] × [0, H−1]; lines that do
    not cross it are dropped.

    Args:
        image: uint8 H×W or H×W×3 RGB.
        rho: accumulator distance step in pixels (> 0).
        theta_deg: accumulator angle step in degrees (0 < θ ≤ 180).
        threshold: minimum votes (edge pixels on the line) to report a line (≥ 1).
        canny_low, canny_high: Canny hysteresis thresholds (``canny_low ≤ canny_high``).
        max_lines: keep at most this many lines, most votes first.
        min_distance, min_angle_deg: drop a line lying within ``min_distance`` pixels in ρ *and*
            ``min_angle_deg`` degrees in θ of a stronger one (as scikit-image's ``hough_line_peaks``, which
            uses 9 px and 10°). Both 0 (the default) keep OpenCV's answer as it is; a thin drawn line or a
            Canny edge pair then shows up as several neighbouring (ρ, θ).
        edges: ``"canny"`` or ``"input"`` (the image already is an edge map, uint8 or a bool mask;
            non-zero pixels vote).

    Returns:
        Lines sorted by votes, strongest first.

    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: an option out of range.

    Example:
        >>> img = np.zeros((100, 100), np.uint8); img[:, 40] = 255
        >>> float(hough_lines(img, threshold=50, edges="input").rho[0])
        40.0
    """
    edge = _edge_map(image, edges, canny_low, canny_high)
    rho_step = check_number(rho, name="rho", low=0, low_open=True)
    theta_step = math.radians(check_number(theta_deg, name="theta_deg", low=0, high=180, low_open=True))
    votes_min = check_number(threshold, name="threshold", low=1, integer=True)
    keep = check_number(max_lines, name="max_lines", low=1, integer=True)
    near_rho = check_number(min_distance, name="min_distance", low=0)
    near_theta = math.radians(check_number(min_angle_deg, name="min_angle_deg", low=0, high=90))
    found = cv2.HoughLinesWithAccumulator(edge, rho_step, theta_step, votes_min)
    if found is None or len(found) == 0:
        return _empty_lines(edge.shape)
    found = found.reshape(-1, 3).astype(np.float64)
    r, t, v = found[:, 0], found[:, 1], found[:, 2]
    wrap = t >= math.pi                                   # keep θ in [0, π): flip the normal instead
    t = np.where(wrap, t - math.pi, t)
    r = np.where(wrap, -r, r)
    segments, inside = clip_lines(r, t, edge.shape)
    segments, r, t, v = segments[inside], r[inside], t[inside], v[inside]
    order = np.argsort(-v, kind="stable")
    if near_rho > 0 and near_theta > 0:
        order = _suppress(r[order], t[order], near_rho, near_theta, keep, order)
    order = order[:keep]
    return Lines(segments[order], r[order], t[order], np.rint(v[order]).astype(np.int64), edge.shape[:2])


def _suppress(rho: np.ndarray, theta: np.ndarray, near_rho: float, near_theta: float, keep: int,
              index: np.ndarray) -> np.ndarray:
    """Greedy non-maximum suppression of lines given strongest first; returns the kept entries of ``index``.

    (ρ, θ) and (−ρ, θ − π) are the same line, so neighbours are also looked for across θ = 0 / π.
    Hand-written: OpenCV has no line suppression; each step is one vectorised pass over the candidates.
    """
    alive = np.ones(len(rho), bool)
    kept: list[int] = []
    for i in range(len(rho)):
        if not alive[i]:
            continue
        kept.append(i)
        if len(kept) == keep:
            break
        dt = np.abs(theta - theta[i])
        same = (np.abs(rho - rho[i]) <= near_rho) & (dt <= near_theta)
        wrapped = (np.abs(rho + rho[i]) <= near_rho) & (math.pi - dt <= near_theta)
        alive &= ~(same | wrapped)
    return index[np.asarray(kept, np.int64)]


@register_op("hough_segments", category="hough",
             ranges={**_LINE_RANGES, "threshold": (1, 1000), "min_length": (0, 2000), "max_gap": (0, 500)},
             help={**_LINE_HELP, "min_length": "shortest segment to report, pixels",
                   "max_gap": "largest gap between points joined into one segment, pixels",
                   "max_lines": "keep at most this many segments, longest first"})
def hough_segments(image: np.ndarray, *, rho: float = 1.0, theta_deg: float = 1.0, threshold: int = 50,
                   min_length: float = 30.0, max_gap: float = 10.0, canny_low: float = 50.0,
                   canny_high: float = 150.0, max_lines: int = 50,
                   edges: Literal["canny", "input"] = "canny") -> Lines:
    """Find line segments with the probabilistic Hough transform (``cv2.HoughLinesP``).

    Each segment also gets the normal form (ρ, θ) of the line through it (θ in [0, π)). HoughLinesP reports
    no votes, so ``votes`` is -1 and segments are sorted by length, longest first.

    Args:
        image: uint8 H×W or H×W×3 RGB.
        rho, theta_deg, threshold, canny_low, canny_high, edges: as in :func:`hough_lines`.
        min_length: shortest segment to report, pixels (≥ 0).
        max_gap: largest gap between collinear points joined into one segment, pixels (≥ 0).
        max_lines: keep at most this many segments, longest first.

    Returns:
        Lines whose segments are the detected pieces (not extended to the image border).

    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: an option out of range.
    """
    edge = _edge_map(image, edges, canny_low, canny_high)
    rho_step = check_number(rho, name="rho", low=0, low_open=True)
    theta_step = math.radians(check_number(theta_deg, name="theta_deg", low=0, high=180, low_open=True))
    votes_min = check_number(threshold, name="threshold", low=1, integer=True)
    length = check_number(min_length, name="min_length", low=0)
    gap = check_number(max_gap, name="max_gap", low=0)
    keep = check_number(max_lines, name="max_lines", low=1, integer=True)
    found = cv2.HoughLinesP(edge, rho_step, theta_step, votes_min, minLineLength=length, maxLineGap=gap)
    if found is None or len(found) == 0:
        return _empty_lines(edge.shape)
    seg = found.reshape(-1, 4).astype(np.float64)
    dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    theta = np.mod(np.arctan2(dx, -dy), math.pi)           # normal ⟂ (dx, dy), folded into [0, π)
    theta = np.where(theta >= math.pi, 0.0, theta)
    r = seg[:, 0] * np.cos(theta) + seg[:, 1] * np.sin(theta)
    order = np.argsort(-np.hypot(dx, dy), kind="stable")[:keep]
    return Lines(seg[order], r[order], theta[order], np.full(len(order), -1, np.int64), edge.shape[:2])


@register_op("hough_circles", category="hough",
             ranges={"min_radius": (0, 1000), "max_radius": (1, 2000), "min_dist": (1, 2000),
                     "canny_high": (1, 1000), "threshold": (1, 500), "perfectness": (0.01, 1.0), "dp": (1.0, 4.0),
                     "max_circles": (1, 1000), "blur": (0.0, 10.0)},
             help={"min_radius": "smallest radius searched, pixels", "max_radius": "largest radius searched, pixels",
                   "min_dist": "minimum distance between centres (default 2·min_radius)",
                   "canny_high": "upper Canny threshold of the internal edge detector (OpenCV's param1)",
                   "threshold": "'gradient': accumulator votes a centre needs (OpenCV's param2)",
                   "perfectness": "'gradient_alt': how circular a circle must be, 0..1 (OpenCV's param2)",
                   "dp": "accumulator resolution: image resolution / dp",
                   "method": "OpenCV's HOUGH_GRADIENT or HOUGH_GRADIENT_ALT (Scharr-based, more accurate)",
                   "max_circles": "keep at most this many circles, most votes first",
                   "blur": "σ of the Gaussian smoothing before the search, pixels (0 = none)"})
def hough_circles(image: np.ndarray, *, min_radius: int = 10, max_radius: int = 100, min_dist: float | None = None,
                  canny_high: float = 100.0, threshold: int = 30, perfectness: float = 0.9, dp: float = 1.0,
                  method: Literal["gradient", "gradient_alt"] = "gradient", max_circles: int = 50,
                  blur: float = 1.5) -> Circles:
    """Find circles with radius in [min_radius, max_radius] by the gradient Hough transform.

    Calls ``cv2.HoughCirclesWithAccumulator``; ``votes`` is OpenCV's accumulator value for each circle (for
    ``"gradient"`` the number of edge pixels that support its radius; for ``"gradient_alt"`` a method-specific
    score). OpenCV's method-specific ``param2`` is split in two named options: ``threshold`` (``"gradient"``)
    and ``perfectness`` (``"gradient_alt"``), so one default works for either method.

    Args:
        image: uint8 H×W or H×W×3 RGB.
        min_radius, max_radius: radius range in pixels (0 ≤ min_radius ≤ max_radius, max_radius ≥ 1).
        min_dist: minimum distance between centres; None = ``2·min_radius`` (at least 1), the closest two
            non-overlapping circles of the smallest radius can be.
        canny_high: upper threshold of the internal Canny (lower = half), OpenCV's ``param1``. With
            ``"gradient_alt"`` (Scharr derivatives) OpenCV suggests ~300 on contrasty photos.
        threshold: accumulator threshold for centres (``"gradient"``); lower finds more (and false) circles.
        perfectness: 0 < p ≤ 1, how round a circle must be (``"gradient_alt"``); 0.9 is typical.
        dp: inverse accumulator resolution (≥ 1).
        method: ``"gradient"`` (HOUGH_GRADIENT) or ``"gradient_alt"`` (HOUGH_GRADIENT_ALT).
        max_circles: keep at most this many circles, most votes first.
        blur: σ of a Gaussian smoothing applied first (0 = none). OpenCV recommends smoothing (7×7, σ 1.5):
            gradient directions on aliased edges are too coarse for the centre votes to meet.

    Returns:
        Circles sorted by votes, strongest first.

    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: an option out of range.
    """
    gray = check_gray(image)
    r_lo = check_number(min_radius, name="min_radius", low=0, integer=True)
    r_hi = check_number(max_radius, name="max_radius", low=1, integer=True)
    if r_lo > r_hi:
        raise InputError(f"min_radius: expected ≤ max_radius ({max_radius!r}), got {min_radius!r}")
    dist = max(2.0 * r_lo, 1.0) if min_dist is None else check_number(min_dist, name="min_dist", low=0, low_open=True)
    p1 = check_number(canny_high, name="canny_high", low=0, low_open=True)
    acc = check_number(dp, name="dp", low=1.0)
    keep = check_number(max_circles, name="max_circles", low=1, integer=True)
    sigma = check_number(blur, name="blur", low=0, high=100)
    if method == "gradient":
        mode, p2 = cv2.HOUGH_GRADIENT, check_number(threshold, name="threshold", low=1)
    elif method == "gradient_alt":
        mode, p2 = cv2.HOUGH_GRADIENT_ALT, check_number(perfectness, name="perfectness", low=0, high=1, low_open=True)
    else:
        raise InputError(f"method: expected 'gradient' or 'gradient_alt', got {method!r}")
    if sigma > 0:
        gray = cv2.GaussianBlur(gray, (0, 0), sigma)
    found = cv2.HoughCirclesWithAccumulator(gray, mode, acc, dist, param1=p1, param2=p2,
                                            minRadius=r_lo, maxRadius=r_hi)
    if found is None or found.size == 0:
        return Circles(np.zeros((0, 2), np.float32), [], [], gray.shape)
    found = found.reshape(-1, 4)
    order = np.argsort(-found[:, 3], kind="stable")[:keep]
    found = found[order]
    return Circles(found[:, :2], found[:, 2], found[:, 3], gray.shape)
