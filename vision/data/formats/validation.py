"""The one validator shared by every dataset reader and writer: boxes, classes, image files.

Readers take ``strict``: with ``strict=True`` (the default) the first problem raises an
:class:`~vision.errors.AnnotationError` (or :class:`~vision.errors.DatasetError` for a missing or unreadable image)
naming the file, line or object index, the box and the image size. With ``strict=False`` they repair what can be
repaired (clip boxes into the image, drop degenerate boxes, unknown classes, malformed lines and missing images) and
record every problem as a :class:`Problem`; :func:`dataset_problems` returns that list. :func:`validate_dataset`
checks an in-memory :class:`~vision.data.records.DetectionDataset` the same way without changing it, and writers
refuse a dataset that has problems, so nothing is written half-way.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import AnnotationError, DatasetError, ImageDecodeError, SourceNotFoundError

__all__ = ["Problem", "validate_dataset", "dataset_problems", "check_dataset", "BOX_TOLERANCE"]

logger = logging.getLogger(__name__)

#: How far (in pixels) a box may stick out of its image before it counts as a problem; within it the box is clipped.
BOX_TOLERANCE = 1.0

#: Kinds of :class:`Problem`, from image level to object level.
PROBLEM_KINDS = (
    "missing_image",     # the image file named by the annotation does not exist
    "unreadable_image",  # the image file exists but its header cannot be read
    "size_mismatch",     # the annotation's width/height differ from the image file's
    "duplicate_image",   # two records name the same image file
    "duplicate_id",      # a COCO file repeats an image or category id
    "missing_mask",      # an instance / semantic mask PNG named by a record does not exist
    "malformed",         # a line, JSON value or XML element cannot be parsed
    "unknown_class",     # a class id or name that is not in the class table
    "degenerate_box",    # zero or negative width or height, or a non-finite coordinate
    "out_of_image",      # a box reaches more than BOX_TOLERANCE px outside the image
)


@dataclass(frozen=True)
class Problem:
    """One problem found while reading or validating a dataset.

    Attributes:
        kind: one of ``PROBLEM_KINDS`` (e.g. ``"out_of_image"``).
        file: the annotation (or image) file concerned, as a string.
        message: a full sentence naming the file, line/object, what was got and what was expected.
        line: 1-based line number in ``file`` where the format has lines (YOLO txt, CSV), else None.
        index: 0-based object index within its image (or image index in a COCO list), else None.
        image: the image (file name relative to the dataset root) the problem is about, when there is one.
        action: what a non-strict reader did about it: ``"clipped"``, ``"dropped object"``, ``"dropped image"``,
            ``"skipped line"``, ``"kept first"`` or ``"reported"`` (nothing changed, e.g. :func:`validate_dataset`).
    """

    kind: str
    file: str
    message: str
    line: int | None = None
    index: int | None = None
    action: str = "reported"
    image: str | None = None

    def __str__(self) -> str:
        return self.message if self.action == "reported" else f"{self.message} [{self.action}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_problems(dataset: DetectionDataset) -> list[Problem]:
    """The problems a non-strict reader found (and repaired) while building ``dataset``; empty when none or strict."""
    return list(dataset.problems)


def _attach(dataset: DetectionDataset, problems: list[Problem]) -> DetectionDataset:
    if problems:
        logger.info("%s: %d annotation problem(s) repaired while reading; see dataset_problems()", dataset.root,
                    len(problems))
    dataset.problems = list(problems)
    return dataset


# --------------------------------------------------------------------------------------------------
# Image files
# --------------------------------------------------------------------------------------------------
def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, from its header only.

    Raises:
        SourceNotFoundError: no such file.
        ImageDecodeError: the file is empty or not an image Pillow can identify.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise SourceNotFoundError(f"image file not found: {path}")
    if path.stat().st_size == 0:
        raise ImageDecodeError(f"{path}: expected an image, got an empty file (0 bytes)")
    try:
        with Image.open(path) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageDecodeError(f"{path}: expected an image file, got unreadable data ({exc})") from exc
    return int(w), int(h)


# --------------------------------------------------------------------------------------------------
# Boxes
# --------------------------------------------------------------------------------------------------
def _fmt_box(box: Iterable[float]) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in box) + "]"


def check_box(
    box: tuple[float, float, float, float], width: int, height: int, *, tolerance: float = BOX_TOLERANCE
) -> tuple[str | None, str, tuple[float, float, float, float] | None]:
    """Check one absolute ``xyxy`` box against its image.

    Returns:
        ``(kind, reason, fixed)``: ``kind`` is None for a good box, else ``"degenerate_box"`` or ``"out_of_image"``;
        ``reason`` says what is wrong; ``fixed`` is the box clipped into the image (None when nothing usable is left).
        A box sticking out by at most ``tolerance`` px is good and comes back clipped.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return "degenerate_box", "has a non-finite coordinate", None
    if x2 <= x1 or y2 <= y1:
        return "degenerate_box", f"has zero or negative size ({x2 - x1:.6g}×{y2 - y1:.6g} px)", None
    clipped = (min(max(x1, 0.0), width), min(max(y1, 0.0), height), min(max(x2, 0.0), width), min(max(y2, 0.0), height))
    fixed = clipped if clipped[2] > clipped[0] and clipped[3] > clipped[1] else None
    outside = max(-x1, -y1, x2 - width, y2 - height)
    if outside > tolerance:
        reason = (
            f"lies outside the {width}×{height} image by {outside:.6g} px "
            f"(expected 0 ≤ x1 < x2 ≤ {width} and 0 ≤ y1 < y2 ≤ {height}, {tolerance:g} px tolerance)"
        )
        return "out_of_image", reason, fixed
    return None, "", fixed


