"""Geometric transforms: scale, resize, rotate, shear, flip, crop, pad (plus affine, perspective, document scan).

Every op returns a :class:`~vision.classic.results.Warped`: the new image and the 3×3 matrix that maps input
pixel coordinates ``(x, y, 1)`` to output ones, in OpenCV's pixel-centre convention (``(c, r)`` is the centre of
``image[r, c]``; see :mod:`vision.classic.perspective`). Move annotations with the same matrix:

>>> import numpy as np
>>> out = rotate(np.zeros((100, 200, 3), np.uint8), angle=90, expand=True)
>>> out.image.shape, transform_points([[0, 0]], out.matrix).round(6).tolist()
((200, 100, 3), [[0.0, 199.0]])

Boxes (xyxy, pixel edges, as :class:`vision.types.Detections`) move with :func:`transform_boxes`.
The perspective family (:func:`affine`, :func:`perspective`, :func:`document_scan`) lives in
:mod:`vision.classic.perspective` and is re-exported here; importing this module registers all of them.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.perspective import (
    _BORDER_HELP,
    _FILL_HELP,
    BORDERS,
    WARP_FLAGS,
    Border,
    Interpolation,
    affine,
    check_side,
    document_scan,
    fill_value,
    perspective,
    transform_boxes,
    transform_points,
    warp,
)
from vision.classic.results import Warped
from vision.classic.validate import check_choice, check_image, check_number
from vision.errors import InputError

__all__ = ["scale", "resize", "rotate", "shear", "flip", "crop", "pad", "affine", "perspective", "document_scan",
           "transform_points", "transform_boxes"]

#: cv2.resize flags. "nearest" is INTER_NEAREST_EXACT: OpenCV's plain INTER_NEAREST samples ``floor(x / f)``
#: (shifted by half a pixel against the other modes); the exact one uses pixel centres like the matrix does.
RESIZE_FLAGS = {"nearest": cv2.INTER_NEAREST_EXACT, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
                "area": cv2.INTER_AREA, "lanczos": cv2.INTER_LANCZOS4}
_EPS = 1e-6


def _scale_matrix(sx: float, sy: float) -> np.ndarray:
    """Pixel-centre scaling as cv2.resize does it: ``x' = (x + 0.5)·sx − 0.5``."""
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


def _resized(img: np.ndarray, width: int, height: int, interpolation: str) -> Warped:
    flag = RESIZE_FLAGS[check_choice(interpolation, RESIZE_FLAGS, name="interpolation")]
    check_side(width, height, "resize")
    h, w = img.shape[:2]
    out = img.copy() if (width, height) == (w, h) else cv2.resize(img, (width, height), interpolation=flag)
    return Warped(out, _scale_matrix(width / w, height / h))


@register_op("scale", category="geometry", ranges={"fx": (0.05, 8.0), "fy": (0.05, 8.0)},
             help={"fx": "horizontal factor (> 1 enlarges, interpolating)", "fy": "vertical factor; None = fx",
                   "interpolation": "nearest, bilinear, bicubic, area (best for shrinking) or lanczos"})
def scale(image: Any, *, fx: float = 2.0, fy: float | None = None, interpolation: Interpolation = "bilinear") -> Warped:
    """Scale by factors (``cv2.resize``): the result is ``round(W·fx) × round(H·fy)``, at least 1×1.

    Factors above 1 enlarge by interpolation; ``area`` averages the covered pixels when shrinking (no aliasing)
    and ``nearest`` only copies input values. The matrix uses the exact ratio of the rounded sizes, which is
    what OpenCV samples with.

    Args:
        image: uint8 H×W or H×W×3.
        fx: horizontal factor, > 0.
        fy: vertical factor, > 0; None uses ``fx``.
        interpolation: nearest (pixel-centre exact), bilinear, bicubic, area or lanczos (Lanczos-4).
    Returns:
        :class:`Warped`.
    Raises:
        InputError: a factor that is not a positive number, or a result side ≥ 32767.
    """
    img = check_image(image)
    fx = check_number(fx, name="fx", low=0, low_open=True)
    fy = fx if fy is None else check_number(fy, name="fy", low=0, low_open=True)
    h, w = img.shape[:2]
    width, height = max(1, round(w * fx)), max(1, round(h * fy))
    return _resized(img, width, height, interpolation)


@register_op("resize", category="geometry", ranges={"width": (1, 4096), "height": (1, 4096)},
             help={"width": "target width in pixels (None = from height or unchanged)",
                   "height": "target height in pixels (None = from width or unchanged)",
                   "keep_aspect": "keep the width:height ratio (fit inside width×height when both are given)",
                   "interpolation": "nearest, bilinear, bicubic, area (best for shrinking) or lanczos"})
