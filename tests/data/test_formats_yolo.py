"""YOLO reader / writer: ultralytics and flat layouts, splits, and every bad-input case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from vision.data.formats import dataset_problems, read_yolo, write_yolo
from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import AnnotationError, DatasetError, InputError, SourceNotFoundError


def _photo(path: Path, w: int, h: int) -> None:
    import skimage.data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[:h, :w]).save(path)


def _ultra(tmp_path: Path, *, names=("cat", "dog"), label_a="0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.1 0.2\n") -> Path:
    root = tmp_path / "ds"
    _photo(root / "images" / "train" / "a.jpg", 200, 100)
    _photo(root / "images" / "train" / "b.png", 50, 40)  # no label file: background image
    _photo(root / "images" / "val" / "c.jpg", 80, 80)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text(label_a)
    (root / "labels" / "val" / "c.txt").write_text("1 0.5 0.5 1 1\n")
    (root / "data.yaml").write_text(yaml.safe_dump({"path": str(root), "train": "images/train", "val": "images/val",
                                                    "names": list(names) if isinstance(names, tuple) else names}))
    return root


def test_read_ultralytics_layout(tmp_path):
    root = _ultra(tmp_path)
    ds = read_yolo(root)
    assert ds.classes == ["cat", "dog"] and Path(ds.root) == root
    assert [(r.file_name, r.meta["split"]) for r in ds.images] == [
        ("images/train/a.jpg", "train"), ("images/train/b.png", "train"), ("images/val/c.jpg", "val")]
    a = ds.images[0]
    assert (a.width, a.height) == (200, 100)
    np.testing.assert_allclose(a.objects[0].bbox, (50, 25, 150, 75))
    np.testing.assert_allclose(a.objects[1].bbox, (40, 15, 60, 35))
    assert [o.category_id for o in a.objects] == [0, 1]
    assert ds.images[1].objects == []
    assert [r.file_name for r in read_yolo(root / "data.yaml", split="val").images] == ["images/val/c.jpg"]


def test_names_as_dict_and_relative_or_missing_path(tmp_path):
    root = _ultra(tmp_path, names={0: "cat", 1: "dog"})
    doc = yaml.safe_load((root / "data.yaml").read_text())
    doc["path"] = "."
    (root / "data.yaml").write_text(yaml.safe_dump(doc))
    assert read_yolo(root).classes == ["cat", "dog"]
    del doc["path"]
    (root / "data.yaml").write_text(yaml.safe_dump(doc))
    assert len(read_yolo(root)) == 3


def test_split_list_file(tmp_path):
    root = _ultra(tmp_path)
    (root / "train.txt").write_text("./images/train/a.jpg\n./images/val/c.jpg\n")
    (root / "data.yaml").write_text(yaml.safe_dump({"train": "train.txt", "val": "images/val", "names": ["c", "d"]}))
    ds = read_yolo(root, split="train")
    assert [r.file_name for r in ds.images] == ["images/train/a.jpg", "images/val/c.jpg"]


def test_flat_layout(tmp_path):
    root = tmp_path / "flat"
    _photo(root / "images" / "x.jpg", 100, 50)
    (root / "labels").mkdir()
    (root / "labels" / "x.txt").write_text("2 0.5 0.5 0.2 0.4\n")
    (root / "classes.txt").write_text("a\nb\nc\n")
    ds = read_yolo(root)
    assert ds.classes == ["a", "b", "c"]
    np.testing.assert_allclose(ds.images[0].objects[0].bbox, (40, 15, 60, 35))


def test_polygon_lines_keep_the_polygon(tmp_path):
    root = _ultra(tmp_path, label_a="0 0.1 0.2 0.5 0.2 0.3 0.8\n")
    obj = read_yolo(root, split="train").images[0].objects[0]
    np.testing.assert_allclose(obj.bbox, (20, 20, 100, 80))
    np.testing.assert_allclose(obj.attributes["segmentation"], [[20, 20, 100, 20, 60, 80]])


def _dataset(tmp_path: Path) -> DetectionDataset:
    root = tmp_path / "mem"
    _photo(root / "one" / "p.jpg", 123, 77)
    _photo(root / "two" / "p.png", 64, 64)  # same stem in another folder: must not clash
    _photo(root / "q.jpg", 30, 20)
    recs = [ImageRecord("one/p.jpg", 123, 77, [ObjectAnnotation((1.234, 2.5, 100.001, 76.999), 1)]),
            ImageRecord("two/p.png", 64, 64, [ObjectAnnotation((0, 0, 64, 64), 0), ObjectAnnotation((3, 4, 5, 6), 1)]),
            ImageRecord("q.jpg", 30, 20, [])]
    return DetectionDataset(root, ["cat", "dog"], recs)


def test_write_then_read_is_exact(tmp_path):
    ds = _dataset(tmp_path)
    y = write_yolo(ds, tmp_path / "out")
    doc = yaml.safe_load(y.read_text())
    assert doc["names"] == ["cat", "dog"] and doc["train"] == "images/train" and doc["val"] == "images/train"
    assert "path" not in doc
    assert (tmp_path / "out" / "labels" / "train" / "q.txt").read_text() == ""
    back = read_yolo(tmp_path / "out", split="train")
    assert sorted(r.file_name for r in back.images) == [
        "images/train/one__p.jpg", "images/train/q.jpg", "images/train/two__p.png"]
    by_name = {Path(r.file_name).name: r for r in back.images}
    for rec, name in zip(ds.images, ["one__p.jpg", "two__p.png", "q.jpg"]):
        got = by_name[name]
        assert (got.width, got.height) == (rec.width, rec.height)
        assert [o.category_id for o in got.objects] == [o.category_id for o in rec.objects]
        for o1, o2 in zip(rec.objects, got.objects):
            np.testing.assert_allclose(o1.bbox, o2.bbox, atol=1e-3)


def test_writing_a_second_split_adds_it(tmp_path):
    ds = _dataset(tmp_path)
    write_yolo(ds, tmp_path / "out", split="train")
    y = write_yolo(DetectionDataset(ds.root, ds.classes, ds.images[:1]), tmp_path / "out", split="val")
    doc = yaml.safe_load(y.read_text())
    assert (doc["train"], doc["val"]) == ("images/train", "images/val")
    assert len(read_yolo(tmp_path / "out")) == 4
    with pytest.raises(DatasetError, match="already holds files"):
        write_yolo(ds, tmp_path / "out", split="val")
    other = DetectionDataset(ds.root, ["x", "y"], ds.images)
    with pytest.raises(DatasetError, match="has names"):
        write_yolo(other, tmp_path / "out", split="test")


def test_split_none_uses_record_meta(tmp_path):
    ds = _dataset(tmp_path)
    ds.images[2].meta["split"] = "val"
    write_yolo(ds, tmp_path / "out", split=None)
    back = read_yolo(tmp_path / "out")
    assert sorted((Path(r.file_name).name, r.meta["split"]) for r in back.images) == [
        ("one__p.jpg", "train"), ("q.jpg", "val"), ("two__p.png", "train")]


def test_writer_refuses_invalid_dataset_and_writes_nothing(tmp_path):
    ds = _dataset(tmp_path)
    ds.images[1].objects[1].category_id = 5
    with pytest.raises(AnnotationError, match="unknown class 5"):
        write_yolo(ds, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    ds.images[1].objects[1].category_id = 1
    (ds.root / "q.jpg").unlink()
    with pytest.raises(DatasetError, match=r"image 'q\.jpg' not found"):
        write_yolo(ds, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ bad input
def test_not_a_yolo_dataset(tmp_path):
    with pytest.raises(SourceNotFoundError):
        read_yolo(tmp_path / "nothing")
    (tmp_path / "images").mkdir()
    with pytest.raises(DatasetError, match=r"looked for data\.yaml.*images/ \+ labels/ \+ classes\.txt"):
        read_yolo(tmp_path)


def test_unknown_split_and_missing_split_folder(tmp_path):
    root = _ultra(tmp_path)
    with pytest.raises(DatasetError, match=r"split 'test' not listed; expected one of \['train', 'val'\]"):
        read_yolo(root, split="test")
    (root / "data.yaml").write_text(yaml.safe_dump({"train": "images/nope", "val": "images/val", "names": ["a"]}))
    with pytest.raises(DatasetError, match="'train: images/nope'"):
        read_yolo(root)


def test_malformed_yaml_names_line(tmp_path):
    root = _ultra(tmp_path)
    (root / "data.yaml").write_text("train: images/train\nnames: [a, b\nval: x\n")
    with pytest.raises(AnnotationError, match=r"data\.yaml: malformed YAML at line \d"):
        read_yolo(root)


@pytest.mark.parametrize("line", ["0 0.5 0.5 0.5", "0 0.5 zero 0.5 0.5", "0.5 0.5 0.5 0.5 0.5", "0 1 2 3 4 5"])
def test_malformed_label_line(tmp_path, line):
    root = _ultra(tmp_path, label_a=f"1 0.5 0.5 0.2 0.2\n\n{line}\n")
    with pytest.raises(AnnotationError, match=r"labels/train/a\.txt: line 3: .* is malformed"):
        read_yolo(root)
    ds = read_yolo(root, strict=False)
    assert len(ds.images[0].objects) == 1
    (p,) = dataset_problems(ds)
    assert (p.kind, p.line, p.action) == ("malformed", 3, "skipped line")


def test_class_id_beyond_names(tmp_path):
    root = _ultra(tmp_path, label_a="0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n")
    with pytest.raises(AnnotationError, match=r"a\.txt: image 'images/train/a\.jpg' line 2 .*unknown class '2'"):
        read_yolo(root)
    ds = read_yolo(root, strict=False)
    assert len(ds.images[0].objects) == 1 and dataset_problems(ds)[0].kind == "unknown_class"


def test_out_of_image_and_degenerate_boxes(tmp_path):
    root = _ultra(tmp_path, label_a="0 0.9 0.5 0.4 0.2\n1 0.5 0.5 0 0.2\n")
    with pytest.raises(AnnotationError, match=r"line 1 .*lies outside the 200×100 image by 20 px"):
        read_yolo(root)
    ds = read_yolo(root, strict=False)
    (obj,) = ds.images[0].objects
    np.testing.assert_allclose(obj.bbox, (140, 40, 200, 60))
    assert [(p.kind, p.action) for p in dataset_problems(ds)] == [("out_of_image", "clipped"),
                                                                  ("degenerate_box", "dropped object")]


def test_listed_image_missing(tmp_path):
    root = _ultra(tmp_path)
    (root / "train.txt").write_text("images/train/a.jpg\nimages/train/gone.jpg\n")
    (root / "data.yaml").write_text(yaml.safe_dump({"train": "train.txt", "val": "images/val", "names": ["c", "d"]}))
    with pytest.raises(DatasetError, match=r"image 'images/train/gone\.jpg' not found"):
        read_yolo(root, split="train")


# ------------------------------------------------------------------------------------------ ultralytics
_CHECK = r"""
import json, socket, sys
attempts = []
def _blocked(*a, **k):
    attempts.append(repr(a[:2]))
    raise OSError("network blocked by test")
