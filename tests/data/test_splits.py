"""Splits: exact partitions, determinism, strata / groups / order respected, fraction validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vision.data.splits import (
    bridge_split,
    grouped_split,
    ordered_split,
    random_split,
    split_sizes,
    stratified_split,
)
from vision.errors import InputError

FRACTIONS = st.sampled_from([
    (1.0,), (0.5, 0.5), (0.8, 0.2), (0.8, 0.1, 0.1), (0.6, 0.2, 0.2), (0.34, 0.33, 0.33), (0.9, 0.0, 0.1),
    {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}, {"train": 0.7, "holdout": 0.3},
])
FAST = settings(max_examples=60, deadline=None)


def _assert_partition(splits: dict[str, np.ndarray], n: int, fractions) -> None:
    names = list(fractions) if isinstance(fractions, dict) else ["train", "val", "test"][:len(fractions)]
    assert list(splits) == names
    allidx = np.concatenate(list(splits.values()))
    assert allidx.dtype == np.int64
    assert np.array_equal(np.sort(allidx), np.arange(n))  # every index exactly once
    for v in splits.values():
        assert np.all(np.diff(v) > 0)  # sorted, no repeats


@FAST
@given(n=st.integers(0, 300), fractions=FRACTIONS, seed=st.integers(0, 2**31))
def test_random_split_partitions_with_rounded_sizes(n, fractions, seed):
    s = random_split(n, fractions=fractions, seed=seed)
    _assert_partition(s, n, fractions)
    assert {k: len(v) for k, v in s.items()} == split_sizes(n, fractions=fractions)
    fr = np.asarray(list(fractions.values()) if isinstance(fractions, dict) else fractions)
    assert np.all(np.abs(np.array([len(v) for v in s.values()]) - n * fr) < 1 + 1e-9)
    assert all(np.array_equal(a, b) for a, b in zip(s.values(), random_split(n, fractions=fractions, seed=seed).values()))


@FAST
@given(labels=st.lists(st.integers(0, 5), min_size=0, max_size=200), fractions=FRACTIONS, seed=st.integers(0, 1000))
def test_stratified_split_keeps_every_class_everywhere_it_can(labels, fractions, seed):
    lab = np.asarray(labels, dtype=np.int64)
    s = stratified_split(lab, fractions=fractions, seed=seed)
    _assert_partition(s, len(lab), fractions)
    fr = np.asarray(list(fractions.values()) if isinstance(fractions, dict) else fractions)
    positive = [name for name, f in zip(s, fr) if f > 0]
    zero = [name for name, f in zip(s, fr) if f == 0]
    for c, n_c in zip(*np.unique(lab, return_counts=True)):
        per_split = {k: int(np.sum(lab[v] == c)) for k, v in s.items()}
        if n_c >= len(positive):
            assert all(per_split[k] >= 1 for k in positive), (c, n_c, per_split)
        for k, f in zip(s, fr):  # proportions kept within rounding (+1 for the presence repair)
            assert abs(per_split[k] - n_c * f) <= 2, (c, n_c, per_split)
        assert all(per_split[k] == 0 for k in zero)


def test_stratified_split_proportions_on_an_imbalanced_set():
    lab = np.array([0] * 800 + [1] * 150 + [2] * 50)
    s = stratified_split(lab, seed=3)
    for name, f in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        counts = np.bincount(lab[s[name]], minlength=3)
        np.testing.assert_allclose(counts, np.array([800, 150, 50]) * f, atol=1)
    strings = stratified_split(np.array(["cat"] * 10 + ["dog"] * 5), fractions=(0.6, 0.4), seed=0)
    assert {k: len(v) for k, v in strings.items()} == {"train": 9, "val": 6}


@FAST
@given(sizes=st.lists(st.integers(1, 30), min_size=1, max_size=40), fractions=FRACTIONS, seed=st.integers(0, 1000))
def test_grouped_split_never_splits_a_group(sizes, fractions, seed):
    groups = np.repeat([f"photo{i}" for i in range(len(sizes))], sizes)
    rng = np.random.default_rng(seed)
    groups = groups[rng.permutation(len(groups))]
    s = grouped_split(groups, fractions=fractions, seed=seed)
    _assert_partition(s, len(groups), fractions)
    owners = {}
    for name, idx in s.items():
        for g in set(groups[idx]):
            assert owners.setdefault(g, name) == name  # no group in two splits
    fr = np.asarray(list(fractions.values()) if isinstance(fractions, dict) else fractions)
    positive = [name for name, f in zip(s, fr) if f > 0]
    if len(sizes) >= len(positive):
        assert all(len(s[k]) > 0 for k in positive)
    assert all(len(s[k]) == 0 for k, f in zip(s, fr) if f == 0)


def test_grouped_split_sizes_follow_item_counts():
    groups = np.repeat(np.arange(100), 10)  # 100 equal groups of 10
    s = grouped_split(groups, seed=0)
    assert {k: len(v) for k, v in s.items()} == {"train": 800, "val": 100, "test": 100}


@FAST
@given(ts=st.lists(st.integers(-1000, 1000), min_size=0, max_size=200), fractions=FRACTIONS)
def test_ordered_split_is_time_ordered(ts, fractions):
    t = np.asarray(ts, dtype=np.int64)
    s = ordered_split(t, fractions=fractions)
    _assert_partition(s, len(t), fractions)
    nonempty = [v for v in s.values() if len(v)]
    for earlier, later in zip(nonempty, nonempty[1:]):
        assert t[earlier].max() <= t[later].min()
    assert {k: len(v) for k, v in s.items()} == split_sizes(len(t), fractions=fractions)


def test_ordered_split_with_count_and_dates():
    assert {k: v.tolist() for k, v in ordered_split(5, fractions=(0.6, 0.2, 0.2)).items()} == {
        "train": [0, 1, 2], "val": [3], "test": [4]}
    dates = np.array(["2023-05-01", "2021-01-01", "2022-07-15", "2020-03-03"], dtype="datetime64[D]")
    assert ordered_split(dates, fractions=(0.5, 0.5))["val"].tolist() == [0, 2]
    with pytest.raises(InputError, match="NaN"):
        ordered_split(np.array([1.0, np.nan]))
    with pytest.raises(InputError, match="1-D"):
        ordered_split(np.zeros((2, 2)))


@FAST
@given(n_src=st.integers(0, 200), n_tgt=st.integers(0, 100), train_dev=st.sampled_from([0.0, 0.05, 0.2]),
       tf=st.sampled_from([(0.0, 0.5, 0.5), (0.5, 0.25, 0.25), (0.2, 0.4, 0.4)]), seed=st.integers(0, 100))
def test_bridge_split_keeps_distributions_apart(n_src, n_tgt, train_dev, tf, seed):
    s = bridge_split(n_src, n_tgt, train_dev=train_dev, target_fractions=tf, seed=seed)
    assert list(s) == ["train", "train_dev", "dev", "test"]
    assert np.array_equal(np.sort(np.concatenate(list(s.values()))), np.arange(n_src + n_tgt))
    assert np.all(s["train_dev"] < n_src)  # train-dev: training distribution only
    assert np.all(s["dev"] >= n_src) and np.all(s["test"] >= n_src)  # dev / test: target distribution only
    assert np.sum(s["train"] < n_src) == n_src - len(s["train_dev"])
    assert abs(len(s["train_dev"]) - n_src * train_dev) < 1


def test_bridge_split_accepts_items_and_a_mapping():
    web, phone = [f"web{i}" for i in range(40)], [f"phone{i}" for i in range(10)]
    s = bridge_split(web, phone, train_dev=0.1, target_fractions={"train": 0.2, "dev": 0.4, "test": 0.4})
    items = web + phone
    assert {k: len(v) for k, v in s.items()} == {"train": 38, "train_dev": 4, "dev": 4, "test": 4}
    assert all(items[i].startswith("phone") for i in s["dev"])
    with pytest.raises(InputError, match="train_dev"):
        bridge_split(10, 10, train_dev=1.0)
    with pytest.raises(InputError, match="keys 'train', 'dev', 'test'"):
        bridge_split(10, 10, target_fractions={"dev": 0.5, "test": 0.5})
    with pytest.raises(InputError, match=r"\(train, dev, test\)"):
        bridge_split(10, 10, target_fractions=(0.5, 0.5))


def test_seeds_change_the_split_and_are_reproducible():
    a, b = random_split(100, seed=0), random_split(100, seed=1)
    assert not np.array_equal(a["val"], b["val"])
    assert np.array_equal(stratified_split([0, 1] * 50, seed=5)["val"], stratified_split([0, 1] * 50, seed=5)["val"])
    assert np.array_equal(grouped_split(np.arange(100) // 5, seed=2)["test"],
                          grouped_split(np.arange(100) // 5, seed=2)["test"])


@pytest.mark.parametrize("fractions, match", [
    ((0.8, 0.3), "summing to 1"),
    ((0.5, 0.6, -0.1), "≥ 0"),
    ((float("nan"), 1.0), "finite"),
    ((0.25, 0.25, 0.25, 0.25), "1-3 fractions"),
    ((), "1-3 fractions"),
    ("0.8,0.2", "tuple of 1-3 fractions"),
    ({"a": 0.5, "": 0.5}, "non-empty"),
    (("a", "b"), "numbers"),
])
@pytest.mark.parametrize("func", [random_split, stratified_split, grouped_split, ordered_split])
def test_bad_fractions(func, fractions, match):
    with pytest.raises(InputError, match=match):
        func([0, 1, 0, 1], fractions=fractions)


def test_fractions_within_tolerance_and_bad_counts():
    assert len(random_split(10, fractions=(0.7, 0.2, 0.1 + 5e-7))["test"]) == 1
    with pytest.raises(InputError, match="count ≥ 0"):
        random_split(-1)
    with pytest.raises(InputError, match="sized collection"):
        random_split(3.5)
    with pytest.raises(InputError, match="1-D"):
        stratified_split(np.zeros((2, 2)))
    with pytest.raises(InputError, match="1-D"):
        grouped_split(np.zeros((2, 2)))
