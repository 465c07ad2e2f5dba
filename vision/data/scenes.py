"""Synthetic detection / segmentation scenes: shapes and glyphs on real photos, with exact boxes and masks.

The training ground for the suite's own detectors (YOLO, Faster R-CNN) and segmenters (FCN, Mask R-CNN):
no COCO-trained weights exist offline, so we draw scenes whose ground truth is exact by construction.

Each scene is a background (a random crop of an offline photo from :mod:`vision.data.photos`, or a procedural
texture), non-class clutter (lines, blobs, letters, bars), then 1–6 objects pasted with anti-aliased edges:
geometric shapes (solid, gradient, striped, noisy, shaded, outlined fills) and glyph sprites (scikit-learn's
digits; Fashion-MNIST items when the Debian package is installed). Later objects occlude earlier ones; an
object hidden beyond ``max_occlusion`` or cut by the image border beyond ``max_truncation`` is re-placed.
Every box is the tight box of the object's *visible* mask pixels, in continuous pixel coordinates (x2 is one
past the last visible column, so ``x2 - x1`` counts columns). Then lighting (brightness, contrast, gamma,
colour cast, vignette / gradient / soft shadow), blur, noise and JPEG artefacts.

Scene ``i`` of ``make_scenes(seed=s)`` is ``make_scene(image_seed(s, i))``: its own numpy ``Generator(PCG64)``
seeded from ``(s, i)``, so it does not depend on ``n`` and no global RNG is touched.

Default classes (work without Fashion-MNIST): ``circle, square, triangle, star, hexagon, digit_0 … digit_9``.

Example:
    >>> from vision.data.scenes import SceneConfig, make_scene
    >>> image, objects, instance_mask, semantic_mask = make_scene(0, SceneConfig(image_size=(128, 128)))
    >>> image.shape, int(instance_mask.max()) == len(objects)
    ((128, 128, 3), True)
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import logging
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from vision.data.records import DetectionDataset, ImageRecord, ObjectAnnotation
from vision.errors import DatasetError, InputError

__all__ = [
    "SHAPE_CLASSES", "DIGIT_CLASSES", "FASHION_CLASSES", "DEFAULT_CLASSES", "ALL_CLASSES", "DEFAULT_BACKGROUNDS",
    "GENERATOR_VERSION", "SceneConfig", "image_seed", "make_scene", "make_scenes",
]

logger = logging.getLogger(__name__)

GENERATOR_VERSION = "1.0"
SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon")
DIGIT_CLASSES: tuple[str, ...] = tuple(f"digit_{i}" for i in range(10))
FASHION_CLASSES: tuple[str, ...] = ("tshirt", "trouser", "pullover", "dress", "coat",
                                    "sandal", "shirt", "sneaker", "bag", "ankle_boot")
DEFAULT_CLASSES: tuple[str, ...] = SHAPE_CLASSES + DIGIT_CLASSES
ALL_CLASSES: tuple[str, ...] = SHAPE_CLASSES + DIGIT_CLASSES + FASHION_CLASSES
DEFAULT_BACKGROUNDS: tuple[str, ...] = (
    "astronaut", "camera", "coins", "coffee", "chelsea", "rocket", "retina", "page", "text", "hubble_deep_field",
    "stereo_motorcycle", "china", "flower", "grace_hopper", "bus", "zidane",
)
FORMATS = ("coco", "yolo", "voc")
_SPLITS = ("all", "train", "test")


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------
def _pair(value: Any, name: str, kind: type, lo: float, hi: float) -> tuple:
    try:
        a, b = value
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a (min, max) pair, got {value!r}") from None
    if kind is int and not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (a, b)):
        raise InputError(f"{name}: expected integers, got {value!r}")
    if not all(isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v) for v in (a, b)):
        raise InputError(f"{name}: expected finite numbers, got {value!r}")
    if not lo <= a <= b <= hi:
        raise InputError(f"{name}: expected {lo} ≤ min ≤ max ≤ {hi}, got {value!r}")
    return kind(a), kind(b)


def _fraction(value: Any, name: str, *, below_one: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0
    if not ok or (below_one and value >= 1.0):
        raise InputError(f"{name}: expected a number in [0, {'1)' if below_one else '1]'}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SceneConfig:
    """What a synthetic scene may contain; every range is ``(min, max)``, sampled uniformly per image.

    Args:
        image_size: (height, width) in pixels, each 32..4096.
        classes: the class table, a subset of :data:`ALL_CLASSES` (ids follow this order).
        objects: how many objects per image (at most 255: instance masks are uint8).
        object_scale: object size as a fraction of min(height, width), sampled log-uniformly.
        max_occlusion: the largest fraction of an object's in-image area later objects may hide.
        max_truncation: the largest fraction of an object that may lie outside the image.
        min_visible_pixels: an object must keep at least this many visible mask pixels.
        distractors: how many non-class clutter items (lines, blobs, letters, bars) per image.
        photo_background: probability that the background is a photo crop rather than a procedural texture.
        backgrounds: names of offline photos (:func:`vision.data.photos.sample_names`) used as backgrounds.
        brightness, contrast, gamma: global lighting (brightness is added as a fraction of full scale).
        color_cast: per-channel additive shift, fraction of full scale (a white-balance error).
        shading: probability of a vignette, light gradient or soft shadow.
        blur_sigma: Gaussian blur sigma in pixels (0 = none), applied with probability 0.5.
        noise_sigma: Gaussian pixel noise, in 0..255 units.
        jpeg_quality: JPEG quality range; images are then stored as that very JPEG. None = lossless PNG.
        sprite_split: which glyph sprites to draw from: "train", "test" (held-out digits / Fashion-MNIST t10k)
            or "all".
    """

    image_size: tuple[int, int] = (320, 320)
    classes: tuple[str, ...] = DEFAULT_CLASSES
    objects: tuple[int, int] = (1, 6)
    object_scale: tuple[float, float] = (0.1, 0.4)
    max_occlusion: float = 0.4
    max_truncation: float = 0.4
    min_visible_pixels: int = 40
    distractors: tuple[int, int] = (0, 6)
    photo_background: float = 0.75
    backgrounds: tuple[str, ...] = DEFAULT_BACKGROUNDS
    brightness: tuple[float, float] = (-0.12, 0.12)
    contrast: tuple[float, float] = (0.75, 1.2)
    gamma: tuple[float, float] = (0.8, 1.25)
    color_cast: float = 0.05
    shading: float = 0.5
    blur_sigma: tuple[float, float] = (0.0, 1.0)
    noise_sigma: tuple[float, float] = (0.0, 6.0)
    jpeg_quality: tuple[int, int] | None = (60, 95)
    sprite_split: str = "all"

    def __post_init__(self) -> None:
        set_ = functools.partial(object.__setattr__, self)
        size = _pair(self.image_size, "image_size", int, 32, 4096)
        set_("image_size", size)
        classes = (self.classes,) if isinstance(self.classes, str) else tuple(self.classes)
        if not classes:
            raise InputError(f"classes: expected at least one of {list(ALL_CLASSES)}, got none")
        for c in classes:
            if c not in ALL_CLASSES:
                close = difflib.get_close_matches(str(c), ALL_CLASSES, n=3)
                hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
                raise InputError(f"classes: unknown class {c!r}; {hint}expected names from {list(ALL_CLASSES)}")
        if len(set(classes)) != len(classes):
            raise InputError(f"classes: expected unique names, got duplicates in {list(classes)}")
        set_("classes", classes)
        set_("objects", _pair(self.objects, "objects", int, 0, 255))
        set_("object_scale", _pair(self.object_scale, "object_scale", float, 1e-3, 1.0))
        if self.object_scale[0] * min(size) < 6:
            raise InputError(f"object_scale: min {self.object_scale[0]} × min(image_size) {min(size)} is "
                             f"{self.object_scale[0] * min(size):.1f} px; expected objects of at least 6 px")
        set_("max_occlusion", _fraction(self.max_occlusion, "max_occlusion", below_one=True))
        set_("max_truncation", _fraction(self.max_truncation, "max_truncation", below_one=True))
        if not isinstance(self.min_visible_pixels, int) or self.min_visible_pixels < 1:
            raise InputError(f"min_visible_pixels: expected an integer ≥ 1, got {self.min_visible_pixels!r}")
        set_("distractors", _pair(self.distractors, "distractors", int, 0, 1000))
        set_("photo_background", _fraction(self.photo_background, "photo_background"))
        from vision.data.photos import sample_names

        backgrounds = (self.backgrounds,) if isinstance(self.backgrounds, str) else tuple(self.backgrounds)
        known = sample_names()
        for b in backgrounds:
            if b not in known:
                close = difflib.get_close_matches(str(b), known, n=3)
                hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
                raise InputError(f"backgrounds: unknown sample photo {b!r}; {hint}expected names from {known}")
        set_("backgrounds", backgrounds)
        set_("brightness", _pair(self.brightness, "brightness", float, -1.0, 1.0))
        set_("contrast", _pair(self.contrast, "contrast", float, 0.0, 10.0))
        set_("gamma", _pair(self.gamma, "gamma", float, 0.05, 10.0))
        set_("color_cast", _fraction(self.color_cast, "color_cast"))
        set_("shading", _fraction(self.shading, "shading"))
        set_("blur_sigma", _pair(self.blur_sigma, "blur_sigma", float, 0.0, 20.0))
        set_("noise_sigma", _pair(self.noise_sigma, "noise_sigma", float, 0.0, 128.0))
        if self.jpeg_quality is not None:
            set_("jpeg_quality", _pair(self.jpeg_quality, "jpeg_quality", int, 1, 100))
        if self.sprite_split not in _SPLITS:
            raise InputError(f"sprite_split: expected one of {list(_SPLITS)}, got {self.sprite_split!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML/JSON-safe form (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def image_seed(seed: int, index: int) -> int:
    """The seed of scene ``index`` of a dataset generated with ``seed`` (independent of the dataset size)."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)[0])


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
def _check_seed(seed: Any, name: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"{name}: expected an integer ≥ 0, got {seed!r}")
    return int(seed)


