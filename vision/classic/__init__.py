"""Classic image processing: pure functions on H×W×3 uint8 RGB (or H×W gray), each also a named pipeline op.

Use the functions from their modules (``vision.classic.edges.canny``) or by name through the registry
(``apply_op("canny", image, low=50)``, ``list_ops()``), and chain them with :class:`Pipeline`.
"""

from vision.classic.ops import Param, OpSpec, apply_op, get_op, list_ops, register_op
from vision.classic.results import Circles, Lines, Regions, Warped
from vision.classic.validate import check_gray, check_image, check_mask, to_gray

__all__ = [
    "Param", "OpSpec", "apply_op", "get_op", "list_ops", "register_op",
    "Circles", "Lines", "Regions", "Warped",
    "check_gray", "check_image", "check_mask", "to_gray",
]
