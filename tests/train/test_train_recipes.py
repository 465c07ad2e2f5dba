"""`vision train classify` and the recipe behind it, on scikit-learn's digits (offline, seconds)."""

import json

import pytest

from vision.cli.main import main
from vision.errors import InputError
from vision.train.recipes import train_classifier


def test_train_classifier_writes_its_files_and_learns(tmp_path):
    run = train_classifier(data="digits", epochs=3, subset=800, out_dir=tmp_path / "run", lr=1e-2)
    assert [p.name for p in run.files] == ["best.pt", "history.csv", "curves.png", "confusion_matrix.png",
                                           "metrics.json"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in run.files)
    assert len(run.history["loss"]) == 3 and run.history["loss"][-1] < run.history["loss"][0]
    assert run.test["accuracy"] > 0.3  # 10 classes: chance is 0.1
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["test"]["accuracy"] == pytest.approx(run.test["accuracy"])


def test_cli_train_classify_and_bad_input(tmp_path, capsys):
    assert main(["train", "classify", "--data", "digits", "--epochs", "1", "--subset", "200",
                 "--out", str(tmp_path / "r")]) == 0
    assert "test accuracy" in capsys.readouterr().out
    with pytest.raises(InputError, match="expected a classify model"):
        train_classifier(data="digits", model="haar-face", out_dir=tmp_path / "x")
    with pytest.raises(InputError, match="subset: expected at least 20"):
        train_classifier(data="digits", subset=5, out_dir=tmp_path / "y")
