"""Selective search region proposals: the hierarchical grouping of Uijlings et al. (IJCV 2013) over Felzenszwalb
segments, as R-CNN and Fast R-CNN used it.

Written here because no maintained, installable implementation exists beside this suite's OpenCV:
``cv2.ximgproc.segmentation.createSelectiveSearchSegmentation`` lives in ``opencv-contrib-python``, which cannot be
installed next to the ``opencv-python`` / ``opencv-python-headless`` wheels that ultralytics and albumentations
pull in (they all write the same ``cv2/`` package). The initial over-segmentation is scikit-image's
:func:`~skimage.segmentation.felzenszwalb` (Felzenszwalb & Huttenlocher 2004); the grouping follows the paper:

1. Segment the image in a colour space with threshold ``k`` (``min_size = k`` as in the authors' code).
2. Describe every region by a 25-bin-per-channel colour histogram, a texture histogram (Gaussian derivatives,
   σ = 1, in 8 orientations, 10 bins per orientation and channel), its size and its bounding box.
3. Repeatedly merge the two most similar *neighbouring* regions, where similarity is a sum of the chosen measures:
   colour and texture (histogram intersection), size (``1 - (size_i + size_j) / size_image``: small regions merge
   first) and fill (``1 - (size(BB_ij) - size_i - size_j) / size_image``: regions that fill each other's gaps
   merge first). The merged region's histograms are the size-weighted means; every region of the hierarchy is a
   proposal.
4. Diversify: run several strategies (colour spaces × ``k`` × similarity sets). ``"fast"`` is the paper's
   *Selective Search Fast* (HSV, Lab × k = 50, 100 × {C+T+S+F, T+S+F}: 8 hierarchies), ``"quality"`` its
   *Selective Search Quality* (HSV, Lab, rgI, H, I × k = 50, 100, 150, 300 × {C+T+S+F, T+S+F, F, S}: 80),
   ``"single"`` one hierarchy (HSV, k = 100, C+T+S+F).
5. Rank as in the paper: within a hierarchy a region's position is 1 for the last merge (the whole image) and grows
   towards the initial segments; each position is multiplied by a random number in [0, 1] (seeded, so the result
   is deterministic), all strategies' boxes are sorted by that value and duplicate boxes keep their best rank.

On the shipped-detector scenes (256 px) fast mode proposes ~900 boxes in ~0.5 s and covers every ground-truth
box at IoU ≥ 0.5 within the first 1000 (0.99 within 500): see :data:`MEASURED`.

Example:
    >>> from vision.data import load_sample
    >>> boxes = selective_search(load_sample("coffee"), mode="fast", max_proposals=500)   # doctest: +SKIP
    >>> boxes.shape[1], boxes.dtype                                                           # doctest: +SKIP
    (4, dtype('float32'))
"""

from __future__ import annotations

import hashlib
import heapq
import io
import json
import logging
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.errors import InputError

__all__ = [
    "COLOR_SPACES",
    "MEASURED",
    "MODES",
    "SIMILARITIES",
    "Strategy",
    "box_recall",
    "dataset_proposals",
    "selective_search",
    "strategies",
]

#: proposal modes of :func:`selective_search`
MODES = ("single", "fast", "quality")
#: colour spaces a strategy may segment and describe the image in (the paper's, less RGB)
COLOR_SPACES = ("hsv", "lab", "rgi", "h", "i")
#: similarity measures: colour, texture, size, fill
SIMILARITIES = ("color", "texture", "size", "fill")

#: Measured here on the held-out shipped-detector scenes (test seed 9, 256×256, 1–5 shapes): recall = share of
#: ground-truth boxes with a proposal at IoU ≥ 0.5 among the first N; seconds = median per image, one process on a
#: 2-core machine shared with other training jobs (so an upper bound). ``fast`` over all 200 images, the others over
#: the first 12 (``single`` over 200: 142 boxes, recall 0.982).
MEASURED: dict[str, dict[str, float]] = {
    "single": {"boxes": 132, "recall@all": 0.944, "recall_iou0.7@all": 0.889, "seconds": 0.20},
    "fast": {"boxes": 915, "recall@100": 0.827, "recall@300": 0.984, "recall@500": 0.992, "recall@1000": 1.0,
             "recall_iou0.7@2000": 0.997, "seconds": 0.5},
    "quality": {"boxes": 2889, "recall@2000": 1.0, "recall_iou0.7@2000": 0.972, "seconds": 3.2},
}

