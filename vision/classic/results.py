"""What classic ops return when the answer is not just an image: lines, circles, regions, warps.

Each is validated on creation, has ``to_dict()`` for JSON, and is drawn by :func:`vision.viz.annotate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vision.errors import ShapeError

__all__ = ["Lines", "Circles", "Regions", "Warped"]


def _arr(value: Any, dtype: type, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    a = np.asarray(value, dtype=dtype)
    if a.size == 0:
        return np.zeros((0, *shape_tail), dtype)
    if a.ndim != 1 + len(shape_tail) or a.shape[1:] != shape_tail:
        want = "×".join(["N", *map(str, shape_tail)])
        raise ShapeError(f"{name}: expected {want}, got {'×'.join(map(str, a.shape))}")
    return a


def _same_length(owner: str, **arrays: np.ndarray) -> None:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ShapeError(f"{owner}: expected equal lengths, got {lengths}")


@dataclass(frozen=True, eq=False)
class Lines:
    """Straight lines: segments clipped to the image plus their normal form ``x·cosθ + y·sinθ = ρ``.

    Args:
        segments: N×4 end points (x1, y1, x2, y2) in pixels.
        rho: N distances from the image origin (top-left) in pixels.
        theta: N angles of the normal in radians, in [0, π).
        votes: N accumulator votes (-1 where the method gives none).
        image_shape: (height, width) of the image searched.
    """

    segments: np.ndarray
    rho: np.ndarray
    theta: np.ndarray
    votes: np.ndarray
    image_shape: tuple[int, int]

    def __post_init__(self) -> None:
        seg = _arr(self.segments, np.float32, (4,), "segments")
        rho = _arr(self.rho, np.float32, (), "rho")
        theta = _arr(self.theta, np.float32, (), "theta")
        votes = _arr(self.votes, np.int64, (), "votes")
        _same_length("Lines", segments=seg, rho=rho, theta=theta, votes=votes)
        for k, v in (("segments", seg), ("rho", rho), ("theta", theta), ("votes", votes),
                     ("image_shape", tuple(int(x) for x in self.image_shape[:2]))):
            object.__setattr__(self, k, v)

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def length(self) -> np.ndarray:
        d = self.segments[:, 2:] - self.segments[:, :2]
        return np.hypot(d[:, 0], d[:, 1])

    def to_dict(self) -> dict:
        return {"kind": "lines", "count": len(self), "image_shape": list(self.image_shape),
                "segments": np.round(self.segments, 2).tolist(), "rho": np.round(self.rho, 3).tolist(),
                "theta": np.round(self.theta, 5).tolist(), "votes": self.votes.tolist()}


@dataclass(frozen=True, eq=False)
class Circles:
    """Circles: centres (x, y), radii and accumulator votes, strongest first."""

    centers: np.ndarray
    radii: np.ndarray
    votes: np.ndarray
    image_shape: tuple[int, int]

    def __post_init__(self) -> None:
        c = _arr(self.centers, np.float32, (2,), "centers")
        r = _arr(self.radii, np.float32, (), "radii")
        v = _arr(self.votes, np.float32, (), "votes")
        _same_length("Circles", centers=c, radii=r, votes=v)
        for k, val in (("centers", c), ("radii", r), ("votes", v),
                       ("image_shape", tuple(int(x) for x in self.image_shape[:2]))):
            object.__setattr__(self, k, val)

    def __len__(self) -> int:
        return len(self.radii)

    def to_dict(self) -> dict:
        return {"kind": "circles", "count": len(self), "image_shape": list(self.image_shape),
                "centers": np.round(self.centers, 2).tolist(), "radii": np.round(self.radii, 2).tolist(),
                "votes": np.round(self.votes, 4).tolist()}


@dataclass(frozen=True, eq=False)
class Regions:
    """Connected regions: a label map (0 = background, 1..N) and per-region stats.

    Args:
        labels: H×W int32 label map.
        areas: N pixel counts; boxes: N×4 (x1, y1, x2, y2) with exclusive x2/y2; centroids: N×2 (x, y).
    """

    labels: np.ndarray
    areas: np.ndarray
    boxes: np.ndarray
    centroids: np.ndarray

    def __post_init__(self) -> None:
        lab = np.asarray(self.labels)
        if lab.ndim != 2:
            raise ShapeError(f"labels: expected an H×W label map, got {'×'.join(map(str, lab.shape))}")
        areas = _arr(self.areas, np.int64, (), "areas")
        boxes = _arr(self.boxes, np.float32, (4,), "boxes")
        cent = _arr(self.centroids, np.float32, (2,), "centroids")
        _same_length("Regions", areas=areas, boxes=boxes, centroids=cent)
        for k, v in (("labels", lab.astype(np.int32, copy=False)), ("areas", areas), ("boxes", boxes),
                     ("centroids", cent)):
            object.__setattr__(self, k, v)

    def __len__(self) -> int:
        return len(self.areas)

    @property
    def count(self) -> int:
        return len(self)

    @property
    def image_shape(self) -> tuple[int, int]:
        return (int(self.labels.shape[0]), int(self.labels.shape[1]))

    def to_dict(self) -> dict:
        return {"kind": "regions", "count": len(self), "image_shape": list(self.image_shape),
                "areas": self.areas.tolist(), "boxes": np.round(self.boxes, 2).tolist(),
                "centroids": np.round(self.centroids, 2).tolist()}


@dataclass(frozen=True, eq=False)
class Warped:
    """A geometric transform's output image and the 3×3 matrix that maps input (x, y, 1) to output pixels."""

    image: np.ndarray
    matrix: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=np.float64)
        if m.shape != (3, 3):
            raise ShapeError(f"matrix: expected 3×3, got {'×'.join(map(str, m.shape))}")
        object.__setattr__(self, "matrix", m)

    def to_dict(self) -> dict:
        return {"kind": "warp", "image_shape": list(self.image.shape), "matrix": np.round(self.matrix, 8).tolist()}
