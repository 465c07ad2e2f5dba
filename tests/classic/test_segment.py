"""Segmentation: thresholds against scikit-image, k-means, components, watershed, superpixels, the coins count."""

import cv2
import numpy as np
import pytest

from vision.classic import Regions
from vision.classic.morphology import fill_holes, opening
from vision.classic.segment import (
    connected_components,
    felzenszwalb,
    kmeans_quantize,
    multiotsu_levels,
    otsu_level,
    regions_from_labels,
    slic,
    threshold,
    threshold_adaptive,
    threshold_multiotsu,
    threshold_otsu,
    watershed,
)
from vision.errors import DTypeError, InputError, ShapeError


def _bimodal(seed=0, shape=(64, 64), modes=(60, 180)):
    rng = np.random.default_rng(seed)
    img = np.where(rng.random(shape) < 0.4, modes[0], modes[1]) + rng.normal(0, 12, shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _discs(centres, radius, shape=(100, 200)):
    img = np.zeros(shape, np.uint8)
    for c in centres:
        cv2.circle(img, c, radius, 255, -1)
    return img


# ----------------------------------------------------------------------------------------------- thresholds

def test_global_threshold_semantics():
    img = np.arange(256, dtype=np.uint8).reshape(16, 16)
    m = threshold(img, value=100)
    assert m.dtype == np.bool_ and m.shape == img.shape
    assert np.array_equal(m, img > 100)
    assert np.array_equal(threshold(img, value=100, invert=True), img <= 100)
    rgb = np.dstack([img] * 3)
    assert np.array_equal(threshold(rgb, value=100), m)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_otsu_picks_a_level_between_the_modes_as_scikit_image(seed):
    from skimage.filters import threshold_otsu as sk_otsu

    img = _bimodal(seed)
    level = otsu_level(img)
    assert 80 < level < 160
    assert abs(level - sk_otsu(img)) <= 1
    assert np.array_equal(threshold_otsu(img), img > level)
    assert np.array_equal(threshold_otsu(img, invert=True), img <= level)


def test_multiotsu_matches_scikit_image():
    from skimage.filters import threshold_multiotsu as sk_multiotsu

    rng = np.random.default_rng(0)
    img = np.clip(rng.choice([40, 120, 210], size=(60, 60)) + rng.normal(0, 10, (60, 60)), 0, 255).astype(np.uint8)
    levels = multiotsu_levels(img, classes=3)
    assert levels == [int(v) for v in sk_multiotsu(img, classes=3)]
    assert 40 < levels[0] < 120 < levels[1] < 210
    labels = threshold_multiotsu(img, classes=3)
    assert labels.dtype == np.uint8 and set(np.unique(labels)) == {0, 1, 2}
    assert np.array_equal(labels, np.digitize(img, levels))


def test_multiotsu_with_fewer_grey_levels_than_classes():
    img = np.zeros((10, 10), np.uint8)
    img[:, 5:] = 200
    assert multiotsu_levels(img, classes=4) == [200]
    assert np.array_equal(threshold_multiotsu(img, classes=4), (img == 200).astype(np.uint8))
    assert threshold_multiotsu(np.full((3, 3), 9, np.uint8)).max() == 0


def test_adaptive_threshold_handles_uneven_light():
    ramp = np.tile(np.linspace(40, 220, 200), (100, 1))
    img = ramp.copy()
    squares = [(20, 20), (20, 90), (20, 160), (60, 50), (60, 130)]
    for y, x in squares:
        img[y:y + 15, x:x + 15] -= 30          # darker marks, as ink on a lit page
    img = img.astype(np.uint8)
    dark = np.zeros(img.shape, bool)
    for y, x in squares:
        dark[y:y + 15, x:x + 15] = True
    for method in ("mean", "gaussian"):
        m = threshold_adaptive(img, method=method, block_size=35, c=5, invert=True)
        assert m.dtype == np.bool_
        assert m[dark].mean() > 0.9 and m[~dark].mean() < 0.05, method
    glob = threshold_otsu(img, invert=True)
    assert glob[~dark].mean() > 0.2     # one global level fails on the ramp


def test_adaptive_threshold_matches_opencv_rule():
    img = _bimodal(5)
    block = cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 11, 3)
    assert np.array_equal(threshold_adaptive(img, method="mean", block_size=11, c=3), block > 0)


# ----------------------------------------------------------------------------------------------- k-means

def test_kmeans_recovers_flat_colours_and_is_deterministic():
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :20] = (200, 30, 30)
    img[:, 20:40] = (30, 200, 30)
    img[:, 40:] = (30, 30, 200)
    out = kmeans_quantize(img, k=3)
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert np.array_equal(out, img)
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (50, 50, 3), dtype=np.uint8)
    a = kmeans_quantize(photo, k=5, seed=3)
    assert np.array_equal(a, kmeans_quantize(photo, k=5, seed=3))
    assert len(np.unique(a.reshape(-1, 3), axis=0)) <= 5
    assert np.abs(a.astype(int) - photo).mean() < np.abs(photo.astype(int) - photo.mean((0, 1))).mean()


