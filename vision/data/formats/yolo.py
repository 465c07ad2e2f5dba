"""YOLO (ultralytics) detection datasets: read into and write from a :class:`~vision.data.records.DetectionDataset`.

Two layouts are read:

* ultralytics: a ``data.yaml`` with ``names`` (list or ``{id: name}``), ``train`` / ``val`` / ``test`` (a folder, a
  ``.txt`` list of images, or a list of those) relative to ``path`` (default, and base of a relative ``path``: the YAML's folder); each image
  ``…/images/…/x.jpg`` has its labels in ``…/labels/…/x.txt`` (the last ``images`` folder replaced by ``labels``).
* flat: ``images/`` + ``labels/`` + ``classes.txt`` (one class name per line).

A label line is ``cls cx cy w h`` normalised to [0, 1] by the image width and height (a line with more than five
values is an ultralytics segment ``cls x1 y1 x2 y2 …``: its box is the polygon's extent and the polygon is kept in
``attributes["segmentation"]`` in absolute pixels, COCO style). An image without a label file has no objects.

:func:`write_yolo` writes boxes by default; ``segments=True`` writes the segment lines ultralytics' ``-seg`` models
train on, one polygon per object (see :func:`object_polygons`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from vision.data.formats._files import (
    check_empty_target,
    flat_names,
    is_image_file,
    list_images,
    place_file,
    write_text_atomic,
)
from vision.data.formats.validation import Checker, RawObject, _attach, check_dataset, new_record
from vision.data.records import DetectionDataset, ImageRecord
from vision.errors import AnnotationError, DatasetError, InputError, SourceNotFoundError

__all__ = ["object_polygons", "read_yolo", "write_yolo"]

logger = logging.getLogger(__name__)

_SPLITS = ("train", "val", "test")
_YAML_NAMES = ("data.yaml", "data.yml", "dataset.yaml", "dataset.yml")


def _label_path(image: Path) -> Path:
    """ultralytics' rule: replace the last ``/images/`` folder with ``/labels/`` and the extension with ``.txt``."""
    sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    s = str(image)
    s = sb.join(s.rsplit(sa, 1)) if sa in s else s
    return Path(s).with_suffix(".txt")


