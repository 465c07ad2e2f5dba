"""Classification datasets: image folders, CSV label files and in-memory arrays, as one :class:`ClassificationTable`.

* image folder: ``root/<class>/**/<image>`` — class names are the sub-folder names, sorted (as torchvision's
  ``ImageFolder``); images are found recursively by extension.
* CSV (or a pandas DataFrame): one row per image, a file-name column and a label column (class names or ids).
* arrays: ``N×H×W`` or ``N×H×W×C`` uint8 (or float in [0, 1]) images with N labels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vision.data.formats._files import IMAGE_EXTENSIONS, check_empty_target, list_images, place_file, write_text_atomic
from vision.errors import AnnotationError, DatasetError, DTypeError, InputError, ShapeError, SourceNotFoundError

__all__ = ["ClassificationTable", "read_image_folder", "read_csv_labels", "from_arrays", "write_image_folder",
           "write_csv_labels"]

logger = logging.getLogger(__name__)


@dataclass
class ClassificationTable:
    """Images (file paths *or* one in-memory array) with one class id each.

    Attributes:
        classes: the class-name table; ``labels`` index it.
        labels: N int64 class ids.
        paths: N image files (absolute, or relative to the current folder); None for an in-memory table.
        images: an ``N×H×W`` or ``N×H×W×C`` uint8 (or float in [0, 1]) array; None for a file table.
    Raises:
        InputError: neither or both of ``paths``/``images``, lengths that differ, or a label without a class name.
    """

    classes: list[str]
    labels: np.ndarray
    paths: list[Path] | None = None
    images: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.classes = [str(c) for c in self.classes]
        if len(set(self.classes)) != len(self.classes):
            raise InputError(f"classes: expected unique names, got {self.classes[:20]}")
        if (self.paths is None) == (self.images is None):
            raise InputError("ClassificationTable: expected exactly one of paths= or images=")
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
            raise InputError(f"labels: expected a 1-D integer array, got {labels.dtype} array of shape {labels.shape}")
        self.labels = labels.astype(np.int64, copy=False)
        n = len(self.paths) if self.paths is not None else len(self.images)
        if len(self.labels) != n:
            raise InputError(f"labels: expected {n} labels (one per image), got {len(self.labels)}")
        if self.paths is not None:
            self.paths = [Path(p) for p in self.paths]
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            bad = int(np.flatnonzero((self.labels < 0) | (self.labels >= len(self.classes)))[0])
            raise InputError(f"labels: entry {bad} is {int(self.labels[bad])}; expected ids 0..{len(self.classes) - 1}"
                             f" (classes: {self.classes[:20]})")

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        """Images per class name, in class order (zero for an empty class)."""
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, counts)}

    def subset(self, indices: Sequence[int] | np.ndarray) -> ClassificationTable:
        """The rows ``indices`` (e.g. one split from :mod:`vision.data.splits`), with the same class table."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise InputError(f"indices: expected values in [0, {len(self)}), got min {idx.min()} max {idx.max()}")
        return ClassificationTable(
            list(self.classes), self.labels[idx],
            paths=None if self.paths is None else [self.paths[i] for i in idx],
            images=None if self.images is None else self.images[idx],
        )


# --------------------------------------------------------------------------------------------------
def read_image_folder(root: str | Path, *, allow_empty: bool = False) -> ClassificationTable:
    """Read ``root/<class>/…/<image>``: one class per sub-folder (sorted names), images found recursively.

    Hidden files and folders are skipped; files at the top level (outside any class folder) are ignored.

    Args:
        root: the dataset folder.
        allow_empty: accept a class folder without images (as torchvision's ``allow_empty``).
    Returns:
        A file table with absolute paths.
    Raises:
        SourceNotFoundError: ``root`` does not exist.
        DatasetError: ``root`` has no class sub-folders, or a class folder holds no image (unless ``allow_empty``).
    """
    root = Path(root)
    if not root.is_dir():
        raise SourceNotFoundError(f"image folder not found: {root}")
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise DatasetError(f"{root}: expected one sub-folder per class (root/<class>/<image>), found no sub-folders")
    paths: list[Path] = []
    labels: list[int] = []
    for k, d in enumerate(class_dirs):
        files = list_images(d)
        if not files and not allow_empty:
            raise DatasetError(f"{root}: class folder {d.name!r} holds no image files (extensions "
                               f"{sorted(IMAGE_EXTENSIONS)}); expected at least one (or allow_empty=True)")
        paths.extend(f.resolve() for f in files)
        labels.extend([k] * len(files))
    loose = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if loose:
        logger.warning("%s: ignoring %d image(s) outside any class folder, e.g. %s", root, len(loose), loose[0])
    return ClassificationTable([d.name for d in class_dirs], np.asarray(labels, np.int64), paths=paths)