def test_kmeans_gray_single_cluster_and_tiny_images():
    gray = np.tile(np.arange(0, 200, 2, dtype=np.uint8), (10, 1))
    one = kmeans_quantize(gray, k=1)
    assert one.shape == gray.shape and len(np.unique(one)) == 1 and abs(int(one[0, 0]) - 99) <= 1
    two = kmeans_quantize(gray, k=2, attempts=3)
    assert len(np.unique(two)) == 2
    tiny = np.array([[1, 2], [3, 4]], np.uint8)
    assert np.array_equal(kmeans_quantize(tiny, k=8), tiny)


# ----------------------------------------------------------------------------------------------- regions

def test_connected_components_on_drawn_discs():
    centres = [(30, 30), (90, 30), (150, 40), (40, 75), (120, 75)]
    img = _discs(centres, 12)
    img[95, 195] = 255                                          # a 1-px speck
    r = connected_components(img)
    assert isinstance(r, Regions) and r.count == 6
    r = connected_components(img > 0, min_area=10)
    assert r.count == 5 and r.labels.max() == 5 and set(np.unique(r.labels)) == set(range(6))
    area = np.count_nonzero(_discs([(30, 30)], 12))
    assert np.all(r.areas == area)
    order = np.lexsort((r.centroids[:, 0], np.round(r.centroids[:, 1] / 20)))
    assert np.allclose(r.centroids[order], sorted(centres, key=lambda c: (round(c[1] / 20), c[0])), atol=0.5)
    for i in range(r.count):
        ys, xs = np.nonzero(r.labels == i + 1)
        assert r.boxes[i].tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert r.areas[i] == len(xs)


def test_connectivity_4_and_8():
    m = np.zeros((5, 5), bool)
    m[1, 1] = m[2, 2] = True
    assert connected_components(m, connectivity=8).count == 1
    assert connected_components(m, connectivity=4).count == 2
    assert connected_components(np.zeros((4, 4), bool)).count == 0


def test_watershed_separates_two_touching_discs():
    img = _discs([(60, 50), (112, 50)], 30)
    assert connected_components(img).count == 1               # they touch
    r = watershed(img)
    assert r.count == 2
    assert np.array_equal(r.labels > 0, img > 0)              # every object pixel is labelled, nothing else
    cx = sorted(r.centroids[:, 0].tolist())
    assert abs(cx[0] - 58) < 4 and abs(cx[1] - 114) < 4
    assert abs(int(r.areas[0]) - int(r.areas[1])) < 0.05 * r.areas.sum()
    dark = 255 - img                                           # dark objects on white
    assert watershed(np.dstack([dark] * 3), invert=True).count == 2
    assert watershed(img > 0).count == 2                       # a bool mask is used as it is
    assert watershed(~(img > 0), invert=True).count == 2


def test_watershed_labels_objects_without_a_marker():
    img = np.zeros((60, 60), np.uint8)
    cv2.circle(img, (20, 30), 14, 255, -1)
    img[30, 40] = 255                                           # lone pixel near a bigger peak
    r = watershed(img, min_distance=25)
    assert np.array_equal(r.labels > 0, img > 0) and r.count == 2


def test_slic_gives_about_n_segments():
    from skimage.data import astronaut

    img = astronaut()[::4, ::4]
    for n in (50, 150):
        r = slic(img, n_segments=n)
        assert 0.5 * n <= r.count <= 1.5 * n, (n, r.count)
        assert r.labels.min() == 1 and r.labels.max() == r.count and r.areas.sum() == img.shape[0] * img.shape[1]
    gray = slic(img[:, :, 0], n_segments=50, compactness=0.1)
    assert 25 <= gray.count <= 75


def test_slic_follows_scikit_image():
    """The OpenCV Lab conversion + compactness rescaling gives scikit-image's superpixels, up to a few boundaries."""
    from skimage.data import astronaut
    from skimage.segmentation import slic as sk_slic

    img = astronaut()[::2, ::2]
    for n, c in ((100, 10.0), (300, 20.0)):
        ours = slic(img, n_segments=n, compactness=c).labels
        ref = sk_slic(img, n_segments=n, compactness=c, start_label=1)
        assert abs(int(ours.max()) - int(ref.max())) <= 2
        pairs = ref.astype(np.int64) * 100_000 + ours
        values, counts = np.unique(pairs, return_counts=True)
        best = np.zeros(int(ref.max()) + 1)
        np.maximum.at(best, values // 100_000, counts)
        assert best.sum() / ref.size > 0.95


def test_felzenszwalb_splits_flat_halves():
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :30] = (200, 50, 50)
    img[:, 30:] = (20, 20, 120)
    r = felzenszwalb(img)
    assert r.count == 2 and r.labels.min() == 1 and r.areas.sum() == 2400
    assert np.all(r.labels[:, :29] == r.labels[0, 0]) and np.all(r.labels[:, 31:] == r.labels[0, -1])
    # smoothing blurs the step into two 1-column strips of 40 px, kept apart when min_size allows it
    assert felzenszwalb(img, min_size=20).count == 4
    assert felzenszwalb(img[:, :, 0]).count == 2