logger = logging.getLogger(__name__)

_COLOR_BINS = 25
_TEXTURE_BINS = 10
_ORIENTATIONS = 8


@dataclass(frozen=True)
class Strategy:
    """One hierarchical grouping: the colour space, Felzenszwalb's ``k`` and the similarity measures summed."""

    color_space: str
    k: int
    similarity: tuple[str, ...]


_CTSF = ("color", "texture", "size", "fill")
_TSF = ("texture", "size", "fill")


def strategies(mode: str) -> tuple[Strategy, ...]:
    """The strategies of a mode: ``"single"`` (1), ``"fast"`` (8) or ``"quality"`` (80), as in the paper.

    Raises:
        InputError: an unknown mode.
    """
    if mode == "single":
        return (Strategy("hsv", 100, _CTSF),)
    if mode == "fast":
        return tuple(Strategy(c, k, s) for c in ("hsv", "lab") for k in (50, 100) for s in (_CTSF, _TSF))
    if mode == "quality":
        return tuple(Strategy(c, k, s) for c in ("hsv", "lab", "rgi", "h", "i") for k in (50, 100, 150, 300)
                     for s in (_CTSF, _TSF, ("fill",), ("size",)))
    raise InputError(f"selective_search: mode must be one of {list(MODES)}; got {mode!r}")


# --------------------------------------------------------------------------------------------------
# per-pixel features of one colour space (shared by every k)
# --------------------------------------------------------------------------------------------------
def _color_space(rgb: np.ndarray, space: str) -> np.ndarray:
    """H×W×C float64 channels in [0, 1] (so Felzenszwalb's ``k`` has the paper's 0-255 meaning)."""
    import cv2

    if space == "hsv":
        out = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)
    elif space == "lab":
        out = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    elif space == "h":
        out = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[..., :1]
    elif space == "i":
        out = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None]
    elif space == "rgi":
        f = rgb.astype(np.float32)
        total = f.sum(axis=2, keepdims=True) + 1e-6
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)[..., None] / 255.0
        return np.concatenate([f[..., :2] / total, gray], axis=2).astype(np.float64)
    else:  # pragma: no cover - strategies() only builds known spaces
        raise InputError(f"selective_search: unknown colour space {space!r}; expected one of {list(COLOR_SPACES)}")
    return out.astype(np.float64) / 255.0  # float64: what felzenszwalb computes in (no copy there)


