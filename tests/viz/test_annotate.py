"""Drawing results: pixels change where the result is, the input is untouched, bad input is refused."""

import numpy as np
import pytest

from vision.errors import InputError
from vision.types import Classification, Detections, Segmentation
from vision.viz import annotate, color_for, tile


def test_boxes_are_drawn_on_a_copy_in_the_class_colour():
    img = np.full((120, 160, 3), 255, np.uint8)
    det = Detections([[40, 50, 120, 110]], [0.9], [2], names=["a", "b", "c"])
    out = annotate(img, det)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.all(img == 255), "the input image was modified"
    # the bottom edge of the box is the class colour; the inside of the box is untouched
    assert tuple(out[110, 80]) == color_for(2)
    assert np.all(out[80, 80] == 255)
    # a label box sits above the top-left corner
    assert (out[30:50, 40:100] != 255).any()


def test_masks_tint_only_their_pixels():
    img = np.zeros((60, 60, 3), np.uint8)
    masks = np.zeros((1, 60, 60), bool)
    masks[0, 20:40, 20:40] = True
    out = annotate(img, Detections([[20, 20, 40, 40]], [1.0], [0], masks=masks), mask_alpha=0.5, show_score=False)
    assert out[30, 30].sum() > 0 and np.all(out[55, 5] == 0)


def test_segmentation_overlay_leaves_background_and_draws_legend():
    img = np.full((100, 100, 3), 128, np.uint8)
    m = np.zeros((100, 100), np.int64)
    m[50:, 50:] = 1
    out = annotate(img, Segmentation(m, names=["bg", "thing"]), mask_alpha=1.0)
    assert tuple(out[90, 90]) == color_for(1)
    assert np.all(out[90, 10] == 128)
    with pytest.raises(InputError, match="mask is 100×100, expected the image size 50×50"):
        annotate(np.zeros((50, 50, 3), np.uint8), Segmentation(m))


def test_classification_panel_and_bad_types():
    img = np.zeros((100, 200, 3), np.uint8)
    out = annotate(img, Classification([1, 0], [0.7, 0.3], names=["cat", "dog"]))
    assert out[:40].any() and not out[80:].any()
    with pytest.raises(InputError, match="expected Detections, Segmentation, Classification, Lines, Circles, Regions or Warped, got dict"):
        annotate(img, {"boxes": []})
    with pytest.raises(InputError, match="mask_alpha"):
        annotate(img, Classification([0], [1.0]), mask_alpha=2)


def test_tile_layout():
    a = np.zeros((50, 100, 3), np.uint8)
    b = np.full((100, 50, 3), 255, np.uint8)
    sheet = tile([a, b, a], cols=2, cell=64, gap=2)
    assert sheet.shape == (2 * 64 + 3 * 2, 2 * 64 + 3 * 2, 3)
    with pytest.raises(InputError, match="at least one image"):
        tile([])


def test_classic_results_are_drawn():
    from vision.classic.results import Circles, Lines, Regions, Warped

    img = np.zeros((100, 100, 3), np.uint8)
    out = annotate(img, Lines([[0, 50, 99, 50]], [50], [np.pi / 2], [10], image_shape=(100, 100)))
    assert tuple(out[50, 50]) == color_for(0) and not out[10].any()
    out = annotate(img, Circles([[50, 50]], [20], [1.0], image_shape=(100, 100)))
    assert out[50, 70].any() and not out[50, 60].any() and out[50, 50].any()  # rim and centre dot, not between
    labels = np.zeros((100, 100), np.int32)
    labels[10:30, 10:30] = 1
    out = annotate(img, Regions(labels, [400], [[10, 10, 30, 30]], [[19.5, 19.5]]), mask_alpha=1.0)
    assert tuple(out[28, 15]) == color_for(0) and not out[80, 80].any()  # below the "1 regions" label
    warped = np.full((20, 30, 3), 7, np.uint8)
    assert np.array_equal(annotate(img, Warped(warped, np.eye(3))), warped)
    with pytest.raises(InputError, match="region labels are 100×100, expected the image size 50×50"):
        annotate(np.zeros((50, 50, 3), np.uint8), Regions(labels, [400], [[10, 10, 30, 30]], [[19.5, 19.5]]))
