"""apps/pages/3_Classify.py through Streamlit's AppTest: ImageNet top-k of a photo, and training on digits."""

from __future__ import annotations

import functools
import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from app_support import APPS, assert_clean, encode, run_app, truncated
from PIL import Image
from streamlit.testing.v1.element_tree import FileUploader

from vision.data.photos import load_sample
from vision.models.classification import ImageClassifier
from vision.train.demos import train_digits
from vision.types import Classification

CLASSIFY_PAGE = APPS / "pages" / "3_Classify.py"
RUN_KEY = "classify.digits_run"


@functools.cache
def expected(sample: str, top_k: int) -> Classification:
    """What the library itself answers for ``sample``."""
    return _classifier().predict(load_sample(sample), top_k=top_k)


@functools.cache
def _classifier() -> ImageClassifier:
    return ImageClassifier("efficientnet-lite0")


def chart_data(at) -> pd.DataFrame:
    """The rows behind the page's top-k bar chart (Altair sends them as an Arrow dataset beside the spec)."""
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1, f"expected one chart, got {len(charts)}"
    proto = charts[0].proto
    assert len(proto.datasets) == 1
    spec = json.loads(proto.spec)
    assert spec["data"]["name"] == proto.datasets[0].name
    return pa.ipc.open_stream(proto.datasets[0].data.data).read_pandas()


def test_coffee_is_espresso_with_a_sorted_labelled_chart():
    at = run_app(CLASSIFY_PAGE)  # the page's own default photo: coffee
    assert_clean(at)
    assert at.selectbox(key="classify.sample").value == "coffee"
    assert at.slider(key="classify.top_k").value == 5
    want = expected("coffee", 5)
    assert at.subheader[0].value == f"espresso — {float(want.scores[0]):.1%}"
    bars = chart_data(at)
    assert list(bars["label"]) == list(want.labels) and list(bars["rank"]) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(bars["probability"], want.scores, rtol=1e-5)
    assert (np.diff(bars["probability"]) <= 0).all()  # best first
    # the chart orders bars by rank (not alphabetically) and labels them with percentages
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    bar_layer, text_layer = spec["layer"]
    assert bar_layer["encoding"]["y"]["field"] == "label"
    assert bar_layer["encoding"]["y"]["sort"] == {"field": "rank", "order": "ascending"}
    assert spec["height"] == {"step": 30}  # a band per bar: k bars make a k-band chart, labels never squeezed
    assert text_layer["mark"]["type"] == "text" and text_layer["encoding"]["text"]["format"] == ".1%"
    table = at.dataframe[0].value
    assert list(table["label"]) == list(want.labels)
    assert Classification.from_dict(json.loads(at.json[0].value)).labels == want.labels
    assert at.image[0].captions[0].startswith("coffee (600×400)")


def test_top_k_slider_sets_the_number_of_bars_and_rows():
    at = run_app(CLASSIFY_PAGE)
    for k in (1, 10, 3):
        at.slider(key="classify.top_k").set_value(k).run()
        assert_clean(at)
        bars = chart_data(at)
        assert len(bars) == len(at.dataframe[0].value) == k
        assert list(bars["label"]) == list(expected("coffee", k).labels)


def test_a_sample_chosen_on_another_page_wins_over_the_default():
    at = run_app(CLASSIFY_PAGE, **{"vision_app.sample": "chelsea"})
    assert_clean(at)
    assert at.selectbox(key="classify.sample").value == "chelsea"
    assert list(chart_data(at)["label"]) == list(expected("chelsea", 5).labels)
    assert "cat" in at.subheader[0].value


@pytest.mark.skipif(not hasattr(FileUploader, "upload"), reason="this Streamlit's AppTest cannot upload files")
def test_uploads_good_and_bad():
    at = run_app(CLASSIFY_PAGE)
    at.file_uploader(key="classify.upload").set_value(("cat.png", encode(load_sample("chelsea"), "PNG"),
                                                       "image/png")).run()
    assert_clean(at)
    assert "cat.png" in at.image[0].captions[0]
    assert list(chart_data(at)["label"]) == list(expected("chelsea", 5).labels)
    for name, data in (("broken.jpg", b"\xff\xd8\xff\xe0 not really"), ("half.png", truncated("PNG", "coffee"))):
        at.file_uploader(key="classify.upload").set_value((name, data, "image/png")).run()
        assert not at.exception
        assert len(at.error) == 1 and name in at.error[0].value
        assert at.error[0].value.startswith("Could not use the uploaded file")
        assert not at.image and not at.get("vega_lite_chart") and not at.dataframe and not at.subheader
        # the training panel below still works
        assert at.button(key="train.run").proto.label == "Train"


def test_training_one_epoch_shows_accuracy_curves_and_confusion_matrix():
    at = run_app(CLASSIFY_PAGE)
    assert not at.metric and RUN_KEY not in at.session_state  # nothing trains before the button
    assert at.slider(key="train.epochs").value == 3 and at.select_slider(key="train.lr").value == 3e-3
    at.slider(key="train.epochs").set_value(1)
    at.select_slider(key="train.lr").set_value(1e-2)
    at.button(key="train.run").click().run()
    assert_clean(at)
    want = train_digits(epochs=1, lr=1e-2)  # the library's own run with the same settings and seed
    assert [(m.label, m.value) for m in at.metric] == [("Test accuracy", f"{want.accuracy:.1%}")]
    assert any(c.value.startswith("1 epoch at peak lr 0.01 in ") and f"{want.test_images} test images" in c.value
               for c in at.caption)
    captions = [i.captions[0] for i in at.image]
    assert len(captions) == 3 and captions[0].startswith("coffee")
    assert captions[1].startswith("Loss and accuracy per epoch") and captions[2].startswith("Test confusion matrix")
    shown = at.session_state[RUN_KEY]
    for key in ("curves", "confusion"):
        picture = Image.open(io.BytesIO(shown[key]))
        assert picture.format == "PNG" and min(picture.size) >= 300
        assert len(np.unique(np.asarray(picture.convert("RGB")).reshape(-1, 3), axis=0)) > 50  # drawn, not blank
    # the results stay while the other panel changes
    at.slider(key="classify.top_k").set_value(2).run()
    assert_clean(at)
    assert [m.value for m in at.metric] == [f"{want.accuracy:.1%}"] and len(at.image) == 3
