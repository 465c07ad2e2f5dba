"""Pascal VOC reader / writer: 1-based coordinates, classes, masks, and every bad-input case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vision.data.formats import dataset_problems, read_voc, write_voc
from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import AnnotationError, DatasetError, SourceNotFoundError


def _photo(path: Path, w: int, h: int) -> None:
    import skimage.data

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[:h, :w]).save(path)


def _xml(filename: str, w: int, h: int, objects: str) -> str:
    return (f"<annotation><folder>VOC</folder><filename>{filename}</filename><size><width>{w}</width>"
            f"<height>{h}</height><depth>3</depth></size>{objects}</annotation>")


def _obj(name: str, xmin, ymin, xmax, ymax, extra: str = "") -> str:
    return (f"<object><name>{name}</name>{extra}<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax>"
            f"<ymax>{ymax}</ymax></bndbox></object>")


def _voc(tmp_path: Path, objects: str | None = None, *, image_dir: str = "JPEGImages") -> Path:
    root = tmp_path / "voc"
    _photo(root / image_dir / "000001.jpg", 100, 60)
    _photo(root / image_dir / "000002.jpg", 40, 40)
    (root / "Annotations").mkdir(parents=True)
    objs = objects if objects is not None else (
        _obj("person", 1, 1, 100, 60, "<difficult>1</difficult><pose>Left</pose>") + _obj("dog", 11, 21, 30, 40))
    (root / "Annotations" / "000001.xml").write_text(_xml("000001.jpg", 100, 60, objs))
    (root / "Annotations" / "000002.xml").write_text(_xml("000002.jpg", 40, 40, _obj("dog", 5.5, 6, 20, 21.25)))
    return root


@pytest.mark.parametrize("image_dir", ["JPEGImages", "images"])
def test_read_converts_one_based_pixels(tmp_path, image_dir):
    ds = read_voc(_voc(tmp_path, image_dir=image_dir))
    assert ds.classes == ["dog", "person"]  # no classes.txt: sorted names
    assert [r.file_name for r in ds.images] == [f"{image_dir}/000001.jpg", f"{image_dir}/000002.jpg"]
    whole, dog = ds.images[0].objects
    assert whole.bbox == (0.0, 0.0, 100.0, 60.0)  # (1, 1, 100, 60) covers the whole 100×60 image
    assert dog.bbox == (10.0, 20.0, 30.0, 40.0)
    assert whole.attributes == {"difficult": 1, "pose": "Left"}
    assert ds.images[1].objects[0].bbox == (4.5, 5.0, 20.0, 21.25)


def test_classes_txt_or_argument_sets_the_order(tmp_path):
    root = _voc(tmp_path)
    (root / "classes.txt").write_text("person\ndog\ncat\n")
    assert read_voc(root).classes == ["person", "dog", "cat"]
    assert read_voc(root, classes=["dog", "person"]).classes == ["dog", "person"]


def test_write_then_read_is_exact(tmp_path):
    ds = read_voc(_voc(tmp_path))
    out = write_voc(ds, tmp_path / "out")
    assert (out / "classes.txt").read_text() == "dog\nperson\n"
    assert (out / "ImageSets" / "Main" / "trainval.txt").read_text() == "000001\n000002\n"
    assert "<xmin>1</xmin>" in (out / "Annotations" / "000001.xml").read_text()
    back = read_voc(out)
    assert back.classes == ds.classes
    for r1, r2 in zip(ds.images, back.images):
        assert (r1.file_name, r1.width, r1.height) == (r2.file_name, r2.width, r2.height)
        assert [(o.bbox, o.category_id, o.attributes) for o in r1.objects] == \
               [(o.bbox, o.category_id, o.attributes) for o in r2.objects]


def test_masks_are_written_and_read_back(tmp_path):
    root = tmp_path / "m"
    _photo(root / "img.png", 30, 20)
    inst = np.zeros((20, 30), np.uint8)
    inst[2:8, 3:9] = 7
    inst[10:18, 12:25] = 3
    Image.fromarray(inst).save(root / "inst.png")
    sem = (inst > 0).astype(np.uint8) * 2
    Image.fromarray(sem).save(root / "sem.png")
    objs = [ObjectAnnotation((3, 2, 9, 8), 1, instance_id=7), ObjectAnnotation((12, 10, 25, 18), 0, instance_id=3)]
    ds = DetectionDataset(root, ["a", "b"], [ImageRecord("img.png", 30, 20, objs, instance_mask="inst.png",
                                                         semantic_mask="sem.png")])
    back = read_voc(write_voc(ds, tmp_path / "out"))
    rec = back.images[0]
    assert (rec.instance_mask, rec.semantic_mask) == ("SegmentationObject/img.png", "SegmentationClass/img.png")
    mask = np.asarray(Image.open(back.root / rec.instance_mask))
    for orig, new in zip(objs, rec.objects):
        np.testing.assert_array_equal(mask == new.instance_id, inst == orig.instance_id)
    np.testing.assert_array_equal(np.asarray(Image.open(back.root / rec.semantic_mask)), sem)


def test_writer_guards(tmp_path):
    ds = read_voc(_voc(tmp_path))
    with pytest.raises(DatasetError, match="own root"):
        write_voc(ds, ds.root)
    write_voc(ds, tmp_path / "out")
    with pytest.raises(DatasetError, match="already holds files"):
        write_voc(ds, tmp_path / "out")
    write_voc(ds, tmp_path / "out", overwrite=True)
    ds.images[0].objects[0].bbox = (5, 5, 5, 9)
    with pytest.raises(AnnotationError, match="zero or negative size"):
        write_voc(ds, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


# ------------------------------------------------------------------------------------------ bad input
def test_not_a_voc_folder(tmp_path):
    with pytest.raises(SourceNotFoundError):
        read_voc(tmp_path / "none")
    with pytest.raises(DatasetError, match="expected an Annotations/ folder"):
        read_voc(tmp_path)


def test_malformed_xml_names_file_and_line(tmp_path):
    root = _voc(tmp_path)
    (root / "Annotations" / "000002.xml").write_text("<annotation>\n<filename>x.jpg</filename>\n<size>\n</annotation>")
    with pytest.raises(AnnotationError, match=r"000002\.xml: malformed XML at line 4"):
        read_voc(root)
    ds = read_voc(root, strict=False)
    assert len(ds) == 1 and dataset_problems(ds)[0].kind == "malformed"


def test_missing_bndbox_value(tmp_path):
    root = _voc(tmp_path, _obj("dog", 1, 2, "", 4))
    with pytest.raises(AnnotationError, match=r"000001\.xml: object 0 \('dog'\) has no numeric <bndbox>"):
        read_voc(root)


def test_unknown_class_name(tmp_path):
    root = _voc(tmp_path)
    (root / "classes.txt").write_text("dog\n")
    with pytest.raises(AnnotationError, match=r"000001\.xml: image 'JPEGImages/000001\.jpg' object 0: unknown class "
                                              r"'person'; expected one of \['dog'\]"):
        read_voc(root)


def test_out_of_image_box(tmp_path):
    root = _voc(tmp_path, _obj("dog", 50, 10, 130, 40))
    with pytest.raises(AnnotationError, match=r"\[49, 9, 130, 40\] lies outside the 100×60 image by 30 px"):
        read_voc(root)
    ds = read_voc(root, strict=False)
    assert ds.images[0].objects[0].bbox == (49.0, 9.0, 100.0, 40.0)


def test_degenerate_box(tmp_path):
    root = _voc(tmp_path, _obj("dog", 20, 10, 10, 40))
    with pytest.raises(AnnotationError, match="object 0: box .* zero or negative size"):
        read_voc(root)


def test_missing_image(tmp_path):
    root = _voc(tmp_path)
    (root / "JPEGImages" / "000002.jpg").unlink()
    with pytest.raises(DatasetError, match=r"000002\.xml: image 'JPEGImages/000002\.jpg' not found"):
        read_voc(root)
