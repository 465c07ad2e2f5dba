"""Metrics computed at epoch end and their plots.

Classification (``vision.metrics.classification``): confusion matrix, precision/recall/specificity/NPV/FPR,
F1/F-beta, Matthews correlation, ROC/PR curves with AUC and average precision — numpy, checked against
scikit-learn. Detection (``vision.metrics.detection``): COCO mAP@0.5 / mAP@[.5:.95], per-class AP, PR curves and the
best-F1 operating point — pycocotools' COCOeval (boxes, or masks with ``iou_type="segm"``). Segmentation
(``vision.metrics.segmentation``): pixel accuracy, per-class IoU / Dice and their means from one confusion matrix.
Plots (``vision.metrics.plots``): confusion matrix, ROC, PR and
training curves as matplotlib figures and atomically written PNGs (matplotlib is imported only when a plot is drawn).
"""

from vision.metrics.classification import (
    ClassificationMetrics,
    average_precision,
    classification_report,
    confusion_matrix,
    matthews_corrcoef,
    precision_recall_curve,
    precision_recall_curves,
    roc_auc,
    roc_curve,
    roc_curves,
)
from vision.metrics.detection import (
    COCO_IOU_THRESHOLDS,
    DetectionReport,
    PRCurve,
    evaluate_detections,
    plot_pr_curves,
)
from vision.metrics.plots import plot_confusion_matrix, plot_history, plot_pr, plot_roc, save_figure
from vision.metrics.segmentation import SegmentationReport, evaluate_segmentation, segmentation_confusion

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "ClassificationMetrics",
    "DetectionReport",
    "PRCurve",
    "SegmentationReport",
    "average_precision",
    "classification_report",
    "confusion_matrix",
    "evaluate_detections",
    "evaluate_segmentation",
    "matthews_corrcoef",
    "plot_confusion_matrix",
    "plot_history",
    "plot_pr",
    "plot_pr_curves",
    "plot_roc",
    "precision_recall_curve",
    "precision_recall_curves",
    "roc_auc",
    "roc_curve",
    "roc_curves",
    "save_figure",
    "segmentation_confusion",
]
