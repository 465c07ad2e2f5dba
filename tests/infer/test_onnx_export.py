"""ONNX export + onnxruntime classifier: parity with PyTorch, metadata round trip, and every bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from vision.errors import (
    DTypeError,
    InputError,
    ManifestError,
    ShapeError,
    SourceNotFoundError,
    UnknownModelError,
)
from vision.infer import (
    OnnxClassifier,
    export_onnx,
    open_classifier,
    read_onnx_metadata,
)
from vision.models import create_model
from vision.models.classification import ImageClassifier, Preprocessing

pytest.importorskip("onnxruntime")

SMALL = {  # registered small CNNs with a preprocessing that fits them (no manifest entry needed)
    "fmnist-cnn": ({}, Preprocessing(input_size=(28, 28), resize=None, colour="gray", scale=1 / 255,
                                     mean=(0.286,), std=(0.353,))),
    "resnet-small": ({"in_channels": 3, "num_classes": 5, "input_size": 32},
                     Preprocessing(input_size=(32, 32), resize=None, scale=1 / 255, mean=(0.5,) * 3, std=(0.25,) * 3)),
}


@pytest.fixture(scope="module")
def photos():
    import skimage.data

    return {name: getattr(skimage.data, name)() for name in ("coffee", "chelsea")}


@pytest.fixture(scope="module")
def lite0(tmp_path_factory):
    clf = ImageClassifier("efficientnet-lite0")
    path = export_onnx(clf, tmp_path_factory.mktemp("onnx") / "lite0.onnx")
    return clf, OnnxClassifier(path), path


def _files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- parity ------------------------------------------------------------------------------------------------------
def test_efficientnet_lite0_logits_and_top5_match_pytorch(lite0, photos):
    from vision.models.classification.pretrained import softmax

    clf, onx, _ = lite0
    images = list(photos.values())
    x = np.stack([clf.preprocessing(i) for i in images])
    with torch.inference_mode():
        ref = clf.model(torch.from_numpy(x)).numpy()
    got = onx.session.run(None, {onx.input_name: x})[0]
    assert np.abs(got - ref).max() < 1e-4
    expected = [np.argsort(-row, kind="stable")[:5].tolist() for row in ref]
    results = onx.predict_batch(images, top_k=5)
    assert [r.class_ids.tolist() for r in results] == expected
    np.testing.assert_allclose(np.stack([r.scores for r in results]),
                               np.sort(softmax(ref), axis=1)[:, ::-1][:, :5], atol=1e-5)
    assert results[0].top1 == "espresso"
    assert results[1].top1 in {"tabby", "tiger cat", "Egyptian cat"}


def test_predict_batch_matches_predict_and_names_come_from_the_file(lite0, photos):
    clf, onx, path = lite0
    images = [photos["coffee"], photos["chelsea"], photos["coffee"][:, ::-1]]
    batch = onx.predict_batch(images, top_k=3, batch_size=2)  # a dynamic batch: 2 then 1
    assert [r.class_ids.tolist() for r in batch] == [onx.predict(i, top_k=3).class_ids.tolist() for i in images]
    assert onx.names == clf.names and len(onx.names) == 1000 and onx.num_classes == 1000 and onx.batch is None
    assert onx.preprocessing == clf.preprocessing and onx.model_name == "efficientnet-lite0"
    meta = read_onnx_metadata(path)
    assert set(meta) >= {"vision.preprocessing", "vision.labels", "vision.model"}
    assert "efficientnet-lite0" in repr(onx) and "224×224" in repr(onx)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_registered_cnn_round_trip(name, tmp_path, photos):
    options, pre = SMALL[name]
    torch.manual_seed(0)
    net = create_model(name, **options)
    labels = [f"class {i}" for i in range(net.config.num_classes)]
    clf = ImageClassifier(net, preprocessing=pre, labels=labels)
    path = export_onnx(clf, tmp_path / f"{name}.onnx")
    onx = OnnxClassifier(path)
    assert onx.preprocessing == pre and onx.names == tuple(labels)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40 + 7 * i, 50, 3), dtype=np.uint8) for i in range(5)] + [photos["coffee"]]
    x = np.stack([pre(i) for i in images])
    with torch.inference_mode():
        ref = net(torch.from_numpy(x)).numpy()
    assert np.abs(onx._logits(x) - ref).max() < 1e-4
    a, b = clf.predict_batch(images, top_k=3, batch_size=4), onx.predict_batch(images, top_k=3, batch_size=4)
    assert [r.class_ids.tolist() for r in a] == [r.class_ids.tolist() for r in b]
    # a fixed batch of 1: predict_batch still takes any batch size
    fixed = OnnxClassifier(export_onnx(clf, tmp_path / "fixed.onnx", dynamic_batch=False))
    assert fixed.batch == 1
    assert [r.class_ids.tolist() for r in fixed.predict_batch(images, top_k=3, batch_size=4)] == \
        [r.class_ids.tolist() for r in b]


def test_module_export_keeps_training_mode_and_needs_a_size_without_preprocessing(tmp_path):
    torch.manual_seed(0)
    net = create_model("resnet-small", in_channels=3, num_classes=4, input_size=32).train()
    with pytest.raises(InputError, match="input size of ResNetSmall is not known|input size of resnet-small"):
        export_onnx(net, tmp_path / "a.onnx")
    path = export_onnx(net, tmp_path / "a.onnx", input_size=32)
    assert net.training  # export put it in eval mode and back
    with pytest.raises(InputError, match="holds no preprocessing"):
        OnnxClassifier(path)
    pre = Preprocessing(input_size=(32, 32), resize=None)
    onx = OnnxClassifier(path, preprocessing=pre.to_manifest())  # a manifest-style dict works too
    result = onx.predict(np.zeros((32, 32, 3), np.uint8), top_k=4)
    assert onx.names == () and sorted(result.labels) == ["0", "1", "2", "3"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_foreign_file_with_a_fixed_batch_of_4_is_fed_padded_chunks(tmp_path):
    torch.manual_seed(0)
    net = create_model("resnet-small", in_channels=3, num_classes=3, input_size=32).eval()
    path = tmp_path / "foreign.onnx"
    torch.onnx.export(net, (torch.zeros(4, 3, 32, 32),), str(path), dynamo=False, opset_version=17)
    pre = Preprocessing(input_size=(32, 32), resize=None)
    onx = OnnxClassifier(path, preprocessing=pre, labels=["a", "b", "c"])
    assert onx.batch == 4 and onx.model_name == "foreign"
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(6)]
    x = np.stack([pre(i) for i in images])
    with torch.inference_mode():
        ref = net(torch.from_numpy(x)).numpy()
    got = onx._logits(x)  # 4 + (2 padded to 4)
    assert got.shape == (6, 3) and np.abs(got - ref).max() < 1e-4
    assert len(onx.predict_batch(images, top_k=1, batch_size=5)) == 6


def test_export_with_another_input_size_scales_the_crop(tmp_path):
    torch.manual_seed(0)
    net = create_model("resnet-small", in_channels=3, num_classes=3, input_size=32)
    pre = Preprocessing(input_size=(32, 32), resize=36, scale=1 / 255, mean=(0.5,) * 3, std=(0.25,) * 3)
    clf = ImageClassifier(net, preprocessing=pre, labels=["a", "b", "c"])
    onx = OnnxClassifier(export_onnx(clf, tmp_path / "r48.onnx", input_size=48))
    assert onx.preprocessing.input_size == (48, 48) and onx.preprocessing.resize == round(36 * 48 / 32)
    assert onx.preprocessing.mean == pre.mean and onx.preprocessing.scale == pre.scale
    wide = OnnxClassifier(export_onnx(clf, tmp_path / "r40x64.onnx", input_size=(40, 64)))
    assert wide.preprocessing.input_size == (40, 64) and wide.preprocessing.resize == round(36 * 64 / 32)
    assert len(wide.predict(np.zeros((50, 80, 3), np.uint8), top_k=2)) == 2


# -- bad inputs --------------------------------------------------------------------------------------------------
def test_missing_or_foreign_files_are_typed_errors(tmp_path):
    with pytest.raises(SourceNotFoundError, match="ONNX model not found: .*nothing.onnx"):
        OnnxClassifier(tmp_path / "nothing.onnx")
    with pytest.raises(SourceNotFoundError, match="is not a file"):
        OnnxClassifier(tmp_path)
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n this is not a model")
    with pytest.raises(InputError, match=r"fake.onnx: not an ONNX model onnxruntime can load"):
        OnnxClassifier(fake)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="not an ONNX model"):
        OnnxClassifier(empty)
    with pytest.raises(InputError, match="path must be a file path"):
        OnnxClassifier(3)


def test_constructor_argument_errors(lite0, tmp_path):
    _, _, path = lite0
    with pytest.raises(ShapeError, match=r"takes 224×224 inputs but the preprocessing makes 256×256"):
        OnnxClassifier(path, preprocessing=Preprocessing(input_size=(256, 256), resize=None))
    with pytest.raises(ShapeError, match=r"expected N×1×H×W \(colour 'gray'\)"):
        OnnxClassifier(path, preprocessing=Preprocessing(input_size=(224, 224), resize=None, colour="gray",
                                                         mean=(0.0,), std=(1.0,)))
    with pytest.raises(InputError, match="2 labels for a model with 1000 outputs"):
        OnnxClassifier(path, labels=["a", "b"])
    with pytest.raises(InputError, match="labels must be a sequence"):
        OnnxClassifier(path, labels="abc")
    with pytest.raises(InputError, match="preprocessing must be a Preprocessing"):
        OnnxClassifier(path, preprocessing=224)
    with pytest.raises(ManifestError, match="colour must be"):
        OnnxClassifier(path, preprocessing={"input_size": 224, "colour": "cmyk"})
    with pytest.raises(InputError, match=r"provider\(s\) \['NoSuchExecutionProvider'\] are not available"):
        OnnxClassifier(path, providers=("NoSuchExecutionProvider",))
    with pytest.raises(InputError, match="providers must be a non-empty sequence"):
        OnnxClassifier(path, providers="CPUExecutionProvider")
    with pytest.raises(InputError, match="threads must be an integer"):
        OnnxClassifier(path, threads=0)


def test_int_input_model_is_a_dtype_error(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Cast", ["images"], ["logits"], to=TensorProto.FLOAT)], "g",
                              [helper.make_tensor_value_info("images", TensorProto.UINT8, ["n", 3, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 3, 8, 8])])
    path = tmp_path / "uint8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(DTypeError, match=r"is tensor\(uint8\); expected tensor\(float\)"):
        OnnxClassifier(path, preprocessing=Preprocessing(input_size=(8, 8), resize=None))


def test_predict_errors_are_those_of_image_classifier(lite0):
    _, onx, _ = lite0
    with pytest.raises(InputError, match=r"top_k must be an integer in \[1, 1000\]"):
        onx.predict(np.zeros((8, 8, 3), np.uint8), top_k=0)
    with pytest.raises(ShapeError):
        onx.predict(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(SourceNotFoundError, match=r"sources\[1\]"):
        onx.predict_batch([np.zeros((8, 8, 3), np.uint8), "no/such/image.png"])
    with pytest.raises(InputError, match="expected a sequence of images"):
        onx.predict_batch("image.png")


def test_export_errors_write_nothing(tmp_path):
    torch.manual_seed(0)
    net = create_model("resnet-small", in_channels=3, num_classes=3, input_size=32)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "m.onnx"
    target.write_bytes(b"previous")
    bad_calls = [
        (InputError, r"opset must be an integer in \[9, \d+\]", {"input_size": 32, "opset": 99}),
        (InputError, "opset must be", {"input_size": 32, "opset": True}),
        (InputError, "input_size must be an integer > 0", {"input_size": (32,)}),
        (InputError, "input_size must be", {"input_size": 0}),
        (InputError, "dynamic_batch must be True or False", {"input_size": 32, "dynamic_batch": "yes"}),
        (ShapeError, "expected N×3×H×W input with H, W ≥", {"input_size": 2}),  # the model's own check
    ]
    for error, match, kwargs in bad_calls:
        with pytest.raises(error, match=match):
            export_onnx(net, target, **kwargs)
    with pytest.raises(InputError, match=r"returned \(1, 4, 8, 8\) for one image; expected 1×classes logits"):
        export_onnx(torch.nn.Conv2d(3, 4, 3, padding=1), target, input_size=8)
    with pytest.raises(ShapeError, match="does not accept a 1×3×8×8 input"):
        export_onnx(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(5, 2)), target, input_size=8)
    class Spectrum(torch.nn.Module):  # an operator the TorchScript exporter has no ONNX form for
        def forward(self, x):
            return torch.fft.rfft(x.flatten(1)).abs()[:, :5]

    with pytest.raises(InputError, match="torch.onnx cannot export Spectrum at opset 17: .*aten::fft_rfft"):
        export_onnx(Spectrum(), target, input_size=4)
    with pytest.raises(InputError, match="must be an ImageClassifier or an nn.Module; got str"):
        export_onnx("efficientnet-lite0", target)
    with pytest.raises(InputError, match="is a directory"):
        export_onnx(net, out, input_size=32)
    assert _files(out) == ["m.onnx"] and target.read_bytes() == b"previous"  # untouched, no temporary left


# -- open_classifier (what the CLI uses) --------------------------------------------------------------------------
def test_open_classifier_by_name_path_and_backend(lite0, tmp_path):
    path = lite0[2]
    assert isinstance(open_classifier(path, backend="onnx"), OnnxClassifier)
    with pytest.raises(InputError, match="is an ONNX file; it runs with backend 'onnx'"):
        open_classifier(path)
    with pytest.raises(InputError, match=r"backend must be one of \['torch', 'onnx'\]"):
        open_classifier("efficientnet-lite0", backend="tensorrt")
    with pytest.raises(SourceNotFoundError, match="model not found: .*model.json"):
        open_classifier(tmp_path / "run" / "model.json")
    with pytest.raises(SourceNotFoundError, match="ONNX model not found"):
        open_classifier(tmp_path / "x.onnx", backend="onnx")
    with pytest.raises(UnknownModelError):
        open_classifier("efficientnet-lite9")


def test_importing_vision_infer_imports_neither_torch_nor_onnxruntime():
    code = "import sys, vision.infer; print('torch' in sys.modules, 'onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"}).stdout
    assert out.split() == ["False", "False"]
