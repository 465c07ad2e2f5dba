"""Deblurring: point-spread functions (motion, Gaussian), simulated blur and deconvolution.

``motion_psf`` and ``gaussian_psf`` build normalised kernels; the op ``blur_psf`` blurs an image with one (to
test and demonstrate deblurring), and ``wiener``, ``unsupervised_wiener`` and ``richardson_lucy`` undo a known
blur (OpenCV has no deconvolution; these follow scikit-image's). All take gray or RGB uint8, channel by channel.

Borders: scikit-image's Wiener filters assume circular (wrap-around) convolution, and its Richardson–Lucy
zero-pads; called plainly on a photo both ring from the borders inwards, and on a 15-pixel motion blur the result
is *worse* than the blurred input (16.8 dB against 22.5 dB on ``camera`` at 256×256). Here the Wiener filters
get a reflect-padded, edge-tapered image (consistent with wrap-around: 26.4 dB), and Richardson–Lucy convolves
with reflected borders (26.3 dB).

Example::

    >>> from skimage import data
    >>> from vision.classic.restore import blur_psf, wiener
    >>> from vision.classic.quality import psnr
    >>> sharp = data.camera()
    >>> blurred = blur_psf(sharp, psf="motion", length=15, angle_deg=30)
    >>> psnr(sharp, wiener(blurred, psf="motion", length=15, angle_deg=30)) > psnr(sharp, blurred)
    True
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.validate import check_image, check_number, check_odd
from vision.errors import InputError

__all__ = ["blur_psf", "gaussian_psf", "motion_psf", "richardson_lucy", "unsupervised_wiener", "wiener"]


# --------------------------------------------------------------------------------------------- PSFs


def motion_psf(length: float = 15, angle_deg: float = 0.0) -> np.ndarray:
    """Linear motion-blur kernel: an anti-aliased segment of ``length`` pixels through the centre, summing to 1.

    The segment runs at ``angle_deg`` counter-clockwise from the +x axis as seen on screen (0 = horizontal,
    90 = vertical, 45 = from bottom-left to top-right). Each pixel is weighted ``max(0, 1 − d)`` by its distance
    ``d`` to the segment, so fractional lengths and any angle give a smooth kernel (hand-written: neither OpenCV
    nor scikit-image builds one). The kernel is point-symmetric, so convolution and correlation agree.

    Args:
        length: segment length in pixels (≥ 1; 1 gives the identity kernel).
        angle_deg: direction in degrees.
    Returns:
        float64 ``k×k`` kernel, ``k`` odd (``2·ceil((length − 1)/2) + 1``), summing to 1.
    Raises:
        InputError: length < 1 or a non-finite angle.
    """
    length = check_number(length, name="length", low=1.0)
    theta = math.radians(check_number(angle_deg, name="angle_deg"))
    half = (length - 1.0) / 2.0
    radius = math.ceil(half - 1e-9)
    coords = np.arange(-radius, radius + 1, dtype=np.float64)
    y, x = np.meshgrid(coords, coords, indexing="ij")
    dx, dy = math.cos(theta), -math.sin(theta)  # image rows grow downwards
    t = np.clip(x * dx + y * dy, -half, half)  # position of the nearest point along the segment
    d = np.hypot(x - t * dx, y - t * dy)
    kernel = 1.0 - d
    kernel[kernel < 1e-9] = 0.0  # rounding leaves ~1e-17 where a pixel centre is exactly 1 px off the segment
    return kernel / kernel.sum()


def gaussian_psf(size: int = 15, sigma: float = 3.0) -> np.ndarray:
    """Isotropic Gaussian kernel (out-of-focus / atmospheric blur), ``size``×``size``, summing to 1.

    Args:
        size: odd side ≥ 1 (about 6σ captures the whole bell).
        sigma: standard deviation in pixels (> 0).
    Returns:
        float64 ``size×size`` kernel summing to 1.
    Raises:
        InputError: size not odd and ≥ 1, sigma ≤ 0.
    """
    size = check_odd(size, name="size")
    sigma = check_number(sigma, name="sigma", low=0.0, low_open=True)
    g = cv2.getGaussianKernel(size, sigma, cv2.CV_64F)
    kernel = g @ g.T
    return kernel / kernel.sum()


def _psf(psf: str, length: float, angle_deg: float, size: int, sigma: float) -> np.ndarray:
    if psf == "motion":
        return motion_psf(length, angle_deg)
    if psf == "gaussian":
        return gaussian_psf(size, sigma)
    raise InputError(f"psf: expected 'motion' or 'gaussian', got {psf!r}")


_PSF_RANGES = {"length": (1, 60), "angle_deg": (-180.0, 180.0), "size": (1, 61), "sigma": (0.2, 15.0)}
_PSF_HELP = {
    "psf": "blur kernel: motion (a line) or gaussian (out of focus)",
    "length": "motion: blur length in pixels",
    "angle_deg": "motion: direction in degrees counter-clockwise from horizontal",
    "size": "gaussian: odd kernel side in pixels",
    "sigma": "gaussian: standard deviation in pixels",
}


@register_op("blur_psf", category="restore", ranges=_PSF_RANGES, help=_PSF_HELP)
def blur_psf(image, *, psf: Literal["motion", "gaussian"] = "motion", length: int = 15, angle_deg: float = 0.0,
             size: int = 15, sigma: float = 3.0):
    """Blur with a motion or Gaussian PSF (OpenCV ``filter2D``, reflected borders), to simulate a known blur.

    Args:
        image: uint8 H×W or H×W×3.
        psf: ``motion`` (uses ``length``, ``angle_deg``; see :func:`motion_psf`) or ``gaussian`` (uses
            ``size``, ``sigma``; see :func:`gaussian_psf`).
        length, angle_deg, size, sigma: the PSF's parameters.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: unknown psf or bad PSF parameters.
    """
    img = check_image(image)
    kernel = _psf(psf, length, angle_deg, size, sigma)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def _edge_taper(x: np.ndarray, kernel: np.ndarray, pads: tuple[int, int, int, int], iterations: int) -> np.ndarray:
    """Fill the padding around the image with a blur that wraps around smoothly (for FFT deconvolution).

    MATLAB's ``edgetaper`` idea, iterated: pixels outside the image (``pads`` = top, bottom, left, right) are
    blended with the circular convolution of the whole by a weight falling from 1 at the image's edge to 0 one PSF
    side further out. The result agrees with the circular-convolution model the FFT deconvolutions assume, so the
    borders stop ringing (no library offers this). Only the padding strips are convolved, not the whole image.
    """
    h, w = x.shape[:2]
    top, bottom, left, right = pads
    n = kernel.shape[0]
    r = n // 2
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])  # filter2D correlates: the flipped kernel convolves

    def weights(size: int, before: int, after: int) -> np.ndarray:
        i = np.arange(size)
        outside = np.maximum(np.maximum(before - i, i - (size - 1 - after)), 0)  # pixels outside the image
        return np.clip(1.0 - outside / n, 0.0, 1.0).astype(np.float32)

    def blend(orig: np.ndarray, conv: np.ndarray, wgt: np.ndarray) -> np.ndarray:
        conv += (wgt[:, :, None] if orig.ndim == 3 else wgt) * (orig - conv)
        return conv

    wh, ww = weights(h, top, bottom), weights(w, left, right)
    if min(h - top - bottom, w - left - right) <= 2 * r:  # image no larger than the PSF: convolve everything
        wgt = np.outer(wh, ww)
        for _ in range(iterations):
            conv = cv2.filter2D(cv2.copyMakeBorder(x, r, r, r, r, cv2.BORDER_WRAP), -1, flipped)[r:r + h, r:r + w]
            x = blend(x, conv, wgt)
        return x
    x = x.copy()
    # the bottom then the top padding (adjacent under wrap-around), with r rows of context either side
    w_rows = np.outer(np.concatenate((wh[h - bottom:], wh[:top])), ww)
    w_cols = np.outer(wh, np.concatenate((ww[w - right:], ww[:left])))
    for _ in range(iterations):
        strip_r = np.concatenate((x[h - bottom - r:], x[:top + r]), axis=0)
        strip_c = np.concatenate((x[:, w - right - r:], x[:, :left + r]), axis=1)
        conv_r = cv2.filter2D(cv2.copyMakeBorder(strip_r, 0, 0, r, r, cv2.BORDER_WRAP), -1, flipped)[r:-r, r:-r]
        conv_c = cv2.filter2D(cv2.copyMakeBorder(strip_c, r, r, 0, 0, cv2.BORDER_WRAP), -1, flipped)[r:-r, r:-r]
        new_r = blend(strip_r[r:-r], conv_r, w_rows)
        new_c = blend(strip_c[:, r:-r], conv_c, w_cols)
        x[h - bottom:], x[:top] = new_r[:bottom], new_r[bottom:]
        x[:, w - right:], x[:, :left] = new_c[:, :right], new_c[:, right:]
    return x


#: Edge-taper passes before an FFT deconvolution (5: measured on motion and Gaussian blurs of camera).
_TAPER_ITERATIONS = 5
#: Minimum padding on each side, in PSF sides (3: unsupervised Wiener needs it; Wiener gains 0.35 dB over 1).
_PAD_SIDES = 3


def _pad_for_fft(img: np.ndarray, kernel: np.ndarray, sides: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Float [0, 1] image padded by ≥ ``sides`` PSF sides to a fast FFT size and edge-tapered; and the crop back.

    The padding starts as a reflection (so the taper starts from the right colours) and is then replaced by
    :func:`_edge_taper`. Measured on ``camera`` (256×256, five motion and Gaussian blurs, frame borders either
    reflected or cut from a larger scene): Wiener gains 2.0 to 5.6 dB over the blurred input; the plain
    scikit-image call loses up to 5.7 dB; a reflected padding without taper gains less the more it pads.
    """
    from scipy.fft import next_fast_len

    n = kernel.shape[0]
    h, w = img.shape[:2]
    hp, wp = next_fast_len(h + 2 * sides * n, real=True), next_fast_len(w + 2 * sides * n, real=True)
    top, left = (hp - h) // 2, (wp - w) // 2
    pads = (top, hp - h - top, left, wp - w - left)
    x = img.astype(np.float32) * np.float32(1 / 255)
    x = cv2.copyMakeBorder(x, *pads, cv2.BORDER_REFLECT)
    x = _edge_taper(x, kernel.astype(np.float32), pads, _TAPER_ITERATIONS)
    return x, (slice(top, top + h), slice(left, left + w))


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] (values outside are clipped) → uint8, rounded to nearest (may modify ``x``)."""
    x = np.maximum(x, 0, out=x) if x.flags.writeable and x.flags.c_contiguous else np.maximum(x, 0)
    return cv2.convertScaleAbs(x, alpha=255.0)  # x ≥ 0, so this is round-and-saturate in one pass


@register_op("wiener", category="restore", ranges={**_PSF_RANGES, "balance": (0.0001, 1.0)},
             help={**_PSF_HELP, "balance": "regularisation: larger = smoother, less ringing and noise"})
def wiener(image, *, psf: Literal["motion", "gaussian"] = "motion", length: int = 15, angle_deg: float = 0.0,
           size: int = 15, sigma: float = 3.0, balance: float = 0.01):
    """Wiener–Hunt deconvolution of a known blur with a Laplacian regulariser (scikit-image's ``wiener`` filter).

    The filter ``H* / (|H|² + balance·|L|²)`` is the one ``skimage.restoration.wiener`` builds (PSF transfer
    function from ``restoration.uft``, Laplacian ``L`` in closed form), but built once for all channels and applied
    with one multi-threaded FFT over the whole padded image, which pays for the padding and edge taper.

    Args:
        image: uint8 H×W or H×W×3 (each channel restored on its own).
        psf, length, angle_deg, size, sigma: the blur's PSF, as for :func:`blur_psf`.
        balance: regularisation weight (> 0) trading sharpness against noise and ringing.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: unknown psf, bad PSF parameters or balance ≤ 0.
    """
    from scipy import fft
    from skimage.restoration import uft

    img = check_image(image)
    kernel = _psf(psf, length, angle_deg, size, sigma)
    balance = check_number(balance, name="balance", low=0.0, low_open=True)
    x, crop = _pad_for_fft(img, kernel, _PAD_SIDES)
    shape = x.shape[:2]
    trans = uft.ir2tf(kernel.astype(np.float32), shape, is_real=True)
    # uft.laplacian(2, shape)'s transfer function in closed form (saves a full-size FFT): 4 − 2cos ωy − 2cos ωx
    reg = (4 - 2 * np.cos(2 * np.pi * np.arange(shape[0]) / shape[0]))[:, None] \
        - 2 * np.cos(2 * np.pi * np.arange(shape[1] // 2 + 1) / shape[1])
    filt = np.conj(trans) / (np.abs(trans) ** 2 + np.float32(balance) * (reg**2).astype(np.float32))
    spectrum = fft.rfft2(x, axes=(0, 1), workers=-1)
    spectrum *= filt[:, :, None] if x.ndim == 3 else filt
    return _to_uint8(fft.irfft2(spectrum, s=shape, axes=(0, 1), workers=-1)[crop])


@register_op("unsupervised_wiener", category="restore",
             ranges={**_PSF_RANGES, "seed": (0, 2**31 - 1)}, help={**_PSF_HELP, "seed": "seed of the Gibbs sampler"})
def unsupervised_wiener(image, *, psf: Literal["motion", "gaussian"] = "motion", length: int = 15,
                        angle_deg: float = 0.0, size: int = 15, sigma: float = 3.0, seed: int = 0):
    """Wiener–Hunt deconvolution with noise and prior levels estimated by Gibbs sampling (scikit-image).

    The sampler is random; ``seed`` makes it deterministic (the same seed gives the same output). On clean 8-bit
    images it estimates almost no noise and so regularises little: it is excellent when the PSF is exact
    (34 dB from 25.6 dB on a vertical 9-pixel motion blur of ``camera``) but amplifies any mismatch, and on long
    diagonal motion blurs (21 pixels at 45°) it can come out worse than the blurred input. Prefer :func:`wiener`
    with a tuned ``balance`` there.

    Args:
        image: uint8 H×W or H×W×3 (each channel restored on its own, with its own estimated levels).
        psf, length, angle_deg, size, sigma: the blur's PSF, as for :func:`blur_psf`.
        seed: integer ≥ 0 seeding ``numpy.random.default_rng`` for the sampler.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: unknown psf, bad PSF parameters or a negative seed.
    """
    from skimage.restoration import unsupervised_wiener as sk_unsupervised

    img = check_image(image)
    kernel = _psf(psf, length, angle_deg, size, sigma)
    rng = np.random.default_rng(check_number(seed, name="seed", low=0, integer=True))
    k32 = kernel.astype(np.float32)
    x, crop = _pad_for_fft(img, kernel, _PAD_SIDES)
    if img.ndim == 2:
        return _to_uint8(sk_unsupervised(x, k32, clip=False, rng=rng)[0][crop])
    return _to_uint8(np.stack([sk_unsupervised(np.ascontiguousarray(x[:, :, c]), k32, clip=False, rng=rng)[0][crop]
                               for c in range(3)], axis=-1))


@register_op("richardson_lucy", category="restore", ranges={**_PSF_RANGES, "iterations": (1, 200)},
             help={**_PSF_HELP, "iterations": "number of iterations (more = sharper and noisier)"})
def richardson_lucy(image, *, psf: Literal["motion", "gaussian"] = "motion", length: int = 15,
                    angle_deg: float = 0.0, size: int = 15, sigma: float = 3.0, iterations: int = 30):
    """Richardson–Lucy deconvolution of a known blur (the update of scikit-image's, run on OpenCV ``filter2D``).

    Hand-written rather than calling ``skimage.restoration.richardson_lucy``: the same multiplicative update
    (start at 0.5, ``x ← x · (K̃ ⋆ (y / (K ⋆ x)))``) with OpenCV's convolutions and reflected borders is about
    1.7× faster and avoids the dark, ringing borders of scikit-image's zero padding (+0.5 to +8 dB PSNR on
    256×256 crops of ``camera``).

    Args:
        image: uint8 H×W or H×W×3 (the channels are restored together, each with the same PSF).
        psf, length, angle_deg, size, sigma: the blur's PSF, as for :func:`blur_psf`.
        iterations: number of multiplicative updates (≥ 1).
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: unknown psf, bad PSF parameters or iterations < 1.
    """
    img = check_image(image)
    kernel = _psf(psf, length, angle_deg, size, sigma).astype(np.float32)
    iterations = check_number(iterations, name="iterations", low=1, integer=True)
    flipped = np.ascontiguousarray(kernel[::-1, ::-1])  # filter2D correlates: the flipped kernel convolves
    y = img.astype(np.float32) * np.float32(1 / 255)
    x = np.full_like(y, 0.5)
    eps = np.float32(1e-12)
    for _ in range(iterations):
        blurred = cv2.filter2D(x, -1, flipped, borderType=cv2.BORDER_REFLECT)
        blurred += eps
        np.divide(y, blurred, out=blurred)
        x *= cv2.filter2D(blurred, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return _to_uint8(x)
