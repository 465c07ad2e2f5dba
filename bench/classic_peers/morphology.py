"""Benchmark peers of vision.classic.morphology: the same work in scikit-image and in raw OpenCV calls.

Grey-level ops run on the RGB photo (scikit-image with a 3-D footprint of depth 1, i.e. per channel);
binary ops get the photo's Otsu mask through ``prepare`` (not timed), as a user thresholds first.
"""

import cv2
import numpy as np


def _otsu_mask(img):
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return cv2.threshold(g, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1].astype(bool)


def _fp(size):
    return np.ones((size, size, 1), bool)


def _kernel(size):
    return cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))


def _sk(name, size):
    def run(img):
        from skimage import morphology

        return getattr(morphology, name)(img, _fp(size))

    return run


def _sk_gradient(img):
    from skimage import morphology

    return morphology.dilation(img, _fp(3)) - morphology.erosion(img, _fp(3))


def _cv(op, size):
    return lambda img: cv2.morphologyEx(img, op, _kernel(size))


def _sk_skeleton(mask):
    from skimage.morphology import skeletonize

    return skeletonize(mask)


def _sk_fill(mask):
    from scipy import (
        ndimage,  # scikit-image has no fill-holes of its own; its docs use SciPy's
    )

    return ndimage.binary_fill_holes(mask)


def _cv_fill(mask):
    h, w = mask.shape
    frame = np.zeros((h + 2, w + 2), np.uint8)
    frame[1:-1, 1:-1] = mask
    cv2.floodFill(frame, None, (0, 0), 2, flags=4)
    return frame[1:-1, 1:-1] != 2


def _sk_small(mask):
    from skimage.morphology import remove_small_objects

    return remove_small_objects(mask, max_size=63, connectivity=2)


def _cv_small(mask):
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= 64
    keep[0] = False
    return keep[labels]


PEERS = {
    "erode": {"params": {}, "skimage": _sk("erosion", 3), "opencv": lambda img: cv2.erode(img, _kernel(3))},
    "dilate": {"params": {}, "skimage": _sk("dilation", 3), "opencv": lambda img: cv2.dilate(img, _kernel(3))},
    "opening": {"params": {}, "skimage": _sk("opening", 3), "opencv": _cv(cv2.MORPH_OPEN, 3)},
    "closing": {"params": {}, "skimage": _sk("closing", 3), "opencv": _cv(cv2.MORPH_CLOSE, 3)},
    "morph_gradient": {"params": {}, "skimage": _sk_gradient, "opencv": _cv(cv2.MORPH_GRADIENT, 3)},
    "tophat": {"params": {}, "skimage": _sk("white_tophat", 9), "opencv": _cv(cv2.MORPH_TOPHAT, 9)},
    "blackhat": {"params": {}, "skimage": _sk("black_tophat", 9), "opencv": _cv(cv2.MORPH_BLACKHAT, 9)},
    "skeletonize": {"params": {}, "prepare": _otsu_mask, "skimage": _sk_skeleton, "opencv": None},
    "fill_holes": {"params": {}, "prepare": _otsu_mask, "skimage": _sk_fill, "opencv": _cv_fill},
    "remove_small_objects": {"params": {}, "prepare": _otsu_mask, "skimage": _sk_small, "opencv": _cv_small},
}
