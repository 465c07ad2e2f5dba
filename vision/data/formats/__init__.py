"""Dataset formats: COCO JSON, YOLO txt, Pascal VOC XML (detection) and image folders / CSV / arrays (classification).

Every detection reader returns a :class:`~vision.data.records.DetectionDataset` (absolute-pixel ``xyxy`` boxes) and
every writer takes one, so ``convert_dataset(src, dst, to="yolo")`` is ``write_yolo(read_…(src), dst)``. All readers
share one validator (:mod:`vision.data.formats.validation`): ``strict=True`` raises at the first problem,
``strict=False`` repairs and records problems, returned by :func:`dataset_problems`.

Example:
    >>> ds = read_detection_dataset("datasets/scenes/data.yaml")          # doctest: +SKIP
    >>> convert_dataset("datasets/scenes", "/tmp/scenes_coco", to="coco")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from vision.data.formats.classification import (
    ClassificationTable,
    from_arrays,
    read_csv_labels,
    read_image_folder,
    write_csv_labels,
    write_image_folder,
)
from vision.data.formats.coco import read_coco, write_coco
from vision.data.formats.validation import Problem, check_dataset, dataset_problems, validate_dataset
from vision.data.formats.voc import read_voc, write_voc
from vision.data.formats.yolo import read_yolo, write_yolo
from vision.data.records import DetectionDataset
from vision.errors import DatasetError, InputError, SourceNotFoundError

__all__ = [
    "read_coco", "write_coco", "read_yolo", "write_yolo", "read_voc", "write_voc",
    "read_detection_dataset", "convert_dataset", "detect_format", "DETECTION_FORMATS",
    "Problem", "validate_dataset", "dataset_problems", "check_dataset",
    "ClassificationTable", "read_image_folder", "read_csv_labels", "from_arrays", "write_image_folder",
    "write_csv_labels",
]

#: Detection formats :func:`read_detection_dataset` and :func:`convert_dataset` know.
DETECTION_FORMATS = ("coco", "yolo", "voc")


def detect_format(path: str | Path) -> str:
    """Which detection format ``path`` holds: ``"coco"``, ``"yolo"`` or ``"voc"``.

    A ``.json`` file (or a folder holding exactly one, directly or in ``annotations/``) is COCO; a ``.yaml`` file,
    a folder with a ``data.yaml`` or a ``labels/`` folder is YOLO; a folder with ``Annotations/`` is VOC.

    Raises:
        SourceNotFoundError: ``path`` does not exist.
        DatasetError: none of those was found; the message lists what was looked for.
    """
    p = Path(path)
    if not p.exists():
        raise SourceNotFoundError(f"dataset not found: {p}")
    if p.is_file():
        if p.suffix.lower() == ".json":
            return "coco"
        if p.suffix.lower() in (".yaml", ".yml"):
            return "yolo"
        raise DatasetError(f"{p}: cannot tell the dataset format of a {p.suffix or 'suffix-less'} file; expected a "
                           "COCO .json or a YOLO .yaml")
    if _scenes_layout(p).get("coco"):
        return "coco"
    if any((p / n).is_file() for n in ("data.yaml", "data.yml", "dataset.yaml", "dataset.yml")):
        return "yolo"
    if (p / "Annotations").is_dir():
        return "voc"
    if (p / "labels").is_dir():
        return "yolo"
    if len(list(p.glob("*.json"))) == 1 or len(list(p.glob("annotations/*.json"))) == 1:
        return "coco"
    raise DatasetError(
        f"{p}: cannot tell the dataset format; looked for a COCO *.json (here or in annotations/), a YOLO "
        f"data.yaml or labels/ folder, and a VOC Annotations/ folder (found: "
        f"{sorted(x.name for x in p.iterdir())[:20]}); pass format= explicitly"
    )


def _scenes_layout(p: Path) -> dict[str, str]:
    """The ``layout`` of a folder written by :func:`vision.data.scenes.make_scenes` (its ``dataset.yaml`` card
    names its COCO / YOLO / VOC exports), or ``{}`` for any other folder."""
    card = p / "dataset.yaml"
    if not card.is_file():
        return {}
    import yaml

    try:
        meta = yaml.safe_load(card.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    layout = meta.get("layout") if isinstance(meta, dict) and meta.get("generator") else None
    return {k: str(v) for k, v in layout.items()} if isinstance(layout, dict) else {}


def _coco_file(p: Path) -> Path:
    if p.is_file():
        return p
    exported = _scenes_layout(p).get("coco")
    if exported and (p / exported).is_file():
        return p / exported
    found = list(p.glob("*.json")) or list(p.glob("annotations/*.json"))
    if len(found) != 1:
        raise DatasetError(f"{p}: expected exactly one COCO *.json here or in annotations/, found "
                           f"{[f.name for f in found][:10]}; pass the JSON file itself")
    return found[0]


def read_detection_dataset(path: str | Path, *, format: str | None = None, strict: bool = True) -> DetectionDataset:
    """Read a COCO, YOLO or VOC detection dataset, detecting the format unless given.

    Args:
        path: a COCO JSON file (or a folder holding one), a YOLO folder or data.yaml, or a VOC folder.
        format: ``"coco"``, ``"yolo"`` or ``"voc"``; None detects it (see :func:`detect_format`).
        strict: passed to the reader (raise at the first problem, or repair and record).
    Returns:
        The dataset.
    Raises:
        InputError: an unknown ``format``.
        DatasetError / AnnotationError / SourceNotFoundError: from detection or the reader.
    """
    fmt = (format or detect_format(path)).lower()
    p = Path(path)
    if fmt == "coco":
        return read_coco(_coco_file(p), strict=strict)
    if fmt == "yolo":
        return read_yolo(p, strict=strict)
    if fmt == "voc":
        return read_voc(p, strict=strict)
    raise InputError(f"format: expected one of {list(DETECTION_FORMATS)}, got {format!r}")


def convert_dataset(src: str | Path | DetectionDataset, dst: str | Path, *, to: str, src_format: str | None = None,
                    strict: bool = True, overwrite: bool = False) -> Path:
    """Convert a detection dataset between COCO, YOLO and VOC.

    Args:
        src: the source dataset (path, or an already-read :class:`DetectionDataset`).
        dst: for ``to="coco"`` a ``.json`` path or a folder (then ``<dst>/annotations.json``); else a folder.
        to: ``"coco"``, ``"yolo"`` or ``"voc"``.
        src_format: the source format; None detects it.
        strict: passed to the reader.
        overwrite: passed to the writer.
    Returns:
        What the writer returns: the COCO JSON path, the YOLO data.yaml path, or the VOC folder.
    Raises:
        InputError: an unknown ``to`` format.
        DatasetError / AnnotationError: from reading or writing.
    """
    to = str(to).lower()
    if to not in DETECTION_FORMATS:
        raise InputError(f"to: expected one of {list(DETECTION_FORMATS)}, got {to!r}")
    ds = src if isinstance(src, DetectionDataset) else read_detection_dataset(src, format=src_format, strict=strict)
    dst = Path(dst)
    if to == "coco":
        return write_coco(ds, dst if dst.suffix.lower() == ".json" else dst / "annotations.json", overwrite=overwrite)
    if to == "yolo":
        return write_yolo(ds, dst, split=None, overwrite=overwrite)
    return write_voc(ds, dst, overwrite=overwrite)
