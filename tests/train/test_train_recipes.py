"""`vision train classify`'s recipe and `vision val`'s evaluation, offline in seconds: digits, folders, CSV files."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.cli.main import main
from vision.errors import AnnotationError, DatasetError, InputError, SourceNotFoundError, UnknownModelError
from vision.models.classification import classifier_info, load_classifier
from vision.train.recipes import evaluate_classifier, train_classifier

BUNDLE_FILES = ["model.json", "weights.safetensors"]


def _save(path: Path, gray: np.ndarray, kind: int) -> None:
    """One lfw patch as gray PNG, RGBA PNG or RGB JPEG (kind 0, 1, 2): formats mixed on purpose."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == 0:
        Image.fromarray(gray).save(path.with_suffix(".png"))
    elif kind == 1:
        Image.fromarray(np.dstack([gray, gray, gray, np.full_like(gray, 255)])).save(path.with_suffix(".png"))
    else:
        Image.fromarray(np.dstack([gray] * 3)).save(path.with_suffix(".jpg"), quality=95)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """lfw_subset as image folders: ``flat/<class>/`` (all 200) and ``split/train|val|test/<class>/``."""
    from vision.data import lfw_subset

    x, y = lfw_subset()
    root = tmp_path_factory.mktemp("faces")
    order = np.random.default_rng(0).permutation(len(x))
    for rank, i in enumerate(order):
        name = "face" if y[i] else "other"
        _save(root / "flat" / name / f"{i:03d}", x[i], rank % 3)
        split = "train" if rank < 120 else ("val" if rank < 150 else "test")
        _save(root / "split" / split / name / f"{i:03d}", x[i], rank % 3)
    return root


def test_train_classifier_on_digits_writes_its_files_and_bundle(tmp_path):
    run = train_classifier(data="digits", epochs=3, subset=800, out_dir=tmp_path / "run", lr=1e-2)
    assert [p.name for p in run.files] == ["best.pt", "history.csv", "curves.png", "confusion_matrix.png",
                                           "metrics.json", *BUNDLE_FILES]
    assert all(p.is_file() and p.stat().st_size > 0 for p in run.files)
    assert len(run.history["loss"]) == 3 and run.history["loss"][-1] < run.history["loss"][0]
    assert run.test["accuracy"] > 0.3  # 10 classes: chance is 0.1
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["test"]["accuracy"] == pytest.approx(run.test["accuracy"])
    assert run.bundle == tmp_path / "run" and run.classes == [str(i) for i in range(10)]
    report = evaluate_classifier(run.bundle, "digits")  # the same 20 % test split, through the bundle
    assert report["images"] == run.test["images"]
    assert report["accuracy"] == pytest.approx(run.test["accuracy"])  # 28 px gray: the same pixels either way
    assert classifier_info(run.bundle)["preprocessing"]["colour"] == "gray"


def test_train_on_a_split_folder_of_mixed_gray_rgba_rgb_images(tmp_path, faces):
    run = train_classifier(data=faces / "split", model="fmnist-cnn", epochs=2, batch_size=16, out_dir=tmp_path / "r")
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["images"] == {"train": 120, "val": 30, "test": 50}  # train/ val/ test/ folders as they are
    assert run.classes == ["face", "other"] and run.test["images"] == 50
    report = evaluate_classifier(run.bundle, faces / "split", out_dir=tmp_path / "val")
    assert report["split"] == "val" and report["images"] == 30
    assert [c["class"] for c in report["per_class"]] == ["face", "other"]
    assert sum(c["support"] for c in report["per_class"]) == 30
    assert np.asarray(report["confusion_matrix"]).sum() == 30
    assert report["files"] == [str(tmp_path / "val" / "confusion_matrix.png"), str(tmp_path / "val" / "report.json")]
    assert json.loads((tmp_path / "val" / "report.json").read_text())["accuracy"] == report["accuracy"]


def test_transfer_from_imagenet_with_a_frozen_base(tmp_path, faces):
    run = train_classifier(data=faces / "flat", model="efficientnet-lite0", pretrained=True, freeze=7, epochs=2,
                           image_size=32, batch_size=32, lr=3e-3, subset=80, out_dir=tmp_path / "t")
    transfer = json.loads((tmp_path / "t" / "metrics.json").read_text())["transfer"]
    assert transfer["head_epochs"] == 1 and transfer["fine_tune_epochs"] == 1
    assert transfer["fine_tuned"] == ["blocks.6", "conv_head+bn2"]  # 9 blocks, the first 7 kept frozen
    clf = load_classifier(run.bundle)
    assert clf.preprocessing.input_size == (32, 32) and clf.preprocessing.colour == "rgb"
    assert clf.preprocessing.mean == pytest.approx((127 / 255,) * 3)  # the weights' own normalisation
    assert run.test["images"] == 40  # default test split: 20 % of the 200 flat images


