"""vision.train.demos.train_digits: fmnist-cnn on scikit-learn's digits in seconds, with a per-epoch callback."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vision.errors import InputError
from vision.train.demos import DigitsRun, train_digits

LOG_KEYS = {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}


def test_three_epochs_learn_the_digits_and_report_every_epoch():
    seen: list[tuple[int, dict]] = []
    run = train_digits(epochs=3, on_epoch_end=lambda epoch, logs: seen.append((epoch, logs)))
    assert isinstance(run, DigitsRun)
    assert [epoch for epoch, _ in seen] == [1, 2, 3]
    assert all(set(logs) == LOG_KEYS and all(math.isfinite(v) for v in logs.values()) for _, logs in seen)
    # the callback saw exactly what the history holds
    for key in LOG_KEYS:
        assert run.history[key] == pytest.approx([logs[key] for _, logs in seen])
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert run.accuracy > 0.9  # 10 classes: chance is 0.1
    # the report is the test split's confusion matrix: 20 % of the 1797 digits, every class present
    assert run.names == tuple(str(i) for i in range(10))
    assert run.confusion.shape == (10, 10) and run.confusion.sum() == run.test_images
    assert run.train_images + run.val_images + run.test_images == 1797
    assert run.test_images == pytest.approx(0.2 * 1797, abs=5) and run.val_images == pytest.approx(0.1 * 1438, abs=5)
    assert (run.confusion.sum(axis=1) >= 30).all()
    assert run.accuracy == pytest.approx(np.trace(run.confusion) / run.test_images)
    assert 0 < run.macro_f1 <= 1 and run.seconds > 0
    assert not run.model.training


def test_same_seed_same_run_other_seed_other_split():
    a, b = train_digits(epochs=1, seed=3), train_digits(epochs=1, seed=3)
    assert a.history == b.history and a.accuracy == b.accuracy
    np.testing.assert_array_equal(a.confusion, b.confusion)
    c = train_digits(epochs=1, seed=4)
    assert c.history != a.history


@pytest.mark.parametrize(("options", "match"), [
    ({"epochs": 0}, "epochs must be an integer in"),
    ({"epochs": 2.0}, "epochs must be an integer in"),
    ({"epochs": True}, "epochs must be an integer in"),
    ({"lr": 0}, r"lr must be a number in \(0, 1\]"),
    ({"lr": float("nan")}, "lr must be a number"),
    ({"lr": "0.01"}, "lr must be a number"),
    ({"batch_size": 0}, "batch_size must be an integer"),
    ({"test_fraction": 0.5}, r"test_fraction must be a number in \(0, 0.5\)"),
    ({"val_fraction": 0}, "val_fraction must be a number"),
    ({"seed": -1}, "seed must be an integer"),
    ({"on_epoch_end": "print"}, "on_epoch_end must be callable"),
])
def test_bad_arguments_are_refused_before_training(options, match):
    called = []
    kwargs = {"on_epoch_end": lambda epoch, logs: called.append(epoch), **options}
    with pytest.raises(InputError, match=match) as info:
        train_digits(**kwargs)
    assert repr(next(iter(options.values())))[:6] in str(info.value)  # the message says what it got
    assert not called
