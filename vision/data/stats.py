"""Exploratory statistics of a dataset: classes, image sizes, boxes, duplicates, unreadable files — and a report.

:func:`dataset_stats` takes a detection dataset (COCO / YOLO / VOC path, or a :class:`DetectionDataset`) or a
classification dataset (an image folder, a CSV, or a :class:`ClassificationTable`) and returns a
:class:`DatasetStats` with ``to_dict()`` (JSON-ready), ``to_markdown()`` (an EDA report) and, with ``plots_dir``,
PNG plots (class counts, image sizes, box sizes, boxes per image) linked from the report.

Every image file is read once: its bytes give the SHA-1 used to find exact duplicates, and a full decode with
Pillow finds empty, truncated and non-image files.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from vision.data.formats.classification import ClassificationTable, read_csv_labels, read_image_folder
from vision.data.formats.validation import Problem, dataset_problems, validate_dataset
from vision.data.records import DetectionDataset
from vision.errors import DatasetError, InputError, SourceNotFoundError

__all__ = ["DatasetStats", "dataset_stats", "scan_image_file"]

logger = logging.getLogger(__name__)

_SMALL, _MEDIUM = 32 ** 2, 96 ** 2  # COCO's area thresholds (px²) for small / medium / large objects
_PLOT_TOP_CLASSES = 40


def scan_image_file(path: str | Path) -> tuple[str | None, tuple[int, int] | None, str | None, str | None]:
    """Read and fully decode one image file.

    Returns:
        ``(sha1, (width, height), mode, problem)``: ``problem`` is None for a good image, else why it is unusable
        (missing, empty, not an image, truncated / corrupt); size and mode are None then.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None, None, "missing file"
    except OSError as exc:
        return None, None, None, f"cannot be read ({exc.strerror or exc})"
    digest = hashlib.sha1(data).hexdigest()
    if not data:
        return digest, None, None, "empty file (0 bytes)"
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return digest, (int(im.size[0]), int(im.size[1])), im.mode, None
    except UnidentifiedImageError:
        return digest, None, None, "not an image (Pillow cannot identify the format)"
    except Image.DecompressionBombError as exc:
        return digest, None, None, f"too large to decode safely ({exc})"
    except (OSError, ValueError, SyntaxError) as exc:
        return digest, None, None, f"truncated or corrupt ({exc})"


