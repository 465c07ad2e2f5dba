"""Arrange several images into one picture (contact sheets for demos, reports and apps)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from vision.errors import InputError

__all__ = ["tile"]


def tile(images: Sequence[np.ndarray], *, cols: int = 4, cell: int = 256, gap: int = 4,
         background: tuple[int, int, int] = (255, 255, 255), captions: Sequence[str] | None = None) -> np.ndarray:
    """Fit each image into a ``cell``×``cell`` square (aspect kept) and lay them out ``cols`` per row.

    Args:
        images: H×W×3 uint8 RGB or H×W gray (anything :func:`vision.io.read_image` takes; bool masks as 0/255).
        captions: optional text drawn at the bottom-left of each cell (clear of labels drawn at the top).
    Raises:
        InputError: no images, ``cols``/``cell`` < 1, or a caption count that differs from the image count.
    """
    import cv2

    from vision.io import read_image

    if not len(images):
        raise InputError("tile: expected at least one image, got none")
    if cols < 1 or cell < 1 or gap < 0:
        raise InputError(f"tile: expected cols ≥ 1, cell ≥ 1, gap ≥ 0; got {cols}, {cell}, {gap}")
    if captions is not None and len(captions) != len(images):
        raise InputError(f"tile: expected one caption per image ({len(images)}), got {len(captions)}")
    cols = min(cols, len(images))
    rows = -(-len(images) // cols)
    out = np.empty((rows * cell + (rows + 1) * gap, cols * cell + (cols + 1) * gap, 3), np.uint8)
    out[:] = background
    for k, img in enumerate(images):
        img = read_image(np.asarray(img, np.uint8) * 255 if np.asarray(img).dtype == bool else img)
        s = cell / max(img.shape[:2])
        small = cv2.resize(img, (max(1, round(img.shape[1] * s)), max(1, round(img.shape[0] * s))),
                           interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        r, c = divmod(k, cols)
        y = gap + r * (cell + gap) + (cell - small.shape[0]) // 2
        x = gap + c * (cell + gap) + (cell - small.shape[1]) // 2
        out[y:y + small.shape[0], x:x + small.shape[1]] = small
        if captions is not None and captions[k]:
            from vision.viz.annotate import draw_label

            x0, y0 = gap + c * (cell + gap), gap + r * (cell + gap)
            scale = max(0.4, cell / 700)
            draw_label(out, captions[k], x0, y0 + cell, (30, 30, 30), scale)
    return out
