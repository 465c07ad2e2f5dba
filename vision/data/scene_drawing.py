"""How one synthetic scene is drawn: background, clutter, objects with exact masks, lighting and camera.

The private engine behind :mod:`vision.data.scenes` (which holds the configuration, the public API and the dataset
writer). Everything draws from the one ``numpy.random.Generator`` it is given, so a scene is a pure function of its
seed and configuration. Drawing and compositing use OpenCV (anti-aliased ``LINE_AA`` edges with sub-pixel
``shift``); images are RGB throughout.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from vision.data.records import ObjectAnnotation
from vision.data.scenes import DIGIT_CLASSES, FASHION_CLASSES, SHAPE_CLASSES

if TYPE_CHECKING:
    from vision.data.scenes import SceneConfig

__all__ = ["render_scene", "check_resources"]

_PROCEDURAL = ("noise", "gradient", "stripes", "blotches")
_TEXT_CHARS = "ACEFHKMNPRUVWXYacdefhkmnprtuvwxy"  # letters only, none that reads as a digit (O, I, S, Z, B, g, ...)


# --------------------------------------------------------------------------------------------------
# Resources, loaded once per process
# --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _photo(name: str, max_side: int) -> np.ndarray:
    """A sample photo, downscaled (area) so its longer side is at most ``max_side``."""
    from vision.data.photos import load_sample

    img = load_sample(name)
    scale = max_side / max(img.shape[:2])
    if scale < 1.0:
        size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=8)
def _sprite_bank(kind: str, split: str, root: str = "") -> tuple[np.ndarray, tuple[np.ndarray, ...], list[str]]:
    """Glyph images (N×h×w uint8), per label 0..9 the indices of that label, and each glyph's source id."""
    if kind == "digit":
        from vision.data.mnist import load_digits_dataset

        images, labels, _ = load_digits_dataset()
        cut = int(round(len(images) * 0.8))  # held-out digits for honest evaluation: the last 20 %
        keep = range(cut) if split == "train" else range(cut, len(images)) if split == "test" else range(len(images))
        images, labels = images[keep.start:keep.stop], labels[keep.start:keep.stop]
        ids = [f"digits:{i}" for i in keep]
    else:
        from vision.data.mnist import load_fashion_mnist

        parts = ["train", "test"] if split == "all" else [split]
        loaded = [load_fashion_mnist(p, root=root or None) for p in parts]
        images = np.concatenate([x[0] for x in loaded])
        labels = np.concatenate([x[1] for x in loaded])
        ids = [f"fashion-mnist-{p}:{i}" for p, x in zip(parts, loaded) for i in range(len(x[0]))]
    return images, tuple(np.flatnonzero(labels == k) for k in range(10)), ids


def _bank(kind: str, split: str) -> tuple[np.ndarray, tuple[np.ndarray, ...], list[str]]:
    if kind == "digit":
        return _sprite_bank(kind, split)
    from vision.data.mnist import fashion_mnist_root

    return _sprite_bank(kind, split, str(fashion_mnist_root()))  # cached per folder ($VISION_FASHION_MNIST)


def check_resources(config: SceneConfig) -> None:
    """Load what ``config`` needs now, so a missing source fails before anything is drawn or written."""
    if any(c in FASHION_CLASSES for c in config.classes):
        _bank("fashion", config.sprite_split)
    if any(c in DIGIT_CLASSES for c in config.classes):
        _bank("digit", config.sprite_split)
    if config.photo_background > 0:
        for name in config.backgrounds:
            _photo(name, 2 * max(config.image_size))


# --------------------------------------------------------------------------------------------------
# Drawing helpers
# --------------------------------------------------------------------------------------------------
def _color(rng: np.random.Generator) -> np.ndarray:
    """A random RGB colour, mostly saturated (HSV sampling), float32 0..255."""
    hsv = np.array([[[rng.integers(0, 180), rng.uniform(0.25, 1.0) * 255, rng.uniform(0.2, 1.0) * 255]]], np.uint8)
    if rng.random() < 0.15:  # some grays / whites / blacks
        hsv[0, 0, 1] = 0
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _contrasting_color(rng: np.random.Generator, under: np.ndarray) -> np.ndarray:
    """A colour far (in RGB) from the mean of the pixels it will cover, so objects stay visible."""
    mean = under.reshape(-1, 3).mean(axis=0) if under.size else np.full(3, 127.0, np.float32)
    best, best_d = None, -1.0
    for _ in range(8):
        c = _color(rng)
        d = float(np.linalg.norm(c - mean))
        if d > best_d:
            best, best_d = c, d
        if d >= 110:
            break
    return best