def read_csv_labels(
    csv_path: Any, *, image_col: str = "filename", label_col: str = "label", images_dir: str | Path | None = None,
    classes: Sequence[str] | None = None,
) -> ClassificationTable:
    """Read a CSV file (or a pandas DataFrame) with one image file and one label per row.

    Labels may be class names or integer ids. Names become ids through ``classes`` (default: the sorted distinct
    names); integer ids index ``classes`` (default names ``"0" … "max"``).

    Args:
        csv_path: the CSV file, or a ``pandas.DataFrame``.
        image_col: the column of image file names (relative to ``images_dir`` unless absolute).
        label_col: the column of labels.
        images_dir: the folder relative file names start from; default the CSV's folder (for a DataFrame: the current
            folder).
        classes: the class-name table, fixing the id order (and allowing classes that have no rows).
    Returns:
        A file table.
    Raises:
        SourceNotFoundError: the CSV does not exist.
        DatasetError: malformed CSV, a missing column, no rows, or an image file that does not exist (the message
            names the row and its line in the file).
        AnnotationError: an empty or unknown label, or an empty file name (naming the row).
    """
    import pandas as pd

    if isinstance(csv_path, pd.DataFrame):
        df, source = csv_path, "DataFrame"
        base = Path(images_dir) if images_dir is not None else Path.cwd()

        def where(i: int) -> str:
            return f"{source} row {i}"
    else:
        path = Path(csv_path)
        if not path.is_file():
            raise SourceNotFoundError(f"CSV label file not found: {path}")
        source = str(path)
        try:
            df = pd.read_csv(path, dtype={image_col: str}, skip_blank_lines=True, keep_default_na=False,
                             na_values=[""])
        except pd.errors.EmptyDataError as exc:
            raise DatasetError(f"{path}: expected a CSV with a header ({image_col},{label_col}), got an empty file") from exc
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: malformed CSV: {exc}") from exc
        base = Path(images_dir) if images_dir is not None else path.parent

        def where(i: int) -> str:
            return f"{source} row {i} (line {i + 2})"

    missing = [c for c in (image_col, label_col) if c not in df.columns]
    if missing:
        raise DatasetError(f"{source}: missing column(s) {missing}; expected {image_col!r} and {label_col!r}, "
                           f"got columns {list(df.columns)[:20]}")
    if len(df) == 0:
        raise DatasetError(f"{source}: expected at least one row, got none")
    raw_labels = df[label_col].tolist()
    files = df[image_col].tolist()
    for i, v in enumerate(raw_labels):
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            raise AnnotationError(f"{where(i)}: empty label in column {label_col!r}; expected a class name or id")
    is_ids = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in raw_labels)
    if is_ids:
        ids = np.asarray(raw_labels, dtype=np.int64)
        names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(int(ids.max()) + 1)]
        bad = np.flatnonzero((ids < 0) | (ids >= len(names)))
        if bad.size:
            i = int(bad[0])
            raise AnnotationError(f"{where(i)}: label {int(ids[i])} is not a class id; expected 0..{len(names) - 1}")
    else:
        text = [str(v).strip() for v in raw_labels]
        names = [str(c) for c in classes] if classes is not None else sorted(set(text))
        index = {n: k for k, n in enumerate(names)}
        for i, t in enumerate(text):
            if t not in index:
                raise AnnotationError(f"{where(i)}: unknown label {t!r}; expected one of {names[:20]}")
        ids = np.asarray([index[t] for t in text], dtype=np.int64)
    paths: list[Path] = []
    for i, f in enumerate(files):
        if not isinstance(f, str) or not f.strip():
            raise AnnotationError(f"{where(i)}: empty file name in column {image_col!r}; expected an image path")
        p = Path(f.strip())
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            raise DatasetError(f"{where(i)}: image {f!r} not found at {p}")
        paths.append(p.resolve())
    return ClassificationTable(names, ids, paths=paths)


