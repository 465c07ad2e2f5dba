"""Read, write and inspect still images; every image leaves here as numpy ``H×W×3 uint8 RGB``.

Decoding goes through Pillow, so EXIF orientation is applied and every format Pillow knows is read the
same way. The pixel count is checked against a limit from the file header, before any pixel is decoded
(a guard against decompression bombs). Pillow's global settings (``MAX_IMAGE_PIXELS``,
``ImageFile.LOAD_TRUNCATED_IMAGES``) are read, never changed: truncated files are errors.

Writing is atomic: the encoded bytes go to a temporary file in the target's folder, which is then renamed
over the target, so a reader never sees half a file and a failure leaves an existing target untouched.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import warnings
import zlib
from pathlib import Path
from typing import IO, Any, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from vision.errors import (
    DTypeError,
    ImageDecodeError,
    ImageTooLargeError,
    InputError,
    ShapeError,
    SourceNotFoundError,
)
from vision.io.files import atomic_write_bytes

__all__ = ["read_image", "write_image", "image_info", "encode_image", "DEFAULT_MAX_PIXELS", "WRITE_FORMATS"]

logger = logging.getLogger(__name__)

#: Default pixel limit: Pillow's own hard limit (2 × ``PIL.Image.MAX_IMAGE_PIXELS`` = 2 × 89,478,485), i.e.
#: about a 13,377 × 13,377 image (~537 MB as RGB uint8). Override per call with ``max_pixels=`` or for the
#: whole process with the environment variable ``VISION_MAX_PIXELS``.
DEFAULT_MAX_PIXELS = 178_956_970
MAX_PIXELS_ENV = "VISION_MAX_PIXELS"

#: File suffix → Pillow format name for :func:`write_image` / :func:`encode_image`.
WRITE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}

ImageSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], np.ndarray, Image.Image]

# Errors Pillow raises for broken, truncated or unsupported data (it uses SyntaxError for parse failures).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error, zlib.error)


# --------------------------------------------------------------------------------------------------------------
# small helpers


def _describe(arr: np.ndarray) -> str:
    return f"{'×'.join(map(str, arr.shape)) or 'scalar'} {arr.dtype}"


def _resolve_max_pixels(max_pixels: int | None) -> int:
    """The pixel limit to use: the argument, else ``$VISION_MAX_PIXELS``, else :data:`DEFAULT_MAX_PIXELS`."""
    origin = "max_pixels"
    if max_pixels is None:
        env = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not env:
            return DEFAULT_MAX_PIXELS
        origin = MAX_PIXELS_ENV
        try:
            max_pixels = int(env.replace("_", "").replace(",", ""))
        except ValueError:
            raise InputError(f"{MAX_PIXELS_ENV} must be a positive integer, got {env!r}") from None
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels <= 0:
        raise InputError(f"{origin} must be a positive integer, got {max_pixels!r}")
    return int(max_pixels)


def _check_pixels(size: tuple[int, int], limit: int, name: str) -> None:
    w, h = size
    if w * h > limit:
        raise ImageTooLargeError(
            f"{name} has {w}×{h} = {w * h:,} pixels; the limit is {limit:,}; "
            f"raise it with max_pixels= or {MAX_PIXELS_ENV}"
        )


def _path_of(source: Any) -> Path:
    return Path(os.fsdecode(os.fspath(source)))


def _check_path(path: Path) -> int:
    """Check that ``path`` is a non-empty file; return its size in bytes."""
    if not path.exists():
        raise SourceNotFoundError(f"image file not found: {path} (expected an existing image file)")
    if path.is_dir():
        raise InputError(f"{path} is a directory; expected an image file")
    size = path.stat().st_size
    if size == 0:
        raise ImageDecodeError(f"{path} is empty (0 bytes); expected an image file")
    return size


def _load_source(source: Any) -> tuple[Path | bytes, str, int]:
    """Turn a path / bytes / file object into (path or bytes, display name, size in bytes)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise ImageDecodeError("image bytes are empty (0 bytes); expected the bytes of an image file")
        return data, f"image bytes ({len(data):,} bytes)", len(data)
    if isinstance(source, (str, os.PathLike)):
        text = os.fsdecode(os.fspath(source))
        if text.startswith(("http://", "https://")) and not Path(text).exists():
            raise InputError(f"read_image does not download URLs, got {text!r}; expected a local path or bytes")
        path = _path_of(source)
        return path, str(path), _check_path(path)
    if hasattr(source, "read"):
        name = str(getattr(source, "name", "") or "file object")
        data = source.read()
        if isinstance(data, str):
            raise InputError(f"{name} was opened in text mode; expected a binary file object (open(..., 'rb'))")
        data = bytes(data)
        if not data:
            raise ImageDecodeError(f"{name} is empty (0 bytes); expected an image file")
        return data, name, len(data)
    raise InputError(
        "expected a path, bytes, a binary file object, a PIL image or a numpy array, "
        f"got {type(source).__name__}"
    )


