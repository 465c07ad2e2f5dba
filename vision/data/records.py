"""In-memory form of an annotated detection / segmentation dataset, shared by every format reader and writer.

A :class:`DetectionDataset` is a root folder, a class-name table and a list of :class:`ImageRecord`.
COCO JSON, YOLO txt and VOC XML readers produce one; their writers take one, so converting between formats
is ``write_x(read_y(...))``. Boxes are always absolute-pixel ``xyxy`` here, whatever the file format says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vision.types import Detections

__all__ = ["ObjectAnnotation", "ImageRecord", "DetectionDataset"]


@dataclass
class ObjectAnnotation:
    """One object: a box in absolute pixels (x1, y1, x2, y2) and its class id.

    ``instance_id`` is the pixel value of this object in the image's instance-mask PNG (0 = none).
    """

    bbox: tuple[float, float, float, float]
    category_id: int
    instance_id: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImageRecord:
    """One image of a dataset and its objects. Paths are relative to the dataset root."""

    file_name: str
    width: int
    height: int
    objects: list[ObjectAnnotation] = field(default_factory=list)
    instance_mask: str | None = None  # PNG, pixel value = ObjectAnnotation.instance_id
    semantic_mask: str | None = None  # PNG, pixel value = class id + 1 (0 = background)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"group": "astronaut", "seed": 3}


@dataclass
class DetectionDataset:
    """A root folder, the class names, and the images with their objects."""

    root: Path
    classes: list[str]
    images: list[ImageRecord]
    #: what a non-strict reader fixed or dropped (vision.data.formats.validation.Problem items)
    problems: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def detections(self, index: int) -> Detections:
        """The ground truth of image ``index`` as a :class:`~vision.types.Detections`."""
        rec = self.images[index]
        if rec.objects:
            boxes = np.array([o.bbox for o in rec.objects], dtype=np.float32)
            ids = np.array([o.category_id for o in rec.objects], dtype=np.int64)
        else:
            boxes, ids = np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
        return Detections(boxes, np.ones(len(ids), np.float32), ids, names=self.classes,
                          image_shape=(rec.height, rec.width))

    def image_path(self, index: int) -> Path:
        return Path(self.root) / self.images[index].file_name
