"""apps/pages/2_Classic_ops.py through Streamlit's AppTest, checked against the library's own answers."""

from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pytest
from app_support import APPS, CLASSIC_PAGE, assert_clean, run_app

from vision.classic import apply_op, get_op, list_ops
from vision.classic.ops import CATEGORIES
from vision.classic.pipeline import Pipeline, list_examples
from vision.classic.quality import psnr, ssim
from vision.data.photos import load_sample
from vision.errors import VisionError

WIDGET_TYPES = ("slider", "number_input", "checkbox", "selectbox", "text_input", "select_slider")


@pytest.fixture(scope="module")
def op_controls():
    """apps/op_controls.py, imported the way the page imports it (apps/ on sys.path)."""
    sys.path.insert(0, str(APPS))
    try:
        return importlib.import_module("op_controls")
    finally:
        sys.path.remove(str(APPS))


def widget_keys(at) -> set[str]:
    return {w.key for kind in WIDGET_TYPES for w in getattr(at.sidebar, kind) if w.key}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def output_url(at) -> str:
    """The media URL of the output picture: Streamlit names it by a hash of its bytes."""
    assert len(at.image) >= 2, [i.captions for i in at.image]
    return at.image[1].value[0]


def shrunk(sample: str, side: int) -> np.ndarray:
    """The photo as the page shrinks it to the working size (area interpolation, longest side = side)."""
    image = load_sample(sample)
    factor = side / max(image.shape[:2])
    return image if factor >= 1 else apply_op("scale", image, fx=factor, fy=factor, interpolation="area").image


def choose(at, op: str):
    """Select ``op`` in the sidebar (its category first)."""
    category = get_op(op).category
    if at.selectbox(key="classic.category").value != category:
        at.selectbox(key="classic.category").set_value(category).run()
    at.selectbox(key=f"classic.op.{category}").set_value(op).run()
    return at


# ------------------------------------------------------------------------------------------------ pure helpers
def test_slider_step_fits_the_range_and_reaches_low_and_default(op_controls):
    step = op_controls.slider_step
    assert step(0.1, 20.0, 1.5) == pytest.approx(0.1)
    assert step(0.0, 1.0, 0.33) == pytest.approx(0.01)
    assert step(0.0001, 1.0, 0.01) == pytest.approx(0.0001)
    assert step(0.0, 1000.0, 100.0) == pytest.approx(1.0)
    for spec in map(get_op, list_ops()):  # every float slider of the registry can show its default exactly
        for p in spec.params:
            if p.kind == "float" and p.low is not None and p.high is not None and p.low < p.high:
                s = step(p.low, p.high, p.default)
                assert 0 < s <= (p.high - p.low) / 50, (spec.name, p.name, s)
                assert abs(round((p.default - p.low) / s) * s + p.low - p.default) < 1e-9, (spec.name, p.name)


def test_value_text_round_trips_through_param_parse(op_controls):
    for spec in map(get_op, list_ops()):
        for p in spec.params:
            if p.kind == "value":
                assert p.parse(op_controls.value_text(p.default)) == (
                    None if p.default is None else json.loads(json.dumps(p.default)))
    assert op_controls.value_text(None) == "" and op_controls.value_text((1, 2)) == "[1, 2]"


# ------------------------------------------------------------------------------------------------ the page
def test_default_page_runs_canny_on_the_astronaut():
    at = run_app(CLASSIC_PAGE)
    assert_clean(at)
    assert at.title[0].value == "Classic ops"
    categories = at.selectbox(key="classic.category")
    assert categories.value == "edges"
    assert categories.options == [c for c in CATEGORIES if list_ops(c)]
    assert at.selectbox(key="classic.op.edges").value == "canny"
    spec = get_op("canny")
    assert {f"classic.canny.{p.name}" for p in spec.params} <= widget_keys(at)
    assert at.slider(key="classic.canny.low").value == 100.0
    assert at.selectbox(key="classic.canny.aperture").value == 3
    assert at.checkbox(key="classic.canny.auto").value is False
    # the output is the library's answer on the 512×512 photo
    edges = apply_op("canny", load_sample("astronaut"))
    assert metrics(at)["White (True) pixels"] == f"{100 * edges.mean():.2f} %"
    assert at.image[0].captions[0] == "Before: 512×512 RGB uint8"
    assert at.image[1].captions[0].startswith("After canny: 512×512 mask bool")
    assert at.image[1].value[0].endswith(".png")  # exact pixels, not JPEG
    assert at.get("download_button")[0].proto.label == "Download output PNG"
    shown = json.loads(at.json[0].value)
    assert shown["op"] == "canny" and shown["result"] == {"kind": "image", "shape": [512, 512], "dtype": "bool"}


