"""``vision demo``: run every capability on shipped samples, write annotated images and ``summary.md``.

Each capability is one step function in ``STEPS``; a failing step is recorded (with its error) and the others
still run. Later capabilities add a step here.
"""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

__all__ = ["DemoStep", "DemoReport", "run_demo", "STEPS"]


@dataclass
class DemoStep:
    """What one step did: outputs written, lines for the summary, time taken, and the error if it failed."""

    name: str
    seconds: float = 0.0
    outputs: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DemoReport:
    out_dir: Path
    steps: list[DemoStep]
    summary: Path

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


@dataclass
class _Context:
    out: Path
    scenes: int
    step: DemoStep

    def save(self, rel: str, image) -> Path:
        from vision.io import write_image

        path = write_image(self.out / rel, image)
        self.step.outputs.append(path)
        return path


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def step_io(ctx: _Context) -> None:
    """Read the shipped photos, write them as PNG atomically, read them back bit-exact."""
    import numpy as np

    from vision.data import load_sample, sample_path
    from vision.io import read_image

    ctx.step.lines.append("| sample | size | source file | PNG round trip |")
    ctx.step.lines.append("|---|---|---|---|")
    for name in ("astronaut", "grace_hopper", "bus", "zidane", "chelsea", "coffee"):
        img = load_sample(name)
        path = ctx.save(f"io/{name}.png", img)
        same = np.array_equal(read_image(path), img)
        if not same:
            raise RuntimeError(f"{path} did not read back identical to what was written")
        src = sample_path(name)
        ctx.step.lines.append(f"| {name} | {img.shape[1]}×{img.shape[0]} | {src.name if src else '(array)'} | identical |")


def step_video(ctx: _Context) -> None:
    """Write a short clip (a camera pan across a photo) with VideoSink, read it back with VideoSource, detect faces."""
    from vision.data import load_sample
    from vision.io import VideoSink, VideoSource
    from vision.models import create_model
    from vision.viz import annotate, tile

    photo = load_sample("astronaut")
    path = ctx.out / "video" / "pan.avi"
    path.parent.mkdir(parents=True, exist_ok=True)
    with VideoSink(path, fps=10.0) as sink:  # 30 frames, 320×320 window sliding right and down
        for k in range(30):
            x = y = round(k * (photo.shape[0] - 320) / 29)
            sink.write(photo[y:y + 320, x:x + 320])
    ctx.step.outputs.append(path)
    faces = create_model("haar-face")
    shown, found, frames, t0 = [], 0, 0, time.perf_counter()
    with VideoSource(path) as source:
        for frame in source:
            det = faces.predict(frame.image)
            frames, found = frames + 1, found + (len(det) > 0)
            if frame.index % 10 == 0:
                shown.append((f"frame {frame.index} t={frame.timestamp:.1f}s", annotate(frame.image, det)))
    fps = frames / (time.perf_counter() - t0)
    ctx.step.lines.append(f"`{path.name}`: {frames} frames written (MJPG) and read back; a face in {found} of them; "
                          f"decode + Haar at {fps:.0f} frames/s")
    ctx.save("video_frames.png", tile([s[1] for s in shown], cols=len(shown), cell=240, captions=[s[0] for s in shown]))


def step_scenes(ctx: _Context) -> None:
    """Generate synthetic scenes (COCO/YOLO/VOC + masks), draw their ground truth, and write the EDA report."""
    from vision.data import make_scenes
    from vision.data.stats import dataset_stats
    from vision.io import read_image
    from vision.viz import annotate, tile

    t0 = time.perf_counter()
    ds = make_scenes(ctx.out / "scenes", n=ctx.scenes, seed=0)
    dt = time.perf_counter() - t0
    objects = sum(len(r.objects) for r in ds.images)
    ctx.step.lines.append(f"{len(ds)} scenes, {objects} objects, classes {', '.join(ds.classes)}; "
                          f"{len(ds) / dt:.1f} scenes/s including COCO, YOLO and VOC export")
    sheet = [annotate(read_image(ds.image_path(i)), ds.detections(i), show_score=False) for i in range(min(12, len(ds)))]
    ctx.save("scenes_ground_truth.png", tile(sheet, cols=4, cell=320))
    stats_dir = ctx.out / "scenes_stats"
    stats = dataset_stats(ds, plots_dir=stats_dir)
    report = stats.write_markdown(stats_dir / "report.md")
    ctx.step.lines.append(f"EDA report: `{report.relative_to(ctx.out)}`")
    ctx.step.outputs += [report, ctx.out / "scenes", *sorted(stats_dir.glob("*.png"))]


