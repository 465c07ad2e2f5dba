"""Sharpening (unsharp mask, Laplacian, high-boost) and contrast (histogram equalisation, CLAHE, gamma, stretch).

All ops take uint8 gray or RGB and return uint8 in the same layout, saturated to 0..255.

* Sharpening works per channel, on OpenCV (``GaussianBlur`` + ``addWeighted``, one ``filter2D``).
* Equalisation and CLAHE on RGB work on the luma (the Y of YCrCb) only and keep the chroma: equalising R, G
  and B separately stretches each channel by a different curve and shifts the hues.
* Gamma and contrast stretch are 256-entry lookup tables applied with ``cv2.LUT``; the stretch percentiles are
  taken over all channels together (one curve, colour balance kept) from a histogram (exact, as
  ``np.percentile``'s default linear rule, without sorting the pixels).

Example::

    >>> from skimage import data
    >>> from vision.classic.enhance import gamma, unsharp_mask
    >>> int(gamma(np.full((2, 2), 128, np.uint8), gamma=2.0)[0, 0])
    64
    >>> unsharp_mask(data.astronaut(), radius=2.0, amount=1.0).shape
    (512, 512, 3)
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.validate import check_choice, check_image, check_number
from vision.errors import InputError

__all__ = ["unsharp_mask", "laplacian_sharpen", "high_boost", "equalize_hist", "clahe", "gamma", "contrast_stretch"]


# ------------------------------------------------------------------------------------------------- sharpening

def _boost(img: np.ndarray, sigma: float, amount: float) -> tuple[np.ndarray, np.ndarray]:
    """``img + amount·(img − blur_σ(img))`` saturated to uint8 (one ``addWeighted``), and the blurred image."""
    blurred = cv2.GaussianBlur(img, (0, 0), sigma)
    return cv2.addWeighted(img, 1.0 + amount, blurred, -amount, 0.0), blurred


@register_op("unsharp_mask", category="sharpen",
             ranges={"radius": (0.1, 20.0), "amount": (0.0, 5.0), "threshold": (0.0, 255.0)},
             help={"radius": "σ of the Gaussian blur in pixels (the size of the details sharpened)",
                   "amount": "how much of the detail (original − blurred) is added back",
                   "threshold": "sharpen only where |original − blurred| exceeds this (0..255; spares noise)"})
def unsharp_mask(image: np.ndarray, *, radius: float = 1.0, amount: float = 1.0, threshold: float = 0.0) -> np.ndarray:
    """Unsharp masking: ``original + amount·(original − blurred)`` where the detail exceeds ``threshold``.

    Args:
        image: uint8 H×W or H×W×3 RGB (each channel sharpened).
        radius: σ of the Gaussian blur in pixels (> 0); scikit-image's ``radius`` means the same.
        amount: gain of the detail (≥ 0; 0 returns the image).
        threshold: in intensity levels 0..255; pixels (per channel) whose ``|original − blurred|`` is at most
            this are left as they are, so flat, noisy areas are not sharpened (as in GIMP/Photoshop).
    Returns:
        uint8, same shape.
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: ``radius`` ≤ 0, negative ``amount``/``threshold``.
    """
    img = check_image(image)
    radius = check_number(radius, name="radius", low=0.0, low_open=True, high=100.0)
    amount = check_number(amount, name="amount", low=0.0)
    threshold = check_number(threshold, name="threshold", low=0.0, high=255.0)
    sharp, blurred = _boost(img, radius, amount)
    if threshold > 0:
        np.copyto(sharp, img, where=cv2.absdiff(img, blurred) <= threshold)
    return sharp


def _laplacian_kernel(ksize: int) -> np.ndarray:
    """The kernel ``cv2.Laplacian`` applies for ``ksize`` (1: 4-neighbour; 3, 5, 7: Sobel-derived)."""
    if ksize == 1:
        return np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    d2, smooth = cv2.getDerivKernels(2, 0, ksize, normalize=False)
    return (np.outer(smooth, d2) + np.outer(d2, smooth)).astype(np.float32)


@register_op("laplacian_sharpen", category="sharpen", ranges={"strength": (0.0, 5.0)},
             help={"strength": "weight of the Laplacian subtracted (apertures ≥ 3 are stronger: use less)",
                   "ksize": "Laplacian aperture 1, 3, 5 or 7"})
def laplacian_sharpen(image: np.ndarray, *, strength: float = 1.0, ksize: Literal[1, 3, 5, 7] = 1) -> np.ndarray:
    """Laplacian sharpening: ``original − strength·∇²original`` (one ``cv2.filter2D`` with the combined kernel).

    With ``ksize=1`` and ``strength=1`` the kernel is the classic ``[0 −1 0; −1 5 −1; 0 −1 0]``. Larger
    apertures (3, 5, 7: the kernels of ``cv2.Laplacian``) weigh more pixels and have larger gains (centre −8,
    −24, ...), so use a smaller ``strength``.

    Args:
        image: uint8 H×W or H×W×3 RGB (each channel sharpened).
        strength: weight of the Laplacian (≥ 0).
        ksize: aperture 1, 3, 5 or 7.
    Returns:
        uint8, same shape (saturated).
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: negative ``strength`` or bad ``ksize``.
    """
    img = check_image(image)
    strength = check_number(strength, name="strength", low=0.0)
    ksize = check_choice(ksize, (1, 3, 5, 7), name="ksize")
    kernel = -strength * _laplacian_kernel(ksize)
    c = kernel.shape[0] // 2
    kernel[c, c] += 1.0
    return cv2.filter2D(img, -1, kernel)


@register_op("high_boost", category="sharpen", ranges={"k": (0.0, 10.0), "sigma": (0.1, 20.0)},
             help={"k": "weight of the detail (1 = unsharp masking, > 1 = high-boost)",
                   "sigma": "σ of the Gaussian blur in pixels"})
def high_boost(image: np.ndarray, *, k: float = 2.0, sigma: float = 1.0) -> np.ndarray:
    """High-boost filtering: ``original + k·(original − blurred)`` (Gonzalez & Woods).

    ``k = 1`` is plain unsharp masking (:func:`unsharp_mask` with ``amount=1``), ``k > 1`` boosts the
    detail further, ``0 < k < 1`` de-emphasises it.

    Args:
        image: uint8 H×W or H×W×3 RGB (each channel).
        k: weight of the detail mask (≥ 0).
        sigma: σ of the Gaussian blur in pixels (> 0).
    Returns:
        uint8, same shape (saturated).
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: negative ``k`` or ``sigma`` ≤ 0.
    """
    img = check_image(image)
    k = check_number(k, name="k", low=0.0)
    sigma = check_number(sigma, name="sigma", low=0.0, low_open=True, high=100.0)
    return _boost(img, sigma, k)[0]


# --------------------------------------------------------------------------------------------------- contrast

def _on_luma(img: np.ndarray, fn) -> np.ndarray:
    """Apply ``fn`` (uint8 H×W → uint8 H×W) to a gray image, or to the Y of an RGB image's YCrCb."""
    if img.ndim == 2:
        return fn(img)
    y, cr, cb = cv2.split(cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb))
    return cv2.cvtColor(cv2.merge((fn(y), cr, cb)), cv2.COLOR_YCrCb2RGB)


