"""Smoothing and denoising filters, and the noise generators used to test them.

Denoisers (category ``denoise``) take uint8 gray or RGB and return the same layout: Gaussian, box and median
blurs, the bilateral filter and non-local means come from OpenCV; total variation and wavelet shrinkage (which
OpenCV lacks) from scikit-image. Noise generators (category ``noise``) add Gaussian, salt-and-pepper, Poisson or
speckle noise, clip to 0..255 and are deterministic by ``seed``. Measure results with :mod:`vision.classic.quality`.

Example::

    >>> from skimage import data
    >>> from vision.classic.denoise import add_gaussian_noise, nl_means
    >>> from vision.classic.quality import psnr
    >>> clean = data.camera()
    >>> noisy = add_gaussian_noise(clean, sigma=20)
    >>> psnr(clean, nl_means(noisy, h=20)) > psnr(clean, noisy)
    True
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from vision.classic.ops import register_op
from vision.classic.validate import check_image, check_number, check_odd
from vision.errors import InputError

__all__ = [
    "add_gaussian_noise",
    "add_poisson_noise",
    "add_salt_pepper",
    "add_speckle",
    "bilateral",
    "box_blur",
    "gaussian_blur",
    "median_blur",
    "nl_means",
    "tv_denoise",
    "wavelet_denoise",
]


def _rng(seed: int) -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` for an integer seed ≥ 0, else InputError."""
    return np.random.default_rng(check_number(seed, name="seed", low=0, integer=True))


def _float01_to_uint8(x: np.ndarray) -> np.ndarray:
    """Float image in [0, 1] (values outside are clipped) → uint8, rounded to nearest."""
    return cv2.convertScaleAbs(np.maximum(x, 0), alpha=255.0)  # ≥ 0, so this is round-and-saturate in one pass


def _float255_to_uint8(x: np.ndarray) -> np.ndarray:
    """Float image in gray levels (values outside 0..255 are clipped) → uint8, rounded to nearest."""
    return np.clip(np.rint(x, out=x), 0, 255, out=x).astype(np.uint8)


# --------------------------------------------------------------------------------------------- denoisers


@register_op("gaussian_blur", category="denoise", ranges={"sigma": (0.1, 20.0), "ksize": (0, 99)},
             help={"sigma": "standard deviation of the Gaussian in pixels",
                   "ksize": "odd kernel size; 0 = from sigma (6σ+1 rounded up to odd)"})
def gaussian_blur(image, *, sigma: float = 1.5, ksize: int = 0):
    """Gaussian blur (OpenCV ``GaussianBlur``, reflected borders).

    Args:
        image: uint8 H×W or H×W×3.
        sigma: standard deviation in pixels (> 0).
        ksize: odd kernel side; 0 lets OpenCV pick ``round(6σ + 1)`` made odd.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: sigma ≤ 0 or ksize neither 0 nor odd.
    """
    img = check_image(image)
    sigma = check_number(sigma, name="sigma", low=0, low_open=True)
    if ksize != 0:
        ksize = check_odd(ksize, name="ksize")
    return cv2.GaussianBlur(img, (int(ksize), int(ksize)), sigma)


@register_op("box_blur", category="denoise", ranges={"size": (1, 99)},
             help={"size": "side of the square averaging window in pixels"})
def box_blur(image, *, size: int = 5):
    """Box (mean) blur over a ``size``×``size`` window (OpenCV ``blur``, reflected borders).

    Args:
        image: uint8 H×W or H×W×3.
        size: window side (≥ 1; even sizes are allowed, the anchor is the centre rounded down-right).
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: size < 1.
    """
    img = check_image(image)
    size = check_number(size, name="size", low=1, integer=True)
    return cv2.blur(img, (size, size))


@register_op("median_blur", category="denoise", ranges={"size": (1, 99)},
             help={"size": "odd side of the square median window"})
def median_blur(image, *, size: int = 5):
    """Median filter over a ``size``×``size`` window (OpenCV ``medianBlur``): the remedy for salt-and-pepper.

    Args:
        image: uint8 H×W or H×W×3 (each channel filtered on its own).
        size: odd window side ≥ 1.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: size not odd and ≥ 1.
    """
    img = check_image(image)
    size = check_odd(size, name="size")
    return cv2.medianBlur(img, size)


@register_op("bilateral", category="denoise",
             ranges={"diameter": (0, 31), "sigma_color": (1.0, 200.0), "sigma_space": (1.0, 200.0)},
             help={"diameter": "neighbourhood diameter in pixels; 0 = from sigma_space",
                   "sigma_color": "how different (in gray levels) neighbours may be and still be averaged",
                   "sigma_space": "how far (in pixels) neighbours reach"})
