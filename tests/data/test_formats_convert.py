"""Format detection, conversion round trips across COCO / YOLO / VOC, and validate_dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.data.formats import (
    convert_dataset,
    detect_format,
    read_coco,
    read_detection_dataset,
    validate_dataset,
    write_coco,
)
from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import DatasetError, InputError


def _photo(path: Path, w: int, h: int) -> None:
    import skimage.data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[:h, :w]).save(path)


def _random_coco(tmp_path: Path, *, seed: int = 0) -> Path:
    """Five images of odd sizes with random sub-pixel boxes (some touching the borders) and 3 sparse category ids."""
    rng = np.random.default_rng(seed)
    root = tmp_path / "coco"
    images, anns = [], []
    cats = [{"id": 17, "name": "zebra"}, {"id": 2, "name": "ant"}, {"id": 9, "name": "moth"}]
    for i, (w, h) in enumerate([(97, 61), (128, 128), (333, 211), (50, 400), (7, 9)]):
        name = f"img_{i}.{'png' if i % 2 else 'jpg'}"
        _photo(root / "images" / name, w, h)
        images.append({"id": 100 + i, "file_name": name, "width": w, "height": h})
        for _ in range(int(rng.integers(0, 6))):
            x1, x2 = np.sort(rng.uniform(0, w, 2))
            y1, y2 = np.sort(rng.uniform(0, h, 2))
            if rng.random() < 0.3:
                x1, y2 = 0.0, float(h)  # on the image border
            anns.append({"id": len(anns) + 1, "image_id": 100 + i, "category_id": int(rng.choice([17, 2, 9])),
                         "bbox": [x1, y1, x2 - x1 + 0.01, y2 - y1 + 0.01] if x2 + 0.01 <= w and y2 + 0.01 <= h
                         else [x1, y1, x2 - x1, y2 - y1]})
    path = root / "annotations.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def _summary(ds: DetectionDataset) -> list:
    return [(Path(r.file_name).name, r.width, r.height, [(o.category_id, o.bbox) for o in r.objects])
            for r in sorted(ds.images, key=lambda r: Path(r.file_name).name)]


def _assert_same(a: DetectionDataset, b: DetectionDataset) -> None:
    assert a.classes == b.classes
    sa, sb = _summary(a), _summary(b)
    assert [x[:3] for x in sa] == [x[:3] for x in sb]
    for (_, _, _, oa), (_, _, _, ob) in zip(sa, sb):
        assert [c for c, _ in oa] == [c for c, _ in ob]
        for (_, box_a), (_, box_b) in zip(oa, ob):
            np.testing.assert_allclose(box_a, box_b, atol=1e-3, rtol=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_coco_yolo_voc_coco_round_trip_is_exact(tmp_path, seed):
    src = _random_coco(tmp_path, seed=seed)
    original = read_coco(src)
    assert sum(len(r.objects) for r in original.images) > 3
    y = convert_dataset(src, tmp_path / "yolo", to="yolo")
    assert y.name == "data.yaml"
    v = convert_dataset(tmp_path / "yolo", tmp_path / "voc", to="voc")
    c = convert_dataset(v, tmp_path / "back", to="coco")
    assert c == tmp_path / "back" / "annotations.json"
    for path in (y, v, c):
        _assert_same(original, read_detection_dataset(path))
    assert sorted(i["file_name"] for i in json.loads(c.read_text())["images"]) == \
        sorted(i["file_name"] for i in json.loads(src.read_text())["images"])


def test_detect_format(tmp_path):
    src = _random_coco(tmp_path)
    assert detect_format(src) == "coco" and detect_format(src.parent) == "coco"
    y = convert_dataset(src, tmp_path / "yolo", to="yolo")
    assert detect_format(y) == "yolo" and detect_format(y.parent) == "yolo"
    assert detect_format(convert_dataset(src, tmp_path / "voc", to="voc")) == "voc"
    (tmp_path / "flat" / "labels").mkdir(parents=True)
    assert detect_format(tmp_path / "flat") == "yolo"


def test_unknown_layout_lists_what_was_looked_for(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "readme.md").write_text("hi")
    with pytest.raises(DatasetError, match=r"looked for a COCO \*\.json .*data\.yaml or labels/ .*Annotations/"):
        read_detection_dataset(tmp_path / "junk")
    with pytest.raises(DatasetError, match="cannot tell the dataset format"):
        detect_format(tmp_path / "junk" / "readme.md")
    with pytest.raises(InputError, match="format"):
        read_detection_dataset(tmp_path / "junk", format="kitti")
    with pytest.raises(InputError, match="to: expected one of"):
        convert_dataset(tmp_path / "junk", tmp_path / "x", to="kitti")


def test_convert_from_an_in_memory_dataset(tmp_path):
    src = _random_coco(tmp_path)
    ds = read_coco(src)
    out = convert_dataset(ds, tmp_path / "c" / "x.json", to="coco")
    assert out == tmp_path / "c" / "x.json"
    _assert_same(ds, read_coco(out))


def test_validate_dataset_reports_without_changing(tmp_path):
    root = tmp_path / "mem"
    _photo(root / "a.png", 40, 30)
    recs = [
        ImageRecord("a.png", 40, 30, [ObjectAnnotation((0, 0, 45, 30), 0), ObjectAnnotation((5, 5, 5, 9), 0),
                                      ObjectAnnotation((1, 1, 4, 4), 3), ObjectAnnotation((0.5, 0, 40.5, 30), 0)],
                    instance_mask="missing.png"),
        ImageRecord("a.png", 40, 30, []),
        ImageRecord("gone.png", 10, 10, []),
        ImageRecord("a.png", 41, 30, []),
    ]
    ds = DetectionDataset(root, ["x"], recs)
    problems = validate_dataset(ds)
    assert [p.kind for p in problems] == [
        "duplicate_image", "missing_mask", "out_of_image", "degenerate_box", "unknown_class", "missing_image",
        "size_mismatch"]
    assert all(p.action == "reported" for p in problems)
    assert "object 0: box (x1, y1, x2, y2) = [0, 0, 45, 30] lies outside the 40×30 image by 5 px" in problems[2].message
    assert ds.images[0].objects[0].bbox == (0, 0, 45, 30)  # unchanged
    assert [p.kind for p in validate_dataset(ds, check_files=False)] == [
        "duplicate_image", "out_of_image", "degenerate_box", "unknown_class"]
    assert json.dumps([p.to_dict() for p in problems])


def test_writers_refuse_what_validate_reports(tmp_path):
    root = tmp_path / "mem"
    _photo(root / "a.png", 40, 30)
    ds = DetectionDataset(root, ["x"], [ImageRecord("a.png", 40, 30, [ObjectAnnotation((0, 0, 45, 30), 0)])])
    for to in ("coco", "yolo", "voc"):
        with pytest.raises(DatasetError, match=r"refusing to write an invalid dataset: .*lies outside"):
            convert_dataset(ds, tmp_path / to, to=to)
        assert not (tmp_path / to).exists()
    with pytest.raises(DatasetError, match="expected a DetectionDataset"):
        write_coco("not a dataset", tmp_path / "x.json")  # type: ignore[arg-type]


def test_splits_survive_yolo_voc_yolo(tmp_path):
    src = _random_coco(tmp_path)
    ds = read_coco(src)
    for i, rec in enumerate(ds.images):
        rec.meta["split"] = "val" if i % 2 else "train"
    y = convert_dataset(ds, tmp_path / "y", to="yolo")
    v = convert_dataset(y, tmp_path / "v", to="voc")
    assert sorted(p.name for p in (v / "ImageSets" / "Main").iterdir()) == ["train.txt", "val.txt"]
    back = read_detection_dataset(convert_dataset(v, tmp_path / "y2", to="yolo"))
    assert sorted((Path(r.file_name).name, r.meta["split"]) for r in back.images) == \
        sorted((Path(r.file_name).name, r.meta["split"]) for r in ds.images)