def step_weights(ctx: _Context) -> None:
    """List the weights manifest and what is available offline."""
    from vision.weights import get_entry, list_weights

    ctx.step.lines.append("| weights | task | state | detail |")
    ctx.step.lines.append("|---|---|---|---|")
    for w in list_weights():
        e = get_entry(w.name)
        detail = str(w.path) if w.path else (e.builtin or "online only")
        ctx.step.lines.append(f"| {w.name} | {e.task} | {w.state} | {detail} |")


def _detect_step(ctx: _Context, model: str, photos: tuple[str, ...], prefix: str) -> None:
    from vision.data import load_sample
    from vision.models import create_model
    from vision.viz import annotate

    det = create_model(model)
    ctx.step.lines.append(f"model `{model}`: {det!r}")
    ctx.step.lines.append("| photo | found | scores | time |")
    ctx.step.lines.append("|---|---|---|---|")
    for name in photos:
        img = load_sample(name)
        t0 = time.perf_counter()
        result = det.predict(img)
        ms = _ms(t0)
        ctx.save(f"detect/{prefix}_{name}.png", annotate(img, result))
        scores = ", ".join(f"{s:.2f}" for s in result.scores)
        ctx.step.lines.append(f"| {name} | {len(result)} × {result.names[0]} | {scores or '—'} | {ms:.0f} ms |")


def step_faces(ctx: _Context) -> None:
    """Faces on real photos: OpenCV's Haar cascade, and MTCNN where facenet-pytorch is installed."""
    import importlib.util

    photos = ("astronaut", "grace_hopper", "zidane", "bus")
    _detect_step(ctx, "haar-face", photos, "faces")
    ctx.step.lines.append("")
    if importlib.util.find_spec("facenet_pytorch") is None:
        from vision.models.detection.mtcnn import INSTALL

        ctx.step.lines.append(f"MTCNN (`mtcnn-face`) is skipped: facenet-pytorch is not installed (`{INSTALL}`).")
        return
    _detect_step(ctx, "mtcnn-face", photos, "faces_mtcnn")


def step_people(ctx: _Context) -> None:
    """OpenCV HOG people detector on real photos."""
    _detect_step(ctx, "hog-people", ("bus", "zidane", "astronaut"), "people")
    ctx.step.lines.append("")
    ctx.step.lines.append("HOG needs whole standing bodies: it misses the upper-body shot (zidane) and fires on the "
                          "shuttle and helmet in astronaut — the gap the learned detectors close.")


#: held-out scenes (the test split, seed 9) the scene-detector comparison runs on, and how many its sheet shows
SCENE_DETECT_IMAGES, SCENE_DETECT_SHEET = 8, 4


def step_scene_detectors(ctx: _Context) -> None:
    """Every shipped shapes detector on held-out scenes: a side-by-side sheet and a latency / mAP table."""
    from vision.models import create_model
    from vision.models.detection.compare import (
        EVAL_CONF,
        compare_detectors,
        detector_options,
        shipped_detectors,
    )
    from vision.models.detection.scenes_preset import TEST_SEED, detection_scenes

    test = detection_scenes("test", n=SCENE_DETECT_IMAGES)
    detectors, others = {}, []
    for name in shipped_detectors():
        det = create_model(name, **detector_options(name, conf=EVAL_CONF))
        if list(getattr(det, "names", ())) == list(test.classes):
            detectors[name] = det
        else:
            others.append(name)
    if not detectors:
        ctx.step.lines.append(f"No detector of the scene shapes has its weights here (shipped detectors: "
                              f"{', '.join(others) or 'none'}); see `vision weights list --task detect`.")
        return
    cmp = compare_detectors(test, detectors, path=ctx.out / "detect" / "scenes_compare.png",
                            sheet_images=SCENE_DETECT_SHEET, cell=256)
    ctx.step.outputs.append(cmp.path)
    ctx.step.lines += [(f"{len(test)} held-out scenes (test split, seed {TEST_SEED}, never used for training); "
                        f"every detector at conf {EVAL_CONF} for mAP, boxes ≥ 0.25 drawn; latency is the median of "
                        f"one `predict` per image on this machine. The sheet shows the first {SCENE_DETECT_SHEET} "
                        "scenes, ground truth first."), "", cmp.table()]
    ctx.step.lines += [f"- {name}: {note}" for name, note in cmp.notes.items()]
    if others:
        ctx.step.lines += ["", f"Not shape detectors, shown on photos above: {', '.join(others)}."]


