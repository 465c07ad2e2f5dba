"""Draw any result type on an image: ``annotate(image, result) → new H×W×3 uint8 RGB image``.

Boxes and labels for :class:`~vision.types.Detections` (with instance masks and track ids when present), a
colour overlay with a legend for :class:`~vision.types.Segmentation`, and a top-k panel for
:class:`~vision.types.Classification`. The input image is never modified.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vision.classic.results import Circles, Lines, Regions, Warped
from vision.errors import InputError
from vision.types import Classification, Detections, Segmentation

__all__ = ["annotate", "color_for", "draw_label", "PALETTE"]

#: 20 distinct RGB colours (Tableau 20 order, bright first), indexed by class id.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120),
    (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (199, 199, 199),
    (219, 219, 141), (158, 218, 229),
)


def color_for(index: int) -> tuple[int, int, int]:
    """The palette colour of a class (or track) id."""
    return PALETTE[int(index) % len(PALETTE)]


def _text_color(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    return (0, 0, 0) if 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 150 else (255, 255, 255)


#: OpenCV's Hershey fonts are ASCII-only; these are spelled out instead of showing "??".
_ASCII = str.maketrans({"°": " deg", "×": "x", "σ": "sigma", "→": "->", "–": "-", "—": "-", "µ": "u", "²": "^2"})


def draw_label(canvas: np.ndarray, text: str, x: int, y: int, color: tuple[int, int, int], scale: float) -> None:
    """Draw ``text`` on a filled box whose bottom-left is (x, y), kept inside the image (non-ASCII spelled out)."""
    import cv2

    text = text.translate(_ASCII).encode("ascii", "replace").decode("ascii")

    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    h, w = canvas.shape[:2]
    x = int(min(max(x, 0), max(w - tw - 4, 0)))
    y = int(y if y - th - base - 4 >= 0 else y + th + base + 4)
    y = min(y, h - 1)
    cv2.rectangle(canvas, (x, y - th - base - 4), (x + tw + 4, y), color, -1)
    cv2.putText(canvas, text, (x + 2, y - base - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, _text_color(color), thick, cv2.LINE_AA)


def _scale_for(image: np.ndarray) -> float:
    return max(0.4, min(image.shape[:2]) / 900)


def _draw_detections(canvas: np.ndarray, det: Detections, *, mask_alpha: float, show_score: bool,
                     color_by: str = "class") -> None:
    import cv2

    scale = _scale_for(canvas)
    thick = max(2, round(min(canvas.shape[:2]) / 300))
    if det.track_ids is not None:
        key = det.track_ids
    else:
        key = det.class_ids if color_by == "class" else np.arange(len(det))
    if det.masks is not None and len(det):
        overlay = canvas.copy()
        for m, k in zip(det.masks, key):
            overlay[m] = color_for(int(k))
        cv2.addWeighted(overlay, mask_alpha, canvas, 1 - mask_alpha, 0, dst=canvas)
        for m, k in zip(det.masks, key):
            contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(canvas, contours, -1, color_for(int(k)), max(1, thick // 2), cv2.LINE_AA)
    order = np.argsort(det.scores, kind="stable")  # best drawn last, on top
    for i in order:
        x1, y1, x2, y2 = (int(round(v)) for v in det.xyxy[i])
        color = color_for(int(key[i]))
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thick, cv2.LINE_AA)
        text = det.labels[i]
        if det.track_ids is not None:
            text = f"#{int(det.track_ids[i])} {text}"
        if show_score:
            text = f"{text} {float(det.scores[i]):.2f}"
        draw_label(canvas, text, x1 - thick // 2, y1, color, scale)


def _draw_segmentation(canvas: np.ndarray, seg: Segmentation, *, mask_alpha: float, background: int | None) -> None:
    import cv2

    if seg.mask.shape != canvas.shape[:2]:
        raise InputError(f"segmentation mask is {seg.mask.shape[0]}×{seg.mask.shape[1]}, expected the image size "
                         f"{canvas.shape[0]}×{canvas.shape[1]}")
    ids = [int(i) for i in seg.class_ids if background is None or int(i) != background]
    lut = np.array([color_for(i) for i in range(int(seg.mask.max()) + 1)], dtype=np.uint8)
    colored = lut[seg.mask]
    paint = np.isin(seg.mask, ids)
    blended = cv2.addWeighted(colored, mask_alpha, canvas, 1 - mask_alpha, 0)
    canvas[paint] = blended[paint]
    scale = _scale_for(canvas)
    (_, th), base = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    step = th + base + 8
    for row, i in enumerate(ids):  # legend, top-left
        name = seg.names[i] if i < len(seg.names) else str(i)
        draw_label(canvas, name, 4, 4 + (row + 1) * step, color_for(i), scale)


def _draw_classification(canvas: np.ndarray, cls: Classification, *, show_score: bool) -> None:
    scale = _scale_for(canvas)
    import cv2

    (_, th), base = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    step = th + base + 8
    for row, (cid, label, score) in enumerate(zip(cls.class_ids, cls.labels, cls.scores)):
        text = f"{label} {float(score):.2f}" if show_score else label
        draw_label(canvas, text, 4, 4 + (row + 1) * step, color_for(int(cid)), scale)


def _draw_lines(canvas: np.ndarray, lines: Lines) -> None:
    import cv2

    thick = max(2, round(min(canvas.shape[:2]) / 300))
    for i, (x1, y1, x2, y2) in enumerate(lines.segments):
        cv2.line(canvas, (round(float(x1)), round(float(y1))), (round(float(x2)), round(float(y2))), color_for(i), thick,
                 cv2.LINE_AA)


def _draw_circles(canvas: np.ndarray, circles: Circles) -> None:
    import cv2

    thick = max(2, round(min(canvas.shape[:2]) / 300))
    for i, ((x, y), r) in enumerate(zip(circles.centers, circles.radii)):
        centre = (round(float(x)), round(float(y)))
        cv2.circle(canvas, centre, max(1, round(float(r))), color_for(i), thick, cv2.LINE_AA)
        cv2.circle(canvas, centre, thick, color_for(i), -1, cv2.LINE_AA)


def _draw_regions(canvas: np.ndarray, regions: Regions, *, mask_alpha: float) -> None:
    import cv2

    if regions.labels.shape != canvas.shape[:2]:
        raise InputError(f"region labels are {regions.labels.shape[0]}×{regions.labels.shape[1]}, expected the image "
                         f"size {canvas.shape[0]}×{canvas.shape[1]}")
    if len(regions):
        lut = np.array([(0, 0, 0)] + [color_for(i) for i in range(int(regions.labels.max()))], dtype=np.uint8)
        colored = lut[regions.labels]
        paint = regions.labels > 0
        blended = cv2.addWeighted(colored, mask_alpha, canvas, 1 - mask_alpha, 0)
        canvas[paint] = blended[paint]
    if len(regions) > 50:  # superpixels: boxes would be clutter, outline the regions instead
        lab = regions.labels
        edge = np.zeros(lab.shape, bool)
        edge[:, 1:] |= lab[:, 1:] != lab[:, :-1]
        edge[1:, :] |= lab[1:, :] != lab[:-1, :]
        canvas[edge] = (255, 255, 0)
    else:
        thick = max(1, round(min(canvas.shape[:2]) / 400))
        for i, box in enumerate(regions.boxes):
            x1, y1, x2, y2 = (int(round(float(v))) for v in box)
            cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), color_for(i), thick)
    scale = _scale_for(canvas)
    text_h = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][1]
    draw_label(canvas, f"{len(regions)} region{'' if len(regions) == 1 else 's'}", 4, text_h + 12, (40, 40, 40), scale)


def annotate(image: Any, result: Detections | Segmentation | Classification | Lines | Circles | Regions | Warped, *,
             mask_alpha: float = 0.45,
             show_score: bool = True, background: int | None = 0, color_by: str = "class") -> np.ndarray:
    """Return a copy of ``image`` with ``result`` drawn on it.

    Args:
        image: anything :func:`vision.io.read_image` accepts (H×W×3 uint8 RGB array, path, bytes).
        result: a Detections, Segmentation or Classification, or a classic op's Lines, Circles, Regions or Warped
            (a Warped result is its own image: the input image is ignored).
        mask_alpha: opacity of mask colours (0 = invisible, 1 = opaque).
        show_score: print scores beside labels.
        background: the segmentation class id left unpainted (None paints every class).
        color_by: detections' colours: ``"class"`` (one per class) or ``"instance"`` (one per object — instance
            masks of one class told apart); tracked detections are always coloured by track id.
    Raises:
        InputError: an unknown result type or ``color_by``, or a mask whose size differs from the image.
    Example:
        >>> import numpy as np; from vision.types import Detections
        >>> out = annotate(np.zeros((64, 64, 3), np.uint8), Detections([[8, 8, 40, 40]], [0.9], [0], names=["cat"]))
        >>> out.shape, out.dtype
        ((64, 64, 3), dtype('uint8'))
    """
    from vision.io import read_image

    if not 0.0 <= mask_alpha <= 1.0:
        raise InputError(f"mask_alpha: expected a value in [0, 1], got {mask_alpha}")
    if color_by not in ("class", "instance"):
        raise InputError(f"color_by: expected 'class' or 'instance', got {color_by!r}")
    canvas = np.array(read_image(image), copy=True)
    if isinstance(result, Detections):
        if result.masks is not None and result.masks.shape[1:] != canvas.shape[:2]:
            raise InputError(f"detection masks are {result.masks.shape[1]}×{result.masks.shape[2]}, expected the image "
                             f"size {canvas.shape[0]}×{canvas.shape[1]}")
        _draw_detections(canvas, result, mask_alpha=mask_alpha, show_score=show_score, color_by=color_by)
    elif isinstance(result, Segmentation):
        _draw_segmentation(canvas, result, mask_alpha=mask_alpha, background=background)
    elif isinstance(result, Classification):
        _draw_classification(canvas, result, show_score=show_score)
    elif isinstance(result, Lines):
        _draw_lines(canvas, result)
    elif isinstance(result, Circles):
        _draw_circles(canvas, result)
    elif isinstance(result, Regions):
        _draw_regions(canvas, result, mask_alpha=mask_alpha)
    elif isinstance(result, Warped):
        return read_image(result.image)
    else:
        raise InputError("annotate: expected Detections, Segmentation, Classification, Lines, Circles, Regions or "
                         f"Warped, got {type(result).__name__}")
    return canvas