def make_scene(seed: int, config: SceneConfig | None = None
               ) -> tuple[np.ndarray, list[ObjectAnnotation], np.ndarray, np.ndarray]:
    """Draw one synthetic scene; the same (seed, config) always gives the same arrays.

    Args:
        seed: integer ≥ 0 (scene ``i`` of a dataset made with seed ``s`` uses :func:`image_seed` ``(s, i)``).
        config: what to draw; default :class:`SceneConfig()`.
    Returns:
        ``(image H×W×3 uint8 RGB, objects, instance_mask H×W uint8, semantic_mask H×W uint8)``. Object ``k``
        has ``instance_id`` k+1, its pixels are ``instance_mask == k+1``, its box is the tight box of those
        pixels; ``semantic_mask`` is class id + 1 of the top-most object (0 = background).
    Raises:
        InputError: bad seed or config.
        SourceNotFoundError: Fashion-MNIST classes were asked for and its files are not installed.
    """
    cfg = SceneConfig() if config is None else config
    if not isinstance(cfg, SceneConfig):
        raise InputError(f"config: expected a SceneConfig, got {type(cfg).__name__}")
    from vision.data.scene_drawing import render_scene

    image, objects, inst, sem, _, _ = render_scene(_check_seed(seed), cfg)
    return image, objects, inst, sem


