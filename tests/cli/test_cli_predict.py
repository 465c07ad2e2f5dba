"""`vision predict classify` and `vision export onnx`: results, annotated files, backends and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vision.cli.main import main
from vision.io import read_image, write_image


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    import skimage.data

    folder = tmp_path_factory.mktemp("photos")
    write_image(folder / "coffee.png", skimage.data.coffee())
    write_image(folder / "sub" / "chelsea.jpg", skimage.data.chelsea())
    write_image(folder / "other" / "coffee.png", skimage.data.coffee()[:, ::-1])  # the same stem again
    return folder


@pytest.fixture(scope="module")
def lite0_onnx(tmp_path_factory):
    """`vision export onnx` once; most tests then run the fast onnxruntime backend from that file."""
    _needs_onnx()
    out = tmp_path_factory.mktemp("models") / "lite0.onnx"
    assert main(["export", "onnx", "efficientnet-lite0", "--out", str(out)]) == 0
    return out


def _needs_onnx() -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")


def _json(capsys) -> list[dict]:
    return json.loads(capsys.readouterr().out)


def _onnx(path) -> list[str]:
    return ["--model", str(path), "--backend", "onnx"]


def test_export_writes_a_file_that_predicts(lite0_onnx, photo_dir, capsys):
    assert lite0_onnx.stat().st_size > 10e6
    assert main(["predict", "classify", str(photo_dir / "coffee.png"), "--topk", "2", *_onnx(lite0_onnx)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{photo_dir / 'coffee.png'}: espresso 0.") and line.count(",") == 1
    assert main(["predict", "classify", str(photo_dir / "coffee.png"), "--model", str(lite0_onnx)]) == 2
    assert "runs with backend 'onnx'" in capsys.readouterr().err


def test_predict_folder_json_and_annotated_pngs(lite0_onnx, photo_dir, tmp_path, capsys):
    save = tmp_path / "annotated"
    assert main(["predict", "classify", str(photo_dir), "--json", "--topk", "3", "--save", str(save),
                 "--batch-size", "2", *_onnx(lite0_onnx)]) == 0
    records = _json(capsys)
    by_name = {Path(r["image"]).relative_to(photo_dir).as_posix(): r for r in records}
    assert list(by_name) == ["coffee.png", "other/coffee.png", "sub/chelsea.jpg"]
    assert by_name["coffee.png"]["labels"][0] == "espresso"
    assert by_name["sub/chelsea.jpg"]["labels"][0] in {"tabby", "tiger cat", "Egyptian cat"}
    for r in records:
        assert len(r["labels"]) == len(r["scores"]) == len(r["class_ids"]) == 3
        assert r["scores"] == sorted(r["scores"], reverse=True) and 0 < sum(r["scores"]) <= 1.0001
        assert Path(r["saved"]).parent == save
    assert sorted(p.name for p in save.iterdir()) == ["chelsea.png", "coffee.png", "coffee_.png"]
    drawn, plain = read_image(save / "coffee.png"), read_image(photo_dir / "coffee.png")
    assert drawn.shape == plain.shape and np.abs(drawn.astype(int) - plain).sum() > 0
    assert np.array_equal(drawn[-100:], plain[-100:])  # labels are drawn top-left only


@pytest.mark.slow
def test_torch_and_onnx_backends_agree_on_a_registered_model(photo_dir, capsys):
    _needs_onnx()
    images = [str(photo_dir / "coffee.png"), str(photo_dir / "sub")]
    assert main(["predict", "classify", *images, "--json"]) == 0  # PyTorch
    torch_records = _json(capsys)
    assert main(["predict", "classify", *images, "--json", "--backend", "onnx"]) == 0  # exported on the fly
    onnx_records = _json(capsys)
    assert [r["class_ids"] for r in onnx_records] == [r["class_ids"] for r in torch_records]
    np.testing.assert_allclose([r["scores"] for r in onnx_records], [r["scores"] for r in torch_records], atol=1e-4)


def test_an_unreadable_file_is_reported_and_the_others_still_run(lite0_onnx, photo_dir, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    code = main(["predict", "classify", str(broken), str(photo_dir / "coffee.png"), "--json", "--topk", "1",
                 *_onnx(lite0_onnx)])
    captured = capsys.readouterr()
    assert code == 1
    records = json.loads(captured.out)
    assert records[0]["image"] == str(broken) and records[0]["error"].startswith("ImageDecodeError")
    assert records[1]["labels"] == ["espresso"]
    assert captured.err.count("\n") == 1 and "broken.png" in captured.err


def test_a_trained_classifier_folder_predicts_and_exports(photo_dir, tmp_path, capsys):
    _needs_onnx()
    import torch

    from vision.models import create_model
    from vision.models.classification import Preprocessing
    from vision.models.classification.bundle import save_classifier

    torch.manual_seed(0)
    classes = [f"c{i}" for i in range(10)]
    pre = Preprocessing(input_size=(28, 28), resize=None, colour="gray", scale=1 / 255, mean=(0.3,), std=(0.3,))
    bundle = save_classifier(tmp_path / "run", create_model("fmnist-cnn"), classes=classes, preprocessing=pre)
    image = str(photo_dir / "coffee.png")
    assert main(["predict", "classify", image, "--model", str(bundle), "--json", "--topk", "10"]) == 0
    torch_record = _json(capsys)[0]
    assert sorted(torch_record["labels"]) == classes
    out = tmp_path / "fmnist.onnx"
    assert main(["export", "onnx", str(bundle / "model.json"), "--out", str(out)]) == 0
    assert "10 classes" in capsys.readouterr().out
    for model in (str(out), str(bundle)):  # the exported file, and the folder exported on the fly
        assert main(["predict", "classify", image, *_onnx(model), "--json", "--topk", "10"]) == 0
        record = _json(capsys)[0]
        assert record["class_ids"] == torch_record["class_ids"]
        np.testing.assert_allclose(record["scores"], torch_record["scores"], atol=1e-5)


@pytest.mark.parametrize("argv, message", [
    (["predict", "classify", "no/such/photo.png"], "error: image source not found: no/such/photo.png"),
    (["predict", "classify", "COFFEE", "--model", "efficientnet-lite9"], "efficientnet-lite9"),
    (["predict", "classify", "COFFEE", "--model", "runs/no/model.json"], "model not found: runs/no/model.json"),
    (["predict", "classify", "COFFEE", "--model", "OUT"], "classifier bundle file not found"),
    (["predict", "classify", "COFFEE", "--batch-size", "0"], "--batch-size must be ≥ 1; got 0"),
    (["predict", "classify", "COFFEE", "--model", "fmnist-cnn"], "no preprocessing is known"),
    (["predict", "classify", "COFFEE", "--topk", "0"], "top_k must be an integer in [1, 1000]; got 0"),
    (["export", "onnx", "efficientnet-lite9", "--out", "OUT/x.onnx"], "efficientnet-lite9"),
    (["export", "onnx", "efficientnet-lite0", "--out", "OUT/x.onnx", "--opset", "99"], "opset must be an integer"),
])
def test_errors_are_one_line_with_exit_code_2(argv, message, photo_dir, tmp_path, capsys):
    argv = [a.replace("COFFEE", str(photo_dir / "coffee.png")).replace("OUT", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and captured.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_bad_backend_choice_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["predict", "classify", "x.png", "--backend", "tensorrt"])
    assert exc.value.code == 2 and "invalid choice: 'tensorrt'" in capsys.readouterr().err
