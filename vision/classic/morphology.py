"""Mathematical morphology: erode, dilate, open, close, gradient, top-hat, black-hat, skeleton, hole filling.

The grey-level ops (``erode`` … ``blackhat``) take a uint8 gray or RGB image (each channel on its own) and
return the same layout, or a bool H×W mask and return a bool mask. The binary-only ops (``skeletonize``,
``fill_holes``, ``remove_small_objects``) take a bool mask or a uint8 H×W image read as non-zero = foreground,
and return bool; threshold a photo first (``threshold_otsu``).

Borders: erosion treats pixels outside the image as the maximum value and dilation as the minimum (OpenCV's
default), so a shape touching the border is not eaten from outside and nothing grows in from it.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.validate import check_choice, check_image, check_mask, check_number
from vision.errors import InputError

__all__ = [
    "blackhat",
    "closing",
    "dilate",
    "erode",
    "fill_holes",
    "morph_gradient",
    "opening",
    "remove_small_objects",
    "skeletonize",
    "structuring_element",
    "tophat",
]

_SHAPES = {"rect": cv2.MORPH_RECT, "ellipse": cv2.MORPH_ELLIPSE, "cross": cv2.MORPH_CROSS}


def structuring_element(shape: Literal["rect", "ellipse", "cross"] = "rect",
                        size: int | tuple[int, int] = 3) -> np.ndarray:
    """A structuring element (footprint) as a uint8 0/1 array, built by ``cv2.getStructuringElement``.

    Any size ≥ 1 works. The ops anchor it at pixel ``size // 2`` on each axis (OpenCV's centre), so with an
    even size each output pixel looks one pixel further up/left than down/right: dilation grows shapes one
    pixel more to the bottom/right, erosion takes one more from the top/left. ``"ellipse"`` is OpenCV's
    (mirror-symmetric, not always transpose-symmetric).

    Args:
        shape: ``"rect"``, ``"ellipse"`` or ``"cross"``.
        size: side length in pixels, or ``(height, width)``.

    Returns:
        uint8 array of shape (height, width) with 1 inside the element.

    Raises:
        InputError: unknown shape or a size below 1.

    Example:
        >>> structuring_element("cross", 3).tolist()
        [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    """
    if shape not in _SHAPES:
        raise InputError(f"shape: expected one of {list(_SHAPES)}, got {shape!r}")
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise InputError(f"size: expected an integer or (height, width), got {size!r}")
        h, w = (check_number(v, name="size", low=1, high=4096, integer=True) for v in size)
    else:
        h = w = check_number(size, name="size", low=1, high=4096, integer=True)
    return cv2.getStructuringElement(_SHAPES[shape], (w, h))


def _binary_or_image(image: object) -> tuple[np.ndarray, bool]:
    """(array for OpenCV, was_bool): bool masks become a 0/1 uint8 view; everything else goes through check_image."""
    arr = np.asarray(image)
    if arr.dtype == np.bool_:
        return check_mask(arr).view(np.uint8), True
    return check_image(arr), False


def _morph(image: object, op: int, shape: str, size: int, iterations: int) -> np.ndarray:
    src, was_bool = _binary_or_image(image)
    kernel = structuring_element(shape, size)
    n = check_number(iterations, name="iterations", low=1, high=100, integer=True)
    out = cv2.morphologyEx(src, op, kernel, iterations=n)
    return out.view(np.bool_) if was_bool else out


_RANGES = {"size": (1, 51), "iterations": (1, 20)}
_HELP = {"shape": "structuring element: rect, ellipse or cross", "size": "structuring element side, pixels",
         "iterations": "how many times the operation is applied"}
_DOC_ARGS = """
    Args:
        image: uint8 H×W or H×W×3 RGB (channels separately), or a bool H×W mask.
        shape: structuring element, ``"rect"``, ``"ellipse"`` or ``"cross"`` (see :func:`structuring_element`).
        size: its side in pixels (≥ 1).
        iterations: how many times to apply it (1–100); for opening/closing, all erosions then all dilations
            (or the reverse), as OpenCV does.

    Returns:
        Same layout and dtype as the input (bool in, bool out).

    Raises:
        DTypeError, ShapeError: not uint8 gray/RGB or a bool mask.
        InputError: unknown shape, size < 1, iterations outside 1–100.
"""


def _doc(func):  # the shared Args/Returns/Raises block under each op's own summary
    func.__doc__ = (func.__doc__ or "") + _DOC_ARGS
    return func


@register_op("erode", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def erode(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 3,
          iterations: int = 1) -> np.ndarray:
    """Erode: each pixel becomes the minimum under the structuring element (bright shapes shrink)."""
    return _morph(image, cv2.MORPH_ERODE, shape, size, iterations)


@register_op("dilate", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def dilate(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 3,
           iterations: int = 1) -> np.ndarray:
    """Dilate: each pixel becomes the maximum under the structuring element (bright shapes grow)."""
    return _morph(image, cv2.MORPH_DILATE, shape, size, iterations)


@register_op("opening", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def opening(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 3,
            iterations: int = 1) -> np.ndarray:
    """Opening (erode, then dilate): removes bright specks smaller than the element, keeps larger shapes."""
    return _morph(image, cv2.MORPH_OPEN, shape, size, iterations)


@register_op("closing", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def closing(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 3,
            iterations: int = 1) -> np.ndarray:
    """Closing (dilate, then erode): fills dark holes and gaps smaller than the element."""
    return _morph(image, cv2.MORPH_CLOSE, shape, size, iterations)


@register_op("morph_gradient", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def morph_gradient(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 3,
                   iterations: int = 1) -> np.ndarray:
    """Morphological gradient (dilation − erosion): the outlines of shapes."""
    return _morph(image, cv2.MORPH_GRADIENT, shape, size, iterations)


@register_op("tophat", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def tophat(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 9,
           iterations: int = 1) -> np.ndarray:
    """White top-hat (image − opening): bright details smaller than the element, background removed."""
    return _morph(image, cv2.MORPH_TOPHAT, shape, size, iterations)


@register_op("blackhat", category="morphology", ranges=_RANGES, help=_HELP)
@_doc
def blackhat(image: np.ndarray, *, shape: Literal["rect", "ellipse", "cross"] = "rect", size: int = 9,
             iterations: int = 1) -> np.ndarray:
    """Black top-hat (closing − image): dark details smaller than the element, as bright on black."""
    return _morph(image, cv2.MORPH_BLACKHAT, shape, size, iterations)


@register_op("skeletonize", category="morphology",
             help={"method": "'zhang' (Zhang–Suen thinning) or 'lee' (Lee, Kashyap & Chu)"})
def skeletonize(image: np.ndarray, *, method: Literal["zhang", "lee"] = "zhang") -> np.ndarray:
    """Thin the foreground of a binary mask to 1-pixel-wide lines (scikit-image; OpenCV's core has no thinning).

    Args:
        image: bool H×W mask, or uint8 H×W read as non-zero = foreground.
        method: ``"zhang"`` or ``"lee"`` (scikit-image's two 2-D methods).

    Returns:
        bool H×W skeleton.

    Raises:
        DTypeError, ShapeError: not a bool/uint8 H×W mask (RGB: threshold it first).
        InputError: unknown method.
    """
    from skimage.morphology import skeletonize as sk_skeletonize

    mask = check_mask(image)
    if method not in ("zhang", "lee"):
        raise InputError(f"method: expected 'zhang' or 'lee', got {method!r}")
    out = sk_skeletonize(mask, method=method)
    return out if out.dtype == np.bool_ else out.astype(bool)


@register_op("fill_holes", category="morphology")
def fill_holes(image: np.ndarray) -> np.ndarray:
    """Fill holes: background regions that do not reach the image border become foreground.

    Background is 4-connected, as in ``scipy.ndimage.binary_fill_holes`` (a ring with a diagonal one-pixel
    gap still encloses its hole). Implemented with one ``cv2.floodFill`` of the outside from a 1-pixel frame,
    far faster than SciPy's iterated dilation on large masks.

    Args:
        image: bool H×W mask, or uint8 H×W read as non-zero = foreground.

    Returns:
        bool H×W mask with its holes filled.

    Raises:
        DTypeError, ShapeError: not a bool/uint8 H×W mask.
    """
    mask = check_mask(image)
    h, w = mask.shape
    frame = np.zeros((h + 2, w + 2), np.uint8)
    frame[1:-1, 1:-1] = mask
    cv2.floodFill(frame, None, (0, 0), 2, flags=4)
    return frame[1:-1, 1:-1] != 2


@register_op("remove_small_objects", category="morphology", ranges={"min_size": (0, 100000)},
             help={"min_size": "smallest component kept, pixels",
                   "connectivity": "4: edge neighbours only; 8: diagonals join too"})
def remove_small_objects(image: np.ndarray, *, min_size: int = 64, connectivity: Literal[4, 8] = 8) -> np.ndarray:
    """Remove connected foreground components with fewer than ``min_size`` pixels.

    Uses ``cv2.connectedComponentsWithStats`` and a keep-table (faster than scikit-image's label + bincount).
    Same result as ``skimage.morphology.remove_small_objects(mask, max_size=min_size - 1,
    connectivity=1 if connectivity == 4 else 2)``.

    Args:
        image: bool H×W mask, or uint8 H×W read as non-zero = foreground.
        min_size: components with at least this many pixels are kept (≥ 0; 0 and 1 keep everything).
        connectivity: 4 or 8 (whether diagonal neighbours belong to the same component).

    Returns:
        bool H×W mask.

    Raises:
        DTypeError, ShapeError: not a bool/uint8 H×W mask.
        InputError: min_size < 0 or connectivity not 4/8.
    """
    mask = check_mask(image)
    size = check_number(min_size, name="min_size", low=0, integer=True)
    connectivity = check_choice(connectivity, (4, 8), name="connectivity")
    if size <= 1:
        return mask.copy()
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=connectivity,
                                                           ltype=cv2.CV_32S)
    keep = stats[:, cv2.CC_STAT_AREA] >= size
    keep[0] = False
    if keep[1:].all():
        return mask.copy()
    return np.take(keep, labels)  # np.take: ~1.7× faster than keep[labels] on 1024²
