"""Detection datasets as torch tensors: the checks that prevent NaN losses, a collate function and seeded loaders.

:class:`DetectionTorchDataset` wraps a :class:`~vision.data.records.DetectionDataset` (from the COCO / YOLO / VOC
readers or :func:`~vision.data.scenes.make_scenes`) for torchvision-style detectors. Item ``i`` is
``(image, target)``: ``image`` a float32 ``3×H×W`` tensor in [0, 1] (RGB), ``target`` a dict with ``"boxes"``
(float32 ``N×4`` absolute-pixel ``xyxy``), ``"labels"`` (int64 ``N``, **1..C: the dataset's class id + 1, because
0 is the background class** torchvision detectors reserve) and ``"image_id"`` (int, the record's index).

Checks (``check=True``, at construction, before any training step; the classic cause of a NaN loss in torchvision
detectors is a box with zero or negative width/height):

* a degenerate box (``x2 <= x1`` or ``y2 <= y1``, or a non-finite coordinate) →
  :class:`~vision.errors.AnnotationError` naming the image file, the object index and the box; with ``fix=True``
  the object is dropped instead (and logged);
* a box reaching more than :data:`~vision.data.formats.validation.BOX_TOLERANCE` (1 px) outside its image →
  :class:`~vision.errors.AnnotationError`; with ``fix=True`` it is clipped into the image (dropped if nothing is left).
  Boxes within the tolerance are always clipped silently;
* a class id outside ``0 .. len(classes) - 1`` → :class:`~vision.errors.AnnotationError` (always: no guess is safe);
* an image whose decoded size differs from its record → :class:`~vision.errors.DatasetError` when it is loaded.

Images with no objects are allowed: their target holds ``boxes`` of shape ``0×4`` and ``labels`` of shape ``0``
(torchvision trains on them as pure background).

Instance masks (``masks=True``, for Mask R-CNN): the target also holds ``"masks"``, a uint8 ``N×H×W`` tensor (1 =
the object's pixels), one per kept object, from
:meth:`~vision.data.records.DetectionDataset.object_masks`: the record's ``instance_mask`` PNG (pixel value = the
object's ``instance_id``; what :func:`~vision.data.scenes.make_scenes` writes) or, without one, each object's COCO
``segmentation`` (polygons / RLE, as :func:`~vision.data.formats.read_coco` keeps them). A record with neither, or an
object without an instance id in a record with a PNG, is a :class:`~vision.errors.DatasetError` at construction; a
PNG whose size differs from its image a :class:`~vision.errors.ShapeError`, and an object whose mask has no pixel an
:class:`~vision.errors.AnnotationError` (dropped with ``fix=True``), when the item is read. Augmentation then needs an
albumentations ``Compose`` (it moves the masks with the image, e.g. flips, and keeps masks and boxes paired); a plain
callable cannot move masks and is refused.

Augmentation: ``augment`` is either an albumentations ``Compose`` built with
``bbox_params=A.BboxParams(format="pascal_voc", label_fields=["class_ids"])`` (see :func:`detection_augmentation`)
or any callable ``augment(image, boxes, class_ids) -> (image, boxes, class_ids)`` on an H×W×3 uint8 RGB image,
an N×4 float32 xyxy array and an N int64 array. Boxes an augmentation makes degenerate are dropped.

Example:
    >>> from vision.models.detection.data import detection_loaders              # doctest: +SKIP
    >>> train_loader, val_loader = detection_loaders(train_ds, val_ds, batch_size=4, seed=0)  # doctest: +SKIP
    >>> images, targets = next(iter(train_loader))     # lists of 3×H×W tensors and target dicts  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vision.data.records import DetectionDataset
from vision.errors import AnnotationError, DatasetError, InputError

__all__ = ["DetectionTorchDataset", "detection_augmentation", "detection_collate", "detection_loaders",
           "to_tensor_image"]

logger = logging.getLogger(__name__)


def to_tensor_image(image: np.ndarray) -> Any:
    """An H×W×3 uint8 RGB array as a float32 3×H×W tensor in [0, 1] (what torchvision detectors take)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)


def _fmt_box(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{float(v):.6g}" for v in box) + "]"


