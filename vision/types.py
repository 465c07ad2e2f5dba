"""Result types: one per task, validated on creation, JSON round-trip, used by CLI, apps, viz and metrics.

* :class:`Classification` — top-k class ids, scores and the class-name table.
* :class:`Detections` — boxes (xyxy, pixels), scores, class ids, optional instance masks and track ids.
* :class:`Segmentation` — a per-pixel class-id map.

All three keep ``names``, the table that maps a class id to its name, and expose ``labels``, the names of
the items they hold. Arrays are numpy; nothing here imports torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from vision.errors import DTypeError, InputError, ShapeError

__all__ = ["Classification", "Detections", "Segmentation", "mask_to_rle", "rle_to_mask"]


def _describe(a: np.ndarray) -> str:
    return f"{'×'.join(map(str, a.shape)) or 'scalar'} {a.dtype}"


def _as_array(value: Any, *, name: str, dtype: type, ndim: int, cols: int | None = None) -> np.ndarray:
    """Convert ``value`` to a numpy array of ``dtype`` with ``ndim`` dims, or raise a typed error."""
    arr = np.asarray(value)
    if arr.size == 0:
        shape = (0,) if ndim == 1 else (0, cols or 0)
        return np.zeros(shape, dtype=dtype)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise DTypeError(f"{name}: expected a numeric array, got {_describe(arr)}")
    if arr.ndim != ndim or (cols is not None and arr.shape[-1] != cols):
        want = f"N×{cols}" if cols is not None else "N" if ndim == 1 else f"{ndim} dims"
        raise ShapeError(f"{name}: expected shape {want}, got {_describe(arr)}")
    if dtype in (np.int64,) and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise DTypeError(f"{name}: expected integer values, got non-integer floats ({_describe(arr)})")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise InputError(f"{name}: expected finite values, got NaN or inf")
    return arr.astype(dtype, copy=False)


def _check_names(names: Iterable[str] | None) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, dict):  # ultralytics style {id: name}
        n = max(names, default=-1) + 1
        return tuple(str(names.get(i, i)) for i in range(n))
    return tuple(str(x) for x in names)


def _check_ids(ids: np.ndarray, names: tuple[str, ...], what: str) -> None:
    if ids.size and ids.min() < 0:
        raise InputError(f"{what}: expected class ids ≥ 0, got {int(ids.min())}")
    if names and ids.size and ids.max() >= len(names):
        raise InputError(
            f"{what}: class id {int(ids.max())} has no name; expected ids < {len(names)} (names: {list(names)[:10]})"
        )


def _label(names: tuple[str, ...], i: int) -> str:
    return names[i] if 0 <= i < len(names) else str(i)


# --------------------------------------------------------------------------------------------------
# Run-length encoding of binary masks (COCO's uncompressed RLE: column-major counts, starting with 0s)
# --------------------------------------------------------------------------------------------------
def mask_to_rle(mask: np.ndarray) -> dict:
    """Encode an H×W boolean mask as COCO uncompressed RLE ``{"size": [h, w], "counts": [...]}``."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ShapeError(f"mask: expected H×W, got {_describe(m)}")
    flat = m.astype(bool).ravel(order="F")
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0] + counts
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": [int(c) for c in counts]}


