"""Image augmentation presets over albumentations, with the options of Keras' ``ImageDataGenerator``.

:class:`AugmentConfig` names the usual options (rotation, shifts, zoom, shear, flips, colour jitter, noise,
perspective, fill mode); :func:`make_augmentation` turns a config or a preset name (``"none"``, ``"light"``,
``"standard"``, ``"strong"``) into an :class:`Augmentation`: a callable ``image → image`` over an
``albumentations.Compose``, taking H×W×3 uint8 RGB or H×W uint8 gray and returning the same kind.
:func:`augmentation_grid` draws a contact sheet of originals and augmented copies to see what a config does.

Randomness is reproducible: ``make_augmentation(..., seed=s)`` gives the same sequence of outputs for the same
inputs, and ``augment(image, seed=k)`` draws *only* from ``k`` (what a dataset uses to give each sample of each
epoch its own, repeatable augmentation). All transforms of one call share one generator: albumentations 2.0's own
``Compose(seed=)`` seeds every transform with the same number, so e.g. a horizontal and a vertical flip with p=0.5
would always fire together.

Example:
    >>> aug = make_augmentation("standard", seed=0)
    >>> out = aug(image)                      # same shape and dtype as ``image``
    >>> sheet = augmentation_grid([image], aug, n=4)
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from vision.classic.validate import check_image
from vision.errors import InputError

__all__ = [
    "AUGMENT_PRESETS",
    "FILL_MODES",
    "AugmentConfig",
    "Augmentation",
    "augmentation_grid",
    "make_augmentation",
]

#: ``fill_mode`` → what fills pixels that a geometric transform brings in from outside the image (as Keras:
#: constant ``kkkk|abcd|kkkk``, reflect ``dcba|abcd|dcba``, nearest ``aaaa|abcd|dddd``, wrap ``abcd|abcd|abcd``).
FILL_MODES = ("constant", "reflect", "nearest", "wrap")

# option name → (low, high, high inclusive) for the numeric range options
_RANGES: dict[str, tuple[float, float, bool]] = {
    "rotation_range": (0.0, 180.0, True),
    "width_shift": (0.0, 1.0, False),
    "height_shift": (0.0, 1.0, False),
    "zoom_range": (0.0, 1.0, False),
    "shear_range": (0.0, 90.0, False),
    "brightness": (0.0, 1.0, True),
    "contrast": (0.0, 1.0, True),
    "saturation": (0.0, 1.0, True),
    "hue": (0.0, 0.5, True),
    "noise": (0.0, 1.0, True),
    "perspective": (0.0, 0.5, True),
    "p_geometric": (0.0, 1.0, True),
    "p_flip": (0.0, 1.0, True),
    "p_color": (0.0, 1.0, True),
    "p_noise": (0.0, 1.0, True),
}


@dataclass(frozen=True)
class AugmentConfig:
    """What to randomize, Keras ``ImageDataGenerator``-style; every option off by default (the identity).

    Attributes:
        rotation_range: rotate by a uniform angle in ``[-r, r]`` degrees (0–180).
        width_shift, height_shift: translate by a uniform fraction of the width / height in ``[-f, f]`` (0 ≤ f < 1).
        zoom_range: scale by a uniform factor in ``[1 - z, 1 + z]`` (0 ≤ z < 1; 0.1 → 0.9–1.1).
        shear_range: shear along x by a uniform angle in ``[-s, s]`` degrees (0 ≤ s < 90).
        horizontal_flip, vertical_flip: flip left-right / upside-down, each with probability ``p_flip``.
        brightness, contrast, saturation: multiply by a uniform factor in ``[1 - f, 1 + f]`` (0–1).
        hue: shift the hue by a uniform fraction of the colour circle in ``[-h, h]`` (0–0.5).
        noise: add Gaussian noise whose standard deviation is drawn uniformly from ``[0, noise]`` × 255 (0–1).
        perspective: random four-corner perspective warp, corners moved by up to this fraction of the size (0–0.5).
        fill_mode: how geometric transforms fill pixels from outside the image: one of :data:`FILL_MODES`.
        fill: the ``"constant"`` fill value: 0–255 gray, or an RGB triple (gray images use the triple's luma).
        p_geometric: probability of the affine transform (rotation, shifts, zoom, shear) and of the perspective warp.
        p_flip: probability of each enabled flip (Keras flips half the time: 0.5).
        p_color: probability of the colour jitter (brightness, contrast, saturation, hue).
        p_noise: probability of the noise.
    Raises:
        InputError: an option of the wrong type or outside its range (the message names it and the range).
    """

    rotation_range: float = 0.0
    width_shift: float = 0.0
    height_shift: float = 0.0
    zoom_range: float = 0.0
    shear_range: float = 0.0
    horizontal_flip: bool = False
    vertical_flip: bool = False
    brightness: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0
    noise: float = 0.0
    perspective: float = 0.0
    fill_mode: str = "nearest"
    fill: int | tuple[int, int, int] = 0
    p_geometric: float = 1.0
    p_flip: float = 0.5
    p_color: float = 1.0
    p_noise: float = 1.0

    def __post_init__(self) -> None:
        for name, (lo, hi, inclusive) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise InputError(f"AugmentConfig.{name}: expected a number, got {type(value).__name__} {value!r}")
            value = float(value)
            ok = math.isfinite(value) and lo <= value and (value <= hi if inclusive else value < hi)
            if not ok:
                bracket = "]" if inclusive else ")"
                raise InputError(f"AugmentConfig.{name}: expected a value in [{lo:g}, {hi:g}{bracket}, got {value!r}")
            object.__setattr__(self, name, value)
        for name in ("horizontal_flip", "vertical_flip"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise InputError(f"AugmentConfig.{name}: expected True or False, got {type(value).__name__} {value!r}")
            object.__setattr__(self, name, bool(value))
        if self.fill_mode not in FILL_MODES:
            raise InputError(f"AugmentConfig.fill_mode: expected one of {list(FILL_MODES)}, got {self.fill_mode!r}")
        object.__setattr__(self, "fill", _check_fill(self.fill))

    @property
    def is_identity(self) -> bool:
        """True when no option changes an image (every range 0, no flip)."""
        return not (self.horizontal_flip or self.vertical_flip or any(
            getattr(self, n) for n in _RANGES if not n.startswith("p_")))

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-safe dict (numbers, strings, booleans, lists)."""
        d = asdict(self)
        if isinstance(d["fill"], tuple):
            d["fill"] = list(d["fill"])
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AugmentConfig:
        """The config of :meth:`to_dict`'s output (missing options take their defaults).

        Raises:
            InputError: ``data`` is not a mapping, holds an unknown option (the message lists the known ones), or
                a value is invalid.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"AugmentConfig.from_dict: expected a mapping of options, got {type(data).__name__}")
        known = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise InputError(f"AugmentConfig.from_dict: unknown option(s) {unknown}; expected some of {known}")
        values = dict(data)
        if isinstance(values.get("fill"), list):
            values["fill"] = tuple(values["fill"])
        return cls(**values)


def _check_fill(fill: Any) -> int | tuple[int, int, int]:
    def ok(v: Any) -> bool:
        return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and 0 <= v <= 255

    if ok(fill):
        return int(fill)
    if isinstance(fill, (tuple, list)) and len(fill) == 3 and all(ok(v) for v in fill):
        return tuple(int(v) for v in fill)  # type: ignore[return-value]
    raise InputError(f"AugmentConfig.fill: expected an integer 0-255 or an RGB triple of them, got {fill!r}")


#: the named presets of :func:`make_augmentation` (read-only). ``"standard"`` is a classification default for
#: photos; for digits or text turn the flips off (``dataclasses.replace(AUGMENT_PRESETS["standard"],
#: horizontal_flip=False)``).
AUGMENT_PRESETS: Mapping[str, AugmentConfig] = MappingProxyType({
    "none": AugmentConfig(),
    "light": AugmentConfig(rotation_range=5, width_shift=0.05, height_shift=0.05, zoom_range=0.05,
                           horizontal_flip=True, brightness=0.1, contrast=0.1, fill_mode="reflect"),
    "standard": AugmentConfig(rotation_range=15, width_shift=0.1, height_shift=0.1, zoom_range=0.1, shear_range=5,
                              horizontal_flip=True, brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02,
                              fill_mode="reflect"),
    "strong": AugmentConfig(rotation_range=30, width_shift=0.15, height_shift=0.15, zoom_range=0.2, shear_range=10,
                            horizontal_flip=True, brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05,
                            noise=0.04, p_noise=0.5, perspective=0.05, fill_mode="reflect"),
})


def _check_size(size: Any) -> tuple[int, int] | None:
    """``None``, an int (square) or ``(height, width)`` of positive ints → ``(height, width)`` or None."""
    if size is None:
        return None
    if not isinstance(size, bool) and isinstance(size, (int, np.integer)):
        size = (size, size)
    if (isinstance(size, (tuple, list)) and len(size) == 2
            and all(not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v > 0 for v in size)):
        return int(size[0]), int(size[1])
    raise InputError(f"size: expected a positive int or (height, width) of positive ints, got {size!r}")


def _check_seed(seed: Any, what: str = "seed") -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"{what}: expected None or an integer ≥ 0, got {seed!r}")
    return int(seed)


def _albumentations() -> Any:
    """Import albumentations without its import-time PyPI version check (a network request, 2 s timeout offline).

    ``NO_ALBUMENTATIONS_UPDATE`` is set only for the import and restored afterwards, so the user's environment is
    left as it was.
    """
    import sys

    if "albumentations" in sys.modules:
        return sys.modules["albumentations"]
    import os

    old = os.environ.get("NO_ALBUMENTATIONS_UPDATE")
    os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
    try:
        import albumentations
    finally:
        if old is None:
            os.environ.pop("NO_ALBUMENTATIONS_UPDATE", None)
        else:
            os.environ["NO_ALBUMENTATIONS_UPDATE"] = old
    return albumentations


def _build(config: AugmentConfig, size: tuple[int, int] | None, gray: bool) -> Any:
    """The ``albumentations.Compose`` for ``config`` (for gray or RGB images)."""
    import cv2

    A = _albumentations()

    border = {"constant": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT, "nearest": cv2.BORDER_REPLICATE,
              "wrap": cv2.BORDER_WRAP}[config.fill_mode]
    fill: Any = config.fill
    if gray and isinstance(fill, tuple):
        fill = round(0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2])
    c = config
    ts: list[Any] = []
    if c.rotation_range or c.width_shift or c.height_shift or c.zoom_range or c.shear_range:
        ts.append(A.Affine(scale=(1 - c.zoom_range, 1 + c.zoom_range),
                           translate_percent={"x": (-c.width_shift, c.width_shift),
                                              "y": (-c.height_shift, c.height_shift)},
                           rotate=(-c.rotation_range, c.rotation_range),
                           shear={"x": (-c.shear_range, c.shear_range), "y": (0.0, 0.0)},
                           interpolation=cv2.INTER_LINEAR, border_mode=border, fill=fill, p=c.p_geometric))
    if c.perspective:
        ts.append(A.Perspective(scale=(0.0, c.perspective), keep_size=True, interpolation=cv2.INTER_LINEAR,
                                border_mode=border, fill=fill, p=c.p_geometric))
    if c.horizontal_flip:
        ts.append(A.HorizontalFlip(p=c.p_flip))
    if c.vertical_flip:
        ts.append(A.VerticalFlip(p=c.p_flip))
    if size is not None:
        ts.append(A.Resize(size[0], size[1], interpolation=cv2.INTER_LINEAR, area_for_downscale="image", p=1.0))
    if c.brightness or c.contrast or c.saturation or c.hue:
        ts.append(A.ColorJitter(brightness=(1 - c.brightness, 1 + c.brightness),
                                contrast=(1 - c.contrast, 1 + c.contrast),
                                saturation=(1 - c.saturation, 1 + c.saturation),
                                hue=(-c.hue, c.hue), p=c.p_color))
    if c.noise:
        ts.append(A.GaussNoise(std_range=(0.0, c.noise), mean_range=(0.0, 0.0), per_channel=True, p=c.p_noise))
    return A.Compose(ts)


class Augmentation:
    """A seeded image → image augmentation over an ``albumentations.Compose`` (build it with :func:`make_augmentation`).

    Call it on an H×W×3 uint8 RGB or H×W uint8 gray image; it returns a new image of the same kind (H×W×3 or H×W;
    the same size unless ``size`` was given). Without ``seed=``, calls draw from the augmentation's own generator,
    so a fresh augmentation made with the same seed repeats the same sequence; ``seed=k`` draws only from ``k`` and
    leaves that generator untouched. Picklable (DataLoader workers get a copy).

    Attributes:
        config: the :class:`AugmentConfig`. size: the output ``(height, width)``, or None to keep the input's.
        seed: the seed given at construction (None: fresh entropy).
    """

    def __init__(self, config: AugmentConfig, *, size: tuple[int, int] | None = None, seed: int | None = None) -> None:
        self.config = config
        self.size = size
        self.seed = seed
        self._composes: dict[bool, Any] = {}
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Restart the generator from ``seed`` (None: fresh entropy)."""
        seed = _check_seed(seed)
        self._rng = np.random.default_rng(seed)
        self._py = random.Random(int(self._rng.integers(2**63)))

    def compose(self, *, gray: bool = False) -> Any:
        """The ``albumentations.Compose`` used for RGB (or gray) images."""
        if gray not in self._composes:
            self._composes[gray] = _build(self.config, self.size, gray)
        return self._composes[gray]

    def __call__(self, image: np.ndarray, *, seed: int | None = None) -> np.ndarray:
        """Augment one image.

        Args:
            image: H×W×3 uint8 RGB or H×W uint8 gray.
            seed: draw this call's randomness only from ``seed`` (an integer ≥ 0); None: the running generator.
        Returns:
            A new uint8 image of the same kind (gray stays H×W).
        Raises:
            DTypeError: not uint8. ShapeError: not H×W or H×W×3, or empty. InputError: a bad seed.
        """
        if not isinstance(image, np.ndarray):
            raise InputError(f"augment: expected a numpy H×W×3 uint8 RGB or H×W uint8 image, got "
                             f"{type(image).__name__}")
        image = check_image(image, name="augment")
        seed = _check_seed(seed)
        if seed is None:
            rng, py = self._rng, self._py
        else:
            rng = np.random.default_rng(seed)
            py = random.Random(int(rng.integers(2**63)))
        compose = self.compose(gray=image.ndim == 2)
        compose.set_random_state(rng, py)
        out = compose(image=np.ascontiguousarray(image))["image"]
        if image.ndim == 2 and out.ndim == 3:
            out = out[..., 0]
        if np.shares_memory(out, image):  # e.g. no transform ran: still hand back a new array
            out = out.copy()
        return np.ascontiguousarray(out, dtype=np.uint8)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_composes"] = {}  # rebuilt on first use; keeps pickles small and independent of albumentations
        return state

    def __repr__(self) -> str:
        defaults = AugmentConfig().to_dict()
        changed = {k: v for k, v in self.config.to_dict().items() if v != defaults[k]}
        return f"Augmentation({changed}, size={self.size}, seed={self.seed})"


def make_augmentation(config: AugmentConfig | str | Mapping[str, Any] | None = None, *,
                      size: int | tuple[int, int] | None = None, seed: int | None = None) -> Augmentation:
    """An augmentation callable for a config, a preset name or a config dict.

    Args:
        config: an :class:`AugmentConfig`, a name in :data:`AUGMENT_PRESETS` (``"none"``, ``"light"``,
            ``"standard"``, ``"strong"``), a dict for :meth:`AugmentConfig.from_dict`, or None (``"none"``).
        size: resize every output to ``(height, width)`` (an int: square); None keeps each input's size.
        seed: seed of the generator the calls draw from (None: fresh entropy, not reproducible).
    Returns:
        An :class:`Augmentation`: ``augment(image, *, seed=None) → image``.
    Raises:
        InputError: an unknown preset (the message lists them), a bad config, size or seed.
    """
    if config is None:
        config = AUGMENT_PRESETS["none"]
    elif isinstance(config, str):
        if config not in AUGMENT_PRESETS:
            raise InputError(f"make_augmentation: unknown preset {config!r}; expected one of {list(AUGMENT_PRESETS)}"
                             " or an AugmentConfig")
        config = AUGMENT_PRESETS[config]
    elif isinstance(config, Mapping):
        config = AugmentConfig.from_dict(config)
    elif not isinstance(config, AugmentConfig):
        raise InputError(f"make_augmentation: expected an AugmentConfig, a preset name, a dict or None, got "
                         f"{type(config).__name__}")
    return Augmentation(config, size=_check_size(size), seed=_check_seed(seed))


def augmentation_grid(images: Sequence[np.ndarray] | np.ndarray,
                      augment: Augmentation | AugmentConfig | str | Callable[[np.ndarray], np.ndarray], *,
                      n: int = 8, path: str | Path | None = None, seed: int = 0, cell: int = 160) -> np.ndarray:
    """A contact sheet: one row per source image, its original first and then ``n`` augmented copies.

    Args:
        images: the source images (H×W×3 uint8 RGB or H×W gray), a list or one image.
        augment: an :class:`Augmentation`, a config or preset name (made with :func:`make_augmentation`), or any
            callable ``image → image`` (then ``seed`` cannot make the sheet repeatable).
        n: augmented copies per image (≥ 1).
        path: also write the sheet there (PNG/JPEG… by suffix, via :func:`vision.io.write_image`).
        seed: the copy in row r, column k is augmented with a seed drawn from ``(seed, r, k)``.
        cell: the side in pixels of each square cell.
    Returns:
        The sheet, H×W×3 uint8 RGB.
    Raises:
        InputError: no images, ``n`` < 1, a bad ``augment``. ShapeError / DTypeError: a bad image.
    """
    from vision.viz.layout import tile

    if isinstance(images, np.ndarray) and images.ndim in (2, 3):
        images = [images]
    images = list(images)
    if not images:
        raise InputError("augmentation_grid: expected at least one image, got none")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"augmentation_grid: n must be an integer ≥ 1, got {n!r}")
    seed = _check_seed(seed)
    if seed is None:
        seed = 0
    if isinstance(augment, (AugmentConfig, str, Mapping)):
        augment = make_augmentation(augment, seed=seed)
    elif not callable(augment):
        raise InputError(f"augmentation_grid: augment must be an Augmentation, a config, a preset name or a "
                         f"callable, got {type(augment).__name__}")
    cells: list[np.ndarray] = []
    captions: list[str] = []
    for r, img in enumerate(images):
        if not isinstance(img, np.ndarray):
            raise InputError(f"augmentation_grid: image {r}: expected a numpy array, got {type(img).__name__}")
        cells.append(img)
        captions.append("original")
        for k in range(n):
            if isinstance(augment, Augmentation):
                s = int(np.random.SeedSequence([seed, r, k]).generate_state(1)[0])
                out = augment(img, seed=s)
            else:
                out = augment(img)
            cells.append(out)
            captions.append(f"aug {k + 1}")
    sheet = tile(cells, cols=n + 1, cell=cell, captions=captions)
    if path is not None:
        from vision.io import write_image

        write_image(path, sheet)
    return sheet
