"""Result types: validation on creation, JSON round trips, filtering, RLE."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vision.errors import DTypeError, InputError, ShapeError
from vision.types import Classification, Detections, Segmentation, mask_to_rle, rle_to_mask


def test_classification_from_probs_orders_and_names():
    c = Classification.from_probs([0.1, 0.6, 0.3], k=2, names=["cat", "dog", "cup"])
    assert c.class_ids.tolist() == [1, 2]
    assert c.labels == ("dog", "cup") and c.top1 == "dog"
    back = Classification.from_dict(json.loads(c.to_json()))
    assert back.labels == c.labels and np.allclose(back.scores, c.scores)


@pytest.mark.parametrize(
    "kwargs, err, text",
    [
        (dict(class_ids=[0, 1], scores=[0.5]), ShapeError, "equal lengths, got 2 and 1"),
        (dict(class_ids=[[0]], scores=[[0.5]]), ShapeError, "expected shape N"),
        (dict(class_ids=[5], scores=[0.5], names=["a"]), InputError, "class id 5 has no name"),
        (dict(class_ids=[-1], scores=[0.5]), InputError, "ids ≥ 0, got -1"),
        (dict(class_ids=[0.5], scores=[0.5]), DTypeError, "integer values"),
        (dict(class_ids=["a"], scores=[0.5]), DTypeError, "numeric array"),
        (dict(class_ids=[0], scores=[float("nan")]), InputError, "finite"),
    ],
)
def test_classification_rejects_bad_input(kwargs, err, text):
    with pytest.raises(err, match=text):
        Classification(**kwargs)


def test_detections_validation_messages():
    with pytest.raises(ShapeError, match=r"N×4, got 2×3"):
        Detections(np.zeros((2, 3)), [1, 1], [0, 0])
    with pytest.raises(ShapeError, match="equal length, got 2, 1, 2"):
        Detections(np.zeros((2, 4)), [1], [0, 0])
    with pytest.raises(InputError, match=r"x1 ≤ x2 .* box 0 = \[10.0, 0.0, 5.0, 5.0\]"):
        Detections([[10, 0, 5, 5]], [1], [0])
    with pytest.raises(ShapeError, match=r"masks: expected 1×H×W"):
        Detections([[0, 0, 5, 5]], [1], [0], masks=np.zeros((2, 8, 8), bool))
    with pytest.raises(ShapeError, match=r"1×8×9 \(image_shape\)"):
        Detections([[0, 0, 5, 5]], [1], [0], masks=np.zeros((1, 8, 8), bool), image_shape=(8, 9))
    with pytest.raises(ShapeError, match="track_ids: expected 1 ids, got 2"):
        Detections([[0, 0, 5, 5]], [1], [0], track_ids=[1, 2])


def test_detections_filter_index_and_labels():
    d = Detections([[0, 0, 10, 10], [5, 5, 20, 30], [1, 1, 2, 2]], [0.9, 0.4, 0.7], [0, 1, 1], names=["cat", "dog"])
    assert d.labels == ("cat", "dog", "dog")
    assert len(d.filter(min_score=0.5)) == 2
    assert d.filter(classes=["dog"]).scores.tolist() == pytest.approx([0.4, 0.7])
    assert d.filter(classes=[0]).labels == ("cat",)
    assert len(d[1]) == 1 and d[1].labels == ("dog",)
    assert d.area.tolist() == [100, 375, 1]
    with pytest.raises(InputError, match="unknown class name 'bird'"):
        d.filter(classes=["bird"])


def test_detections_json_round_trip_with_masks_and_tracks():
    masks = np.zeros((2, 20, 30), bool)
    masks[0, 2:8, 3:9] = True
    masks[1, 10:20, 0:30] = True
    d = Detections([[3, 2, 9, 8], [0, 10, 30, 20]], [0.8, 0.6], [1, 0], names=["a", "b"], masks=masks,
                   track_ids=[7, 8])
    back = Detections.from_dict(json.loads(d.to_json()))
    assert np.array_equal(back.masks, masks)
    assert back.track_ids.tolist() == [7, 8] and back.image_shape == (20, 30)
    assert np.allclose(back.xyxy, d.xyxy) and back.labels == d.labels


def test_empty_detections_round_trip():
    d = Detections.empty(names=["x"], image_shape=(4, 5))
    assert len(d) == 0 and d.xyxy.shape == (0, 4)
    assert len(Detections.from_dict(d.to_dict())) == 0


def test_segmentation_counts_and_round_trip():
    m = np.zeros((6, 7), np.int64)
    m[1:3, 1:4] = 2
    s = Segmentation(m, names=["bg", "a", "b"])
    assert s.pixel_counts() == {"bg": 36, "b": 6}
    assert s.labels == ("bg", "b")
    back = Segmentation.from_dict(json.loads(s.to_json()))
    assert np.array_equal(back.mask, m)
    with pytest.raises(DTypeError, match="integer or bool"):
        Segmentation(np.zeros((3, 3), np.float32))
    with pytest.raises(ShapeError, match="H×W class-id map, got 3×3×3"):
        Segmentation(np.zeros((3, 3, 3), np.int64))
    with pytest.raises(InputError, match="class id 2 has no name"):
        Segmentation(m, names=["bg", "a"])


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_rle_round_trip(mask):
    rle = mask_to_rle(mask)
    assert sum(rle["counts"]) == mask.size
    assert np.array_equal(rle_to_mask(rle), mask)


def test_rle_matches_coco_convention():
    # COCO uncompressed RLE is column-major and starts with a run of zeros
    m = np.array([[1, 0], [1, 1]], bool)
    assert mask_to_rle(m) == {"size": [2, 2], "counts": [0, 2, 1, 1]}  # column order: 1, 1, 0, 1
    with pytest.raises(InputError, match="counts sum to 3, expected h×w = 4"):
        rle_to_mask({"size": [2, 2], "counts": [1, 2]})


def test_merge_joins_name_tables_by_name():
    faces = Detections([[0, 0, 5, 5]], [0.9], [0], names=["face"], image_shape=(10, 10))
    people = Detections([[1, 1, 9, 9], [2, 2, 4, 4]], [0.8, 0.7], [1, 0], names=["face", "person"], image_shape=(10, 10))
    m = Detections.merge([faces, people])
    assert m.names == ("face", "person")
    assert m.labels == ("face", "person", "face") and m.image_shape == (10, 10)
    assert len(Detections.merge([])) == 0
    assert Detections.merge([], image_shape=(3, 4)).image_shape == (3, 4)
    with pytest.raises(ShapeError, match=r"one image size, got \[\(10, 10\), \(20, 20\)\]"):
        Detections.merge([faces, Detections.empty(image_shape=(20, 20))])
    masks = np.ones((1, 10, 10), bool)
    both = Detections.merge([Detections([[0, 0, 5, 5]], [1], [0], masks=masks), Detections([[0, 0, 5, 5]], [1], [0], masks=masks)])
    assert both.masks.shape == (2, 10, 10) and both.names == ("0",)
    assert Detections.merge([faces, people]).masks is None