@register_op("equalize_hist", category="contrast")
def equalize_hist(image: np.ndarray) -> np.ndarray:
    """Histogram equalisation (``cv2.equalizeHist``); RGB is equalised on its luma only.

    Equalising R, G and B separately would give each channel its own curve and shift the hues, so RGB is
    converted to YCrCb, Y is equalised, and the chroma is kept.

    Args:
        image: uint8 H×W or H×W×3 RGB.
    Returns:
        uint8, same shape.
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
    """
    return _on_luma(check_image(image), cv2.equalizeHist)


@register_op("clahe", category="contrast", ranges={"clip_limit": (0.1, 40.0), "tile": (1, 32)},
             help={"clip_limit": "histogram clip (relative to a flat histogram; higher = more contrast)",
                   "tile": "number of tiles per side (OpenCV's tileGridSize)"})
def clahe(image: np.ndarray, *, clip_limit: float = 2.0, tile: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation (``cv2.createCLAHE``); RGB on its luma only.

    Args:
        image: uint8 H×W or H×W×3 RGB (YCrCb luma equalised, chroma kept, as :func:`equalize_hist`).
        clip_limit: clip of each tile's histogram, in multiples of the flat histogram's height (> 0).
        tile: the image is cut into ``tile × tile`` tiles (≥ 1).
    Returns:
        uint8, same shape.
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: ``clip_limit`` ≤ 0 or ``tile`` < 1.
    """
    img = check_image(image)
    clip_limit = check_number(clip_limit, name="clip_limit", low=0.0, low_open=True, high=1000.0)
    tile = check_number(tile, name="tile", low=1, high=256, integer=True)
    return _on_luma(img, cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile, tile)).apply)


@register_op("gamma", category="contrast", ranges={"gamma": (0.05, 5.0)},
             help={"gamma": "out = 255·(in/255)^gamma: < 1 brightens, > 1 darkens"})
def gamma(image: np.ndarray, *, gamma: float = 1.0) -> np.ndarray:
    """Gamma correction ``255·(in/255)^gamma`` by lookup table (gamma 2 maps 128 → 64, gamma 0.5 maps 64 → 128).

    Same convention as ``skimage.exposure.adjust_gamma``; values are rounded to the nearest level.

    Args:
        image: uint8 H×W or H×W×3 RGB (each channel, same curve).
        gamma: exponent (> 0); 1 leaves the image unchanged.
    Returns:
        uint8, same shape.
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: ``gamma`` ≤ 0.
    """
    img = check_image(image)
    g = check_number(gamma, name="gamma", low=0.0, low_open=True, high=100.0)
    lut = np.rint(255.0 * (np.arange(256) / 255.0) ** g).astype(np.uint8)
    return cv2.LUT(img, lut)


def _percentiles(img: np.ndarray, qs: tuple[float, float]) -> tuple[float, float]:
    """``np.percentile(img, qs)`` (linear rule) from a 256-bin histogram over all channels."""
    rows = np.ascontiguousarray(img).reshape(img.shape[0], -1)  # H×(W·C): calcHist is fastest on wide rows
    cum = np.cumsum(cv2.calcHist([rows], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    n = int(cum[-1])
    out = []
    for q in qs:  # two percentiles, not a pixel loop
        rank = q / 100.0 * (n - 1)
        j = math.floor(rank)
        v0 = float(np.searchsorted(cum, j, side="right"))
        v1 = float(np.searchsorted(cum, min(j + 1, n - 1), side="right"))
        out.append(v0 + (rank - j) * (v1 - v0))
    return out[0], out[1]


@register_op("contrast_stretch", category="contrast",
             ranges={"low_percentile": (0.0, 100.0), "high_percentile": (0.0, 100.0)},
             help={"low_percentile": "this percentile of the intensities becomes 0",
                   "high_percentile": "this percentile of the intensities becomes 255"})
def contrast_stretch(image: np.ndarray, *, low_percentile: float = 2.0, high_percentile: float = 98.0) -> np.ndarray:
    """Linear contrast stretch: the ``low_percentile`` intensity → 0, the ``high_percentile`` one → 255, clipped.

    The percentiles are those of all pixels (all channels together, so one curve keeps the colour balance),
    computed exactly as ``np.percentile`` does. If they are equal (a flat image) there is nothing to stretch and
    an unchanged copy is returned.

    Args:
        image: uint8 H×W or H×W×3 RGB.
        low_percentile: in [0, 100), below ``high_percentile``.
        high_percentile: in (0, 100].
    Returns:
        uint8, same shape.
    Raises:
        DTypeError, ShapeError: not a uint8 gray/RGB image.
        InputError: percentiles outside [0, 100] or ``low_percentile`` ≥ ``high_percentile``.
    """
    img = check_image(image)
    lo_q = check_number(low_percentile, name="low_percentile", low=0.0, high=100.0)
    hi_q = check_number(high_percentile, name="high_percentile", low=0.0, high=100.0)
    if lo_q >= hi_q:
        raise InputError(f"contrast_stretch: expected low_percentile < high_percentile, got {lo_q} ≥ {hi_q}")
    lo, hi = _percentiles(img, (lo_q, hi_q))
    if hi <= lo:
        return img.copy()
    lut = np.clip(np.rint((np.arange(256) - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)
    return cv2.LUT(img, lut)