@dataclass
class RawObject:
    """An object as parsed from a file, before validation: absolute xyxy box, class id and where it came from."""

    bbox: tuple[float, float, float, float]
    category_id: int
    where: str  # "line 3", "object 2 (annotation id 17)", ...
    line: int | None = None
    index: int | None = None
    instance_id: int = 0
    attributes: dict[str, Any] | None = None
    class_label: str | None = None  # the name as written in the file, for messages about unknown classes


class Checker:
    """Collects problems for a reader: raises at the first one when strict, else records it and lets the reader repair."""

    def __init__(self, *, strict: bool, repair: bool = True) -> None:
        self.strict = bool(strict)
        self.repair = bool(repair)  # False: only report (validate_dataset); every action is "reported"
        self.problems: list[Problem] = []

    def report(
        self, kind: str, file: str | Path, message: str, *, line: int | None = None, index: int | None = None,
        action: str = "reported", error: type[DatasetError] = AnnotationError, image: str | None = None,
    ) -> None:
        if self.strict:
            raise error(message)
        if not self.repair:
            action = "reported"
        problem = Problem(kind, str(file), message, line=line, index=index, action=action, image=image)
        self.problems.append(problem)
        logger.debug("%s", problem)

    # ------------------------------------------------------------------ image
    def image(
        self, root: Path, file_name: str, *, source: str | Path, declared: tuple[int, int] | None = None,
        check_files: bool = True, action: str = "dropped image",
    ) -> tuple[int, int] | None:
        """Check that ``root / file_name`` exists (and matches ``declared`` (w, h)); return the size to use or None."""
        path = Path(root) / file_name
        if not check_files:
            return declared
        if not path.is_file():
            self.report("missing_image", source, f"{source}: image {file_name!r} not found at {path}",
                        action=action, error=DatasetError, image=file_name)
            return None
        need_header = declared is None or declared[0] <= 0 or declared[1] <= 0
        try:
            actual = image_size(path)
        except ImageDecodeError as exc:
            self.report("unreadable_image", source, f"{source}: image {file_name!r} cannot be read: {exc}",
                        action=action, error=DatasetError, image=file_name)
            return None
        if need_header:
            return actual
        # A rotated (EXIF) photo may report its size swapped; accept either orientation.
        if tuple(declared) != actual and tuple(declared) != actual[::-1]:
            self.report("size_mismatch", source,
                        f"{source}: image {file_name!r} is declared {declared[0]}×{declared[1]} (w×h) but the file "
                        f"is {actual[0]}×{actual[1]}; expected equal sizes",
                        action="used file size", image=file_name)
            return actual
        return declared

    # ------------------------------------------------------------------ objects
    def objects(
        self, raw: Iterable[RawObject], *, source: str | Path, image: str, width: int, height: int, num_classes: int,
        classes: list[str] | None = None,
    ) -> list[ObjectAnnotation]:
        """Validate parsed objects of one image; return those kept (clipped unless report-only)."""
        kept: list[ObjectAnnotation] = []
        for obj in raw:
            at = f"{source}: image {image!r} {obj.where}"
            if not (0 <= obj.category_id < num_classes):
                got = obj.class_label if obj.class_label is not None else obj.category_id
                known = f"ids 0..{num_classes - 1}" if classes is None else f"one of {classes[:20]}"
                self.report("unknown_class", source, f"{at}: unknown class {got!r}; expected {known}",
                            line=obj.line, index=obj.index, action="dropped object", image=image)
                continue
            kind, reason, fixed = check_box(obj.bbox, width, height)
            if kind is not None:
                action = "clipped" if fixed is not None and kind == "out_of_image" else "dropped object"
                self.report(kind, source, f"{at}: box (x1, y1, x2, y2) = {_fmt_box(obj.bbox)} {reason}",
                            line=obj.line, index=obj.index, action=action, image=image)
                if fixed is None:
                    continue
            box = fixed if self.repair else tuple(float(v) for v in obj.bbox)
            kept.append(ObjectAnnotation(bbox=box, category_id=int(obj.category_id), instance_id=int(obj.instance_id),
                                         attributes=dict(obj.attributes or {})))
        return kept