#: held-out scenes the segmentation step scores, and how many its sheet shows
SEGMENT_IMAGES, SEGMENT_SHEET = 16, 4


def step_segmentation(ctx: _Context) -> None:
    """The shipped FCN (semantic) and Mask R-CNN (instance) on held-out scenes: overlays beside the truth, mIoU
    with per-class IoU, and mask AP."""
    from vision.metrics.detection import evaluate_detections
    from vision.metrics.segmentation import evaluate_segmentation
    from vision.models import create_model
    from vision.models.detection.faster_rcnn import EVAL_SCORE_THRESH
    from vision.models.detection.scenes_preset import TEST_SEED, detection_scenes
    from vision.models.segmentation.data import SemanticMaskDataset
    from vision.types import Segmentation
    from vision.viz import annotate, tile

    scenes = detection_scenes("test", n=SEGMENT_IMAGES)
    data = SemanticMaskDataset(scenes)
    fcn = create_model("fcn")
    images, truths = zip(*(data.read(i) for i in range(len(data))))
    t0 = time.perf_counter()
    preds = fcn.predict_batch(list(images))
    ms = _ms(t0) / len(images)
    report = evaluate_segmentation(preds, truths, names=data.names)
    mask_rcnn = create_model("mask-rcnn-lite0", box_score_thresh=EVAL_SCORE_THRESH)  # mAP counts low scores
    t0 = time.perf_counter()
    instances = mask_rcnn.predict_batch(list(images))
    instance_ms = _ms(t0) / len(images)
    instance_truths = [scenes.detections(i, masks=True) for i in range(len(scenes))]
    segm = evaluate_detections(instances, instance_truths, iou_type="segm")
    cells, captions = [], []
    for i in range(SEGMENT_SHEET):
        cells += [images[i], annotate(images[i], Segmentation(truths[i], names=data.names)), annotate(images[i], preds[i]),
                  annotate(images[i], instance_truths[i], color_by="instance", show_score=False),
                  annotate(images[i], instances[i].filter(min_score=0.5), color_by="instance")]
        captions += ["scene", "semantic truth", "fcn", "instance truth", "mask-rcnn-lite0"]
    ctx.save("segment/segmentation_scenes.png", tile(cells, cols=5, cell=256, captions=captions))
    ctx.step.lines += [(f"{len(images)} held-out scenes (test split, seed {TEST_SEED}). Semantic — `fcn` (FCN-8s, "
                        f"shipped `fcn-scenes`): **mIoU {report.miou:.3f}**, pixel accuracy "
                        f"{report.pixel_accuracy:.3f}, {ms:.0f} ms per 256 px image. Instance — `mask-rcnn-lite0` "
                        f"(shipped `mask-rcnn-lite0-scenes`): **mask AP@0.5 {segm.map50:.3f}**, mask AP@[.5:.95] "
                        f"{segm.map50_95:.3f} (score threshold {EVAL_SCORE_THRESH}; objects ≥ 0.5 drawn, one colour "
                        f"per object), {instance_ms:.0f} ms per image."), "", report.table()]