def _find_yaml(root: Path) -> Path | None:
    if root.is_file():
        return root
    for name in _YAML_NAMES:
        if (root / name).is_file():
            return root / name
    found = sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml")))
    return found[0] if len(found) == 1 else None


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise AnnotationError(f"{path}: malformed YAML{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise AnnotationError(f"{path}: malformed YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise AnnotationError(f"{path}: expected a YAML mapping with 'names' and 'train'/'val', got {type(data).__name__}")
    return data


def _names(data: dict, yaml_path: Path) -> list[str]:
    names = data.get("names")
    if names is None:
        nc = data.get("nc")
        if not isinstance(nc, int) or nc < 0:
            raise AnnotationError(f"{yaml_path}: expected 'names' (list or {{id: name}}) or an integer 'nc', got neither")
        return [f"class_{i}" for i in range(nc)]
    if isinstance(names, dict):
        try:
            table = {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError) as exc:
            raise AnnotationError(f"{yaml_path}: expected integer keys in 'names', got {list(names)[:10]}") from exc
        if sorted(table) != list(range(len(table))):
            raise AnnotationError(f"{yaml_path}: expected 'names' keys 0..{len(table) - 1}, got {sorted(table)[:20]}")
        names = [table[i] for i in range(len(table))]
    if not isinstance(names, list):
        raise AnnotationError(f"{yaml_path}: expected 'names' to be a list or a mapping, got {type(names).__name__}")
    if "nc" in data and data["nc"] != len(names):
        raise AnnotationError(f"{yaml_path}: 'nc: {data['nc']}' does not match the {len(names)} entries of 'names'")
    return [str(n) for n in names]


def _split_images(base: Path, entry: Any, yaml_path: Path, key: str) -> list[Path]:
    """Image paths of one split entry: a folder, a .txt list (lines relative to the list's folder), or a list."""
    entries = entry if isinstance(entry, list) else [entry]
    out: list[Path] = []
    for e in entries:
        p = Path(str(e))
        p = p if p.is_absolute() else base / p
        if p.is_dir():
            out.extend(list_images(p))
        elif p.is_file() and p.suffix.lower() == ".txt":
            for line in p.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if line:
                    q = Path(line)
                    out.append(q if q.is_absolute() else (p.parent / q if line.startswith("./") else base / q))
        elif p.is_file() and is_image_file(p):
            out.append(p)
        else:
            raise DatasetError(f"{yaml_path}: '{key}: {e}' names {p}, which does not exist; expected a folder of "
                               "images or a .txt list of images")
    return out


def _parse_labels(label_file: Path, *, check: Checker, image: str, width: int, height: int) -> list[RawObject]:
    raw: list[RawObject] = []
    try:
        lines = label_file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        check.report("malformed", label_file, f"{label_file}: expected UTF-8 text, got undecodable bytes "
                     f"(image {image!r})", action="dropped image labels")
        return raw
    for ln, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            values = [float(v) for v in parts]
            if len(values) != 5 and (len(values) < 7 or len(values) % 2 == 0):
                raise ValueError(f"{len(values)} values")
            if values[0] != int(values[0]):
                raise ValueError("a non-integer class")
        except (ValueError, OverflowError) as exc:
            check.report("malformed", label_file,
                         f"{label_file}: line {ln}: {line.strip()[:80]!r} is malformed ({exc}); expected "
                         "'cls cx cy w h' (5 numbers, or 'cls x1 y1 x2 y2 …' for a polygon)",
                         line=ln, action="skipped line")
            continue
        cls = int(values[0])
        attrs: dict[str, Any] = {}
        if len(values) == 5:
            cx, cy, w, h = values[1:]
            box = ((cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height)
        else:
            xs = [v * width for v in values[1::2]]
            ys = [v * height for v in values[2::2]]
            box = (min(xs), min(ys), max(xs), max(ys))
            attrs["segmentation"] = [[c for xy in zip(xs, ys) for c in xy]]
        raw.append(RawObject(box, cls, where=f"line {ln} (object {len(raw)})", line=ln, index=len(raw),
                             attributes=attrs, class_label=str(cls)))
    return raw


def _read_images(base: Path, images: list[Path], *, classes: list[str], check: Checker, split: str | None,
                 records: list[ImageRecord], source: Path) -> None:
    for img in images:
        rel = Path(os.path.relpath(img, base)).as_posix()
        size = check.image(base, rel, source=source)
        if size is None:
            continue
        label = _label_path(img)
        raw = _parse_labels(label, check=check, image=rel, width=size[0], height=size[1]) if label.is_file() else []
        objects = check.objects(raw, source=label, image=rel, width=size[0], height=size[1],
                                num_classes=len(classes), classes=None)
        meta = {"split": split} if split else {}
        records.append(new_record(rel, size[0], size[1], objects, meta=meta))


def read_yolo(root: str | Path, *, split: str | None = None, strict: bool = True) -> DetectionDataset:
    """Read a YOLO detection dataset (ultralytics ``data.yaml`` layout or flat ``images/ labels/ classes.txt``).

    Args:
        root: the dataset folder, or its YAML file.
        split: read only this split (``"train"``, ``"val"``, ``"test"``); None reads every split listed in the YAML
            and records each image's split in ``meta["split"]``. For a flat folder, a split selects ``images/<split>``.
        strict: raise at the first problem (default); False repairs what it can and records every problem
            (see :func:`~vision.data.formats.dataset_problems`).
    Returns:
        The dataset, rooted at the YAML's ``path`` (default the YAML's folder) or the flat folder.
    Raises:
        SourceNotFoundError: ``root`` does not exist.
        DatasetError: no YAML and no ``images/`` + ``labels/`` + ``classes.txt``; an unknown split; a missing or
            unreadable image (strict).
        AnnotationError: malformed YAML or label lines, class ids ≥ the number of names, degenerate or
            out-of-image boxes (strict). Messages name the label file and line.
    """
    root = Path(root)
    if not root.exists():
        raise SourceNotFoundError(f"YOLO dataset not found: {root}")
    check = Checker(strict=strict)
    records: list[ImageRecord] = []
    yaml_path = _find_yaml(root)
    if yaml_path is not None:
        data = _load_yaml(yaml_path)
        classes = _names(data, yaml_path)
        base = yaml_path.parent
        if data.get("path"):
            p = Path(str(data["path"]))
            cand = p if p.is_absolute() else yaml_path.parent / p
            if cand.is_dir():
                base = cand
            else:
                logger.warning("%s: 'path: %s' not found; reading relative to the YAML's folder", yaml_path, p)
        if "val" not in data and "validation" in data:
            data["val"] = data["validation"]
        available = [s for s in _SPLITS if data.get(s)]
        if split is not None and split not in available:
            raise DatasetError(f"{yaml_path}: split {split!r} not listed; expected one of {available}")
        wanted = [split] if split is not None else available
        if not wanted:
            raise DatasetError(f"{yaml_path}: expected 'train', 'val' or 'test' entries, got keys {sorted(data)}")
        seen: set[Path] = set()
        for s in wanted:
            images = [p for p in _split_images(base, data[s], yaml_path, s) if p.resolve() not in seen]
            seen.update(p.resolve() for p in images)  # ultralytics' val often repeats train in tiny datasets
            _read_images(base, images, classes=classes, check=check, split=s, records=records, source=yaml_path)
        return _attach(DetectionDataset(root=base, classes=classes, images=records), check.problems)

    if not root.is_dir():
        raise DatasetError(f"{root}: expected a YOLO dataset folder or its data.yaml, got a file")
    names_file = root / "classes.txt"
    if not ((root / "images").is_dir() and (root / "labels").is_dir() and names_file.is_file()):
        raise DatasetError(
            f"{root}: not a YOLO dataset; looked for {', '.join(_YAML_NAMES)} (or one *.yaml), or a flat layout "
            f"images/ + labels/ + classes.txt (found: {sorted(p.name for p in root.iterdir())[:20]})"
        )
    classes = [ln.strip() for ln in names_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    folder = root / "images"
    if split is not None:
        folder = folder / split
        if not folder.is_dir():
            raise DatasetError(f"{root}: split {split!r} not found; expected a folder {folder}")
    _read_images(root, list_images(folder), classes=classes, check=check, split=split, records=records,
                 source=root)
    return _attach(DetectionDataset(root=root, classes=classes, images=records), check.problems)


# --------------------------------------------------------------------------------------------------
def _num(v: float) -> str:
    s = f"{v:.8f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def _mask_polygon(mask: np.ndarray) -> np.ndarray | None:
    """The largest external contour of a boolean mask as a K×2 float array of pixel indices (None: no ≥ 3-point one).

    cv2.findContours traces the outer boundary pixels; their indices are what ultralytics' own mask converter writes
    (``data.converter.convert_segment_masks_to_yolo_seg``) and what its ``polygon2mask`` (``cv2.fillPoly``) fills back.
    """
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = [c.reshape(-1, 2) for c in contours if len(c) >= 3]
    if not contours:
        return None
    return max(contours, key=lambda c: (cv2.contourArea(c.astype(np.float32)), len(c))).astype(np.float64)


def _polygon_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def _attribute_polygon(segmentation: Any) -> np.ndarray | None:
    """The largest part of a COCO-style polygon list ``[[x1, y1, x2, y2, …], …]`` (absolute pixels) as K×2."""
    if not isinstance(segmentation, (list, tuple)):
        return None  # RLE dicts and other forms: not a polygon
    parts = []
    for part in segmentation:
        try:
            xy = np.asarray(part, np.float64).reshape(-1, 2)
        except (TypeError, ValueError):
            continue
        if len(xy) >= 3 and np.all(np.isfinite(xy)):
            parts.append(xy)
    return max(parts, key=_polygon_area) if parts else None


def _rle_polygon(segmentation: Any, height: int, width: int) -> np.ndarray | None:
    """The largest external contour of a COCO RLE (compressed or not, as ``read_coco`` keeps it); None if undecodable."""
    if not isinstance(segmentation, dict) or "counts" not in segmentation:
        return None
    from pycocotools import mask as mask_utils

    counts = segmentation["counts"]
    try:
        if isinstance(counts, list):
            rle = mask_utils.frPyObjects(segmentation, height, width)
        else:
            rle = dict(segmentation, counts=counts.encode() if isinstance(counts, str) else counts)
        mask = mask_utils.decode(rle).astype(bool).reshape(height, width)
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    return _mask_polygon(mask)


def object_polygons(dataset: DetectionDataset, index: int) -> list[tuple[np.ndarray, str]]:
    """One polygon per object of image ``index`` (absolute pixel coordinates, K×2) and where it came from.

    Sources, in order: the object's pixels in the record's instance-mask PNG (``instance_id`` > 0; the largest
    external contour, found with ``cv2.findContours``), else the largest part of its ``attributes["segmentation"]``
    polygon (what :func:`read_yolo` and the COCO reader keep; a COCO RLE is decoded with pycocotools and traced like
    a mask), else — an empty mask, a contour of fewer than 3 points,
    or no mask at all — the box as a 4-point rectangle (source ``"box"``), so that the object is still a training
    target with the same box (ultralytics derives segment datasets' boxes from the polygons).

    Returns:
        ``[(polygon, source)]`` in the record's object order; ``source`` is ``"mask"``, ``"polygon"`` or ``"box"``.
    Raises:
        SourceNotFoundError / ImageDecodeError / ShapeError: the record's instance-mask PNG is missing, unreadable or
            of another size than its image (:meth:`~vision.data.records.DetectionDataset.instance_map`).
    """
    rec = dataset.images[index]
    inst = None
    if rec.instance_mask and any(o.instance_id > 0 for o in rec.objects):
        inst = dataset.instance_map(index)
    out: list[tuple[np.ndarray, str]] = []
    for o in rec.objects:
        poly, source = None, "box"
        if inst is not None and o.instance_id > 0:
            poly, source = _mask_polygon(inst == o.instance_id), "mask"
        if poly is None and "segmentation" in o.attributes:
            seg = o.attributes["segmentation"]
            poly, source = _attribute_polygon(seg), "polygon"
            if poly is None:
                poly = _rle_polygon(seg, rec.height, rec.width)
        if poly is None:
            x1, y1, x2, y2 = o.bbox
            poly, source = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64), "box"
        out.append((poly, source))
    return out


def _segment_line(cls: int, poly: np.ndarray, width: int, height: int) -> str:
    xs = np.clip(poly[:, 0] / width, 0.0, 1.0)
    ys = np.clip(poly[:, 1] / height, 0.0, 1.0)
    return f"{cls} " + " ".join(f"{_num(x)} {_num(y)}" for x, y in zip(xs, ys)) + "\n"


def write_yolo(dataset: DetectionDataset, out_dir: str | Path, *, split: str | None = "train",
               overwrite: bool = False, segments: bool = False) -> Path:
    """Write ``dataset`` in the ultralytics layout, ready for ``YOLO(...).train(data=<returned path>)``.

    Images are hard-linked (or copied) to ``images/<split>/`` under flat names, labels written to
    ``labels/<split>/<stem>.txt`` (``cls cx cy w h``, 8 decimals; an image without objects gets an empty file), and
    ``data.yaml`` lists ``names`` and the splits. The YAML has no ``path`` key, so ultralytics resolves the splits
    relative to the YAML's folder and the folder can be moved. Writing another split into the same folder adds it to
    the YAML (the class names must match); until a ``val`` split exists, ``val`` points at the train images.

    Args:
        dataset: the dataset; it is validated first, and nothing is written if it has a problem.
        out_dir: the dataset folder to write.
        split: the split to write every image to; None uses each record's ``meta["split"]`` (default ``"train"``).
        overwrite: replace the images and labels of a split that already exists in ``out_dir``.
        segments: write ultralytics segment lines ``cls x1 y1 x2 y2 …`` (normalised polygon vertices) instead of
            boxes, for ``-seg`` models: each object's polygon comes from its instance mask or its
            ``attributes["segmentation"]`` (:func:`object_polygons`); an object with neither, or with an empty mask,
            gets its box as a 4-point polygon, with one logged warning per call saying how many did.
    Returns:
        The ``data.yaml`` path.
    Raises:
        DatasetError / AnnotationError: the dataset has a problem, ``out_dir`` is the dataset's own folder, the split
            already exists (without ``overwrite``) or ``out_dir`` holds a data.yaml with other class names.
        SourceNotFoundError / ImageDecodeError / ShapeError: (``segments``) a bad instance-mask PNG.
    """
    import yaml

    if not isinstance(segments, bool):
        raise InputError(f"write_yolo: segments must be True or False; got {segments!r}")
    out_dir = Path(out_dir)
    check_dataset(dataset, what="write_yolo")
    root = Path(dataset.root)
    if out_dir.exists() and out_dir.resolve() == root.resolve():
        raise DatasetError(f"write_yolo: out_dir {out_dir} is the dataset's own root; expected another folder")
    yaml_path = out_dir / "data.yaml"
    existing: dict = {}
    if yaml_path.is_file():
        existing = _load_yaml(yaml_path)
        if _names(existing, yaml_path) != list(dataset.classes):
            raise DatasetError(f"write_yolo: {yaml_path} has names {_names(existing, yaml_path)[:20]}, expected "
                               f"{list(dataset.classes)[:20]}; write to another folder")
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(dataset.images):
        s = split if split is not None else str(rec.meta.get("split") or "train")
        groups.setdefault(s, []).append(i)
    if split is not None:
        groups.setdefault(split, [])
    names = {s: flat_names([dataset.images[i].file_name for i in idx], what="write_yolo") for s, idx in groups.items()}
    sources = [root / r.file_name for r in dataset.images]
    for s in groups:
        for sub in ("images", "labels"):
            check_empty_target(out_dir / sub / s, what="write_yolo", overwrite=overwrite, sources=sources)

    polygons: dict[int, list[tuple[np.ndarray, str]]] = {}
    if segments:  # every mask is read before anything is written
        polygons = {i: object_polygons(dataset, i) for i in range(len(dataset.images))}
        files = [dataset.images[i].file_name for i, polys in polygons.items() if any(src == "box" for _, src in polys)]
        n_box = sum(src == "box" for polys in polygons.values() for _, src in polys)
        if n_box:
            logger.warning("write_yolo: %d object(s) in %d image(s) (first: %s) have no instance mask or polygon (or "
                           "an empty one); their boxes are written as 4-point polygons", n_box, len(files), files[0])
    for s, idx in groups.items():
        (out_dir / "images" / s).mkdir(parents=True, exist_ok=True)
        (out_dir / "labels" / s).mkdir(parents=True, exist_ok=True)
        for i, name in zip(idx, names[s]):
            rec = dataset.images[i]
            place_file(root / rec.file_name, out_dir / "images" / s / name)
            lines = []
            for k, o in enumerate(rec.objects):
                if segments:
                    lines.append(_segment_line(o.category_id, polygons[i][k][0], rec.width, rec.height))
                    continue
                x1, y1, x2, y2 = o.bbox
                cx, cy = (x1 + x2) / 2 / rec.width, (y1 + y2) / 2 / rec.height
                w, h = (x2 - x1) / rec.width, (y2 - y1) / rec.height
                lines.append(f"{o.category_id} {_num(cx)} {_num(cy)} {_num(w)} {_num(h)}\n")
            (out_dir / "labels" / s / Path(name).with_suffix(".txt")).write_text("".join(lines), encoding="utf-8")

    present = [s for s in _SPLITS if (out_dir / "images" / s).is_dir()] + [s for s in groups if s not in _SPLITS]
    doc: dict[str, Any] = {}
    for s in present:
        doc[s] = f"images/{s}"
    if "train" not in doc:
        doc = {"train": doc[present[0]], **doc}
    if "val" not in doc:
        doc["val"] = doc["train"]
    doc["nc"] = len(dataset.classes)
    doc["names"] = list(dataset.classes)
    header = ("# YOLO dataset written by vision.data.formats.yolo. No 'path' key: ultralytics resolves the splits\n"
              "# relative to this file's folder, so the folder can be moved.\n")
    write_text_atomic(yaml_path, header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return yaml_path