def _checked_objects(dataset: DetectionDataset, *, fix: bool) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image, (N×4 float32 boxes clipped into the image, N int64 class ids, N int64 indices into the record's
    objects); raises or repairs bad objects."""
    from vision.data.formats.validation import check_box

    num_classes = len(dataset.classes)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for i, rec in enumerate(dataset.images):
        where = Path(dataset.root) / rec.file_name
        if rec.width <= 0 or rec.height <= 0:
            raise DatasetError(f"{where}: image {i} has size {rec.width}×{rec.height} in its record; expected > 0")
        boxes: list[tuple[float, float, float, float]] = []
        ids: list[int] = []
        instances: list[int] = []
        for j, obj in enumerate(rec.objects):
            cid = obj.category_id
            if isinstance(cid, bool) or not isinstance(cid, (int, np.integer)) or not 0 <= cid < num_classes:
                raise AnnotationError(f"{where}: object {j} has class id {cid!r}; expected an integer in "
                                      f"0..{num_classes - 1} (classes: {list(dataset.classes)[:10]})")
            try:
                box = tuple(float(v) for v in obj.bbox)
            except (TypeError, ValueError):
                box = ()
            if len(box) != 4:
                raise AnnotationError(f"{where}: object {j} has box {obj.bbox!r}; expected 4 numbers x1, y1, x2, y2")
            kind, reason, fixed = check_box(box, rec.width, rec.height)  # type: ignore[arg-type]
            if kind is not None:
                what = f"{where}: object {j} (class {dataset.classes[cid]!r}) box {_fmt_box(box)} {reason}"
                if not fix:
                    hint = ("; fix the annotation, or pass fix=True to drop it" if kind == "degenerate_box"
                            else "; fix the annotation, or pass fix=True to clip it into the image")
                    raise AnnotationError(what + hint)
                if fixed is not None:
                    logger.warning("%s [clipped to %s]", what, _fmt_box(fixed))
            if fixed is None:  # degenerate, or nothing left inside the image (also a sliver within the tolerance)
                logger.warning("%s [dropped object]", what if kind is not None else
                               f"{where}: object {j} box {_fmt_box(box)} has no area inside the {rec.width}×"
                               f"{rec.height} image")
                continue
            boxes.append(fixed)  # a good box comes back clipped into the image
            ids.append(int(cid))
            instances.append(j)
        out.append((np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(ids, np.int64),
                    np.asarray(instances, np.int64)))
    return out


def _is_albumentations(augment: Any) -> bool:
    mod = type(augment).__module__ or ""
    return mod.startswith("albumentations")


class DetectionTorchDataset:
    """A :class:`~vision.data.records.DetectionDataset` as ``(3×H×W float image, target dict)`` items.

    Args:
        dataset: the annotated images.
        augment: None, an albumentations ``Compose`` with pascal_voc bbox params and ``label_fields=["class_ids"]``,
            or a callable ``(image, boxes, class_ids) -> (image, boxes, class_ids)`` (see the module docstring).
        check: validate every annotation now (recommended; False skips it for a dataset already validated, e.g.
            one just generated — boxes are then used as they are).
        fix: clip out-of-image boxes and drop degenerate ones (logged) instead of raising; with ``masks``, also
            drop objects whose instance id has no pixel in the instance-mask PNG (else AnnotationError when the
            item is read).
        masks: add the objects' instance masks to the targets (``"masks"``, uint8 N×H×W; see the module docstring).

    Attributes:
        classes: the class names (ids 0..C-1). num_classes: ``len(classes) + 1``, the background class included
            (what a torchvision detector's ``num_classes`` must be).

    Raises:
        InputError: ``dataset`` is not a DetectionDataset, or a bad ``augment`` / flag.
        DatasetError: the dataset has no images or no classes, or a record with a non-positive size; with
            ``masks``, a record without an instance mask or an object without an instance id.
        AnnotationError: a degenerate or out-of-image box (unless ``fix``), or an unknown class id.
    """

    def __init__(self, dataset: DetectionDataset, *, augment: Any = None, check: bool = True,
                 fix: bool = False, masks: bool = False) -> None:
        if not isinstance(dataset, DetectionDataset):
            raise InputError(f"DetectionTorchDataset: expected a DetectionDataset (e.g. from read_coco or "
                             f"make_scenes); got {type(dataset).__name__}")
        if augment is not None and not callable(augment):
            raise InputError(f"DetectionTorchDataset: augment must be None or callable; got {type(augment).__name__}")
        for name, flag in (("check", check), ("fix", fix), ("masks", masks)):
            if not isinstance(flag, bool):
                raise InputError(f"DetectionTorchDataset: {name} must be True or False; got {flag!r}")
        if not dataset.classes:
            raise DatasetError(f"{dataset.root}: the dataset has no classes; expected at least one class name")
        if len(dataset) == 0:
            raise DatasetError(f"{dataset.root}: the dataset has no images; expected at least one")
        if masks and augment is not None and not _is_albumentations(augment):
            raise InputError("DetectionTorchDataset: masks=True needs augment=None or an albumentations Compose (it "
                             f"moves the instance masks with the image); got {type(augment).__name__}")
        self.dataset = dataset
        self.augment = augment
        self.fix = fix
        self.masks = masks
        self.classes: tuple[str, ...] = tuple(dataset.classes)
        self.num_classes = len(self.classes) + 1
        if check:
            checked = _checked_objects(dataset, fix=fix)
        else:
            checked = []
            for rec in dataset.images:
                boxes = np.asarray([o.bbox for o in rec.objects], np.float32).reshape(-1, 4)
                ids = np.asarray([o.category_id for o in rec.objects], np.int64)
                checked.append((boxes, ids, np.arange(len(rec.objects), dtype=np.int64)))
        self._objects = [(boxes, ids) for boxes, ids, _ in checked]
        self._kept = [kept for _, _, kept in checked]  # indices into each record's objects
        if masks:
            self._check_instance_masks()

    def _check_instance_masks(self) -> None:
        """Every record has an instance mask (and every kept object an instance id) or COCO segmentations for all
        its kept objects (``masks=True``)."""
        missing = [i for i, rec in enumerate(self.dataset.images) if not rec.instance_mask
                   and not all(rec.objects[j].attributes.get("segmentation") for j in self._kept[i])]
        if missing:
            raise DatasetError(f"{self.dataset.image_path(missing[0])}: no instance mask ({len(missing)} of "
                               f"{len(self.dataset)} images have neither an instance-mask PNG nor a COCO segmentation "
                               "for every object); masks=True expects instance_mask PNGs, as vision.data.make_scenes "
                               "writes (masks/instance/*.png), or COCO instances with polygons / RLE")
        for i, kept in enumerate(self._kept):
            rec = self.dataset.images[i]
            bad = [int(rec.objects[j].instance_id) for j in kept if not 0 < rec.objects[j].instance_id < 2 ** 31]
            if rec.instance_mask and bad:
                raise DatasetError(f"{self.dataset.image_path(i)}: an object has instance id {bad[0]}; masks=True "
                                   "expects every object's instance_id to be its pixel value (> 0) in the image's "
                                   "instance-mask PNG")

    def __len__(self) -> int:
        return len(self.dataset)

    def annotations(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The checked (N×4 float32 xyxy boxes, N int64 class ids 0..C-1) of image ``index``, before augmentation."""
        boxes, ids = self._objects[index]
        return boxes.copy(), ids.copy()

    def load_image(self, index: int) -> np.ndarray:
        """Image ``index`` as H×W×3 uint8 RGB.

        Raises:
            DatasetError: its decoded size differs from its record. SourceNotFoundError / ImageDecodeError: from
                :func:`vision.io.read_image`.
        """
        from vision.io import read_image

        rec = self.dataset.images[index]
        path = self.dataset.image_path(index)
        image = read_image(path)
        if image.shape[:2] != (rec.height, rec.width):
            raise DatasetError(f"{path}: the image is {image.shape[1]}×{image.shape[0]} px; its annotation says "
                               f"{rec.width}×{rec.height}")
        return image

    def instance_masks(self, index: int) -> np.ndarray:
        """The N×H×W boolean masks of image ``index``'s checked objects (paired with :meth:`annotations`), before
        augmentation: from its instance-mask PNG or its objects' COCO segmentations.

        Raises:
            As :meth:`vision.data.records.DetectionDataset.object_masks`.
        """
        return self.dataset.object_masks(index)[self._kept[index]]

    def _augment_with_masks(self, image: np.ndarray, boxes: np.ndarray, ids: np.ndarray, masks: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Albumentations with the object masks as its ``masks``; object indices ride as the label field, so the
        boxes it keeps stay paired with their class ids and masks."""
        res = self.augment(image=image, bboxes=boxes, class_ids=np.arange(len(ids)),
                           masks=[m.astype(np.uint8) for m in masks])
        image = res["image"]
        moved = np.asarray(res["masks"], bool).reshape(len(masks), *image.shape[:2])
        boxes = np.asarray(res["bboxes"], np.float32).reshape(-1, 4)
        kept = np.asarray(res["class_ids"], np.int64).reshape(-1)
        h, w = image.shape[:2]
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        keep = (boxes[:, 2] - boxes[:, 0] >= 1.0) & (boxes[:, 3] - boxes[:, 1] >= 1.0)
        kept = kept[keep]
        return image, boxes[keep], ids[kept], moved[kept]

    def _augment(self, image: np.ndarray, boxes: np.ndarray, ids: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if _is_albumentations(self.augment):
            res = self.augment(image=image, bboxes=boxes, class_ids=ids)
            image = res["image"]
            boxes = np.asarray(res["bboxes"], np.float32).reshape(-1, 4)
            ids = np.asarray(res["class_ids"], np.int64).reshape(-1)
        else:
            image, boxes, ids = self.augment(image, boxes, ids)
            boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
            ids = np.asarray(ids, np.int64).reshape(-1)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or len(boxes) != len(ids):
            raise InputError(f"augment returned an image {image.shape} {image.dtype} with {len(boxes)} boxes and "
                             f"{len(ids)} class ids; expected H×W×3 uint8 and as many boxes as class ids")
        h, w = image.shape[:2]
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h)
        keep = (boxes[:, 2] - boxes[:, 0] >= 1.0) & (boxes[:, 3] - boxes[:, 1] >= 1.0)
        return image, boxes[keep], ids[keep]

    def __getitem__(self, index: int) -> tuple[Any, dict[str, Any]]:
        import torch

        if not -len(self) <= index < len(self):
            raise IndexError(f"DetectionTorchDataset: index {index} out of range for {len(self)} images")
        index = index % len(self)
        image = self.load_image(index)
        boxes, ids = self.annotations(index)
        if not self.masks:
            if self.augment is not None:
                image, boxes, ids = self._augment(image, boxes, ids)
            target = {"boxes": torch.from_numpy(boxes), "labels": torch.from_numpy(ids + 1), "image_id": int(index)}
            return to_tensor_image(image), target
        masks = self.instance_masks(index)
        empty = ~masks.reshape(len(masks), -1).any(axis=1)
        if empty.any():  # an annotation whose mask has no pixel: the annotation and the mask disagree
            k = int(self._kept[index][np.flatnonzero(empty)[0]])
            where = f"{self.dataset.image_path(index)}: object {k}"
            if not self.fix:
                raise AnnotationError(f"{where} has no pixels in its instance mask ({int(empty.sum())} such "
                                      "object(s)); expected every object's mask to cover it (fix=True drops such "
                                      "objects)")
            logger.warning("%s has no pixels in its instance mask; dropped (fix=True)", where)
            boxes, ids, masks = boxes[~empty], ids[~empty], masks[~empty]
        if self.augment is not None:
            image, boxes, ids, masks = self._augment_with_masks(image, boxes, ids, masks)
        target = {"boxes": torch.from_numpy(boxes), "labels": torch.from_numpy(ids + 1), "image_id": int(index),
                  "masks": torch.from_numpy(masks.astype(np.uint8))}
        return to_tensor_image(image), target


def detection_collate(batch: Sequence[tuple[Any, dict[str, Any]]]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Collate detection items into ``(list of images, list of targets)``; images may differ in size."""
    images = [item[0] for item in batch]
    targets = [item[1] for item in batch]
    return images, targets


def detection_augmentation(*, hflip: float = 0.5, vflip: float = 0.0, color: float = 0.0,
                           seed: int | None = None) -> Any:
    """A box-aware albumentations pipeline for :class:`DetectionTorchDataset` (flips, optional colour jitter).

    Args:
        hflip: probability of a horizontal flip (use 0 when classes are not mirror-symmetric, e.g. digits).
        vflip: probability of a vertical flip.
        color: strength of brightness/contrast/saturation/hue jitter in [0, 1] (applied with probability 0.8).
        seed: albumentations' seed for a reproducible sequence (None = not seeded).

    Returns:
        An ``albumentations.Compose`` with ``bbox_params`` in pascal_voc (xyxy pixel) format.

    Raises:
        InputError: a probability or strength outside [0, 1].
    """
    for name, value in (("hflip", hflip), ("vflip", vflip), ("color", color)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise InputError(f"detection_augmentation: {name} must be a number in [0, 1]; got {value!r}")
    from vision.data.augment import _albumentations

    A = _albumentations()  # imported without its network version check
    ops: list[Any] = []
    if hflip:
        ops.append(A.HorizontalFlip(p=hflip))
    if vflip:
        ops.append(A.VerticalFlip(p=vflip))
    if color:
        ops.append(A.ColorJitter(brightness=0.4 * color, contrast=0.4 * color, saturation=0.4 * color,
                                 hue=0.1 * color, p=0.8))
    kwargs: dict[str, Any] = {} if seed is None else {"seed": int(seed)}
    return A.Compose(ops, bbox_params=A.BboxParams(format="pascal_voc", label_fields=["class_ids"],
                                                    min_visibility=0.3), **kwargs)


def _as_torch_dataset(data: Any, augment: Any, fix: bool, what: str, masks: bool) -> DetectionTorchDataset:
    if isinstance(data, DetectionTorchDataset):
        if augment is not None:
            raise InputError(f"detection_loaders: {what} is already a DetectionTorchDataset; give augment= to it, "
                             "not to detection_loaders")
        if data.masks != masks:
            raise InputError(f"detection_loaders: {what} is a DetectionTorchDataset with masks={data.masks}; "
                             f"expected masks={masks}")
        return data
    if isinstance(data, DetectionDataset):
        return DetectionTorchDataset(data, augment=augment, fix=fix, masks=masks)
    raise InputError(f"detection_loaders: {what} must be a DetectionDataset or DetectionTorchDataset; got "
                     f"{type(data).__name__}")


def detection_loaders(train: DetectionDataset | DetectionTorchDataset,
                      val: DetectionDataset | DetectionTorchDataset | None = None, *, batch_size: int,
                      seed: int = 0, num_workers: int = 0, augment: Callable[..., Any] | None = None,
                      fix: bool = False, val_batch_size: int | None = None, masks: bool = False
                      ) -> tuple[Any, Any]:
    """Training and validation ``DataLoader`` s for torchvision-style detectors.

    The training loader shuffles with its own ``torch.Generator`` seeded with ``seed`` (the trainer checkpoints
    it, so resuming is exact); the validation loader keeps the dataset order. Both use :func:`detection_collate`.

    Args:
        train: the training set (a DetectionDataset is wrapped in a checked :class:`DetectionTorchDataset`).
        val: the validation set, or None.
        batch_size: images per training batch, ≥ 1.
        seed: the shuffling seed, ≥ 0.
        num_workers: loader worker processes, ≥ 0.
        augment: training-set augmentation (see :class:`DetectionTorchDataset`); never applied to ``val``.
        fix: repair bad boxes instead of raising (see :class:`DetectionTorchDataset`).
        val_batch_size: images per validation batch; default ``batch_size``.
        masks: targets with instance masks (Mask R-CNN; see :class:`DetectionTorchDataset`).

    Returns:
        ``(train_loader, val_loader or None)``.

    Raises:
        InputError: bad sizes, seed or worker count; a dataset of another type.
        AnnotationError / DatasetError: as :class:`DetectionTorchDataset`.
    """
    import torch
    from torch.utils.data import DataLoader

    for name, value, low in (("batch_size", batch_size, 1), ("seed", seed, 0), ("num_workers", num_workers, 0),
                             ("val_batch_size", batch_size if val_batch_size is None else val_batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"detection_loaders: {name} must be an integer ≥ {low}; got {value!r}")
    train_ds = _as_torch_dataset(train, augment, fix, "train", masks)
    val_ds = None if val is None else _as_torch_dataset(val, None, fix, "val", masks)
    if val_ds is not None and val_ds.classes != train_ds.classes:
        raise DatasetError(f"detection_loaders: val classes {list(val_ds.classes)} differ from train classes "
                           f"{list(train_ds.classes)}; expected the same class table")
    gen = torch.Generator()
    gen.manual_seed(seed)
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=gen,
                              num_workers=num_workers, collate_fn=detection_collate,
                              persistent_workers=num_workers > 0)
    val_loader = None
    if val_ds is not None:
        val_loader = DataLoader(val_ds, batch_size=val_batch_size or batch_size, shuffle=False,
                                num_workers=num_workers, collate_fn=detection_collate,
                                persistent_workers=num_workers > 0)
    return train_loader, val_loader