def _pixel_bins(chan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(colour bin per pixel and channel: C×H×W, texture bin per pixel, channel and orientation: C·8×H×W)."""
    from scipy import ndimage as ndi

    color = np.minimum((chan * _COLOR_BINS).astype(np.int64), _COLOR_BINS - 1).transpose(2, 0, 1)
    tex = []
    for c in range(chan.shape[2]):
        gx = ndi.gaussian_filter(chan[..., c], 1.0, order=(0, 1))
        gy = ndi.gaussian_filter(chan[..., c], 1.0, order=(1, 0))
        for theta in (0.0, 0.25 * math.pi, 0.5 * math.pi, 0.75 * math.pi):
            r = math.cos(theta) * gx + math.sin(theta) * gy
            for part in (np.maximum(r, 0.0), np.maximum(-r, 0.0)):
                top = float(part.max())
                b = (part * (_TEXTURE_BINS / top)).astype(np.int64) if top > 0 else np.zeros(part.shape, np.int64)
                tex.append(np.minimum(b, _TEXTURE_BINS - 1))
    return color, np.stack(tex)


def _histograms(labels: np.ndarray, n: int, bins: np.ndarray, nbins: int) -> np.ndarray:
    """n×(channels·nbins) L1-normalised histograms of ``bins`` (channels×H×W) per region of ``labels``."""
    flat = labels.ravel()
    out = np.empty((n, bins.shape[0] * nbins), np.float32)
    for c in range(bins.shape[0]):
        out[:, c * nbins:(c + 1) * nbins] = np.bincount(flat * nbins + bins[c].ravel(),
                                                         minlength=n * nbins).reshape(n, nbins)
    out /= np.maximum(out.sum(axis=1, keepdims=True), 1.0)
    return out


def _regions(labels: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(n regions, sizes, boxes n×4 xyxy with exclusive x2/y2, unique neighbour pairs m×2 with a < b)."""
    from scipy import ndimage as ndi

    n = int(labels.max()) + 1
    sizes = np.bincount(labels.ravel(), minlength=n).astype(np.float64)
    boxes = np.zeros((n, 4), np.float64)
    for i, sl in enumerate(ndi.find_objects(labels + 1)):
        if sl is not None:
            boxes[i] = (sl[1].start, sl[0].start, sl[1].stop, sl[0].stop)
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    codes = np.unique(lo.astype(np.int64) * n + hi)
    return n, sizes, boxes, np.stack([codes // n, codes % n], axis=1)


class _Segments:
    """One Felzenszwalb segmentation and its regions' features, computed once and shared by every strategy."""

    def __init__(self, labels: np.ndarray, color_bins: np.ndarray, tex_bins: np.ndarray) -> None:
        self.labels = labels
        self.n, self.sizes, self.boxes, self.pairs = _regions(labels)
        self._bins = {"color": (color_bins, _COLOR_BINS), "texture": (tex_bins, _TEXTURE_BINS)}
        self._hist: dict[str, np.ndarray] = {}

    def hist(self, kind: str) -> np.ndarray:
        if kind not in self._hist:
            bins, nbins = self._bins[kind]
            self._hist[kind] = _histograms(self.labels, self.n, bins, nbins)
        return self._hist[kind]


def _hierarchy(seg: _Segments, similarity: tuple[str, ...]) -> np.ndarray:
    """Every region's box (creation order: the initial segments, then one per merge) of one grouping."""
    n, sizes0, boxes0, pairs = seg.n, seg.sizes, seg.boxes, seg.pairs
    total = float(seg.labels.size)
    m = 2 * n - 1
    size = np.zeros(m)
    size[:n] = sizes0
    box = np.zeros((m, 4))
    box[:n] = boxes0
    use_c, use_t = "color" in similarity, "texture" in similarity
    use_s, use_f = "size" in similarity, "fill" in similarity
    hc = ht = None
    if use_c:
        h0 = seg.hist("color")
        hc = np.zeros((m, h0.shape[1]), np.float32)
        hc[:n] = h0
    if use_t:
        h0 = seg.hist("texture")
        ht = np.zeros((m, h0.shape[1]), np.float32)
        ht[:n] = h0

    def sims(i: np.ndarray | int, j: np.ndarray) -> np.ndarray:
        s = np.zeros(len(j))
        if use_c:
            s += np.minimum(hc[i], hc[j]).sum(axis=-1)
        if use_t:
            s += np.minimum(ht[i], ht[j]).sum(axis=-1)
        if use_s:
            s += 1.0 - (size[i] + size[j]) / total
        if use_f:
            bi, bj = box[i], box[j]
            bb = ((np.maximum(bi[..., 2], bj[..., 2]) - np.minimum(bi[..., 0], bj[..., 0]))
                  * (np.maximum(bi[..., 3], bj[..., 3]) - np.minimum(bi[..., 1], bj[..., 1])))
            s += 1.0 - (bb - size[i] - size[j]) / total
        return s

    neighbours: list[set[int]] = [set() for _ in range(m)]
    for a, b in pairs.tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)
    heap = []
    if len(pairs):
        s0 = sims(pairs[:, 0], pairs[:, 1])
        heap = [(-float(s), int(a), int(b)) for s, (a, b) in zip(s0, pairs.tolist())]
        heapq.heapify(heap)
    alive = np.zeros(m, bool)
    alive[:n] = True
    t = n
    while heap:
        _, i, j = heapq.heappop(heap)
        if not (alive[i] and alive[j]):
            continue
        si, sj = size[i], size[j]
        size[t] = si + sj
        box[t] = (min(box[i, 0], box[j, 0]), min(box[i, 1], box[j, 1]),
                  max(box[i, 2], box[j, 2]), max(box[i, 3], box[j, 3]))
        if use_c:
            hc[t] = (si * hc[i] + sj * hc[j]) / (si + sj)
        if use_t:
            ht[t] = (si * ht[i] + sj * ht[j]) / (si + sj)
        alive[i] = alive[j] = False
        alive[t] = True
        nb = (neighbours[i] | neighbours[j]) - {i, j}
        for k in nb:
            neighbours[k].discard(i)
            neighbours[k].discard(j)
            neighbours[k].add(t)
        neighbours[t] = nb
        neighbours[i] = neighbours[j] = set()
        if nb:
            ks = np.fromiter(nb, np.int64, len(nb))
            for s, k in zip(sims(t, ks).tolist(), ks.tolist()):
                heapq.heappush(heap, (-s, k, t))
        t += 1
    return box[:t]


# --------------------------------------------------------------------------------------------------
def _int_option(name: str, value: Any, low: int, *, none_ok: bool = False) -> int | None:
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        extra = "None or " if none_ok else ""
        raise InputError(f"selective_search: {name} must be {extra}an integer ≥ {low}; got {value!r}")
    return int(value)


def selective_search(source: Any, *, mode: str = "fast", max_proposals: int | None = 2000, min_box: int = 10,
                     max_side: int | None = 512, sigma: float = 0.8, seed: int = 0) -> np.ndarray:
    """Selective search proposals for one image, best-ranked first.

    Args:
        source: an H×W×3 uint8 RGB array, an H×W gray array, or anything :func:`vision.io.read_image` reads.
        mode: ``"single"`` (1 strategy), ``"fast"`` (8, the paper's Fast) or ``"quality"`` (80, its Quality);
            see :func:`strategies`.
        max_proposals: keep at most this many boxes (None = all, typically 1-4 k for fast on 256 px).
        min_box: drop boxes narrower or lower than this many pixels (of the original image; R-CNN used 20 at
            500 px).
        max_side: search on a copy shrunk so its longer side is at most this (None = never); boxes are mapped
            back. Felzenszwalb's ``k`` is in pixels, so very large images otherwise give tiny segments and take
            long.
        sigma: the Gaussian smoothing of the Felzenszwalb segmentation (the paper's 0.8).
        seed: seeds the random part of the ranking; the same image, options and seed give the same boxes.

    Returns:
        N×4 float32 boxes ``(x1, y1, x2, y2)`` in pixels of the original image (x2, y2 exclusive: one past the
        last covered column / row), unique, ranked as in the paper.

    Raises:
        InputError: a bad option. ShapeError / DTypeError: an empty image or one that is not an image
        (from :func:`vision.io.read_image`). SourceNotFoundError: a path that does not exist.
    """
    import cv2
    from skimage.segmentation import felzenszwalb

    from vision.io import read_image

    plan = strategies(mode)
    max_proposals = _int_option("max_proposals", max_proposals, 1, none_ok=True)
    min_box = _int_option("min_box", min_box, 0)
    max_side = _int_option("max_side", max_side, 16, none_ok=True)
    seed = _int_option("seed", seed, 0)
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"selective_search: sigma must be a finite number ≥ 0; got {sigma!r}")
    image = read_image(source)
    h, w = image.shape[:2]
    scale = 1.0
    if max_side is not None and max(h, w) > max_side:
        scale = max_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(seed)
    boxes, ranks = [], []
    features: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    segments: dict[tuple[str, int], _Segments] = {}
    for st in plan:
        if st.color_space not in features:
            chan = _color_space(image, st.color_space)
            features[st.color_space] = (chan, *_pixel_bins(chan))
        chan, color_bins, tex_bins = features[st.color_space]
        key = (st.color_space, st.k)
        if key not in segments:
            seg = felzenszwalb(chan, scale=st.k, sigma=float(sigma), min_size=st.k).astype(np.int64, copy=False)
            used = np.bincount(seg.ravel()) > 0
            labels = seg if used.all() else (np.cumsum(used) - 1)[seg]  # consecutive ids
            segments[key] = _Segments(labels, color_bins, tex_bins)
        regions = _hierarchy(segments[key], st.similarity)
        position = np.arange(len(regions), 0, -1, dtype=np.float64)  # the last merge (whole image) is 1
        boxes.append(regions)
        ranks.append(position * rng.random(len(regions)))
    allboxes = np.concatenate(boxes)
    order = np.argsort(np.concatenate(ranks), kind="stable")
    allboxes = allboxes[order]
    _, first = np.unique(allboxes, axis=0, return_index=True)
    allboxes = allboxes[np.sort(first)] / scale
    allboxes = np.clip(allboxes, 0, [w, h, w, h])
    wide = ((allboxes[:, 2] - allboxes[:, 0]) >= min_box) & ((allboxes[:, 3] - allboxes[:, 1]) >= min_box)
    allboxes = allboxes[wide]
    if max_proposals is not None:
        allboxes = allboxes[:max_proposals]
    return np.ascontiguousarray(allboxes, dtype=np.float32)


def box_recall(proposals: np.ndarray, gt: np.ndarray, *, iou: float = 0.5) -> tuple[int, int]:
    """(ground-truth boxes covered by some proposal at IoU ≥ ``iou``, ground-truth boxes) for one image.

    Args:
        proposals: N×4 xyxy boxes. gt: M×4 xyxy boxes. iou: the overlap a proposal needs.
    """
    proposals = np.asarray(proposals, np.float64).reshape(-1, 4)
    gt = np.asarray(gt, np.float64).reshape(-1, 4)
    if not len(gt):
        return 0, 0
    if not len(proposals):
        return 0, len(gt)
    ix1 = np.maximum(gt[:, None, 0], proposals[None, :, 0])
    iy1 = np.maximum(gt[:, None, 1], proposals[None, :, 1])
    ix2 = np.minimum(gt[:, None, 2], proposals[None, :, 2])
    iy2 = np.minimum(gt[:, None, 3], proposals[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_g = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    area_p = (proposals[:, 2] - proposals[:, 0]) * (proposals[:, 3] - proposals[:, 1])
    ious = inter / np.maximum(area_g[:, None] + area_p[None, :] - inter, 1e-9)
    return int((ious.max(axis=1) >= iou).sum()), len(gt)


def _cache_key(dataset: Any, mode: str, max_proposals: int | None) -> str:
    """What a proposals cache must match: the options, the dataset root and its image files."""
    files = [str(getattr(rec, "file_name", i)) for i, rec in enumerate(dataset.images)]
    return json.dumps({"mode": mode, "max_proposals": max_proposals, "root": str(Path(dataset.root).resolve()),
                       "files": hashlib.sha256("\n".join(files).encode()).hexdigest()}, sort_keys=True)


def dataset_proposals(dataset: Any, *, mode: str = "fast", max_proposals: int | None = 2000,
                      cache: str | os.PathLike[str] | None = None, progress: bool = False) -> list[np.ndarray]:
    """Selective search proposals for every image of a :class:`~vision.data.records.DetectionDataset`, cached.

    Proposals take about half a second per 256 px image, so training R-CNN / Fast R-CNN computes them once.
    With ``cache`` the boxes are stored in that ``.npz`` file (written atomically) together with a key of the
    options and the image files, and read back on the next call when the key matches (else recomputed).

    Args:
        dataset: the images (``dataset.image_path(i)``, ``dataset.images``).
        mode, max_proposals: as for :func:`selective_search`.
        cache: an ``.npz`` file to read or write; None = no cache.
        progress: show a tqdm progress bar.

    Returns:
        One N×4 float32 xyxy array per image, in dataset order.

    Raises:
        InputError: bad options. SourceNotFoundError / ImageDecodeError: an image cannot be read.
    """
    from vision.io import read_image

    strategies(mode)
    files = [str(getattr(rec, "file_name", i)) for i, rec in enumerate(dataset.images)]
    key = _cache_key(dataset, mode, max_proposals)
    if cache is not None and Path(cache).is_file():
        try:
            with np.load(cache, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    return [z[f"p{i}"].astype(np.float32) for i in range(len(files))]
        except (OSError, KeyError, ValueError) as exc:
            logger.warning("%s: unreadable proposals cache (%s); recomputing", cache, exc)
        logger.info("%s: proposals cache made for other images or options; recomputing", cache)
    items = range(len(files))
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc="selective search", unit="img")
    out = [selective_search(read_image(dataset.image_path(i)), mode=mode, max_proposals=max_proposals)
           for i in items]
    if cache is not None:
        _write_cache(cache, key, out)
    return out


def _write_cache(cache: str | os.PathLike[str], key: str, proposals: list[np.ndarray]) -> None:
    from vision.io.files import atomic_write_bytes

    buf = io.BytesIO()
    np.savez_compressed(buf, key=np.array(key), **{f"p{i}": b for i, b in enumerate(proposals)})
    atomic_write_bytes(cache, buf.getvalue())
