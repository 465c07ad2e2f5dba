"""The synthetic-scenes dataset every shipped detector is trained and measured on, cached once per split.

All shipped detectors (R-CNN, Fast R-CNN, Faster R-CNN, YOLO) use exactly :data:`DETECTION_SCENES` with the
seeds in :data:`SPLIT_SEEDS`, so their numbers compare: ``train`` (seed 0) for fitting, ``val`` (seed 1) for model
selection, ``test`` (seed 9) held out for the reported mAP only. Scene ``i`` depends only on ``(seed, i)``, so the
first ``k`` scenes of a split are the same whatever ``n`` is.

:func:`detection_scenes` generates a split with :func:`vision.data.scenes.make_scenes` into
``$VISION_HOME/datasets/scenes-<split>-<n>-v<GENERATOR_VERSION>`` (default ``~/.cache/vision/datasets``) the first
time and reads it back afterwards. The folder is built under a temporary name, completed with a ``records.json``
that holds the full records, and renamed into place, so a half-written cache is never read.

Example:
    >>> from vision.models.detection.scenes_preset import detection_scenes
    >>> test = detection_scenes("test", n=8)          # doctest: +SKIP
    >>> len(test), test.classes[:2]                   # doctest: +SKIP
    (8, ['circle', 'square'])
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.data.scenes import (
    GENERATOR_VERSION,
    SHAPE_CLASSES,
    SceneConfig,
    make_scenes,
)
from vision.errors import DatasetError, InputError

__all__ = [
    "DEFAULT_SIZES",
    "DETECTION_SCENES",
    "SPLIT_SEEDS",
    "TEST_SEED",
    "TRAIN_SEED",
    "VAL_SEED",
    "detection_scenes",
    "scenes_cache_dir",
    "write_scene_pan",
]

logger = logging.getLogger(__name__)

#: The scene recipe of every shipped detector: 256×256, the five shape classes, 1–5 objects of 12–40 % size.
DETECTION_SCENES = SceneConfig(image_size=(256, 256), classes=SHAPE_CLASSES, objects=(1, 5), object_scale=(0.12, 0.4))
TRAIN_SEED = 0
VAL_SEED = 1
TEST_SEED = 9  # held out: never used for training or model selection
#: split name → dataset seed.
SPLIT_SEEDS: dict[str, int] = {"train": TRAIN_SEED, "val": VAL_SEED, "test": TEST_SEED}
#: split name → default number of scenes.
DEFAULT_SIZES: dict[str, int] = {"train": 1000, "val": 100, "test": 200}

_RECORDS = "records.json"
_RECORDS_FORMAT = 1


def scenes_cache_dir() -> Path:
    """The folder cached splits live in: ``$VISION_HOME/datasets`` (default ``~/.cache/vision/datasets``)."""
    home = os.environ.get("VISION_HOME")
    return (Path(home) if home else Path.home() / ".cache" / "vision") / "datasets"


def _check_args(split: Any, n: Any) -> tuple[str, int]:
    if split not in SPLIT_SEEDS:
        raise InputError(f"split: expected one of {list(SPLIT_SEEDS)}, got {split!r}")
    if n is None:
        return split, DEFAULT_SIZES[split]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n: expected an integer ≥ 1 (or None for the default {DEFAULT_SIZES[split]}), got {n!r}")
    return split, n


def detection_scenes(split: str, *, n: int | None = None, root: str | os.PathLike | None = None,
                     workers: int = 1) -> DetectionDataset:
    """The ``split`` of the shipped-detector scenes (``"train"``, ``"val"`` or ``"test"``), generated once and cached.

    The cache folder holds the images, instance / semantic masks, ``annotations.json`` (COCO), ``yolo/data.yaml``,
    ``voc/``, ``dataset.yaml`` (the card) and ``records.json`` (what this function reads back).

    Args:
        split: ``"train"`` (seed 0), ``"val"`` (seed 1) or ``"test"`` (seed 9, held out).
        n: number of scenes; default 1000 / 100 / 200 for train / val / test.
        root: the folder the cache folder is created in; default :func:`scenes_cache_dir`.
        workers: processes to render with the first time (1 = in this process).
    Returns:
        The dataset, rooted at ``<root>/scenes-<split>-<n>-v<GENERATOR_VERSION>``, with masks and meta as generated.
    Raises:
        InputError: unknown ``split``, bad ``n`` or ``workers``.
        DatasetError: the cache folder exists but is not a complete cache of this recipe (the message says which
            folder to delete).
    """
    split, n = _check_args(split, n)
    base = Path(root) if root is not None else scenes_cache_dir()
    out = base / f"scenes-{split}-{n}-v{GENERATOR_VERSION}"
    if out.exists():
        return _read_cache(out, split, n)
    base.mkdir(parents=True, exist_ok=True)
    build = base / f".{out.name}.build-{secrets.token_hex(4)}"
    try:
        ds = make_scenes(build, n=n, seed=SPLIT_SEEDS[split], config=DETECTION_SCENES, workers=workers)
        doc = {"format": _RECORDS_FORMAT, "split": split, "n": n, "seed": SPLIT_SEEDS[split],
               "generator_version": GENERATOR_VERSION, "config": DETECTION_SCENES.to_dict(),
               "classes": list(ds.classes), "images": [_record_to_json(r) for r in ds.images]}
        (build / _RECORDS).write_text(json.dumps(doc), encoding="utf-8")
        try:
            os.replace(build, out)
        except OSError:
            if not (out / _RECORDS).is_file():  # not a concurrent writer that finished first
                raise
            logger.info("another process cached %s first; using its copy", out)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    logger.info("cached %d %s scenes in %s", n, split, out)
    return _read_cache(out, split, n)


def _record_to_json(rec: ImageRecord) -> dict[str, Any]:
    return {"file_name": rec.file_name, "width": rec.width, "height": rec.height,
            "instance_mask": rec.instance_mask, "semantic_mask": rec.semantic_mask, "meta": rec.meta,
            "objects": [{"bbox": list(o.bbox), "category_id": o.category_id, "instance_id": o.instance_id,
                         "attributes": o.attributes} for o in rec.objects]}


def _read_cache(out: Path, split: str, n: int) -> DetectionDataset:
    path = out / _RECORDS
    hint = f"delete {out} to regenerate it"
    if not path.is_file():
        raise DatasetError(f"{out}: expected a scenes cache with {_RECORDS}, found none; {hint}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        want = {"format": _RECORDS_FORMAT, "split": split, "n": n, "seed": SPLIT_SEEDS[split],
                "generator_version": GENERATOR_VERSION, "config": json.loads(json.dumps(DETECTION_SCENES.to_dict()))}
        diff = [k for k, v in want.items() if doc.get(k) != v]
        if diff:
            raise DatasetError(f"{path}: cache made with other {diff} than this preset expects; {hint}")
        images = [ImageRecord(file_name=r["file_name"], width=int(r["width"]), height=int(r["height"]),
                              instance_mask=r["instance_mask"], semantic_mask=r["semantic_mask"], meta=r["meta"],
                              objects=[ObjectAnnotation(bbox=tuple(float(v) for v in o["bbox"]),
                                                        category_id=int(o["category_id"]),
                                                        instance_id=int(o["instance_id"]),
                                                        attributes=o["attributes"]) for o in r["objects"]])
                  for r in doc["images"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path}: unreadable scenes cache ({type(exc).__name__}: {exc}); {hint}") from exc
    if len(images) != n:
        raise DatasetError(f"{path}: expected {n} images, found {len(images)}; {hint}")
    missing = [r.file_name for r in images if not (out / r.file_name).is_file()]
    if missing:
        raise DatasetError(f"{out}: {len(missing)} image file(s) missing, e.g. {missing[0]}; {hint}")
    return DetectionDataset(root=out, classes=list(doc["classes"]), images=images)


def write_scene_pan(path: str | os.PathLike, *, frames: int = 64, step: int = 6, fps: float = 12.0,
                    seed: int = TEST_SEED) -> Path:
    """A video of a camera panning right across one wide held-out scene of the shipped detectors' recipe
    (:data:`DETECTION_SCENES` with 4–8 objects): ``frames`` 256×256 windows, ``step`` pixels apart, written as
    MJPG with :class:`vision.io.VideoSink` (the shapes move right → left in the frame). Returns the path."""
    from dataclasses import replace

    import numpy as np

    from vision.data.scenes import make_scene
    from vision.io import VideoSink

    side = DETECTION_SCENES.image_size[0]
    wide = replace(DETECTION_SCENES, image_size=(side, side + step * (frames - 1)), objects=(4, 8))
    scene, *_ = make_scene(seed, wide)
    with VideoSink(path, fps=fps, codec="MJPG") as sink:
        for i in range(frames):
            sink.write(np.ascontiguousarray(scene[:, i * step:i * step + side]))
    return Path(path)