def _write_one(task: tuple[int, int, SceneConfig, str]) -> ImageRecord:
    """Render scene ``index`` and write its image and masks under ``root``; runs in worker processes too."""
    from vision.data.scene_drawing import render_scene
    from vision.io import write_image

    index, seed, cfg, root = task
    s = image_seed(seed, index)
    image, objects, inst, sem, group, jpeg = render_scene(s, cfg)
    stem = f"{index:06d}"
    h, w = cfg.image_size
    rec = ImageRecord(file_name=f"images/{stem}.{'jpg' if jpeg is not None else 'png'}", width=w, height=h,
                      objects=objects, instance_mask=f"masks/instance/{stem}.png",
                      semantic_mask=f"masks/semantic/{stem}.png",
                      meta={"group": group, "seed": s, "index": index})
    if jpeg is not None:
        (Path(root) / rec.file_name).write_bytes(jpeg)  # the very bytes the returned image was decoded from
    else:
        write_image(Path(root) / rec.file_name, image)
    write_image(Path(root) / rec.instance_mask, inst)
    write_image(Path(root) / rec.semantic_mask, sem)
    return rec


def _check_target(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"out_dir: {out_dir} is a file; expected a folder to create")
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    if not overwrite:
        raise DatasetError(f"out_dir: {out_dir} already holds files; pass overwrite=True (CLI: --overwrite) to replace a scenes "
                           "dataset there, or choose an empty folder")
    card = out_dir / "dataset.yaml"
    ours = False
    if card.is_file():
        import yaml

        try:
            ours = (yaml.safe_load(card.read_text(encoding="utf-8")) or {}).get("generator") == __name__
        except (yaml.YAMLError, AttributeError, UnicodeDecodeError):
            ours = False
    if not ours:
        raise DatasetError(f"out_dir: {out_dir} is not a dataset written by {__name__} (no dataset.yaml with "
                           f"generator: {__name__}); refusing to replace it even with overwrite=True")


