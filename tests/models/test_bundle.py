"""The saved-classifier bundle (model.json + weights.safetensors): round trips, gray preprocessing, bad bundles."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
import torch

from vision.errors import InputError, ManifestError, SourceNotFoundError, WeightsError
from vision.models import create_model, model_config
from vision.models.classification import (
    MODEL_FILE,
    WEIGHTS_FILE,
    ImageClassifier,
    Preprocessing,
    classifier_info,
    create_backbone,
    load_classifier,
    save_classifier,
)

GRAY28 = {"input_size": 28, "colour": "gray", "scale": "1/255", "mean": [0.5], "std": [0.25]}


@pytest.fixture(scope="module")
def images():
    import skimage.data

    rgb = cv2.resize(skimage.data.astronaut(), (64, 48))
    return [rgb, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)])]


def _cnn(num_classes: int = 3):
    torch.manual_seed(0)
    return create_model("fmnist-cnn", num_classes=num_classes)


# -- preprocessing -------------------------------------------------------------------------------------------------
def test_gray_preprocessing_matches_the_training_conversion():
    pre = Preprocessing.from_manifest(GRAY28, where="test")
    assert pre.channels == 1 and pre.colour == "gray"
    rgb = np.random.default_rng(0).integers(0, 256, (28, 28, 3), dtype=np.uint8)
    x = pre(rgb)
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    expected = (cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255 - 0.5) / 0.25  # as the dataset does
    np.testing.assert_allclose(x[0], expected, atol=1e-5)
    assert Preprocessing.from_manifest(pre.to_manifest(), where="again") == pre
    with pytest.raises(ManifestError, match="mean must be 1 number for colour 'gray'"):
        Preprocessing.from_manifest({**GRAY28, "mean": [0.5, 0.5, 0.5]}, where="test")
    with pytest.raises(ManifestError, match="colour must be 'rgb', 'bgr' or 'gray'"):
        Preprocessing.from_manifest({**GRAY28, "colour": "hsv"}, where="test")


def test_image_classifier_takes_preprocessing_instead_of_weights(images):
    clf = ImageClassifier(_cnn(), preprocessing=GRAY28, labels=["a", "b", "c"])
    assert clf.weights_name is None and clf.preprocessing.channels == 1
    results = clf.predict_batch(images, top_k=2)  # RGB, gray and RGBA sources all become 1×28×28
    assert [r.labels[0] in {"a", "b", "c"} for r in results] == [True] * 3
    with pytest.raises(InputError, match="not both"):
        ImageClassifier(_cnn(), weights="efficientnet-lite0-imagenet", preprocessing=GRAY28)
    with pytest.raises(InputError, match="preprocessing must be a Preprocessing or a manifest-style dict"):
        ImageClassifier(_cnn(), preprocessing=[28])


# -- round trips ---------------------------------------------------------------------------------------------------
def test_save_and_load_round_trip_gives_the_same_outputs(tmp_path, images):
    net = _cnn()
    out = save_classifier(tmp_path / "b", net, classes=["cat", "dog", "fox"], preprocessing=GRAY28)
    assert sorted(p.name for p in out.iterdir()) == [MODEL_FILE, WEIGHTS_FILE]
    doc = json.loads((out / MODEL_FILE).read_text())
    assert set(doc) == {"format", "model", "config", "classes", "preprocessing"}
    assert {k: doc[k] for k in ("format", "model", "config")} == model_config(net)
    assert doc["classes"] == ["cat", "dog", "fox"] and doc["preprocessing"]["colour"] == "gray"
    loaded = load_classifier(out / MODEL_FILE)  # the folder or its model.json
    direct = ImageClassifier(net, preprocessing=GRAY28, labels=["cat", "dog", "fox"])
    for a, b in zip(loaded.predict_batch(images, top_k=3), direct.predict_batch(images, top_k=3)):
        assert list(a.labels) == list(b.labels)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-6)
    info = classifier_info(out)
    assert info["path"] == out and info["weights"] == out / WEIGHTS_FILE and info["model"] == "fmnist-cnn"


def test_a_pretrained_model_reloads_without_looking_for_imagenet_weights(tmp_path, monkeypatch, images):
    net = create_model("efficientnet-lite0", num_classes=2)  # config says pretrained=True
    pre = {"input_size": 48, "colour": "rgb", "scale": 1, "mean": [127, 127, 127], "std": [128, 128, 128]}
    save_classifier(tmp_path / "b", net, classes=["no", "yes"], preprocessing=pre)
    import vision.weights

    def refuse(*args, **kwargs):
        raise AssertionError("load_classifier looked up the ImageNet weights")

    monkeypatch.setattr(vision.weights, "resolve", refuse)
    loaded = load_classifier(tmp_path / "b")
    x = torch.from_numpy(np.stack([loaded.preprocessing(im) for im in images[:1]]))
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), net.eval()(x))


def test_torchvision_head_with_dropout_is_checked_against_the_classes(tmp_path):
    net = create_backbone("resnet18", num_classes=3, dropout=0.2)  # fc = Sequential(Dropout, Linear)
    pre = {"input_size": 32, "scale": "1/255", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    save_classifier(tmp_path / "r", net, classes=["a", "b", "c"], preprocessing=pre)
    assert load_classifier(tmp_path / "r").num_classes == 3
    other = create_backbone("resnet18", num_classes=5, dropout=0.2)
    save_classifier(tmp_path / "r5", other, classes=list("abcde"), preprocessing=pre)
    shutil.copy(tmp_path / "r5" / WEIGHTS_FILE, tmp_path / "r" / WEIGHTS_FILE)  # 5-class weights, 3-class json
    with pytest.raises(WeightsError, match="5-class head but model.json describes 3 classes"):
        load_classifier(tmp_path / "r")


# -- bad input -----------------------------------------------------------------------------------------------------
def test_save_refuses_inconsistent_input_and_writes_nothing(tmp_path):
    net = _cnn(3)
    target = tmp_path / "b"
    with pytest.raises(InputError, match="num_classes=3 but 2 class names"):
        save_classifier(target, net, classes=["a", "b"], preprocessing=GRAY28)
    with pytest.raises(InputError, match="takes 1-channel input but the preprocessing gives 3"):
        save_classifier(target, net, classes=["a", "b", "c"], preprocessing={"input_size": 28})
    with pytest.raises(InputError, match="unique"):
        save_classifier(target, net, classes=["a", "a", "c"], preprocessing=GRAY28)
    with pytest.raises(ManifestError, match="interpolation"):
        save_classifier(target, net, classes=["a", "b", "c"], preprocessing={**GRAY28, "interpolation": "magic"})
    with pytest.raises(InputError, match="expected a model built by vision.models.create_model"):
        save_classifier(target, torch.nn.Linear(2, 3), classes=["a", "b", "c"], preprocessing=GRAY28)
    assert not target.exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        save_classifier(tmp_path / "file", net, classes=["a", "b", "c"], preprocessing=GRAY28)


@pytest.fixture()
def bundle(tmp_path):
    return save_classifier(tmp_path / "b", _cnn(3), classes=["a", "b", "c"], preprocessing=GRAY28)


def test_load_refuses_missing_and_broken_bundles(tmp_path, bundle):
    with pytest.raises(SourceNotFoundError, match="the path does not exist"):
        load_classifier(tmp_path / "nowhere")
    (bundle / WEIGHTS_FILE).rename(tmp_path / "moved")
    with pytest.raises(SourceNotFoundError, match="weights of the classifier bundle not found"):
        load_classifier(bundle)
    (tmp_path / "moved").rename(bundle / WEIGHTS_FILE)
    doc = json.loads((bundle / MODEL_FILE).read_text())
    (bundle / MODEL_FILE).write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_classifier(bundle)
    (bundle / MODEL_FILE).write_text(json.dumps({k: v for k, v in doc.items() if k != "classes"}))
    with pytest.raises(InputError, match="classes and preprocessing"):
        load_classifier(bundle)
    (bundle / MODEL_FILE).write_text(json.dumps({**doc, "classes": ["a", "b"]}))
    with pytest.raises(InputError, match="num_classes=3 but 2 class names"):
        load_classifier(bundle)
    (bundle / MODEL_FILE).write_text(json.dumps({**doc, "preprocessing": {**GRAY28, "std": [0]}}))
    with pytest.raises(ManifestError, match="std must be 1 number > 0"):
        load_classifier(bundle)


def test_load_refuses_weights_that_do_not_fit(tmp_path, bundle):
    doc = json.loads((bundle / MODEL_FILE).read_text())
    # the config edited to 5 classes (with 5 names) while the weights keep a 3-class head
    (bundle / MODEL_FILE).write_text(json.dumps({**doc, "config": {**doc["config"], "num_classes": 5},
                                                 "classes": list("abcde")}))
    with pytest.raises(WeightsError, match="3-class head but model.json describes 5 classes"):
        load_classifier(bundle)
    (bundle / MODEL_FILE).write_text(json.dumps({**doc, "config": {**doc["config"], "hidden": 64}}))
    with pytest.raises(WeightsError, match=r"tensor 'head.2.weight' has shape \(128, 3136\), but the model's has "
                                           r"\(64, 3136\)"):
        load_classifier(bundle)
    (bundle / MODEL_FILE).write_text(json.dumps(doc))
    from safetensors.torch import load_file, save_file

    state = load_file(str(bundle / WEIGHTS_FILE))
    state.pop("features.1.running_mean")
    save_file(state, str(bundle / WEIGHTS_FILE))
    with pytest.raises(WeightsError, match=r"missing \['features.1.running_mean'\]"):
        load_classifier(bundle)
    (bundle / WEIGHTS_FILE).write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_classifier(bundle)
