"""Train / val / test splits: random, stratified, grouped, time-ordered, and Andrew Ng's train-dev "bridge".

Every function returns ``{split name: sorted int64 index array}``; the arrays partition ``range(n)`` exactly
(every index in exactly one split) and depend only on the inputs and ``seed``.

``fractions`` is a tuple/list — ``(train,)``, ``(train, val)`` or ``(train, val, test)`` — or a mapping
``{"train": 0.7, "val": 0.15, "test": 0.15}`` with any split names; fractions must be ≥ 0 and sum to 1 (± 1e-6).
Split sizes are the fractions of ``n`` rounded by the largest-remainder method, so they always sum to ``n``.

Example:
    >>> s = random_split(10, fractions=(0.8, 0.2), seed=0)
    >>> {k: len(v) for k, v in s.items()}
    {'train': 8, 'val': 2}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vision.errors import InputError

__all__ = ["random_split", "stratified_split", "grouped_split", "ordered_split", "bridge_split", "split_sizes"]

_DEFAULT_NAMES = {1: ("train",), 2: ("train", "val"), 3: ("train", "val", "test")}
Fractions = Sequence[float] | Mapping[str, float]


def _fractions(fractions: Any, *, what: str = "fractions") -> tuple[tuple[str, ...], np.ndarray]:
    """Split names and fractions, validated."""
    if isinstance(fractions, Mapping):
        names = tuple(str(k) for k in fractions)
        values = list(fractions.values())
        if len(set(names)) != len(names) or any(not n for n in names):
            raise InputError(f"{what}: expected unique, non-empty split names, got {list(names)}")
    elif isinstance(fractions, (str, bytes)) or not isinstance(fractions, Sequence):
        raise InputError(f"{what}: expected a tuple of 1-3 fractions or a {{name: fraction}} mapping, got {fractions!r}")
    else:
        values = list(fractions)
        if len(values) not in _DEFAULT_NAMES:
            raise InputError(f"{what}: expected 1-3 fractions (train, val, test) or a {{name: fraction}} mapping for "
                             f"other splits, got {len(values)} values")
        names = _DEFAULT_NAMES[len(values)]
    if not values:
        raise InputError(f"{what}: expected at least one split, got none")
    try:
        fr = np.asarray([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what}: expected numbers, got {values!r}") from exc
    if not np.all(np.isfinite(fr)) or np.any(fr < 0):
        raise InputError(f"{what}: expected finite fractions ≥ 0, got {fr.tolist()}")
    if abs(fr.sum() - 1.0) > 1e-6:
        raise InputError(f"{what}: expected fractions summing to 1 (± 1e-6), got {fr.tolist()} (sum {fr.sum():.6g})")
    return names, fr


def _count(n_or_items: Any, *, what: str) -> int:
    if isinstance(n_or_items, (int, np.integer)) and not isinstance(n_or_items, bool):
        if n_or_items < 0:
            raise InputError(f"{what}: expected a count ≥ 0, got {n_or_items}")
        return int(n_or_items)
    try:
        return len(n_or_items)
    except TypeError as exc:
        raise InputError(f"{what}: expected a count or a sized collection, got {type(n_or_items).__name__}") from exc


def _allocate(n: int, fr: np.ndarray) -> np.ndarray:
    """Largest-remainder rounding of ``n * fr`` to integers summing to ``n`` (ties go to the earlier split)."""
    ideal = n * fr
    counts = np.floor(ideal + 1e-9).astype(np.int64)
    rest = n - int(counts.sum())
    if rest > 0:
        order = np.argsort(-(ideal - counts), kind="stable")
        order = [i for i in order if fr[i] > 0] or list(order)
        for i in order[:rest]:
            counts[i] += 1
    return counts


def split_sizes(n: int, *, fractions: Fractions = (0.8, 0.1, 0.1)) -> dict[str, int]:
    """How many of ``n`` items each split gets (the same rounding every splitter here uses)."""
    names, fr = _fractions(fractions)
    return dict(zip(names, (int(c) for c in _allocate(_count(n, what="n"), fr))))


def _result(names: tuple[str, ...], parts: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.sort(np.asarray(p, dtype=np.int64)) for name, p in zip(names, parts)}


def _cut(order: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [order[bounds[i]:bounds[i + 1]] for i in range(len(counts))]


# --------------------------------------------------------------------------------------------------
def random_split(n_or_items: Any, *, fractions: Fractions = (0.8, 0.1, 0.1), seed: int = 0) -> dict[str, np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it by ``fractions``.

    Args:
        n_or_items: the number of items, or the items themselves (only their count is used).
        fractions: see the module docstring.
        seed: the random seed.
    Returns:
        ``{name: sorted indices}``.
    Raises:
        InputError: bad fractions or count.
    """
    names, fr = _fractions(fractions)
    n = _count(n_or_items, what="n_or_items")
    order = np.random.default_rng(seed).permutation(n)
    return _result(names, _cut(order, _allocate(n, fr)))