socket.socket.connect = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
from ultralytics.data.utils import check_det_dataset
from ultralytics.data.dataset import YOLODataset
data = check_det_dataset(sys.argv[1], autodownload=False)
ds = YOLODataset(img_path=data["train"], data=data, task="detect", imgsz=64, augment=False, cache=False)
labels = ds.get_labels()
print(json.dumps({"nc": data["nc"], "names": list(data["names"].values()), "n": len(labels),
                  "boxes": sum(len(l["cls"]) for l in labels), "attempts": attempts}))
"""


@pytest.mark.slow
def test_ultralytics_loads_the_export_offline(tmp_path):
    """ultralytics' own checker and dataset loader accept the export, with zero network attempts."""
    import importlib.util

    import matplotlib

    if importlib.util.find_spec("ultralytics") is None:  # never import it here: it has import side effects
        pytest.skip("ultralytics is not installed")
    ds = _dataset(tmp_path)
    y = write_yolo(ds, tmp_path / "out")
    cfg = tmp_path / "yolo_cfg"
    (cfg / "Ultralytics").mkdir(parents=True)
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    (cfg / "Ultralytics" / "Arial.ttf").write_bytes(font.read_bytes())
    env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "0", "YOLO_CONFIG_DIR": str(cfg),
           "YOLO_VERBOSE": "0"}
    proc = subprocess.run([sys.executable, "-c", _CHECK, str(y)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"nc": 2, "names": ["cat", "dog"], "n": 3, "boxes": 3, "attempts": []}


# ------------------------------------------------------------------------------------------------ segments=True
def _scenes(tmp_path: Path, n: int = 4):
    from vision.data.scenes import make_scenes
    from vision.models.detection.scenes_preset import DETECTION_SCENES

    return make_scenes(tmp_path / "scenes", n=n, seed=9, config=DETECTION_SCENES, formats=())


def _rasterize(polygon, shape) -> np.ndarray:
    """What ultralytics does with a segment line (``utils.ops`` / ``data.utils.polygon2mask``: cv2.fillPoly)."""
    import cv2

    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round(np.asarray(polygon, np.float64).reshape(-1, 2)).astype(np.int32)], 1)
    return out.astype(bool)


