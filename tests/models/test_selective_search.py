"""Selective search (Uijlings et al. 2013 over Felzenszwalb segments): proposal properties, recall, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from vision.data.scenes import image_seed, make_scene, make_scenes
from vision.errors import InputError, ShapeError, SourceNotFoundError
from vision.models.detection.scenes_preset import DETECTION_SCENES, TEST_SEED
from vision.models.detection.selective_search import (
    box_recall,
    dataset_proposals,
    selective_search,
    strategies,
)


@pytest.fixture(scope="module")
def scenes():
    """Three held-out preset scenes (256 px, 1-5 shapes) with their ground-truth boxes."""
    out = []
    for i in range(3):
        image, objects, _, _ = make_scene(image_seed(TEST_SEED, i), DETECTION_SCENES)
        out.append((image, np.array([o.bbox for o in objects], np.float32)))
    return out


@pytest.fixture(scope="module")
def fast_boxes(scenes):
    return [selective_search(image, mode="fast") for image, _ in scenes]


def test_strategies_follow_the_paper():
    assert len(strategies("single")) == 1
    fast = strategies("fast")
    assert len(fast) == 8 and {s.color_space for s in fast} == {"hsv", "lab"} and {s.k for s in fast} == {50, 100}
    quality = strategies("quality")
    assert len(quality) == 80 and {s.k for s in quality} == {50, 100, 150, 300}
    assert {s.color_space for s in quality} == {"hsv", "lab", "rgi", "h", "i"}
    with pytest.raises(InputError, match="mode"):
        strategies("slow")


def test_proposals_are_unique_in_image_boxes(scenes, fast_boxes):
    for (image, _), boxes in zip(scenes, fast_boxes):
        h, w = image.shape[:2]
        assert boxes.dtype == np.float32 and boxes.ndim == 2 and boxes.shape[1] == 4
        assert 50 < len(boxes) <= 2000
        assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= w) and np.all(boxes[:, 3] <= h)
        assert np.all(boxes[:, 2] - boxes[:, 0] >= 10) and np.all(boxes[:, 3] - boxes[:, 1] >= 10)  # min_box
        assert len(np.unique(boxes, axis=0)) == len(boxes)
        assert [0, 0, w, h] in boxes.tolist()  # the top of every hierarchy: the whole image


def test_recall_of_ground_truth_at_iou_half(scenes, fast_boxes):
    hit = total = 0
    for (_, gt), boxes in zip(scenes, fast_boxes):
        h, n = box_recall(boxes, gt, iou=0.5)
        hit, total = hit + h, total + n
    assert total >= 3 and hit / total >= 0.9


def test_max_proposals_keeps_the_best_ranked_prefix(scenes, fast_boxes):
    image = scenes[0][0]
    top = selective_search(image, mode="fast", max_proposals=100)
    np.testing.assert_array_equal(top, fast_boxes[0][:100])


def test_deterministic_and_seeded(scenes, fast_boxes):
    image = scenes[0][0]
    np.testing.assert_array_equal(selective_search(image, mode="fast"), fast_boxes[0])
    other = selective_search(image, mode="fast", seed=1)
    assert sorted(map(tuple, other.tolist())) == sorted(map(tuple, fast_boxes[0].tolist()))  # same set
    assert not np.array_equal(other, fast_boxes[0])  # another random ranking


def test_a_drawn_rectangle_is_proposed_exactly():
    image = np.full((96, 128, 3), 40, np.uint8)
    image[20:60, 30:90] = (220, 30, 30)
    boxes = selective_search(image, mode="single")
    assert [30, 20, 90, 60] in boxes.tolist()


def test_gray_and_large_images():
    gray = np.zeros((80, 100), np.uint8)
    gray[10:50, 20:70] = 200
    boxes = selective_search(gray, mode="single")
    assert [20, 10, 70, 50] in boxes.tolist()
    big = np.zeros((600, 1000, 3), np.uint8)
    big[100:400, 200:700] = 255
    boxes = selective_search(big, mode="single", max_side=250)  # searched at 150×250, boxes in full-size pixels
    assert box_recall(boxes, [[200, 100, 700, 400]], iou=0.9) == (1, 1)


def test_box_recall_counts_matches():
    gt = np.array([[0, 0, 10, 10], [20, 20, 40, 40]], np.float32)
    assert box_recall(np.array([[0, 0, 10, 12]]), gt) == (1, 2)
    assert box_recall(np.zeros((0, 4)), gt) == (0, 2)
    assert box_recall(gt, np.zeros((0, 4))) == (0, 0)


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "best"}, "mode"), ({"max_proposals": 0}, "max_proposals"), ({"min_box": -1}, "min_box"),
    ({"max_side": 8}, "max_side"), ({"sigma": float("nan")}, "sigma"), ({"seed": -2}, "seed"),
])
def test_bad_options_raise(kwargs, match):
    with pytest.raises(InputError, match=match):
        selective_search(np.zeros((32, 32, 3), np.uint8), **kwargs)


def test_bad_images_raise(tmp_path):
    with pytest.raises(ShapeError):
        selective_search(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(InputError):
        selective_search(np.full((8, 8, 3), 2.0))  # float outside [0, 1]
    with pytest.raises(SourceNotFoundError):
        selective_search(tmp_path / "missing.png")


def test_dataset_proposals_cache(tmp_path):
    from vision.data.scenes import SceneConfig

    ds = make_scenes(tmp_path / "ds", n=2, seed=3, config=SceneConfig(image_size=(64, 64), objects=(1, 2)),
                     formats=("coco",))
    cache = tmp_path / "props.npz"
    first = dataset_proposals(ds, mode="single", cache=cache)
    assert cache.is_file() and len(first) == 2
    stamp = cache.stat().st_mtime_ns
    again = dataset_proposals(ds, mode="single", cache=cache)  # read back, not recomputed
    assert cache.stat().st_mtime_ns == stamp
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    fewer = dataset_proposals(ds, mode="single", max_proposals=5, cache=cache)  # other options: recomputed
    assert all(len(p) <= 5 for p in fewer) and cache.stat().st_mtime_ns != stamp
