"""Detectors (one :class:`~vision.types.Detections` result for all): OpenCV Haar faces and HOG people, R-CNN,
Fast R-CNN, Faster R-CNN (torchvision), YOLO (ultralytics); the shipped-scenes preset and detector comparison.

Importing this package imports no model code: modules load when the registry is first read or when imported.
"""