def _lowfreq_noise(rng: np.random.Generator, h: int, w: int, cells: int, channels: int = 1) -> np.ndarray:
    """Smooth noise in [0, 1]: a small random grid upscaled bicubically, H×W×C float32."""
    grid = rng.random((cells, cells, channels), dtype=np.float32)
    out = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(out.reshape(h, w, channels), 0.0, 1.0)


@functools.lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """2^21 fixed standard-normal samples; scenes take random windows of it (drawing fresh ones costs 4 ms)."""
    bank = np.random.Generator(np.random.PCG64(20240521)).standard_normal(1 << 21, dtype=np.float32)
    bank.setflags(write=False)
    return bank


def _gauss(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard-normal noise of ``shape``: a random window of the fixed bank (fresh samples when too large)."""
    count, bank = int(np.prod(shape)), _noise_bank()
    if count > bank.size // 2:
        return rng.standard_normal(shape, dtype=np.float32)
    start = int(rng.integers(0, bank.size - count + 1))
    return bank[start:start + count].reshape(shape)


def _ramp(h: int, w: int, angle: float) -> np.ndarray:
    """A linear ramp 0..1 across an H×W window along direction ``angle``, H×W×1 float32."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xs * math.cos(angle) + ys * math.sin(angle)
    t -= t.min()
    return (t / max(float(t.max()), 1e-6))[:, :, None]


def _background(rng: np.random.Generator, cfg: SceneConfig) -> tuple[np.ndarray, str]:
    h, w = cfg.image_size
    if cfg.backgrounds and rng.random() < cfg.photo_background:
        name = cfg.backgrounds[int(rng.integers(len(cfg.backgrounds)))]
        photo = _photo(name, 2 * max(h, w))
        ph, pw = photo.shape[:2]
        aspect = (w / h) * math.exp(rng.uniform(-0.15, 0.15))
        full_w = min(pw, ph * aspect)
        frac = rng.uniform(0.35, 1.0)
        cw, ch = max(8, int(full_w * frac)), max(8, int(full_w * frac / aspect))
        cw, ch = min(cw, pw), min(ch, ph)
        x0, y0 = int(rng.integers(0, pw - cw + 1)), int(rng.integers(0, ph - ch + 1))
        crop = photo[y0:y0 + ch, x0:x0 + cw]
        interp = cv2.INTER_AREA if cw > w else cv2.INTER_LINEAR
        img = cv2.resize(crop, (w, h), interpolation=interp)
        if rng.random() < 0.5:
            img = img[:, ::-1]
        return np.ascontiguousarray(img), name
    kind = _PROCEDURAL[int(rng.integers(len(_PROCEDURAL)))]
    c1, c2 = _color(rng), _color(rng)
    if kind == "noise":
        t = _lowfreq_noise(rng, h, w, int(rng.integers(3, 16)))
    elif kind == "gradient":
        t = _ramp(h, w, rng.uniform(0, 2 * math.pi))
    elif kind == "stripes":
        period = rng.uniform(6, 40)
        t = 0.5 + 0.5 * np.sin(_ramp(h, w, rng.uniform(0, math.pi)) * (max(h, w) * 1.5 * 2 * math.pi / period))
    else:  # blotches: colour noise of several scales
        t = 0.6 * _lowfreq_noise(rng, h, w, int(rng.integers(4, 10)), 3) + 0.4 * _lowfreq_noise(rng, h, w, 40, 3)
    img = c1 * (1 - t) + c2 * t
    img += _gauss(rng, (h, w, 1)) * np.float32(rng.uniform(2, 10))  # fine grain
    return np.clip(img, 0, 255).astype(np.uint8), f"procedural:{kind}"


def _draw_distractors(rng: np.random.Generator, img: np.ndarray, count: int) -> None:
    """Non-class clutter drawn into the background in place: lines, irregular blobs, letters, bars."""
    h, w = img.shape[:2]
    m = min(h, w)
    for _ in range(count):
        kind = int(rng.integers(4))
        col = tuple(float(v) for v in _color(rng))
        if kind == 0:  # a polyline
            pts = rng.uniform(0, 1, (int(rng.integers(2, 5)), 2)) * (w, h)
            cv2.polylines(img, [np.round(pts * 16).astype(np.int32)], False, col, int(rng.integers(1, 5)),
                          cv2.LINE_AA, 4)
        elif kind == 1:  # an irregular blob (smooth radial noise: never a regular shape), maybe translucent
            r = rng.uniform(0.04, 0.15) * m
            ang = np.linspace(0, 2 * math.pi, 40, endpoint=False)
            amps = rng.uniform(0.18, 0.3, 2)  # two- and three-lobed: a bean or a potato, never a disc or a star
            rad = r * (1 + sum(a * np.sin(k * ang + rng.uniform(0, 6.3)) for a, k in zip(amps, (2, 3))))
            c = rng.uniform(0, 1, 2) * (w, h)
            pts = np.stack([c[0] + rad * np.cos(ang), c[1] + rad * np.sin(ang)], 1)
            layer = img.copy()
            cv2.fillPoly(layer, [np.round(pts * 16).astype(np.int32)], col, cv2.LINE_AA, 4)
            a = rng.uniform(0.35, 1.0)
            cv2.addWeighted(layer, a, img, 1 - a, 0, dst=img)
        elif kind == 2:  # letters
            text = "".join(_TEXT_CHARS[i] for i in rng.integers(0, len(_TEXT_CHARS), int(rng.integers(2, 7))))
            scale = rng.uniform(0.3, 1.2) * m / 320
            org = (int(rng.integers(0, max(1, w - 20))), int(rng.integers(15, h)))
            cv2.putText(img, text, org, int(rng.choice([0, 1, 2, 3, 4, 6])), max(scale, 0.3), col,
                        int(rng.integers(1, 3)), cv2.LINE_AA)
        else:  # a thin bar (aspect ≥ 4, so it never reads as a square)
            length, thick = rng.uniform(0.1, 0.5) * m, rng.uniform(2, 6)
            box = ((float(rng.uniform(0, w)), float(rng.uniform(0, h))), (length, thick), float(rng.uniform(0, 180)))
            cv2.fillPoly(img, [np.round(cv2.boxPoints(box) * 16).astype(np.int32)], col, cv2.LINE_AA, 4)


# --------------------------------------------------------------------------------------------------
# Objects
# --------------------------------------------------------------------------------------------------
_POLYGONS = {  # unit circumradius vertices, angle offsets so that rotation 0 looks canonical
    "square": [math.pi / 4 + k * math.pi / 2 for k in range(4)],
    "triangle": [-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3)],
    "hexagon": [k * math.pi / 3 for k in range(6)],
}


