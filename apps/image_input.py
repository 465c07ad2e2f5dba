"""The image-input widget shared by every page: upload a photo, or pick one of the shipped samples.

All decoding and validation is done by :func:`vision.io.read_image`; this module only turns its typed errors
into a message on the page. :func:`decode_upload` / :func:`image_or_error` hold the "bytes → image or error
message" step without any Streamlit call, so tests can exercise every bad upload directly.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass

import numpy as np
import streamlit as st

from vision.data.photos import load_sample, sample_names, samples
from vision.errors import VisionError
from vision.io import read_image
from vision.io.image import MAX_PIXELS_ENV

log = logging.getLogger("vision.apps.image_input")

__all__ = [
    "UPLOAD_TYPES",
    "UPLOAD_MAX_PIXELS",
    "upload_max_pixels",
    "DEFAULT_SAMPLE",
    "ChosenImage",
    "decode_upload",
    "image_or_error",
    "image_input",
]

#: File suffixes the uploader accepts (Streamlit filters on these; read_image decodes by content, not suffix).
UPLOAD_TYPES: tuple[str, ...] = ("jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff")

#: Largest upload in pixels (40 MP, e.g. 8000×5000): a web demo refuses bigger images before decoding them,
#: well below the library's own limit (~179 MP), because every rerun keeps a copy per page in memory.
#: ``VISION_MAX_PIXELS`` lowers it (see :func:`upload_max_pixels`).
UPLOAD_MAX_PIXELS = 40_000_000

#: The sample shown before the user picks anything (it has a face and a person).
DEFAULT_SAMPLE = "astronaut"

# Session-state key holding the chosen sample, shared by all pages so the choice survives a page switch.
_SHARED_SAMPLE_KEY = "vision_app.sample"


@dataclass(frozen=True)
class ChosenImage:
    """The image a page works on: H×W×3 uint8 RGB pixels, a display name and where they came from."""

    image: np.ndarray
    name: str
    source: str  # "sample" or "upload"
    caption: str


def upload_max_pixels() -> int | None:
    """The pixel limit for uploads: :data:`UPLOAD_MAX_PIXELS`, or ``$VISION_MAX_PIXELS`` where that is lower.

    Returns None when ``VISION_MAX_PIXELS`` is set but is not a number, so that :func:`vision.io.read_image` reads
    the variable itself and reports the bad value (the page shows that message).
    """
    text = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "").replace(",", "")
    if not text:
        return UPLOAD_MAX_PIXELS
    try:
        return min(UPLOAD_MAX_PIXELS, int(text)) if int(text) > 0 else None
    except ValueError:
        return None


def decode_upload(data: bytes, *, name: str, max_pixels: int | None = UPLOAD_MAX_PIXELS) -> np.ndarray:
    """Decode the bytes of an uploaded file to an H×W×3 uint8 RGB image.

    Args:
        data: the file's bytes.
        name: the file name, used in error messages.
        max_pixels: refuse images with more pixels than this (checked on the header, before decoding); None =
            the library's limit (``$VISION_MAX_PIXELS``, else its default).
    Returns:
        The decoded image.
    Raises:
        ImageDecodeError: empty, truncated, corrupt or not an image.
        ImageTooLargeError: more than ``max_pixels`` pixels.
    """
    buffer = io.BytesIO(bytes(data))
    buffer.name = name  # read_image names file objects by their .name in its messages
    return read_image(buffer, max_pixels=max_pixels)


def image_or_error(data: bytes, *, name: str,
                   max_pixels: int | None = UPLOAD_MAX_PIXELS) -> tuple[np.ndarray | None, str | None]:
    """Decode an upload to ``(image, None)``, or ``(None, the library's error message)`` for a bad file.

    Args:
        data: the file's bytes.
        name: the file name, used in the message.
        max_pixels: refuse images with more pixels than this.
    Returns:
        ``(H×W×3 uint8 RGB image, None)`` or ``(None, message)``; a bad file never raises.
    """
    try:
        return decode_upload(data, name=name, max_pixels=max_pixels), None
    except VisionError as exc:
        return None, str(exc)


def _sample_label(name: str) -> str:
    return f"{name} — {samples()[name].description}"


def _remember_sample(widget_key: str) -> None:
    st.session_state[_SHARED_SAMPLE_KEY] = st.session_state[widget_key]


def image_input(*, key: str, default: str = DEFAULT_SAMPLE) -> ChosenImage | None:
    """Show the uploader and the sample picker; return the chosen image, or None after showing an error.

    An uploaded file takes precedence over the sample. The sample choice is shared between pages.

    Args:
        key: a prefix making this page's widget keys unique.
        default: the sample shown until the user picks one on any page (e.g. a photo that suits this page's model).
    """
    names = sample_names()
    current = st.session_state.get(_SHARED_SAMPLE_KEY, default)
    fallback = default if default in names else DEFAULT_SAMPLE
    index = names.index(current) if current in names else names.index(fallback)
    pick, upload = st.columns(2)
    with pick:
        sample_key = f"{key}.sample"
        sample = st.selectbox("Sample photo", names, index=index, format_func=_sample_label, key=sample_key,
                              on_change=_remember_sample, args=(sample_key,))
    with upload:
        uploaded = st.file_uploader("…or upload your own image", type=list(UPLOAD_TYPES), key=f"{key}.upload",
                                    help=f"{', '.join(UPLOAD_TYPES)}; at most {UPLOAD_MAX_PIXELS / 1e6:.0f} "
                                         "megapixels. An upload replaces the sample; remove it to go back.")
    if uploaded is not None:  # an UploadedFile is always truthy, even when empty: compare with None
        try:
            image, error = image_or_error(uploaded.getvalue(), name=uploaded.name, max_pixels=upload_max_pixels())
        except Exception as exc:  # a decoder bug, not a bad file: no traceback on the page, full one in the log
            log.exception("decoding the upload %s failed", uploaded.name)
            image, error = None, f"unexpected {type(exc).__name__} while decoding {uploaded.name}: {exc}"
        if error is not None:
            st.error(f"Could not use the uploaded file: {error}")
            return None
        h, w = image.shape[:2]
        return ChosenImage(image, uploaded.name, "upload", f"{uploaded.name} (uploaded, {w}×{h})")
    try:
        image = load_sample(sample)  # cached by the library; returns a copy
    except VisionError as exc:  # e.g. the package holding the photo is not installed
        st.error(f"Could not load the sample photo {sample!r}: {exc}")
        return None
    info = samples()[sample]
    h, w = image.shape[:2]
    return ChosenImage(image, sample, "sample",
                       f"{sample} ({w}×{h}) — {info.description}; source: {info.source}; licence: {info.license}")
