"""Faster R-CNN: configs, weights (class-count check, safetensors round trip), DetectionTask training with the
shared Trainer, and the shipped scenes detector on held-out scenes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vision.data.records import DetectionDataset
from vision.data.scenes import SHAPE_CLASSES, SceneConfig, make_scenes
from vision.errors import InputError, WeightsError, WeightsNotFoundError
from vision.models import create_model, list_models, model_config, model_from_config
from vision.models.detection.data import detection_loaders
from vision.models.detection.faster_rcnn import (
    EVAL_SCORE_THRESH,
    FasterRCNNDetector,
    FasterRCNNLite0Config,
    train_faster_rcnn,
)
from vision.models.detection.task import DetectionTask
from vision.train import Trainer
from vision.types import Detections

# a small untrained Lite0 detector that builds in about a second (no ImageNet file read)
SMALL = {"weights": None, "backbone_weights": None, "min_size": 128, "max_size": 128, "fpn_channels": 32,
         "representation_size": 64, "rpn_pre_nms_top_n_train": 200, "rpn_post_nms_top_n_train": 100,
         "rpn_pre_nms_top_n_test": 100, "rpn_post_nms_top_n_test": 50, "rpn_batch_size_per_image": 64,
         "box_batch_size_per_image": 32, "box_detections_per_img": 20}


@pytest.fixture(scope="module")
def tiny_scenes(tmp_path_factory):
    cfg = SceneConfig(image_size=(128, 128), classes=SHAPE_CLASSES, objects=(1, 2), object_scale=(0.25, 0.45),
                      jpeg_quality=None)
    return make_scenes(tmp_path_factory.mktemp("scenes") / "tiny", n=8, seed=3, config=cfg, formats=())


def test_registered_detectors():
    names = list_models(task="detect")
    assert {"faster-rcnn-lite0", "faster-rcnn-mobilenet", "faster-rcnn-resnet50"} <= set(names)


@pytest.mark.parametrize("bad, match", [
    ({"classes": ["a", "a"]}, "unique"),
    ({"classes": "circle"}, "list of class names"),
    ({"anchor_sizes": ((32, 64), (128,))}, "same number of sizes"),
    ({"anchor_sizes": ()}, "one tuple of pixel sizes"),
    ({"aspect_ratios": (0.0, 1.0)}, "aspect_ratios"),
    ({"min_size": 300, "max_size": 200}, "max_size"),
    ({"box_nms_thresh": 0.0}, r"box_nms_thresh must be in \(0, 1\]"),
    ({"box_score_thresh": 1.5}, "box_score_thresh"),
    ({"trainable_backbone_layers": 9}, "0..8"),
    ({"rpn_post_nms_top_n_test": 0}, "rpn_post_nms_top_n_test"),
    ({"nonsense": 1}, "unknown keys"),
])
def test_config_validation(bad, match):
    with pytest.raises(InputError, match=match):
        create_model("faster-rcnn-lite0", **{**SMALL, **bad})


def test_config_round_trip_and_anchor_levels():
    det = create_model("faster-rcnn-lite0", **SMALL)
    assert isinstance(det, FasterRCNNDetector) and isinstance(det.config, FasterRCNNLite0Config)
    assert det.names == SHAPE_CLASSES and det.num_classes == 6
    assert det.model.roi_heads.box_predictor.cls_score.out_features == 6  # background counted
    again = model_from_config(model_config(det))
    assert again.config == det.config and again.registry_name == "faster-rcnn-lite0"
    with pytest.raises(InputError, match="4 levels"):
        create_model("faster-rcnn-lite0", **SMALL, anchor_sizes=((32,), (64,), (128,)))
    with pytest.raises(InputError, match="backbone_weights must be"):
        create_model("faster-rcnn-lite0", **{**SMALL, "backbone_weights": "resnet18-imagenet"})


def test_torchvision_architectures_build_offline_untrained():
    det = create_model("faster-rcnn-mobilenet", classes=["a", "b"], min_size=160, max_size=160)
    assert det.model.roi_heads.box_predictor.cls_score.out_features == 3
    assert len(det.model.rpn.anchor_generator.sizes) == 3
    assert all(p.requires_grad for p in det.model.backbone.parameters())  # untrained: every stage trains
    out = det.predict(np.zeros((100, 120, 3), np.uint8))
    assert isinstance(out, Detections) and out.image_shape == (100, 120)


def test_coco_weights_resolve_through_the_manifest_and_say_where_offline():
    with pytest.raises(WeightsNotFoundError, match="VISION_OFFLINE"):
        create_model("faster-rcnn-resnet50", weights="fasterrcnn_resnet50_fpn-coco")


def test_weights_round_trip_and_wrong_class_count(tmp_path):
    det = create_model("faster-rcnn-lite0", **SMALL, classes=["a", "b", "c"])
    image = (np.random.default_rng(0).random((96, 128, 3)) * 255).astype(np.uint8)
    path = det.save_weights(tmp_path / "det.safetensors")
    again = create_model("faster-rcnn-lite0", **{**SMALL, "weights": str(path)}, classes=None)
    assert again.names == ("a", "b", "c") and again.weights_path == path  # names read from the file
    a, b = det.predict(image), again.predict(image)
    np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-3)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    with pytest.raises(WeightsError, match=r"are for 3 object classes \(4 outputs.*configured for 5 classes \(6 out"):
        create_model("faster-rcnn-lite0", **{**SMALL, "weights": str(path)}, classes=list(SHAPE_CLASSES))
    with pytest.raises(WeightsError, match="do not fit"):
        create_model("faster-rcnn-lite0", **{**SMALL, "weights": str(path), "fpn_channels": 16})
    with pytest.raises(WeightsNotFoundError):
        create_model("faster-rcnn-lite0", **{**SMALL, "weights": str(tmp_path / "missing.safetensors")})


def test_predict_refuses_bad_sources():
    det = create_model("faster-rcnn-lite0", **SMALL)
    with pytest.raises(InputError):
        det.predict(np.zeros((10, 10, 3), np.float64) + 7.0)
    with pytest.raises(InputError, match="predict_batch: expected a list"):
        det.predict_batch(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(InputError, match="min_score"):
        det.predict(np.zeros((10, 10, 3), np.uint8), min_score=2)


def test_task_refuses_bad_batches():
    det = create_model("faster-rcnn-lite0", **SMALL)
    with pytest.raises(InputError, match="expected a batch"):
        DetectionTask().step(det.model, "images", train=True)
    with pytest.raises(InputError, match="no targets"):
        DetectionTask().step(det.model, [torch.zeros(3, 32, 32)], train=True)
    target = {"boxes": torch.tensor([[1.0, 1.0, 9.0, 9.0]]), "labels": torch.tensor([1])}
    with pytest.raises(InputError, match="2 images with 1 targets"):
        DetectionTask().step(det.model, ([torch.zeros(3, 32, 32)] * 2, [target]), train=True)
    with pytest.raises(InputError, match="val_loss must be"):
        DetectionTask(val_loss=1)


def test_short_training_lowers_the_loss_without_nan(tiny_scenes):
    val = DetectionDataset(root=tiny_scenes.root, classes=tiny_scenes.classes, images=tiny_scenes.images[:2])
    det, history = train_faster_rcnn(tiny_scenes, val, config={**SMALL, "trainable_backbone_layers": 2}, epochs=3,
                                     batch_size=4, warmup=2, seed=0)
    history = history.history
    losses = history["loss"]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    for name in ("loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg", "val_loss",
                 "val_loss_classifier"):
        assert all(math.isfinite(v) for v in history[name]), name
    assert all(0.0 <= v <= 1.0 for v in history["val_map50"])
    assert det.names == SHAPE_CLASSES and not det.model.training
    # the validation-loss pass leaves batch-norm statistics (an untrained backbone: real BatchNorm) and modes alone
    bn = det.model.backbone.bn1
    assert isinstance(bn, torch.nn.BatchNorm2d)
    mean = bn.running_mean.clone()
    val = [next(iter(detection_loaders(tiny_scenes, None, batch_size=3, seed=1)[0]))]  # one batch of 3
    opt = torch.optim.SGD(det.model.parameters(), lr=0.0)
    trainer = Trainer(det.model, DetectionTask(), optimizer=opt)
    logs = trainer.evaluate(val)
    assert torch.equal(bn.running_mean, mean) and not det.model.training
    assert math.isfinite(logs["loss"]) and {"map50", "map", "loss_classifier"} <= set(logs)
    no_loss = Trainer(det.model, DetectionTask(val_loss=False), optimizer=opt).evaluate(val)
    assert math.isnan(no_loss["loss"]) and no_loss["map50"] == pytest.approx(logs["map50"], nan_ok=True)
    preds = trainer.predict(val)
    assert len(preds) == 1 and len(preds[0]) == 3 and {"boxes", "scores", "labels"} <= set(preds[0][0])


def test_train_refuses_bad_options(tiny_scenes):
    with pytest.raises(InputError, match="epochs"):
        train_faster_rcnn(tiny_scenes, None, config=SMALL, epochs=0)
    with pytest.raises(InputError, match="expected a DetectionDataset"):
        train_faster_rcnn([1, 2], None, config=SMALL)


# ---------------------------------------------------------------------------------------------------------------
# the shipped scenes detector
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    return create_model("faster-rcnn-lite0")


def test_shipped_detector_loads_offline(shipped):
    assert shipped.names == SHAPE_CLASSES and shipped.weights_path.name.endswith(".safetensors")
    assert shipped.config.weights == "faster-rcnn-lite0-scenes"


def test_shipped_weights_refuse_another_class_count():
    with pytest.raises(WeightsError, match=r"are for 5 object classes.*configured for 2 classes"):
        create_model("faster-rcnn-lite0", classes=["cat", "dog"])


def test_black_image_gives_empty_detections(shipped):
    det = shipped.predict(np.zeros((256, 256, 3), np.uint8))
    assert isinstance(det, Detections) and len(det) == 0 and det.image_shape == (256, 256)
    assert det.names == SHAPE_CLASSES


def test_shipped_detector_map50_on_held_out_scenes(shipped):
    from vision.metrics.detection import evaluate_detections
    from vision.models.detection.scenes_preset import detection_scenes

    test = detection_scenes("test", n=20)  # seed 9: never trained on
    paths = [test.image_path(i) for i in range(len(test))]
    evaluating = create_model("faster-rcnn-lite0", box_score_thresh=EVAL_SCORE_THRESH)  # as `vision val detect`
    preds = evaluating.predict_batch(paths, batch_size=4)
    report = evaluate_detections(preds, test)
    assert report.map50 >= 0.8, report.map50
    single = shipped.predict(paths[0])  # default threshold 0.05: the same boxes minus the low-score ones
    keep = preds[0].scores >= shipped.config.box_score_thresh
    np.testing.assert_allclose(single.xyxy, preds[0].xyxy[keep], atol=1e-2)