def step_generative(ctx: _Context) -> None:
    """The shipped Fashion-MNIST generative models: DCGAN and class-conditional samples, the denoising autoencoder
    against the best classic denoiser (non-local means) at the same noise."""
    import numpy as np

    from vision.classic.denoise import nl_means
    from vision.classic.quality import psnr
    from vision.errors import VisionError
    from vision.models import create_model
    from vision.models.generative.data import image_grid, load_image_arrays

    dcgan, cgan, dae = create_model("dcgan"), create_model("cgan"), create_model("dae")
    ctx.save("generate/dcgan_samples.png", image_grid(dcgan.generate(64, seed=0)))
    rows = np.concatenate([cgan.generate(8, seed=c, labels=[c] * 8) for c in range(len(cgan.names))])
    ctx.save("generate/cgan_by_class.png", image_grid(rows, cols=8))
    try:
        clean, _, _ = load_image_arrays("fashion-mnist", split="test", limit=64)
        source = "Fashion-MNIST test images"
    except VisionError:  # the Debian package is absent: scikit-learn's digits, upscaled to 28 px
        clean, _, _ = load_image_arrays("digits", size=28, limit=64)
        source = "scikit-learn digits (Fashion-MNIST is not installed)"
    rng = np.random.default_rng(0)
    sigma = 255 * dae.config.noise
    noisy = np.clip(clean + rng.normal(0.0, sigma, clean.shape), 0, 255).astype(np.uint8)
    t0 = time.perf_counter()
    learned = dae.denoise(noisy)
    ms = _ms(t0) / len(noisy)
    classic = np.stack([nl_means(im, h=45, template=3, search=11) for im in noisy])  # bench/train_generative.py's
    score = {name: float(np.mean([psnr(c, d) for c, d in zip(clean, out)]))
             for name, out in (("noisy", noisy), ("nl_means", classic), ("dae", learned))}
    ctx.save("generate/denoise_before_after.png", image_grid(np.concatenate([clean[:8], noisy[:8], classic[:8],
                                                                               learned[:8]]), cols=8))
    ctx.step.lines += [("`dcgan` and `cgan` (shipped, Fashion-MNIST): 64 samples, and 8 per class (one row per class, "
                        f"{', '.join(cgan.names)})."),
                       (f"`dae` on {len(clean)} {source} with Gaussian noise σ = {sigma:.0f} gray levels (rows: clean, "
                        f"noisy, nl_means, dae): PSNR noisy {score['noisy']:.2f} dB, nl_means {score['nl_means']:.2f} dB, "
                        f"**dae {score['dae']:.2f} dB**, {ms:.2f} ms per image.")]


def step_classic(ctx: _Context) -> None:
    """Classic ops on real photos: edges, Hough, pipelines, denoise and deblur measured by PSNR, warps, kernels."""
    from vision.classic import apply_op
    from vision.classic.pipeline import Pipeline
    from vision.classic.quality import psnr
    from vision.data import load_sample
    from vision.viz import annotate, tile

    astronaut, coins, camera = load_sample("astronaut"), load_sample("coins"), load_sample("camera")[:, :, 0]
    cells: list[tuple[str, object]] = []

    def run(caption: str, op: str, image, **params):
        t0 = time.perf_counter()
        out = apply_op(op, image, **params)
        ctx.step.lines.append(f"| `{op}` | {params or 'defaults'} | {_ms(t0):.1f} ms |")
        cells.append((caption, out))
        return out

    ctx.step.lines += ["| op | params | time |", "|---|---|---|"]
    run("canny (auto thresholds)", "canny", astronaut, auto=True)
    run("sobel magnitude", "sobel", astronaut)
    circles = run("hough_circles", "hough_circles", coins, min_radius=15, max_radius=40, min_dist=30)
    cells[-1] = ("hough_circles", annotate(coins, circles))
    for name, photo in (("coin_count", coins), ("lane_lines", load_sample("bus"))):
        result = Pipeline.example(name).run(photo)
        last = result.steps[-1].result
        ctx.step.lines.append(f"| pipeline `{name}` | {' → '.join(s.op for s in result.steps)} | "
                              f"{sum(s.seconds for s in result.steps) * 1000:.1f} ms — {len(last)} found |")
        cells.append((f"{name}: {len(last)}", result.output_image))
    noisy = run("noise sigma=20", "add_gaussian_noise", camera, sigma=20.0)
    clean = run("nl_means", "nl_means", noisy, h=15.0)
    blurred = run("motion blur (PSF)", "blur_psf", camera, psf="motion", length=15)
    restored = run("richardson_lucy", "richardson_lucy", blurred, psf="motion", length=15)
    ctx.step.lines += ["", f"Denoising: PSNR {psnr(camera, noisy):.1f} dB (noisy) → {psnr(camera, clean):.1f} dB "
                       f"(non-local means). Deblurring: {psnr(camera, blurred):.1f} dB (blurred) → "
                       f"{psnr(camera, restored):.1f} dB (Richardson–Lucy, 30 iterations).", ""]
    run("rotate 30° (expand)", "rotate", astronaut, angle=30.0, expand=True)
    cells[-1] = (cells[-1][0], cells[-1][1].image)
    run("emboss kernel", "correlate2d", astronaut, kernel="emboss", output="uint8")
    run("clahe", "clahe", load_sample("retina"))
    slic = run("slic superpixels", "slic", load_sample("coffee"), n_segments=150)
    cells[-1] = ("slic superpixels", annotate(load_sample("coffee"), slic, mask_alpha=0.35))
    ctx.save("classic_ops.png", tile([c[1] for c in cells], cols=5, cell=300, captions=[c[0] for c in cells]))


