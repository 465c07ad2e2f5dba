"""The OpenCV fast path for plain JPEG/PNG gives what Pillow gives, for every EXIF orientation."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from vision.data import load_sample
from vision.errors import ImageDecodeError
from vision.io import read_image


def _jpeg(img: np.ndarray, orientation: int | None = None, quality: int = 92) -> bytes:
    pil = Image.fromarray(img)
    buf = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    pil.save(buf, format="JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def _pillow_reference(data: bytes) -> np.ndarray:
    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_exif_orientation_matches_pillow(orientation):
    img = load_sample("chelsea")[:120, :200]  # not square, so a wrong rotation changes the shape
    data = _jpeg(img, orientation)
    ours, ref = read_image(data), _pillow_reference(data)
    assert ours.shape == ref.shape
    assert np.abs(ours.astype(int) - ref).mean() < 1.5  # two JPEG decoders agree to rounding


def test_png_and_gray_jpeg_are_exact_or_close():
    img = load_sample("astronaut")
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    assert np.array_equal(read_image(buf.getvalue()), img)
    gray = load_sample("camera")[:, :, 0]
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG", quality=95)
    out = read_image(buf.getvalue())
    assert out.shape == (*gray.shape, 3) and np.array_equal(out[..., 0], out[..., 2])
    assert np.abs(out[..., 0].astype(int) - np.asarray(Image.open(buf))).mean() < 1.5


def test_truncated_jpeg_still_fails_instead_of_gray_fill():
    data = _jpeg(load_sample("coffee"))
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        read_image(data[: len(data) // 2])
