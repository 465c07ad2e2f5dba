"""`vision predict detect`, `vision val detect`, `vision compare` and `vision train detect` with real detectors.

The OpenCV detectors (haar-face, hog-people) are always available and fast, so they carry these tests; the shipped
scene detectors are exercised where their weights are present.
"""

from __future__ import annotations

import functools
import json
import logging
import os

import numpy as np
import pytest

from vision.cli.main import main
from vision.data import load_sample
from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.io import VideoSink, VideoSource, read_image, write_image
from vision.models import create_model

ASTRONAUT_FACE = [177.0, 67.0, 270.0, 160.0]  # what haar-face finds on the astronaut (checked below)


@functools.cache
def haar():
    return create_model("haar-face")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    write_image(folder / "astronaut.png", load_sample("astronaut"))
    write_image(folder / "sub" / "coffee.jpg", load_sample("coffee"))
    return folder


@pytest.fixture(scope="module")
def face_coco(tmp_path_factory):
    """A two-image COCO dataset of faces: the astronaut's face (found by haar) and one on coffee (never found)."""
    from vision.data import write_coco

    root = tmp_path_factory.mktemp("faces")
    write_image(root / "astronaut.png", load_sample("astronaut"))
    write_image(root / "coffee.png", load_sample("coffee"))
    ds = DetectionDataset(root=root, classes=["face"], images=[
        ImageRecord("astronaut.png", 512, 512, [ObjectAnnotation(tuple(ASTRONAUT_FACE), 0)]),
        ImageRecord("coffee.png", 600, 400, [ObjectAnnotation((100.0, 100.0, 200.0, 200.0), 0)]),
    ])
    return write_coco(ds, root / "annotations.json")


def _json(capsys):
    return json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------------------------------------ predict detect
