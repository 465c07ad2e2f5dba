"""Drawing: ``annotate(image, result)`` for every result type, and ``tile`` for contact sheets."""

from vision.viz.annotate import PALETTE, annotate, color_for
from vision.viz.layout import tile

__all__ = ["PALETTE", "annotate", "color_for", "tile"]