@dataclass
class _Sprite:
    """One object rendered into its own square window at (x0, y0) of the image."""

    name: str
    alpha: np.ndarray  # S×S float32 coverage in [0, 1]; the mask is alpha ≥ 0.5
    x0: int
    y0: int
    intensity: np.ndarray | None = None  # glyph shading (Fashion-MNIST), S×S float32
    outline: np.ndarray | None = None  # S×S float32 coverage of an outline stroke
    attrs: dict[str, Any] = field(default_factory=dict)


def _unit_points(name: str, rng: np.random.Generator) -> np.ndarray:
    if name == "star":
        inner = rng.uniform(0.38, 0.5)
        ang = [-math.pi / 2 + k * math.pi / 5 for k in range(10)]
        rad = [1.0 if k % 2 == 0 else inner for k in range(10)]
        return np.array([[r * math.cos(a), r * math.sin(a)] for r, a in zip(rad, ang)], np.float64)
    return np.array([[math.cos(a), math.sin(a)] for a in _POLYGONS[name]], np.float64)


def _shape_sprite(name: str, rng: np.random.Generator, cx: float, cy: float, size: float) -> _Sprite:
    r = size / 2
    aspect = rng.uniform(0.85, 1.15)
    theta = rng.uniform(0, 2 * math.pi)
    half = int(math.ceil(r * 1.15)) + 3
    x0, y0 = int(math.floor(cx)) - half, int(math.floor(cy)) - half
    s = 2 * half + 1
    lx, ly = cx - x0, cy - y0
    mask = np.zeros((s, s), np.uint8)
    outline = None
    thick = int(rng.integers(1, 4)) if rng.random() < 0.35 else 0
    if name == "circle":
        args = ((round(lx * 16), round(ly * 16)), (round(r * 16), round(r * aspect * 16)), math.degrees(theta), 0, 360)
        cv2.ellipse(mask, *args, 255, -1, cv2.LINE_AA, 4)
        if thick:
            outline = np.zeros_like(mask)
            cv2.ellipse(outline, *args, 255, thick, cv2.LINE_AA, 4)
    else:
        c, sn = math.cos(theta), math.sin(theta)
        pts = _unit_points(name, rng) * (r, r * aspect) @ np.array([[c, sn], [-sn, c]]) + (lx, ly)
        poly = [np.round(pts * 16).astype(np.int32)]
        cv2.fillPoly(mask, poly, 255, cv2.LINE_AA, 4)
        if thick:
            outline = np.zeros_like(mask)
            cv2.polylines(outline, poly, True, 255, thick, cv2.LINE_AA, 4)
    alpha = mask.astype(np.float32) * (1 / 255)
    if outline is not None:
        out = outline.astype(np.float32) * (1 / 255)
        alpha = np.maximum(alpha, out)
        return _Sprite(name, alpha, x0, y0, outline=out, attrs={"outline": thick})
    return _Sprite(name, alpha, x0, y0)


