"""Offline sample photos shipped inside installed packages (scikit-image, scikit-learn, matplotlib, ultralytics).

Every photo here is on disk once the suite's dependencies are installed, so demos, tests and the synthetic-scenes
generator (:mod:`vision.data.scenes`) can use real pictures without a download.

Example:
    >>> from vision.data.photos import load_sample, samples
    >>> load_sample("coffee").shape
    (400, 600, 3)
    >>> sorted(samples())[:3]
    ['astronaut', 'bus', 'camera']
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from vision.errors import ImageDecodeError, InputError, SourceNotFoundError

__all__ = ["SampleInfo", "samples", "sample_names", "load_sample", "sample_path", "lfw_subset"]


@dataclass(frozen=True)
class SampleInfo:
    """One offline sample photo: where it comes from, its licence, and how to load it.

    ``loader`` returns the photo as it is stored (gray photos stay H×W); use :func:`load_sample` for the
    H×W×3 uint8 RGB form. ``path`` is a callable giving the image file on disk, or None where the photo is
    not a plain file of its own.
    """

    name: str
    source: str
    license: str
    description: str
    loader: Callable[[], np.ndarray]
    path: Callable[[], Path | None]


# --------------------------------------------------------------------------------------------------
# Locating package files without importing the package (ultralytics has import side effects)
# --------------------------------------------------------------------------------------------------
def _package_dir(package: str) -> Path:
    """The folder of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SourceNotFoundError(f"package {package!r} is not installed; expected it to provide sample photos "
                                  f"(pip install {package})")
    return Path(next(iter(spec.submodule_search_locations)))


def _skimage_file(file_name: str) -> Callable[[], Path | None]:
    def path() -> Path | None:
        p = _package_dir("skimage") / "data" / file_name
        return p if p.is_file() else None
    return path


def _sklearn_file(file_name: str) -> Callable[[], Path | None]:
    def path() -> Path | None:
        p = _package_dir("sklearn") / "datasets" / "images" / file_name
        return p if p.is_file() else None
    return path


def _grace_hopper_path() -> Path | None:
    p = _package_dir("matplotlib") / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    return p if p.is_file() else None


def _ultralytics_asset(file_name: str) -> Callable[[], Path | None]:
    def path() -> Path | None:
        p = _package_dir("ultralytics") / "assets" / file_name
        return p if p.is_file() else None
    return path