def _card(ds: DetectionDataset, cfg: SceneConfig, seed: int, exports: dict[str, str]) -> dict[str, Any]:
    from vision.data.photos import samples

    groups: dict[str, int] = {}
    per_class = [0] * len(ds.classes)
    for rec in ds.images:
        groups[rec.meta["group"]] = groups.get(rec.meta["group"], 0) + 1
        for o in rec.objects:
            per_class[o.category_id] += 1
    info = samples()
    sprites = {}
    if any(c in DIGIT_CLASSES for c in cfg.classes):
        sprites["digits"] = "scikit-learn load_digits (UCI optical digits, 8×8), BSD-3-Clause package"
    if any(c in FASHION_CLASSES for c in cfg.classes):
        sprites["fashion_mnist"] = "Fashion-MNIST (Zalando SE), MIT licence, Debian package dataset-fashion-mnist"
    return {
        "name": "synthetic-scenes",
        "description": "Shapes and glyphs pasted on offline photos / procedural textures, with occlusion, clutter, "
                       "lighting, blur, noise and JPEG artefacts. Boxes are tight boxes of the visible masks "
                       "(absolute pixels, x2/y2 exclusive edges).",
        "generator": __name__,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "n": len(ds),
        "classes": list(ds.classes),
        "config": cfg.to_dict(),
        "layout": {"images": "images/", "instance_masks": "masks/instance/ (pixel = instance id, 0 = background)",
                   "semantic_masks": "masks/semantic/ (pixel = class id + 1, 0 = background)", **exports},
        "objects_per_class": dict(zip(ds.classes, per_class)),
        "images_per_group": dict(sorted(groups.items())),
        "reproduce": f"vision.data.scenes.make_scenes(out_dir, n={len(ds)}, seed={seed}, "
                     f"config=SceneConfig(**config))",
        "sources": {name: f"{info[name].source}; {info[name].license}" for name in cfg.backgrounds}
                   | sprites,
    }