def resize(image: Any, *, width: int | None = None, height: int | None = None, keep_aspect: bool = True,
           interpolation: Interpolation = "bilinear") -> Warped:
    """Resize to a width and/or height in pixels.

    With ``keep_aspect`` (default): one side given → the other follows the aspect ratio; both given → the
    largest size that fits inside ``width × height``. Without it: a side not given stays as it is.
    Neither given → an unchanged copy.

    Args:
        image: uint8 H×W or H×W×3.
        width, height: target sizes in pixels (≥ 1) or None.
        keep_aspect: keep the width:height ratio.
        interpolation: as in :func:`scale`.
    Returns:
        :class:`Warped`.
    Raises:
        InputError: a size that is not a positive integer, or a side ≥ 32767.
    """
    img = check_image(image)
    h, w = img.shape[:2]
    tw = None if width is None else check_number(width, name="width", low=1, integer=True)
    th = None if height is None else check_number(height, name="height", low=1, integer=True)
    if not isinstance(keep_aspect, (bool, np.bool_)):
        raise InputError(f"keep_aspect: expected true or false, got {keep_aspect!r}")
    if not keep_aspect or (tw is None and th is None):
        tw, th = tw or w, th or h
    else:
        f = min(tw / w if tw else math.inf, th / h if th else math.inf)
        tw, th = max(1, round(w * f)), max(1, round(h * f))
    return _resized(img, tw, th, interpolation)