def _open_unchecked(fp: IO[bytes]) -> Image.Image | None:
    """Open ``fp`` the way ``Image.open`` does, minus its global decompression-bomb check.

    Used only when Pillow refused an image for being larger than its own limit and ours allows more; the
    caller has already checked the size against ``max_pixels``.
    """
    Image.init()
    fp.seek(0)
    prefix = fp.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        ok = accept(prefix) if accept else True
        if not ok or isinstance(ok, str):
            continue
        fp.seek(0)
        try:
            return factory(fp, "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue
    return None


def _bomb_size(message: str) -> int:
    """The pixel count in Pillow's DecompressionBombError message (0 if it cannot be parsed)."""
    digits = message.split("(", 1)[-1].split(" ", 1)[0]
    return int(digits) if digits.isdigit() else 0


def _open_header(fp: IO[bytes], name: str, limit: int | None) -> Image.Image:
    """Open an image lazily (header only) and check its pixel count against ``limit`` (None: no check)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fp)
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit fired inside Image.open; read the header without it to report/allow.
        im = _open_unchecked(fp)
        if im is None:  # pragma: no cover - Pillow identified it a moment ago
            pixels = _bomb_size(str(exc))
            raise ImageTooLargeError(
                f"{name} has {pixels:,} pixels; Pillow refuses more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,}"
            ) from None
    except UnidentifiedImageError:
        raise ImageDecodeError(
            f"{name} is not an image Pillow can read (cannot identify the image format); "
            "expected a PNG, JPEG, BMP, TIFF, WebP, GIF or other Pillow-readable file"
        ) from None
    except _DECODE_ERRORS as exc:
        raise ImageDecodeError(f"{name} could not be decoded: {exc}") from None
    if limit is not None:
        _check_pixels(im.size, limit, name)
    return im


# EXIF orientation → the transpose that makes the image upright (as ImageOps.exif_transpose does).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _exif_orientation(im: Image.Image, *, header_only: bool = False) -> int:
    """EXIF orientation tag (1–8); 1 when absent or unreadable.

    With ``header_only`` a PNG's EXIF is taken from the chunks read so far (its ``getexif()`` would decode
    the pixels to look for an eXIf chunk after the image data).
    """
    try:
        if header_only and im.format == "PNG":
            raw = im.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = im.getexif()
        value = int(exif.get(0x0112, 1))
    except Exception:  # a broken EXIF block is not a broken image
        return 1
    return value if 1 <= value <= 8 else 1


# --------------------------------------------------------------------------------------------------------------
# pixel conversion


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def _u16_to_u8(a: np.ndarray) -> np.ndarray:
    """Scale 16-bit values to 8 bit by dividing by 257 (65535 → 255), rounding to nearest."""
    wide = a.astype(np.uint32) if a.dtype.kind == "u" else np.clip(a, 0, 65535).astype(np.uint32)
    return ((wide + 128) // 257).astype(np.uint8)


def _float_to_u8(a: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(a).all():
        raise InputError(f"{name}: float image contains NaN or inf ({_describe(a)}); expected values in [0, 1]")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0.0 or hi > 1.0:
        raise InputError(
            f"{name}: float image has values in [{lo:.4g}, {hi:.4g}] ({_describe(a)}); expected values in "
            "[0, 1] (divide by 255 first, or pass uint8)"
        )
    work = a.astype(np.float64 if a.dtype.itemsize >= 8 else np.float32, copy=False)
    return np.rint(work * 255.0).astype(np.uint8)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Blend an ``H×W×4`` uint8 RGBA array over a white background (what an image viewer shows)."""
    rgb = rgba[:, :, :3].astype(np.uint32)
    a = rgba[:, :, 3:4].astype(np.uint32)
    out = (rgb * a + 255 * (255 - a) + 127) // 255
    return out.astype(np.uint8)


