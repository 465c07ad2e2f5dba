"""`vision train classify` on folders and CSV files, and `vision val` on the bundle it writes."""

import json

import numpy as np
import pytest
from PIL import Image

from vision.cli.main import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """80 lfw patches as ``root/<face|other>/<i>.png`` (gray and RGB files mixed)."""
    from vision.data import lfw_subset

    x, y = lfw_subset()
    root = tmp_path_factory.mktemp("cli_faces")
    for i in range(0, 200, 5):
        for j in (i, i + 1):
            d = root / ("face" if y[j] else "other")
            d.mkdir(exist_ok=True)
            Image.fromarray(x[j] if j % 2 else np.dstack([x[j]] * 3)).save(d / f"{j:03d}.png")
    return root


@pytest.fixture(scope="module")
def bundle(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli_run") / "run"
    assert main(["train", "classify", "--data", str(folder), "--model", "fmnist-cnn", "--epochs", "2",
                 "--batch-size", "16", "--test", "0.25", "--out", str(out)]) == 0
    return out


def test_train_classify_on_a_folder_writes_a_bundle(bundle, capsys):
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert metrics["classes"] == ["face", "other"] and metrics["images"]["test"] == 20  # --test 0.25 of 80
    assert (bundle / "model.json").is_file() and (bundle / "weights.safetensors").is_file()


def test_val_prints_a_report_and_json(bundle, folder, tmp_path, capsys):
    assert main(["val", str(bundle), "--data", str(folder), "--out", str(tmp_path / "v")]) == 0
    out = capsys.readouterr().out
    assert "fmnist-cnn from" in out and "accuracy" in out and "macro F1" in out
    assert "face" in out and "other" in out and "confusion_matrix.png" in out
    assert (tmp_path / "v" / "confusion_matrix.png").stat().st_size > 0
    assert main(["val", str(bundle / "model.json"), "--data", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 80 and report["split"] == "all"
    assert 0.0 <= report["accuracy"] <= 1.0 and len(report["per_class"]) == 2
    assert sum(sum(row) for row in report["confusion_matrix"]) == 80


def test_train_classify_transfer_options(folder, tmp_path, capsys):
    assert main(["train", "classify", "--data", str(folder), "--model", "efficientnet-lite0", "--pretrained",
                 "--freeze", "9", "--image-size", "32", "--epochs", "1", "--batch-size", "32",
                 "--out", str(tmp_path / "t")]) == 0
    assert "test accuracy" in capsys.readouterr().out
    transfer = json.loads((tmp_path / "t" / "metrics.json").read_text())["transfer"]
    assert transfer["fine_tune_epochs"] == 0 and transfer["fine_tuned"] == []  # --freeze 9: head only


def test_errors_exit_2_with_a_message(tmp_path, folder, capsys):
    assert main(["val", str(tmp_path / "nowhere"), "--data", "digits"]) == 2
    assert "classifier bundle file not found" in capsys.readouterr().err
    assert main(["train", "classify", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert "neither one of" in capsys.readouterr().err
    assert main(["train", "classify", "--data", str(folder), "--freeze", "12", "--out", str(tmp_path / "x")]) == 2
    assert "freeze: expected None" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit):
        main(["val", str(tmp_path)])  # --data is required
