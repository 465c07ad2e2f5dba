"""Pascal VOC XML: read into and write from a :class:`~vision.data.records.DetectionDataset`.

Layout: ``Annotations/<stem>.xml`` and the images in ``JPEGImages/`` (or ``images/``); optional ``classes.txt``
(one name per line, the class-id order), ``SegmentationObject/<stem>.png`` (pixel = object index + 1, in XML
order) and ``SegmentationClass/<stem>.png`` (pixel = class id + 1).

Coordinates: VOC boxes are 1-based *inclusive pixel indices*: ``xmin = 1`` is the first pixel column and
``xmax = W`` the last. Here boxes are continuous pixel edges with the image spanning ``[0, W]``, so (as in
Detectron2) ``x1 = xmin - 1, y1 = ymin - 1, x2 = xmax, y2 = ymax`` on reading, and the inverse on writing. A box
covering a whole 640×480 image is ``(1, 1, 640, 480)`` in VOC and ``(0, 0, 640, 480)`` here.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from vision.data.formats._files import check_empty_target, flat_names, fmt_number, place_file, write_text_atomic
from vision.data.formats.validation import Checker, RawObject, _attach, check_dataset, new_record
from vision.data.records import DetectionDataset, ImageRecord
from vision.errors import DatasetError, SourceNotFoundError

__all__ = ["read_voc", "write_voc"]

logger = logging.getLogger(__name__)

_IMAGE_DIRS = ("JPEGImages", "images")


def _text(el: ET.Element | None, tag: str) -> str | None:
    child = el.find(tag) if el is not None else None
    return child.text.strip() if child is not None and child.text is not None else None


def _parse(xml_path: Path, check: Checker) -> ET.Element | None:
    try:
        return ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        line, col = exc.position
        check.report("malformed", xml_path, f"{xml_path}: malformed XML at line {line}, column {col + 1}: {exc}",
                     line=line, action="dropped image")
        return None


def read_voc(root: str | Path, *, classes: list[str] | None = None, strict: bool = True) -> DetectionDataset:
    """Read a Pascal VOC dataset (``Annotations/*.xml`` + ``JPEGImages/`` or ``images/``).

    An image listed in ``ImageSets/Main/train.txt`` (``val``, ``test``) gets ``meta["split"]``. Each object keeps
    ``difficult``, ``truncated``, ``occluded`` (when 1) and ``pose`` (when not "Unspecified") in
    ``attributes``.

    Args:
        root: the dataset folder.
        classes: the class-name table (its order gives the ids); by default ``classes.txt`` in ``root``, else the
            sorted names found in the XML files.
        strict: raise at the first problem (default); False repairs what it can and records every problem
            (see :func:`~vision.data.formats.dataset_problems`).
    Returns:
        The dataset, rooted at ``root`` (file names like ``JPEGImages/000005.jpg``).
    Raises:
        SourceNotFoundError: ``root`` does not exist.
        DatasetError: no ``Annotations/`` folder; a missing or unreadable image (strict).
        AnnotationError: malformed XML (file and line), missing elements, unknown class names (only when a class
            table is given or found), degenerate or out-of-image boxes (strict).
    """
    root = Path(root)
    if not root.is_dir():
        raise SourceNotFoundError(f"VOC dataset folder not found: {root}")
    ann_dir = root / "Annotations"
    if not ann_dir.is_dir():
        raise DatasetError(f"{root}: not a VOC dataset; expected an Annotations/ folder of XML files "
                           f"(found: {sorted(p.name for p in root.iterdir())[:20]})")
    check = Checker(strict=strict)
    xml_files = sorted(ann_dir.glob("*.xml"))
    parsed = [(x, _parse(x, check)) for x in xml_files]
    if classes is None and (root / "classes.txt").is_file():
        classes = [ln.strip() for ln in (root / "classes.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    if classes is None:
        found = {_text(o, "name") for _, doc in parsed if doc is not None for o in doc.iter("object")}
        classes = sorted(n for n in found if n)
    classes = [str(c) for c in classes]
    index = {n: i for i, n in enumerate(classes)}
    split_of: dict[str, str] = {}  # ImageSets/Main/{train,val,test}.txt → meta["split"]
    for split in ("train", "val", "test"):
        listing = root / "ImageSets" / "Main" / f"{split}.txt"
        if listing.is_file():
            for line in listing.read_text(encoding="utf-8").split():
                split_of.setdefault(line.strip(), split)

    records: list[ImageRecord] = []
    for xml_path, doc in parsed:
        if doc is None:
            continue
        filename = _text(doc, "filename")
        if not filename:
            check.report("malformed", xml_path, f"{xml_path}: missing <filename>; expected the image's file name",
                         action="dropped image")
            continue
        folder = next((d for d in _IMAGE_DIRS if (root / d / filename).is_file()), _IMAGE_DIRS[0])
        rel = f"{folder}/{filename}"
        size_el = doc.find("size")
        try:
            declared = (int(float(_text(size_el, "width") or 0)), int(float(_text(size_el, "height") or 0)))
        except ValueError:
            check.report("malformed", xml_path, f"{xml_path}: <size> {ET.tostring(size_el, 'unicode')[:80]!r} is not "
                         "numeric; expected integer <width> and <height>", action="used file size")
            declared = (0, 0)
        size = check.image(root, rel, source=xml_path, declared=declared)
        if size is None:
            continue
        raw: list[RawObject] = []
        for j, obj in enumerate(doc.iter("object")):
            name = _text(obj, "name")
            bb = obj.find("bndbox")
            try:
                xmin, ymin, xmax, ymax = (float(_text(bb, k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            except (TypeError, ValueError):
                check.report("malformed", xml_path, f"{xml_path}: object {j} ({name!r}) has no numeric <bndbox> "
                             "xmin/ymin/xmax/ymax", index=j, action="dropped object")
                continue
            attrs: dict[str, Any] = {}
            for key in ("difficult", "truncated", "occluded"):
                v = _text(obj, key)
                if v is not None and v.lstrip("-").isdigit() and int(v) != 0:  # 0 is the default: not kept
                    attrs[key] = int(v)
            if _text(obj, "pose") not in (None, "", "Unspecified"):
                attrs["pose"] = _text(obj, "pose")
            raw.append(RawObject((xmin - 1, ymin - 1, xmax, ymax), index.get(name or "", -1), where=f"object {j}",
                                 index=j, attributes=attrs, instance_id=j + 1, class_label=name or "<no name>"))
        objects = check.objects(raw, source=xml_path, image=rel, width=size[0], height=size[1],
                                num_classes=len(classes), classes=classes)
        stem = xml_path.stem
        inst = f"SegmentationObject/{stem}.png" if (root / "SegmentationObject" / f"{stem}.png").is_file() else None
        sem = f"SegmentationClass/{stem}.png" if (root / "SegmentationClass" / f"{stem}.png").is_file() else None
        if inst is None:
            for o in objects:
                o.instance_id = 0
        meta = {"split": split_of[stem]} if stem in split_of else {}
        records.append(new_record(rel, size[0], size[1], objects, instance_mask=inst, semantic_mask=sem, meta=meta))
    return _attach(DetectionDataset(root=root, classes=classes, images=records), check.problems)


# --------------------------------------------------------------------------------------------------
def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _xml(rec: ImageRecord, name: str, classes: list[str], *, segmented: bool) -> str:
    doc = ET.Element("annotation")
    _sub(doc, "folder", "JPEGImages")
    _sub(doc, "filename", name)
    src = _sub(doc, "source")
    _sub(src, "database", "vision")
    size = _sub(doc, "size")
    _sub(size, "width", rec.width)
    _sub(size, "height", rec.height)
    _sub(size, "depth", 3)
    _sub(doc, "segmented", int(segmented))
    for o in rec.objects:
        el = _sub(doc, "object")
        _sub(el, "name", classes[o.category_id])
        _sub(el, "pose", o.attributes.get("pose", "Unspecified"))
        _sub(el, "truncated", int(o.attributes.get("truncated", 0)))
        _sub(el, "difficult", int(o.attributes.get("difficult", 0)))
        if "occluded" in o.attributes:
            _sub(el, "occluded", int(o.attributes["occluded"]))
        x1, y1, x2, y2 = o.bbox
        bb = _sub(el, "bndbox")
        for tag, v in (("xmin", x1 + 1), ("ymin", y1 + 1), ("xmax", x2), ("ymax", y2)):
            _sub(bb, tag, fmt_number(v))
    ET.indent(doc)
    return ET.tostring(doc, encoding="unicode") + "\n"


def _write_instance_mask(src: Path, dst: Path, rec: ImageRecord) -> None:
    """Re-number an instance mask so that object k (XML order) has pixel value k + 1, as VOC expects."""
    from PIL import Image

    with Image.open(src) as im:
        arr = np.asarray(im)
    out = np.zeros(arr.shape[:2], dtype=np.uint16 if len(rec.objects) > 255 else np.uint8)
    for k, o in enumerate(rec.objects):
        if o.instance_id:
            out[arr == o.instance_id] = k + 1
    dst.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(out).save(dst)


def write_voc(dataset: DetectionDataset, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``dataset`` as a Pascal VOC folder.

    Writes ``Annotations/<stem>.xml`` (1-based pixel boxes, see the module docstring), the images hard-linked (or
    copied) into ``JPEGImages/`` under flat names, ``classes.txt``, ``ImageSets/Main/<split>.txt`` (each record's
    ``meta["split"]``, default ``trainval``), and the masks: instance masks re-numbered to
    ``SegmentationObject/<stem>.png``, semantic masks copied to ``SegmentationClass/<stem>.png``.

    Args:
        dataset: the dataset; it is validated first, and nothing is written if it has a problem.
        out_dir: the folder to write.
        overwrite: replace the VOC folders of an earlier export in ``out_dir``.
    Returns:
        ``out_dir``.
    Raises:
        DatasetError / AnnotationError: the dataset has a problem, ``out_dir`` is the dataset's own folder, or it
            already holds a VOC export (without ``overwrite``).
    """
    out_dir = Path(out_dir)
    check_dataset(dataset, what="write_voc")
    root = Path(dataset.root)
    if out_dir.exists() and out_dir.resolve() == root.resolve():
        raise DatasetError(f"write_voc: out_dir {out_dir} is the dataset's own root; expected another folder")
    names = flat_names([r.file_name for r in dataset.images], what="write_voc")
    sources = [root / r.file_name for r in dataset.images]
    sources += [root / m for r in dataset.images for m in (r.instance_mask, r.semantic_mask) if m]
    for sub in ("Annotations", "JPEGImages", "ImageSets", "SegmentationObject", "SegmentationClass"):
        check_empty_target(out_dir / sub, what="write_voc", overwrite=overwrite, sources=sources)
    (out_dir / "Annotations").mkdir(parents=True, exist_ok=True)
    sets: dict[str, list[str]] = {}
    for rec, name in zip(dataset.images, names):
        stem = Path(name).stem
        place_file(root / rec.file_name, out_dir / "JPEGImages" / name)
        has_inst = bool(rec.instance_mask) and any(o.instance_id for o in rec.objects)
        if has_inst:
            _write_instance_mask(root / rec.instance_mask, out_dir / "SegmentationObject" / f"{stem}.png", rec)
        if rec.semantic_mask:
            place_file(root / rec.semantic_mask, out_dir / "SegmentationClass" / f"{stem}.png")
        xml = _xml(rec, name, list(dataset.classes), segmented=has_inst or bool(rec.semantic_mask))
        (out_dir / "Annotations" / f"{stem}.xml").write_text(xml, encoding="utf-8")
        sets.setdefault(str(rec.meta.get("split") or "trainval"), []).append(stem)
    for split, stems in sets.items():
        write_text_atomic(out_dir / "ImageSets" / "Main" / f"{split}.txt", "".join(f"{s}\n" for s in stems))
    write_text_atomic(out_dir / "classes.txt", "".join(f"{c}\n" for c in dataset.classes))
    return out_dir
