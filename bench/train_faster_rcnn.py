"""Train, evaluate and export the shipped Faster R-CNN (``faster-rcnn-lite0``) on the synthetic shape scenes.

Reproduce the shipped weights (CPU, about 15 min on 2 cores)::

    python bench/train_faster_rcnn.py --epochs 3 --threads 2 --out weights/faster_rcnn_lite0_scenes.safetensors

What it does: the scenes of :mod:`vision.models.detection.scenes_preset` (train seed 0, n=1000; val seed 1, n=100;
held-out test seed 9, n=200 — never used for training or model selection), ``create_model("faster-rcnn-lite0",
weights=None)`` (ImageNet EfficientNet-Lite0 backbone, new FPN / RPN / box heads), the shared
:class:`~vision.train.Trainer` with :class:`~vision.models.detection.task.DetectionTask` through
:func:`vision.models.detection.faster_rcnn.train_faster_rcnn` (AdamW, linear warm-up then per-batch cosine decay,
horizontal flips), the epoch with the best ``val_map50`` kept. Then the test split is
evaluated with :func:`vision.metrics.detection.evaluate_detections` in float32 and again after the float16
safetensors export is loaded back through the registry; results (per-epoch curve, test mAP, sizes, sha256) go to
``bench/results/faster_rcnn_lite0.json``. ``--eval-only`` skips training and evaluates ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _evaluate(detector, dataset, *, batch_size: int = 8) -> dict:
    from vision.metrics.detection import evaluate_detections

    paths = [dataset.image_path(i) for i in range(len(dataset))]
    t = time.perf_counter()
    preds = detector.predict_batch(paths, batch_size=batch_size)
    seconds = time.perf_counter() - t
    report = evaluate_detections(preds, dataset)
    return {"map50": round(float(report.map50), 4), "map50_95": round(float(report.map50_95), 4),
            "ap50": {k: round(float(v), 4) for k, v in report.ap50.items()},
            "images": len(dataset), "seconds_per_image": round(seconds / len(dataset), 4)}


def _latency(detector, dataset, *, n: int, repeats: int = 3) -> dict:
    """Median seconds per image of ``detector.predict(array)`` and of the raw torchvision call on the same images.

    The raw call is what a torchvision user writes: ``model([tensor])`` under ``torch.inference_mode`` with the
    uint8 → float tensor conversion included; both are timed interleaved, image by image, after a warm-up.
    """
    import statistics

    import torch

    from vision.io import read_image
    from vision.models.detection.data import to_tensor_image

    images = [read_image(dataset.image_path(i)) for i in range(min(n, len(dataset)))]
    model = detector.model.eval()

    def raw(image):
        with torch.inference_mode():
            return model([to_tensor_image(image).to(detector.device)])

    for image in images[:2]:
        raw(image), detector.predict(image)
    ours, theirs = [], []
    for _ in range(repeats):
        for image in images:
            t = time.perf_counter()
            raw(image)
            theirs.append(time.perf_counter() - t)
            t = time.perf_counter()
            detector.predict(image)
            ours.append(time.perf_counter() - t)
    a, b = statistics.median(ours), statistics.median(theirs)
    return {"vision_predict_s": round(a, 4), "raw_torchvision_s": round(b, 4), "ratio": round(a / b, 3),
            "images": len(images), "repeats": repeats, "torch_threads": torch.get_num_threads()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=50, help="warm-up batches")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "weights" / "faster_rcnn_lite0_scenes.safetensors"))
    parser.add_argument("--results", default=str(ROOT / "bench" / "results" / "faster_rcnn_lite0.json"))
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--latency", type=int, default=20, help="test images for the predict-vs-torchvision timing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    import torch

    torch.set_num_threads(args.threads)
    from vision.models import create_model
    from vision.models.detection.faster_rcnn import EVAL_SCORE_THRESH
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.weights import sha256_file

    test = detection_scenes("test")
    out = Path(args.out)
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    results: dict = {"eval_command" if args.eval_only else "command": command}
    if not args.eval_only:
        from vision.models.detection.faster_rcnn import train_faster_rcnn

        t = time.perf_counter()
        detector, history = train_faster_rcnn(
            detection_scenes("train", n=args.n_train), detection_scenes("val"), epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay, warmup=args.warmup, hflip=0.5,
            seed=args.seed)
        results["train_seconds"] = round(time.perf_counter() - t, 1)
        results["history"] = {k: [round(v, 4) for v in vals] for k, vals in history.history.items()}
        results["best_epoch"] = 1 + max(range(len(history.epoch)), key=lambda i: history.history["val_map50"][i])
        detector.model.roi_heads.score_thresh = EVAL_SCORE_THRESH
        results["test_fp32"] = _evaluate(detector, test)
        detector.model.roi_heads.score_thresh = detector.config.box_score_thresh
        detector.save_weights(out, half=True)
    # the shipped form: float16 safetensors loaded back through the registry; mAP with the evaluation threshold
    shipped = create_model("faster-rcnn-lite0", weights=str(out))
    results["test_fp16"] = _evaluate(create_model("faster-rcnn-lite0", weights=str(out),
                                                  box_score_thresh=EVAL_SCORE_THRESH), test)
    results["test_fp16_default_threshold"] = _evaluate(shipped, test)
    if args.latency:
        results["latency"] = _latency(shipped, test, n=args.latency)
    results["file"] = out.name
    results["bytes"] = out.stat().st_size
    results["sha256"] = sha256_file(out)
    results["classes"] = list(shipped.names)
    results["threads"] = args.threads
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    prev = json.loads(Path(args.results).read_text()) if args.eval_only and Path(args.results).is_file() else {}
    Path(args.results).write_text(json.dumps({**prev, **results}, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