def _summary(values: Any) -> dict[str, float] | None:
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return None
    return {"min": float(a.min()), "median": float(np.median(a)), "mean": float(a.mean()), "max": float(a.max())}


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _num(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "–"
    return str(int(v)) if float(v).is_integer() else f"{v:.{digits}g}"


@dataclass
class DatasetStats:
    """Statistics of one dataset; see :func:`dataset_stats`.

    ``num_images`` counts the images of the dataset as read; files a reader had to drop (missing, unreadable header)
    are listed in ``corrupt`` with the files that fail to decode. Per-image and per-box arrays are kept for plotting (``widths``, ``heights``, ``boxes_per_image``,
    ``box_rel_w``, ``box_rel_h``, ``box_area``); ``to_dict()`` summarises them.
    """

    kind: str  # "detection" or "classification"
    source: str
    classes: list[str]
    num_images: int
    class_images: dict[str, int]  # images that hold the class (classification: images labelled with it)
    class_objects: dict[str, int] | None = None  # objects per class (detection only)
    widths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    heights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    modes: dict[str, int] = field(default_factory=dict)
    boxes_per_image: np.ndarray | None = field(default=None, repr=False)
    box_rel_w: np.ndarray | None = field(default=None, repr=False)  # box width / image width
    box_rel_h: np.ndarray | None = field(default=None, repr=False)  # box height / image height
    box_area: np.ndarray | None = field(default=None, repr=False)  # box area in px²
    box_image_area: np.ndarray | None = field(default=None, repr=False)  # area of each box's image, px²
    duplicates: list[list[str]] = field(default_factory=list)  # groups of files with identical bytes
    corrupt: list[dict[str, str]] = field(default_factory=list)  # {"file", "reason"}
    unannotated: list[str] = field(default_factory=list)  # images without objects (detection)
    problems: list[Problem] = field(default_factory=list)  # annotation problems found while reading
    plots: dict[str, Path] = field(default_factory=dict)

    # ------------------------------------------------------------------ derived
    @property
    def num_objects(self) -> int | None:
        return None if self.class_objects is None else int(sum(self.class_objects.values()))

    @property
    def box_rel_size(self) -> np.ndarray | None:
        """sqrt(box area / image area) per box: 0.1 means a box about a tenth of the image's side."""
        if self.box_area is None:
            return None
        return np.sqrt(self.box_area / np.maximum(self.box_image_area, 1))

    def _class_rows(self) -> list[dict[str, Any]]:
        rows = []
        for i, c in enumerate(self.classes):
            row: dict[str, Any] = {"id": i, "name": c, "images": int(self.class_images.get(c, 0))}
            if self.class_objects is not None:
                row["objects"] = int(self.class_objects.get(c, 0))
            rows.append(row)
        return rows

    def _imbalance(self) -> float | None:
        counts = [v for v in (self.class_objects or self.class_images).values()]
        if not counts or min(counts) == 0:
            return None if not counts else float("inf")
        return max(counts) / min(counts)

    # ------------------------------------------------------------------ outputs
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-image arrays)."""
        aspect = self.widths / np.maximum(self.heights, 1) if len(self.widths) else []
        d: dict[str, Any] = {
            "kind": self.kind, "source": self.source, "num_images": self.num_images,
            "num_classes": len(self.classes), "classes": self._class_rows(),
            "image_size": {"width": _summary(self.widths), "height": _summary(self.heights),
                           "aspect": _summary(aspect)},
            "modes": dict(self.modes),
            "duplicates": [list(g) for g in self.duplicates],
            "corrupt": [dict(c) for c in self.corrupt],
            "problems": [p.to_dict() for p in self.problems],
            "plots": {k: str(v) for k, v in self.plots.items()},
        }
        imb = self._imbalance()
        d["imbalance_ratio"] = None if imb is None or not np.isfinite(imb) else imb
        if self.kind == "detection":
            area = self.box_area if self.box_area is not None else np.zeros(0)
            d.update({
                "num_objects": self.num_objects,
                "boxes_per_image": _summary(self.boxes_per_image),
                "box_size": {
                    "relative": _summary(self.box_rel_size), "relative_width": _summary(self.box_rel_w),
                    "relative_height": _summary(self.box_rel_h),
                    "small": int(np.sum(area < _SMALL)), "medium": int(np.sum((area >= _SMALL) & (area < _MEDIUM))),
                    "large": int(np.sum(area >= _MEDIUM)),
                },
                "unannotated": list(self.unannotated),
            })
        return d

    def to_markdown(self, *, relative_to: str | Path | None = None, max_list: int = 20) -> str:
        """An EDA report in Markdown; plot links are relative to ``relative_to`` (the report's folder) when given."""
        d = self.to_dict()
        det = self.kind == "detection"
        out = [f"# Dataset report: `{_md(self.source)}`", "", "| | |", "|---|---|", f"| kind | {self.kind} |",
               f"| images | {self.num_images} |"]
        if det:
            out.append(f"| objects | {self.num_objects} |")
        out.append(f"| classes | {len(self.classes)} |")
        imb = self._imbalance()
        if imb is not None:
            out.append(f"| class imbalance (largest / smallest class) | {'∞' if not np.isfinite(imb) else f'{imb:.2f}'} |")
        if det:
            out.append(f"| images without objects | {len(self.unannotated)} |")
        n_dup = sum(len(g) for g in self.duplicates)
        out += [f"| duplicate files (same bytes) | {n_dup} in {len(self.duplicates)} group(s) |",
                f"| unreadable files | {len(self.corrupt)} |", f"| annotation problems | {len(self.problems)} |", ""]

        out += ["## Classes", ""]
        if det:
            total = max(self.num_objects or 0, 1)
            out += ["| id | class | images | objects | share of objects |", "|---:|---|---:|---:|---:|"]
            out += [f"| {r['id']} | {_md(r['name'])} | {r['images']} | {r['objects']} | {100 * r['objects'] / total:.1f}% |"
                    for r in d["classes"]]
        else:
            total = max(self.num_images, 1)
            out += ["| id | class | images | share |", "|---:|---|---:|---:|"]
            out += [f"| {r['id']} | {_md(r['name'])} | {r['images']} | {100 * r['images'] / total:.1f}% |"
                    for r in d["classes"]]
        empty = [r["name"] for r in d["classes"] if (r.get("objects") if det else r["images"]) == 0]
        if empty:
            out += ["", f"Classes with no {'objects' if det else 'images'}: {', '.join(map(_md, empty[:max_list]))}"]
        out.append("")

        size = d["image_size"]
        out += ["## Image sizes", ""]
        if size["width"] is None:
            out += ["No readable image.", ""]
        else:
            out += ["| | min | median | max |", "|---|---:|---:|---:|"]
            for key, label in (("width", "width (px)"), ("height", "height (px)"), ("aspect", "aspect (w / h)")):
                s = size[key]
                out.append(f"| {label} | {_num(s['min'])} | {_num(s['median'])} | {_num(s['max'])} |")
            distinct = len(set(zip(self.widths.tolist(), self.heights.tolist())))
            modes = ", ".join(f"{k} {v}" for k, v in sorted(self.modes.items(), key=lambda kv: -kv[1]))
            out += ["", f"{distinct} distinct size(s). Pixel modes: {modes or '–'}.", ""]

        if det:
            bpi, bs = d["boxes_per_image"], d["box_size"]
            out += ["## Boxes", ""]
            if bpi is not None:
                out.append(f"Boxes per image: min {_num(bpi['min'])}, median {_num(bpi['median'])}, "
                           f"mean {bpi['mean']:.2f}, max {_num(bpi['max'])}.")
            if bs["relative"] is not None:
                r = bs["relative"]
                out += ["", (f"Relative box size √(box area / image area): min {r['min']:.3f}, "
                             f"median {r['median']:.3f}, max {r['max']:.3f}."), "",
                        (f"By COCO area: small (< 32² px) {bs['small']}, medium {bs['medium']}, "
                         f"large (≥ 96² px) {bs['large']}.")]
            out.append("")

        def listing(title: str, items: list[str]) -> None:
            nonlocal out
            if not items:
                return
            out += [f"## {title}", ""] + [f"- {x}" for x in items[:max_list]]
            if len(items) > max_list:
                out.append(f"- … and {len(items) - max_list} more")
            out.append("")

        listing("Duplicates (identical file bytes)", [" = ".join(f"`{_md(f)}`" for f in g) for g in self.duplicates])
        if self.corrupt:
            out += ["## Unreadable files", "", "| file | reason |", "|---|---|"]
            out += [f"| `{_md(c['file'])}` | {_md(c['reason'])} |" for c in self.corrupt[:max_list]]
            if len(self.corrupt) > max_list:
                out.append(f"| … | {len(self.corrupt) - max_list} more |")
            out.append("")
        if det:
            listing("Images without objects", [f"`{_md(f)}`" for f in self.unannotated])
        listing("Annotation problems", [_md(str(p)) for p in self.problems])

        if self.plots:
            out += ["## Plots", ""]
            titles = {"class_counts": "Class counts", "image_sizes": "Image sizes", "box_sizes": "Box sizes",
                      "boxes_per_image": "Boxes per image"}
            for name, path in self.plots.items():
                link = Path(os.path.relpath(path, relative_to)) if relative_to is not None else Path(path)
                out += [f"![{titles.get(name, name)}]({link.as_posix()})", ""]
        return "\n".join(out).rstrip() + "\n"

    def write_markdown(self, path: str | Path) -> Path:
        """Write :meth:`to_markdown` to ``path``, with plot links relative to its folder."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_markdown(relative_to=path.parent), encoding="utf-8")
        return path


# --------------------------------------------------------------------------------------------------
def _load(source: Any, fmt: str | None) -> tuple[DetectionDataset | ClassificationTable, str]:
    from vision.data.formats import detect_format, read_detection_dataset

    if isinstance(source, (DetectionDataset, ClassificationTable)):
        name = str(source.root) if isinstance(source, DetectionDataset) else f"{type(source).__name__}"
        return source, name
    if not isinstance(source, (str, os.PathLike)):
        raise InputError(f"path_or_dataset: expected a path, DetectionDataset or ClassificationTable, got "
                         f"{type(source).__name__}")
    p = Path(source)
    if not p.exists():
        raise SourceNotFoundError(f"dataset not found: {p}")
    fmt = fmt.lower() if fmt else None
    if fmt is None:
        if p.is_file() and p.suffix.lower() == ".csv":
            fmt = "csv"
        else:
            try:
                fmt = detect_format(p)
            except DatasetError:
                if not p.is_dir():
                    raise
                fmt = "imagefolder"
    if fmt in ("coco", "yolo", "voc"):
        return read_detection_dataset(p, format=fmt, strict=False), str(p)
    if fmt == "imagefolder":
        return read_image_folder(p, allow_empty=True), str(p)
    if fmt == "csv":
        return read_csv_labels(p), str(p)
    raise InputError(f"format: expected 'coco', 'yolo', 'voc', 'imagefolder' or 'csv', got {fmt!r}")


def _scan(files: Iterable[tuple[str, Path]], stats: DatasetStats) -> dict[str, tuple[int, int]]:
    """Hash and decode every file; fill duplicates, corrupt, modes; return the readable sizes by display name."""
    by_hash: dict[str, list[str]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for name, path in files:
        digest, size, mode, problem = scan_image_file(path)
        if digest is not None:
            by_hash.setdefault(digest, []).append(name)
        if problem is not None:
            stats.corrupt.append({"file": name, "reason": problem})
            continue
        sizes[name] = size
        stats.modes[mode] = stats.modes.get(mode, 0) + 1
    stats.duplicates = [g for g in by_hash.values() if len(g) > 1]
    return sizes


def dataset_stats(path_or_dataset: Any, *, format: str | None = None, plots_dir: str | Path | None = None,
                  progress: bool = False) -> DatasetStats:
    """Statistics of a detection or classification dataset, for a first look before training.

    Detection datasets are read non-strictly: their annotation problems (clipped or dropped boxes, unknown classes,
    missing images) are listed in ``problems`` / ``corrupt`` instead of stopping the scan.

    Args:
        path_or_dataset: a COCO JSON / YOLO / VOC dataset path, an image folder, a CSV of labels, a
            :class:`~vision.data.records.DetectionDataset` or a :class:`~vision.data.formats.ClassificationTable`.
        format: ``"coco"``, ``"yolo"``, ``"voc"``, ``"imagefolder"`` or ``"csv"``; None detects it.
        plots_dir: write PNG plots there (``class_counts``, ``image_sizes``, and for detection ``box_sizes``,
            ``boxes_per_image``) and list them in ``plots``.
        progress: show a tqdm progress bar while scanning files.
    Returns:
        The :class:`DatasetStats`.
    Raises:
        SourceNotFoundError: the path does not exist.
        InputError: an unknown ``format`` or input type.
        DatasetError: the dataset cannot be read at all (e.g. malformed JSON, no class folders).
    Example:
        >>> s = dataset_stats("datasets/scenes", plots_dir="/tmp/eda")   # doctest: +SKIP
        >>> print(s.to_markdown())                                         # doctest: +SKIP
    """
    data, source = _load(path_or_dataset, format)
    if isinstance(data, DetectionDataset):
        stats = _detection_stats(data, source, progress=progress)
    else:
        stats = _classification_stats(data, source, progress=progress)
    if plots_dir is not None:
        stats.plots = _write_plots(stats, Path(plots_dir))
    return stats


def _progress(items: list, enabled: bool, desc: str) -> Any:
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc)


def _detection_stats(ds: DetectionDataset, source: str, *, progress: bool) -> DatasetStats:
    root = Path(ds.root)
    problems = dataset_problems(ds)
    seen = {p.message for p in problems}
    problems += [p for p in validate_dataset(ds, check_files=False) if p.message not in seen]
    classes = list(ds.classes)
    stats = DatasetStats(kind="detection", source=source, classes=classes, num_images=len(ds.images),
                         class_images={c: 0 for c in classes}, class_objects={c: 0 for c in classes},
                         problems=problems)
    for p in problems:  # images the reader dropped because they are missing or unreadable
        if p.kind in ("missing_image", "unreadable_image") and p.action == "dropped image":
            stats.corrupt.append({"file": p.image or p.file,
                                  "reason": "missing file" if p.kind == "missing_image" else "unreadable header"})
    files = [(rec.file_name, root / rec.file_name) for rec in ds.images]
    sizes = _scan(_progress(files, progress, "scanning images"), stats)
    w, h, per_image, rel_w, rel_h, area, img_area = [], [], [], [], [], [], []
    for rec in ds.images:
        sz = sizes.get(rec.file_name)
        if sz is not None:
            w.append(sz[0])
            h.append(sz[1])
        per_image.append(len(rec.objects))
        if not rec.objects:
            stats.unannotated.append(rec.file_name)
        for cid in {o.category_id for o in rec.objects}:
            if 0 <= cid < len(classes):
                stats.class_images[classes[cid]] += 1
        for o in rec.objects:
            if 0 <= o.category_id < len(classes):
                stats.class_objects[classes[o.category_id]] += 1
            bw, bh = o.bbox[2] - o.bbox[0], o.bbox[3] - o.bbox[1]
            rel_w.append(bw / max(rec.width, 1))
            rel_h.append(bh / max(rec.height, 1))
            area.append(bw * bh)
            img_area.append(rec.width * rec.height)
    stats.widths, stats.heights = np.asarray(w, np.int64), np.asarray(h, np.int64)
    stats.boxes_per_image = np.asarray(per_image, np.int64)
    stats.box_rel_w, stats.box_rel_h = np.asarray(rel_w, np.float64), np.asarray(rel_h, np.float64)
    stats.box_area, stats.box_image_area = np.asarray(area, np.float64), np.asarray(img_area, np.float64)
    return stats


def _classification_stats(table: ClassificationTable, source: str, *, progress: bool) -> DatasetStats:
    stats = DatasetStats(kind="classification", source=source, classes=list(table.classes), num_images=len(table),
                         class_images=table.class_counts())
    if table.images is not None:
        n, h, w = table.images.shape[:3]
        stats.widths, stats.heights = np.full(n, w, np.int64), np.full(n, h, np.int64)
        channels = 1 if table.images.ndim == 3 else table.images.shape[-1]
        stats.modes = {f"{channels}-channel {table.images.dtype}": n}
        by_hash: dict[str, list[str]] = {}
        for i in range(n):
            by_hash.setdefault(hashlib.sha1(np.ascontiguousarray(table.images[i]).tobytes()).hexdigest(), []).append(
                f"#{i}")
        stats.duplicates = [g for g in by_hash.values() if len(g) > 1]
        return stats
    common = Path(os.path.commonpath([str(p) for p in table.paths])) if table.paths else Path(".")
    if common in table.paths:  # a single file
        common = common.parent
    files = [(Path(os.path.relpath(p, common)).as_posix(), p) for p in table.paths]
    sizes = _scan(_progress(files, progress, "scanning images"), stats)
    stats.widths = np.asarray([s[0] for s in sizes.values()], np.int64)
    stats.heights = np.asarray([s[1] for s in sizes.values()], np.int64)
    return stats


# --------------------------------------------------------------------------------------------------
# Plots (matplotlib's object API with the Agg canvas: no pyplot state, no GUI backend)
# --------------------------------------------------------------------------------------------------
def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    return path


def _plot_classes(stats: DatasetStats, path: Path) -> Path:
    det = stats.kind == "detection"
    counts = stats.class_objects if det else stats.class_images
    order = sorted(range(len(stats.classes)), key=lambda i: (-counts[stats.classes[i]], i))[:_PLOT_TOP_CLASSES]
    names = [stats.classes[i] for i in order]
    fig = _figure(7.5, 1.2 + 0.32 * max(len(names), 1))
    ax = fig.add_subplot()
    y = np.arange(len(names))
    if det:
        ax.barh(y - 0.2, [stats.class_objects[n] for n in names], height=0.4, label="objects", color="#1f77b4")
        ax.barh(y + 0.2, [stats.class_images[n] for n in names], height=0.4, label="images with the class",
                color="#ff7f0e")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(y, [stats.class_images[n] for n in names], height=0.6, color="#1f77b4")
    labels = [(yi - 0.2, stats.class_objects[n]) for yi, n in zip(y, names)] if det else []
    labels += [(yi + (0.2 if det else 0), stats.class_images[n]) for yi, n in zip(y, names)]
    for yi, v in labels:
        ax.annotate(str(v), (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(y, labels=names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("count")
    extra = f" (top {_PLOT_TOP_CLASSES} of {len(stats.classes)})" if len(stats.classes) > _PLOT_TOP_CLASSES else ""
    ax.set_title(f"{'Objects and images' if det else 'Images'} per class{extra}")
    ax.margins(x=0.12)
    return _save(fig, path)


def _plot_sizes(stats: DatasetStats, path: Path) -> Path:
    fig = _figure(6, 5)
    ax = fig.add_subplot()
    pairs, counts = np.unique(np.stack([stats.widths, stats.heights], 1), axis=0, return_counts=True)
    ax.scatter(pairs[:, 0], pairs[:, 1], s=20 + 180 * np.sqrt(counts / counts.max()), alpha=0.6, color="#1f77b4",
               edgecolors="k", linewidths=0.5)
    top = max(int(pairs.max()), 1) * 1.15
    if len(pairs) <= 12:
        for (w, h), c in zip(pairs, counts):
            right = w > 0.6 * top  # label on the left of points near the right edge, so it stays inside
            ax.annotate(f"{w}×{h} ({c})", (w, h), xytext=(-9 if right else 9, 6), textcoords="offset points",
                        fontsize=7, ha="right" if right else "left")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    for ratio, style, label in ((1.0, "-", "1:1"), (4 / 3, "--", "4:3"), (16 / 9, ":", "16:9")):
        ax.plot([0, top], [0, top / ratio], style, color="0.6", lw=0.8, label=f"aspect {label}")
    ax.set_aspect("equal")
    ax.set_xlabel("width (px)")
    ax.set_ylabel("height (px)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"Image sizes ({len(stats.widths)} images, {len(pairs)} distinct; marker area ~ count)")
    return _save(fig, path)


def _plot_boxes(stats: DatasetStats, path: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    fig = _figure(10, 4)
    ax1, ax2 = fig.subplots(1, 2)
    rel = stats.box_rel_size
    ax1.hist(rel, bins=np.linspace(0, 1, 26), color="#1f77b4", edgecolor="white")
    ax1.set_xlabel("√(box area / image area)")
    ax1.set_ylabel("boxes")
    ax1.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.set_title("Relative box size")
    ax2.scatter(stats.box_rel_w, stats.box_rel_h, s=8, alpha=0.5, color="#1f77b4")
    ax2.plot([0, 1], [0, 1], color="0.6", lw=0.8)
    ax2.set_xlim(0, 1.02)
    ax2.set_ylim(0, 1.02)
    ax2.set_aspect("equal")
    ax2.set_xlabel("box width / image width")
    ax2.set_ylabel("box height / image height")
    ax2.set_title("Box shape")
    fig.suptitle(f"Box sizes ({len(rel)} boxes)")
    return _save(fig, path)


def _plot_boxes_per_image(stats: DatasetStats, path: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    fig = _figure(6.5, 4)
    ax = fig.add_subplot()
    counts = np.bincount(stats.boxes_per_image)
    xs = np.arange(len(counts))
    ax.bar(xs, counts, color="#1f77b4", width=0.8)
    ax.set_xlabel("objects in the image")
    ax.set_ylabel("images")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(xs) <= 30:
        ax.set_xticks(xs)
    ax.set_title(f"Objects per image ({len(stats.boxes_per_image)} images, "
                 f"mean {stats.boxes_per_image.mean():.2f})")
    return _save(fig, path)


def _write_plots(stats: DatasetStats, plots_dir: Path) -> dict[str, Path]:
    plots_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    if stats.classes:
        out["class_counts"] = _plot_classes(stats, plots_dir / "class_counts.png")
    if len(stats.widths):
        out["image_sizes"] = _plot_sizes(stats, plots_dir / "image_sizes.png")
    if stats.kind == "detection":
        if stats.box_area is not None and len(stats.box_area):
            out["box_sizes"] = _plot_boxes(stats, plots_dir / "box_sizes.png")
        if stats.boxes_per_image is not None and len(stats.boxes_per_image):
            out["boxes_per_image"] = _plot_boxes_per_image(stats, plots_dir / "boxes_per_image.png")
    return out
