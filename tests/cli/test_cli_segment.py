"""`vision train segment` and `vision predict segment` end to end on a tiny scenes folder."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from vision.cli.main import main
from vision.data.scenes import SceneConfig, make_scenes
from vision.types import Segmentation


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    cfg = SceneConfig(image_size=(64, 64), classes=("circle", "square"), objects=(1, 2), object_scale=(0.3, 0.5),
                      distractors=(0, 0), jpeg_quality=None)
    out = tmp_path_factory.mktemp("segcli") / "scenes"
    make_scenes(out, n=4, seed=2, config=cfg)
    return out


@pytest.mark.slow
def test_train_then_predict(scenes, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "segment", "--data", str(scenes), "--val", str(scenes), "--epochs", "1",
                 "--batch-size", "2", "--out", str(run)]) == 0
    text = capsys.readouterr().out
    assert "val_miou" in text and (run / "fcn.safetensors").is_file()
    weights = str(run / "fcn.safetensors")
    image = str(scenes / "images" / "000000.png")
    assert main(["predict", "segment", image, "--weights", weights, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    seg = Segmentation.from_dict(record)
    assert seg.mask.shape == (64, 64) and seg.names == ("background", "circle", "square")
    out = tmp_path / "batch"
    assert main(["predict", "segment", str(scenes / "images"), "--weights", weights, "--out", str(out),
                 "--save-images"]) == 0
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 4 and len(os.listdir(out / "images")) == 4
    assert np.array_equal(Segmentation.from_dict(json.loads(lines[0])).mask, seg.mask)


def test_refusals(scenes, tmp_path, capsys):
    assert main(["train", "segment", "--data", "scenes-test", "--out", str(tmp_path / "r")]) == 2
    assert "held-out" in capsys.readouterr().err
    assert main(["predict", "segment", str(scenes / "images"), "--model", "yolov8n"]) == 2
    assert "expected a segmentation model" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "plain" / "a.png")
    (tmp_path / "plain" / "a.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png", "width": 4,
                                                                         "height": 4}],
                                                            "annotations": [], "categories": [{"id": 1, "name": "x"}]}))
    assert main(["train", "segment", "--data", str(tmp_path / "plain" / "a.json"), "--out", str(tmp_path / "r2")]) == 2
    assert "no semantic mask" in capsys.readouterr().err


@pytest.mark.slow
def test_train_mask_rcnn_then_predict_instances(scenes, tmp_path, capsys):
    from vision.types import Detections

    run = tmp_path / "mask"
    assert main(["train", "segment", "--model", "mask-rcnn-lite0", "--data", str(scenes), "--val", str(scenes),
                 "--epochs", "1", "--batch-size", "2", "--out", str(run)]) == 0
    text = capsys.readouterr().out
    weights = run / "mask_rcnn_lite0.safetensors"
    assert "val_mask_map50" in text and weights.is_file()
    assert f"vision predict segment IMAGES --model mask-rcnn-lite0 --weights {weights}" in text
    image = str(scenes / "images" / "000000.png")
    assert main(["predict", "segment", image, "--model", "mask-rcnn-lite0", "--weights", str(weights),
                 "--conf", "0.0", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    det = Detections.from_dict(record)
    assert det.names == ("circle", "square") and det.image_shape == (64, 64)
    assert det.masks is not None and det.masks.shape[1:] == (64, 64) and len(det) > 0  # conf 0 keeps everything
    assert main(["predict", "segment", image, "--model", "mask-rcnn-lite0", "--weights", str(weights)]) == 0
    assert "object" in capsys.readouterr().out  # the console line lists objects, not class shares


def test_conf_only_for_instance_models(scenes, capsys):
    assert main(["predict", "segment", str(scenes / "images"), "--model", "fcn", "--conf", "0.5"]) == 2
    assert "--conf / --iou apply to instance segmenters" in capsys.readouterr().err


@pytest.mark.slow
def test_train_yolo_seg_from_the_shipped_detector_then_predict(scenes, tmp_path, capsys):
    from vision.types import Detections

    run = tmp_path / "yolo"
    assert main(["train", "segment", "--model", "yolov8n-seg", "--init", "yolov8n-scenes", "--data", str(scenes),
                 "--val", str(scenes), "--epochs", "1", "--batch-size", "4", "--imgsz", "64", "--out", str(run)]) == 0
    text = capsys.readouterr().out
    weights = run / "best.safetensors"
    assert "val_mask_map50" in text and weights.is_file() and "from yolov8n-scenes" in text
    image = str(scenes / "images" / "000000.png")
    assert main(["predict", "segment", image, "--model", "yolov8n-seg", "--weights", str(weights), "--conf", "0.0",
                 "--json"]) == 0
    det = Detections.from_dict(json.loads(capsys.readouterr().out)[0])
    assert det.names == ("circle", "square") and det.image_shape == (64, 64)
