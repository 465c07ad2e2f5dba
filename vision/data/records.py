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

    def detections(self, index: int, *, masks: bool = False) -> Detections:
        """The ground truth of image ``index`` as a :class:`~vision.types.Detections`.

        Args:
            masks: add each object's boolean mask (:meth:`object_masks`).

        Raises:
            With ``masks``: as :meth:`object_masks`.
        """
        rec = self.images[index]
        if rec.objects:
            boxes = np.array([o.bbox for o in rec.objects], dtype=np.float32)
            ids = np.array([o.category_id for o in rec.objects], dtype=np.int64)
        else:
            boxes, ids = np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
        object_masks = self.object_masks(index) if masks else None
        return Detections(boxes, np.ones(len(ids), np.float32), ids, names=self.classes, masks=object_masks,
                          image_shape=(rec.height, rec.width))

    def object_masks(self, index: int) -> np.ndarray:
        """The N×H×W boolean masks of image ``index``'s objects, in ``rec.objects`` order.

        From the record's instance-mask PNG when it has one (each object's pixels = its ``instance_id``; what
        :func:`~vision.data.scenes.make_scenes` writes), else from every object's COCO ``segmentation`` attribute
        (polygons, or RLE compressed or not, as :func:`~vision.data.formats.read_coco` keeps them; decoded by
        pycocotools). An image without objects gives ``0×H×W``.

        Raises:
            DatasetError: no instance mask and an object without a segmentation, or an object without an instance
            id (> 0) in a record with an instance mask; as :meth:`instance_map` otherwise.
        """
        from vision.errors import DatasetError

        rec = self.images[index]
        h, w = rec.height, rec.width
        if rec.instance_mask:
            instance = np.array([o.instance_id for o in rec.objects], dtype=np.int64)
            if (instance <= 0).any():
                raise DatasetError(f"{self.image_path(index)}: an object has instance id "
                                   f"{int(instance[instance <= 0][0])}; expected every object's instance_id to be its "
                                   "pixel value (> 0) in the instance-mask PNG")
            inst_map = self.instance_map(index)
            return (inst_map[None] == instance[:, None, None]).reshape(len(instance), *inst_map.shape)
        if not rec.objects:
            return np.zeros((0, h, w), bool)
        missing = [j for j, o in enumerate(rec.objects) if not o.attributes.get("segmentation")]
        if missing:
            raise DatasetError(f"{self.image_path(index)}: no instance mask, and object {missing[0]} has no COCO "
                               f"segmentation ({len(missing)} of {len(rec.objects)} objects); expected an "
                               "instance_mask PNG (as vision.data.make_scenes writes) or polygons / RLE per object "
                               "(COCO instances)")
        from pycocotools import mask as mask_utils

        out = np.zeros((len(rec.objects), h, w), bool)
        for j, obj in enumerate(rec.objects):
            seg = obj.attributes["segmentation"]
            try:
                if isinstance(seg, list):  # polygons
                    rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
                elif isinstance(seg, dict) and isinstance(seg.get("counts"), list):  # uncompressed RLE
                    rle = mask_utils.frPyObjects(seg, h, w)
                else:
                    rle = dict(seg, counts=seg["counts"].encode() if isinstance(seg["counts"], str) else seg["counts"])
                out[j] = mask_utils.decode(rle).astype(bool).reshape(h, w)
            except (TypeError, ValueError, KeyError, IndexError) as exc:
                raise DatasetError(f"{self.image_path(index)}: object {j} has a COCO segmentation that cannot be "
                                   f"decoded at {w}×{h} ({type(exc).__name__}: {exc}); expected polygons or RLE") \
                    from exc
        return out

    def instance_map(self, index: int) -> np.ndarray:
        """The instance-mask PNG of image ``index`` as an H×W int64 array (pixel = instance id, 0 = background).

        Raises:
            DatasetError: the record names no instance mask. ShapeError: its size differs from the record's image,
            or it is not single-channel. SourceNotFoundError / ImageDecodeError: the file is missing or unreadable.
        """
        from PIL import Image

        from vision.errors import DatasetError, ImageDecodeError, ShapeError, SourceNotFoundError

        rec = self.images[index]
        if not rec.instance_mask:
            raise DatasetError(f"{self.image_path(index)}: no instance mask; expected a record with an "
                               "instance_mask PNG")
        path = Path(self.root) / rec.instance_mask
        if not path.is_file():
            raise SourceNotFoundError(f"{path}: instance mask of {rec.file_name} not found")
        try:
            with Image.open(path) as im:
                mask = np.asarray(im)
        except (OSError, ValueError) as exc:
            raise ImageDecodeError(f"{path}: cannot read the instance mask ({exc}); expected a PNG") from exc
        if mask.ndim != 2:
            raise ShapeError(f"{path}: the instance mask has shape {mask.shape}; expected a single-channel H×W PNG")
        if mask.shape != (rec.height, rec.width):
            raise ShapeError(f"{path}: the instance mask is {mask.shape[1]}×{mask.shape[0]} px but its image "
                             f"{rec.file_name} is {rec.width}×{rec.height}; expected the same size")
        return mask.astype(np.int64)

    def image_path(self, index: int) -> Path:
        return Path(self.root) / self.images[index].file_name
