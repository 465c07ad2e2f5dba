"""Benchmark peers of vision.classic.convolve: the same work in scikit-image/scipy and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo. scikit-image has no general 2-D correlation, so its
column uses ``scipy.ndimage.correlate``/``convolve`` (what scikit-image calls inside) per channel.
"""

import cv2
import numpy as np

_SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)


def _nd(fn_name, kernel):
    def run(img):
        from scipy import ndimage

        f = img.astype(np.float32)
        return getattr(ndimage, fn_name)(f, kernel[:, :, None], mode="constant", cval=0.0)

    return run


def _cv_correlate(img):
    return cv2.filter2D(img, cv2.CV_32F, _SOBEL_X, borderType=cv2.BORDER_CONSTANT)


def _cv_convolve(img):
    return cv2.filter2D(img, cv2.CV_32F, cv2.flip(_SOBEL_X, -1), borderType=cv2.BORDER_CONSTANT)


def _sk_pool(img):
    from skimage.measure import block_reduce

    return block_reduce(img, (2, 2, 1), np.max)


_WIN = np.ones((2, 2), np.uint8)


def _cv_pool(img):
    return cv2.dilate(img, _WIN, anchor=(0, 0))[::2, ::2]


PEERS = {
    "correlate2d": {"params": {"kernel": "sobel_x"}, "skimage": _nd("correlate", _SOBEL_X), "opencv": _cv_correlate},
    "convolve2d": {"params": {"kernel": "sobel_x"}, "skimage": _nd("convolve", _SOBEL_X), "opencv": _cv_convolve},
    "pool2d": {"params": {"size": 2, "mode": "max"}, "skimage": _sk_pool, "opencv": _cv_pool},
}