def _read_rgb_file(path: Path) -> np.ndarray:
    """Decode an image file to H×W×3 uint8 RGB with Pillow."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageDecodeError(f"{path}: could not decode the sample photo ({exc})") from exc


def _file_loader(name: str, path: Callable[[], Path | None], hint: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        p = path()
        if p is None:
            raise SourceNotFoundError(f"sample {name!r}: its file is missing; expected {hint}")
        return _read_rgb_file(p)
    return load


def _skimage_loader(func: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        try:
            import skimage.data as skdata
        except ImportError as exc:  # pragma: no cover - scikit-image is a dependency
            raise SourceNotFoundError("scikit-image is not installed; expected it to provide sample photos "
                                      "(pip install scikit-image)") from exc
        out = getattr(skdata, func)()
        return out[0] if isinstance(out, tuple) else out  # stereo_motorcycle → the left image
    return load


def _sklearn_loader(file_name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(file_name)
    return load


_SKIMAGE_PD = "scikit-image (skimage.data)"
_SAMPLES: dict[str, SampleInfo] = {}


def _add(name: str, source: str, license: str, description: str, loader: Callable[[], np.ndarray],
         path: Callable[[], Path | None]) -> None:
    _SAMPLES[name] = SampleInfo(name, source, license, description, loader, path)


_add("astronaut", _SKIMAGE_PD, "public domain (NASA)", "astronaut Eileen Collins, 512×512 px colour",
     _skimage_loader("astronaut"), _skimage_file("astronaut.png"))
_add("camera", _SKIMAGE_PD, "CC0 (photographer Lav Varshney)", "cameraman, 512×512 px gray",
     _skimage_loader("camera"), _skimage_file("camera.png"))
_add("coins", _SKIMAGE_PD, "no known copyright restrictions (Brooklyn Museum)", "Greek coins, 384×303 px gray",
     _skimage_loader("coins"), _skimage_file("coins.png"))
_add("coffee", _SKIMAGE_PD, "CC0 (photographer Rachel Michetti)", "a cup of coffee, 600×400 px colour",
     _skimage_loader("coffee"), _skimage_file("coffee.png"))
_add("chelsea", _SKIMAGE_PD, "CC0 (photographer Stefan van der Walt)", "Chelsea the cat, 451×300 px colour",
     _skimage_loader("chelsea"), _skimage_file("chelsea.png"))
_add("rocket", _SKIMAGE_PD, "public domain (SpaceX)", "a Falcon 9 on the launch pad, 640×427 px colour",
     _skimage_loader("rocket"), _skimage_file("rocket.jpg"))
_add("retina", _SKIMAGE_PD, "CC0 (Häggström, Wikimedia Commons)", "fundus photograph, 1411×1411 px colour",
     _skimage_loader("retina"), _skimage_file("retina.jpg"))
_add("page", _SKIMAGE_PD, "scikit-image sample data (BSD-3-Clause package)", "scanned page of text, 384×191 px gray",
     _skimage_loader("page"), _skimage_file("page.png"))
_add("text", _SKIMAGE_PD, "public domain", "photo of printed text, 448×172 px gray",
     _skimage_loader("text"), _skimage_file("text.png"))
_add("hubble_deep_field", _SKIMAGE_PD, "public domain (NASA)", "Hubble eXtreme Deep Field, 1000×872 px colour",
     _skimage_loader("hubble_deep_field"), _skimage_file("hubble_deep_field.jpg"))
_add("stereo_motorcycle", _SKIMAGE_PD, "Middlebury 2014 stereo benchmark (research use, cite Scharstein et al.)",
     "motorcycle, left image of a rectified stereo pair, 741×500 px colour",
     _skimage_loader("stereo_motorcycle"), _skimage_file("motorcycle_left.png"))
_add("china", "scikit-learn (load_sample_images)", "CC BY 2.0 (danielbuechele, Flickr)",
     "a Chinese temple, 640×427 px colour", _sklearn_loader("china.jpg"), _sklearn_file("china.jpg"))
_add("flower", "scikit-learn (load_sample_images)", "CC BY 2.0 (vultilion, Flickr)",
     "a flower, 640×427 px colour", _sklearn_loader("flower.jpg"), _sklearn_file("flower.jpg"))
_add("grace_hopper", "matplotlib (mpl-data/sample_data)", "public domain (US Navy photo)",
     "Rear Admiral Grace Hopper, 512×600 px colour",
     _file_loader("grace_hopper", _grace_hopper_path, "matplotlib's mpl-data/sample_data/grace_hopper.jpg"),
     _grace_hopper_path)
_ULTRA = ("ultralytics (assets/)", "AGPL-3.0 (ultralytics package asset)")
_add("bus", *_ULTRA, "a bus and pedestrians, 810×1080 px colour",
     _file_loader("bus", _ultralytics_asset("bus.jpg"), "ultralytics/assets/bus.jpg (pip install ultralytics)"),
     _ultralytics_asset("bus.jpg"))
_add("zidane", *_ULTRA, "two football coaches, 1280×720 px colour",
     _file_loader("zidane", _ultralytics_asset("zidane.jpg"),
                  "ultralytics/assets/zidane.jpg (pip install ultralytics)"),
     _ultralytics_asset("zidane.jpg"))

# Only these are returned by sample_path: the file on disk decodes to exactly the array load_sample gives.
_PLAIN_FILES = ("bus", "zidane", "grace_hopper", "china", "flower")


def samples() -> dict[str, SampleInfo]:
    """All offline sample photos, by name (a new dict; the order is stable).

    Returns:
        ``{name: SampleInfo}``.
    """
    return dict(_SAMPLES)


def sample_names() -> list[str]:
    """The names of the offline sample photos, sorted."""
    return sorted(_SAMPLES)


def _info(name: str) -> SampleInfo:
    if not isinstance(name, str):
        raise InputError(f"sample name: expected a str, got {type(name).__name__}")
    try:
        return _SAMPLES[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_SAMPLES), n=3)
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        raise InputError(f"unknown sample photo {name!r}; {hint}expected one of {sample_names()}") from None


@functools.lru_cache(maxsize=None)
def _load_cached(name: str) -> np.ndarray:
    img = np.asarray(_info(name).loader())
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    img = np.ascontiguousarray(img)
    img.setflags(write=False)
    return img


def load_sample(name: str) -> np.ndarray:
    """Load an offline sample photo as H×W×3 uint8 RGB (gray photos are repeated over 3 channels).

    Args:
        name: one of :func:`sample_names` (e.g. ``"astronaut"``, ``"bus"``).
    Returns:
        A new, writable H×W×3 uint8 RGB array.
    Raises:
        InputError: the name is unknown (the message suggests close names and lists all).
        SourceNotFoundError: the package holding the photo is not installed.
    """
    return _load_cached(_info(name).name).copy()


def sample_path(name: str) -> Path | None:
    """The image file of a sample photo where it is a plain file of its own, else None.

    Files are returned for ``bus``, ``zidane``, ``grace_hopper``, ``china`` and ``flower``; the scikit-image
    photos are loaded through ``skimage.data`` (some are stored gray or need conversion) and give None.

    Raises:
        InputError: the name is unknown.
    """
    info = _info(name)
    if info.name not in _PLAIN_FILES:
        return None
    try:
        return info.path()
    except SourceNotFoundError:
        return None


def lfw_subset() -> tuple[np.ndarray, np.ndarray]:
    """200 gray 25×25 patches from Labeled Faces in the Wild: 100 faces then 100 non-faces (scikit-image).

    Returns:
        ``(images, labels)``: images N×25×25 uint8 (0..255), labels N int64 with 1 = face, 0 = not a face.
    """
    import skimage.data as skdata

    x = np.asarray(skdata.lfw_subset(), dtype=np.float64)
    images = np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)
    n = len(images)
    labels = np.zeros(n, dtype=np.int64)
    labels[: n // 2] = 1  # skimage documents: the first 100 are faces, the next 100 non-faces
    return images, labels
