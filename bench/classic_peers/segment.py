"""Benchmark peers of vision.classic.segment: the same work in scikit-image and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo and converts it as a user of that library would
(``rgb2gray`` for scikit-image, ``cvtColor(RGB2GRAY)`` for OpenCV); ``connected_components`` gets the photo's
Otsu mask through ``prepare`` (not timed). Watershed has no OpenCV peer: ``cv2.watershed`` floods colour
differences between neighbours, not a given relief such as the negated distance transform, so OpenCV's
tutorial recipe (kept below as ``_cv_watershed`` for reference) is a different algorithm, not the same work.
"""

import cv2
import numpy as np


def _gray(img):
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _sk_gray(img):
    from skimage.color import rgb2gray

    return rgb2gray(img)


def _otsu_mask(img):
    return cv2.threshold(_gray(img), 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1].astype(bool)


def _sk_otsu(img):
    from skimage.filters import threshold_otsu

    g = _sk_gray(img)
    return g > threshold_otsu(g)


def _sk_multiotsu(img):
    from skimage.filters import threshold_multiotsu

    g = _sk_gray(img)
    return np.digitize(g, bins=threshold_multiotsu(g, classes=3)).astype(np.uint8)


def _sk_adaptive(img):
    from skimage.filters import threshold_local

    g = _sk_gray(img)
    return g > threshold_local(g, 35, method="gaussian", offset=5 / 255)


def _cv_kmeans(img):
    data = img.reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    _, labels, centres = cv2.kmeans(data, 8, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    return np.clip(np.rint(centres), 0, 255).astype(np.uint8)[labels.ravel()].reshape(img.shape)


def _sk_components(mask):
    from skimage.measure import label, regionprops

    props = regionprops(label(mask, connectivity=2))
    return [(p.area, p.bbox, p.centroid) for p in props]


def _cv_components(mask):
    return cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S)


def _sk_watershed(img):
    from scipy import ndimage
    from skimage.feature import peak_local_max
    from skimage.filters import threshold_otsu
    from skimage.segmentation import watershed

    g = _sk_gray(img)
    mask = g > threshold_otsu(g)
    dist = ndimage.distance_transform_edt(mask)
    coords = peak_local_max(dist, min_distance=10, labels=mask)
    markers = np.zeros(dist.shape, np.int32)
    markers[tuple(coords.T)] = np.arange(1, len(coords) + 1)
    return watershed(-dist, markers, mask=mask)


def _cv_watershed(img):
    _, fg = cv2.threshold(_gray(img), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    dist = cv2.distanceTransform(fg, cv2.DIST_L2, 5)
    _, sure = cv2.threshold(dist, 0.3 * dist.max(), 255, cv2.THRESH_BINARY)
    sure = sure.astype(np.uint8)
    _, markers = cv2.connectedComponents(sure)
    markers = markers + 1
    markers[(fg > 0) & (sure == 0)] = 0
    return cv2.watershed(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), markers)


def _sk_slic(img):
    from skimage.segmentation import slic

    return slic(img, n_segments=200, compactness=10.0, start_label=1)


def _sk_felzenszwalb(img):
    from skimage.segmentation import felzenszwalb

    return felzenszwalb(img, scale=100.0, sigma=0.5, min_size=50)


PEERS = {
    "threshold": {"params": {}, "skimage": lambda img: _sk_gray(img) > 128 / 255,
                  "opencv": lambda img: cv2.threshold(_gray(img), 128, 255, cv2.THRESH_BINARY)[1]},
    "threshold_otsu": {"params": {}, "skimage": _sk_otsu,
                       "opencv": lambda img: cv2.threshold(_gray(img), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]},
    "threshold_multiotsu": {"params": {}, "skimage": _sk_multiotsu, "opencv": None},
    "threshold_adaptive": {"params": {}, "skimage": _sk_adaptive,
                           "opencv": lambda img: cv2.adaptiveThreshold(_gray(img), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                                                       cv2.THRESH_BINARY, 35, 5)},
    "kmeans_quantize": {"params": {}, "skimage": None, "opencv": _cv_kmeans},
    "connected_components": {"params": {}, "prepare": _otsu_mask, "skimage": _sk_components, "opencv": _cv_components},
    "watershed": {"params": {}, "skimage": _sk_watershed, "opencv": None},
    "slic": {"params": {}, "skimage": _sk_slic, "opencv": None},
    "felzenszwalb": {"params": {}, "skimage": _sk_felzenszwalb, "opencv": None},
}