def test_segments_round_trip_the_instance_masks_of_scenes(tmp_path):
    ds = _scenes(tmp_path)
    y = write_yolo(ds, tmp_path / "out", segments=True)
    lines = [ln.split() for p in sorted((tmp_path / "out" / "labels" / "train").glob("*.txt"))
             for ln in p.read_text().splitlines()]
    assert lines and all(len(ln) >= 7 and len(ln) % 2 == 1 for ln in lines)  # cls + ≥ 3 (x, y) pairs
    back = read_yolo(y, split="train")
    ious = []
    for rec, orig in zip(back.images, ds.images):
        with Image.open(ds.root / orig.instance_mask) as im:
            inst = np.asarray(im)
        assert [o.category_id for o in rec.objects] == [o.category_id for o in orig.objects]
        for o, src in zip(rec.objects, orig.objects):
            mask = inst == src.instance_id
            poly = _rasterize(o.attributes["segmentation"][0], mask.shape)
            ious.append((poly & mask).sum() / (poly | mask).sum())
            # the box read back is the polygon's extent: the mask's tight box, within a pixel
            np.testing.assert_allclose(o.bbox, src.bbox, atol=1.01)
    assert len(ious) >= 4 and min(ious) > 0.9, ious
    # the default stays boxes
    write_yolo(ds, tmp_path / "boxes")
    first = sorted((tmp_path / "boxes" / "labels" / "train").glob("*.txt"))[0].read_text().splitlines()[0]
    assert len(first.split()) == 5


