"""COCO detection JSON: read into and write from a :class:`~vision.data.records.DetectionDataset`.

COCO boxes are ``[x, y, width, height]`` in pixels with (0, 0) the top-left corner of the top-left pixel, so
``xyxy = (x, y, x + width, y + height)`` exactly. Category ids may be arbitrary; the reader maps them to
``0..K-1`` in ascending-id order (keeping the names), the writer emits ids ``1..K``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from vision.data.formats._files import flat_names, place_file, write_text_atomic
from vision.data.formats.validation import Checker, RawObject, _attach, check_dataset, new_record
from vision.data.records import DetectionDataset, ImageRecord
from vision.errors import AnnotationError, DatasetError, SourceNotFoundError

__all__ = ["read_coco", "write_coco"]

logger = logging.getLogger(__name__)


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AnnotationError(f"{path}: expected UTF-8 JSON text, got undecodable bytes at offset {exc.start}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc


def _pick_images_dir(json_path: Path, file_names: list[str]) -> Path:
    """The folder the ``file_name`` entries are relative to: the JSON's folder, or a sibling ``images/`` folder."""
    here = json_path.parent
    candidates = [here, here / "images", here.parent / "images"]
    sample = file_names[:200]
    best, best_hits = here, -1
    for cand in candidates:
        if not cand.is_dir():
            continue
        hits = sum((cand / f).is_file() for f in sample)
        if hits > best_hits:
            best, best_hits = cand, hits
        if hits == len(sample):
            break
    return best


def read_coco(json_path: str | Path, *, images_dir: str | Path | None = None, strict: bool = True) -> DetectionDataset:
    """Read a COCO detection / instance-segmentation JSON file.

    Each object keeps ``iscrowd`` (when 1) and its ``segmentation`` (polygons or RLE, as in the file) in
    ``ObjectAnnotation.attributes``; each record keeps the COCO image id in ``meta["image_id"]``.

    Args:
        json_path: the annotation file.
        images_dir: the folder the ``file_name`` entries are relative to; by default the JSON's folder, or a
            sibling ``images/`` folder (next to the JSON or next to its folder) where the files are found there.
        strict: raise at the first problem (default); False repairs what it can and records every problem
            (see :func:`~vision.data.formats.dataset_problems`).
    Returns:
        The dataset, rooted at the images folder.
    Raises:
        SourceNotFoundError: the JSON file does not exist.
        AnnotationError: malformed JSON or entries, duplicate image or category ids, unknown category or image ids,
            degenerate or out-of-image boxes (strict).
        DatasetError: an image file is missing or unreadable (strict).
    """
    json_path = Path(json_path)
    if not json_path.is_file():
        raise SourceNotFoundError(f"COCO annotation file not found: {json_path}")
    data = _load_json(json_path)
    src = str(json_path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        got = type(data).__name__ if not isinstance(data, dict) else f"keys {sorted(data)[:10]}"
        raise AnnotationError(f"{src}: expected a COCO object with an 'images' list, got {got}")
    for key in ("annotations", "categories"):
        if key in data and not isinstance(data[key], list):
            raise AnnotationError(f"{src}: expected '{key}' to be a list, got {type(data[key]).__name__}")
    check = Checker(strict=strict)

    # categories → 0..K-1 in ascending id order
    cats: dict[int, str] = {}
    for i, cat in enumerate(data.get("categories", [])):
        try:
            cid, name = int(cat["id"]), str(cat["name"])
        except (KeyError, TypeError, ValueError):
            check.report("malformed", src, f"{src}: categories[{i}] = {cat!r:.80}; expected {{'id': int, 'name': str}}",
                         index=i, action="skipped")
            continue
        if cid in cats:
            check.report("duplicate_id", src, f"{src}: categories[{i}] repeats category id {cid}; expected unique ids",
                         index=i, action="kept first")
            continue
        cats[cid] = name
    cat_ids = sorted(cats)
    cat_index = {cid: k for k, cid in enumerate(cat_ids)}
    classes = [cats[c] for c in cat_ids]

    # images
    entries: list[tuple[int, str, int, int]] = []
    seen_ids: dict[int, int] = {}
    for i, img in enumerate(data["images"]):
        try:
            iid, fname = int(img["id"]), str(img["file_name"])
            w, h = int(img.get("width") or 0), int(img.get("height") or 0)
        except (KeyError, TypeError, ValueError):
            check.report("malformed", src, f"{src}: images[{i}] = {img!r:.80}; expected {{'id': int, 'file_name': str, "
                         "'width': int, 'height': int}", index=i, action="dropped image")
            continue
        if iid in seen_ids:
            check.report("duplicate_id", src, f"{src}: images[{i}] repeats image id {iid} (first at images"
                         f"[{seen_ids[iid]}]); expected unique ids", index=i, action="kept first")
            continue
        seen_ids[iid] = i
        entries.append((iid, fname, w, h))

    root = Path(images_dir) if images_dir is not None else _pick_images_dir(json_path, [e[1] for e in entries])
    if images_dir is not None and not root.is_dir():
        raise SourceNotFoundError(f"images_dir not found: {root}")

    # annotations grouped by image, in file order
    per_image: dict[int, list[RawObject]] = {iid: [] for iid, *_ in entries}
    for i, ann in enumerate(data.get("annotations", [])):
        try:
            image_id, category_id = int(ann["image_id"]), int(ann["category_id"])
            x, y, bw, bh = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError):
            check.report("malformed", src, f"{src}: annotations[{i}] = {ann!r:.120}; expected 'image_id', "
                         "'category_id' and 'bbox': [x, y, w, h]", index=i, action="dropped object")
            continue
        if image_id not in per_image:
            if image_id not in seen_ids:
                check.report("malformed", src, f"{src}: annotations[{i}] (id {ann.get('id')}) refers to image_id "
                             f"{image_id}, which is not in 'images'", index=i, action="dropped object")
            continue  # its image was dropped; that problem is already recorded
        attrs: dict[str, Any] = {}
        if int(ann.get("iscrowd", 0) or 0):
            attrs["iscrowd"] = 1
        if ann.get("segmentation"):
            attrs["segmentation"] = ann["segmentation"]
        objs = per_image[image_id]
        objs.append(RawObject(
            (x, y, x + bw, y + bh), cat_index.get(category_id, -1),
            where=f"object {len(objs)} (annotations[{i}], id {ann.get('id')})", index=len(objs),
            attributes=attrs, class_label=f"category_id {category_id}",
        ))

    images: list[ImageRecord] = []
    for iid, fname, w, h in entries:
        size = check.image(root, fname, source=src, declared=(w, h))
        if size is None:
            continue
        objects = check.objects(per_image[iid], source=src, image=fname, width=size[0], height=size[1],
                                num_classes=len(classes), classes=classes)
        images.append(new_record(fname, size[0], size[1], objects, meta={"image_id": iid}))
    logger.debug("read %d images, %d classes from %s", len(images), len(classes), src)
    return _attach(DetectionDataset(root=root, classes=classes, images=images), check.problems)


