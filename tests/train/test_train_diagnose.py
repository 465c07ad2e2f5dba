"""Tests for vision.train.diagnose: the textbook bias / variance / mismatch cases, output formats, the plot."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vision.errors import InputError
from vision.train.diagnose import Diagnosis, diagnose


def test_high_variance_1_11():
    d = diagnose(train_error=0.01, dev_error=0.11)
    assert d.names == ["high variance"]
    assert d.gaps["variance"] == pytest.approx(0.10)
    assert d.gaps["data_mismatch"] is None and d.gaps["dev_overfit"] is None
    assert "more training data" in d.verdicts[0].next_step and "regularization" in d.verdicts[0].next_step


def test_high_bias_15_16_human_1():
    d = diagnose(train_error=0.15, dev_error=0.16, human_error=0.01)
    assert d.names == ["high bias"]
    assert d.gaps["avoidable_bias"] == pytest.approx(0.14)
    assert d.gaps["variance"] == pytest.approx(0.01)
    assert "bigger model" in d.verdicts[0].next_step and "longer" in d.verdicts[0].next_step


def test_high_bias_and_high_variance_15_30():
    d = diagnose(train_error=0.15, dev_error=0.30, human_error=0.0)
    assert d.names == ["high bias", "high variance"]  # bias first: fix it first


def test_low_bias_low_variance_is_good():
    d = diagnose(train_error=0.005, dev_error=0.01)
    assert d.names == ["good"]


def test_same_errors_with_high_human_level_is_not_bias():
    # 15 % / 16 % is fine when humans get 14 % (e.g. blurry images)
    assert diagnose(train_error=0.15, dev_error=0.16, human_error=0.14).names == ["good"]


def test_data_mismatch_1_15_10():
    d = diagnose(train_error=0.01, train_dev_error=0.015, dev_error=0.10)
    assert d.names == ["data mismatch"]
    assert d.gaps["variance"] == pytest.approx(0.005)
    assert d.gaps["data_mismatch"] == pytest.approx(0.085)
    assert "add target" in d.verdicts[0].next_step and "more like the target" in d.verdicts[0].next_step


def test_variance_with_train_dev_1_9_10():
    d = diagnose(train_error=0.01, train_dev_error=0.09, dev_error=0.10)
    assert d.names == ["high variance"]
    assert d.gaps["variance"] == pytest.approx(0.08)


def test_bias_and_mismatch_10_11_20():
    d = diagnose(train_error=0.10, train_dev_error=0.11, dev_error=0.20, human_error=0.0)
    assert d.names == ["high bias", "data mismatch"]


def test_overfit_to_dev_set():
    d = diagnose(train_error=0.02, dev_error=0.03, test_error=0.08)
    assert d.names == ["overfit to the dev set"]
    assert d.gaps["dev_overfit"] == pytest.approx(0.05)
    assert "bigger dev set" in d.verdicts[0].next_step


def test_tolerance_is_the_threshold():
    assert diagnose(train_error=0.01, dev_error=0.03).names == ["good"]  # gap 0.02 == tolerance
    assert diagnose(train_error=0.01, dev_error=0.03, tolerance=0.01).names == ["high variance"]
    assert diagnose(train_error=0.01, dev_error=0.0301).names == ["high variance"]


def test_notes_for_odd_orderings():
    d = diagnose(train_error=0.01, dev_error=0.02, human_error=0.05)
    assert d.names == ["good"]
    assert any("below the human-level" in n for n in d.notes)
    d = diagnose(train_error=0.01, train_dev_error=0.10, dev_error=0.02, test_error=0.02)
    assert any("easier" in n for n in d.notes)
    assert diagnose(train_error=0.01, dev_error=0.02).notes == []


def test_to_text_and_to_dict():
    d = diagnose(train_error=0.01, train_dev_error=0.015, dev_error=0.10, test_error=0.10, human_error=0.005)
    text = d.to_text()
    assert "train 1.0%" in text and "train-dev 1.5%" in text and "dev 10.0%" in text and "test 10.0%" in text
    assert "data mismatch +8.5%" in text and "- data mismatch:" in text and "next:" in text
    out = d.to_dict()
    assert json.loads(json.dumps(out)) == out
    assert list(out["errors"]) == ["human", "train", "train_dev", "dev", "test"]
    assert out["verdicts"][0]["name"] == "data mismatch"
    assert out["gaps"]["dev_overfit"] == pytest.approx(0.0)


def test_plot_writes_png(tmp_path):
    from PIL import Image

    d = diagnose(train_error=0.15, train_dev_error=0.16, dev_error=0.25, test_error=0.27, human_error=0.01)
    path = tmp_path / "plots" / "diagnosis.png"
    fig = d.plot(path)
    assert path.is_file() and list(path.parent.iterdir()) == [path]
    image = np.asarray(Image.open(path).convert("RGB"))
    assert image.shape[0] > 200 and image.shape[1] > 400
    red = (image[..., 0] > 150) & (image[..., 1] < 90) & (image[..., 2] < 90)
    assert red.sum() > 50  # the gaps above tolerance are drawn in red
    assert "high bias" in fig.axes[0].get_title()
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "human (Bayes proxy)", "train", "train-dev", "dev", "test"]


def test_plot_bad_path_writes_nothing(tmp_path):
    d = diagnose(train_error=0.1, dev_error=0.2)
    with pytest.raises(InputError):
        d.plot(tmp_path / "diagnosis.jpg")
    with pytest.raises(InputError):
        d.plot(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert d.plot() is not None  # figure only, nothing written


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"train_error": -0.01}, "train_error"),
        ({"train_error": 11.0}, "train_error"),
        ({"dev_error": float("nan")}, "dev_error"),
        ({"dev_error": "0.1"}, "dev_error"),
        ({"dev_error": True}, "dev_error"),
        ({"test_error": 1.5}, "test_error"),
        ({"train_dev_error": -1}, "train_dev_error"),
        ({"human_error": None}, "human_error"),
        ({"tolerance": 1.0}, "tolerance"),
        ({"tolerance": -0.1}, "tolerance"),
    ],
)
def test_bad_inputs(kwargs, match):
    args = {"train_error": 0.05, "dev_error": 0.1, **kwargs}
    with pytest.raises(InputError, match=match):
        diagnose(**args)


def test_keyword_only_and_result_type():
    with pytest.raises(TypeError):
        diagnose(0.01, 0.1)  # type: ignore[misc]
    assert isinstance(diagnose(train_error=0, dev_error=1), Diagnosis)
