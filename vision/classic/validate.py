"""Input checks shared by every classic op: one place decides what an image or a mask may be."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError

__all__ = ["check_choice", "check_gray", "check_image", "check_mask", "check_number", "check_odd", "to_gray"]


def _describe(a: np.ndarray) -> str:
    return f"{'×'.join(map(str, a.shape)) or 'scalar'} {a.dtype}"


def check_image(image: Any, *, name: str = "image", gray_ok: bool = True, color_ok: bool = True,
                min_size: int = 1) -> np.ndarray:
    """Return ``image`` as uint8 ``H×W`` (gray) or ``H×W×3`` (RGB); ``H×W×1`` is taken as gray.

    Classic ops take 8-bit images only, so that every result has one meaning. Convert other images first with
    :func:`vision.io.read_image` (it scales uint16, float in [0, 1] and bool, and drops alpha).
    Raises:
        DTypeError: not uint8.
        ShapeError: not ``H×W``/``H×W×1``/``H×W×3``, the wrong one of gray/colour for this op, or smaller than
            ``min_size`` on a side.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise ShapeError(f"{name}: expected H×W gray or H×W×3 RGB, got {_describe(arr)} "
                         "(vision.io.read_image converts RGBA and other layouts)")
    if arr.dtype != np.uint8:
        raise DTypeError(f"{name}: expected uint8, got {_describe(arr)}; convert with vision.io.read_image "
                         "(scales uint16, float in [0, 1] and bool to uint8)")
    if min(arr.shape[:2]) < min_size:
        raise ShapeError(f"{name}: expected at least {min_size}×{min_size} pixels, got {_describe(arr)}")
    if arr.ndim == 2 and not gray_ok:
        raise ShapeError(f"{name}: expected an H×W×3 RGB image, got gray {_describe(arr)}")
    if arr.ndim == 3 and not color_ok:
        raise ShapeError(f"{name}: expected an H×W gray image, got {_describe(arr)} (use vision.classic.to_gray)")
    return arr


def to_gray(image: Any) -> np.ndarray:
    """RGB → gray (ITU-R BT.601 luma, as OpenCV); gray stays as it is. Returns uint8 ``H×W``."""
    import cv2

    arr = check_image(image)
    return arr if arr.ndim == 2 else cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)


def check_gray(image: Any, *, name: str = "image", min_size: int = 1) -> np.ndarray:
    """Like :func:`check_image`, then RGB is converted to gray: for ops defined on one channel."""
    arr = check_image(image, name=name, min_size=min_size)
    return arr if arr.ndim == 2 else to_gray(arr)


def check_mask(mask: Any, *, name: str = "mask", min_size: int = 1) -> np.ndarray:
    """Return a binary ``H×W`` bool mask from bool or uint8 (non-zero = foreground) input.

    Raises:
        DTypeError: neither bool nor uint8.
        ShapeError: not 2-D (or ``H×W×1``) or smaller than ``min_size``.
    """
    arr = np.asarray(mask)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim != 2:
        raise ShapeError(f"{name}: expected an H×W binary mask, got {_describe(arr)}")
    if arr.dtype not in (np.bool_, np.uint8):
        raise DTypeError(f"{name}: expected a bool or uint8 mask, got {_describe(arr)}")
    if min(arr.shape) < min_size:
        raise ShapeError(f"{name}: expected at least {min_size}×{min_size} pixels, got {_describe(arr)}")
    return arr.astype(bool, copy=False)


def check_number(value: Any, *, name: str, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, integer: bool = False) -> int | float:
    """Return ``value`` as a finite float (an int when ``integer``) within the bounds, else InputError.

    Bools are refused (``True`` is not an option value of 1). With ``integer`` only int and numpy integer types
    pass: ``2.0`` is refused, as a slider or config that sends floats for an integer option is a bug to report.

    Args:
        value: the option value to check.
        name: the option's name, first in the message.
        low, high: the bounds (None = unbounded on that side); inclusive unless ``low_open``/``high_open``.
        integer: require an integer (and return an int).
    Returns:
        ``int(value)`` when ``integer``, else ``float(value)``.
    Raises:
        InputError: not a real number, NaN or ±inf, out of bounds, or not an integer when ``integer``; the message
            reads ``"{name}: expected a finite number ≥ 0 and ≤ 1, got 1.5"``.
    """
    types = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, types) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low is None or (value > low if low_open else value >= low))
    ok = ok and (high is None or (value < high if high_open else value <= high))
    if not ok:
        bounds = ([] if low is None else [f"{'>' if low_open else '≥'} {low}"]) + \
                 ([] if high is None else [f"{'<' if high_open else '≤'} {high}"])
        what = " ".join(["an integer" if integer else "a finite number", " and ".join(bounds)]).rstrip()
        raise InputError(f"{name}: expected {what}, got {value!r}")
    return int(value) if integer else float(value)


def check_choice(value: Any, choices: Collection, *, name: str) -> Any:
    """Return ``value`` if it is one of ``choices``, else InputError listing them.

    With integer choices the value must be an integer (bools and ``3.0`` are refused) and comes back as an int;
    with string choices it must be a string.

    Args:
        value: the option value to check.
        choices: the allowed values (a tuple, list or the keys of a dict), all ints or all strings.
        name: the option's name, first in the message.
    Raises:
        InputError: ``"{name}: expected one of [...], got {value!r}"``.
    """
    options = list(choices)
    numeric = isinstance(options[0], int)
    right_type = (isinstance(value, (int, np.integer)) and not isinstance(value, bool)) if numeric \
        else isinstance(value, str)
    if not right_type or value not in options:
        raise InputError(f"{name}: expected one of {options}, got {value!r}")
    return int(value) if numeric else value


def check_odd(value: Any, *, name: str, minimum: int = 1) -> int:
    """An odd integer ≥ ``minimum`` (kernel apertures), else InputError."""
    try:
        odd = check_number(value, name=name, low=minimum, integer=True) % 2 == 1
    except InputError:
        odd = False
    if not odd:
        raise InputError(f"{name}: expected an odd integer ≥ {minimum}, got {value!r}")
    return int(value)
