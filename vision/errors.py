"""Typed errors of the suite.

Every error says what it got and what it expected. Each class also derives from the built-in exception a
Python user would catch for the same problem (``ValueError``, ``FileNotFoundError``, ``LookupError``), so
``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "VisionError",
    "MissingDependencyError",
    "InputError",
    "ShapeError",
    "DTypeError",
    "ImageDecodeError",
    "ImageTooLargeError",
    "SourceNotFoundError",
    "VideoSourceError",
    "WeightsError",
    "WeightsNotFoundError",
    "ChecksumError",
    "ManifestError",
    "UnknownModelError",
    "DatasetError",
    "AnnotationError",
]


class VisionError(Exception):
    """Base class of every error raised on purpose by ``vision``."""


class InputError(VisionError, ValueError):
    """An argument has the wrong value, shape, type or range."""


class ShapeError(InputError):
    """An array has the wrong number of dimensions or the wrong size."""


class DTypeError(InputError, TypeError):
    """An array has a dtype that the operation does not accept."""


class ImageDecodeError(VisionError, ValueError):
    """Bytes or a file that should hold an image could not be decoded (empty, truncated, not an image)."""


class ImageTooLargeError(VisionError, ValueError):
    """An image has more pixels than the configured limit (guard against decompression bombs)."""


class SourceNotFoundError(VisionError, FileNotFoundError):
    """A file, folder or device that was named does not exist."""


class VideoSourceError(VisionError, OSError):
    """A video file, camera or stream could not be opened or stopped delivering frames."""


class WeightsError(VisionError):
    """Base class of the weights resolver's errors."""


class WeightsNotFoundError(WeightsError, FileNotFoundError):
    """No local file, cache entry or allowed download gives the requested weights."""


class ChecksumError(WeightsError, ValueError):
    """A weights file does not have the sha256 recorded in the manifest."""


class ManifestError(WeightsError, ValueError):
    """The weights manifest (or an entry of it) is malformed."""


class UnknownModelError(VisionError, LookupError):
    """A model or weights name is not registered."""

    def __str__(self) -> str:  # LookupError/KeyError would repr() the message; keep it readable
        return str(self.args[0]) if self.args else ""


class DatasetError(VisionError, ValueError):
    """A dataset folder, file or table is missing parts or is inconsistent."""


class AnnotationError(DatasetError):
    """An annotation (box, mask, label) is invalid; the message names the file or row."""


class MissingDependencyError(VisionError, ImportError):
    """An optional package a feature needs is not installed; the message says what to ``pip install``."""
