"""Mask R-CNN: instance-mask targets from the scenes' PNGs, mask mAP in validation, training with the shared
trainer, predictions with image-sized masks, safetensors round trip, class-count and bad-input errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from PIL import Image

from vision.data.records import DetectionDataset
from vision.data.scenes import SHAPE_CLASSES, SceneConfig, make_scenes
from vision.errors import AnnotationError, DatasetError, InputError, ShapeError, WeightsError
from vision.io import write_image
from vision.models import create_model, list_models, model_config, model_from_config
from vision.models.detection.data import DetectionTorchDataset, detection_augmentation, detection_loaders
from vision.models.detection.task import DetectionMetrics
from vision.models.segmentation.mask_rcnn import (
    MaskRCNNDetector,
    MaskRCNNLite0Config,
    load_mask_rcnn,
    train_mask_rcnn,
)
from vision.train.task import StepOutput

# an untrained Lite0 Mask R-CNN that builds in well under a second (no ImageNet file read)
SMALL = {"weights": None, "backbone_weights": None, "min_size": 96, "max_size": 96, "fpn_channels": 16, "representation_size": 32,
         "anchor_sizes": ((16,), (32,), (64,), (128,)), "rpn_pre_nms_top_n_train": 100,
         "rpn_post_nms_top_n_train": 50, "rpn_pre_nms_top_n_test": 50, "rpn_post_nms_top_n_test": 20,
         "rpn_batch_size_per_image": 32, "box_batch_size_per_image": 16, "box_detections_per_img": 10,
         "mask_layers": (16,), "mask_dim_reduced": 16}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _scenes(root, n, seed, size=(80, 96)):
    cfg = SceneConfig(image_size=size, classes=SHAPE_CLASSES, objects=(1, 3), object_scale=(0.3, 0.5),
                      jpeg_quality=None)
    return make_scenes(root, n=n, seed=seed, config=cfg, formats=())


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("mask_scenes")
    return _scenes(root / "train", 8, 3), _scenes(root / "val", 4, 4)


@pytest.fixture(scope="module")
def trained(scenes):
    torch.set_num_threads(1)
    train, val = scenes
    return train_mask_rcnn(train, val, config=SMALL, epochs=1, batch_size=4, warmup=1, seed=0)


def _png(dataset: DetectionDataset, index: int) -> np.ndarray:
    with Image.open(dataset.root / dataset.images[index].instance_mask) as im:
        return np.asarray(im)


def _tight_box(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


# ------------------------------------------------------------------------------------------------------------
# targets
# ------------------------------------------------------------------------------------------------------------
def test_mask_targets_match_the_instance_pngs(scenes):
    train, _ = scenes
    ds = DetectionTorchDataset(train, masks=True)
    for i in range(len(ds)):
        image, target = ds[i]
        png = _png(train, i)
        objects = train.images[i].objects
        masks = target["masks"]
        assert masks.dtype == torch.uint8 and tuple(masks.shape) == (len(objects), *image.shape[1:])
        for j, obj in enumerate(objects):
            expected = png == obj.instance_id
            assert expected.any() and np.array_equal(masks[j].numpy(), expected.astype(np.uint8))
            assert _tight_box(expected) == target["boxes"][j].tolist()  # the scenes' boxes are the masks' tight boxes
        assert np.array_equal(ds.instance_masks(i), masks.numpy().astype(bool))
    assert "masks" not in DetectionTorchDataset(train)[0][1]  # opt-in: the detection targets are unchanged


def test_flips_move_masks_with_their_boxes(scenes):
    train, _ = scenes
    plain = DetectionTorchDataset(train, masks=True)
    flipped = DetectionTorchDataset(train, masks=True, augment=detection_augmentation(hflip=1.0, seed=0))
    for i in range(3):
        (image, target), (fimage, ftarget) = plain[i], flipped[i]
        assert torch.equal(fimage, image.flip(-1))
        assert torch.equal(ftarget["masks"], target["masks"].flip(-1))
        assert torch.equal(ftarget["labels"], target["labels"])
        for box, mask in zip(ftarget["boxes"], ftarget["masks"]):
            assert _tight_box(mask.numpy()) == pytest.approx(box.tolist())


def test_masks_from_coco_segmentations_when_there_is_no_png(scenes):
    """A COCO instances file (polygons) is enough: the masks decode close to the PNGs they were written from."""
    from vision.data.formats import read_coco, write_coco

    train, _ = scenes
    coco = read_coco(write_coco(train, train.root / "instances.json"), images_dir=train.root)
    assert all(rec.instance_mask is None for rec in coco.images)
    ds = DetectionTorchDataset(coco, masks=True)
    for i in range(len(ds)):
        from_png, from_coco = train.object_masks(i), ds.instance_masks(i)
        assert from_coco.shape == from_png.shape
        for a, b in zip(from_png, from_coco):
            assert (a & b).sum() / (a | b).sum() > 0.75  # polygons from contours lose part of the boundary pixels
        _, target = ds[i]
        assert target["masks"].shape == (len(target["boxes"]), 80, 96)
    stripped = [dataclasses.replace(r, objects=[dataclasses.replace(o, attributes={}) for o in r.objects])
                for r in coco.images[:1]]
    with pytest.raises(DatasetError, match="neither an instance-mask PNG nor a COCO segmentation"):
        DetectionTorchDataset(DetectionDataset(coco.root, list(coco.classes), stripped), masks=True)


def test_missing_or_wrong_instance_masks_are_typed_errors(scenes, tmp_path):
    train, _ = scenes
    records = [dataclasses.replace(r) for r in train.images[:2]]
    records[1].instance_mask = None
    no_masks = DetectionDataset(train.root, list(train.classes), records)
    DetectionTorchDataset(no_masks)  # fine without masks
    with pytest.raises(DatasetError, match=r"000001\.png: no instance mask \(1 of 2 images"):
        DetectionTorchDataset(no_masks, masks=True)
    with pytest.raises(DatasetError, match="no instance mask"):
        train_mask_rcnn(no_masks, config=SMALL, epochs=1)

    small = tmp_path / "small.png"
    write_image(small, np.zeros((10, 12), np.uint8))
    records = [dataclasses.replace(train.images[0], instance_mask=str(small))]
    with pytest.raises(ShapeError, match=r"instance mask is 12×10 px but its image .* is 96×80"):
        DetectionTorchDataset(DetectionDataset(train.root, list(train.classes), records), masks=True)[0]

    rec = dataclasses.replace(train.images[0], objects=[dataclasses.replace(train.images[0].objects[0],
                                                                            instance_id=0)])
    with pytest.raises(DatasetError, match="instance id 0"):
        DetectionTorchDataset(DetectionDataset(train.root, list(train.classes), [rec]), masks=True)
    # an object whose instance id has no pixel in the PNG: typed error, or dropped with fix=True
    blank = tmp_path / "blank.png"
    write_image(blank, np.zeros((80, 96), np.uint8))
    rec = dataclasses.replace(train.images[0], instance_mask=str(blank))
    empty = DetectionDataset(train.root, list(train.classes), [rec])
    with pytest.raises(AnnotationError, match=r"object 0 has no pixels in its instance mask"):
        DetectionTorchDataset(empty, masks=True)[0]
    _, target = DetectionTorchDataset(empty, masks=True, fix=True)[0]
    assert len(target["boxes"]) == len(target["labels"]) == len(target["masks"]) == 0
    with pytest.raises(InputError, match="masks=True needs augment=None or an albumentations"):
        DetectionTorchDataset(train, masks=True, augment=lambda im, b, c: (im, b, c))
    with pytest.raises(InputError, match="with masks=False; expected masks=True"):
        detection_loaders(DetectionTorchDataset(train), batch_size=2, masks=True)


# ------------------------------------------------------------------------------------------------------------
# mask mAP in validation
# ------------------------------------------------------------------------------------------------------------
def _step(masks_pred: torch.Tensor, masks_true: torch.Tensor, boxes: torch.Tensor) -> StepOutput:
    labels = torch.ones(len(boxes), dtype=torch.int64)
    pred = {"boxes": boxes, "scores": torch.full((len(boxes),), 0.9), "labels": labels,
            "masks": masks_pred[:, None].float()}  # torchvision: N×1×H×W probabilities
    target = {"boxes": boxes, "labels": labels, "masks": masks_true}
    return StepOutput(loss=torch.tensor(0.0), outputs={"predictions": [pred]}, targets=[target], batch_size=1)


def test_validation_mask_map_uses_mask_iou():
    true = torch.zeros(2, 40, 50, dtype=torch.uint8)
    true[0, 5:20, 5:20] = 1
    true[1, 22:38, 25:45] = 1
    boxes = torch.tensor([[5.0, 5, 20, 20], [25, 22, 45, 38]])
    perfect = DetectionMetrics()
    perfect.update(_step(true.float() * 0.9, true, boxes))
    logs = perfect.compute()
    assert logs["map50"] == pytest.approx(1.0) and logs["mask_map50"] == pytest.approx(1.0)
    wrong = torch.zeros_like(true, dtype=torch.float32)  # right boxes, masks covering a corner of each box only
    wrong[0, 5:9, 5:9] = 1
    wrong[1, 22:26, 25:29] = 1
    bad = DetectionMetrics()
    bad.update(_step(wrong, true, boxes))
    logs = bad.compute()
    assert logs["map50"] == pytest.approx(1.0) and logs["mask_map50"] == pytest.approx(0.0)


# ------------------------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------------------------
def test_registered_and_resnet50_is_torchvisions_architecture():
    assert {"mask-rcnn-lite0", "mask-rcnn-resnet50"} <= set(list_models("segment"))
    from torchvision.models.detection import maskrcnn_resnet50_fpn

    ref = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91).state_dict()
    ours = create_model("mask-rcnn-resnet50", classes=[f"c{i}" for i in range(90)]).model.state_dict()
    assert list(ours) == list(ref)  # so the official COCO file (maskrcnn_resnet50_fpn-coco) loads by key
    assert all(tuple(ours[k].shape) == tuple(ref[k].shape) for k in ref)


def test_config_round_trip_and_validation():
    det = create_model("mask-rcnn-lite0", **SMALL)
    assert isinstance(det, MaskRCNNDetector) and isinstance(det.config, MaskRCNNLite0Config)
    assert det.names == SHAPE_CLASSES
    assert det.model.roi_heads.mask_predictor.mask_fcn_logits.out_channels == 6  # background counted
    assert model_from_config(model_config(det)).config == det.config
    for bad, match in (({"mask_layers": ()}, "mask_layers"), ({"mask_layers": (16, 0)}, "mask_layers"),
                       ({"mask_dim_reduced": 0}, "mask_dim_reduced")):
        with pytest.raises(InputError, match=match):
            create_model("mask-rcnn-lite0", **{**SMALL, **bad})


def test_training_gives_finite_losses_and_mask_map(trained):
    _, history = trained
    logs = history.history
    for name in ("loss", "loss_mask", "loss_classifier", "loss_box_reg", "loss_objectness", "val_loss_mask"):
        assert len(logs[name]) == 1 and math.isfinite(logs[name][0]), name
    assert 0.0 <= logs["val_mask_map50"][0] <= 1.0 and 0.0 <= logs["val_map50"][0] <= 1.0


def test_predict_returns_masks_of_the_image_size(trained):
    det, _ = trained
    assert not det.model.training and det.model.roi_heads.score_thresh == det.config.box_score_thresh
    image = np.random.default_rng(0).integers(0, 255, (70, 110, 3), dtype=np.uint8)  # not the training size
    res = det.predict(image, min_score=0.0)
    assert len(res) > 0 and res.masks is not None and res.masks.dtype == bool
    assert res.masks.shape == (len(res), 70, 110)
    assert res.image_shape == (70, 110) and set(res.names) == set(SHAPE_CLASSES)
    batch = det.predict_batch([image, image[:50]], batch_size=2, min_score=0.0)
    assert [r.masks.shape[1:] for r in batch] == [(70, 110), (50, 110)]
    assert np.array_equal(batch[0].masks, res.masks)
    from vision.models.detection.data import to_tensor_image

    with torch.inference_mode():  # the masks are torchvision's mask probabilities > 0.5
        raw = det.model([to_tensor_image(image)])[0]
    assert np.array_equal(res.masks, (raw["masks"][:, 0] > 0.5).numpy()) and len(raw["scores"]) == len(res)
    assert len(det.predict(image, min_score=1.0)) == 0 and det.predict(image, min_score=1.0).masks.shape == (0, 70, 110)


def test_save_load_round_trip_and_class_count_check(trained, scenes, tmp_path):
    det, _ = trained
    train, _ = scenes
    path = det.save_weights(tmp_path / "mask.safetensors")
    image = train.image_path(0)
    before = det.predict(image, min_score=0.0)
    for again in (load_mask_rcnn(path), create_model("mask-rcnn-lite0", config=det.config, weights=str(path))):
        assert isinstance(again, MaskRCNNDetector) and again.names == det.names
        after = again.predict(image, min_score=0.0)
        assert np.array_equal(after.masks, before.masks) and np.allclose(after.xyxy, before.xyxy, atol=1e-4)
    half = load_mask_rcnn(det.save_weights(tmp_path / "half.safetensors", half=True))
    assert half.predict(image, min_score=0.0).masks.shape[1:] == before.masks.shape[1:]
    with pytest.raises(WeightsError, match=r"for 5 object classes .* configured for 2 classes"):
        create_model("mask-rcnn-lite0", **{**SMALL, "weights": str(path)}, classes=["a", "b"])
    faster = create_model("faster-rcnn-lite0", **{k: v for k, v in SMALL.items() if not k.startswith("mask")})
    faster_path = faster.save_weights(tmp_path / "faster.safetensors")
    with pytest.raises(WeightsError, match="missing tensors"):
        create_model("mask-rcnn-lite0", **{**SMALL, "weights": str(faster_path)})
    with pytest.raises(WeightsError, match="expected 'vision.detector-weights/1' written by save_weights of mask"):
        load_mask_rcnn(faster_path)
