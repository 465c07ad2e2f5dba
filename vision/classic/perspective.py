"""Homogeneous 3×3 transforms: applying them to images, points and boxes; affine, perspective, document scan.

**Coordinate convention (OpenCV's, used by every geometry op).** A point ``(x, y)`` is in pixel units with the
origin at the *centre* of the top-left pixel: pixel ``image[r, c]`` has its centre at ``(x, y) = (c, r)`` and
covers ``[c - 0.5, c + 0.5] × [r - 0.5, r + 0.5]``. Every op returns a :class:`~vision.classic.results.Warped`
whose ``matrix`` maps an input point ``(x, y, 1)`` to the output point ``(x', y', w')`` (divide by ``w'``), so
``transform_points([[c, r]], warped.matrix)`` says where the input pixel ``(r, c)`` went.

Boxes follow :class:`vision.types.Detections` instead: ``(x1, y1, x2, y2)`` are pixel *edges* (the box of pixel
``(r, c)`` is ``(c, r, c + 1, r + 1)``); :func:`transform_boxes` converts between the two conventions, so a box
around an object still surrounds it after a flip, a scale or a rotation.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.results import Warped
from vision.classic.validate import check_choice, check_image, check_number, check_odd, to_gray
from vision.errors import InputError, ShapeError

__all__ = ["transform_points", "transform_boxes", "affine", "perspective", "document_scan"]

Interpolation = Literal["nearest", "bilinear", "bicubic", "area", "lanczos"]
Border = Literal["constant", "reflect", "replicate"]

#: OpenCV flags for warps. Warps have no area mode: OpenCV falls back to bilinear for INTER_AREA.
WARP_FLAGS = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
              "area": cv2.INTER_LINEAR, "lanczos": cv2.INTER_LANCZOS4}
#: "reflect" mirrors without repeating the edge pixel (numpy/scikit-image "reflect", OpenCV REFLECT_101).
BORDERS = {"constant": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101, "replicate": cv2.BORDER_REPLICATE,
           "wrap": cv2.BORDER_WRAP}
#: OpenCV's warps and remaps index with 16-bit integers: no output side may reach this.
MAX_SIDE = 32767

_INTERP_HELP = "nearest, bilinear, bicubic, area (= bilinear in warps) or lanczos (8×8, slowest)"
_BORDER_HELP = "outside the input: constant (fill), reflect (mirror, edge pixel not repeated) or replicate"
_FILL_HELP = "border value for constant: 0..255, or an (r, g, b) triple for RGB"


# ---------------------------------------------------------------- argument parsing shared with vision.classic.geometry
def fill_value(fill: Any, channels: int, name: str = "fill") -> tuple[float, ...]:
    """The border colour as OpenCV wants it: one 0..255 value for every channel, or one per channel."""
    vals = np.atleast_1d(np.asarray(fill, dtype=object))
    if vals.ndim != 1 or len(vals) not in (1, channels):
        raise InputError(f"{name}: expected a value 0..255 or {channels} of them, got {fill!r}")
    out = tuple(check_number(v, name=name) for v in vals)
    if any(not 0 <= v <= 255 for v in out):
        raise InputError(f"{name}: expected values in 0..255, got {fill!r}")
    return out * channels if len(out) == 1 else out


def size_arg(size: Any, name: str = "output_size") -> tuple[int, int]:
    """``(width, height)``: two integers in 1..32766, else InputError."""
    try:
        w, h = size
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected (width, height), got {size!r}") from None
    w = check_number(w, name=f"{name} width", low=1, integer=True)
    h = check_number(h, name=f"{name} height", low=1, integer=True)
    check_side(w, h, name)
    return w, h


def check_side(w: int, h: int, what: str) -> None:
    if max(w, h) >= MAX_SIDE:
        raise InputError(f"{what}: the output would be {w}×{h} (width×height); OpenCV warps need sides below "
                         f"{MAX_SIDE}")


# ---------------------------------------------------------------- matrices
def as_matrix(matrix: Any, name: str = "matrix") -> np.ndarray:
    """A finite 3×3 float64 matrix from a :class:`Warped`, a 3×3 or a 2×3 (affine) array."""
    if isinstance(matrix, Warped):
        return matrix.matrix
    try:
        m = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a 2×3 or 3×3 numeric matrix, got {matrix!r}") from None
    if m.shape == (2, 3):
        m = np.vstack([m, [0.0, 0.0, 1.0]])
    if m.shape != (3, 3):
        raise ShapeError(f"{name}: expected a 2×3 or 3×3 matrix, got shape {'×'.join(map(str, m.shape))}")
    if not np.all(np.isfinite(m)):
        raise InputError(f"{name}: expected finite values, got {m.tolist()}")
    return m


def _invertible(m: np.ndarray, name: str) -> np.ndarray:
    """``m`` unless it is singular: |det| tiny against the product of its column norms (Hadamard's bound), a
    test that ignores the scale of the coordinates and the size of the translation."""
    if abs(np.linalg.det(m)) <= 1e-10 * float(np.prod(np.linalg.norm(m, axis=0))):
        raise InputError(f"{name}: expected an invertible transform, got the singular matrix {np.round(m, 6).tolist()}")
    return m


def transform_points(points: Any, matrix: Any) -> np.ndarray:
    """Map points ``(x, y)`` through a 3×3 (or 2×3) matrix, with the perspective divide.

    Points use the pixel-centre convention of this module: ``(c, r)`` is the centre of ``image[r, c]``.

    Args:
        points: N×2 (or a single ``(x, y)``) array-like.
        matrix: a :class:`Warped`, or its ``matrix`` (3×3), or a 2×3 affine matrix.
    Returns:
        float64 array of the same shape as ``points``.
    Raises:
        ShapeError: ``points`` not N×2 or ``matrix`` not 2×3/3×3.
        InputError: non-finite values, or a point that maps to infinity (on the horizon of a perspective).

    >>> transform_points([[1, 2]], [[1, 0, 10], [0, 1, 20]]).tolist()
    [[11.0, 22.0]]
    """
    m = as_matrix(matrix)
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"points: expected an N×2 numeric array, got {points!r}") from None
    single = pts.shape == (2,)
    pts = pts.reshape(1, 2) if single else pts
    if pts.size == 0:
        return np.zeros((0, 2))
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ShapeError(f"points: expected N×2 (x, y), got shape {'×'.join(map(str, pts.shape))}")
    if not np.all(np.isfinite(pts)):
        raise InputError("points: expected finite values, got NaN or inf")
    h = pts @ m[:, :2].T + m[:, 2]
    w = h[:, 2:]
    if np.any(np.abs(w) < 1e-12):
        bad = int(np.flatnonzero(np.abs(w[:, 0]) < 1e-12)[0])
        raise InputError(f"points: point {bad} = {pts[bad].tolist()} maps to infinity under {np.round(m, 6).tolist()}")
    out = h[:, :2] / w
    return out[0] if single else out


def transform_boxes(boxes: Any, matrix: Any, *, clip_to: Any = None) -> np.ndarray:
    """Map xyxy boxes through a transform: the axis-aligned box around each box's four moved corners.

    Boxes are in edge coordinates as :class:`vision.types.Detections` (pixel ``(r, c)`` is the box
    ``(c, r, c + 1, r + 1)``); they are shifted by half a pixel into the pixel-centre convention of the matrix and
    back, so a flip of ``(0, 0, 10, 10)`` in a 100-pixel-wide image gives ``(90, 0, 100, 10)``.

    Args:
        boxes: N×4 ``(x1, y1, x2, y2)``.
        matrix: a :class:`Warped`, its 3×3 ``matrix`` or a 2×3 affine matrix.
        clip_to: None, or the output image's shape ``(height, width[, channels])``: boxes are clipped to it
            (boxes that end up outside keep their row, with zero width or height).
    Returns:
        float64 N×4.
    Raises:
        ShapeError: ``boxes`` not N×4.
        InputError: non-finite values, ``x2 < x1``, a bad ``clip_to``, or a corner that maps to infinity.
    """
    try:
        b = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"boxes: expected an N×4 numeric array, got {boxes!r}") from None
    if b.size == 0:
        return np.zeros((0, 4))
    if b.ndim != 2 or b.shape[1] != 4:
        raise ShapeError(f"boxes: expected N×4 (x1, y1, x2, y2), got shape {'×'.join(map(str, b.shape))}")
    if not np.all(np.isfinite(b)):
        raise InputError("boxes: expected finite values, got NaN or inf")
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        bad = int(np.flatnonzero((b[:, 2] < b[:, 0]) | (b[:, 3] < b[:, 1]))[0])
        raise InputError(f"boxes: expected x1 ≤ x2 and y1 ≤ y2, got box {bad} = {b[bad].tolist()}")
    x1, y1, x2, y2 = b.T
    corners = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x2, y2], 1),
                        np.stack([x1, y2], 1)], 1) - 0.5                      # N×4×2, pixel-centre convention
    moved = transform_points(corners.reshape(-1, 2), matrix).reshape(-1, 4, 2) + 0.5
    out = np.concatenate([moved.min(1), moved.max(1)], axis=1)
    if clip_to is not None:
        shape = tuple(clip_to) if isinstance(clip_to, (tuple, list)) else None
        if shape is None or len(shape) not in (2, 3):
            raise InputError(f"clip_to: expected an image shape (height, width[, channels]), got {clip_to!r}")
        h = check_number(shape[0], name="clip_to height", low=0, integer=True)
        w = check_number(shape[1], name="clip_to width", low=0, integer=True)
        out[:, 0::2] = out[:, 0::2].clip(0, w)
        out[:, 1::2] = out[:, 1::2].clip(0, h)
    return out


def points_arg(value: Any, count: int, name: str) -> np.ndarray:
    """``count`` finite (x, y) points as a float64 ``count×2`` array, else a typed error naming what was given."""
    try:
        pts = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected {count} (x, y) points, got {value!r}") from None
    if pts.shape != (count, 2):
        raise ShapeError(f"{name}: expected {count} (x, y) points ({count}×2), got shape "
                         f"{'×'.join(map(str, pts.shape)) or 'scalar'}: {np.asarray(value).tolist()}")
    if not np.all(np.isfinite(pts)):
        raise InputError(f"{name}: expected finite coordinates, got {pts.tolist()}")
    spread = max(float(np.ptp(pts, axis=0).max()), 1e-12)
    for i in range(count):              # no three points on one line (the transform would be singular)
        for j in range(i + 1, count):
            for k in range(j + 1, count):
                a, b, c = pts[i], pts[j], pts[k]
                cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
                if abs(cross) <= 1e-9 * spread * spread:
                    raise InputError(f"{name}: points {i}, {j} and {k} ({a.tolist()}, {b.tolist()}, {c.tolist()}) "
                                     f"lie on one line; expected {count} points with no three collinear")
    return pts


def warp(img: np.ndarray, m: np.ndarray, size: tuple[int, int], interpolation: str, border: str,
         fill: Any) -> np.ndarray:
    """Warp ``img`` by ``m`` (input → output, pixel-centre convention) onto a ``size = (width, height)`` canvas."""
    flags = WARP_FLAGS[check_choice(interpolation, WARP_FLAGS, name="interpolation")]
    mode = BORDERS[check_choice(border, ("constant", "reflect", "replicate"), name="border")]
    value = fill_value(fill, 1 if img.ndim == 2 else 3)
    check_side(*size, "warp")
    if np.allclose(m[2], (0.0, 0.0, 1.0), rtol=0, atol=1e-15):
        return cv2.warpAffine(img, m[:2], size, flags=flags, borderMode=mode, borderValue=value)
    return cv2.warpPerspective(img, m, size, flags=flags, borderMode=mode, borderValue=value)


# ---------------------------------------------------------------- ops
_WARP_HELP = {"output_size": "(width, height) of the result; None = the input's size", "interpolation": _INTERP_HELP,
              "border": _BORDER_HELP, "fill": _FILL_HELP}


@register_op("affine", category="geometry", ranges={"fill": (0, 255)},
             help={"matrix": "2×3 or 3×3 affine matrix (input → output pixels)",
                   "src": "3 (x, y) points in the input", "dst": "where those 3 points go", **_WARP_HELP})
def affine(image: Any, *, matrix: Any = None, src: Any = None, dst: Any = None, output_size: Any = None,
           interpolation: Interpolation = "bilinear", border: Border = "constant", fill: Any = 0) -> Warped:
    """General affine warp, from a matrix or from three point pairs (``cv2.getAffineTransform``).

    Args:
        image: uint8 H×W or H×W×3.
        matrix: 2×3 or 3×3 (last row ``0 0 1``) matrix mapping input ``(x, y, 1)`` to output pixels.
        src, dst: three ``(x, y)`` points each, not on one line: ``src[i]`` moves to ``dst[i]``. Give either
            ``matrix`` or ``src`` and ``dst``; none of them is the identity.
        output_size: ``(width, height)`` of the result; None keeps the input's size.
        interpolation, border, fill: how to sample and what lies outside the input (see :func:`rotate`).
    Returns:
        :class:`Warped` with the 3×3 matrix.
    Raises:
        InputError: both or half of the ways given, collinear points, a singular or non-affine matrix.
        ShapeError: wrong point counts or matrix shape.
    """
    img = check_image(image)
    if matrix is not None and (src is not None or dst is not None):
        raise InputError("affine: give either matrix= or src= and dst=, not both")
    if (src is None) != (dst is None):
        raise InputError(f"affine: src and dst go together (3 point pairs), got src={src!r}, dst={dst!r}")
    if src is not None:
        m = np.vstack([cv2.getAffineTransform(points_arg(src, 3, "src").astype(np.float32),
                                              points_arg(dst, 3, "dst").astype(np.float32)).astype(np.float64),
                       [0.0, 0.0, 1.0]])
    else:
        m = np.eye(3) if matrix is None else as_matrix(matrix)
        if not np.allclose(m[2], (0.0, 0.0, 1.0)):
            raise InputError(f"matrix: an affine matrix has last row [0, 0, 1], got {m[2].tolist()}; "
                             "use perspective(matrix=...) for a projective one")
    _invertible(m, "matrix")
    size = (img.shape[1], img.shape[0]) if output_size is None else size_arg(output_size)
    return Warped(warp(img, m, size, interpolation, border, fill), m)


@register_op("perspective", category="geometry", ranges={"fill": (0, 255)},
             help={"src": "4 (x, y) points in the input", "dst": "where those 4 points go",
                   "matrix": "a 3×3 homography instead of src/dst", **_WARP_HELP})
def perspective(image: Any, *, src: Any = None, dst: Any = None, matrix: Any = None, output_size: Any = None,
                interpolation: Interpolation = "bilinear", border: Border = "constant", fill: Any = 0) -> Warped:
    """Perspective (projective) warp from four point pairs (``cv2.getPerspectiveTransform``) or a 3×3 matrix.

    Args:
        image: uint8 H×W or H×W×3.
        src, dst: four ``(x, y)`` points each, no three on one line: ``src[i]`` moves exactly to ``dst[i]``.
        matrix: a 3×3 homography (input → output) instead of the points; none of them is the identity.
        output_size: ``(width, height)`` of the result; None keeps the input's size.
        interpolation, border, fill: how to sample and what lies outside the input (see :func:`rotate`).
    Returns:
        :class:`Warped` with the 3×3 matrix.
    Raises:
        InputError: both or half of the ways given, three collinear points, a singular matrix.
        ShapeError: not four points each, or a matrix that is not 3×3.
    """
    img = check_image(image)
    if matrix is not None and (src is not None or dst is not None):
        raise InputError("perspective: give either matrix= or src= and dst=, not both")
    if (src is None) != (dst is None):
        raise InputError(f"perspective: src and dst go together (4 point pairs), got src={src!r}, dst={dst!r}")
    if src is not None:
        m = cv2.getPerspectiveTransform(points_arg(src, 4, "src").astype(np.float32),
                                        points_arg(dst, 4, "dst").astype(np.float32))
        if not np.all(np.isfinite(m)):
            raise InputError(f"perspective: no homography maps src={np.asarray(src).tolist()} to "
                             f"dst={np.asarray(dst).tolist()}")
    else:
        m = np.eye(3) if matrix is None else as_matrix(matrix)
    m = _invertible(m / m[2, 2] if abs(m[2, 2]) > 1e-12 else m, "matrix")
    size = (img.shape[1], img.shape[0]) if output_size is None else size_arg(output_size)
    return Warped(warp(img, m, size, interpolation, border, fill), m)


def order_corners(quad: Any) -> np.ndarray:
    """Four corners in the order top-left, top-right, bottom-right, bottom-left (clockwise on screen).

    Sorted by angle around their centroid, then rotated to start at the corner nearest the image origin
    (smallest ``x + y``), which is stable for any tilt below 45°.
    """
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    c = q.mean(0)
    q = q[np.argsort(np.arctan2(q[:, 1] - c[1], q[:, 0] - c[0]))]   # y points down: ascending = clockwise
    return np.roll(q, -int(np.argmin(q.sum(1))), axis=0)


def _find_quad(gray: np.ndarray, blur: int, low: float, high: float, min_area: float,
               epsilon: float) -> np.ndarray | None:
    """The largest convex quadrilateral outlined by Canny edges, as 4×2 corners (unordered), or None."""
    if blur > 1:
        gray = cv2.GaussianBlur(gray, (blur, blur), 0)
    edges = cv2.Canny(gray, low, high)
    edges = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))   # close one-pixel gaps
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    need = min_area * gray.shape[0] * gray.shape[1]
    best, best_area = None, 0.0
    h, w = gray.shape
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:20]:
        x, y, cw, ch = cv2.boundingRect(contour)
        if x <= 1 or y <= 1 or x + cw >= w - 1 or y + ch >= h - 1 or cw * ch < max(need, best_area, 16.0):
            continue                   # touches the frame (clutter merged with the border, a cut-off page) or small
        hull = cv2.convexHull(contour)
        area = cv2.contourArea(hull)
        if area < max(need, best_area, 16.0):
            continue
        approx = cv2.approxPolyDP(hull, epsilon * cv2.arcLength(hull, True), True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            best, best_area = approx.reshape(4, 2).astype(np.float64), cv2.contourArea(approx)
    return best


@register_op("document_scan", category="geometry",
             ranges={"blur": (1, 15), "low": (0, 255), "high": (0, 255), "min_area": (0.0, 1.0),
                     "epsilon": (0.005, 0.1)},
             help={"blur": "Gaussian blur before Canny (odd, 1 = none)", "low": "Canny low threshold",
                   "high": "Canny high threshold", "min_area": "smallest page as a fraction of the image area",
                   "epsilon": "outline simplification (approxPolyDP) as a fraction of its perimeter",
                   "interpolation": _INTERP_HELP})
def document_scan(image: Any, *, blur: int = 5, low: float = 50.0, high: float = 150.0, min_area: float = 0.1,
                  epsilon: float = 0.02, interpolation: Interpolation = "bilinear") -> Warped:
    """Find the largest quadrilateral (a page) and warp it flat to a rectangle: an automatic document scanner.

    Steps: gray → Gaussian blur → Canny edges (dilated 3×3 to close gaps) → contours → convex hull of each →
    ``cv2.approxPolyDP`` → the largest convex four-cornered outline covering at least ``min_area`` of the image
    and not touching its border (background clutter that merges with the frame is skipped, so the page must lie
    wholly inside the photo) → corners ordered top-left, top-right, bottom-right, bottom-left →
    :func:`perspective` onto a rectangle whose width and height are the means of the quad's opposite sides (the
    corners land on the result's corner pixels). The mean sides give the page's aspect ratio when the camera
    looks at it roughly square-on; a strong slant foreshortens the far side.
    The corners found are ``transform_points([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]],
    np.linalg.inv(result.matrix))``.

    Args:
        image: uint8 H×W or H×W×3 photo of a page brighter or darker than its background.
        blur: odd Gaussian kernel size before edge detection (1 = none).
        low, high: Canny hysteresis thresholds.
        min_area: the page must cover at least this fraction of the image (0..1).
        epsilon: approxPolyDP tolerance as a fraction of the outline's perimeter.
        interpolation: sampling of the warp.
    Returns:
        :class:`Warped`: the flattened page and the 3×3 matrix from the photo to it.
    Raises:
        InputError: no quadrilateral found (the message says what was tried), or bad options.
    """
    img = check_image(image)
    blur = check_odd(blur, name="blur")
    low, high = check_number(low, name="low"), check_number(high, name="high")
    if not 0 <= low <= high:
        raise InputError(f"low, high: expected 0 ≤ low ≤ high, got low={low}, high={high}")
    min_area = check_number(min_area, name="min_area", low=0, high=1)
    epsilon = check_number(epsilon, name="epsilon", low=0, high=1, low_open=True, high_open=True)
    check_choice(interpolation, WARP_FLAGS, name="interpolation")
    quad = _find_quad(to_gray(img), blur, low, high, float(min_area), float(epsilon))
    if quad is None:
        raise InputError(f"document_scan: no quadrilateral found; expected a page outline inside the "
                         f"{img.shape[1]}×{img.shape[0]} (width×height) image covering at least {min_area:.0%} of "
                         f"it (Canny {low:g}/{high:g}, blur {blur}, epsilon {epsilon:g}); try lower thresholds or "
                         "min_area")
    tl, tr, br, bl = order_corners(quad)
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    w, h = max(round(width), 1) + 1, max(round(height), 1) + 1
    dst = [[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]
    return perspective(img, src=[tl, tr, br, bl], dst=dst, output_size=(w, h), interpolation=interpolation,
                       border="replicate")