def test_changing_canny_low_changes_the_output():
    at = run_app(CLASSIC_PAGE)
    first = output_url(at)
    at.slider(key="classic.canny.low").set_value(20.0).run()
    assert_clean(at)
    edges = apply_op("canny", load_sample("astronaut"), low=20.0)
    assert edges.mean() > apply_op("canny", load_sample("astronaut")).mean()  # the option matters on this photo
    assert metrics(at)["White (True) pixels"] == f"{100 * edges.mean():.2f} %"
    assert output_url(at) != first
    at.slider(key="classic.canny.low").set_value(100.0).run()
    assert output_url(at) == first  # same setting, same picture


def test_reset_puts_every_parameter_back_to_its_default():
    at = run_app(CLASSIC_PAGE)
    at.slider(key="classic.canny.low").set_value(20.0)
    at.checkbox(key="classic.canny.l2_gradient").check()
    at.selectbox(key="classic.canny.aperture").set_value(5).run()
    assert at.slider(key="classic.canny.low").value == 20.0
    at.button(key="classic.reset").click().run()
    assert_clean(at)
    assert at.slider(key="classic.canny.low").value == 100.0
    assert at.checkbox(key="classic.canny.l2_gradient").value is False
    assert at.selectbox(key="classic.canny.aperture").value == 3


def test_switching_ops_does_not_carry_values_over():
    at = choose(run_app(CLASSIC_PAGE, **{"classic.work_size": 128}), "hough_lines")
    at.slider(key="classic.hough_lines.canny_low").set_value(10.0).run()
    assert_clean(at)
    at.selectbox(key="classic.op.hough").set_value("hough_segments").run()
    assert_clean(at)
    assert at.slider(key="classic.hough_segments.canny_low").value == 50.0
    assert not any(k.startswith("classic.hough_lines.") for k in widget_keys(at))


def test_every_op_renders_with_its_defaults():
    """Each registered op, defaults only, on the 128-px astronaut: the library's answer or its own error message."""
    at = run_app(CLASSIC_PAGE, **{"classic.work_size": 128})
    photo = shrunk("astronaut", 128)
    failing, seen = {}, set()
    for category in at.selectbox(key="classic.category").options:
        at.selectbox(key="classic.category").set_value(category).run()
        ops = list_ops(category)
        assert at.selectbox(key=f"classic.op.{category}").options == [f"{n} — {get_op(n).summary}" for n in ops]
        for op in ops:
            at.selectbox(key=f"classic.op.{category}").set_value(op).run()
            assert not at.exception, (op, [e.value for e in at.exception])
            seen.add(op)
            keys = widget_keys(at)
            assert {f"classic.{op}.{p.name}" for p in get_op(op).params} <= keys, op  # a control for every one
            feed = at.selectbox(key=f"classic.{op}.__feed__").value
            data = {"image": lambda: photo, "mask": lambda: apply_op("threshold_otsu", photo),
                    "noisy": lambda: apply_op("add_gaussian_noise", photo, sigma=20.0),
                    "blurred": lambda: apply_op("blur_psf", photo)}[feed]()
            try:
                want = Pipeline([(op, {})]).run(data)
            except VisionError as exc:
                failing[op] = str(exc)
                assert len(at.error) == 1 and str(exc) in at.error[0].value, (op, [e.value for e in at.error])
                continue
            assert not at.error, (op, [e.value for e in at.error])
            assert at.image[1].captions[0].startswith(f"After {op}: "), op
            h, w = want.output_image.shape[:2]
            assert f"{w}×{h}" in at.image[1].captions[0], (op, at.image[1].captions[0])
    assert seen == set(list_ops())
    # mask-only ops get an Otsu mask by default, so they run too; only the page finder has no page to find
    assert set(failing) <= {"document_scan"}, failing


def test_mask_ops_are_fed_the_otsu_mask_and_count_the_coins():
    at = choose(run_app(CLASSIC_PAGE, **{"vision_app.sample": "coins"}), "connected_components")
    assert_clean(at)
    assert at.selectbox(key="classic.connected_components.__feed__").value == "mask"
    want = apply_op("connected_components", apply_op("threshold_otsu", load_sample("coins")))
    assert metrics(at)["Found"] == f"{len(want)} regions"
    assert json.loads(at.json[0].value)["result"]["areas"] == want.areas.tolist()
    assert at.image[0].captions[0] == "Before: its Otsu mask (bright = True), 384×303 mask bool"
    # the photo itself is refused with the library's message, not a traceback
    at.selectbox(key="classic.connected_components.__feed__").set_value("image").run()
    assert not at.exception and len(at.error) == 1 and "binary mask" in at.error[0].value
    assert len(at.image) == 0 or all(not c.startswith("After") for i in at.image for c in i.captions)