def make_scenes(out_dir: str | os.PathLike, *, n: int, seed: int = 0, config: SceneConfig | None = None,
                formats: Sequence[str] = FORMATS, overwrite: bool = False, workers: int = 1,
                progress: bool = False) -> DetectionDataset:
    """Generate ``n`` synthetic scenes into ``out_dir`` with masks, annotation exports and a dataset card.

    Layout: ``images/000000.jpg`` (PNG when ``config.jpeg_quality`` is None), ``masks/instance/*.png``
    (pixel = instance id), ``masks/semantic/*.png`` (pixel = class id + 1), ``annotations.json`` (COCO),
    ``yolo/data.yaml`` (+ ``images/train``, ``labels/train``; images hard-linked), ``voc/`` and ``dataset.yaml``
    (classes, seed, n, config, generator version, sources). Everything is built in a temporary sibling folder
    and renamed into place at the end, so ``out_dir`` is either complete or untouched. The result is the same
    for any ``workers``; scene ``i`` is ``make_scene(image_seed(seed, i), config)``.

    Args:
        out_dir: the folder to create (must be absent or empty, unless ``overwrite``).
        n: number of scenes, ≥ 0.
        seed: dataset seed, ≥ 0.
        config: what to draw; default :class:`SceneConfig()`.
        formats: annotation exports to write, any of ``"coco"``, ``"yolo"``, ``"voc"``.
        overwrite: replace an existing scenes dataset (one whose dataset.yaml names this generator).
        workers: processes to render with (1 = in this process).
        progress: show a tqdm progress bar.
    Returns:
        The dataset, rooted at ``out_dir``; ``meta`` of each image holds ``group`` (the background photo or
        ``procedural:<kind>``), ``seed`` and ``index``.
    Raises:
        InputError: bad ``n``, ``seed``, ``config``, ``formats`` or ``workers``.
        DatasetError: ``out_dir`` holds files (and ``overwrite`` is False or they are not a scenes dataset).
        SourceNotFoundError: Fashion-MNIST classes were asked for and its files are not installed.
    """
    n = _check_seed(n, "n")
    seed = _check_seed(seed)
    cfg = SceneConfig() if config is None else config
    if not isinstance(cfg, SceneConfig):
        raise InputError(f"config: expected a SceneConfig, got {type(cfg).__name__}")
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(f"formats: unknown format(s) {bad}; expected any of {list(FORMATS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers: expected an integer ≥ 1, got {workers!r}")
    out_dir = Path(out_dir)
    _check_target(out_dir, overwrite)
    from vision.data.scene_drawing import check_resources

    check_resources(cfg)
    if formats:
        import vision.data.formats  # noqa: F401  (an import problem fails here, before anything is written)

    import secrets

    import yaml

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{secrets.token_hex(4)}"
    old: Path | None = None
    try:
        for sub in ("images", "masks/instance", "masks/semantic"):
            (tmp / sub).mkdir(parents=True)
        tasks = [(i, seed, cfg, str(tmp)) for i in range(n)]
        if workers > 1 and n > 1:
            import concurrent.futures as cf
            import multiprocessing as mp

            with cf.ProcessPoolExecutor(min(workers, n), mp_context=mp.get_context("spawn")) as pool:
                it = pool.map(_write_one, tasks, chunksize=max(1, min(32, n // (4 * workers))))
                records = list(_progress(it, n, progress))
        else:
            records = [_write_one(t) for t in _progress(tasks, n, progress)]
        ds = DetectionDataset(root=tmp, classes=list(cfg.classes), images=records)
        exports: dict[str, str] = {}
        if "coco" in formats:
            from vision.data.formats import write_coco

            write_coco(ds, tmp / "annotations.json")
            exports["coco"] = "annotations.json"
        if "yolo" in formats:
            from vision.data.formats import write_yolo

            write_yolo(ds, tmp / "yolo", split="train")
            exports["yolo"] = "yolo/data.yaml"
        if "voc" in formats:
            from vision.data.formats import write_voc

            write_voc(ds, tmp / "voc")
            exports["voc"] = "voc/"
        card = yaml.safe_dump(_card(ds, cfg, seed, exports), sort_keys=False, allow_unicode=True)
        (tmp / "dataset.yaml").write_text(card, encoding="utf-8")
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{secrets.token_hex(4)}"
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out_dir.exists():
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    ds.root = out_dir
    logger.info("wrote %d synthetic scenes to %s", n, out_dir)
    return ds


def _progress(it: Any, total: int, enabled: bool) -> Any:
    if not enabled:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="scenes", unit="img")
