"""Dataset statistics: counts, sizes, boxes, duplicates, unreadable files, the Markdown report and the plots."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.data.formats import from_arrays, read_coco
from vision.data.stats import dataset_stats, scan_image_file
from vision.errors import DatasetError, InputError, SourceNotFoundError


def _photo(path: Path, w: int, h: int, *, shift: int = 0) -> None:
    import skimage.data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[shift:shift + h, :w]).save(path)


@pytest.fixture
def coco_set(tmp_path: Path) -> Path:
    """4 images (one a byte copy of another, one truncated), 2 classes, one image without objects, one bad box."""
    root = tmp_path / "coco"
    _photo(root / "a.png", 100, 50)
    _photo(root / "b.png", 200, 100, shift=3)
    shutil.copy(root / "a.png", root / "a_copy.png")
    _photo(root / "t.png", 64, 64)
    data = (root / "t.png").read_bytes()
    (root / "t.png").write_bytes(data[: len(data) // 2])  # header intact, pixels cut off
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 50},
                   {"id": 2, "file_name": "b.png", "width": 200, "height": 100},
                   {"id": 3, "file_name": "a_copy.png", "width": 100, "height": 50},
                   {"id": 4, "file_name": "t.png", "width": 64, "height": 64},
                   {"id": 5, "file_name": "gone.png", "width": 10, "height": 10}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 25]},  # quarter of the image
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [10, 10, 10, 10]},
            {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 200, 100]},
            {"id": 4, "image_id": 2, "category_id": 1, "bbox": [150, 50, 80, 20]},  # sticks out: clipped
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 3, "name": "bird"}],
    }
    path = root / "ann.json"
    path.write_text(json.dumps(doc))
    return path


def test_detection_stats(coco_set):
    s = dataset_stats(coco_set)
    d = s.to_dict()
    assert s.kind == "detection" and s.num_images == 4 and s.num_objects == 4
    assert [(c["name"], c["images"], c["objects"]) for c in d["classes"]] == [
        ("cat", 2, 3), ("dog", 1, 1), ("bird", 0, 0)]
    assert d["imbalance_ratio"] is None  # an empty class: infinite imbalance is not a number
    assert d["image_size"]["width"] == {"min": 100.0, "median": 100.0, "mean": pytest.approx(400 / 3), "max": 200.0}
    assert s.modes == {"RGB": 3}
    assert d["boxes_per_image"]["max"] == 2 and d["boxes_per_image"]["min"] == 0
    assert sorted(d["unannotated"]) == ["a_copy.png", "t.png"]
    assert d["duplicates"] == [["a.png", "a_copy.png"]]
    corrupt = {c["file"]: c["reason"] for c in d["corrupt"]}
    assert corrupt.keys() == {"t.png", "gone.png"}
    assert corrupt["t.png"].startswith("truncated") and corrupt["gone.png"] == "missing file"
    kinds = sorted(p["kind"] for p in d["problems"])
    assert kinds == ["missing_image", "out_of_image"]
    # areas: 50×25 and 10×10 in 100×50; 200×100 and (clipped) 50×20 in 200×100
    np.testing.assert_allclose(sorted(s.box_rel_size), np.sqrt([100 / 5000, 1000 / 20000, 0.25, 1.0]))
    assert (d["box_size"]["small"], d["box_size"]["medium"], d["box_size"]["large"]) == (2, 1, 1)
    json.dumps(d)


def test_markdown_report_and_plots(coco_set, tmp_path):
    plots = tmp_path / "report" / "plots"
    s = dataset_stats(coco_set, plots_dir=plots)
    assert set(s.plots) == {"class_counts", "image_sizes", "box_sizes", "boxes_per_image"}
    for p in s.plots.values():
        with Image.open(p) as im:
            assert im.format == "PNG" and im.size[0] >= 400
    md_path = s.write_markdown(tmp_path / "report" / "eda.md")
    md = md_path.read_text()
    assert md.startswith("# Dataset report")
    assert "| cat | 2 | 3 | 75.0% |" in md
    assert "`a.png` = `a_copy.png`" in md
    assert "| `t.png` | truncated" in md
    assert "Classes with no objects: bird" in md
    assert "![Class counts](plots/class_counts.png)" in md
    assert "lies outside the 200×100 image" in md


def test_stats_of_a_yolo_folder_and_dataset_object(coco_set, tmp_path):
    from vision.data.formats import convert_dataset

    ds = read_coco(coco_set, strict=False)
    ds.images = [r for r in ds.images if r.file_name != "t.png"]
    y = convert_dataset(ds, tmp_path / "y", to="yolo")
    s = dataset_stats(y.parent)
    assert (s.num_images, s.num_objects) == (3, 4)
    assert s.duplicates == [["images/train/a.png", "images/train/a_copy.png"]]
    assert dataset_stats(ds).num_images == 3


def test_classification_folder_stats(tmp_path):
    root = tmp_path / "folder"
    _photo(root / "cat" / "1.jpg", 32, 24)
    _photo(root / "cat" / "2.jpg", 32, 24, shift=5)
    _photo(root / "dog" / "1.png", 20, 40)
    shutil.copy(root / "cat" / "1.jpg", root / "dog" / "dup.jpg")
    (root / "dog" / "empty.png").write_bytes(b"")
    (root / "dog" / "text.jpg").write_text("definitely not a jpeg")
    Image.new("L", (8, 8)).save(root / "dog" / "gray.png")
    s = dataset_stats(root, plots_dir=tmp_path / "plots")
    d = s.to_dict()
    assert s.kind == "classification" and s.num_images == 7
    assert [(c["name"], c["images"]) for c in d["classes"]] == [("cat", 2), ("dog", 5)]
    assert d["duplicates"] == [["cat/1.jpg", "dog/dup.jpg"]]
    reasons = {c["file"]: c["reason"] for c in d["corrupt"]}
    assert reasons == {"dog/empty.png": "empty file (0 bytes)",
                       "dog/text.jpg": "not an image (Pillow cannot identify the format)"}
    assert s.modes == {"RGB": 4, "L": 1}
    assert set(s.plots) == {"class_counts", "image_sizes"}
    md = s.to_markdown()
    assert "| 1 | dog | 5 | 71.4% |" in md and "empty file (0 bytes)" in md


def test_array_table_stats():
    imgs = np.zeros((4, 6, 5, 3), np.uint8)
    imgs[1] = 7
    s = dataset_stats(from_arrays(imgs, [0, 1, 1, 0], names=["a", "b"]))
    assert s.duplicates == [["#0", "#2", "#3"]]
    assert s.to_dict()["image_size"]["width"]["max"] == 5.0


def test_csv_stats(tmp_path):
    _photo(tmp_path / "x.png", 10, 10)
    (tmp_path / "l.csv").write_text("filename,label\nx.png,one\n")
    s = dataset_stats(tmp_path / "l.csv")
    assert s.class_images == {"one": 1} and s.corrupt == []


def test_scan_image_file(tmp_path):
    assert scan_image_file(tmp_path / "nope.png")[3] == "missing file"
    _photo(tmp_path / "ok.png", 12, 7)
    digest, size, mode, problem = scan_image_file(tmp_path / "ok.png")
    assert len(digest) == 40 and size == (12, 7) and mode == "RGB" and problem is None


def test_bad_inputs(tmp_path, coco_set):
    with pytest.raises(SourceNotFoundError):
        dataset_stats(tmp_path / "nothing")
    with pytest.raises(InputError, match="format"):
        dataset_stats(coco_set, format="parquet")
    with pytest.raises(InputError, match="path_or_dataset"):
        dataset_stats(42)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no sub-folders"):
        dataset_stats(tmp_path / "empty")
    coco_set.write_text("{not json")
    with pytest.raises(DatasetError, match="malformed JSON at line 1"):
        dataset_stats(coco_set)