def rle_to_mask(rle: dict) -> np.ndarray:
    """Decode COCO uncompressed RLE back to an H×W boolean mask."""
    try:
        h, w = (int(v) for v in rle["size"])
        counts = [int(c) for c in rle["counts"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"rle: expected {{'size': [h, w], 'counts': [int, ...]}}, got {rle!r:.80}") from exc
    if sum(counts) != h * w:
        raise InputError(f"rle: counts sum to {sum(counts)}, expected h×w = {h * w}")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((w, h)).T.copy()


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Classification:
    """Top-k classification of one image.

    Args:
        class_ids: k class ids, best first.
        scores: k probabilities (or scores), same order.
        names: the class-name table (id → name); may be empty.
    Example:
        >>> c = Classification([3, 1], [0.7, 0.2], names=["a", "b", "c", "d"])
        >>> c.top1, c.labels
        ('d', ('d', 'b'))
    """

    class_ids: np.ndarray
    scores: np.ndarray
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ids = _as_array(self.class_ids, name="class_ids", dtype=np.int64, ndim=1)
        scores = _as_array(self.scores, name="scores", dtype=np.float32, ndim=1)
        if len(ids) != len(scores):
            raise ShapeError(f"class_ids and scores: expected equal lengths, got {len(ids)} and {len(scores)}")
        names = _check_names(self.names)
        _check_ids(ids, names, "Classification")
        object.__setattr__(self, "class_ids", ids)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "names", names)

    @classmethod
    def from_probs(cls, probs: Sequence[float] | np.ndarray, *, k: int = 5, names: Sequence[str] = ()) -> "Classification":
        """Build the top-``k`` result from one vector of class probabilities."""
        p = _as_array(probs, name="probs", dtype=np.float32, ndim=1)
        if p.size == 0:
            raise ShapeError("probs: expected at least one class, got an empty vector")
        k = max(1, min(int(k), p.size))
        order = np.argsort(-p, kind="stable")[:k]
        return cls(order, p[order], names=tuple(names))

    def __len__(self) -> int:
        return len(self.class_ids)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(_label(self.names, int(i)) for i in self.class_ids)

    @property
    def top1(self) -> str | None:
        return self.labels[0] if len(self) else None

    def to_dict(self) -> dict:
        return {
            "task": "classify",
            "class_ids": self.class_ids.tolist(),
            "scores": [round(float(s), 6) for s in self.scores],
            "labels": list(self.labels),
            "names": list(self.names),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict) -> "Classification":
        return cls(d["class_ids"], d["scores"], names=tuple(d.get("names", ())))


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Detections:
    """Objects found in one image.

    Args:
        xyxy: N×4 boxes in pixels, (x1, y1, x2, y2) with x1 ≤ x2 and y1 ≤ y2.
        scores: N confidences in [0, 1] (or raw detector scores).
        class_ids: N class ids.
        names: the class-name table (id → name).
        masks: optional N×H×W boolean instance masks.
        track_ids: optional N integer track ids (-1 = untracked).
        image_shape: optional (height, width) of the image the boxes refer to.
    Example:
        >>> d = Detections([[10, 10, 50, 40]], [0.9], [0], names=["face"])
        >>> d.labels, len(d.filter(min_score=0.95))
        (('face',), 0)
    """

    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    names: tuple[str, ...] = ()
    masks: np.ndarray | None = None
    track_ids: np.ndarray | None = None
    image_shape: tuple[int, int] | None = field(default=None)

    def __post_init__(self) -> None:
        xyxy = _as_array(self.xyxy, name="xyxy", dtype=np.float32, ndim=2, cols=4)
        n = len(xyxy)
        scores = _as_array(self.scores, name="scores", dtype=np.float32, ndim=1)
        ids = _as_array(self.class_ids, name="class_ids", dtype=np.int64, ndim=1)
        if len(scores) != n or len(ids) != n:
            raise ShapeError(
                f"Detections: expected xyxy, scores and class_ids of equal length, got {n}, {len(scores)}, {len(ids)}"
            )
        if n and (np.any(xyxy[:, 2] < xyxy[:, 0]) or np.any(xyxy[:, 3] < xyxy[:, 1])):
            bad = int(np.flatnonzero((xyxy[:, 2] < xyxy[:, 0]) | (xyxy[:, 3] < xyxy[:, 1]))[0])
            raise InputError(f"xyxy: expected x1 ≤ x2 and y1 ≤ y2, got box {bad} = {xyxy[bad].tolist()}")
        names = _check_names(self.names)
        _check_ids(ids, names, "Detections")
        shape = None
        if self.image_shape is not None:
            shape = tuple(int(v) for v in tuple(self.image_shape)[:2])
            if len(shape) != 2 or min(shape) <= 0:
                raise ShapeError(f"image_shape: expected (height, width) > 0, got {self.image_shape!r}")
        masks = None
        if self.masks is not None:
            masks = np.asarray(self.masks)
            if masks.ndim != 3 or masks.shape[0] != n:
                raise ShapeError(f"masks: expected {n}×H×W, got {_describe(masks)}")
            if shape is not None and masks.shape[1:] != shape:
                raise ShapeError(f"masks: expected {n}×{shape[0]}×{shape[1]} (image_shape), got {_describe(masks)}")
            masks = masks.astype(bool, copy=False)
            shape = shape or (int(masks.shape[1]), int(masks.shape[2]))
        track = None
        if self.track_ids is not None:
            track = _as_array(self.track_ids, name="track_ids", dtype=np.int64, ndim=1)
            if len(track) != n:
                raise ShapeError(f"track_ids: expected {n} ids, got {len(track)}")
        for key, value in (("xyxy", xyxy), ("scores", scores), ("class_ids", ids), ("names", names),
                           ("masks", masks), ("track_ids", track), ("image_shape", shape)):
            object.__setattr__(self, key, value)

    @classmethod
    def empty(cls, *, names: Sequence[str] = (), image_shape: tuple[int, int] | None = None) -> "Detections":
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), names=tuple(names), image_shape=image_shape)

    @classmethod
    def from_xywh(cls, xywh: Any, scores: Any, class_ids: Any, **kwargs: Any) -> "Detections":
        """Build from (x, y, width, height) boxes, as OpenCV's detectors return them."""
        b = np.asarray(xywh, dtype=np.float32).reshape(-1, 4)
        b = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
        return cls(b, scores, class_ids, **kwargs)

    @classmethod
    def merge(cls, results: Iterable["Detections"], *, image_shape: tuple[int, int] | None = None) -> "Detections":
        """Join the detections of several models on one image into one result.

        Class-name tables are joined by name (``face`` from one model and ``person`` from another become ids 0 and 1),
        so one annotate call colours them apart and one JSON holds them all. Masks and track ids are kept only when
        every input has them.
        Raises:
            ShapeError: the inputs refer to images of different sizes.
        """
        results = list(results)
        shapes = {r.image_shape for r in results if r.image_shape is not None}
        if image_shape is not None:
            shapes.add(tuple(int(v) for v in image_shape))
        if len(shapes) > 1:
            raise ShapeError(f"Detections.merge: expected results for one image size, got {sorted(shapes)}")
        names: list[str] = []
        ids = []
        for det in results:
            remap = []
            for label in (det.names or tuple(str(i) for i in range(int(det.class_ids.max(initial=-1)) + 1))):
                if label not in names:
                    names.append(label)
                remap.append(names.index(label))
            ids.append(np.asarray(remap, np.int64)[det.class_ids] if len(det) else np.zeros(0, np.int64))
        every = bool(results)
        masks = np.concatenate([r.masks for r in results]) if every and all(r.masks is not None for r in results) else None
        tracks = (np.concatenate([r.track_ids for r in results])
                  if every and all(r.track_ids is not None for r in results) else None)
        return cls(
            np.concatenate([np.zeros((0, 4), np.float32), *[r.xyxy for r in results]]),
            np.concatenate([np.zeros(0, np.float32), *[r.scores for r in results]]),
            np.concatenate([np.zeros(0, np.int64), *ids]),
            names=tuple(names), masks=masks, track_ids=tracks, image_shape=next(iter(shapes), None),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> "Detections":
        """Select detections by integer, slice, index array or boolean mask; always returns Detections."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            self.xyxy[index], self.scores[index], self.class_ids[index], names=self.names,
            masks=None if self.masks is None else self.masks[index],
            track_ids=None if self.track_ids is None else self.track_ids[index],
            image_shape=self.image_shape,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(_label(self.names, int(i)) for i in self.class_ids)

    @property
    def area(self) -> np.ndarray:
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def filter(self, *, min_score: float = 0.0, classes: Iterable[int | str] | None = None) -> "Detections":
        """Keep detections with score ≥ ``min_score`` and (optionally) a class id or name in ``classes``."""
        keep = self.scores >= min_score
        if classes is not None:
            wanted = set()
            for c in classes:
                if isinstance(c, str):
                    if c not in self.names:
                        raise InputError(f"classes: unknown class name {c!r}; expected one of {list(self.names)}")
                    wanted.add(self.names.index(c))
                else:
                    wanted.add(int(c))
            keep &= np.isin(self.class_ids, list(wanted))
        return self[keep]

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "task": "detect",
            "xyxy": [[round(float(v), 2) for v in box] for box in self.xyxy],
            "scores": [round(float(s), 6) for s in self.scores],
            "class_ids": self.class_ids.tolist(),
            "labels": list(self.labels),
            "names": list(self.names),
        }
        if self.image_shape is not None:
            d["image_shape"] = list(self.image_shape)
        if self.track_ids is not None:
            d["track_ids"] = self.track_ids.tolist()
        if self.masks is not None:
            d["masks"] = [mask_to_rle(m) for m in self.masks]
        return d

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict) -> "Detections":
        masks = d.get("masks")
        if masks is not None:
            masks = np.stack([rle_to_mask(m) for m in masks]) if masks else None
        return cls(
            np.asarray(d["xyxy"], dtype=np.float32).reshape(-1, 4), d["scores"], d["class_ids"],
            names=tuple(d.get("names", ())), masks=masks, track_ids=d.get("track_ids"),
            image_shape=tuple(d["image_shape"]) if d.get("image_shape") else None,
        )


# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Segmentation:
    """Semantic segmentation of one image: an H×W map of class ids (0 is usually background).

    Args:
        mask: H×W integer class-id map.
        names: the class-name table (id → name).
        confidence: optional H×W per-pixel confidence in [0, 1].
    """

    mask: np.ndarray
    names: tuple[str, ...] = ()
    confidence: np.ndarray | None = None

    def __post_init__(self) -> None:
        m = np.asarray(self.mask)
        if m.ndim != 2 or m.size == 0:
            raise ShapeError(f"mask: expected a non-empty H×W class-id map, got {_describe(m)}")
        if m.dtype.kind not in "biu":
            raise DTypeError(f"mask: expected an integer or bool class-id map, got {_describe(m)}")
        m = m.astype(np.int64, copy=False)
        names = _check_names(self.names)
        _check_ids(m.ravel(), names, "Segmentation")
        conf = None
        if self.confidence is not None:
            conf = np.asarray(self.confidence, dtype=np.float32)
            if conf.shape != m.shape:
                raise ShapeError(f"confidence: expected {m.shape[0]}×{m.shape[1]}, got {_describe(conf)}")
        object.__setattr__(self, "mask", m)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "confidence", conf)

    @property
    def class_ids(self) -> np.ndarray:
        """Class ids present in the map, ascending."""
        return np.unique(self.mask)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(_label(self.names, int(i)) for i in self.class_ids)

    def pixel_counts(self) -> dict[str, int]:
        ids, counts = np.unique(self.mask, return_counts=True)
        return {_label(self.names, int(i)): int(c) for i, c in zip(ids, counts)}

    def to_dict(self) -> dict:
        return {
            "task": "segment",
            "size": list(self.mask.shape),
            "names": list(self.names),
            "pixel_counts": self.pixel_counts(),
            "classes": {str(int(i)): mask_to_rle(self.mask == i) for i in self.class_ids},
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, d: dict) -> "Segmentation":
        h, w = d["size"]
        m = np.zeros((h, w), dtype=np.int64)
        for cid, rle in d["classes"].items():
            m[rle_to_mask(rle)] = int(cid)
        return cls(m, names=tuple(d.get("names", ())))
