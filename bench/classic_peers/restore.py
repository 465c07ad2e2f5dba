"""Benchmark peers of vision.classic.restore: the same work in scikit-image and in raw OpenCV calls.

scikit-image's deconvolutions take one float channel and a PSF; its user converts with ``img_as_float`` and loops
over the RGB channels. The PSF is the horizontal 15-pixel motion blur (``angle_deg=0``), built here as its user
would. OpenCV has no deconvolution; its peer exists only for the blur itself.
"""

import cv2
import numpy as np

_PARAMS = {"psf": "motion", "length": 15, "angle_deg": 0.0}


def _line_psf():
    psf = np.zeros((15, 15))
    psf[7, :] = 1 / 15
    return psf


def _sk_per_channel(fn):
    def run(img):
        from skimage.util import img_as_float

        x = img_as_float(img)
        psf = _line_psf()
        return np.stack([fn(x[:, :, c], psf) for c in range(x.shape[2])], axis=-1)

    return run


def _sk_wiener(channel, psf):
    from skimage.restoration import wiener

    return wiener(channel, psf, balance=0.01)


def _sk_unsupervised(channel, psf):
    from skimage.restoration import unsupervised_wiener

    return unsupervised_wiener(channel, psf, rng=0)[0]


def _sk_richardson_lucy(channel, psf):
    from skimage.restoration import richardson_lucy

    return richardson_lucy(channel, psf, num_iter=30)


def _cv_blur(img):
    psf = np.zeros((15, 15), np.float32)
    cv2.line(psf, (0, 7), (14, 7), 1.0)
    return cv2.filter2D(img, -1, psf / psf.sum())


PEERS = {
    "blur_psf": {"params": dict(_PARAMS), "skimage": None, "opencv": _cv_blur},
    "wiener": {"params": {**_PARAMS, "balance": 0.01}, "skimage": _sk_per_channel(_sk_wiener), "opencv": None},
    "unsupervised_wiener": {"params": dict(_PARAMS), "skimage": _sk_per_channel(_sk_unsupervised), "opencv": None},
    "richardson_lucy": {"params": {**_PARAMS, "iterations": 30}, "skimage": _sk_per_channel(_sk_richardson_lucy),
                        "opencv": None},
}