def from_arrays(images: Any, labels: Any, *, names: Sequence[str] | None = None) -> ClassificationTable:
    """Wrap in-memory images and labels as a table, checking shapes, dtypes and label ranges.

    Args:
        images: ``N×H×W`` (grayscale) or ``N×H×W×C`` (C = 1, 3 or 4) uint8, or float in [0, 1].
        labels: N integer class ids, or N class names (mapped through ``names``, default their sorted set).
        names: the class-name table; default ``"0" … "max id"`` for integer labels.
    Returns:
        An in-memory table.
    Raises:
        ShapeError: wrong number of dimensions or channels, no images, or a label count that differs from N.
        DTypeError: images neither uint8 nor float, or non-integer numeric labels.
        InputError: float images outside [0, 1] or non-finite, negative ids or ids without a name.
    """
    arr = np.asarray(images)
    if arr.ndim not in (3, 4) or (arr.ndim == 4 and arr.shape[-1] not in (1, 3, 4)):
        raise ShapeError(f"images: expected N×H×W or N×H×W×C (C = 1, 3, 4), got shape {arr.shape}")
    if arr.shape[0] == 0 or min(arr.shape[1:3]) == 0:
        raise ShapeError(f"images: expected at least one non-empty image, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        pass
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise InputError("images: expected finite float values in [0, 1], got NaN or inf")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            raise InputError(f"images: expected float values in [0, 1], got range [{lo:.4g}, {hi:.4g}] "
                             "(divide by 255, or pass uint8)")
    else:
        raise DTypeError(f"images: expected uint8 or float in [0, 1], got {arr.dtype}")
    lab = np.asarray(labels)
    if lab.ndim != 1 or len(lab) != arr.shape[0]:
        raise ShapeError(f"labels: expected {arr.shape[0]} labels (one per image), got shape {lab.shape}")
    if lab.dtype.kind in "USO":
        text = [str(v) for v in lab]
        table = [str(n) for n in names] if names is not None else sorted(set(text))
        index = {n: k for k, n in enumerate(table)}
        unknown = [t for t in text if t not in index]
        if unknown:
            raise InputError(f"labels: unknown class name {unknown[0]!r}; expected one of {table[:20]}")
        ids = np.asarray([index[t] for t in text], dtype=np.int64)
    else:
        if lab.dtype.kind == "f" and not np.all(lab == np.round(lab)):
            raise DTypeError(f"labels: expected integer class ids, got non-integer {lab.dtype} values")
        if lab.dtype.kind not in "iuf":
            raise DTypeError(f"labels: expected integer class ids or names, got {lab.dtype}")
        ids = lab.astype(np.int64)
        if ids.min() < 0:
            raise InputError(f"labels: expected class ids ≥ 0, got {int(ids.min())}")
        table = [str(n) for n in names] if names is not None else [str(i) for i in range(int(ids.max()) + 1)]
        if ids.max() >= len(table):
            raise InputError(f"labels: class id {int(ids.max())} has no name; expected ids < {len(table)} "
                             f"(names: {table[:20]})")
    return ClassificationTable(table, ids, images=arr)


# --------------------------------------------------------------------------------------------------
def _check_class_names(classes: list[str]) -> None:
    for c in classes:
        if not c or c in (".", "..") or "/" in c or "\\" in c or c.startswith("."):
            raise InputError(f"classes: {c!r} cannot be a folder name; expected names without '/', '\\' or a "
                             "leading '.'")


def _array_to_pil(img: np.ndarray) -> Any:
    from PIL import Image

    if img.dtype != np.uint8:
        img = np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    return Image.fromarray(img)


def _unique_names(paths: list[Path]) -> list[str]:
    seen: set[str] = set()
    out = []
    for p in paths:
        name, k = p.name, 1
        while name.lower() in seen:
            name = f"{p.stem}_{k}{p.suffix}"
            k += 1
        seen.add(name.lower())
        out.append(name)
    return out


def write_image_folder(table: ClassificationTable, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``table`` as ``out_dir/<class>/<image>``; every class gets a folder (an empty one when it has no image).

    File tables are hard-linked (or copied) under their base names (``_1``, ``_2`` … appended on clashes); in-memory
    tables are written as ``000000.png`` … (float images × 255). Read it back with :func:`read_image_folder`
    (``allow_empty=True`` when some class has no image); class ids then follow the sorted class names.

    Raises:
        InputError: a class name that cannot be a folder name.
        DatasetError: ``out_dir`` already holds files (without ``overwrite``), or a source image is missing.
    """
    if not isinstance(table, ClassificationTable):
        raise InputError(f"table: expected a ClassificationTable, got {type(table).__name__}")
    out_dir = Path(out_dir)
    _check_class_names(table.classes)
    if table.paths is not None:
        missing = [(i, p) for i, p in enumerate(table.paths) if not p.is_file()]
        if missing:
            raise DatasetError(f"write_image_folder: row {missing[0][0]}: image not found at {missing[0][1]}")
    check_empty_target(out_dir, what="write_image_folder", overwrite=overwrite, sources=table.paths or ())
    for k, c in enumerate(table.classes):
        d = out_dir / c
        d.mkdir(parents=True, exist_ok=True)
        idx = np.flatnonzero(table.labels == k)
        if table.paths is not None:
            srcs = [table.paths[i] for i in idx]
            for src, name in zip(srcs, _unique_names(srcs)):
                place_file(src, d / name)
        else:
            for i in idx:
                _array_to_pil(table.images[i]).save(d / f"{int(i):06d}.png")
    return out_dir


def write_csv_labels(table: ClassificationTable, csv_path: str | Path, *, image_col: str = "filename",
                     label_col: str = "label", overwrite: bool = False) -> Path:
    """Write ``table`` as a CSV of ``image_col,label_col`` rows (class names), file names relative to the CSV.

    In-memory tables first get their images written as ``<csv folder>/images/000000.png`` …. The class order is not
    stored: pass ``classes=`` to :func:`read_csv_labels` to restore it (by default names are sorted).

    Raises:
        DatasetError: ``csv_path`` exists (without ``overwrite``), or a source image is missing.
    """
    import csv
    import io

    if not isinstance(table, ClassificationTable):
        raise InputError(f"table: expected a ClassificationTable, got {type(table).__name__}")
    csv_path = Path(csv_path)
    if csv_path.exists() and not overwrite:
        raise DatasetError(f"write_csv_labels: {csv_path} already exists; pass overwrite=True to replace it")
    base = csv_path.parent
    if table.paths is not None:
        missing = [(i, p) for i, p in enumerate(table.paths) if not p.is_file()]
        if missing:
            raise DatasetError(f"write_csv_labels: row {missing[0][0]}: image not found at {missing[0][1]}")
        names = [Path(os.path.relpath(Path(p).resolve(), base.resolve())).as_posix() for p in table.paths]
    else:
        img_dir = base / "images"
        check_empty_target(img_dir, what="write_csv_labels", overwrite=overwrite)
        img_dir.mkdir(parents=True, exist_ok=True)
        names = []
        for i, img in enumerate(table.images):
            _array_to_pil(img).save(img_dir / f"{i:06d}.png")
            names.append(f"images/{i:06d}.png")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([image_col, label_col])
    for name, k in zip(names, table.labels):
        w.writerow([name, table.classes[int(k)]])
    write_text_atomic(csv_path, buf.getvalue())
    return csv_path
