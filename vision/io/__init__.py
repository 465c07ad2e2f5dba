"""Image and video input/output; every image crossing this boundary is numpy ``H×W×3 uint8 RGB``.

* :func:`read_image`, :func:`write_image`, :func:`image_info`, :func:`encode_image` — still images (Pillow).
* :class:`VideoSource`, :class:`VideoSink`, :class:`Frame` — files, cameras, streams (OpenCV, imported lazily).

Importing this package imports numpy and Pillow only (no torch, no cv2).
"""

from vision.io.image import encode_image, image_info, read_image, write_image
from vision.io.video import Frame, VideoSource
from vision.io.video_sink import VideoSink

__all__ = [
    "read_image",
    "write_image",
    "image_info",
    "encode_image",
    "VideoSource",
    "VideoSink",
    "Frame",
]