def bilateral(image, *, diameter: int = 9, sigma_color: float = 75.0, sigma_space: float = 75.0):
    """Edge-preserving bilateral filter (OpenCV ``bilateralFilter``; colour distance in RGB for colour images).

    Args:
        image: uint8 H×W or H×W×3.
        diameter: pixel neighbourhood diameter (0 = computed from ``sigma_space``); large values are slow.
        sigma_color: range sigma in gray levels (> 0).
        sigma_space: spatial sigma in pixels (> 0).
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: negative diameter or non-positive sigmas.
    """
    img = check_image(image)
    diameter = check_number(diameter, name="diameter", low=0, integer=True)
    sigma_color = check_number(sigma_color, name="sigma_color", low=0, low_open=True)
    sigma_space = check_number(sigma_space, name="sigma_space", low=0, low_open=True)
    return cv2.bilateralFilter(img, diameter, sigma_color, sigma_space)


@register_op("nl_means", category="denoise",
             ranges={"h": (1.0, 50.0), "h_color": (1.0, 50.0), "template": (3, 15), "search": (5, 41)},
             help={"h": "filter strength on luminance (about the noise σ in gray levels)",
                   "h_color": "filter strength on colour (a, b of Lab); None = same as h",
                   "template": "odd side of the compared patches", "search": "odd side of the search window"})
def nl_means(image, *, h: float = 10.0, h_color: float | None = None, template: int = 7, search: int = 21):
    """Non-local means denoising (OpenCV ``fastNlMeansDenoising`` / ``fastNlMeansDenoisingColored``).

    For colour input OpenCV converts to CIE Lab and filters L with ``h`` and a, b with ``h_color``; it expects
    BGR, so the RGB image is converted to BGR and back here.

    Args:
        image: uint8 H×W or H×W×3 RGB.
        h: strength (> 0); about the noise standard deviation in gray levels works well.
        h_color: colour strength for RGB input (> 0); None = ``h``. Ignored for gray input.
        template: odd patch side (7 recommended).
        search: odd search-window side (21 recommended); time grows with its square.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: h or h_color ≤ 0, template/search not odd.
    """
    img = check_image(image)
    h = check_number(h, name="h", low=0, low_open=True)
    h_color = h if h_color is None else check_number(h_color, name="h_color", low=0, low_open=True)
    template = check_odd(template, name="template")
    search = check_odd(search, name="search")
    if img.ndim == 2:
        return cv2.fastNlMeansDenoising(img, None, h, template, search)
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h_color, template, search)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB, dst=out)


@register_op("tv_denoise", category="denoise", ranges={"weight": (0.01, 1.0), "iterations": (1, 500)},
             help={"weight": "smoothing weight (larger = flatter, on the image scaled to 0..1)",
                   "iterations": "maximum number of Chambolle iterations"})
def tv_denoise(image, *, weight: float = 0.1, iterations: int = 200):
    """Total-variation denoising (scikit-image ``denoise_tv_chambolle``; OpenCV has no equivalent).

    Colour images are denoised jointly over the channels (``channel_axis=-1``). Computed in float32 (scikit-image
    keeps float32 input in float32), which is about twice as fast as its default float64 and equal to 1/255.

    Args:
        image: uint8 H×W or H×W×3.
        weight: denoising weight (> 0) on the image scaled to [0, 1].
        iterations: maximum iterations (≥ 1); stops earlier when converged.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: weight ≤ 0 or iterations < 1.
    """
    from skimage.restoration import denoise_tv_chambolle

    img = check_image(image)
    weight = check_number(weight, name="weight", low=0, low_open=True)
    iterations = check_number(iterations, name="iterations", low=1, integer=True)
    x = img.astype(np.float32) * np.float32(1 / 255)
    out = denoise_tv_chambolle(x, weight=weight, max_num_iter=iterations,
                               channel_axis=-1 if img.ndim == 3 else None)
    return _float01_to_uint8(out)


def _check_wavelet(wavelet: str) -> str:
    import pywt

    names = [n for n in pywt.wavelist(kind="discrete") if pywt.Wavelet(n).orthogonal]
    if wavelet not in names:
        raise InputError(f"wavelet: expected an orthogonal PyWavelets wavelet such as 'db1', 'db2', 'sym4', "
                         f"'coif1', got {wavelet!r} (all: {', '.join(names)})")
    return wavelet