#: the photos of the ImageNet step (every one is shipped inside an installed package)
IMAGENET_PHOTOS = ("coffee", "chelsea", "bus", "camera", "stereo_motorcycle", "flower", "china", "rocket",
                   "grace_hopper", "astronaut")


def step_imagenet(ctx: _Context) -> None:
    """ImageNet top-5 of the pretrained ``efficientnet-lite0`` on the sample photos, as a table and a contact sheet."""
    import importlib.util
    import tempfile

    import cv2

    from vision.data import load_sample
    from vision.models.classification import ImageClassifier
    from vision.viz import annotate, tile

    clf = ImageClassifier("efficientnet-lite0")
    photos = [load_sample(name) for name in IMAGENET_PHOTOS]
    results = clf.predict_batch(photos, top_k=5)
    pre = clf.preprocessing
    ctx.step.lines += [(f"{clf!r} on {len(photos)} photos (short side {pre.resize}, centre crop "
                        f"{pre.input_size[0]}×{pre.input_size[1]}; speeds in `bench/results/classify.md`)."), "",
                       "| photo | top-1 | top-5 (softmax probability) |", "|---|---|---|"]
    cells = []
    for name, photo, result in zip(IMAGENET_PHOTOS, photos, results):
        top5 = ", ".join(f"{label} {score:.2f}" for label, score in zip(result.labels, result.scores))
        ctx.step.lines.append(f"| {name} | **{result.top1}** | {top5} |")
        s = 400 / max(photo.shape[:2])  # labels drawn at the size they are shown
        small = cv2.resize(photo, (round(photo.shape[1] * s), round(photo.shape[0] * s)), interpolation=cv2.INTER_AREA)
        cells.append(annotate(small, result))
    ctx.save("imagenet_top5.png", tile(cells, cols=5, cell=400, captions=list(IMAGENET_PHOTOS)))
    top1 = dict(zip(IMAGENET_PHOTOS, (r.top1 for r in results)))
    if top1["coffee"] != "espresso" or top1["chelsea"] not in {"tabby", "tiger cat", "Egyptian cat"}:
        raise RuntimeError(f"efficientnet-lite0 called coffee {top1['coffee']!r} and chelsea {top1['chelsea']!r}; "
                           "expected espresso and a cat")
    if importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxruntime") is None:
        ctx.step.lines += ["", "ONNX export skipped: onnx / onnxruntime are not installed (pip install -e .[onnx])."]
        return
    from vision.infer import OnnxClassifier, export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        onnx = OnnxClassifier(export_onnx(clf, f"{tmp}/efficientnet-lite0.onnx"))
    again = onnx.predict_batch(photos, top_k=5)
    same = sum(a.class_ids.tolist() == b.class_ids.tolist() for a, b in zip(results, again))
    diff = max(float(abs(a.scores - b.scores).max()) for a, b in zip(results, again))
    ctx.step.lines += ["", (f"Exported to ONNX and run on onnxruntime: the same top-5 on {same} of {len(photos)} "
                            f"photos (largest probability difference {diff:.1e}).")]
    if same != len(photos):
        raise RuntimeError(f"onnxruntime gave another top-5 than PyTorch on {len(photos) - same} photo(s)")


