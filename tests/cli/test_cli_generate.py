"""`vision generate` and `vision train generate` end to end (shipped Fashion-MNIST weights; tiny digits runs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vision.cli.main import main
from vision.io import read_image


def test_generate_sheets_from_the_shipped_gans(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["generate", "--model", "dcgan", "-n", "16", "-o", str(out), "--seed", "3"]) == 0
    sheet = read_image(out)
    assert sheet.shape[:2] == (4 * 28 + 5 * 2, 4 * 28 + 5 * 2) and sheet.std() > 20  # 4×4 cells, 2 px gaps
    again = tmp_path / "again.png"
    assert main(["generate", "--model", "dcgan", "-n", "16", "-o", str(again), "--seed", "3"]) == 0
    assert np.array_equal(read_image(again), sheet)  # same seed, same images
    assert main(["generate", "--model", "cgan", "--label", "Trouser", "-n", "4", "-o", str(tmp_path / "t.png")]) == 0
    assert main(["generate", "--model", "dcgan", "--interpolate", "1", "2", "-n", "6", "--cols", "6",
                 "-o", str(tmp_path / "walk.png")]) == 0
    assert read_image(tmp_path / "walk.png").shape[:2] == (28 + 4, 6 * 28 + 7 * 2)
    capsys.readouterr()


def test_generate_refusals(tmp_path, capsys):
    for argv, text in ((["--model", "dae"], "not variational"), (["-n", "0"], "-n must be ≥ 1"),
                       (["--model", "cgan", "--label", "Spaceship"], "unknown class 'Spaceship'"),
                       (["--model", "yolov8n"], "expected a generative model")):
        assert main(["generate", *argv, "-o", str(tmp_path / "x.png")]) == 2
        assert text in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("model", ["dae", "cgan"])
def test_train_then_use(model, tmp_path, capsys):
    run = tmp_path / model
    assert main(["train", "generate", "--model", model, "--data", "digits", "--epochs", "1", "--limit", "128",
                 "--out", str(run)]) == 0
    text = capsys.readouterr().out
    weights = run / f"{model}.safetensors"
    assert weights.is_file() and (run / "samples.png").is_file()
    assert json.loads((run / "history.json").read_text())["loss"]
    assert ("vision generate --model cgan" in text) == (model == "cgan")
    if model == "cgan":
        assert main(["generate", "--model", "cgan", "--weights", str(weights), "--label", "7", "-n", "4",
                     "-o", str(tmp_path / "sevens.png")]) == 0
    assert main(["train", "generate", "--model", model, "--data", "digits", "--out", str(run)]) == 2
    assert "not empty" in capsys.readouterr().err