def test_segments_fall_back_to_polygons_then_boxes_with_a_warning(tmp_path, caplog):
    ds = _scenes(tmp_path, n=1)
    rec = ds.images[0]
    assert len(rec.objects) >= 1
    rec.objects[0].instance_id = 250  # an id absent from the PNG: an empty mask
    tri = [[10.0, 10.0, 60.0, 10.0, 35.0, 50.0]]
    rec.objects.append(ObjectAnnotation((10, 10, 60, 50), 1, attributes={"segmentation": tri}))  # a polygon only
    from pycocotools import mask as mask_utils

    square = np.zeros((rec.height, rec.width), np.uint8)
    square[100:140, 30:90] = 1
    rle = mask_utils.encode(np.asfortranarray(square))
    rle["counts"] = rle["counts"].decode()  # as read_coco keeps a compressed RLE
    rec.objects.insert(1, ObjectAnnotation((30, 100, 90, 140), 2, attributes={"segmentation": rle}))
    with caplog.at_level("WARNING", logger="vision.data.formats.yolo"):
        y = write_yolo(ds, tmp_path / "out", segments=True)
    assert "1 object(s) in 1 image(s)" in caplog.text and "4-point polygons" in caplog.text
    back = read_yolo(y).images[0].objects
    assert len(back) == len(rec.objects)
    x1, y1, x2, y2 = rec.objects[0].bbox
    np.testing.assert_allclose(back[0].attributes["segmentation"][0], [x1, y1, x2, y1, x2, y2, x1, y2], atol=1e-5)
    np.testing.assert_allclose(back[-1].attributes["segmentation"], tri, atol=1e-5)
    assert (_rasterize(back[1].attributes["segmentation"][0], square.shape) == square.astype(bool)).all()  # RLE
    # a dataset without any instance mask: every object falls back to its box
    for o in rec.objects:
        o.instance_id = 0
    rec.instance_mask = None
    caplog.clear()
    with caplog.at_level("WARNING", logger="vision.data.formats.yolo"):
        write_yolo(ds, tmp_path / "nomask", segments=True)
    assert f"{len(rec.objects) - 2} object(s)" in caplog.text  # all but the polygon and the RLE


def test_segments_flag_and_a_missing_instance_mask(tmp_path):
    ds = _scenes(tmp_path, n=1)
    with pytest.raises(InputError, match="segments must be True or False"):
        write_yolo(ds, tmp_path / "out", segments="yes")
    (ds.root / ds.images[0].instance_mask).unlink()
    with pytest.raises(DatasetError, match="instance mask"):  # the dataset check, before anything is written
        write_yolo(ds, tmp_path / "out", segments=True)
    assert not (tmp_path / "out").exists()
