"""COCO reader / writer: ids, images_dir resolution, masks → polygons / RLE, and every bad-input case."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.data.formats import dataset_problems, read_coco, validate_dataset, write_coco
from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import AnnotationError, DatasetError, SourceNotFoundError
from vision.types import rle_to_mask


def _photo(path: Path, w: int, h: int) -> None:
    import skimage.data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[:h, :w]).save(path)


def _coco(tmp_path: Path, *, images_sub: str = "", **overrides) -> Path:
    """A two-image COCO set with non-contiguous category ids (7 = 'cat', 3 = 'dog')."""
    doc = {
        "images": [{"id": 10, "file_name": "a.jpg", "width": 120, "height": 80},
                   {"id": 11, "file_name": "b.png", "width": 64, "height": 96}],
        "annotations": [
            {"id": 1, "image_id": 10, "category_id": 7, "bbox": [10.5, 20.25, 30.0, 40.125]},
            {"id": 2, "image_id": 10, "category_id": 3, "bbox": [0, 0, 120, 80]},
            {"id": 3, "image_id": 11, "category_id": 7, "bbox": [1.333, 2.777, 50.1, 60.2]},
        ],
        "categories": [{"id": 7, "name": "cat"}, {"id": 3, "name": "dog"}],
    }
    doc.update(overrides)
    img_dir = tmp_path / images_sub if images_sub else tmp_path
    _photo(img_dir / "a.jpg", 120, 80)
    _photo(img_dir / "b.png", 64, 96)
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(doc))
    return path


def test_read_maps_category_ids_in_sorted_order_and_converts_xywh(tmp_path):
    ds = read_coco(_coco(tmp_path))
    assert ds.classes == ["dog", "cat"]  # ids 3 < 7
    assert [r.file_name for r in ds.images] == ["a.jpg", "b.png"]
    a = ds.images[0]
    assert (a.width, a.height, a.meta["image_id"]) == (120, 80, 10)
    assert a.objects[0].category_id == 1 and a.objects[1].category_id == 0
    np.testing.assert_allclose(a.objects[0].bbox, (10.5, 20.25, 40.5, 60.375))
    np.testing.assert_allclose(ds.images[1].objects[0].bbox, (1.333, 2.777, 51.433, 62.977))
    assert dataset_problems(ds) == [] and validate_dataset(ds) == []


@pytest.mark.parametrize("layout", ["images", "../images"])
def test_images_dir_defaults_to_a_sibling_images_folder(tmp_path, layout):
    if layout == "images":
        path = _coco(tmp_path, images_sub="images")
    else:  # annotations/instances.json + images/
        path = _coco(tmp_path, images_sub="images")
        (tmp_path / "annotations").mkdir()
        path = path.rename(tmp_path / "annotations" / "instances.json")
    ds = read_coco(path)
    assert Path(ds.root) == tmp_path / "images"
    assert ds.image_path(0).is_file()


def test_explicit_images_dir(tmp_path):
    path = _coco(tmp_path / "ann")
    moved = tmp_path / "elsewhere"
    (tmp_path / "ann").rename(moved)
    ds = read_coco(moved / "instances.json", images_dir=moved)
    assert ds.image_path(1).is_file()
    with pytest.raises(SourceNotFoundError, match="images_dir"):
        read_coco(moved / "instances.json", images_dir=tmp_path / "nope")
    assert path.name == "instances.json"


def test_write_then_read_is_exact_and_keeps_ids(tmp_path):
    ds = read_coco(_coco(tmp_path / "src"))
    out = write_coco(ds, tmp_path / "out" / "coco.json")
    doc = json.loads(out.read_text())
    assert [c["id"] for c in doc["categories"]] == [1, 2]
    assert [c["name"] for c in doc["categories"]] == ["dog", "cat"]
    assert [i["id"] for i in doc["images"]] == [10, 11]
    assert (tmp_path / "out" / "images" / "a.jpg").is_file()
    back = read_coco(out)
    for r1, r2 in zip(ds.images, back.images):
        assert r1.file_name == r2.file_name
        for o1, o2 in zip(r1.objects, r2.objects):
            assert o1.category_id == o2.category_id
            np.testing.assert_allclose(o1.bbox, o2.bbox, atol=1e-3)


def test_writer_refuses_to_overwrite_and_invalid_datasets(tmp_path):
    ds = read_coco(_coco(tmp_path / "src"))
    out = write_coco(ds, tmp_path / "out.json")
    with pytest.raises(DatasetError, match="already exists"):
        write_coco(ds, out)
    write_coco(ds, out, overwrite=True)
    ds.images[0].objects[0].bbox = (10, 10, 500, 20)
    with pytest.raises(AnnotationError, match="outside the 120×80 image"):
        write_coco(ds, tmp_path / "bad" / "x.json")
    assert not (tmp_path / "bad" / "x.json").exists()
    assert not (tmp_path / "bad" / "images").exists()


def _masked_dataset(tmp_path: Path) -> DetectionDataset:
    root = tmp_path / "masked"
    _photo(root / "img.png", 60, 40)
    inst = np.zeros((40, 60), np.uint8)
    inst[5:20, 10:30] = 1  # a 20×15 rectangle
    inst[25:35, 40:55] = 2  # a crowd region
    Image.fromarray(inst).save(root / "inst.png")
    objs = [ObjectAnnotation((10, 5, 30, 20), 0, instance_id=1),
            ObjectAnnotation((40, 25, 55, 35), 1, instance_id=2, attributes={"iscrowd": 1})]
    return DetectionDataset(root, ["a", "b"], [ImageRecord("img.png", 60, 40, objs, instance_mask="inst.png")])


def test_instance_masks_become_polygons_and_crowds_become_rle(tmp_path):
    import cv2

    ds = _masked_dataset(tmp_path)
    doc = json.loads(write_coco(ds, tmp_path / "masked" / "ann.json").read_text())
    a, b = doc["annotations"]
    assert doc["images"][0]["file_name"] == "img.png"  # root == json folder: nothing copied
    assert not (tmp_path / "masked" / "images").exists()
    assert a["iscrowd"] == 0 and isinstance(a["segmentation"], list) and a["area"] == 20 * 15
    poly = np.asarray(a["segmentation"][0]).reshape(-1, 2).astype(np.int32)
    drawn = np.zeros((40, 60), np.uint8)
    cv2.fillPoly(drawn, [poly], 1)
    assert drawn.sum() == 20 * 15  # the polygon traces exactly the mask
    assert b["iscrowd"] == 1 and b["area"] == 15 * 10
    np.testing.assert_array_equal(rle_to_mask(b["segmentation"]), np.asarray(Image.open(tmp_path / "masked" / "inst.png")) == 2)
    back = read_coco(tmp_path / "masked" / "ann.json")
    assert back.images[0].objects[1].attributes["iscrowd"] == 1
    assert back.images[0].objects[0].attributes["segmentation"] == a["segmentation"]


# ------------------------------------------------------------------------------------------ bad input
def test_missing_json_file(tmp_path):
    with pytest.raises(SourceNotFoundError, match="nope.json"):
        read_coco(tmp_path / "nope.json")


def test_malformed_json_names_line(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(AnnotationError, match=r"x\.json: malformed JSON at line 2"):
        read_coco(p)
    p.write_text("[1, 2]")
    with pytest.raises(AnnotationError, match="'images' list"):
        read_coco(p)


def test_duplicate_image_id(tmp_path):
    path = _coco(tmp_path, images=[{"id": 10, "file_name": "a.jpg", "width": 120, "height": 80},
                                   {"id": 10, "file_name": "b.png", "width": 64, "height": 96}])
    with pytest.raises(AnnotationError, match=r"instances\.json: images\[1\] repeats image id 10"):
        read_coco(path)
    ds = read_coco(path, strict=False)
    assert [r.file_name for r in ds.images] == ["a.jpg"]
    # the annotation of image 11 (not listed any more) is reported too
    assert [p.kind for p in dataset_problems(ds)] == ["duplicate_id", "malformed"]


def test_unknown_category(tmp_path):
    anns = [{"id": 1, "image_id": 10, "category_id": 99, "bbox": [1, 1, 5, 5]}]
    path = _coco(tmp_path, annotations=anns)
    with pytest.raises(AnnotationError, match=r"image 'a\.jpg' object 0 .*unknown class 'category_id 99'"):
        read_coco(path)
    ds = read_coco(path, strict=False)
    assert ds.images[0].objects == [] and dataset_problems(ds)[0].kind == "unknown_class"


def test_missing_image_file(tmp_path):
    path = _coco(tmp_path)
    (tmp_path / "b.png").unlink()
    with pytest.raises(DatasetError, match=r"image 'b\.png' not found"):
        read_coco(path)
    ds = read_coco(path, strict=False)
    assert [r.file_name for r in ds.images] == ["a.jpg"]
    p = dataset_problems(ds)[0]
    assert (p.kind, p.action, p.image) == ("missing_image", "dropped image", "b.png")


@pytest.mark.parametrize("bbox, kind, match", [
    ([100, 10, 50, 10], "out_of_image", r"\[100, 10, 150, 20\] lies outside the 120×80 image by 30 px"),
    ([10, 10, 0, 5], "degenerate_box", "zero or negative size"),
    ([10, 10, -4, 5], "degenerate_box", "zero or negative size"),
])
def test_bad_boxes(tmp_path, bbox, kind, match):
    anns = [{"id": 5, "image_id": 10, "category_id": 7, "bbox": bbox}]
    path = _coco(tmp_path, annotations=anns)
    with pytest.raises(AnnotationError, match=r"instances\.json: image 'a\.jpg' object 0 .*" + match):
        read_coco(path)
    ds = read_coco(path, strict=False)
    (problem,) = dataset_problems(ds)
    assert problem.kind == kind and problem.index == 0
    if kind == "out_of_image":
        assert problem.action == "clipped" and ds.images[0].objects[0].bbox == (100.0, 10.0, 120.0, 20.0)
    else:
        assert problem.action == "dropped object" and ds.images[0].objects == []


def test_box_within_one_pixel_is_clipped_silently(tmp_path):
    path = _coco(tmp_path, annotations=[{"id": 5, "image_id": 10, "category_id": 7, "bbox": [-0.5, 0, 121, 80.9]}])
    ds = read_coco(path)
    assert ds.images[0].objects[0].bbox == (0.0, 0.0, 120.0, 80.0)


def test_malformed_annotation_and_unknown_image_id(tmp_path):
    path = _coco(tmp_path, annotations=[{"id": 5, "image_id": 10, "category_id": 7, "bbox": [1, 2, 3]}])
    with pytest.raises(AnnotationError, match=r"annotations\[0\].*'bbox': \[x, y, w, h\]"):
        read_coco(path)
    path = _coco(tmp_path, annotations=[{"id": 5, "image_id": 42, "category_id": 7, "bbox": [1, 2, 3, 4]}])
    with pytest.raises(AnnotationError, match="refers to image_id 42"):
        read_coco(path)


def test_declared_size_differs_from_file(tmp_path):
    path = _coco(tmp_path, images=[{"id": 10, "file_name": "a.jpg", "width": 100, "height": 80}], annotations=[])
    with pytest.raises(AnnotationError, match=r"declared 100×80 .* file is 120×80"):
        read_coco(path)


def test_non_image_file(tmp_path):
    path = _coco(tmp_path)
    (tmp_path / "b.png").write_bytes(b"not a png at all")
    with pytest.raises(DatasetError, match=r"image 'b\.png' cannot be read"):
        read_coco(path)


def test_pycocotools_reads_the_export(tmp_path):
    """pycocotools loads the written file; its masks from our polygons / RLE match the instance-mask PNG."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO

    ds = _masked_dataset(tmp_path)
    path = write_coco(ds, tmp_path / "out" / "ann.json")
    coco = COCO(str(path))
    inst = np.asarray(Image.open(tmp_path / "masked" / "inst.png"))
    anns = coco.loadAnns(coco.getAnnIds())
    assert [a["category_id"] for a in anns] == [1, 2]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["a", "b"]
    crowd = coco.annToMask(anns[1]).astype(bool)
    np.testing.assert_array_equal(crowd, inst == 2)
    # cv2 contours run through boundary pixel centres, so pycocotools' rasterisation loses the last column and row
    expected = np.zeros_like(crowd)
    expected[5:19, 10:29] = True  # the mask is rows 5..19, columns 10..29
    np.testing.assert_array_equal(coco.annToMask(anns[0]).astype(bool), expected)
