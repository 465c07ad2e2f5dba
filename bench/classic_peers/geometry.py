"""Benchmark peers of vision.classic.geometry: the same work in scikit-image and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo as a user of that library would (scikit-image's warps
return float images in [0, 1]; OpenCV works on the uint8 array directly, channel order does not matter here).
Flip, crop and pad have no scikit-image function (``skimage.util.crop`` is numpy slicing, ``pad`` was removed):
their OpenCV peer is ``cv2.flip`` / numpy slicing / ``cv2.copyMakeBorder``.
"""

import cv2
import numpy as np

_SRC3 = [[0, 0], [1023, 0], [0, 1023]]
_DST3 = [[40, 20], [1000, 60], [10, 990]]
_SRC4 = [[60, 40], [980, 10], [1010, 1000], [20, 960]]
_DST4 = [[0, 0], [1023, 0], [1023, 1023], [0, 1023]]
_SHEAR = np.array([[1.0, 0.5, 0.25], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])   # what shear(factor=0.5) builds


def _sk_warp(img, matrix, shape):
    from skimage.transform import ProjectiveTransform, warp

    return warp(img, ProjectiveTransform(matrix=np.asarray(matrix, float)).inverse, output_shape=shape, order=1)


def _sk_rescale(img):
    from skimage.transform import rescale

    return rescale(img, 2.0, order=1, channel_axis=-1)


def _sk_resize(img):
    from skimage.transform import resize

    return resize(img, (512, 512))          # anti-aliased by default when shrinking, like INTER_AREA


def _sk_rotate(img):
    from skimage.transform import rotate

    return rotate(img, 30.0)


def _sk_affine(img):
    from skimage.transform import AffineTransform, warp

    tf = AffineTransform.from_estimate(np.array(_SRC3, float), np.array(_DST3, float))
    return warp(img, tf.inverse, order=1)


def _sk_perspective(img):
    from skimage.transform import ProjectiveTransform, warp

    tf = ProjectiveTransform.from_estimate(np.array(_SRC4, float), np.array(_DST4, float))
    return warp(img, tf.inverse, order=1)


def _sk_crop(img):
    from skimage.util import crop

    return crop(img, ((256, 256), (256, 256), (0, 0)), copy=True)


def _cv_rotate(img):
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), 30.0, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR)


def _cv_affine(img):
    m = cv2.getAffineTransform(np.float32(_SRC3), np.float32(_DST3))
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR)


def _cv_perspective(img):
    m = cv2.getPerspectiveTransform(np.float32(_SRC4), np.float32(_DST4))
    return cv2.warpPerspective(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR)


def page_photo(img):
    """The photo as a page seen at a slant on a dark textured desk, 1024×1024 (input of document_scan)."""
    h, w = img.shape[:2]
    rng = np.random.default_rng(0)
    desk = cv2.resize(rng.integers(0, 70, (h // 16, w // 16, 3), dtype=np.uint8), (w, h),
                      interpolation=cv2.INTER_NEAREST)
    quad = np.float32([[180, 120], [850, 170], [900, 880], [110, 820]])
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]), quad)
    page = cv2.warpPerspective(cv2.addWeighted(img, 0.4, np.full_like(img, 255), 0.6, 0), m, (w, h))
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (w, h)) > 127
    desk[mask] = page[mask]
    return desk


def _cv_document_scan(img):
    """The same steps as vision's document_scan, in raw OpenCV calls (no order/size logic shortcuts)."""
    gray = cv2.GaussianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 50, 150), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    best = None
    for c in sorted(contours, key=cv2.contourArea, reverse=True)[:20]:
        hull = cv2.convexHull(c)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) == 4 and cv2.isContourConvex(approx) and cv2.contourArea(approx) > 0.1 * img.size / 3:
            best = approx.reshape(4, 2).astype(np.float32)
            break
    s, d = best.sum(1), np.diff(best, axis=1)[:, 0]
    tl, br, tr, bl = best[np.argmin(s)], best[np.argmax(s)], best[np.argmin(d)], best[np.argmax(d)]
    w = int(round((np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2)) + 1
    h = int(round((np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2)) + 1
    m = cv2.getPerspectiveTransform(np.float32([tl, tr, br, bl]), np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1],
                                                                              [0, h - 1]]))
    return cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


PEERS = {
    "scale": {"params": {"fx": 2.0}, "skimage": _sk_rescale,
              "opencv": lambda img: cv2.resize(img, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)},
    "resize": {"params": {"width": 512, "height": 512, "interpolation": "area"}, "skimage": _sk_resize,
               "opencv": lambda img: cv2.resize(img, (512, 512), interpolation=cv2.INTER_AREA)},
    "rotate": {"params": {"angle": 30.0}, "skimage": _sk_rotate, "opencv": _cv_rotate},
    "shear": {"params": {"factor": 0.5}, "skimage": lambda img: _sk_warp(img, _SHEAR, (1024, 1536)),
              "opencv": lambda img: cv2.warpAffine(img, _SHEAR[:2], (1536, 1024), flags=cv2.INTER_LINEAR)},
    "affine": {"params": {"src": _SRC3, "dst": _DST3}, "skimage": _sk_affine, "opencv": _cv_affine},
    "perspective": {"params": {"src": _SRC4, "dst": _DST4}, "skimage": _sk_perspective, "opencv": _cv_perspective},
    "document_scan": {"params": {}, "prepare": page_photo, "skimage": None, "opencv": _cv_document_scan},
    "flip": {"params": {"axis": "horizontal"}, "skimage": None, "opencv": lambda img: cv2.flip(img, 1)},
    "crop": {"params": {"x": 256, "y": 256, "width": 512, "height": 512}, "skimage": _sk_crop,
             "opencv": lambda img: img[256:768, 256:768].copy()},
    "pad": {"params": {"top": 32, "bottom": 32, "left": 32, "right": 32, "mode": "reflect"}, "skimage": None,
            "opencv": lambda img: cv2.copyMakeBorder(img, 32, 32, 32, 32, cv2.BORDER_REFLECT_101)},
}