def _fit_canvas(m: np.ndarray, w: int, h: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Grow the canvas to hold the whole transformed image, centred: returns the shifted matrix and (W, H)."""
    ext = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    moved = ext @ m[:2, :2].T + m[:2, 2]
    lo, hi = moved.min(0), moved.max(0)
    size = np.maximum(np.ceil(hi - lo - _EPS), 1).astype(int)
    shift = -0.5 + (size - (hi - lo)) / 2 - lo
    out = m.copy()
    out[:2, 2] += shift
    return out, (int(size[0]), int(size[1]))


_WARP_HELP = {"interpolation": "nearest, bilinear, bicubic, area (= bilinear here) or lanczos",
              "border": _BORDER_HELP, "fill": _FILL_HELP}
#: cv2.rotate codes for exact quarter turns (counter-clockwise angles).
_QUARTER = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


@register_op("rotate", category="geometry", ranges={"angle": (-180.0, 180.0), "fill": (0, 255)},
             help={"angle": "degrees, counter-clockwise", "center": "(x, y) pivot; None = the image centre",
                   "expand": "grow the canvas so nothing is cut (else keep the input's size)", **_WARP_HELP})
def rotate(image: Any, *, angle: float = 30.0, center: Any = None, expand: bool = False,
           interpolation: Interpolation = "bilinear", border: Border = "constant", fill: Any = 0) -> Warped:
    """Rotate about a point by ``angle`` degrees counter-clockwise (as ``cv2.getRotationMatrix2D``).

    On screen (y down) a point ``(x, y)`` moves to ``c + R·(p − c)`` with
    ``R = [[cos θ, sin θ], [−sin θ, cos θ]]``, which turns the picture counter-clockwise for θ > 0.

    Args:
        image: uint8 H×W or H×W×3.
        angle: degrees, counter-clockwise; negative turns clockwise.
        center: ``(x, y)`` pivot in pixels; None = the image centre ``((W − 1)/2, (H − 1)/2)``.
        expand: False keeps the input's canvas (corners are cut); True grows it to the rotated image's bounding
            box, centred (the pivot then only matters for the matrix's translation, which is replaced).
        interpolation: nearest, bilinear, bicubic, area (OpenCV warps use bilinear for it) or lanczos.
        border: what fills the uncovered area: constant (``fill``), reflect (mirror, the edge pixel not repeated)
            or replicate (the edge pixel).
        fill: border value 0..255, or an ``(r, g, b)`` triple for RGB images.
    Returns:
        :class:`Warped`. Quarter turns that keep the whole picture use ``cv2.rotate`` (exact and faster).
    Raises:
        InputError: a bad angle, centre, option or a result side ≥ 32767.
    """
    img = check_image(image)
    angle = check_number(angle, name="angle")
    h, w = img.shape[:2]
    if center is None:
        c = ((w - 1) / 2, (h - 1) / 2)
    else:
        pts = np.asarray(center, dtype=object).ravel()
        if len(pts) != 2:
            raise InputError(f"center: expected (x, y) in pixels or None, got {center!r}")
        c = (check_number(pts[0], name="center x"), check_number(pts[1], name="center y"))
    if not isinstance(expand, (bool, np.bool_)):
        raise InputError(f"expand: expected true or false, got {expand!r}")
    m = np.vstack([cv2.getRotationMatrix2D(c, angle, 1.0), [0.0, 0.0, 1.0]])
    size = (w, h)
    if expand:
        m, size = _fit_canvas(m, w, h)
    quarter = angle / 90
    if quarter == round(quarter) and (expand or (center is None and w == h)):
        m = np.round(m, 9) + 0.0                        # exact integers, no -0.0
        check_choice(interpolation, WARP_FLAGS, name="interpolation")
        check_choice(border, ("constant", "reflect", "replicate"), name="border")
        fill_value(fill, 1 if img.ndim == 2 else 3)
        code = _QUARTER.get(round(quarter) % 4)
        return Warped(img.copy() if code is None else cv2.rotate(img, code), m)
    return Warped(warp(img, m, size, interpolation, border, fill), m)


@register_op("shear", category="geometry",
             ranges={"factor": (-2.0, 2.0), "angle_deg": (10.0, 170.0), "cot": (-2.0, 2.0), "fill": (0, 255)},
             help={"axis": "x: rows slide sideways; y: columns slide up/down",
                   "factor": "shear factor a (x' = x + a·y for axis x); default 0.5 when no option is given",
                   "angle_deg": "angle θ in degrees at the top-left corner after shearing (90 = none); a = cot θ",
                   "cot": "cot θ given directly (the same number as factor)",
                   "expand": "grow the canvas so nothing is cut (else keep the size, sheared about the centre)",
                   **_WARP_HELP})
def shear(image: Any, *, axis: Literal["x", "y"] = "x", factor: float | None = None, angle_deg: float | None = None,
          cot: float | None = None, expand: bool = True, interpolation: Interpolation = "bilinear",
          border: Border = "constant", fill: Any = 0) -> Warped:
    """Shear along x or y, given the shear factor ``a``, the angle θ (``a = cot θ``) or ``cot θ``.

    ``axis="x"``: ``x' = x + a·y`` (each row slides right by ``a`` times its row number); ``axis="y"``:
    ``y' = y + a·x``. The angle θ is the angle at the top-left corner between the top edge and the left edge
    after shearing (the two edges that met at 90°). For ``axis="x"`` and θ = 60° (``a = cot 60° ≈ 0.577``)::

        θ = 90° (no shear)     θ = 60°: the left edge leans right going down
        +--------+             +--------+
        |        |              \\        \\
        |        |               \\        \\
        +--------+                +--------+

    θ < 90° moves the bottom right (x) or the right side down (y); θ > 90° the other way; θ must lie in
    (0°, 180°). Give at most one of ``factor``, ``angle_deg`` and ``cot``; none shears with ``a = 0.5``.

    Args:
        image: uint8 H×W or H×W×3.
        axis: "x" or "y".
        factor: the shear factor ``a``.
        angle_deg: θ in degrees, in (0, 180).
        cot: ``cot θ``; by definition the same number as ``factor`` (offered because formulas give it so).
        expand: True grows the canvas to hold the whole sheared image; False keeps the size and shears about
            the image centre.
        interpolation, border, fill: as in :func:`rotate`.
    Returns:
        :class:`Warped`.
    Raises:
        InputError: more than one of factor/angle_deg/cot, θ outside (0, 180), a non-number, or a result side
            ≥ 32767.
    """
    img = check_image(image)
    axis = check_choice(axis, ("x", "y"), name="axis")
    given = {k: v for k, v in (("factor", factor), ("angle_deg", angle_deg), ("cot", cot)) if v is not None}
    if len(given) > 1:
        raise InputError(f"shear: give one of factor, angle_deg or cot, got {given}")
    if angle_deg is not None:
        theta = check_number(angle_deg, name="angle_deg")
        if not 0 < theta < 180:
            raise InputError(f"angle_deg: expected an angle in (0, 180) degrees (90 = no shear), got {angle_deg!r}")
        a = 0.0 if theta == 90 else 1.0 / math.tan(math.radians(theta))
    elif cot is not None:
        a = check_number(cot, name="cot")
    else:
        a = 0.5 if factor is None else check_number(factor, name="factor")
    if not isinstance(expand, (bool, np.bool_)):
        raise InputError(f"expand: expected true or false, got {expand!r}")
    h, w = img.shape[:2]
    m = np.array([[1.0, a, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) if axis == "x" \
        else np.array([[1.0, 0.0, 0.0], [a, 1.0, 0.0], [0.0, 0.0, 1.0]])
    if expand:
        m, size = _fit_canvas(m, w, h)
    else:                                               # about the centre: x' = x + a·(y − cy)
        cx, cy = (w - 1) / 2, (h - 1) / 2
        m[0, 2], m[1, 2] = (-a * cy, 0.0) if axis == "x" else (0.0, -a * cx)
        size = (w, h)
    check_side(*size, "shear")
    return Warped(warp(img, m, size, interpolation, border, fill), m)


@register_op("flip", category="geometry", help={"axis": "horizontal (mirror left↔right), vertical (upside down) "
                                                        "or both (= rotate 180°)"})
def flip(image: Any, *, axis: Literal["horizontal", "vertical", "both"] = "horizontal") -> Warped:
    """Mirror the image (``cv2.flip``): horizontal swaps left and right, vertical top and bottom.

    Args:
        image: uint8 H×W or H×W×3.
        axis: horizontal, vertical or both.
    Returns:
        :class:`Warped` (``x' = W − 1 − x`` for horizontal).
    Raises:
        InputError: an unknown axis.
    """
    img = check_image(image)
    codes = {"horizontal": 1, "vertical": 0, "both": -1}
    code = codes[check_choice(axis, codes, name="axis")]
    h, w = img.shape[:2]
    sx, tx = (-1.0, w - 1.0) if code != 0 else (1.0, 0.0)
    sy, ty = (-1.0, h - 1.0) if code != 1 else (1.0, 0.0)
    return Warped(cv2.flip(img, code), np.array([[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]]))


@register_op("crop", category="geometry", ranges={"x": (0, 4096), "y": (0, 4096), "width": (1, 4096),
                                                  "height": (1, 4096)},
             help={"x": "left column", "y": "top row", "width": "columns kept (None = to the right edge)",
                   "height": "rows kept (None = to the bottom edge)"})
def crop(image: Any, *, x: int = 0, y: int = 0, width: int | None = None, height: int | None = None) -> Warped:
    """Cut out the rectangle of ``width × height`` pixels whose top-left pixel is ``(x, y)`` (a copy).

    Args:
        image: uint8 H×W or H×W×3.
        x, y: column and row of the top-left pixel kept, ≥ 0.
        width, height: size kept, ≥ 1; None runs to the right / bottom edge.
    Returns:
        :class:`Warped` (a translation by ``(−x, −y)``).
    Raises:
        InputError: a rectangle that reaches outside the image (the message gives the image's size).
    """
    img = check_image(image)
    h, w = img.shape[:2]
    x, y = check_number(x, name="x", low=0, integer=True), check_number(y, name="y", low=0, integer=True)
    cw = w - x if width is None else check_number(width, name="width", low=1, integer=True)
    ch = h - y if height is None else check_number(height, name="height", low=1, integer=True)
    if x + cw > w or y + ch > h or cw < 1 or ch < 1:
        raise InputError(f"crop: x={x}, y={y}, width={width}, height={height} reaches outside the {w}×{h} "
                         f"(width×height) image; expected x + width ≤ {w} and y + height ≤ {h}")
    m = np.array([[1.0, 0.0, -x], [0.0, 1.0, -y], [0.0, 0.0, 1.0]])
    return Warped(img[y:y + ch, x:x + cw].copy(), m)


@register_op("pad", category="geometry",
             ranges={"top": (0, 512), "bottom": (0, 512), "left": (0, 512), "right": (0, 512), "value": (0, 255)},
             help={"top": "rows added above", "bottom": "rows added below", "left": "columns added left",
                   "right": "columns added right",
                   "mode": "constant (value), reflect (mirror, edge not repeated), replicate (edge) or wrap (tile)",
                   "value": "border value for constant: 0..255 or an (r, g, b) triple"})
def pad(image: Any, *, top: int = 0, bottom: int = 0, left: int = 0, right: int = 0,
        mode: Literal["constant", "reflect", "replicate", "wrap"] = "constant", value: Any = 0) -> Warped:
    """Add borders around the image (``cv2.copyMakeBorder``).

    Args:
        image: uint8 H×W or H×W×3.
        top, bottom, left, right: pixels added on each side, ≥ 0.
        mode: constant (``value``), reflect (mirror without repeating the edge pixel, numpy's "reflect"),
            replicate (repeat the edge pixel) or wrap (tile the image).
        value: the constant border value 0..255, or an ``(r, g, b)`` triple for RGB images.
    Returns:
        :class:`Warped` (a translation by ``(left, top)``).
    Raises:
        InputError: a negative or non-integer size, an unknown mode, a bad value, or a result side ≥ 32767.
    """
    img = check_image(image)
    t, b, l, r = (check_number(v, name=k, low=0, integer=True)
                  for k, v in (("top", top), ("bottom", bottom), ("left", left), ("right", right)))
    border = BORDERS[check_choice(mode, BORDERS, name="mode")]
    fill = fill_value(value, 1 if img.ndim == 2 else 3, "value")
    h, w = img.shape[:2]
    check_side(w + l + r, h + t + b, "pad")
    m = np.array([[1.0, 0.0, float(l)], [0.0, 1.0, float(t)], [0.0, 0.0, 1.0]])
    if not (t or b or l or r):
        return Warped(img.copy(), m)
    return Warped(cv2.copyMakeBorder(img, t, b, l, r, border, value=fill), m)

