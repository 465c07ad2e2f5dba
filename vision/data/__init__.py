"""Datasets and formats: records, offline samples, small digit/clothing sets, synthetic scenes, COCO/YOLO/VOC, splits.

Importing this package is light: numpy and the suite's own modules, no torch, OpenCV, Pillow, scikit-image or
scikit-learn (those load inside the functions that need them).

* :mod:`vision.data.records` — :class:`DetectionDataset`, :class:`ImageRecord`, :class:`ObjectAnnotation`.
* :mod:`vision.data.photos` — offline photos: :func:`load_sample`, :func:`sample_names`, :func:`sample_path`,
  :func:`lfw_subset`, and the catalogue :func:`samples`.
* :mod:`vision.data.mnist` — :func:`load_digits_dataset`, :func:`load_fashion_mnist`, :func:`read_idx`.
* :mod:`vision.data.scenes` — :class:`SceneConfig`, :func:`make_scene`, :func:`make_scenes`.
* :mod:`vision.data.formats` — COCO / YOLO / VOC readers and writers, validation, classification folders / CSV.
* :mod:`vision.data.splits`, :mod:`vision.data.stats` — dataset splits and statistics.
* :mod:`vision.data.augment` — :class:`AugmentConfig`, :func:`make_augmentation` (albumentations presets),
  :func:`augmentation_grid`.
* :mod:`vision.data.image_dataset` — :class:`ImageClassificationDataset` (a torch ``Dataset`` augmenting on the
  fly) and :func:`classification_loaders`; loaded on first use (they import torch).
"""

from vision.data.augment import (
    AUGMENT_PRESETS,
    Augmentation,
    AugmentConfig,
    augmentation_grid,
    make_augmentation,
)
from vision.data.formats import (
    DETECTION_FORMATS,
    ClassificationTable,
    Problem,
    check_dataset,
    convert_dataset,
    dataset_problems,
    detect_format,
    from_arrays,
    read_coco,
    read_csv_labels,
    read_detection_dataset,
    read_image_folder,
    read_voc,
    read_yolo,
    validate_dataset,
    write_coco,
    write_csv_labels,
    write_image_folder,
    write_voc,
    write_yolo,
)
from vision.data.mnist import (
    FASHION_MNIST_CLASSES,
    fashion_mnist_available,
    load_digits_dataset,
    load_fashion_mnist,
    read_idx,
)
from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.data.photos import SampleInfo, lfw_subset, load_sample, sample_names, sample_path, samples
from vision.data.scenes import (
    ALL_CLASSES,
    DEFAULT_CLASSES,
    DIGIT_CLASSES,
    FASHION_CLASSES,
    SHAPE_CLASSES,
    SceneConfig,
    image_seed,
    make_scene,
    make_scenes,
)
from vision.data.splits import (
    bridge_split,
    grouped_split,
    ordered_split,
    random_split,
    split_sizes,
    stratified_split,
)
from vision.data.stats import DatasetStats, dataset_stats, scan_image_file
from vision.lazy import lazy_exports

# torch-backed names, imported on first use so that ``import vision.data`` stays light
_EXPORTS = {name: "vision.data.image_dataset" for name in (
    "ImageClassificationDataset", "EpochShuffleSampler", "classification_loaders", "sample_seed")}

__all__ = [
    # records
    "DetectionDataset", "ImageRecord", "ObjectAnnotation",
    # samples
    "SampleInfo", "samples", "load_sample", "sample_names", "sample_path", "lfw_subset",
    # mnist
    "FASHION_MNIST_CLASSES", "load_digits_dataset", "load_fashion_mnist", "fashion_mnist_available", "read_idx",
    # scenes
    "SceneConfig", "make_scene", "make_scenes", "image_seed",
    "SHAPE_CLASSES", "DIGIT_CLASSES", "FASHION_CLASSES", "DEFAULT_CLASSES", "ALL_CLASSES",
    # formats
    "read_coco", "write_coco", "read_yolo", "write_yolo", "read_voc", "write_voc", "read_detection_dataset",
    "convert_dataset", "detect_format", "DETECTION_FORMATS", "Problem", "validate_dataset", "dataset_problems",
    "check_dataset", "ClassificationTable", "read_image_folder", "read_csv_labels", "from_arrays",
    "write_image_folder", "write_csv_labels",
    # splits and stats
    "random_split", "stratified_split", "grouped_split", "ordered_split", "bridge_split", "split_sizes",
    "DatasetStats", "dataset_stats", "scan_image_file",
    # augmentation and torch datasets
    "AugmentConfig", "Augmentation", "AUGMENT_PRESETS", "make_augmentation", "augmentation_grid",
    "ImageClassificationDataset", "EpochShuffleSampler", "classification_loaders", "sample_seed",
]

__getattr__, __dir__ = lazy_exports("vision.data", _EXPORTS, globals())
