"""YOLO instance segmentation (ultralytics ``-seg``) offline: ``predict(image) -> Detections`` with boolean masks.

:class:`YoloSegmenter` is :class:`~vision.models.detection.yolo.YoloDetector` running ultralytics' own
``SegmentationPredictor`` (letterbox, NMS, mask prototypes × coefficients) on a ``SegmentationModel``: results are
:class:`~vision.types.Detections` with boxes, scores, classes and N×H×W boolean ``masks`` at the original image's size
— the contract of :class:`~vision.models.segmentation.mask_rcnn.MaskRCNNDetector`. Masks are ultralytics'
``retina_masks`` (prototype logits upsampled to the image, > 0, cropped to the box), so they are not blocky at the
network's 1/4 prototype resolution. Everything else — offline import, weights files, errors, ``predict_batch``,
``stream`` — is the detector's.

Weights: the registered ``"yolov8n-seg"`` defaults to ``"yolov8n-seg-scenes"``, our five-shape model trained on the
synthetic scenes by ``bench/train_yolo.py --task segment --init yolov8n-scenes`` (until that file is shipped, creating
it with the default weights raises :class:`~vision.errors.WeightsNotFoundError` saying so);
``weights="yolov8n-seg"`` is the official COCO model through :func:`vision.weights.resolve` (online, or with the file
placed where the error says); any ``.safetensors`` from :func:`~vision.models.detection.yolo.save_yolo_weights` /
:func:`~vision.models.detection.yolo_train.train_yolo` (``task="segment"``) or ultralytics ``-seg`` ``.pt`` loads too.
Detection weights are refused with a :class:`~vision.errors.WeightsError` (train a segmenter from them instead:
``train_yolo(..., task="segment", model="yolov8n-scenes")`` transfers the backbone, neck and box head).

Example:
    >>> from vision.models import create_model                                      # doctest: +SKIP
    >>> seg = create_model("yolov8n-seg", weights="runs/seg/best.safetensors")      # doctest: +SKIP
    >>> res = seg.predict("scene.png"); res.masks.shape, res.masks.dtype            # doctest: +SKIP
    ((3, 256, 256), dtype('bool'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vision.models.detection.yolo import YoloConfig, YoloDetector
from vision.models.registry import register_model
from vision.types import Detections

__all__ = ["YoloSegmenter", "yolov8n_seg"]

#: registered name → default weights
_SEG_ARCHS = {"yolov8n-seg": "yolov8n-seg-scenes"}


class YoloSegmenter(YoloDetector):
    """An ultralytics YOLO ``-seg`` network behind our API: ``predict(source) -> Detections`` with boolean masks.

    Args:
        config: a :class:`~vision.models.detection.yolo.YoloConfig` or its dict; keyword overrides set single fields.
        arch: the registered architecture (``"yolov8n-seg"``), which picks the default weights.
    Attributes:
        model: the ultralytics ``SegmentationModel`` (unfused, eval mode). names: class names. imgsz: input size used.
        weights_path: the file loaded.
    Raises:
        InputError: a bad option, or ``classes`` naming ids the model does not have.
        WeightsNotFoundError: the weights are not available (offline: the message says where to put the file).
        WeightsError: a file that is not YOLO segmentation weights (detection weights included), or one that does not
            match its manifest entry's class count.
    """

    task = "segment"
    #: results are Detections (a box and a mask per object): batch runs may write COCO / YOLO txt
    instances = True
    archs = _SEG_ARCHS

    def _predictor_class(self) -> Any:
        from ultralytics.models.yolo.segment import SegmentationPredictor

        return SegmentationPredictor

    def _predictor_args(self) -> dict[str, Any]:
        return {**super()._predictor_args(), "retina_masks": True}  # masks at the original image's size

    def _convert(self, result: Any, shape: tuple[int, int]) -> Detections:
        """ultralytics ``Results`` → :class:`Detections` with N×H×W boolean masks at the original image's size."""
        det = super()._convert(result, shape)
        h, w = int(shape[0]), int(shape[1])
        if result.masks is None:
            masks = np.zeros((len(det), h, w), bool)
        else:
            masks = result.masks.data.cpu().numpy().astype(bool, copy=False)
        if masks.shape != (len(det), h, w):  # ultralytics' retina masks are at the image's size; never resized here
            from vision.errors import ShapeError

            raise ShapeError(f"{self.arch}: ultralytics returned masks of shape {masks.shape}; expected "
                             f"{(len(det), h, w)}")
        return Detections(det.xyxy, det.scores, det.class_ids, names=self.names, masks=masks, image_shape=(h, w))

    def predict(self, source: Any) -> Detections:
        """Segment the object instances of one image (a path, bytes, file object or H×W×3 uint8 RGB array).

        Returns:
            :class:`~vision.types.Detections` in the image's pixel coordinates with N×H×W boolean ``masks`` at the
            image's size.
        Raises:
            SourceNotFoundError / ImageDecodeError / ShapeError / DTypeError: from :func:`vision.io.read_image`.
        """
        return super().predict(source)

    __call__ = predict


@register_model("yolov8n-seg", task="segment", weights="yolov8n-seg-scenes")
def yolov8n_seg(config: YoloConfig | dict | None = None, **overrides: Any) -> YoloSegmenter:
    """Ultralytics YOLOv8n-seg; default weights trained on our synthetic scenes, ``weights="yolov8n-seg"`` = COCO."""
    return YoloSegmenter(config, arch="yolov8n-seg", **overrides)
