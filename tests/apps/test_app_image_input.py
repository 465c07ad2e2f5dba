"""The upload step shared by the apps: bytes → H×W×3 uint8 RGB image, or the library's error message."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from app_support import APPS, encode, png_header_only, truncated

from vision.data.photos import load_sample
from vision.errors import ImageDecodeError, ImageTooLargeError


@pytest.fixture(scope="module")
def image_input():
    """apps/image_input.py, imported the way the pages import it (apps/ on sys.path)."""
    sys.path.insert(0, str(APPS))
    try:
        return importlib.import_module("image_input")
    finally:
        sys.path.remove(str(APPS))


@pytest.mark.parametrize("suffix, fmt", [("png", "PNG"), ("jpg", "JPEG"), ("jpeg", "JPEG"), ("bmp", "BMP"),
                                         ("webp", "WEBP"), ("tif", "TIFF"), ("tiff", "TIFF")])
def test_decode_upload_reads_every_accepted_format(image_input, suffix, fmt):
    assert suffix in image_input.UPLOAD_TYPES
    image = load_sample("chelsea")
    out = image_input.decode_upload(encode(image, fmt), name=f"cat.{suffix}")
    assert out.shape == image.shape and out.dtype == np.uint8
    if fmt in ("PNG", "BMP", "TIFF"):  # lossless
        np.testing.assert_array_equal(out, image)
    else:  # lossy, but the same picture
        assert np.abs(out.astype(int) - image).mean() < 4


def test_gray_and_rgba_uploads_become_rgb(image_input):
    gray = np.tile(np.arange(64, dtype=np.uint8), (32, 1))
    out = image_input.decode_upload(encode(gray, "PNG"), name="gray.png")
    assert out.shape == (32, 64, 3)
    np.testing.assert_array_equal(out[..., 0], gray)
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = 255
    assert image_input.decode_upload(encode(rgba, "PNG"), name="rgba.png").shape == (8, 8, 3)


BAD_UPLOADS = {
    "zero-byte": ("empty.png", b"", ImageDecodeError, "empty (0 bytes)"),
    "not an image": ("notes.png", b"these are my notes, not a picture\n" * 20, ImageDecodeError, "not an image"),
    "truncated png": ("half.png", truncated("PNG"), ImageDecodeError, "half.png"),
    "truncated jpeg": ("half.jpg", truncated("JPEG"), ImageDecodeError, "half.jpg"),
    "huge": ("bomb.png", png_header_only(10_000, 10_000), ImageTooLargeError, "100,000,000"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_raises_the_typed_error_naming_the_file(image_input, case):
    name, data, error, text = BAD_UPLOADS[case]
    with pytest.raises(error) as info:
        image_input.decode_upload(data, name=name)
    assert name in str(info.value) and text in str(info.value)


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_image_or_error_turns_a_bad_upload_into_the_library_message(image_input, case):
    name, data, error, _ = BAD_UPLOADS[case]
    with pytest.raises(error) as expected:
        image_input.decode_upload(data, name=name)
    image, message = image_input.image_or_error(data, name=name)
    assert image is None
    assert message == str(expected.value)


def test_image_or_error_on_a_good_upload(image_input):
    image, message = image_input.image_or_error(encode(load_sample("coffee"), "PNG"), name="coffee.png")
    assert message is None
    np.testing.assert_array_equal(image, load_sample("coffee"))


def test_upload_pixel_limit_is_checked_before_decoding(image_input):
    # 41 MP is over the app's limit although far under the library's default limit.
    data = png_header_only(8_200, 5_000)
    _, message = image_input.image_or_error(data, name="big.png")
    assert message is not None and "41,000,000" in message and f"{image_input.UPLOAD_MAX_PIXELS:,}" in message
    # and the limit is the caller's to choose
    small = encode(load_sample("coffee"), "PNG")
    with pytest.raises(ImageTooLargeError):
        image_input.decode_upload(small, name="coffee.png", max_pixels=1000)
