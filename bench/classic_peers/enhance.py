"""Benchmark peers of vision.classic.enhance: the same work in scikit-image and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo, as a user of that library would.
"""

import cv2
import numpy as np


def _sk_unsharp(img):
    from skimage.filters import unsharp_mask

    return unsharp_mask(img, radius=2.0, amount=1.0, channel_axis=-1)


def _cv_unsharp(img):
    return cv2.addWeighted(img, 2.0, cv2.GaussianBlur(img, (0, 0), 2.0), -1.0, 0)


def _sk_laplacian_sharpen(img):
    from skimage.filters import laplace

    f = img / 255.0
    return np.clip(f + np.stack([laplace(f[..., c]) for c in range(3)], axis=-1), 0, 1)  # laplace is −∇²


_SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)


def _cv_laplacian_sharpen(img):
    return cv2.filter2D(img, -1, _SHARPEN)


def _sk_high_boost(img):
    from skimage.filters import unsharp_mask

    return unsharp_mask(img, radius=1.0, amount=2.0, channel_axis=-1)


def _cv_high_boost(img):
    return cv2.addWeighted(img, 3.0, cv2.GaussianBlur(img, (0, 0), 1.0), -2.0, 0)


def _sk_equalize(img):
    from skimage import exposure

    return exposure.equalize_hist(img)


def _cv_luma(img, fn):
    y, cr, cb = cv2.split(cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb))
    return cv2.cvtColor(cv2.merge((fn(y), cr, cb)), cv2.COLOR_YCrCb2RGB)


def _cv_equalize(img):
    return _cv_luma(img, cv2.equalizeHist)


def _sk_clahe(img):
    from skimage import exposure

    return exposure.equalize_adapthist(img, clip_limit=0.01)


def _cv_clahe(img):
    return _cv_luma(img, cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply)


def _sk_gamma(img):
    from skimage import exposure

    return exposure.adjust_gamma(img, 0.5)


def _cv_gamma(img):
    table = np.rint(255.0 * (np.arange(256) / 255.0) ** 0.5).astype(np.uint8)
    return cv2.LUT(img, table)


def _sk_stretch(img):
    from skimage import exposure

    p2, p98 = np.percentile(img, (2, 98))
    return exposure.rescale_intensity(img, in_range=(p2, p98))


PEERS = {
    "unsharp_mask": {"params": {"radius": 2.0, "amount": 1.0}, "skimage": _sk_unsharp, "opencv": _cv_unsharp},
    "laplacian_sharpen": {"params": {"strength": 1.0, "ksize": 1}, "skimage": _sk_laplacian_sharpen,
                          "opencv": _cv_laplacian_sharpen},
    "high_boost": {"params": {"k": 2.0, "sigma": 1.0}, "skimage": _sk_high_boost, "opencv": _cv_high_boost},
    "equalize_hist": {"params": {}, "skimage": _sk_equalize, "opencv": _cv_equalize},
    "clahe": {"params": {"clip_limit": 2.0, "tile": 8}, "skimage": _sk_clahe, "opencv": _cv_clahe},
    "gamma": {"params": {"gamma": 0.5}, "skimage": _sk_gamma, "opencv": _cv_gamma},
    "contrast_stretch": {"params": {"low_percentile": 2.0, "high_percentile": 98.0}, "skimage": _sk_stretch,
                         "opencv": None},
}