def _wavelet_plane(plane: np.ndarray, sigma: float | None, wavelet: str, mode: str, method: str) -> np.ndarray:
    """Denoise one float plane in [0, 1] with scikit-image; ``sigma`` None = estimated, as scikit-image does.

    scikit-image estimates σ as median(|finest diagonal details ≠ 0|)/0.6745 and returns an all-NaN image when
    every such detail is zero (flat or purely horizontal/vertical content). That case means "no measurable noise",
    so the plane is returned unchanged, as it is for σ = 0 (every threshold 0; pywt would divide 0 by 0).
    """
    import warnings

    from skimage.restoration import denoise_wavelet

    if sigma == 0:
        return plane
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Mean of empty slice", category=RuntimeWarning)
        out = denoise_wavelet(plane, sigma=sigma, wavelet=wavelet, mode=mode, method=method)
    return plane if sigma is None and np.isnan(out).any() else out


@register_op("wavelet_denoise", category="denoise", ranges={"sigma": (0.0, 100.0)},
             help={"sigma": "noise σ in gray levels; None = estimated from the finest wavelet band",
                   "wavelet": "orthogonal wavelet name (PyWavelets): db1 (Haar), db2, sym4, coif1, ...",
                   "mode": "soft or hard thresholding of the coefficients",
                   "method": "BayesShrink (adaptive per sub-band) or VisuShrink (universal threshold)"})
def wavelet_denoise(image, *, sigma: float | None = None, wavelet: str = "db1",
                    mode: Literal["soft", "hard"] = "soft",
                    method: Literal["BayesShrink", "VisuShrink"] = "BayesShrink"):
    """Wavelet-shrinkage denoising (scikit-image ``denoise_wavelet``; OpenCV has no equivalent).

    Colour images are thresholded in YCbCr, each channel stretched to [0, 1] first, exactly as scikit-image's
    ``convert2ycbcr=True`` does (which keeps colours from bleeding); the loop is written out here only so that
    a channel without measurable noise (where scikit-image's estimate is NaN) is left as it is.

    Args:
        image: uint8 H×W or H×W×3, at least 2×2.
        sigma: noise standard deviation in gray levels (0..255 scale, per RGB channel); None = estimated per
            channel (robust median estimator of Donoho and Johnstone).
        wavelet: an orthogonal discrete PyWavelets wavelet (thresholding assumes orthogonality).
        mode: ``soft`` or ``hard`` thresholding.
        method: ``BayesShrink`` or ``VisuShrink``.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: negative sigma, unknown or non-orthogonal wavelet, unknown mode or method.
        ShapeError: smaller than 2×2.
    """
    from skimage.color import rgb2ycbcr, ycbcr2rgb
    from skimage.color.colorconv import ycbcr_from_rgb

    img = check_image(image, min_size=2)
    sigma01 = None if sigma is None else check_number(sigma, name="sigma", low=0) / 255.0
    wavelet = _check_wavelet(wavelet)
    if mode not in ("soft", "hard"):
        raise InputError(f"mode: expected 'soft' or 'hard', got {mode!r}")
    if method not in ("BayesShrink", "VisuShrink"):
        raise InputError(f"method: expected 'BayesShrink' or 'VisuShrink', got {method!r}")
    x = img.astype(np.float32) * np.float32(1 / 255)
    if img.ndim == 2:
        return _float01_to_uint8(_wavelet_plane(x, sigma01, wavelet, mode, method))
    ycc = rgb2ycbcr(x)
    for c in range(3):
        lo, hi = float(ycc[..., c].min()), float(ycc[..., c].max())
        if hi == lo:
            continue
        s = None if sigma01 is None else sigma01 * float(np.linalg.norm(ycbcr_from_rgb[c])) / (hi - lo)
        plane = (ycc[..., c] - lo) / (hi - lo)
        ycc[..., c] = _wavelet_plane(plane, s, wavelet, mode, method) * (hi - lo) + lo
    return _float01_to_uint8(ycbcr2rgb(ycc))


# --------------------------------------------------------------------------------------------- noise


@register_op("add_gaussian_noise", category="noise", ranges={"sigma": (0.0, 100.0), "seed": (0, 2**31 - 1)},
             help={"sigma": "standard deviation in gray levels", "seed": "random seed (same seed, same noise)"})
