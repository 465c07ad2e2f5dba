"""Run several detectors on the same images: a table of boxes, latency and mAP, and a side-by-side picture.

Each detector is anything with ``.predict(image) -> Detections`` (every registered detector, or your own object).
Each gets one untimed warm-up call on the first image (lazy weight loading, allocator and thread-pool start-up),
then every image is timed with ``time.perf_counter`` around ``predict`` alone; the table reports the median.
Detectors run one after another in this process, with the thread settings the caller has.

Example:
    >>> from vision.models import create_model
    >>> from vision.data import load_sample
    >>> cmp = compare_detectors([load_sample("astronaut")],
    ...                         {"haar-face": create_model("haar-face"), "hog-people": create_model("hog-people")},
    ...                         path="compare.png")                      # doctest: +SKIP
    >>> print(cmp.table())                                               # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vision.errors import InputError
from vision.types import Detections

if TYPE_CHECKING:
    from vision.metrics.detection import DetectionReport

__all__ = ["CONF_FIELDS", "EVAL_CONF", "IOU_FIELDS", "Comparison", "ComparisonRow", "compare_detectors", "detector_options",
           "evaluate_detector", "shipped_detectors"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComparisonRow:
    """One detector's line of the comparison table.

    Attributes:
        model: the detector's name (the mapping key).
        images: how many images it ran on.
        boxes_per_image: mean number of boxes returned per image.
        latency_ms: median wall time of one ``predict`` call, in milliseconds (warm-up excluded).
        map50, map50_95: COCO mAP on the targets; None without targets or when the model's classes differ from
            the targets' (see ``Comparison.notes``).
    """

    model: str
    images: int
    boxes_per_image: float
    latency_ms: float
    map50: float | None = None
    map50_95: float | None = None


@dataclass(frozen=True, eq=False)
class Comparison:
    """The result of :func:`compare_detectors`.

    Attributes:
        rows: one :class:`ComparisonRow` per detector, in the mapping's order.
        detections: model name → one :class:`~vision.types.Detections` per image.
        latencies_ms: model name → the timed ``predict`` wall times, one per image.
        reports: model name → :class:`~vision.metrics.detection.DetectionReport` (models evaluated on targets).
        notes: model name → why its mAP is missing.
        sheet: the side-by-side picture (H×W×3 uint8 RGB): one row per shown image, one column per model (after a
            ground-truth column when targets were given).
        path: where the sheet was written, or None.
    """

    rows: tuple[ComparisonRow, ...]
    detections: dict[str, list[Detections]]
    latencies_ms: dict[str, list[float]]
    reports: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    sheet: np.ndarray | None = None
    path: Path | None = None

    def table(self) -> str:
        """The comparison as a Markdown table (model, images, boxes / image, latency, mAP50, mAP50-95)."""

        def num(v: float | None) -> str:
            return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

        lines = ["| model | images | boxes / image | latency ms (median) | mAP50 | mAP50-95 |",
                 "|---|---:|---:|---:|---:|---:|"]
        for r in self.rows:
            lines.append(f"| {r.model} | {r.images} | {r.boxes_per_image:.2f} | {r.latency_ms:.1f} | {num(r.map50)} "
                         f"| {num(r.map50_95)} |")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the rows, per-call latencies, notes and the sheet path (no arrays)."""
        return {
            "rows": [r.__dict__.copy() for r in self.rows],
            "latencies_ms": {k: list(v) for k, v in self.latencies_ms.items()},
            "notes": dict(self.notes),
            "reports": {k: v.to_dict() for k, v in self.reports.items()},
            "path": None if self.path is None else str(self.path),
        }


def _check_detectors(detectors: Any) -> dict[str, Any]:
    if not isinstance(detectors, Mapping) or not detectors:
        raise InputError(f"detectors: expected a non-empty mapping name → detector, got {type(detectors).__name__}"
                         + (" (empty)" if isinstance(detectors, Mapping) else ""))
    out = {}
    for name, det in detectors.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"detectors: expected non-empty str names, got {name!r}")
        if not callable(getattr(det, "predict", None)):
            raise InputError(f"detectors[{name!r}]: expected an object with .predict(image) -> Detections, got "
                             f"{type(det).__name__}")
        out[name] = det
    return out


