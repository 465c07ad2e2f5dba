"""Classification tables: image folders, CSV / DataFrame labels, arrays, writers and every bad-input case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vision.data.formats import (
    ClassificationTable,
    from_arrays,
    read_csv_labels,
    read_image_folder,
    write_csv_labels,
    write_image_folder,
)
from vision.errors import AnnotationError, DatasetError, DTypeError, InputError, ShapeError, SourceNotFoundError


def _photo(path: Path, w: int = 16, h: int = 12, *, shift: int = 0) -> None:
    import skimage.data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[shift:shift + h, :w]).save(path)


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "folder"
    _photo(root / "dog" / "d1.jpg")
    _photo(root / "dog" / "sub" / "d2.png", shift=1)
    _photo(root / "cat" / "c1.png", shift=2)
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    _photo(root / "loose.jpg")
    return root


def test_read_image_folder(tmp_path):
    t = read_image_folder(_folder(tmp_path))
    assert t.classes == ["cat", "dog"]
    assert [p.name for p in t.paths] == ["c1.png", "d1.jpg", "d2.png"]  # recursive, sorted, .txt ignored
    assert t.labels.tolist() == [0, 1, 1]
    assert all(p.is_absolute() for p in t.paths)
    assert t.class_counts() == {"cat": 1, "dog": 2}


def test_image_folder_errors(tmp_path):
    with pytest.raises(SourceNotFoundError):
        read_image_folder(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no sub-folders"):
        read_image_folder(tmp_path / "empty")
    root = _folder(tmp_path)
    (root / "zebra").mkdir()
    with pytest.raises(DatasetError, match="class folder 'zebra' holds no image"):
        read_image_folder(root)
    t = read_image_folder(root, allow_empty=True)
    assert t.class_counts()["zebra"] == 0


def test_csv_labels_with_names_and_ids(tmp_path):
    root = _folder(tmp_path)
    csv = root / "labels.csv"
    csv.write_text("filename,label\ndog/d1.jpg,dog\ncat/c1.png,cat\ndog/sub/d2.png,dog\n")
    t = read_csv_labels(csv)
    assert t.classes == ["cat", "dog"] and t.labels.tolist() == [1, 0, 1]
    t = read_csv_labels(csv, classes=["dog", "cat", "bird"])
    assert t.labels.tolist() == [0, 1, 0] and t.class_counts()["bird"] == 0
    csv.write_text("img,y\ndog/d1.jpg,2\ncat/c1.png,0\n")
    t = read_csv_labels(csv, image_col="img", label_col="y")
    assert t.classes == ["0", "1", "2"] and t.labels.tolist() == [2, 0]


def test_dataframe_labels(tmp_path):
    root = _folder(tmp_path)
    df = pd.DataFrame({"filename": ["dog/d1.jpg", str(root / "cat" / "c1.png")], "label": ["dog", "cat"]})
    t = read_csv_labels(df, images_dir=root)
    assert t.labels.tolist() == [1, 0] and all(p.is_file() for p in t.paths)


@pytest.mark.parametrize("body, error, match", [
    ("filename,label\ndog/d1.jpg,dog\ndog/none.jpg,dog\n", DatasetError, r"row 1 \(line 3\): image 'dog/none\.jpg' not found"),
    ("filename,label\ndog/d1.jpg,\n", AnnotationError, r"row 0 \(line 2\): empty label"),
    ("filename,label\n,dog\n", AnnotationError, r"row 0 \(line 2\): empty file name"),
    ("file,label\ndog/d1.jpg,dog\n", DatasetError, r"missing column\(s\) \['filename'\]"),
    ("filename,label\n", DatasetError, "expected at least one row"),
    ("", DatasetError, "empty file"),
    ("filename,label\ndog/d1.jpg,dog\ncat/c1.png,cat,extra\n", DatasetError, "malformed CSV.*line 3"),
    ("filename,label\ndog/d1.jpg,-1\n", AnnotationError, r"row 0 \(line 2\): label -1 is not a class id"),
])
def test_csv_errors_name_the_row(tmp_path, body, error, match):
    root = _folder(tmp_path)
    (root / "labels.csv").write_text(body)
    with pytest.raises(error, match=match):
        read_csv_labels(root / "labels.csv")


def test_csv_unknown_label_with_classes(tmp_path):
    root = _folder(tmp_path)
    (root / "labels.csv").write_text("filename,label\ndog/d1.jpg,dog\ncat/c1.png,cat\n")
    with pytest.raises(AnnotationError, match=r"row 1 \(line 3\): unknown label 'cat'; expected one of \['dog'\]"):
        read_csv_labels(root / "labels.csv", classes=["dog"])
    with pytest.raises(SourceNotFoundError):
        read_csv_labels(root / "nope.csv")


def test_from_arrays():
    imgs = np.zeros((4, 8, 6, 3), np.uint8)
    t = from_arrays(imgs, [0, 2, 2, 1], names=["a", "b", "c"])
    assert t.class_counts() == {"a": 1, "b": 1, "c": 2} and t.paths is None
    t = from_arrays(np.zeros((2, 5, 5), np.float32), np.array(["y", "x"]))
    assert t.classes == ["x", "y"] and t.labels.tolist() == [1, 0]
    assert from_arrays(imgs, np.array([0.0, 1.0, 1.0, 0.0])).classes == ["0", "1"]
    sub = t.subset([1])
    assert sub.labels.tolist() == [0] and sub.images.shape == (1, 5, 5)


@pytest.mark.parametrize("images, labels, kwargs, error, match", [
    (np.zeros((2, 4)), [0, 1], {}, ShapeError, "N×H×W"),
    (np.zeros((2, 4, 4, 2), np.uint8), [0, 1], {}, ShapeError, "C = 1, 3, 4"),
    (np.zeros((0, 4, 4), np.uint8), [], {}, ShapeError, "at least one"),
    (np.zeros((2, 4, 4), np.int16), [0, 1], {}, DTypeError, "int16"),
    (np.full((2, 4, 4), 2.0), [0, 1], {}, InputError, r"\[0, 1\]"),
    (np.full((2, 4, 4), np.nan), [0, 1], {}, InputError, "NaN"),
    (np.zeros((2, 4, 4), np.uint8), [0, 1, 1], {}, ShapeError, "expected 2 labels"),
    (np.zeros((2, 4, 4), np.uint8), [0.5, 1], {}, DTypeError, "integer"),
    (np.zeros((2, 4, 4), np.uint8), [0, -1], {}, InputError, "≥ 0"),
    (np.zeros((2, 4, 4), np.uint8), [0, 3], {"names": ["a", "b"]}, InputError, "class id 3 has no name"),
    (np.zeros((2, 4, 4), np.uint8), ["a", "z"], {"names": ["a", "b"]}, InputError, "unknown class name 'z'"),
])
def test_from_arrays_errors(images, labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        from_arrays(images, labels, **kwargs)


def test_table_validation():
    with pytest.raises(InputError, match="exactly one of"):
        ClassificationTable(["a"], np.zeros(0, np.int64))
    with pytest.raises(InputError, match="entry 1 is 5"):
        ClassificationTable(["a"], np.array([0, 5]), paths=["x", "y"])
    with pytest.raises(InputError, match="unique"):
        ClassificationTable(["a", "a"], np.array([0]), paths=["x"])


def test_image_folder_round_trip(tmp_path):
    t = read_image_folder(_folder(tmp_path))
    out = write_image_folder(t, tmp_path / "copy")
    back = read_image_folder(out)
    assert back.classes == t.classes and back.labels.tolist() == t.labels.tolist()
    assert [p.read_bytes() for p in back.paths] == [p.read_bytes() for p in t.paths]
    with pytest.raises(DatasetError, match="already holds files"):
        write_image_folder(t, out)


def test_arrays_to_folder_and_csv(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)
    t = from_arrays(imgs, [1, 0, 1, 2, 1], names=["b", "a", "c"])
    back = read_image_folder(write_image_folder(t, tmp_path / "f"))
    assert back.classes == ["a", "b", "c"]  # folders come back sorted
    assert [back.classes[k] for k in back.labels] == sorted(t.classes[k] for k in t.labels)
    got = {p.name: np.asarray(Image.open(p)) for p in back.paths}
    np.testing.assert_array_equal(got["000003.png"], imgs[3])

    csv = write_csv_labels(t, tmp_path / "c" / "labels.csv")
    again = read_csv_labels(csv, classes=t.classes)
    assert again.labels.tolist() == t.labels.tolist()
    np.testing.assert_array_equal(np.asarray(Image.open(again.paths[4])), imgs[4])
    with pytest.raises(DatasetError, match="already exists"):
        write_csv_labels(t, csv)

    gray = from_arrays(np.linspace(0, 1, 2 * 4 * 4).reshape(2, 4, 4), [0, 1])
    f = write_image_folder(gray, tmp_path / "g")
    assert np.asarray(Image.open(f / "1" / "000001.png")).max() == 255


def test_file_table_to_csv_uses_relative_paths(tmp_path):
    t = read_image_folder(_folder(tmp_path))
    csv = write_csv_labels(t, tmp_path / "folder" / "labels.csv")
    assert csv.read_text().splitlines()[1] == "cat/c1.png,cat"
    assert read_csv_labels(csv).labels.tolist() == t.labels.tolist()


def test_writers_reject_bad_class_names_and_missing_files(tmp_path):
    t = from_arrays(np.zeros((1, 2, 2), np.uint8), [0], names=["a/b"])
    with pytest.raises(InputError, match="cannot be a folder name"):
        write_image_folder(t, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    t = ClassificationTable(["a"], np.array([0]), paths=[tmp_path / "gone.png"])
    with pytest.raises(DatasetError, match="row 0: image not found"):
        write_image_folder(t, tmp_path / "y")
    with pytest.raises(DatasetError, match="row 0: image not found"):
        write_csv_labels(t, tmp_path / "y.csv")
    assert not (tmp_path / "y").exists() and not (tmp_path / "y.csv").exists()


def test_overwrite_never_deletes_the_images_being_written(tmp_path):
    root = _folder(tmp_path)
    t = read_image_folder(root)
    with pytest.raises(DatasetError, match="cannot overwrite"):
        write_image_folder(t, root, overwrite=True)
    assert all(p.is_file() for p in t.paths)
