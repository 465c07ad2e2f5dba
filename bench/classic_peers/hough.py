"""Benchmark peers of vision.classic.hough: the same work in scikit-image and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo and converts it as a user of that library would.
scikit-image's circle peer searches every 5th radius of 10..100 (every radius would need 91 float64
accumulators of the image's size, ~0.7 GB); that makes it cheaper, so its ratio is a lower bound for us.
"""

import math

import cv2
import numpy as np


def _gray(img):
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _sk_edges(img):
    from skimage.color import rgb2gray
    from skimage.feature import canny

    return canny(rgb2gray(img), sigma=1.0, low_threshold=0.1, high_threshold=0.2)


def _sk_lines(img):
    from skimage.transform import hough_line, hough_line_peaks

    h, angles, dists = hough_line(_sk_edges(img), theta=np.deg2rad(np.arange(-90.0, 90.0, 1.0)))
    return hough_line_peaks(h, angles, dists, threshold=150, num_peaks=50)


def _cv_lines(img):
    return cv2.HoughLines(cv2.Canny(_gray(img), 50, 150), 1.0, math.pi / 180, 150)


def _sk_segments(img):
    from skimage.transform import probabilistic_hough_line

    return probabilistic_hough_line(_sk_edges(img), threshold=50, line_length=30, line_gap=10, rng=0)


def _cv_segments(img):
    return cv2.HoughLinesP(cv2.Canny(_gray(img), 50, 150), 1.0, math.pi / 180, 50, minLineLength=30, maxLineGap=10)


def _sk_circles(img):
    from skimage.transform import hough_circle, hough_circle_peaks

    radii = np.arange(10, 101, 5)
    acc = hough_circle(_sk_edges(img), radii)
    return hough_circle_peaks(acc, radii, min_xdistance=20, min_ydistance=20, total_num_peaks=50)


def _cv_circles(img):
    g = cv2.GaussianBlur(_gray(img), (0, 0), 1.5)
    return cv2.HoughCircles(g, cv2.HOUGH_GRADIENT, 1.0, 20.0, param1=100, param2=30, minRadius=10, maxRadius=100)


PEERS = {
    "hough_lines": {"params": {}, "skimage": _sk_lines, "opencv": _cv_lines},
    "hough_segments": {"params": {}, "skimage": _sk_segments, "opencv": _cv_segments},
    "hough_circles": {"params": {}, "skimage": _sk_circles, "opencv": _cv_circles},
}
