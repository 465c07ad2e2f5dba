"""Drawing: ``annotate(image, result)`` for every result type, ``tile`` for contact sheets, and CNN internals
(``first_layer_filters``, ``feature_maps``, ``feature_map_sheet``)."""

from vision.viz.annotate import PALETTE, annotate, color_for
from vision.viz.features import (
    conv_layers,
    default_layers,
    feature_map_sheet,
    feature_maps,
    first_layer_filters,
)
from vision.viz.layout import tile

__all__ = [
    "PALETTE",
    "annotate",
    "color_for",
    "conv_layers",
    "default_layers",
    "feature_map_sheet",
    "feature_maps",
    "first_layer_filters",
    "tile",
]
