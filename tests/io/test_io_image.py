"""vision.io image reading, writing and header inspection: real photos, every pixel format, every bad input."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile
from skimage import data

from vision.errors import (
    DTypeError,
    ImageDecodeError,
    ImageTooLargeError,
    InputError,
    ShapeError,
    SourceNotFoundError,
)
from vision.io import encode_image, image_info, read_image, write_image
from vision.io.image import DEFAULT_MAX_PIXELS


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture()
def png_file(tmp_path, astronaut) -> Path:
    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(path)
    return path


@pytest.fixture()
def jpeg_file(tmp_path) -> Path:
    path = tmp_path / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(path, quality=90)
    return path


def _png_header_only(width: int, height: int) -> bytes:
    """A valid 1-bit PNG header claiming width×height, followed by far too little pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------------------------------ reading files


def test_png_round_trip_is_exact_and_contiguous(png_file, astronaut):
    out = read_image(png_file)
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, astronaut)


def test_every_source_kind_gives_the_same_pixels(png_file, astronaut):
    raw = png_file.read_bytes()
    with open(png_file, "rb") as fh:
        from_file_object = read_image(fh)
    sources = [str(png_file), png_file, raw, bytearray(raw), memoryview(raw), io.BytesIO(raw), Image.open(png_file)]
    for source in sources:
        np.testing.assert_array_equal(read_image(source), astronaut)
    np.testing.assert_array_equal(from_file_object, astronaut)


def test_jpeg_photo_reads_close_to_original(jpeg_file):
    out = read_image(jpeg_file)
    assert out.shape == data.chelsea().shape
    assert np.abs(out.astype(int) - data.chelsea()).mean() < 3


def test_gray_photo_becomes_three_equal_channels(tmp_path):
    camera = data.camera()
    path = tmp_path / "camera.png"
    Image.fromarray(camera).save(path)
    out = read_image(path)
    assert out.shape == (*camera.shape, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :, c], camera)


def test_exif_orientation_6_is_applied(tmp_path):
    stored = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 tall as stored
    stored[:5, :5] = (255, 0, 0)  # red marker at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, exif=exif.tobytes(), quality=95)

    out = read_image(path)
    assert out.shape == (40, 20, 3)  # upright: 20 wide, 40 tall
    assert out[:5, -5:, 0].mean() > 200 and out[:5, -5:, 1:].mean() < 60  # marker now top-right
    assert out[:5, :5].mean() < 60
    info = image_info(path)
    assert (info["width"], info["height"]) == (20, 40)


def test_16bit_png_is_divided_by_257(tmp_path):
    values = np.array([[0, 128, 257, 32896], [65535, 65407, 1000, 514]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode == "I;16"
    out = read_image(path)
    expected = np.round(values / 257).astype(np.uint8)
    np.testing.assert_array_equal(out[:, :, 0], expected)
    np.testing.assert_array_equal(out[:, :, 2], expected)
    assert image_info(path)["mode"] == "I;16"


def test_16bit_tiff_is_divided_by_257(tmp_path):
    values = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1000).astype(np.uint16)
    path = tmp_path / "deep.tif"
    Image.fromarray(values).save(path)
    np.testing.assert_array_equal(read_image(path)[:, :, 1], np.round(values / 257).astype(np.uint8))


def test_rgba_png_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)  # opaque: its own colour
    rgba[0, 1] = (0, 0, 0, 0)  # transparent black: white
    rgba[0, 2] = (0, 0, 0, 128)  # half-transparent black: mid gray
    rgba[1] = (255, 0, 0, 255)
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    out = read_image(path)
    np.testing.assert_array_equal(out[0, 0], (10, 20, 30))
    np.testing.assert_array_equal(out[0, 1], (255, 255, 255))
    np.testing.assert_array_equal(out[0, 2], (127, 127, 127))
    np.testing.assert_array_equal(out[1, 0], (255, 0, 0))


def test_gray_alpha_png_is_composited_on_white(tmp_path):
    la = Image.merge("LA", (Image.new("L", (2, 1), 50), Image.frombytes("L", (2, 1), bytes([255, 0]))))
    path = tmp_path / "la.png"
    la.save(path)
    out = read_image(path)
    np.testing.assert_array_equal(out[0], [[50, 50, 50], [255, 255, 255]])


def test_palette_png_gives_its_colours(tmp_path, astronaut):
    pal = Image.fromarray(astronaut).quantize(colors=16)
    path = tmp_path / "palette.png"
    pal.save(path)
    assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(read_image(path), np.asarray(pal.convert("RGB")))