def _load_images(images: Any) -> tuple[list[np.ndarray], Any]:
    """The images as RGB arrays, and the dataset when ``images`` is one (it doubles as the targets)."""
    from vision.data.records import DetectionDataset
    from vision.io import read_image

    if isinstance(images, DetectionDataset):
        if not len(images):
            raise InputError("images: expected at least one image, got an empty dataset")
        return [read_image(images.image_path(i)) for i in range(len(images))], images
    if isinstance(images, (str, os.PathLike, bytes)) or (isinstance(images, np.ndarray) and images.ndim in (2, 3)
                                                          and images.dtype != object):
        images = [images]
    if not isinstance(images, Sequence) and not isinstance(images, np.ndarray):
        raise InputError(f"images: expected an image, a sequence of images or a DetectionDataset, got "
                         f"{type(images).__name__}")
    if not len(images):
        raise InputError("images: expected at least one image, got none")
    return [read_image(im) for im in images], None


def _check_sheet_path(path: Any) -> Path | None:
    if path is None:
        return None
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InputError(f"path: expected a file path ending in .png, got {str(target)!r}")
    if target.is_dir():
        raise InputError(f"path: {target} is a directory; expected a .png file path")
    return target


def compare_detectors(images: Any, detectors: Mapping[str, Any], *, targets: Any = None,
                      path: str | os.PathLike[str] | None = None, sheet_images: int = 4, cell: int = 320,
                      draw_min_score: float = 0.25) -> Comparison:
    """Run every detector on every image; time, count, evaluate (with targets) and draw them side by side.

    Args:
        images: one image or a sequence (H×W×3 uint8 RGB arrays or anything :func:`vision.io.read_image` reads),
            or a :class:`~vision.data.records.DetectionDataset` (its boxes are then the default ``targets``).
        detectors: name → object with ``.predict(image) -> Detections`` (e.g. ``create_model("haar-face")``).
        targets: ground truth for mAP: a DetectionDataset or one :class:`~vision.types.Detections` per image.
        path: also write the side-by-side sheet here (a ``.png``, written atomically).
        sheet_images: how many of the images (the first ones) the sheet shows, one row each.
        cell: the sheet's cell size in pixels (each image is fitted into a cell×cell square).
        draw_min_score: boxes below this score are left out of the sheet (they still count in the table and mAP).
    Returns:
        A :class:`Comparison` (table rows, detections, per-call latencies, reports, sheet).
    Raises:
        InputError: no images or detectors; a detector without ``predict`` or whose ``predict`` returns something
            other than Detections; targets of another length; a bad ``path``, ``sheet_images``, ``cell`` or
            ``draw_min_score``. Nothing is written when an error is raised.
    """
    from vision.metrics.detection import evaluate_detections
    from vision.viz import annotate, tile

    dets = _check_detectors(detectors)
    target_path = _check_sheet_path(path)
    for name, value, low in (("sheet_images", sheet_images, 1), ("cell", cell, 32)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{name}: expected an integer ≥ {low}, got {value!r}")
    if isinstance(draw_min_score, bool) or not isinstance(draw_min_score, (int, float)) or not 0 <= draw_min_score <= 1:
        raise InputError(f"draw_min_score: expected a number in [0, 1], got {draw_min_score!r}")
    arrays, dataset = _load_images(images)
    if targets is None:
        targets = dataset
    gts: list[Detections] | None = None
    target_names: tuple[str, ...] = ()
    if targets is not None:
        from vision.data.records import DetectionDataset

        if isinstance(targets, DetectionDataset):
            gts, target_names = [targets.detections(i) for i in range(len(targets))], tuple(targets.classes)
        elif isinstance(targets, Sequence) and all(isinstance(t, Detections) for t in targets):
            gts = list(targets)
            target_names = next((t.names for t in gts if t.names), ())
        else:
            raise InputError(f"targets: expected a DetectionDataset or one Detections per image, got "
                             f"{type(targets).__name__}")
        if len(gts) != len(arrays):
            raise InputError(f"targets: expected one per image ({len(arrays)}), got {len(gts)}")

    results: dict[str, list[Detections]] = {}
    latencies: dict[str, list[float]] = {}
    for name, det in dets.items():
        _predict(det, name, arrays[0])  # warm-up, not timed
        out, times = [], []
        for image in arrays:
            t0 = time.perf_counter()
            res = det.predict(image)
            times.append((time.perf_counter() - t0) * 1000.0)
            out.append(_checked(res, name))
        results[name], latencies[name] = out, times
        logger.info("%s: %d images, median %.1f ms", name, len(arrays), float(np.median(times)))

    reports: dict[str, Any] = {}
    notes: dict[str, str] = {}
    rows = []
    for name, out in results.items():
        m50 = m = None
        if gts is not None:
            names = next((d.names for d in out if d.names), ())
            if names and target_names and tuple(names) != tuple(target_names):
                notes[name] = f"classes {list(names)[:6]} differ from the targets' {list(target_names)[:6]}; no mAP"
            else:
                rep = evaluate_detections(out, gts, names=target_names or None)
                reports[name] = rep
                m50, m = _none_if_nan(rep.map50), _none_if_nan(rep.map50_95)
        rows.append(ComparisonRow(model=name, images=len(arrays),
                                  boxes_per_image=float(np.mean([len(d) for d in out])),
                                  latency_ms=float(np.median(latencies[name])), map50=m50, map50_95=m))

    cells, captions = [], []
    for i in range(min(sheet_images, len(arrays))):
        small, scale = _fit(arrays[i], cell)  # draw at the sheet's size so labels stay legible
        if gts is not None:
            cells.append(annotate(small, _scaled(gts[i], scale, small.shape[:2]), show_score=False))
            captions.append(f"ground truth ({len(gts[i])})")
        for name, out in results.items():
            d = out[i].filter(min_score=draw_min_score)
            cells.append(annotate(small, _scaled(d, scale, small.shape[:2])))
            ms = latencies[name][i]
            captions.append(f"{name} {ms:.{1 if ms < 10 else 0}f} ms ({len(d)})")
    cols = len(results) + (gts is not None)
    sheet = tile(cells, cols=cols, cell=cell, captions=captions)
    if target_path is not None:
        from vision.io import write_image

        write_image(target_path, sheet)
    return Comparison(rows=tuple(rows), detections=results, latencies_ms=latencies, reports=reports, notes=notes,
                      sheet=sheet, path=target_path)


#: config fields that hold a detector family's confidence threshold (YOLO, OpenCV, Faster R-CNN, R-CNN / Fast R-CNN)
CONF_FIELDS: tuple[str, ...] = ("conf", "min_score", "box_score_thresh", "score_threshold")
#: config fields that hold a detector family's NMS IoU threshold, in the same order
IOU_FIELDS: tuple[str, ...] = ("iou", "box_nms_thresh", "nms_iou")
#: the confidence threshold detectors are evaluated at (mAP counts low-score boxes), as ``yolo val`` does
EVAL_CONF = 0.001


def _config_class(name: str) -> type:
    """The :class:`~vision.models.config.ModelConfig` subclass registered detector ``name`` takes as ``config=``.

    Read from the factory's ``config_class`` or type hints, so no model (and no weights file) is built.
    """
    import inspect
    import typing

    from vision.models.config import ModelConfig
    from vision.models.registry import model_spec

    spec = model_spec(name)
    if spec.task not in ("detect", "segment"):
        raise InputError(f"model {name!r} is a {spec.task!r} model; expected a detector or an instance segmenter "
                         "(vision models list --task detect|segment)")
    factory = spec.factory

    def specific(cls: Any) -> bool:
        return inspect.isclass(cls) and issubclass(cls, ModelConfig) and cls is not ModelConfig

    if specific(getattr(factory, "config_class", None)):
        return factory.config_class
    try:
        hints = typing.get_type_hints(factory.__init__ if inspect.isclass(factory) else factory)
    except (NameError, TypeError, AttributeError):  # unresolvable annotations
        hints = {}
    annotation = hints.get("config")
    for arg in typing.get_args(annotation) or (annotation,):
        if specific(arg):
            return arg
    raise InputError(f"detector {name!r} declares no config class (config: ModelConfig); cannot set its thresholds")


def _threshold(what: str, value: Any, *, open_low: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not (0.0 < value if open_low else 0.0 <= value) or value > 1.0:
        raise InputError(f"{what}: expected a number in {'(0' if open_low else '[0'}, 1], got {value!r}")
    return float(value)


def detector_options(name: str, *, conf: float | None = None, iou: float | None = None) -> dict[str, float]:
    """The keyword overrides that set registered detector ``name``'s confidence threshold and NMS IoU.

    Each family names them its own way (YOLO ``conf`` / ``iou``, OpenCV ``min_score`` / ``iou``, Faster R-CNN
    ``box_score_thresh`` / ``box_nms_thresh``, R-CNN and Fast R-CNN ``score_threshold`` / ``nms_iou``); this picks the
    fields of ``name``'s config class (see :data:`CONF_FIELDS`, :data:`IOU_FIELDS`) without building the model.

    Args:
        name: a registered detector (``list_models("detect")``) or instance segmenter (Mask R-CNN, YOLO-seg).
        conf: keep detections scoring at least this (``[0, 1]``); None leaves the model's default.
        iou: NMS overlap threshold (``(0, 1]``); None leaves the model's default.
    Returns:
        ``{field: value}`` for ``create_model(name, **options)``; empty when both are None.
    Raises:
        UnknownModelError: ``name`` is not registered.
        InputError: not a detector; ``conf`` / ``iou`` out of range; the detector has no such option.
    Example:
        >>> detector_options("yolov8n", conf=0.4, iou=0.5)
        {'conf': 0.4, 'iou': 0.5}
        >>> detector_options("faster-rcnn-lite0", conf=0.4)
        {'box_score_thresh': 0.4}
    """
    from dataclasses import fields

    wanted = {"conf": None if conf is None else _threshold("conf", conf, open_low=False),
              "iou": None if iou is None else _threshold("iou", iou, open_low=True)}
    names = {f.name for f in fields(_config_class(name))}
    out: dict[str, float] = {}
    for what, candidates in (("conf", CONF_FIELDS), ("iou", IOU_FIELDS)):
        if wanted[what] is None:
            continue
        field_name = next((c for c in candidates if c in names), None)
        if field_name is None:
            raise InputError(f"detector {name!r} has no {what} option (its config has {sorted(names)}); expected one "
                             f"of {list(candidates)}")
        out[field_name] = wanted[what]
    return out


def shipped_detectors() -> list[str]:
    """Registered detectors whose default weights are here, offline (``list_models("detect", available=True)``)."""
    from vision.models.registry import list_models

    return list_models("detect", available=True)


def evaluate_detector(detector: Any, dataset: Any, *, path: str | os.PathLike[str] | None = None,
                      progress: bool = False) -> DetectionReport:
    """Run a detector on every image of a dataset and evaluate it against the dataset's boxes (COCO mAP).

    Args:
        detector: a registered detector's name, or an object with ``.predict(image) -> Detections`` whose class names
            (``.names`` / the results' ``names``) are the dataset's classes in the same order.
        dataset: a :class:`~vision.data.records.DetectionDataset` (e.g. ``detection_scenes("test")`` or
            :func:`vision.data.read_detection_dataset`); images without objects are allowed.
        path: also write the precision–recall curves here (a ``.png``; :func:`~vision.metrics.detection.plot_pr_curves`).
        progress: show a tqdm bar over the images.
    Returns:
        The :class:`~vision.metrics.detection.DetectionReport` (mAP@0.5, mAP@[.5:.95], per-class AP, PR curves).
    Raises:
        InputError: not a detector or a dataset; an empty dataset; the detector's classes differ from the dataset's;
            a ``path`` that is not a ``.png``, or a ``path`` for a dataset without any object (no curve to draw).
            Nothing is written when an error is raised.
        UnknownModelError / WeightsNotFoundError / WeightsError: from building a detector given by name.
    Example:
        >>> from vision.models.detection.scenes_preset import detection_scenes
        >>> report = evaluate_detector("yolov8n", detection_scenes("test", n=20))      # doctest: +SKIP
        >>> print(report.table())                                                     # doctest: +SKIP
    """
    from vision.data.records import DetectionDataset
    from vision.io import read_image
    from vision.metrics.detection import evaluate_detections, plot_pr_curves

    if not isinstance(dataset, DetectionDataset):
        raise InputError(f"dataset: expected a DetectionDataset (vision.data.read_detection_dataset), got "
                         f"{type(dataset).__name__}")
    if not len(dataset):
        raise InputError(f"dataset: expected at least one image, got an empty dataset ({dataset.root})")
    target = _check_sheet_path(path)
    if target is not None and not any(r.objects for r in dataset.images):
        raise InputError(f"path: the dataset at {dataset.root} holds no object, so there is no precision–recall curve "
                         f"to write to {target}")
    if isinstance(detector, str):
        from vision.models.registry import create_model

        _config_class(detector)  # a detector at all? (the error names the model's task)
        name, detector = detector, create_model(detector)
    else:
        name = getattr(detector, "registry_name", None) or type(detector).__name__
        if not callable(getattr(detector, "predict", None)):
            raise InputError(f"detector: expected a registered name or an object with .predict(image) -> Detections, "
                             f"got {type(detector).__name__}")
    names = tuple(getattr(detector, "names", None) or ())
    if names and list(names) != list(dataset.classes):
        raise InputError(f"detector {name!r} detects {list(names)[:8]} but the dataset at {dataset.root} has classes "
                         f"{list(dataset.classes)[:8]}; expected the same class table (train it on this data)")
    indices = range(len(dataset))
    if progress:
        from tqdm.auto import tqdm

        indices = tqdm(indices, desc=f"evaluating {name}", unit="image")
    predictions = [_checked(detector.predict(read_image(dataset.image_path(i))), name) for i in indices]
    report = evaluate_detections(predictions, dataset)
    if target is not None:
        plot_pr_curves(report, target, title=f"{name}: precision–recall @ IoU {report.curve_iou:g} "
                                             f"({report.num_images} images)")
    return report


def _fit(image: np.ndarray, cell: int) -> tuple[np.ndarray, float]:
    import cv2

    s = cell / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * s)), max(1, round(image.shape[0] * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR), s


def _scaled(det: Detections, s: float, shape: tuple[int, ...]) -> Detections:
    """``det`` with boxes (and masks) scaled by ``s`` to an image of ``shape``."""
    import cv2

    h, w = int(shape[0]), int(shape[1])
    masks = None
    if det.masks is not None:
        masks = np.zeros((len(det), h, w), bool)
        for j, m in enumerate(det.masks):
            masks[j] = cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    return Detections(det.xyxy * s, det.scores, det.class_ids, names=det.names, masks=masks,
                      track_ids=det.track_ids, image_shape=(h, w))


def _predict(det: Any, name: str, image: np.ndarray) -> Detections:
    return _checked(det.predict(image), name)


def _checked(res: Any, name: str) -> Detections:
    if not isinstance(res, Detections):
        raise InputError(f"detectors[{name!r}].predict returned {type(res).__name__}; expected a vision.types.Detections")
    return res


def _none_if_nan(v: float) -> float | None:
    return None if math.isnan(v) else float(v)