def test_regions_from_labels_renumbers_gaps():
    lab = np.zeros((6, 6), np.int64)
    lab[0:2, 0:3] = 5
    lab[4:6, 4:6] = 9
    r = regions_from_labels(lab)
    assert r.count == 2 and set(np.unique(r.labels)) == {0, 1, 2} and r.labels.dtype == np.int32
    assert r.areas.tolist() == [6, 4]
    assert r.boxes.tolist() == [[0, 0, 3, 2], [4, 4, 6, 6]]
    assert r.centroids.tolist() == [[1.0, 0.5], [4.5, 4.5]]


def test_coins_are_counted():
    """The issue's example: threshold → morphology → components counts the 24 coins of skimage.data.coins()."""
    from skimage.data import coins

    img = coins()
    mask = threshold_adaptive(img, method="mean", block_size=75, c=-15)
    mask = fill_holes(opening(mask, shape="ellipse", size=3))
    r = connected_components(mask, min_area=200)
    assert r.count == 24
    assert r.areas.min() > 800                                 # every region is a whole coin, not a fragment


# ----------------------------------------------------------------------------------------------- bad input

IMAGE_OPS = [threshold, threshold_otsu, threshold_multiotsu, threshold_adaptive, kmeans_quantize, slic,
             felzenszwalb, watershed, otsu_level, multiotsu_levels]
MASK_OPS = [connected_components]


@pytest.mark.parametrize("op", IMAGE_OPS)
@pytest.mark.parametrize("image, error", [
    (np.zeros((10, 10), np.float32), DTypeError), (np.zeros((10, 10), np.uint16), DTypeError),
    (np.zeros((10, 10, 4), np.uint8), ShapeError), (np.zeros((0, 10), np.uint8), ShapeError),
    (np.zeros((10, 10, 2), np.uint8), ShapeError),
])
def test_image_ops_reject_bad_images(op, image, error):
    with pytest.raises(error, match="expected"):
        op(image)


@pytest.mark.parametrize("op", [threshold, threshold_otsu, threshold_multiotsu, threshold_adaptive, kmeans_quantize,
                                slic, felzenszwalb])
def test_image_ops_reject_bool(op):
    with pytest.raises(DTypeError, match="expected uint8"):
        op(np.zeros((10, 10), bool))


@pytest.mark.parametrize("image, error", [
    (np.zeros((10, 10), np.float32), DTypeError), (np.zeros((10, 10, 3), np.uint8), ShapeError),
    (np.zeros((0, 10), bool), ShapeError),
])
def test_mask_ops_reject_bad_images(image, error):
    with pytest.raises(error, match="expected"):
        connected_components(image)


@pytest.mark.parametrize("call", [
    lambda im: threshold(im, value=300), lambda im: threshold(im, value=-1), lambda im: threshold(im, value="a"),
    lambda im: threshold_multiotsu(im, classes=1), lambda im: threshold_multiotsu(im, classes=6),
    lambda im: threshold_adaptive(im, block_size=34), lambda im: threshold_adaptive(im, block_size=1),
    lambda im: threshold_adaptive(im, method="median"), lambda im: threshold_adaptive(im, c=float("inf")),
    lambda im: kmeans_quantize(im, k=0), lambda im: kmeans_quantize(im, attempts=0),
    lambda im: kmeans_quantize(im, seed=-1), lambda im: kmeans_quantize(im, k=2.5),
    lambda im: connected_components(im, connectivity=6), lambda im: connected_components(im, min_area=-1),
    lambda im: watershed(im, min_distance=0), lambda im: watershed(im, compactness=-1),
    lambda im: slic(im, n_segments=0), lambda im: slic(im, compactness=0),
    lambda im: felzenszwalb(im, scale=0), lambda im: felzenszwalb(im, sigma=-1),
    lambda im: felzenszwalb(im, min_size=0),
])
def test_bad_options(call):
    with pytest.raises(InputError, match="expected"):
        call(np.zeros((10, 10), np.uint8))


def test_inputs_are_not_modified():
    img = _discs([(60, 50), (112, 50)], 30)
    rgb = np.dstack([img, img // 2, img // 3])
    before, rgb_before = img.copy(), rgb.copy()
    mask = img > 0
    for op in IMAGE_OPS:
        op(rgb)
    for op in (connected_components, watershed):
        op(mask)
        op(img)
    assert np.array_equal(img, before) and np.array_equal(rgb, rgb_before) and np.array_equal(mask, img > 0)


def test_registered():
    from vision.classic import get_op

    for name in ("threshold", "threshold_otsu", "threshold_multiotsu", "threshold_adaptive", "kmeans_quantize",
                 "watershed", "slic", "felzenszwalb", "connected_components"):
        spec = get_op(name)
        assert spec.category == "segment" and spec.func.__name__ == name
    assert get_op("threshold_adaptive").param("method").choices == ("mean", "gaussian")
    assert get_op("connected_components").param("connectivity").choices == (4, 8)