# --------------------------------------------------------------------------------------------------
# Whole datasets
# --------------------------------------------------------------------------------------------------
def validate_dataset(dataset: DetectionDataset, *, check_files: bool = True) -> list[Problem]:
    """Every problem of an in-memory dataset, without changing it.

    Checks each record's image file (exists, readable, same size as recorded) and mask files when ``check_files``,
    duplicate file names, and every box (inside the image within 1 px, positive size) and class id.

    Args:
        dataset: the dataset to check.
        check_files: also open image headers and look for mask files (set False for a pure in-memory check).
    Returns:
        The problems found, in dataset order; empty when the dataset is clean.
    """
    checker = Checker(strict=False, repair=False)
    root = Path(dataset.root)
    source = str(root)
    counts = Counter(rec.file_name for rec in dataset.images)
    seen: set[str] = set()
    for i, rec in enumerate(dataset.images):
        if counts[rec.file_name] > 1 and rec.file_name not in seen:
            checker.report("duplicate_image", source,
                           f"{source}: image {rec.file_name!r} is listed {counts[rec.file_name]} times; expected once",
                           index=i, image=rec.file_name)
        seen.add(rec.file_name)
        if rec.width <= 0 or rec.height <= 0:
            checker.report("size_mismatch", source,
                           f"{source}: image {rec.file_name!r} has size {rec.width}×{rec.height}; expected > 0",
                           index=i, image=rec.file_name)
            continue
        size = checker.image(root, rec.file_name, source=source, declared=(rec.width, rec.height),
                             check_files=check_files, action="reported")
        if check_files:
            for kind, mask in (("instance", rec.instance_mask), ("semantic", rec.semantic_mask)):
                if mask and not (root / mask).is_file():
                    checker.report("missing_mask", source,
                                   f"{source}: image {rec.file_name!r} names {kind} mask {mask!r}, not found at "
                                   f"{root / mask}", index=i, image=rec.file_name)
        w, h = size if size is not None else (rec.width, rec.height)
        raw = [RawObject(o.bbox, o.category_id, where=f"object {j}", index=j) for j, o in enumerate(rec.objects)]
        checker.objects(raw, source=source, image=rec.file_name, width=w, height=h,
                        num_classes=len(dataset.classes))
    return checker.problems


def check_dataset(dataset: DetectionDataset, *, what: str) -> None:
    """Raise the first problem of ``dataset`` (as writers do before writing anything).

    Raises:
        DatasetError: missing/unreadable image or duplicate record (AnnotationError for box and class problems).
    """
    if not isinstance(dataset, DetectionDataset):
        raise DatasetError(f"{what}: expected a DetectionDataset, got {type(dataset).__name__}")
    problems = validate_dataset(dataset)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s); see validate_dataset())" if len(problems) > 1 else ""
        error = DatasetError if first.kind in {"missing_image", "unreadable_image", "missing_mask"} else AnnotationError
        raise error(f"{what}: refusing to write an invalid dataset: {first.message}{more}")


def new_record(file_name: str, width: int, height: int, objects: list[ObjectAnnotation], **kwargs: Any) -> ImageRecord:
    """An :class:`ImageRecord` with a POSIX-style relative file name."""
    return ImageRecord(file_name=Path(file_name).as_posix(), width=int(width), height=int(height), objects=objects,
                       **kwargs)
