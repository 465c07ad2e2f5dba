"""torchvision's FCN-ResNet50 / DeepLabV3-MobileNetV3 behind the registry: offline behaviour, weights, predictions."""

from __future__ import annotations

import numpy as np
import pytest

from vision.errors import InputError, WeightsError, WeightsNotFoundError
from vision.models import create_model, list_models
from vision.models.segmentation.torchvision_seg import TorchvisionSegmenter
from vision.types import Segmentation


@pytest.fixture(scope="module")
def deeplab():
    import torch

    torch.manual_seed(0)
    return create_model("deeplabv3-mobilenet", weights=None, classes=["a", "b"], resize=64)


def test_registered_with_online_only_default_weights(monkeypatch, tmp_path):
    assert {"fcn-resnet50", "deeplabv3-mobilenet"} <= set(list_models("segment"))
    assert not {"fcn-resnet50", "deeplabv3-mobilenet"} & set(list_models("segment", available=True))
    monkeypatch.setenv("VISION_OFFLINE", "1")
    for name, file in (("fcn-resnet50", "fcn_resnet50_coco-1167a1af.pth"),
                       ("deeplabv3-mobilenet", "deeplabv3_mobilenet_v3_large-fc3c493d.pth")):
        with pytest.raises(WeightsNotFoundError, match=file):  # the message says which file and where to put it
            create_model(name)


def test_untrained_predicts_a_map_at_the_image_size(deeplab):
    image = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    seg = deeplab.predict(image)
    assert isinstance(seg, Segmentation) and seg.mask.shape == (50, 70)
    assert seg.names == ("background", "a", "b") and set(np.unique(seg.mask)) <= {0, 1, 2}
    assert seg.confidence.shape == (50, 70) and 0 < seg.confidence.min() <= seg.confidence.max() <= 1
    gray = deeplab.predict(image[..., 0])  # a grey image goes through as three equal channels
    assert gray.mask.shape == (50, 70)
    both = deeplab.predict_batch([image, image[:40]])
    assert [s.mask.shape for s in both] == [(50, 70), (40, 70)]
    assert np.array_equal(both[0].mask, seg.mask)


def test_state_dict_round_trip_and_class_count_check(deeplab, tmp_path):
    image = np.random.default_rng(1).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    path = deeplab.save(tmp_path / "seg.pth")
    again = create_model("deeplabv3-mobilenet", weights=str(path), classes=["a", "b"], resize=64)
    assert np.array_equal(again.predict(image).mask, deeplab.predict(image).mask)
    with pytest.raises(WeightsError, match="hold 3 classes .* configured for 6"):
        create_model("deeplabv3-mobilenet", weights=str(path), classes=list("abcde"), resize=64)
    with pytest.raises(WeightsError, match="do not fit"):
        create_model("fcn-resnet50", weights=str(path), classes=["a", "b"])
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError, match="not a readable torch state dict"):
        create_model("deeplabv3-mobilenet", weights=str(bad), classes=["a", "b"])
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        create_model("deeplabv3-mobilenet", weights=str(tmp_path / "missing.pth"))


def test_bad_options_and_inputs(deeplab):
    for bad, match in (({"arch": "unet"}, "arch"), ({"resize": 0}, "resize"), ({"classes": ["background"]}, "classes"),
                       ({"classes": "ab"}, "classes"), ({"device": "tpu"}, "device")):
        with pytest.raises(InputError, match=match):
            TorchvisionSegmenter(weights=None, **bad)
    with pytest.raises(InputError, match="list of images"):
        deeplab.predict_batch("x.jpg")
    with pytest.raises(Exception, match="expected"):
        deeplab.predict(np.zeros((4, 4, 3), dtype=np.float64) + 7)
