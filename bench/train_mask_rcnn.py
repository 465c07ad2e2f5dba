"""Train, evaluate and export a Mask R-CNN (``mask-rcnn-lite0``) on the synthetic shape scenes' instance masks.

Make the shipped weights (CPU; a long run — about as long as ``bench/train_faster_rcnn.py`` or longer)::

    python bench/train_mask_rcnn.py --epochs 3 --threads 2 --out weights/mask_rcnn_lite0_scenes.safetensors

Smoke run (a minute or two)::

    python bench/train_mask_rcnn.py --epochs 1 --n-train 50 --n-val 10 --n-test 10 --latency 3 \\
        --out /tmp/mask.safetensors --results /tmp/mask.json

What it does: the scenes of :mod:`vision.models.detection.scenes_preset` (train seed 0, n=1000; val seed 1, n=100;
held-out test seed 9, n=200 — never used for training or model selection), ``create_model("mask-rcnn-lite0",
weights=None)`` (ImageNet EfficientNet-Lite0 backbone, new FPN / RPN / box / mask heads), the shared
:class:`~vision.train.Trainer` through :func:`vision.models.segmentation.mask_rcnn.train_mask_rcnn` (the Faster
R-CNN recipe; the epoch with the best ``val_mask_map50`` kept). Then the test split is evaluated — mask mAP
(``iou_type="segm"``, against the instance-mask PNGs) and box mAP, by :func:`vision.metrics.detection.
evaluate_detections` — in float32 and again after the float16 safetensors export is loaded back with
:func:`~vision.models.segmentation.mask_rcnn.load_mask_rcnn`; ``predict`` latency is compared with the raw
torchvision call on the same images. Results go to ``bench/results/mask_rcnn_lite0.json``. ``--eval-only`` skips
training and evaluates ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling bench scripts import as modules

from train_faster_rcnn import _latency  # noqa: E402  (predict vs the raw torchvision call, interleaved)


def _ground_truth(dataset) -> list:
    """One ground-truth ``Detections`` with instance masks (from the PNGs) per image of ``dataset``."""
    return [dataset.detections(i, masks=True) for i in range(len(dataset))]


def _evaluate(detector, dataset, truth, *, batch_size: int = 8) -> dict:
    """Mask and box mAP of ``detector`` on ``dataset`` (one prediction pass)."""
    from vision.metrics.detection import evaluate_detections

    paths = [dataset.image_path(i) for i in range(len(dataset))]
    t = time.perf_counter()
    preds = detector.predict_batch(paths, batch_size=batch_size)
    seconds = time.perf_counter() - t
    segm = evaluate_detections(preds, truth, iou_type="segm")
    bbox = evaluate_detections(preds, truth)
    return {"mask_map50": round(float(segm.map50), 4), "mask_map50_95": round(float(segm.map50_95), 4),
            "box_map50": round(float(bbox.map50), 4), "box_map50_95": round(float(bbox.map50_95), 4),
            "mask_ap50": {k: round(float(v), 4) for k, v in segm.ap50.items()},
            "images": len(dataset), "seconds_per_image": round(seconds / len(dataset), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-val", type=int, default=100)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=50, help="warm-up batches")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="training device (cpu, cuda); evaluation runs on the CPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "weights" / "mask_rcnn_lite0_scenes.safetensors"))
    parser.add_argument("--results", default=str(ROOT / "bench" / "results" / "mask_rcnn_lite0.json"))
    parser.add_argument("--eval-only", action="store_true")
    parser.add_argument("--train-only", action="store_true",
                        help="train and save --out, skip the test evaluation (e.g. on a GPU machine without the "
                             "evaluation's time; evaluate later here with --eval-only)")
    parser.add_argument("--latency", type=int, default=20, help="test images for the predict-vs-torchvision timing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    import torch

    torch.set_num_threads(args.threads)
    from vision.models.detection.faster_rcnn import EVAL_SCORE_THRESH
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.models.segmentation.mask_rcnn import load_mask_rcnn
    from vision.weights import sha256_file

    out = Path(args.out)
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    results: dict = {"eval_command" if args.eval_only else "command": command}
    if not args.eval_only:
        from vision.models.segmentation.mask_rcnn import train_mask_rcnn

        train, val = detection_scenes("train", n=args.n_train), detection_scenes("val", n=args.n_val)
        t = time.perf_counter()
        detector, history = train_mask_rcnn(
            train, val, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
            warmup=args.warmup, hflip=0.5, seed=args.seed, device=args.device)
        results["train_seconds"] = round(time.perf_counter() - t, 1)
        results["train_device"] = args.device
        results["history"] = {k: [round(v, 4) for v in vals] for k, vals in history.history.items()}
        results["best_epoch"] = 1 + max(range(len(history.epoch)),
                                        key=lambda i: history.history["val_mask_map50"][i])
        detector.to("cpu")
        if args.train_only:
            detector.save_weights(out, half=True)
            Path(args.results).parent.mkdir(parents=True, exist_ok=True)
            Path(args.results).write_text(json.dumps(results, indent=2) + "\n")
            print(json.dumps(results, indent=2))
            return 0
        test = detection_scenes("test", n=args.n_test)
        truth = _ground_truth(test)
        detector.model.roi_heads.score_thresh = EVAL_SCORE_THRESH
        results["test_fp32"] = _evaluate(detector, test, truth)
        detector.model.roi_heads.score_thresh = detector.config.box_score_thresh
        detector.save_weights(out, half=True)
    if args.eval_only:
        test = detection_scenes("test", n=args.n_test)
        truth = _ground_truth(test)
    # the shipped form: float16 safetensors loaded back; mAP with the evaluation threshold
    results["test_fp16"] = _evaluate(load_mask_rcnn(out, box_score_thresh=EVAL_SCORE_THRESH), test, truth)
    shipped = load_mask_rcnn(out)
    results["test_fp16_default_threshold"] = _evaluate(shipped, test, truth)
    if args.latency:
        results["latency"] = _latency(shipped, test, n=args.latency)
    results["file"] = out.name
    results["bytes"] = out.stat().st_size
    results["sha256"] = sha256_file(out)
    results["classes"] = list(shipped.names)
    results["threads"] = args.threads
    results["splits"] = {"train": args.n_train, "val": args.n_val, "test": args.n_test}
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    prev = json.loads(Path(args.results).read_text()) if args.eval_only and Path(args.results).is_file() else {}
    Path(args.results).write_text(json.dumps({**prev, **results}, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