def test_palette_with_transparency_is_composited_on_white(tmp_path):
    pal = Image.new("P", (2, 1))
    pal.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    path = tmp_path / "transparent.png"
    pal.save(path, transparency=0)
    np.testing.assert_array_equal(read_image(path)[0], [[255, 255, 255], [200, 10, 10]])


def test_one_bit_image_gives_0_and_255(tmp_path):
    bits = Image.fromarray(np.array([[True, False], [False, True]]))
    path = tmp_path / "bits.png"
    bits.save(path)
    np.testing.assert_array_equal(read_image(path)[:, :, 0], [[255, 0], [0, 255]])


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(path, quality=100)  # pure red in CMYK
    out = read_image(path)
    assert out.shape == (8, 8, 3)
    assert out[..., 0].min() > 230 and out[..., 1:].max() < 25


# ------------------------------------------------------------------------------------------------ bad files


def test_missing_path_names_the_path(tmp_path):
    missing = tmp_path / "nope" / "photo.png"
    with pytest.raises(SourceNotFoundError, match="photo.png") as err:
        read_image(missing)
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(SourceNotFoundError, match="photo.png"):
        image_info(missing)


def test_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_image(tmp_path)


def test_zero_byte_file_and_empty_bytes(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageDecodeError, match=r"empty\.jpg is empty \(0 bytes\)"):
        read_image(empty)
    with pytest.raises(ImageDecodeError, match=r"0 bytes"):
        read_image(b"")
    with pytest.raises(ImageDecodeError, match=r"0 bytes"):
        read_image(io.BytesIO())


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_files_are_detected(tmp_path, astronaut, suffix):
    whole = encode_image(astronaut, format=suffix)
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImageDecodeError, match=rf"cut\{suffix}.*truncated"):
        read_image(path)
    with pytest.raises(ImageDecodeError, match="truncated"):
        read_image(whole[: len(whole) // 2])
    # the header is intact, so the cheap header reader still answers
    assert image_info(path)["width"] == 512
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_text_file_named_jpg_is_a_decode_error(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture\n" * 10)
    with pytest.raises(ImageDecodeError, match=r"notes\.jpg is not an image"):
        read_image(path)
    with pytest.raises(ImageDecodeError, match=r"notes\.jpg"):
        image_info(path)


def test_unsupported_source_types():
    with pytest.raises(InputError, match="got int"):
        read_image(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="text mode"):
        read_image(io.StringIO("abc"))
    with pytest.raises(InputError, match="does not download"):
        read_image("https://example.com/cat.jpg")


# ------------------------------------------------------------------------------------------------ pixel limit


def test_huge_header_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(30000, 30000))  # 69 bytes; decoding would fail as truncated
    with pytest.raises(ImageTooLargeError) as err:
        read_image(path)
    message = str(err.value)
    assert "bomb.png has 30000×30000 = 900,000,000 pixels" in message
    assert f"{DEFAULT_MAX_PIXELS:,}" in message and "max_pixels=" in message and "VISION_MAX_PIXELS" in message
    # the header reader still reports it (no limit, no decoding)
    assert image_info(path) == {"width": 30000, "height": 30000, "mode": "1", "format": "PNG", "bytes": 69}


def test_max_pixels_above_pillows_limit_lets_decoding_start(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_png_header_only(30000, 30000))
    # past our limit and past Pillow's own: decoding starts and finds the (deliberately) missing data
    with pytest.raises(ImageDecodeError, match="truncated"):
        read_image(path, max_pixels=10**9)
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # Pillow's global is untouched


def test_max_pixels_argument_and_environment(png_file, monkeypatch):
    with pytest.raises(ImageTooLargeError, match=r"512×512 = 262,144 pixels; the limit is 1,000"):
        read_image(png_file, max_pixels=1000)
    assert read_image(png_file, max_pixels=512 * 512).shape == (512, 512, 3)
    monkeypatch.setenv("VISION_MAX_PIXELS", "100000")
    with pytest.raises(ImageTooLargeError, match="the limit is 100,000"):
        read_image(png_file)
    assert read_image(png_file, max_pixels=300_000).shape == (512, 512, 3)  # the argument wins
    monkeypatch.setenv("VISION_MAX_PIXELS", "lots")
    with pytest.raises(InputError, match="VISION_MAX_PIXELS must be a positive integer, got 'lots'"):
        read_image(png_file)


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_invalid_max_pixels(png_file, bad):
    with pytest.raises(InputError, match="max_pixels must be a positive integer"):
        read_image(png_file, max_pixels=bad)  # type: ignore[arg-type]


def test_no_pillow_bomb_warning_escapes():
    header = _png_header_only(10000, 10000)  # above Pillow's warning threshold, below its error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert image_info(header)["width"] == 10000
        with pytest.raises(ImageDecodeError, match="truncated"):
            read_image(header)


# ------------------------------------------------------------------------------------------------ numpy input


def test_uint8_layouts():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(read_image(gray), np.stack([gray] * 3, axis=2))
    np.testing.assert_array_equal(read_image(gray[:, :, None]), np.stack([gray] * 3, axis=2))
    rgb = np.random.default_rng(0).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(read_image(rgb), rgb)
    rgba = np.concatenate([rgb, np.zeros((3, 4, 1), np.uint8)], axis=2)
    np.testing.assert_array_equal(read_image(rgba), rgb)  # alpha dropped


def test_array_result_is_a_contiguous_copy():
    rgb = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    flipped = rgb[:, ::-1]
    out = read_image(flipped)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, flipped)
    same = read_image(rgb)
    same[0, 0] = 0
    assert not np.shares_memory(same, rgb)


def test_dtype_conversions():
    np.testing.assert_array_equal(read_image(np.array([[0, 257, 65535]], np.uint16))[0, :, 0], [0, 1, 255])
    np.testing.assert_array_equal(read_image(np.array([[0.0, 0.5, 1.0]], np.float32))[0, :, 0], [0, 128, 255])
    np.testing.assert_array_equal(read_image(np.array([[0.2]], np.float64))[0, 0], [51, 51, 51])
    np.testing.assert_array_equal(read_image(np.array([[True, False]]))[0, :, 0], [255, 0])
    np.testing.assert_array_equal(read_image(np.array([[0, 7, 255]], np.int64))[0, :, 0], [0, 7, 255])


def test_float_outside_unit_range_says_the_range():
    with pytest.raises(InputError, match=r"values in \[0, 255\].*expected values in \[0, 1\]"):
        read_image(np.array([[0.0, 255.0]], np.float32))
    with pytest.raises(InputError, match=r"\[-1, 0\.5\]"):
        read_image(np.array([[-1.0, 0.5]]))
    with pytest.raises(InputError, match="NaN"):
        read_image(np.array([[np.nan, 0.5]]))


@pytest.mark.parametrize(
    "array, pattern",
    [
        (np.array([[0, 300]], np.int64), r"int64 image has values in \[0, 300\]"),
        (np.array([[-1, 3]], np.int16), r"values in \[-1, 3\]"),
        (np.zeros((2, 2), np.complex64), "complex64"),
        (np.array([[object(), object()]]), "object"),
        (np.array([["a", "b"]]), "<U1"),
    ],
)
def test_bad_dtypes(array, pattern):
    with pytest.raises(DTypeError, match=pattern):
        read_image(array)


@pytest.mark.parametrize(
    "shape, pattern",
    [
        ((2, 3, 4, 5), r"expected H×W, H×W×1, H×W×3 or H×W×4, got 2×3×4×5 uint8"),
        ((5,), r"got 5 uint8"),
        ((4, 4, 2), r"got 4×4×2 uint8"),
        ((0, 4, 3), r"non-empty.*got 0×4×3 uint8"),
    ],
)
def test_bad_shapes(shape, pattern):
    with pytest.raises(ShapeError, match=pattern):
        read_image(np.zeros(shape, np.uint8))


# ------------------------------------------------------------------------------------------------ writing


@pytest.mark.parametrize("suffix, exact", [(".png", True), (".bmp", True), (".tif", True), (".tiff", True),
                                           (".jpg", False), (".jpeg", False), (".webp", False), (".PNG", True)])
def test_write_every_format_round_trips(tmp_path, astronaut, suffix, exact):
    path = write_image(tmp_path / f"out{suffix}", astronaut)
    assert path == tmp_path / f"out{suffix}" and path.is_file()
    back = read_image(path)
    if exact:
        np.testing.assert_array_equal(back, astronaut)
    else:
        assert np.abs(back.astype(int) - astronaut).mean() < 4
    assert _files(tmp_path) == [f"out{suffix}"]  # no temp file left


def test_write_gray_is_stored_as_one_channel(tmp_path):
    camera = data.camera()
    path = write_image(tmp_path / "gray.png", camera)
    assert image_info(path)["mode"] == "L"
    np.testing.assert_array_equal(read_image(path)[:, :, 0], camera)
    path = write_image(tmp_path / "gray1.png", camera[:, :, None])
    assert image_info(path)["mode"] == "L"


def test_write_creates_parents_and_uses_normal_permissions(tmp_path, astronaut):
    path = write_image(tmp_path / "a" / "b" / "c.png", astronaut)
    assert path.is_file()
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_quality_changes_jpeg_size(tmp_path, astronaut):
    small = write_image(tmp_path / "q10.jpg", astronaut, quality=10).stat().st_size
    large = write_image(tmp_path / "q95.jpg", astronaut, quality=95).stat().st_size
    assert small < large / 2


@pytest.mark.parametrize("quality", [0, 101, 50.5, True])
def test_bad_quality(tmp_path, astronaut, quality):
    with pytest.raises(InputError, match=r"quality must be an integer in \[1, 100\]"):
        write_image(tmp_path / "x.jpg", astronaut, quality=quality)
    assert _files(tmp_path) == []


def test_unknown_suffix_lists_supported(tmp_path, astronaut):
    with pytest.raises(InputError, match=r"'\.gifx'.*\.png \.jpg \.jpeg \.bmp \.tif \.tiff \.webp"):
        write_image(tmp_path / "x.gifx", astronaut)
    with pytest.raises(InputError, match="unsupported image format ''"):
        write_image(tmp_path / "noext", astronaut)
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    "image, error, pattern",
    [
        (np.zeros((4, 4, 3), np.float32), DTypeError, "expected uint8, got 4×4×3 float32"),
        (np.zeros((4, 4, 3), np.uint16), DTypeError, "uint16"),
        (np.zeros((4, 4, 4), np.uint8), ShapeError, "got 4×4×4 uint8"),
        (np.zeros((2, 4, 4, 3), np.uint8), ShapeError, "got 2×4×4×3 uint8"),
        (np.zeros((0, 4), np.uint8), ShapeError, "non-empty"),
        ([[1, 2], [3, 4]], InputError, "got list"),
    ],
)
def test_write_refuses_bad_images_and_leaves_target_untouched(tmp_path, image, error, pattern):
    target = tmp_path / "sub" / "keep.png"
    with pytest.raises(error, match=pattern):
        write_image(target, image)
    assert not (tmp_path / "sub").exists()  # nothing created, not even the folder
    target.parent.mkdir()
    target.write_bytes(b"old")
    with pytest.raises(error):
        write_image(target, image)
    assert target.read_bytes() == b"old" and _files(target.parent) == ["keep.png"]


