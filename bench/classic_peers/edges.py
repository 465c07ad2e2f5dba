"""Benchmark peers of vision.classic.edges: the same work in scikit-image and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo and converts it as a user of that library would
(``rgb2gray`` for scikit-image, ``cvtColor(RGB2GRAY)`` for OpenCV).
"""

import cv2
import numpy as np


def _gray(img):
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _sk_gray(img):
    from skimage.color import rgb2gray

    return rgb2gray(img)


def _sk(name):
    def run(img):
        from skimage import filters

        return getattr(filters, name)(_sk_gray(img))

    return run


def _cv_sobel(img):
    g = _gray(img)
    return cv2.convertScaleAbs(cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)))


def _cv_scharr(img):
    g = _gray(img)
    return cv2.convertScaleAbs(cv2.magnitude(cv2.Scharr(g, cv2.CV_32F, 1, 0), cv2.Scharr(g, cv2.CV_32F, 0, 1)))


_PREWITT_X = np.array([[-1, 0, 1]] * 3, np.float32)
_ROBERTS_P = np.array([[1, 0], [0, -1]], np.float32)
_ROBERTS_N = np.array([[0, 1], [-1, 0]], np.float32)


def _cv_prewitt(img):
    g = _gray(img)
    gx = cv2.filter2D(g, cv2.CV_32F, _PREWITT_X)
    gy = cv2.filter2D(g, cv2.CV_32F, _PREWITT_X.T)
    return cv2.convertScaleAbs(cv2.magnitude(gx, gy))


def _cv_roberts(img):
    g = _gray(img)
    p = cv2.filter2D(g, cv2.CV_32F, _ROBERTS_P, anchor=(0, 0))
    n = cv2.filter2D(g, cv2.CV_32F, _ROBERTS_N, anchor=(0, 0))
    return cv2.convertScaleAbs(cv2.magnitude(p, n))


def _cv_laplacian(img):
    return cv2.convertScaleAbs(cv2.Laplacian(_gray(img), cv2.CV_16S, ksize=1))


def _sk_log(img):
    from skimage import filters

    return filters.laplace(filters.gaussian(_sk_gray(img), sigma=2.0))


def _cv_log(img):
    g = _gray(img).astype(np.float32)
    return cv2.convertScaleAbs(cv2.Laplacian(cv2.GaussianBlur(g, (0, 0), 2.0), cv2.CV_32F, ksize=1))


def _sk_canny(img):
    from skimage import feature

    return feature.canny(_sk_gray(img), sigma=1.0, low_threshold=0.1, high_threshold=0.2)


def _cv_canny(img):
    return cv2.Canny(cv2.GaussianBlur(_gray(img), (0, 0), 1.0), 100, 200) > 0


PEERS = {
    "sobel": {"params": {}, "skimage": _sk("sobel"), "opencv": _cv_sobel},
    "scharr": {"params": {}, "skimage": _sk("scharr"), "opencv": _cv_scharr},
    "prewitt": {"params": {}, "skimage": _sk("prewitt"), "opencv": _cv_prewitt},
    "roberts": {"params": {}, "skimage": _sk("roberts"), "opencv": _cv_roberts},
    "laplacian": {"params": {"ksize": 1}, "skimage": _sk("laplace"), "opencv": _cv_laplacian},
    "log": {"params": {"sigma": 2.0}, "skimage": _sk_log, "opencv": _cv_log},
    "canny": {"params": {"low": 100.0, "high": 200.0, "blur_sigma": 1.0}, "skimage": _sk_canny, "opencv": _cv_canny},
}