def _glyph_sprite(name: str, kind: str, rng: np.random.Generator, cx: float, cy: float, size: float,
                  split: str) -> _Sprite:
    images, by_label, ids = _bank(kind, split)
    label = int(name.split("_")[1]) if kind == "digit" else FASHION_CLASSES.index(name)
    pool = by_label[label]
    index = int(pool[int(rng.integers(len(pool)))])
    glyph = np.pad(images[index], 1).astype(np.float32) * (1 / 255)
    t = max(4, int(round(size)))
    up = cv2.resize(glyph, (t, t), interpolation=cv2.INTER_CUBIC)
    if kind == "digit":  # 8×8 glyphs: smooth the cubic ripples before the edge is sharpened below
        up = cv2.GaussianBlur(up, (0, 0), t / 22)
    theta = math.radians(rng.uniform(-15, 15) if kind == "digit" else rng.uniform(-20, 20))
    aspect = rng.uniform(0.85, 1.15)
    half = int(math.ceil(t / 2 * 1.45)) + 3
    x0, y0 = int(math.floor(cx)) - half, int(math.floor(cy)) - half
    s = 2 * half + 1
    c, sn = math.cos(theta), math.sin(theta)
    lin = np.array([[c, -sn * aspect], [sn, c * aspect]])  # tile → window: rotate(θ) · scale(1, aspect)
    offset = np.array([cx - x0, cy - y0]) - lin @ np.array([(t - 1) / 2, (t - 1) / 2])
    warped = cv2.warpAffine(up, np.hstack([lin, offset[:, None]]), (s, s), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if kind == "digit":
        alpha = np.clip((warped - 0.4) * 3.5 + 0.5, 0, 1)
        return _Sprite(name, alpha, x0, y0, attrs={"sprite": ids[index]})
    alpha = np.clip((warped - 0.02) * 14, 0, 1)
    return _Sprite(name, alpha, x0, y0, intensity=warped, attrs={"sprite": ids[index]})


def _make_sprite(name: str, rng: np.random.Generator, cfg: SceneConfig) -> _Sprite:
    h, w = cfg.image_size
    m = min(h, w)
    lo, hi = cfg.object_scale
    size = math.exp(rng.uniform(math.log(lo * m), math.log(hi * m)))
    margin = 0.35 * size
    cx, cy = rng.uniform(-margin, w + margin), rng.uniform(-margin, h + margin)
    if name in SHAPE_CLASSES:
        return _shape_sprite(name, rng, cx, cy, size)
    kind = "digit" if name in DIGIT_CLASSES else "fashion"
    return _glyph_sprite(name, kind, rng, cx, cy, size * 1.25, cfg.sprite_split)


def _paint(rng: np.random.Generator, sp: _Sprite, under: np.ndarray) -> np.ndarray:
    """The colour field (S×S×3 float32) of a sprite: solid, gradient, stripes, noise or shaded fill."""
    s = sp.alpha.shape[0]
    base = _contrasting_color(rng, under)
    if sp.intensity is not None:  # Fashion-MNIST: keep the item's own shading, tinted
        tint = base * rng.uniform(0.8, 1.2)
        return np.clip(tint * (0.3 + 0.85 * sp.intensity[:, :, None]), 0, 255)
    style = int(rng.choice(5, p=[0.3, 0.2, 0.15, 0.15, 0.2]))
    other = np.clip(base * rng.uniform(0.45, 0.8) if rng.random() < 0.5 else base + rng.uniform(40, 110), 0, 255)
    if style == 0:
        col = np.broadcast_to(base, (s, s, 3)).copy()
    elif style == 1:
        t = _ramp(s, s, rng.uniform(0, 2 * math.pi))
        col = base * (1 - t) + other * t
    elif style == 2:
        period = rng.uniform(3, max(4.0, s / 3))
        t = 0.5 + 0.5 * np.sin(_ramp(s, s, rng.uniform(0, math.pi)) * (s * 1.5 * 2 * math.pi / period))
        col = base * (1 - t) + other * t
    elif style == 3:
        col = base * (0.75 + 0.5 * _lowfreq_noise(rng, s, s, int(rng.integers(3, 8))))
    else:  # lit from one side, like a dome
        ys, xs = np.mgrid[0:s, 0:s].astype(np.float32)
        lx, ly = rng.uniform(0.2, 0.8, 2) * s
        d = np.sqrt((xs - lx) ** 2 + (ys - ly) ** 2) / s
        col = base * np.clip(1.25 - 0.9 * d, 0.45, 1.3)[:, :, None]
    if sp.outline is not None:
        edge = np.clip(base * rng.uniform(0.2, 0.5), 0, 255) if rng.random() < 0.7 else np.full(3, 245, np.float32)
        a = sp.outline[:, :, None]
        col = col * (1 - a) + edge * a
    return np.clip(col, 0, 255)


def _place_objects(rng: np.random.Generator, cfg: SceneConfig, canvas: np.ndarray
                   ) -> tuple[np.ndarray, list[ObjectAnnotation]]:
    """Paste objects into ``canvas`` (float32, in place); returns the instance mask and the annotations."""
    h, w = cfg.image_size
    inst = np.zeros((h, w), np.uint8)
    placed: list[tuple[int, _Sprite, tuple[int, int, int, int]]] = []  # (class id, sprite, window)
    in_image: list[int] = []  # in-image mask area of each object when placed
    visible: list[int] = []  # its area still visible now
    full_area: list[int] = []
    target = int(rng.integers(cfg.objects[0], cfg.objects[1] + 1))
    for _ in range(target):
        for _attempt in range(15):
            cid = int(rng.integers(len(cfg.classes)))
            sp = _make_sprite(cfg.classes[cid], rng, cfg)
            s = sp.alpha.shape[0]
            xa, ya, xb, yb = max(sp.x0, 0), max(sp.y0, 0), min(sp.x0 + s, w), min(sp.y0 + s, h)
            if xa >= xb or ya >= yb:
                continue
            mask = sp.alpha >= 0.5
            full = int(np.count_nonzero(mask))
            m_in = mask[ya - sp.y0:yb - sp.y0, xa - sp.x0:xb - sp.x0]
            n_in = int(np.count_nonzero(m_in))
            if full == 0 or n_in < cfg.min_visible_pixels or 1 - n_in / full > cfg.max_truncation:
                continue
            region = inst[ya:yb, xa:xb]
            hidden = np.bincount(region[m_in], minlength=len(placed) + 1)[1:]
            after = np.asarray(visible, np.int64) - hidden
            if len(after) and (np.any(after < cfg.min_visible_pixels)
                               or np.any(1 - after / np.asarray(in_image) > cfg.max_occlusion + 1e-9)):
                continue
            visible = after.tolist()
            region[m_in] = len(placed) + 1
            a = sp.alpha[ya - sp.y0:yb - sp.y0, xa - sp.x0:xb - sp.x0, None]
            under = canvas[ya:yb, xa:xb]
            col = _paint(rng, sp, under[m_in])[ya - sp.y0:yb - sp.y0, xa - sp.x0:xb - sp.x0]
            canvas[ya:yb, xa:xb] = under * (1 - a) + col * a
            placed.append((cid, sp, (xa, ya, xb, yb)))
            in_image.append(n_in)
            visible.append(n_in)
            full_area.append(full)
            break
    objects = []
    for k, (cid, sp, (xa, ya, xb, yb)) in enumerate(placed):
        ys, xs = np.nonzero(inst[ya:yb, xa:xb] == k + 1)
        bbox = (float(xa + xs.min()), float(ya + ys.min()), float(xa + xs.max() + 1), float(ya + ys.max() + 1))
        occluded, truncated = 1 - visible[k] / in_image[k], 1 - in_image[k] / full_area[k]
        attrs = {"area": int(visible[k]), "occluded_fraction": round(occluded, 4),
                 "truncated_fraction": round(truncated, 4), "occluded": int(occluded > 0),
                 "truncated": int(truncated > 0), **sp.attrs}
        objects.append(ObjectAnnotation(bbox=bbox, category_id=cid, instance_id=k + 1, attributes=attrs))
    return inst, objects


# --------------------------------------------------------------------------------------------------
# Lighting and camera
# --------------------------------------------------------------------------------------------------
def _shade(rng: np.random.Generator, canvas: np.ndarray) -> None:
    """Multiply ``canvas`` in place by a vignette, a light gradient or a soft shadow."""
    h, w = canvas.shape[:2]
    kind = int(rng.integers(3))
    strength = rng.uniform(0.2, 0.5)
    if kind == 0:
        ys, xs = np.ogrid[0:h, 0:w]
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        d = ((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2
        field_ = 1 - strength * np.clip(d * 2, 0, 1)
    elif kind == 1:
        field_ = 1 - strength * _ramp(h, w, rng.uniform(0, 2 * math.pi))[:, :, 0]
    else:  # a soft shadow, drawn at quarter size and blurred
        sh, sw = max(8, h // 4), max(8, w // 4)
        small = np.zeros((sh, sw), np.float32)
        cv2.ellipse(small, (int(rng.integers(sw)), int(rng.integers(sh))),
                    (int(rng.uniform(0.2, 0.6) * sw), int(rng.uniform(0.2, 0.6) * sh)),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        small = cv2.GaussianBlur(small, (0, 0), 0.08 * min(sh, sw) + 1)
        field_ = 1 - strength * cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    canvas *= field_.astype(np.float32)[:, :, None]


def _camera(rng: np.random.Generator, cfg: SceneConfig, canvas: np.ndarray) -> tuple[np.ndarray, bytes | None]:
    """Lighting curve, blur, noise and JPEG round trip; returns the RGB image and its JPEG bytes (or None)."""
    if rng.random() < cfg.shading:
        _shade(rng, canvas)
    gamma, contrast = rng.uniform(*cfg.gamma), rng.uniform(*cfg.contrast)
    bright = rng.uniform(*cfg.brightness) + rng.uniform(-cfg.color_cast, cfg.color_cast, 3)
    v = np.arange(256, dtype=np.float64)[:, None] / 255
    lut = np.clip(((v ** gamma) - 0.5) * contrast + 0.5 + bright, 0, 1) * 255
    img = cv2.LUT(np.clip(canvas, 0, 255).astype(np.uint8), np.round(lut).astype(np.uint8).reshape(256, 1, 3))
    if rng.random() < 0.5:
        sigma = rng.uniform(*cfg.blur_sigma)
        if sigma >= 0.2:
            img = cv2.GaussianBlur(img, (0, 0), sigma)
    sigma = rng.uniform(*cfg.noise_sigma)
    if sigma >= 0.5:
        noisy = img.astype(np.float32)
        noisy += _gauss(rng, img.shape) * np.float32(sigma)
        img = np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)
    if cfg.jpeg_quality is None:
        return np.ascontiguousarray(img), None
    from vision.io import encode_image, read_image

    quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
    data = encode_image(np.ascontiguousarray(img), format=".jpg", quality=quality)
    return read_image(data), data  # decoded by the suite's own reader, so the file reads back to this array


def render_scene(seed: int, cfg: SceneConfig) -> tuple[np.ndarray, list[ObjectAnnotation], np.ndarray, np.ndarray,
                                                        str, bytes | None]:
    """Draw the scene of ``seed``: (image, objects, instance mask, semantic mask, group, JPEG bytes or None)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    bg, group = _background(rng, cfg)
    _draw_distractors(rng, bg, int(rng.integers(cfg.distractors[0], cfg.distractors[1] + 1)))
    canvas = bg.astype(np.float32)
    inst, objects = _place_objects(rng, cfg, canvas)
    image, jpeg = _camera(rng, cfg, canvas)
    lut = np.zeros(256, np.uint8)
    for o in objects:
        lut[o.instance_id] = o.category_id + 1
    return image, objects, inst, lut[inst], group, jpeg