def stratified_split(labels: Sequence[Any] | np.ndarray, *, fractions: Fractions = (0.8, 0.1, 0.1),
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Split so that every class keeps (about) the same proportions in every split.

    Each class is allocated ``n_class × fraction`` items per split, rounded jointly so that the split sizes match
    :func:`split_sizes`; then every class with at least as many items as there are (non-zero) splits is moved to
    have one item in each split, which can shift split sizes by a few items. Written by hand because scikit-learn's
    ``StratifiedShuffleSplit`` splits two ways only, refuses classes with a single member and does not guarantee
    that every class reaches every split.

    Args:
        labels: one hashable label per item (ints, strings, …).
        fractions: see the module docstring.
        seed: the random seed.
    Returns:
        ``{name: sorted indices}``.
    Raises:
        InputError: bad fractions, or labels that are not one-dimensional.
    """
    names, fr = _fractions(fractions)
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise InputError(f"labels: expected one label per item (1-D), got shape {lab.shape}")
    n = len(lab)
    if n == 0:
        return _result(names, [np.zeros(0, np.int64)] * len(names))
    _, inv = np.unique(lab, return_inverse=True)
    inv = inv.reshape(-1)
    n_c = np.bincount(inv)
    k = len(fr)
    ideal = n_c[:, None] * fr[None, :]
    alloc = np.floor(ideal + 1e-9).astype(np.int64)
    row_left = n_c - alloc.sum(1)
    col_left = _allocate(n, fr) - alloc.sum(0)
    frac = ideal - alloc
    for flat in np.argsort(-frac, axis=None, kind="stable"):
        c, s = divmod(int(flat), k)
        if frac[c, s] <= 0:
            break
        if row_left[c] > 0 and col_left[s] > 0:
            alloc[c, s] += 1
            row_left[c] -= 1
            col_left[s] -= 1
    for c in np.flatnonzero(row_left > 0):  # rare leftovers: any split that still has room
        for s in range(k):
            take = min(row_left[c], col_left[s])
            alloc[c, s] += take
            row_left[c] -= take
            col_left[s] -= take
    positive = np.flatnonzero(fr > 0)
    for c in range(len(n_c)):
        if n_c[c] < len(positive):
            continue
        for s in positive:
            if alloc[c, s] == 0:
                donor = int(np.argmax(alloc[c]))
                alloc[c, donor] -= 1
                alloc[c, s] += 1
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in range(k)]
    for c in range(len(n_c)):
        members = rng.permutation(np.flatnonzero(inv == c))
        for s, chunk in enumerate(_cut(members, alloc[c])):
            parts[s].append(chunk)
    return _result(names, [np.concatenate(p) for p in parts])


def grouped_split(groups: Sequence[Any] | np.ndarray, *, fractions: Fractions = (0.8, 0.1, 0.1),
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Split so that no group (e.g. all crops of one source photo, one patient, one video) spans two splits.

    Groups are shuffled with ``seed``, then taken largest first, each going to the split furthest below its target
    item count; a split left empty while another holds several groups then takes the smaller one. Written by hand
    because scikit-learn's ``GroupShuffleSplit`` sizes splits by number of *groups*, not of items, and splits two
    ways only.

    Args:
        groups: one hashable group key per item.
        fractions: see the module docstring.
        seed: the random seed.
    Returns:
        ``{name: sorted indices}``; split sizes follow the fractions as closely as whole groups allow.
    Raises:
        InputError: bad fractions, or groups that are not one-dimensional.
    """
    names, fr = _fractions(fractions)
    g = np.asarray(groups)
    if g.ndim != 1:
        raise InputError(f"groups: expected one group key per item (1-D), got shape {g.shape}")
    n = len(g)
    if n == 0:
        return _result(names, [np.zeros(0, np.int64)] * len(names))
    _, inv = np.unique(g, return_inverse=True)
    inv = inv.reshape(-1)
    sizes = np.bincount(inv)
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(len(sizes))
    order = shuffled[np.argsort(-sizes[shuffled], kind="stable")]
    target = n * fr
    positive = np.flatnonzero(fr > 0)
    load = np.zeros(len(fr))
    owner = np.zeros(len(sizes), np.int64)
    for grp in order:
        deficit = target[positive] - load[positive]
        s = int(positive[int(np.argmax(deficit))])
        owner[grp] = s
        load[s] += sizes[grp]
    if len(sizes) >= len(positive):
        for s in positive:
            if not np.any(owner == s):
                counts = np.bincount(owner, minlength=len(fr))
                donors = [d for d in positive if counts[d] > 1]
                donor = max(donors, key=lambda d: (load[d] - target[d], -d))
                members = np.flatnonzero(owner == donor)
                grp = members[np.argmin(sizes[members])]
                owner[grp] = s
                load[donor] -= sizes[grp]
                load[s] += sizes[grp]
    item_split = owner[inv]
    return _result(names, [np.flatnonzero(item_split == s) for s in range(len(fr))])


def ordered_split(n_or_timestamps: Any, *, fractions: Fractions = (0.8, 0.1, 0.1)) -> dict[str, np.ndarray]:
    """Split in time order: every train item comes no later than every val item, and val no later than test.

    Args:
        n_or_timestamps: a count (items are already in time order) or one sortable timestamp per item (numbers,
            ``datetime64``, ISO strings); equal timestamps keep their input order.
        fractions: see the module docstring (the first split is the earliest).
    Returns:
        ``{name: sorted indices}``.
    Raises:
        InputError: bad fractions; timestamps that are not 1-D, contain NaN/NaT, or cannot be sorted.
    """
    names, fr = _fractions(fractions)
    if isinstance(n_or_timestamps, (int, np.integer)) and not isinstance(n_or_timestamps, bool):
        n = _count(n_or_timestamps, what="n_or_timestamps")
        order = np.arange(n)
    else:
        ts = np.asarray(n_or_timestamps)
        if ts.ndim != 1:
            raise InputError(f"n_or_timestamps: expected a count or one timestamp per item (1-D), got shape {ts.shape}")
        if ts.dtype.kind in "fmM" and np.any(np.isnan(ts)):
            raise InputError("n_or_timestamps: expected sortable timestamps, got NaN / NaT")
        try:
            order = np.argsort(ts, kind="stable")
        except TypeError as exc:
            raise InputError(f"n_or_timestamps: expected mutually comparable timestamps, got {ts.dtype} ({exc})") from exc
        n = len(ts)
    return _result(names, _cut(order, _allocate(n, fr)))


def bridge_split(train_items: Any, target_items: Any, *, train_dev: float = 0.1,
                 target_fractions: Fractions = (0.0, 0.5, 0.5), seed: int = 0) -> dict[str, np.ndarray]:
    """Andrew Ng's train / train-dev / dev / test split for when training data differs from the target data.

    ``train_dev`` is carved from the training distribution and measures variance (train → train-dev gap);
    ``dev`` and ``test`` come only from the target distribution and measure data mismatch (train-dev → dev gap).
    Part of the target data can also go into ``train`` (``target_fractions[0]``).

    Indices refer to the concatenation ``list(train_items) + list(target_items)``: index ``i < n_train`` is
    ``train_items[i]``, index ``n_train + j`` is ``target_items[j]``.

    Args:
        train_items: the training-distribution items, or their count (e.g. 200 000 web photos).
        target_items: the target-distribution items, or their count (e.g. 10 000 phone photos).
        train_dev: the fraction of the training-distribution items held out as ``train_dev`` (0 ≤ f < 1).
        target_fractions: ``(train, dev, test)`` fractions of the target items (or a mapping with those keys).
        seed: the random seed.
    Returns:
        ``{"train", "train_dev", "dev", "test": sorted indices}``.
    Raises:
        InputError: bad counts or fractions.
    Example:
        >>> s = bridge_split(1000, 100, train_dev=0.05, target_fractions=(0.5, 0.25, 0.25))
        >>> {k: len(v) for k, v in s.items()}
        {'train': 1000, 'train_dev': 50, 'dev': 25, 'test': 25}
    """
    n_src = _count(train_items, what="train_items")
    n_tgt = _count(target_items, what="target_items")
    if not (isinstance(train_dev, (int, float, np.floating)) and math.isfinite(train_dev) and 0 <= train_dev < 1):
        raise InputError(f"train_dev: expected a fraction in [0, 1), got {train_dev!r}")
    if isinstance(target_fractions, Mapping):
        keys = set(target_fractions)
        if keys != {"train", "dev", "test"}:
            raise InputError(f"target_fractions: expected keys 'train', 'dev', 'test', got {sorted(keys)}")
        target_fractions = tuple(target_fractions[k] for k in ("train", "dev", "test"))
    if isinstance(target_fractions, (str, bytes)) or not isinstance(target_fractions, Sequence) or \
            len(target_fractions) != 3:
        raise InputError(f"target_fractions: expected (train, dev, test), got {target_fractions!r}")
    _, tfr = _fractions(target_fractions, what="target_fractions")
    src = random_split(n_src, fractions={"train": 1 - train_dev, "train_dev": train_dev}, seed=seed)
    tgt = random_split(n_tgt, fractions={"train": tfr[0], "dev": tfr[1], "test": tfr[2]}, seed=seed + 1)
    return {
        "train": np.sort(np.concatenate([src["train"], tgt["train"] + n_src])),
        "train_dev": src["train_dev"],
        "dev": tgt["dev"] + n_src,
        "test": tgt["test"] + n_src,
    }
