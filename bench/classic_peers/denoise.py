"""Benchmark peers of vision.classic.denoise: the same work in scikit-image and in raw OpenCV calls.

Each callable takes the 1024×1024×3 uint8 RGB photo and calls the library as its user would: scikit-image on the
RGB array with ``channel_axis=-1`` (it converts to float itself), OpenCV on the array as it is, converting to BGR
only where the algorithm depends on channel order (non-local means works in Lab).
"""

import cv2
import numpy as np


def _per_channel(fn):
    return lambda img: np.stack([fn(img[:, :, c]) for c in range(img.shape[2])], axis=-1)


def _sk_gaussian(img):
    from skimage.filters import gaussian

    return gaussian(img, sigma=1.5, channel_axis=-1)


def _sk_box(img):
    from skimage.filters.rank import mean
    from skimage.morphology import footprint_rectangle

    return _per_channel(lambda ch: mean(ch, footprint_rectangle((5, 5))))(img)


def _sk_median(img):
    from skimage.filters import median
    from skimage.morphology import footprint_rectangle

    return _per_channel(lambda ch: median(ch, footprint_rectangle((5, 5))))(img)


def _sk_bilateral(img):
    from skimage.restoration import denoise_bilateral

    return denoise_bilateral(img, win_size=9, sigma_color=75 / 255, sigma_spatial=75, channel_axis=-1)


def _sk_nl_means(img):
    from skimage.restoration import denoise_nl_means

    # template 7 → patch_size 7; search 21 → patch_distance 10; h in [0, 1] units
    return denoise_nl_means(img, h=10 / 255, patch_size=7, patch_distance=10, fast_mode=True, channel_axis=-1)


def _cv_nl_means(img):
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    return cv2.cvtColor(cv2.fastNlMeansDenoisingColored(bgr, None, 10, 10, 7, 21), cv2.COLOR_BGR2RGB)


def _sk_tv(img):
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(img, weight=0.1, channel_axis=-1)


def _sk_wavelet(img):
    from skimage.restoration import denoise_wavelet

    return denoise_wavelet(img, wavelet="db1", mode="soft", method="BayesShrink", convert2ycbcr=True,
                           rescale_sigma=True, channel_axis=-1)


def _sk_noise(mode, **kwargs):
    def run(img):
        from skimage.util import random_noise

        return random_noise(img, mode=mode, rng=0, **kwargs)

    return run


def _cv_gaussian_noise(img):
    noise = np.empty(img.shape, np.float32)
    cv2.randn(noise, 0.0, 20.0)
    return cv2.add(img, noise, dtype=cv2.CV_8U)


PEERS = {
    "gaussian_blur": {"params": {"sigma": 1.5}, "skimage": _sk_gaussian,
                      "opencv": lambda img: cv2.GaussianBlur(img, (0, 0), 1.5)},
    "box_blur": {"params": {"size": 5}, "skimage": _sk_box, "opencv": lambda img: cv2.blur(img, (5, 5))},
    "median_blur": {"params": {"size": 5}, "skimage": _sk_median, "opencv": lambda img: cv2.medianBlur(img, 5)},
    "bilateral": {"params": {"diameter": 9, "sigma_color": 75.0, "sigma_space": 75.0}, "skimage": _sk_bilateral,
                  "opencv": lambda img: cv2.bilateralFilter(img, 9, 75, 75)},
    "nl_means": {"params": {"h": 10.0, "template": 7, "search": 21}, "skimage": _sk_nl_means,
                 "opencv": _cv_nl_means},
    "tv_denoise": {"params": {"weight": 0.1}, "skimage": _sk_tv, "opencv": None},
    "wavelet_denoise": {"params": {}, "skimage": _sk_wavelet, "opencv": None},
    "add_gaussian_noise": {"params": {"sigma": 20.0}, "skimage": _sk_noise("gaussian", var=(20 / 255) ** 2),
                           "opencv": _cv_gaussian_noise},
    "add_salt_pepper": {"params": {"amount": 0.05}, "skimage": _sk_noise("s&p", amount=0.05), "opencv": None},
    "add_poisson_noise": {"params": {}, "skimage": _sk_noise("poisson"), "opencv": None},
    "add_speckle": {"params": {"sigma": 0.2}, "skimage": _sk_noise("speckle", var=0.2 ** 2), "opencv": None},
}
