"""`vision demo` end to end, and the README's promise of exactly two set-up commands."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from vision.demo import run_demo
from vision.io import read_image

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_runs_every_step_and_writes_a_summary(tmp_path):
    report = run_demo(tmp_path / "demo", scenes=4)
    assert report.ok, [s.error for s in report.steps if s.error]
    names = [s.name for s in report.steps]
    assert any("face" in n for n in names) and any("people" in n for n in names) and any("scenes" in n for n in names)
    summary = report.summary.read_text()
    for step in report.steps:
        assert step.name in summary
    # every image linked from the summary exists and is a real picture
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", summary)
    assert len(links) >= 10
    for link in links:
        img = read_image(report.out_dir / link)
        assert img.shape[0] > 50 and img.std() > 5
    # annotated faces differ from the plain photo where the box is drawn
    plain = read_image(report.out_dir / "io" / "astronaut.png")
    boxed = read_image(report.out_dir / "detect" / "faces_astronaut.png")
    assert plain.shape == boxed.shape and np.abs(plain.astype(int) - boxed).sum() > 0


@pytest.mark.slow
def test_demo_training_step_reaches_90_percent_and_links_its_plots(tmp_path):
    import json

    report = run_demo(tmp_path / "demo", only=["training"])
    assert [s.name for s in report.steps] == ["training (fmnist-cnn on digits)"]
    assert report.ok, report.steps[0].error
    metrics = json.loads((report.out_dir / "training" / "metrics.json").read_text())
    assert metrics["data"] == "digits" and metrics["model"] == "fmnist-cnn"
    accuracy = metrics["test"]["accuracy"]
    assert accuracy > 0.9
    summary = report.summary.read_text()
    assert f"test accuracy {accuracy:.1%}" in summary
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", summary)
    assert links == ["training/curves.png", "training/confusion_matrix.png"]
    for link in links:
        img = read_image(report.out_dir / link)
        assert img.shape[0] > 200 and img.shape[1] > 400 and img.std() > 5
    assert (report.out_dir / "training" / "best.pt").is_file()


@pytest.mark.slow
def test_demo_imagenet_step_writes_top5_table_sheet_and_onnx_check(tmp_path):
    import importlib.util

    from vision.demo import IMAGENET_PHOTOS

    report = run_demo(tmp_path / "demo", only=["ImageNet"])
    assert [s.name for s in report.steps] == ["ImageNet top-5 (efficientnet-lite0)"]
    assert report.ok, report.steps[0].error
    summary = report.summary.read_text()
    rows = [line for line in summary.splitlines() if line.startswith("| ") and line.count("|") == 4]
    assert len(rows) == 1 + len(IMAGENET_PHOTOS)  # header + one row per photo
    assert "| coffee | **espresso** | espresso 0." in summary
    assert all(len(row.split("|")[3].split(",")) == 5 for row in rows[1:])  # five labels each
    if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxruntime") is None:  # extra [onnx]
        assert "ONNX export skipped: onnx / onnxruntime are not installed" in summary
    else:
        assert f"the same top-5 on {len(IMAGENET_PHOTOS)} of {len(IMAGENET_PHOTOS)} photos" in summary
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", summary)
    assert links == ["imagenet_top5.png"]
    sheet = read_image(report.out_dir / links[0])
    assert sheet.shape[0] > 700 and sheet.shape[1] > 1800 and sheet.std() > 20


def test_demo_only_filter_and_failure_is_recorded(tmp_path, monkeypatch):
    from vision import demo

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(demo, "STEPS", (("weights", demo.step_weights), ("broken step", broken)))
    report = run_demo(tmp_path / "d")
    assert [s.ok for s in report.steps] == [True, False]
    assert "RuntimeError: boom" in report.summary.read_text()
    report = run_demo(tmp_path / "d", only=["weights"])
    assert [s.name for s in report.steps] == ["weights"] and report.ok


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)
    assert len(blocks) == 2, f"expected exactly two set-up commands, got {len(blocks)}"
    commands = [b.strip() for b in blocks]
    assert all("\n" not in c for c in commands)
    assert "vision demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci, ".ci/run must run the README's test command"


@pytest.mark.slow
def test_demo_scene_detectors_step_compares_every_shipped_shapes_detector(tmp_path):
    from vision.data.scenes import SHAPE_CLASSES
    from vision.demo import SCENE_DETECT_IMAGES, SCENE_DETECT_SHEET
    from vision.models import create_model
    from vision.models.detection.compare import shipped_detectors

    report = run_demo(tmp_path / "demo", only=["detectors on held-out"])
    assert [s.name for s in report.steps] == ["detectors on held-out scenes"]
    assert report.ok, report.steps[0].error
    summary = report.summary.read_text()
    scene_models = [m for m in shipped_detectors() if create_model(m).names == SHAPE_CLASSES]
    if not scene_models:
        assert "No detector of the scene shapes has its weights here" in summary
        return
    rows = [line for line in summary.splitlines() if line.startswith("| ") and f" | {SCENE_DETECT_IMAGES} | " in line]
    assert [r.split(" | ")[0][2:] for r in rows] == scene_models  # one table row per shipped shapes detector
    assert all(re.search(r"\| \d\.\d{3} \| \d\.\d{3} \|$", r) for r in rows)  # with mAP50 and mAP50-95
    photo_only = ["haar-face", "hog-people"] + (["mtcnn-face"] if importlib.util.find_spec("facenet_pytorch") else [])
    assert f"Not shape detectors, shown on photos above: {', '.join(photo_only)}." in summary
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", summary)
    assert links == ["detect/scenes_compare.png"]
    sheet = read_image(report.out_dir / links[0])
    # SCENE_DETECT_SHEET rows of 256 px cells, ground truth + one column per detector, 4 px gaps
    assert sheet.shape == (SCENE_DETECT_SHEET * 256 + (SCENE_DETECT_SHEET + 1) * 4,
                           (len(scene_models) + 1) * 256 + (len(scene_models) + 2) * 4, 3)


def test_demo_segmentation_step_scores_the_shipped_fcn_and_mask_rcnn(tmp_path):
    report = run_demo(tmp_path / "demo", only=["segmentation (FCN"])
    assert [s.name for s in report.steps] == ["segmentation (FCN semantic, Mask R-CNN instance, held-out scenes)"]
    assert report.ok, report.steps[0].error
    summary = (tmp_path / "demo" / "summary.md").read_text()
    miou = float(re.search(r"\*\*mIoU (\d\.\d{3})\*\*", summary).group(1))
    assert 0.3 < miou <= 1.0 and "| **mean** |" in summary
    mask_ap = float(re.search(r"\*\*mask AP@0\.5 (\d\.\d{3})\*\*", summary).group(1))
    assert 0.5 < mask_ap <= 1.0
    sheet = read_image(tmp_path / "demo" / "segment" / "segmentation_scenes.png")
    assert sheet.shape[1] > 5 * 256 and sheet.std() > 10  # a real 5-column sheet, not a blank image


def test_demo_generative_step_beats_the_classic_denoiser(tmp_path):
    report = run_demo(tmp_path / "demo", only=["generative"])
    assert [s.name for s in report.steps] == ["generative (Fashion-MNIST GANs, denoising autoencoder)"]
    assert report.ok, report.steps[0].error
    summary = (tmp_path / "demo" / "summary.md").read_text()
    classic = float(re.search(r"nl_means (\d+\.\d+) dB", summary).group(1))
    learned = float(re.search(r"\*\*dae (\d+\.\d+) dB\*\*", summary).group(1))
    assert learned > classic  # measured 22.0 vs 20.0 dB on Fashion-MNIST
    for name, cells in (("dcgan_samples", 64), ("cgan_by_class", 80), ("denoise_before_after", 32)):
        sheet = read_image(tmp_path / "demo" / "generate" / f"{name}.png")
        assert sheet.std() > 20 and sheet.shape[0] * sheet.shape[1] >= cells * 28 * 28
