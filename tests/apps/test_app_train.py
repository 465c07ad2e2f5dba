"""apps/pages/5_Train.py through Streamlit's AppTest: short runs of the library's trainers, shown on the page."""

from __future__ import annotations

import math

from app_support import SLOW_TIMEOUT, TRAIN_PAGE, assert_clean, run_app


def test_detector_run_trains_on_the_chosen_scenes_and_shows_held_out_predictions():
    at = run_app(TRAIN_PAGE)
    assert_clean(at)
    assert at.radio(key="train.kind").value == "Detector on synthetic scenes"
    assert at.slider(key="train.scenes").value == 16 and at.slider(key="train.det_epochs").value == 1
    assert not at.metric  # nothing trained yet
    at.slider(key="train.scenes").set_value(8).run()
    at.button(key="train.run").click().run(timeout=SLOW_TIMEOUT)
    assert_clean(at)
    metric = at.metric[0]
    assert metric.label.startswith("faster-rcnn-lite0, 1 epoch on 8 scenes") and metric.label.endswith("val mAP50")
    assert 0 <= float(metric.value) <= 1
    epochs = at.dataframe[0].value
    assert list(epochs.index) == [1] and {"loss", "val_loss", "val_map50"} <= set(epochs.columns)
    assert math.isfinite(epochs["loss"].iloc[0])
    # 8 scenes in batches of 4: two loss points on the per-batch curve
    assert any(c.value == "Training loss per batch" for c in at.caption)
    assert len(at.image) == 4  # two held-out scenes: ground truth and the trained detector's boxes
    assert at.image[1].captions[0] == "held-out scene: the trained detector (scores ≥ 0.25)"
    # the run stays on the page while another widget changes
    at.slider(key="train.det_epochs").set_value(2).run()
    assert at.metric[0].label == metric.label


def test_classifier_run_matches_the_library():
    from vision.train.demos import train_digits

    at = run_app(TRAIN_PAGE, **{"train.kind": "Classifier on digits"})
    at.slider(key="train.clf_epochs").set_value(1).run()
    at.button(key="train.run").click().run(timeout=SLOW_TIMEOUT)
    assert_clean(at)
    want = train_digits(epochs=1, lr=3e-3)  # seeded: the same run
    assert at.metric[0].label == "fmnist-cnn, 1 epoch on digits, peak lr 0.003 — test accuracy"
    assert at.metric[0].value == f"{want.accuracy:.1%}"
    assert at.dataframe[0].value["loss"].iloc[0] == round(want.history["loss"][0], 4)