def test_predict_images_prints_saves_and_matches_the_library(photos, tmp_path, capsys):
    save = tmp_path / "out"
    assert main(["predict", "detect", str(photos), "--model", "haar-face", "--save", str(save)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{photos / 'astronaut.png'}: 1 box: face 1.00", f"{photos / 'sub' / 'coffee.jpg'}: no boxes"]
    assert sorted(p.name for p in save.iterdir()) == ["astronaut.png", "coffee.png"]
    plain, drawn = load_sample("astronaut"), read_image(save / "astronaut.png")
    assert drawn.shape == plain.shape and np.abs(drawn.astype(int) - plain).sum() > 0  # the box is drawn
    assert np.array_equal(read_image(save / "coffee.png"), read_image(photos / "sub" / "coffee.jpg"))  # nothing drawn

    assert main(["predict", "detect", str(photos / "astronaut.png"), "--model", "haar-face", "--json"]) == 0
    [record] = _json(capsys)
    want = haar().predict(load_sample("astronaut"))
    assert record["image"] == str(photos / "astronaut.png") and record["labels"] == ["face"]
    np.testing.assert_allclose(record["xyxy"], want.xyxy, atol=0.01)
    assert record["xyxy"] == [ASTRONAUT_FACE] and record["image_shape"] == [512, 512] and "saved" not in record


def test_conf_and_iou_reach_the_detector(photos, capsys, caplog):
    src = str(photos / "astronaut.png")
    with caplog.at_level(logging.INFO, logger="vision.cli"):
        assert main(["predict", "detect", src, "--model", "hog-people", "--conf", "0.7", "--iou", "0.2", "--json"]) == 0
    assert "min_score=0.7" in caplog.text and "iou=0.2" in caplog.text  # the detector that ran
    assert all(s >= 0.7 for s in _json(capsys)[0]["scores"])
    assert main(["predict", "detect", src, "--model", "haar-face", "--conf", "1", "--json"]) == 0
    assert _json(capsys)[0]["labels"] == []  # the face scores 0.9985 < 1
    assert main(["predict", "detect", src, "--model", "haar-face", "--weights", "haar-face-alt2", "--json"]) == 0
    assert _json(capsys)[0]["labels"] == ["face"]


def test_options_reach_the_detector(photos, capsys, caplog):
    """--option KEY=VALUE sets any field of the detector's config (YAML values), as `vision stream` does."""
    src = str(photos / "astronaut.png")
    with caplog.at_level(logging.INFO, logger="vision.cli"):
        assert main(["predict", "detect", src, "--model", "yolov8n", "--option", "imgsz=320", "--option",
                     "max_det=3", "--json"]) == 0
    assert "imgsz=320" in caplog.text  # the detector that ran
    assert len(_json(capsys)[0]["labels"]) <= 3
    assert main(["predict", "detect", src, "--model", "yolov8n", "--option", "imgsz"]) == 2
    assert "--option: expected KEY=VALUE (e.g. imgsz=640), got 'imgsz'" in capsys.readouterr().err
    assert main(["predict", "detect", src, "--model", "yolov8n", "--option", "imgsz=100"]) == 2
    assert "imgsz must be a multiple of 32" in capsys.readouterr().err


def test_predict_video_writes_annotated_video_and_frame_lines(photos, tmp_path, capsys):
    clip = tmp_path / "pan.avi"
    photo = load_sample("astronaut")
    with VideoSink(clip, fps=5.0) as sink:
        for k in range(5):
            sink.write(photo[k * 8:k * 8 + 300, k * 8:k * 8 + 300])
    save = tmp_path / "out"
    assert main(["predict", "detect", str(clip), "--model", "haar-face", "--save", str(save)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{clip}: 5 frames, ") and str(save / "pan.jsonl") in out
    rows = [json.loads(line) for line in (save / "pan.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in rows] == [0, 1, 2, 3, 4]
    with VideoSource(clip) as source:  # the same decoded frames through the library give the same boxes
        frames = [f.image for f in source]
    for row, frame in zip(rows, frames):
        np.testing.assert_allclose(np.asarray(row["xyxy"]).reshape(-1, 4), haar().predict(frame).xyxy, atol=0.01)
    assert sum(len(r["labels"]) for r in rows) >= 4  # the face stays in view
    with VideoSource(save / "pan.avi") as annotated:
        written = [f.image for f in annotated]
    assert len(written) == 5 and written[0].shape == (300, 300, 3)
    assert np.abs(written[0].astype(int) - frames[0]).mean() > 0.5  # boxes drawn on the frames
    assert sorted(p.name for p in save.iterdir()) == ["pan.avi", "pan.jsonl"]  # no temporary file left


def test_predict_bad_inputs(photos, tmp_path, capsys):
    src = str(photos / "astronaut.png")
    assert main(["predict", "detect", src, "--model", "no-such-detector"]) == 2
    assert "no-such-detector" in capsys.readouterr().err
    assert main(["predict", "detect", src, "--model", "fmnist-cnn"]) == 2
    assert "expected a detector" in capsys.readouterr().err
    assert main(["predict", "detect", str(tmp_path / "missing.png"), "--model", "haar-face"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["predict", "detect", str(tmp_path / "missing.mp4"), "--model", "haar-face"]) == 2
    assert "video file not found" in capsys.readouterr().err
    assert main(["predict", "detect", src, "--model", "hog-people", "--weights", "x.bin"]) == 2
    assert "weights" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", "detect", src, "--model", "haar-face", "--conf", "2"])
    with pytest.raises(SystemExit):
        main(["predict", "detect", src])  # --model is required
    # an unreadable file is reported, the others still run, exit 1
    mixed = tmp_path / "mixed"
    write_image(mixed / "a.png", load_sample("astronaut"))
    (mixed / "b.png").write_bytes(b"not a picture")
    save = tmp_path / "save"
    assert main(["predict", "detect", str(mixed), "--model", "haar-face", "--json", "--save", str(save)]) == 1
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert records[0]["labels"] == ["face"] and "ImageDecodeError" in records[1]["error"]
    assert "b.png" in captured.err and sorted(os.listdir(save)) == ["a.png"]
    # a broken video: reported, no half-written video or JSON lines left behind
    (mixed / "c.avi").write_bytes(b"not a video")
    save2 = tmp_path / "save2"
    assert main(["predict", "detect", str(mixed / "c.avi"), "--model", "haar-face", "--save", str(save2)]) == 1
    assert "c.avi" in capsys.readouterr().err
    assert not save2.exists() or os.listdir(save2) == []


# ------------------------------------------------------------------------------------------------ val detect
def test_val_detect_on_a_coco_dataset(face_coco, tmp_path, capsys):
    out = tmp_path / "val"
    assert main(["val", "detect", "--model", "haar-face", "--data", str(face_coco), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    # one of two faces found exactly, no false positive: AP50 = 0.5 (COCO's 101-point interpolation: 51/101)
    assert text.startswith(f"haar-face on {face_coco} (2 images, 2 objects) at conf 0.001")
    assert "mAP50 0.505" in text and "| face | 2 | 1 |" in text
    assert sorted(p.name for p in out.iterdir()) == ["pr_curves.png", "report.json"]
    report = json.loads((out / "report.json").read_text())
    assert report["map50"] == pytest.approx(51 / 101) and report["classes"]["face"]["recall"] == 0.5
    assert report["model"] == "haar-face" and report["conf"] == 0.001
    assert read_image(out / "pr_curves.png").shape[0] > 300
    assert main(["val", "detect", "--model", "haar-face", "--data", str(face_coco), "--json"]) == 0
    shown = _json(capsys)
    assert shown["map50"] == report["map50"] and shown["num_images"] == 2 and shown["files"] == []


def test_val_detect_errors_write_nothing(face_coco, tmp_path, capsys):
    out = tmp_path / "val"
    assert main(["val", "detect", "--data", str(face_coco)]) == 2
    assert "expected --model" in capsys.readouterr().err
    assert main(["val", "detect", "--model", "hog-people", "--data", str(face_coco), "--out", str(out)]) == 2
    assert "['person'] but the dataset" in capsys.readouterr().err
    assert main(["val", "detect", "--model", "haar-face", "--data", "scenes-test", "--n", "1", "--out", str(out)]) == 2
    assert "'circle'" in capsys.readouterr().err
    assert main(["val", "detect", "--model", "haar-face", "--data", str(tmp_path / "none")]) == 2
    assert main(["val", "detect", "--model", "haar-face", "--data", str(face_coco), "--n", "3"]) == 2
    assert "--n: only for the scenes" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_val_detect_shipped_scene_detectors(tmp_path, capsys):
    from vision.models.detection.compare import shipped_detectors

    scene = [m for m in shipped_detectors() if m not in ("haar-face", "hog-people", "mtcnn-face")]
    assert sorted(scene) == ["fast-rcnn", "faster-rcnn-lite0", "rcnn", "yolo11n", "yolov8n"]  # every shipped file
    name = "faster-rcnn-lite0"
    assert main(["val", "detect", "--model", name, "--data", "scenes-test", "--n", "2", "--json"]) == 0
    report = _json(capsys)
    assert report["model"] == name and report["num_images"] == 2 and 0.0 <= report["map50"] <= 1.0
    assert report["names"] == ["circle", "square", "triangle", "star", "hexagon"]


# ------------------------------------------------------------------------------------------------ compare
def test_compare_photos_sheet_and_table(photos, tmp_path, capsys):
    sheet = tmp_path / "cmp" / "sheet.png"
    assert main(["compare", str(photos), "--models", "haar-face,hog-people", "--out", str(sheet)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| model | images |") and lines[2].startswith("| haar-face | 2 | 0.50 |")
    assert lines[3].startswith("| hog-people | 2 |") and lines[-1] == f"sheet: {sheet}"
    image = read_image(sheet)
    assert image.shape[1] == 2 * 320 + 3 * 4 and image.shape[0] > 2 * 200  # 2 models × 2 photos, 320 px cells
    assert main(["compare", str(photos / "astronaut.png"), "--models", "haar-face", "--out", str(sheet),
                 "--json"]) == 0
    result = _json(capsys)
    assert result["rows"][0]["model"] == "haar-face" and result["rows"][0]["boxes_per_image"] == 1.0
    assert len(result["latencies_ms"]["haar-face"]) == 1 and result["path"] == str(sheet)


def test_compare_on_held_out_scenes_notes_foreign_classes(tmp_path, capsys):
    sheet = tmp_path / "scenes.png"
    assert main(["compare", "--data", "scenes-test", "--n", "2", "--models", "haar-face", "--out", str(sheet)]) == 0
    out = capsys.readouterr().out
    assert "| haar-face | 2 |" in out and "differ from the targets'" in out and "conf 0.001" in out
    assert read_image(sheet).shape[1] == 2 * 320 + 3 * 4  # ground truth + haar-face


def test_compare_bad_inputs_write_nothing(photos, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    cases = [
        ([str(photos), "--models", "haar-face,nope"], "nope"),
        ([str(photos), "--models", "haar-face,haar-face"], "twice"),
        ([str(photos), "--models", ","], "comma list"),
        ([str(photos), "--data", "scenes-test", "--models", "haar-face"], "not both"),
        (["--models", "haar-face"], "expected IMAGE"),
        ([str(photos), "--models", "haar-face", "--n", "3"], "--n"),
        ([str(photos), "--models", "haar-face", "--sheet-images", "0"], "sheet_images"),
        ([str(tmp_path / "nowhere.png"), "--models", "haar-face"], "not found"),
    ]
    for argv, message in cases:
        assert main(["compare", *argv, "--out", str(sheet)]) == 2, argv
        assert message in capsys.readouterr().err, argv
    assert main(["compare", str(photos), "--models", "haar-face", "--out", str(tmp_path / "sheet.jpg")]) == 2
    assert ".png" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------------------------ train detect
def test_train_detect_refuses_bad_requests_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "detect", "--model", "ssd", "--data", "scenes", "--out", str(out)]) == 2
    assert "expected one of yolo" in capsys.readouterr().err
    assert main(["train", "detect", "--model", "yolo", "--data", "scenes-test", "--out", str(out)]) == 2
    assert "held-out" in capsys.readouterr().err
    assert main(["train", "detect", "--model", "yolo", "--data", "scenes", "--val", "scenes-test",
                 "--out", str(out)]) == 2
    assert "held-out" in capsys.readouterr().err
    assert main(["train", "detect", "--model", "yolo", "--data", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert not out.exists()
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["train", "detect", "--model", "yolo", "--data", "scenes", "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err and os.listdir(out) == ["keep.txt"]


def test_train_detect_rejects_options_a_family_does_not_take(tmp_path, capsys):
    assert main(["train", "detect", "--model", "rcnn", "--data", "scenes", "--imgsz", "320", "--n", "2",
                 "--out", str(tmp_path / "r")]) == 2
    assert "--imgsz do not apply" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_train_detect_yolo_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "detect", "--model", "yolo", "--data", "scenes", "--n", "4", "--epochs", "1",
                 "--imgsz", "64", "--batch-size", "4", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    weights = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("weights: "))
    assert os.path.isfile(weights) and str(out) in weights
    assert main(["val", "detect", "--model", "yolov8n", "--weights", weights, "--data", "scenes-test", "--n", "1",
                 "--json"]) == 0
    assert _json(capsys)["num_images"] == 1