def step_lr_finder(ctx: _Context) -> None:
    """LR range test of a small CNN on scikit-learn's digits (the training step then trains the registered CNN)."""
    import torch
    from torch import nn

    from vision.data import load_digits_dataset
    from vision.nn import init_weights, make_loss
    from vision.train import lr_range_test

    images, labels, _ = load_digits_dataset()
    x = torch.from_numpy(images).float().div(255.0).unsqueeze(1)
    y = torch.from_numpy(labels)
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(x), generator=g)
    batches = [(x[order[i:i + 32]], y[order[i:i + 32]]) for i in range(0, len(x) - 31, 32)]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))
    init_weights(model)
    result = lr_range_test(model, make_loss("cross_entropy"), batches, start=1e-6, end=10.0)
    path = result.plot(ctx.out / "lr_range_test.png")
    ctx.step.outputs.append(path)
    ctx.step.lines.append(f"{len(result.lrs)} steps over one epoch of digits (batch 32); loss minimum at "
                          f"lr {result.min_loss_lr:.3g}, suggested lr {result.suggested_lr:.3g}"
                          f"{' (stopped on divergence)' if result.diverged else ''}")


#: the training step's run: enough for > 90 % test accuracy on digits in seconds on 2 CPU cores
TRAIN_EPOCHS, TRAIN_BATCH = 3, 64


def step_training(ctx: _Context) -> None:
    """Train the registered ``fmnist-cnn`` on digits with the Trainer: test accuracy, curves, confusion matrix."""
    from vision.train import train_classifier

    run = train_classifier(data="digits", model="fmnist-cnn", epochs=TRAIN_EPOCHS, batch_size=TRAIN_BATCH,
                           out_dir=ctx.out / "training", seed=0)
    ctx.step.outputs += [run.out_dir / "curves.png", run.out_dir / "confusion_matrix.png",
                         *(f for f in run.files if f.suffix != ".png")]
    test, hist = run.test, run.history
    val = ", ".join(f"{v:.1%}" for v in hist["val_accuracy"])
    ctx.step.lines.append(f"`fmnist-cnn` on scikit-learn's digits (8×8 → 28×28; 80/20 train/test split, 10 % of "
                          f"train held out for validation), {TRAIN_EPOCHS} epochs of AdamW + one-cycle, batch "
                          f"{TRAIN_BATCH}: **test accuracy {test['accuracy']:.1%}** (macro F1 {test['macro_f1']:.3f}) "
                          f"on {test['images']} images, best validation epoch {test['best_epoch']}; validation "
                          f"accuracy per epoch {val}. Checkpoint, history and metrics in "
                          f"`{run.out_dir.relative_to(ctx.out).as_posix()}/`.")
    if test["accuracy"] <= 0.9:
        raise RuntimeError(f"fmnist-cnn reached test accuracy {test['accuracy']:.3f} on digits; expected > 0.9")


