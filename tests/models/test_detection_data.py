"""Detection data pipeline: annotation checks (the NaN-loss pitfall), tensors, collate, seeded loaders."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import AnnotationError, DatasetError, InputError
from vision.io import write_image
from vision.models.detection.data import (
    DetectionTorchDataset,
    detection_augmentation,
    detection_collate,
    detection_loaders,
)

CLASSES = ["circle", "square"]


def _dataset(tmp_path, objects_per_image, *, size=(40, 30)):
    """A dataset of len(objects_per_image) real PNG files (w×h = size) with the given objects."""
    w, h = size
    images = []
    for i, objects in enumerate(objects_per_image):
        img = np.full((h, w, 3), 20 * i, np.uint8)
        img[0, 0] = (255, 0, 0)  # a marker to tell flips apart
        write_image(tmp_path / f"img{i}.png", img)
        images.append(ImageRecord(f"img{i}.png", w, h, [ObjectAnnotation(tuple(b), c) for b, c in objects]))
    return DetectionDataset(root=tmp_path, classes=list(CLASSES), images=images)


def test_item_is_float_image_and_shifted_labels(tmp_path):
    ds = DetectionTorchDataset(_dataset(tmp_path, [[((2, 3, 20, 25), 0), ((5, 5, 10, 9), 1)]]))
    image, target = ds[0]
    assert image.dtype == torch.float32 and image.shape == (3, 30, 40)
    assert float(image.min()) >= 0.0 and float(image.max()) == 1.0  # the 255 marker
    assert target["boxes"].dtype == torch.float32 and target["boxes"].tolist() == [[2, 3, 20, 25], [5, 5, 10, 9]]
    assert target["labels"].dtype == torch.int64 and target["labels"].tolist() == [1, 2]  # 0 is background
    assert target["image_id"] == 0
    assert ds.num_classes == 3 and ds.classes == ("circle", "square")


def test_image_without_objects_gives_empty_targets(tmp_path):
    ds = DetectionTorchDataset(_dataset(tmp_path, [[]]))
    _, target = ds[0]
    assert target["boxes"].shape == (0, 4) and target["boxes"].dtype == torch.float32
    assert target["labels"].shape == (0,) and target["labels"].dtype == torch.int64


@pytest.mark.parametrize("box, what", [
    ((10, 5, 10, 20), "zero or negative size"),      # x2 == x1
    ((10, 20, 30, 8), "zero or negative size"),      # y2 < y1
    ((1, 2, float("nan"), 9), "non-finite"),
])
def test_degenerate_box_is_an_error_naming_file_and_box(tmp_path, box, what):
    data = _dataset(tmp_path, [[((1, 1, 5, 5), 0)], [((2, 2, 6, 6), 1), (box, 0)]])
    with pytest.raises(AnnotationError) as info:
        DetectionTorchDataset(data)
    msg = str(info.value)
    assert "img1.png" in msg and "object 1" in msg and what in msg and "fix=True" in msg


def test_degenerate_box_is_dropped_with_fix(tmp_path, caplog):
    data = _dataset(tmp_path, [[((2, 2, 6, 6), 1), ((10, 5, 10, 20), 0)]])
    with caplog.at_level(logging.WARNING, logger="vision.models.detection.data"):
        ds = DetectionTorchDataset(data, fix=True)
    _, target = ds[0]
    assert target["boxes"].tolist() == [[2, 2, 6, 6]] and target["labels"].tolist() == [2]
    assert "dropped object" in caplog.text
    assert len(data.images[0].objects) == 2  # the dataset itself is not changed


def test_out_of_image_box_is_an_error_or_clipped(tmp_path):
    data = _dataset(tmp_path, [[((-8, 2, 20, 25), 0), ((30, 10, 55, 40), 1)]])
    with pytest.raises(AnnotationError, match=r"img0\.png: object 0 .*\[-8, 2, 20, 25\].*outside the 40×30 image"):
        DetectionTorchDataset(data)
    ds = DetectionTorchDataset(data, fix=True)
    assert ds[0][1]["boxes"].tolist() == [[0, 2, 20, 25], [30, 10, 40, 30]]


def test_box_entirely_outside_is_dropped_with_fix(tmp_path):
    ds = DetectionTorchDataset(_dataset(tmp_path, [[((50, 40, 60, 50), 0)]]), fix=True)
    assert ds[0][1]["boxes"].shape == (0, 4)


def test_box_within_one_pixel_tolerance_is_clipped_silently(tmp_path):
    ds = DetectionTorchDataset(_dataset(tmp_path, [[((-0.5, 0, 40.5, 30.8), 0), ((40.2, 5, 40.9, 9), 1)]]))
    assert ds[0][1]["boxes"].tolist() == [[0, 0, 40, 30]]  # the sliver beyond the right edge has no area: dropped


@pytest.mark.parametrize("cid", [2, -1, 7])
@pytest.mark.parametrize("fix", [False, True])
def test_unknown_class_id_is_an_error_even_with_fix(tmp_path, cid, fix):
    data = _dataset(tmp_path, [[((1, 1, 5, 5), cid)]])
    with pytest.raises(AnnotationError, match=rf"img0\.png: object 0 has class id {cid}; expected an integer in 0\.\.1"
                                              r" \(classes"):
        DetectionTorchDataset(data, fix=fix)


def test_box_with_wrong_arity_is_an_error(tmp_path):
    data = _dataset(tmp_path, [[((1, 1, 5), 0)]])
    with pytest.raises(AnnotationError, match="expected 4 numbers"):
        DetectionTorchDataset(data)


def test_image_size_differing_from_record_is_a_dataset_error(tmp_path):
    data = _dataset(tmp_path, [[((1, 1, 5, 5), 0)]])
    data.images[0].width = 64
    ds = DetectionTorchDataset(data)
    with pytest.raises(DatasetError, match=r"img0\.png: the image is 40×30 px; its annotation says 64×30"):
        ds[0]


def test_bad_construction_arguments(tmp_path):
    with pytest.raises(InputError, match="expected a DetectionDataset"):
        DetectionTorchDataset([1, 2])
    with pytest.raises(DatasetError, match="no images"):
        DetectionTorchDataset(DetectionDataset(root=tmp_path, classes=["a"], images=[]))
    with pytest.raises(DatasetError, match="no classes"):
        DetectionTorchDataset(DetectionDataset(root=tmp_path, classes=[], images=[ImageRecord("x.png", 4, 4)]))
    data = _dataset(tmp_path, [[]])
    with pytest.raises(InputError, match="augment must be None or callable"):
        DetectionTorchDataset(data, augment=3)
    with pytest.raises(InputError, match="fix must be True or False"):
        DetectionTorchDataset(data, fix="yes")


def test_collate_keeps_lists():
    a = (torch.zeros(3, 4, 5), {"boxes": torch.zeros(0, 4)})
    b = (torch.zeros(3, 6, 7), {"boxes": torch.ones(1, 4)})
    images, targets = detection_collate([a, b])
    assert [tuple(i.shape) for i in images] == [(3, 4, 5), (3, 6, 7)] and targets[1]["boxes"].shape == (1, 4)


def _order(loader):
    return [t["image_id"] for _, targets in loader for t in targets]


def test_loaders_shuffle_reproducibly_with_the_seed(tmp_path):
    data = _dataset(tmp_path, [[((1, 1, 5, 5), i % 2)] for i in range(8)])
    train1, val1 = detection_loaders(data, data, batch_size=3, seed=4)
    train2, _ = detection_loaders(data, None, batch_size=3, seed=4)
    train3, _ = detection_loaders(data, None, batch_size=3, seed=5)
    assert _order(train1) == _order(train2) != _order(train3)
    assert sorted(_order(train1)) == list(range(8))
    assert _order(val1) == list(range(8))  # validation keeps the dataset order
    images, targets = next(iter(train1))
    assert isinstance(images, list) and len(images) == 3 and isinstance(targets, list)


def test_loaders_refuse_bad_arguments(tmp_path):
    data = _dataset(tmp_path, [[((1, 1, 5, 5), 0)]])
    for kwargs in ({"batch_size": 0}, {"batch_size": 2, "seed": -1}, {"batch_size": 2, "num_workers": -1},
                   {"batch_size": True}):
        with pytest.raises(InputError):
            detection_loaders(data, None, **kwargs)
    with pytest.raises(InputError, match="must be a DetectionDataset"):
        detection_loaders("folder", None, batch_size=2)
    other = DetectionDataset(root=tmp_path, classes=["a", "b", "c"], images=list(data.images))
    with pytest.raises(DatasetError, match="val classes"):
        detection_loaders(data, other, batch_size=2)


def test_loader_surfaces_annotation_errors_before_any_batch(tmp_path):
    data = _dataset(tmp_path, [[((1, 1, 5, 5), 0)], [((9, 9, 3, 3), 0)]])
    with pytest.raises(AnnotationError, match="img1.png"):
        detection_loaders(data, None, batch_size=2)


def test_flip_augmentation_moves_boxes_with_pixels(tmp_path):
    data = _dataset(tmp_path, [[((2, 3, 12, 25), 0)]])
    ds = DetectionTorchDataset(data, augment=detection_augmentation(hflip=1.0, seed=0))
    image, target = ds[0]
    assert target["boxes"].tolist() == [[28, 3, 38, 25]] and target["labels"].tolist() == [1]
    assert float(image[0, 0, -1]) == 1.0 and float(image[0, 0, 0]) < 1.0  # the red marker moved to the right
    with pytest.raises(InputError, match="hflip must be a number in"):
        detection_augmentation(hflip=1.5)


def test_callable_augmentation_and_degenerate_results_are_dropped(tmp_path):
    data = _dataset(tmp_path, [[((2, 3, 12, 25), 0), ((20, 3, 30, 25), 1)]])

    def squash_second(image, boxes, ids):
        boxes = boxes.copy()
        boxes[1, 2] = boxes[1, 0]  # zero width
        return image, boxes, ids

    _, target = DetectionTorchDataset(data, augment=squash_second)[0]
    assert target["boxes"].tolist() == [[2, 3, 12, 25]] and target["labels"].tolist() == [1]

    def bad(image, boxes, ids):
        return image[..., 0], boxes, ids

    with pytest.raises(InputError, match="augment returned"):
        DetectionTorchDataset(data, augment=bad)[0]
