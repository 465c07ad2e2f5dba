"""Full-reference image quality: MSE, PSNR and SSIM of a test image against a reference.

Plain functions (not ops: they take two images and return a number). Both images must be uint8 of the same
shape (gray H×W or RGB H×W×3), as every classic op returns.

Example::

    >>> import numpy as np
    >>> from vision.classic.quality import psnr
    >>> a = np.zeros((4, 4), np.uint8); b = a.copy(); b[0, 0] = 16   # MSE = 16²/16 = 16
    >>> round(psnr(a, b), 2)                                            # 10·log10(255²/16)
    36.09
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from vision.classic.validate import check_image, check_number
from vision.errors import ShapeError

__all__ = ["mse", "psnr", "ssim"]


def _pair(reference: Any, test: Any) -> tuple[np.ndarray, np.ndarray]:
    ref = check_image(reference, name="reference")
    tst = check_image(test, name="test")
    if ref.shape != tst.shape:
        raise ShapeError(f"reference and test: expected the same shape, got reference "
                         f"{'×'.join(map(str, ref.shape))} and test {'×'.join(map(str, tst.shape))}")
    return ref, tst


def mse(reference: Any, test: Any) -> float:
    """Mean squared error over all pixels and channels, in squared gray levels.

    Args:
        reference: uint8 H×W or H×W×3.
        test: uint8 of the same shape.
    Returns:
        The MSE (0.0 for identical images).
    Raises:
        DTypeError: either image is not uint8.
        ShapeError: bad layout, or the two shapes differ.
    """
    ref, tst = _pair(reference, test)
    # cv2.norm sums in float64 over every channel: exact for uint8 and ~10× faster than numpy.
    return float(cv2.norm(ref, tst, cv2.NORM_L2SQR)) / ref.size


def psnr(reference: Any, test: Any, *, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio ``10·log10(data_range² / MSE)`` in dB.

    Args:
        reference: uint8 H×W or H×W×3.
        test: uint8 of the same shape.
        data_range: the peak value (255 for uint8 images).
    Returns:
        PSNR in dB; ``math.inf`` when the images are identical (MSE = 0), as scikit-image returns.
    Raises:
        InputError: data_range ≤ 0.
        DTypeError: either image is not uint8.
        ShapeError: bad layout, or the two shapes differ.
    """
    data_range = check_number(data_range, name="data_range", low=0, low_open=True)
    err = mse(reference, test)
    if err == 0:
        return float("inf")
    return float(10.0 * np.log10(float(data_range) ** 2 / err))


def ssim(reference: Any, test: Any, *, data_range: float = 255.0, sigma: float = 1.5,
         gaussian_weights: bool = True) -> float:
    """Mean structural similarity (Wang et al. 2004) via scikit-image ``structural_similarity``.

    Uses the paper's settings by default: an 11×11 Gaussian window of σ = 1.5, population covariance,
    K1 = 0.01, K2 = 0.03. RGB images are compared per channel and averaged (``channel_axis=-1``).

    Args:
        reference: uint8 H×W or H×W×3, at least the window side (11 with the defaults; 7 without Gaussian
            weights) on each side.
        test: uint8 of the same shape.
        data_range: the peak value (255 for uint8 images).
        sigma: standard deviation of the Gaussian window (> 0); its side is ``2·round(3.5σ) + 1``.
        gaussian_weights: True = Gaussian window (Wang et al.); False = 7×7 uniform window with sample
            covariance (scikit-image's plain default).
    Returns:
        Mean SSIM in [-1, 1]; 1.0 for identical images.
    Raises:
        InputError: data_range or sigma ≤ 0.
        DTypeError: either image is not uint8.
        ShapeError: bad layout, the shapes differ, or the image is smaller than the window.
    """
    from skimage.metrics import structural_similarity

    data_range = check_number(data_range, name="data_range", low=0, low_open=True)
    sigma = check_number(sigma, name="sigma", low=0, low_open=True)
    ref, tst = _pair(reference, test)
    win = 2 * int(3.5 * sigma + 0.5) + 1 if gaussian_weights else 7
    if min(ref.shape[:2]) < win:
        raise ShapeError(f"reference and test: expected at least {win}×{win} pixels for the SSIM window, got "
                         f"{'×'.join(map(str, ref.shape))}")
    kwargs: dict[str, Any] = {"gaussian_weights": True, "sigma": float(sigma), "use_sample_covariance": False} \
        if gaussian_weights else {}
    value = structural_similarity(ref, tst, data_range=float(data_range),
                                  channel_axis=-1 if ref.ndim == 3 else None, **kwargs)
    return float(value)