def step_video_models(ctx: _Context) -> None:
    """Label the clips of an action video with the shipped CNN + LSTM (a timeline), and track and count the shapes of
    a camera pan across a synthetic scene (yolov8n + ByteTrack + a counting line)."""
    from vision.data.action_videos import make_action_sequence, write_action_video
    from vision.infer.stream import DetectionStream
    from vision.models import create_model
    from vision.models.detection.scenes_preset import DETECTION_SCENES, write_scene_pan
    from vision.models.video.predict import classify_video, plot_timeline
    from vision.viz import tile

    model = create_model("video-cnn-lstm")
    seq = make_action_sequence(model.classes, classes=model.classes, seed=3)
    path = write_action_video(ctx.out / "video" / "actions.avi", seq)
    result = classify_video(model, path, stride=model.config.clip_length)
    correct = int((result.labels == seq.labels[result.starts]).sum())
    png = ctx.out / "video_actions_timeline.png"
    plot_timeline(result, truth=seq.labels, path=png, title="video-cnn-lstm on a held-out action video")
    ctx.step.outputs += [path, png]
    ctx.step.lines.append(f"`{path.name}` ({result.frames} frames, {len(seq.segments)} actions): **{correct}/"
                          f"{len(result)} clips labelled correctly** by `video-cnn-lstm` — " +
                          ", ".join(f"{s['label']} {s['start'] / result.fps:.0f}–{s['end'] / result.fps:.0f} s"
                                    for s in result.segments()))
    if correct < 0.9 * len(result):
        raise RuntimeError(f"video-cnn-lstm labelled {correct} of {len(result)} clips; expected ≥ 90 %")
    side, frames = DETECTION_SCENES.image_size[0], 48
    pan = write_scene_pan(ctx.out / "video" / "scene_pan.avi", frames=frames)
    shown, ids = [], set()
    with DetectionStream(pan, create_model("yolov8n"), smooth=3, count_line=f"{side // 2},0,{side // 2},{side}",
                         lanes=1, overlay=False) as stream:
        for item in stream:
            ids.update(int(i) for i in item.detections.track_ids)
            if item.frame.index in (0, frames // 2, frames - 1):
                shown.append((f"frame {item.frame.index}", item.image))
            counts = item.counts
    ctx.save("video_tracking.png", tile([s[1] for s in shown], cols=3, cell=256, captions=[s[0] for s in shown]))
    ctx.step.lines.append(f"`{pan.name}` (a {frames}-frame pan across a held-out scene): yolov8n + ByteTrack + "
                          f"3-frame smoothing gave {len(ids)} track ids; the middle line was crossed "
                          f"{counts['in']} times in, {counts['out']} out (shapes move right → left as the camera pans)")


STEPS: tuple[tuple[str, Callable[[_Context], None]], ...] = (
    ("image I/O", step_io),
    ("video I/O", step_video),
    ("synthetic scenes + dataset stats", step_scenes),
    ("weights", step_weights),
    ("face detection (OpenCV Haar, MTCNN)", step_faces),
    ("people detection (OpenCV HOG)", step_people),
    ("detectors on held-out scenes", step_scene_detectors),
    ("segmentation (FCN semantic, Mask R-CNN instance, held-out scenes)", step_segmentation),
    ("generative (Fashion-MNIST GANs, denoising autoencoder)", step_generative),
    ("video models (action timeline, tracking + line counting)", step_video_models),
    ("classic ops", step_classic),
    ("ImageNet top-5 (efficientnet-lite0)", step_imagenet),
    ("LR range test (digits CNN)", step_lr_finder),
    ("training (fmnist-cnn on digits)", step_training),
)


def _summary(report_steps: list[DemoStep], out: Path, total: float) -> str:
    lines = ["# vision demo", "", f"Output folder: `{out}` — total {total:.1f} s.", "",
             "| step | status | time | outputs |", "|---|---|---|---|"]
    for s in report_steps:
        status = "ok" if s.ok else "FAILED"
        lines.append(f"| {s.name} | {status} | {s.seconds:.2f} s | {len(s.outputs)} |")
    for s in report_steps:
        lines += ["", f"## {s.name}", ""]
        if s.error:
            lines += ["```", s.error.rstrip(), "```", ""]
        lines += s.lines
        pngs = [p for p in s.outputs if p.suffix == ".png"]
        if pngs:
            lines.append("")
            lines += [f"![{p.stem}]({p.relative_to(out).as_posix()})" for p in pngs]
    return "\n".join(lines) + "\n"


def run_demo(out_dir: str | Path = "runs/demo", *, scenes: int = 16, only: list[str] | None = None,
             progress: Callable[[str], None] | None = None) -> DemoReport:
    """Run the demo steps and write ``summary.md``; the folder is emptied first.

    Args:
        out_dir: where everything goes.
        scenes: how many synthetic scenes to generate.
        only: run just the steps whose name contains one of these words.
        progress: called with each step's name before it runs (the CLI prints it).
    Returns:
        The report; ``report.ok`` is False when any step failed (each failure is in ``summary.md``).
    """
    out = Path(out_dir).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    done: list[DemoStep] = []
    t_all = time.perf_counter()
    for name, fn in STEPS:
        if only and not any(word.lower() in name.lower() for word in only):
            continue
        if progress is not None:
            progress(name)
        step = DemoStep(name)
        t0 = time.perf_counter()
        try:
            fn(_Context(out, scenes, step))
        except Exception as exc:  # a demo records a failed step and goes on with the others
            step.error = "".join(traceback.format_exception_only(type(exc), exc)) + traceback.format_exc(limit=-3)
            log.error("demo step %r failed: %s", name, exc)
        step.seconds = time.perf_counter() - t0
        done.append(step)
    summary = out / "summary.md"
    summary.write_text(_summary(done, out, time.perf_counter() - t_all), encoding="utf-8")
    return DemoReport(out, done, summary)