def _array_to_rgb(arr: np.ndarray, name: str = "array") -> np.ndarray:
    """Validate and convert a numpy image to a new C-contiguous ``H×W×3 uint8`` RGB array."""
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ShapeError(f"{name}: expected H×W, H×W×1, H×W×3 or H×W×4, got {_describe(arr)}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShapeError(f"{name}: expected a non-empty image, got {_describe(arr)}")
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "u" and size == 1:
        out = arr.astype(np.uint8, copy=True)
    elif kind == "b":
        out = arr.astype(np.uint8) * np.uint8(255)
    elif kind == "u" and size == 2:
        out = _u16_to_u8(arr)
    elif kind == "f":
        out = _float_to_u8(arr, name)
    elif kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise DTypeError(
                f"{name}: {arr.dtype} image has values in [{lo}, {hi}]; expected uint8, integers in [0, 255], "
                "uint16, bool or float in [0, 1]"
            )
        out = arr.astype(np.uint8)
    else:
        raise DTypeError(
            f"{name}: expected uint8, uint16, bool, float in [0, 1] or integers in [0, 255], got {_describe(arr)}"
        )
    if out.ndim == 2:
        return _gray_to_rgb(out)
    channels = out.shape[2]
    if channels == 1:
        return _gray_to_rgb(out[:, :, 0])
    if channels == 4:
        out = out[:, :, :3]
    return np.ascontiguousarray(out)


def _pil_to_rgb(im: Image.Image, name: str) -> np.ndarray:
    """Convert a (loaded) Pillow image of any mode to ``H×W×3 uint8`` RGB."""
    mode = im.mode
    if mode == "RGB":
        return np.array(im, dtype=np.uint8, order="C")
    if mode in ("L", "1"):
        return _gray_to_rgb(np.asarray(im.convert("L")))
    if mode.startswith("I;16") or mode == "I":
        return _gray_to_rgb(_u16_to_u8(np.asarray(im)))
    if mode == "F":
        try:
            return _gray_to_rgb(_float_to_u8(np.asarray(im), name))
        except InputError as exc:
            raise ImageDecodeError(str(exc)) from None
    if mode == "P":
        has_alpha = "transparency" in im.info or (im.palette is not None and im.palette.mode == "RGBA")
        if not has_alpha:
            return np.array(im.convert("RGB"), dtype=np.uint8, order="C")
        mode = "PA"
    if mode in ("RGBA", "RGBa", "LA", "La", "PA"):
        return _composite_on_white(np.asarray(im.convert("RGBA")))
    try:  # CMYK, YCbCr, LAB, HSV, other 16-bit layouts
        return np.array(im.convert("RGB"), dtype=np.uint8, order="C")
    except _DECODE_ERRORS as exc:
        raise ImageDecodeError(f"{name} has pixel mode {im.mode!r}, which cannot be converted to RGB: {exc}") from None


#: numpy equivalents of the EXIF orientations, for arrays decoded by OpenCV (which is told to ignore EXIF)
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, k=-1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, k=1),
}


def _decode_with_opencv(fp: IO[bytes], im: Image.Image) -> np.ndarray | None:
    """Decode plain 8-bit JPEG pixels with OpenCV (libjpeg-turbo: 1.2–2.4× faster than Pillow, bench/bench_io.py).

    Pillow has already read and checked the header (size limit, mode, EXIF). Anything unusual — other modes,
    a JPEG without its end marker (OpenCV would fill a truncated file with gray instead of failing) — returns
    None and goes through Pillow, which raises the precise error. PNG stays with Pillow: reading a PNG's EXIF
    makes Pillow decode the pixels anyway, so a second decoder would only add time.
    """
    if im.format != "JPEG" or im.mode not in ("RGB", "L"):
        return None
    fp.seek(0)
    data = fp.read()
    if not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        return None
    import cv2

    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if bgr is None or bgr.shape[:2] != (im.height, im.width):
        return None
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    orient = _ORIENT.get(_exif_orientation(im))
    return rgb if orient is None else np.ascontiguousarray(orient(rgb))