# --------------------------------------------------------------------------------------------------
def _mask_segmentation(mask: np.ndarray, *, crowd: bool) -> list | dict:
    """COCO segmentation of one binary mask: polygons (cv2.findContours) or, for crowds and slivers, uncompressed RLE."""
    from vision.types import mask_to_rle

    if not crowd:
        import cv2

        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        polys = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
        if polys:
            return polys
    return mask_to_rle(mask)


def write_coco(dataset: DetectionDataset, json_path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``dataset`` as a COCO JSON file (ids 1..N for images unless records carry ``meta["image_id"]``).

    When the dataset root is the JSON's folder (or its ``images/`` subfolder) the file names are kept and nothing is
    copied; otherwise the images are hard-linked (or copied) into ``<json folder>/images/`` under flat names. Objects
    with an instance mask get ``segmentation`` polygons from ``cv2.findContours`` (``iscrowd=1`` objects: uncompressed
    RLE) and ``area`` = mask pixels; objects without one keep a ``segmentation`` attribute read from a file, else get
    none, and ``area`` = box area. Semantic masks have no COCO form and are not written.

    Args:
        dataset: the dataset to write; it is validated first, and nothing is written if it has a problem.
        json_path: where to write the JSON file.
        overwrite: replace an existing JSON file (and images of the same names).
    Returns:
        The JSON file path.
    Raises:
        DatasetError / AnnotationError: the dataset has a problem (see :func:`validate_dataset`), or the file exists.
    """
    from PIL import Image

    json_path = Path(json_path)
    check_dataset(dataset, what="write_coco")
    if json_path.exists() and not overwrite:
        raise DatasetError(f"write_coco: {json_path} already exists; pass overwrite=True to replace it")
    root = Path(dataset.root)
    out_dir = json_path.parent
    names = [r.file_name for r in dataset.images]
    copy_to: Path | None = None
    out_dir.mkdir(parents=True, exist_ok=True)
    if root.resolve() not in (out_dir.resolve(), (out_dir / "images").resolve()):
        copy_to = out_dir / "images"
        names = flat_names(names, what="write_coco")
        if copy_to.is_dir() and not overwrite and any((copy_to / n).exists() for n in names):
            raise DatasetError(f"write_coco: {copy_to} already holds images of the same names; pass overwrite=True")

    ids = [r.meta.get("image_id") for r in dataset.images]
    if not all(isinstance(i, (int, np.integer)) for i in ids) or len(set(ids)) != len(ids):
        ids = list(range(1, len(dataset.images) + 1))

    images, annotations = [], []
    ann_id = 1
    for rec, name, iid in zip(dataset.images, names, ids):
        images.append({"id": int(iid), "file_name": name, "width": rec.width, "height": rec.height})
        inst = None
        if rec.instance_mask and any(o.instance_id for o in rec.objects):
            with Image.open(root / rec.instance_mask) as im:
                inst = np.asarray(im)
        for obj in rec.objects:
            x1, y1, x2, y2 = (float(v) for v in obj.bbox)
            crowd = bool(obj.attributes.get("iscrowd", 0))
            ann: dict[str, Any] = {
                "id": ann_id, "image_id": int(iid), "category_id": obj.category_id + 1,
                "bbox": [round(x1, 6), round(y1, 6), round(x2 - x1, 6), round(y2 - y1, 6)],
                "area": round((x2 - x1) * (y2 - y1), 6), "iscrowd": int(crowd),
            }
            if inst is not None and obj.instance_id:
                m = inst == obj.instance_id
                if m.any():
                    ann["segmentation"] = _mask_segmentation(m, crowd=crowd)
                    ann["area"] = int(m.sum())
            elif obj.attributes.get("segmentation"):
                ann["segmentation"] = obj.attributes["segmentation"]
            annotations.append(ann)
            ann_id += 1
    categories = [{"id": k + 1, "name": n, "supercategory": ""} for k, n in enumerate(dataset.classes)]
    doc = {"info": {"description": "written by vision.data.formats.coco", "version": "1.0"}, "licenses": [],
           "images": images, "annotations": annotations, "categories": categories}

    if copy_to is not None:
        for rec, name in zip(dataset.images, names):
            place_file(root / rec.file_name, copy_to / name)
    write_text_atomic(json_path, json.dumps(doc, ensure_ascii=False))
    return json_path
