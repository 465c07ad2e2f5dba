"""Segmentation models (results: :class:`~vision.types.Segmentation` for semantic maps): the FCN family trained
from scratch here, its data pipeline over the synthetic scenes' semantic masks, and its training task.

Importing this package imports no model code: modules load when the registry is first read or when imported.
"""