def _decode(fp: IO[bytes], name: str, limit: int) -> np.ndarray:
    with _open_header(fp, name, limit) as im:
        fast = _decode_with_opencv(fp, im)
        if fast is not None:
            return fast
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im.load()
        except Image.DecompressionBombError as exc:  # some plugins re-check while decoding (GIF, TIFF tiles)
            raise ImageTooLargeError(
                f"{name} is larger than Pillow's own limit ({exc}); expected at most "
                f"{2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels for this format"
            ) from None
        except _DECODE_ERRORS as exc:
            raise ImageDecodeError(f"{name} could not be decoded (truncated or corrupt?): {exc}") from None
        transpose = _TRANSPOSE.get(_exif_orientation(im))
        return _pil_to_rgb(im.transpose(transpose) if transpose is not None else im, name)


# --------------------------------------------------------------------------------------------------------------
# public API


def read_image(source: ImageSource, *, max_pixels: int | None = None) -> np.ndarray:
    """Read an image from a file, bytes, a file object or an array as ``H×W×3 uint8`` RGB.

    Files are decoded with Pillow; the EXIF orientation is applied, so the array is upright as a viewer
    shows it. Multi-frame files (GIF, TIFF) give their first frame. Pixel formats are converted as follows:

    * gray / 1-bit → the gray value repeated in 3 channels; palette → its RGB colours;
    * RGBA, LA and palettes with transparency → **composited on a white background**;
    * 16-bit gray (PNG, TIFF) → divided by 257 and rounded (65535 → 255); 16-bit RGB PNGs are reduced to
      8 bit by Pillow itself (it keeps the high byte, at most 1 off from ÷257);
    * CMYK, YCbCr, LAB → RGB through Pillow's conversion.

    Numpy arrays are validated and converted (always returning a new array): uint8 ``H×W``, ``H×W×1``,
    ``H×W×3`` (taken as RGB) and ``H×W×4`` (RGBA: **alpha dropped**); uint16 → ÷257; bool → 0/255; float
    in [0, 1] → ×255 rounded; other integer dtypes only when every value is in [0, 255]. A PIL image is
    converted like a decoded file, without EXIF rotation and size limit.

    Args:
        source: a path (``str`` / ``PathLike``), ``bytes`` / ``bytearray`` / ``memoryview``, a binary file
            object (anything with ``.read()``), a numpy array or a ``PIL.Image.Image``.
        max_pixels: refuse encoded images with more pixels than this, checked on the header before any
            pixel is decoded. ``None`` uses ``$VISION_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`
            (178,956,970 — Pillow's own hard limit).

    Returns:
        A new C-contiguous ``H×W×3`` uint8 RGB array.

    Raises:
        SourceNotFoundError: the path does not exist.
        InputError: the path is a directory, a URL, or the source type is unsupported; a float array
            outside [0, 1] or with NaN.
        ImageDecodeError: the file or bytes are empty, truncated, corrupt or not an image.
        ImageTooLargeError: the image has more than ``max_pixels`` pixels.
        ShapeError: an array is not ``H×W``, ``H×W×1``, ``H×W×3`` or ``H×W×4``.
        DTypeError: an array's dtype cannot hold an image (complex, object, int values outside [0, 255]).

    Example:
        >>> from vision.io import read_image
        >>> read_image(np.zeros((4, 5), np.uint8)).shape
        (4, 5, 3)
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        return _pil_to_rgb(source, "PIL image")
    limit = _resolve_max_pixels(max_pixels)
    data, name, _ = _load_source(source)
    if isinstance(data, Path):
        with open(data, "rb") as fp:
            return _decode(fp, name, limit)
    return _decode(io.BytesIO(data), name, limit)


def image_info(source: str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]) -> dict[str, Any]:
    """Describe an image from its header only, without decoding pixels (cheap, for dataset statistics).

    ``width`` and ``height`` are those of the array :func:`read_image` returns, i.e. after the EXIF
    orientation is applied (a PNG whose EXIF chunk comes after the pixel data is the one exception).

    Args:
        source: a path, bytes, or a binary file object.

    Returns:
        ``{"width": int, "height": int, "mode": str (Pillow mode, e.g. "RGB", "L", "I;16"),
        "format": str (e.g. "PNG", "JPEG"), "bytes": int (encoded size)}``.

    Raises:
        SourceNotFoundError, InputError, ImageDecodeError: as :func:`read_image`. No pixel limit applies.
    """
    data, name, nbytes = _load_source(source)
    fp: IO[bytes] = open(data, "rb") if isinstance(data, Path) else io.BytesIO(data)
    with fp, _open_header(fp, name, None) as im:
        width, height = im.size
        if _exif_orientation(im, header_only=True) in (5, 6, 7, 8):  # transposed / rotated by 90° or 270°
            width, height = height, width
        return {"width": int(width), "height": int(height), "mode": im.mode, "format": im.format, "bytes": nbytes}


def _format_for(suffix: str, what: str) -> str:
    key = suffix.lower()
    if key and not key.startswith("."):
        key = "." + key
    fmt = WRITE_FORMATS.get(key)
    if fmt is None:
        raise InputError(f"{what}: unsupported image format {suffix!r}; expected one of {' '.join(WRITE_FORMATS)}")
    return fmt


def _check_quality(quality: Any) -> int:
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise InputError(f"quality must be an integer in [1, 100], got {quality!r}")
    return int(quality)


def _check_writable(image: Any, name: str) -> np.ndarray:
    """Validate an image to encode: ``H×W×3`` or ``H×W`` (or ``H×W×1``) uint8; nothing is converted."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{name}: expected a numpy array H×W×3 uint8 RGB, got {type(image).__name__}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ShapeError(f"{name}: expected H×W×3 uint8 RGB or H×W uint8 gray, got {_describe(image)}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ShapeError(f"{name}: expected a non-empty image, got {_describe(image)}")
    if image.dtype != np.uint8:
        raise DTypeError(
            f"{name}: expected uint8, got {_describe(image)}; convert explicitly first, e.g. "
            "vision.io.read_image(array) for float [0, 1], uint16 or bool arrays"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return np.ascontiguousarray(image)


def _encode(image: np.ndarray, fmt: str, quality: int) -> bytes:
    pil = Image.fromarray(image)
    buf = io.BytesIO()
    options: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = quality
    pil.save(buf, format=fmt, **options)
    return buf.getvalue()


def encode_image(image: np.ndarray, *, format: str = ".png", quality: int = 95) -> bytes:
    """Encode an ``H×W×3`` uint8 RGB (or ``H×W`` gray) image to the bytes of an image file.

    Args:
        image: ``H×W×3`` uint8 RGB or ``H×W`` / ``H×W×1`` uint8 gray. Other dtypes are refused, not
            converted (use :func:`read_image` on the array to convert floats in [0, 1]).
        format: a suffix or format name: ``.png``, ``.jpg``/``.jpeg``, ``.bmp``, ``.tif``/``.tiff``,
            ``.webp`` (case-insensitive, dot optional).
        quality: 1–100, used by JPEG and WebP.

    Returns:
        The encoded file as ``bytes``.

    Raises:
        InputError: unknown format, quality out of range, or ``image`` is not an array.
        ShapeError: wrong number of dimensions/channels. DTypeError: not uint8.
    """
    fmt = _format_for(format, "encode_image")
    quality = _check_quality(quality)
    return _encode(_check_writable(image, "encode_image"), fmt, quality)


def write_image(path: str | os.PathLike[str], image: np.ndarray, *, quality: int = 95) -> Path:
    """Write an ``H×W×3`` uint8 RGB (or ``H×W`` gray) image atomically; the format follows the suffix.

    The image is encoded in memory, written to a temporary file in the same folder and renamed over
    ``path`` (``os.replace``), so readers never see a partial file; on any failure the temporary file is
    removed and an existing file at ``path`` is left untouched. Missing parent folders are created.

    Args:
        path: target file; suffix ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.tif``, ``.tiff`` or ``.webp``.
        image: ``H×W×3`` uint8 RGB or ``H×W`` / ``H×W×1`` uint8 gray. Floats etc. are refused, not
            converted.
        quality: 1–100, used by JPEG and WebP.

    Returns:
        ``Path(path)``.

    Raises:
        InputError: unsupported suffix, quality out of range, ``path`` is a directory, not an array.
        ShapeError: wrong number of dimensions/channels. DTypeError: not uint8.
        OSError: the file system refused the write (nothing is left behind).
    """
    target = _path_of(path)
    fmt = _format_for(target.suffix, str(target))
    quality = _check_quality(quality)
    array = _check_writable(image, str(target))
    if target.is_dir():
        raise InputError(f"{target} is a directory; expected a file path ending in an image suffix")
    data = _encode(array, fmt, quality)
    atomic_write_bytes(target, data)
    return target