def test_train_from_a_csv_file(tmp_path, faces):
    rows = ["path,kind"]
    for p in sorted((faces / "flat").rglob("*.*"))[::4]:
        rows.append(f"{p.relative_to(faces).as_posix()},{p.parent.name}")
    csv = faces / "labels.csv"
    csv.write_text("\n".join(rows) + "\n")
    run = train_classifier(data=csv, image_col="path", label_col="kind", epochs=1, batch_size=16,
                           out_dir=tmp_path / "c")
    assert run.classes == ["face", "other"] and run.test["images"] == 10
    report = evaluate_classifier(run.bundle, csv, image_col="path", label_col="kind")
    assert report["split"] == "all" and report["images"] == 50


# -- bad input: typed errors, nothing written ------------------------------------------------------------------------
def test_bad_data_is_refused_before_anything_is_written(tmp_path, faces):
    out = tmp_path / "never"
    with pytest.raises(SourceNotFoundError, match="neither one of"):
        train_classifier(data=tmp_path / "nowhere", out_dir=out)
    empty = tmp_path / "empty"
    (empty / "cats").mkdir(parents=True)
    (empty / "dogs").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(empty / "dogs" / "a.png")
    with pytest.raises(DatasetError, match="class folder 'cats' holds no image files"):
        train_classifier(data=empty, out_dir=out)
    (tmp_path / "none").mkdir()
    with pytest.raises(DatasetError, match="found no sub-folders"):
        train_classifier(data=tmp_path / "none", out_dir=out)
    layout = tmp_path / "layout"
    for split, cls in (("train", "face"), ("train", "other"), ("val", "face"), ("val", "cat")):
        _save(layout / split / cls / "x", np.full((25, 25), 9, np.uint8), 0)
    with pytest.raises(DatasetError, match=r"unknown class folder\(s\) or label\(s\) \['cat'\]"):
        train_classifier(data=layout, out_dir=out)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("filename,label\nmissing.png,face\n")
    with pytest.raises(DatasetError, match=r"row 0 \(line 2\): image 'missing.png' not found"):
        train_classifier(data=bad_csv, out_dir=out)
    assert not out.exists()


def test_bad_model_options_are_refused(tmp_path, faces):
    out = tmp_path / "never"
    with pytest.raises(InputError, match="expected a classify model"):
        train_classifier(data="digits", model="haar-face", out_dir=out)
    with pytest.raises(UnknownModelError, match="or a backbone architecture"):
        train_classifier(data="digits", model="resnet-huge", out_dir=out)
    with pytest.raises(InputError, match="'fmnist-cnn' has no pretrained weights"):
        train_classifier(data="digits", pretrained=True, out_dir=out)
    with pytest.raises(InputError, match=r"freeze: expected None \(train everything\) or 0…3"):
        train_classifier(data="digits", freeze=4, out_dir=out)
    with pytest.raises(InputError, match="subset: expected at least 20"):
        train_classifier(data="digits", subset=5, out_dir=out)
    with pytest.raises(InputError, match="val_fraction: expected a fraction"):
        train_classifier(data="digits", val_fraction=0.7, out_dir=out)
    with pytest.raises(InputError, match="channels: expected 1"):
        train_classifier(data="digits", channels=2, out_dir=out)
    assert not out.exists()


def test_evaluate_refuses_classes_the_model_does_not_know(tmp_path, faces):
    run = train_classifier(data="digits", epochs=1, subset=100, out_dir=tmp_path / "d")
    with pytest.raises(DatasetError, match=r"unknown class folder\(s\) or label\(s\) \['face', 'other'\]"):
        evaluate_classifier(run.bundle, faces / "flat")
    csv = tmp_path / "t.csv"
    csv.write_text(f"filename,label\n{next((faces / 'flat' / 'face').iterdir())},seven\n")
    with pytest.raises(AnnotationError, match="unknown label 'seven'"):
        evaluate_classifier(run.bundle, csv)
    with pytest.raises(SourceNotFoundError, match="classifier bundle file not found"):
        evaluate_classifier(tmp_path / "nowhere", "digits")


def test_cli_train_classify_digits(tmp_path, capsys):
    assert main(["train", "classify", "--data", "digits", "--epochs", "1", "--subset", "200",
                 "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "classifier bundle" in out