def test_psnr_and_ssim_compare_output_with_input():
    at = choose(run_app(CLASSIC_PAGE, **{"classic.work_size": 256}), "add_gaussian_noise")
    assert_clean(at)
    before = shrunk("astronaut", 256)
    after = apply_op("add_gaussian_noise", before)
    shown = metrics(at)
    assert shown["PSNR vs input"] == f"{psnr(before, after):.2f} dB"
    assert shown["SSIM vs input"] == f"{ssim(before, after):.4f}"
    assert 15 < psnr(before, after) < 30
    # an op giving a gray map from an RGB photo has nothing to compare with
    at = choose(at, "sobel")
    assert_clean(at)
    assert not any(k.startswith(("PSNR", "SSIM")) for k in metrics(at))


@pytest.mark.parametrize("op, feed, degrade", [
    ("median_blur", "noisy", lambda im: apply_op("add_gaussian_noise", im, sigma=20.0)),
    ("wiener", "blurred", lambda im: apply_op("blur_psf", im)),
])
def test_repair_ops_get_a_degraded_photo_and_are_scored_against_the_clean_one(op, feed, degrade):
    at = choose(run_app(CLASSIC_PAGE, **{"classic.work_size": 256}), op)
    assert_clean(at)
    assert at.selectbox(key=f"classic.{op}.__feed__").value == feed
    clean = shrunk("astronaut", 256)
    degraded = degrade(clean)
    repaired = apply_op(op, degraded)
    gain = psnr(clean, repaired) - psnr(clean, degraded)
    assert gain > 0.5  # the op does repair this photo, so the delta shown is a real gain
    shown = {m.label: m for m in at.metric}
    assert shown["PSNR vs clean photo"].value == f"{psnr(clean, repaired):.2f} dB"
    assert shown["PSNR vs clean photo"].proto.delta == f"{gain:+.2f} dB"
    assert shown["SSIM vs clean photo"].value == f"{ssim(clean, repaired):.4f}"
    assert at.image[0].captions[0].startswith("Before: the photo")


def test_float_output_is_shown_scaled_and_downloadable_exactly():
    at = choose(run_app(CLASSIC_PAGE, **{"classic.work_size": 128}), "convolve2d")
    assert_clean(at)
    assert at.text_input(key="classic.convolve2d.kernel").value == "sobel_x"
    assert at.selectbox(key="classic.convolve2d.output").value == "float32"
    caption = at.image[1].captions[0]
    assert "float32" in caption and "scaled to 0–255" in caption
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:2] == ["Download output PNG", "Download exact float32 values (.npy)"]


def test_bad_yaml_in_a_value_parameter_shows_the_error_and_does_not_run():
    at = choose(run_app(CLASSIC_PAGE, **{"classic.work_size": 128}), "perspective")
    assert_clean(at)
    at.text_input(key="classic.perspective.src").input("[[0, 0], [10, 0").run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("src: --src: could not read")
    assert "did not run" in at.info[0].value
    assert not any(c.startswith("After") for i in at.image for c in i.captions)
    # readable YAML the op refuses: the op's own message
    at.text_input(key="classic.perspective.src").input("[[0, 0], [10, 0]]").run()
    assert not at.exception and len(at.error) == 1 and at.error[0].value.startswith("perspective could not run")
    # four good point pairs: the warp runs and shows its matrix
    at.text_input(key="classic.perspective.src").input("[[0, 0], [127, 0], [127, 127], [0, 127]]")
    at.text_input(key="classic.perspective.dst").input("[[10, 0], [117, 0], [127, 127], [0, 127]]").run()
    assert_clean(at)
    result = json.loads(at.json[0].value)["result"]
    assert result["kind"] == "warp" and len(result["matrix"]) == 3


@pytest.mark.skipif("coin_count" not in list_examples(), reason="the coin_count example pipeline is not shipped")
def test_example_pipeline_counts_the_coins():
    at = run_app(CLASSIC_PAGE, **{"vision_app.sample": "coins"})
    at.selectbox(key="classic.pipeline").set_value("coin_count").run()
    assert_clean(at)
    want = Pipeline.example("coin_count").run(load_sample("coins"))
    table = at.dataframe[0].value
    assert list(table["op"]) == [s.op for s in Pipeline.example("coin_count").steps]
    assert table["result"].iloc[-1] == f"{want.steps[-1].result.count} regions"
    assert at.image[-1].captions[0] == "After coin_count: 384×303 RGB uint8"