def test_write_to_a_directory_is_an_input_error(tmp_path, astronaut):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        write_image(tmp_path / "folder.png", astronaut)


def test_failed_rename_removes_temp_and_keeps_target(tmp_path, astronaut, monkeypatch):
    target = tmp_path / "keep.png"
    target.write_bytes(b"old")

    def refuse(src, dst):  # stands in for a disk-full / permission failure at the last step
        assert Path(src).exists() and Path(src).parent == tmp_path
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_image(target, astronaut)
    assert target.read_bytes() == b"old"
    assert _files(tmp_path) == ["keep.png"]


def test_overwrite_replaces_existing_file(tmp_path, astronaut):
    target = tmp_path / "img.png"
    write_image(target, np.zeros((3, 3, 3), np.uint8))
    write_image(target, astronaut)
    np.testing.assert_array_equal(read_image(target), astronaut)


# ------------------------------------------------------------------------------------------------ encode / info


@pytest.mark.parametrize("fmt, pil_format", [("png", "PNG"), (".PNG", "PNG"), ("jpeg", "JPEG"), (".jpg", "JPEG"),
                                             ("webp", "WEBP"), ("bmp", "BMP"), ("tiff", "TIFF")])
def test_encode_image_formats(astronaut, fmt, pil_format):
    blob = encode_image(astronaut, format=fmt)
    assert isinstance(blob, bytes)
    info = image_info(blob)
    assert info["format"] == pil_format and (info["width"], info["height"]) == (512, 512)
    assert info["bytes"] == len(blob)


def test_encode_image_rejects_bad_input(astronaut):
    with pytest.raises(InputError, match="unsupported image format"):
        encode_image(astronaut, format="gif")
    with pytest.raises(DTypeError):
        encode_image(astronaut.astype(np.float32) / 255)


def test_image_info_fields(jpeg_file, tmp_path):
    info = image_info(jpeg_file)
    assert info == {"width": 451, "height": 300, "mode": "RGB", "format": "JPEG",
                    "bytes": jpeg_file.stat().st_size}
    with open(jpeg_file, "rb") as fh:
        assert image_info(fh) == info
    gray = write_image(tmp_path / "g.png", data.camera())
    assert image_info(gray)["mode"] == "L"


def test_import_has_no_side_effects():
    code = (
        "import sys; from PIL import Image, ImageFile; import vision.io; "
        "assert 'torch' not in sys.modules and 'cv2' not in sys.modules; "
        "assert Image.MAX_IMAGE_PIXELS == 89478485 and ImageFile.LOAD_TRUNCATED_IMAGES is False"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