def add_gaussian_noise(image, *, sigma: float = 20.0, seed: int = 0):
    """Add zero-mean Gaussian noise of standard deviation ``sigma`` gray levels, rounded and clipped to 0..255.

    Args:
        image: uint8 H×W or H×W×3 (each value gets its own noise sample).
        sigma: noise standard deviation (≥ 0) in gray levels.
        seed: seed of ``numpy.random.default_rng``.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: negative sigma or seed.
    """
    img = check_image(image)
    sigma = check_number(sigma, name="sigma", low=0)
    rng = _rng(seed)
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    noise *= np.float32(sigma)
    return cv2.add(img, noise, dtype=cv2.CV_8U)  # rounds and saturates to 0..255 in one pass


@register_op("add_salt_pepper", category="noise",
             ranges={"amount": (0.0, 1.0), "salt_ratio": (0.0, 1.0), "seed": (0, 2**31 - 1)},
             help={"amount": "fraction of pixels replaced", "salt_ratio": "fraction of those set white (the rest black)",
                   "seed": "random seed (same seed, same noise)"})
def add_salt_pepper(image, *, amount: float = 0.05, salt_ratio: float = 0.5, seed: int = 0):
    """Impulse noise: a random ``amount`` of the pixels becomes white (salt) or black (pepper).

    Whole pixels are replaced (all three channels of an RGB pixel together), as a dead or stuck sensor pixel would
    be; each pixel is hit independently with probability ``amount``.

    Args:
        image: uint8 H×W or H×W×3.
        amount: probability in [0, 1] that a pixel is replaced.
        salt_ratio: probability in [0, 1] that a replaced pixel is white rather than black.
        seed: seed of ``numpy.random.default_rng``.
    Returns:
        uint8 image of the input's layout (a new array).
    Raises:
        InputError: amount or salt_ratio outside [0, 1], negative seed.
    """
    img = check_image(image)
    amount = check_number(amount, name="amount", low=0, high=1)
    salt_ratio = check_number(salt_ratio, name="salt_ratio", low=0, high=1)
    rng = _rng(seed)
    u = rng.random(img.shape[:2], dtype=np.float32)
    out = img.copy()
    out[u < amount * salt_ratio] = 255
    out[(u >= amount * salt_ratio) & (u < amount)] = 0
    return out


@register_op("add_poisson_noise", category="noise", ranges={"peak": (1.0, 1000.0), "seed": (0, 2**31 - 1)},
             help={"peak": "photon count of a white pixel (smaller = noisier; 255 = gray levels are counts)",
                   "seed": "random seed (same seed, same noise)"})
def add_poisson_noise(image, *, peak: float = 255.0, seed: int = 0):
    """Shot (Poisson) noise: each value ``v`` becomes ``Poisson(v·peak/255)·255/peak``, rounded and clipped.

    The noise grows with brightness (its standard deviation is ``sqrt(v·255/peak)`` gray levels); with the default
    ``peak=255`` the gray levels themselves are the photon counts, so the standard deviation is ``sqrt(v)``.

    Args:
        image: uint8 H×W or H×W×3.
        peak: expected photon count at value 255 (> 0); lower = darker scene = noisier.
        seed: seed of ``numpy.random.default_rng``.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: peak ≤ 0, negative seed.
    """
    img = check_image(image)
    peak = check_number(peak, name="peak", low=0, low_open=True)
    rng = _rng(seed)
    counts = rng.poisson(img * (peak / 255.0)).astype(np.float32)
    counts *= np.float32(255.0 / peak)
    return _float255_to_uint8(counts)


@register_op("add_speckle", category="noise", ranges={"sigma": (0.0, 1.0), "seed": (0, 2**31 - 1)},
             help={"sigma": "standard deviation of the multiplicative noise", "seed": "random seed"})
def add_speckle(image, *, sigma: float = 0.2, seed: int = 0):
    """Multiplicative (speckle) noise: ``v + v·n`` with ``n ~ N(0, sigma²)``, rounded and clipped to 0..255.

    Args:
        image: uint8 H×W or H×W×3.
        sigma: standard deviation (≥ 0) of the relative noise ``n``.
        seed: seed of ``numpy.random.default_rng``.
    Returns:
        uint8 image of the input's layout.
    Raises:
        InputError: negative sigma or seed.
    """
    img = check_image(image)
    sigma = check_number(sigma, name="sigma", low=0)
    rng = _rng(seed)
    n = rng.standard_normal(img.shape, dtype=np.float32)
    n *= np.float32(sigma)
    n += np.float32(1.0)
    return cv2.multiply(img, n, dtype=cv2.CV_8U)  # rounds and saturates to 0..255 in one pass
