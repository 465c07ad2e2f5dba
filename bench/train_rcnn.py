"""Train, evaluate and export the shipped R-CNN (``rcnn``) or Fast R-CNN (``fast-rcnn``) on the synthetic shape scenes.

Reproduce the shipped weights (CPU, 1 torch thread; measured on a 2-core machine shared with other training jobs:
R-CNN 19 min, Fast R-CNN 7.5 min of training, plus selective search of the 1300 train + val scenes once, about
12 min, cached next to the scenes for the next run)::

    python bench/train_rcnn.py --model rcnn --epochs 12 --crops-per-epoch 32000
    python bench/train_rcnn.py --model fast-rcnn --epochs 3

What it does: the scenes of :mod:`vision.models.detection.scenes_preset` (train seed 0, n=1000; val seed 1, n=100;
held-out test seed 9, n=200 — never used for training or model selection), fast-mode selective search proposals
(cached next to the scenes as ``proposals-<split>-<n>-fast-2000.npz``), :func:`~vision.models.detection.rcnn_train.
train_rcnn` / :func:`~vision.models.detection.fast_rcnn.train_fast_rcnn` (the shared Trainer), the float16
safetensors export, then the test split through the exported weights loaded back by the registry:
:func:`vision.metrics.detection.evaluate_detections` (mAP@0.5, mAP@[.5:.95]) with the cached proposals (the same
boxes selective search gives at predict time), the float32 model on the same proposals (to show fp16 loses nothing),
and the per-image latency of ``predict(path)`` end to end (selective search included) and of the detection stage
alone on ``--latency-images`` test images. Results go to ``bench/results/<model>.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger("train_rcnn")
FILES = {"rcnn": "rcnn_scenes.safetensors", "fast-rcnn": "fast_rcnn_scenes.safetensors"}


def _proposals(split: str, dataset):
    from vision.models.detection.scenes_preset import scenes_cache_dir
    from vision.models.detection.selective_search import dataset_proposals

    cache = scenes_cache_dir() / f"proposals-{split}-{len(dataset)}-fast-2000.npz"
    return dataset_proposals(dataset, mode="fast", max_proposals=2000, cache=cache, progress=True)


def _evaluate(detector, dataset, proposals) -> dict:
    from vision.metrics.detection import evaluate_detections

    t = time.perf_counter()
    preds = [detector.predict(dataset.image_path(i), proposals=proposals[i]) for i in range(len(dataset))]
    seconds = time.perf_counter() - t
    report = evaluate_detections(preds, dataset)
    return {"map50": round(float(report.map50), 4), "map50_95": round(float(report.map50_95), 4),
            "ap50": {k: round(float(v), 4) for k, v in report.ap50.items()}, "images": len(dataset),
            "detection_stage_seconds_per_image": round(seconds / len(dataset), 4)}


def _latency(detector, dataset, proposals, n: int) -> dict:
    from vision.io import read_image

    images = [read_image(dataset.image_path(i)) for i in range(n)]
    detector.predict(images[0])  # warm-up
    full, stage = [], []
    for i, image in enumerate(images):
        t = time.perf_counter()
        detector.predict(image)
        full.append(time.perf_counter() - t)
        t = time.perf_counter()
        detector.predict(image, proposals=proposals[i])
        stage.append(time.perf_counter() - t)
    return {"images": n, "end_to_end_ms_median": round(1000 * statistics.median(full), 1),
            "detection_stage_ms_median": round(1000 * statistics.median(stage), 1),
            "selective_search_ms_median": round(1000 * (statistics.median(full) - statistics.median(stage)), 1)}


def _markdown(r: dict) -> str:
    t, lat = r["test"], r["latency"]
    lines = [f"# {r['model']} on the held-out synthetic scenes (seed 9, 200 images, 256 px)", "",
             f"Reproduce: `{r['command']}`", "",
             "| mAP@0.5 | mAP@[.5:.95] | " + " | ".join(f"AP50 {k}" for k in t["ap50"]) + " | end-to-end ms/img "
             "| selective search ms | detection stage ms | weights |",
             "|" + "---|" * (len(t["ap50"]) + 6),
             f"| {t['map50']:.3f} | {t['map50_95']:.3f} | " + " | ".join(f"{v:.3f}" for v in t["ap50"].values())
             + f" | {lat['end_to_end_ms_median']:.0f} | {lat['selective_search_ms_median']:.0f} | "
             f"{lat['detection_stage_ms_median']:.0f} | {r['weights']['file']} ({r['weights']['bytes'] / 1e6:.1f} MB, "
             f"fp16) |", "",
             (f"Latency: median over {lat['images']} images, {r['torch_threads']} torch thread(s), CPU shared with "
              "other jobs; mAP with vision.metrics.detection.evaluate_detections (pycocotools matching)."), ""]
    if "train_seconds" in r:
        lines.insert(4, f"Training: {r['train_seconds'] / 60:.1f} min wall; last epoch "
                        + ", ".join(f"{k}={v[-1]:.4g}" for k, v in r["history"].items()) + ".")
        lines.insert(5, "")
    return "\n".join(lines)


def _compare_latency(n: int, results_dir: Path) -> dict:
    """R-CNN and Fast R-CNN on the same images, interleaved, so both see the same machine load."""
    from vision.io import read_image
    from vision.models import create_model
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.models.detection.selective_search import selective_search

    test = detection_scenes("test")
    rcnn, fast = create_model("rcnn"), create_model("fast-rcnn")
    images = [read_image(test.image_path(i)) for i in range(n)]
    rcnn.predict(images[0])
    fast.predict(images[0])
    times: dict[str, list[float]] = {k: [] for k in ("selective_search", "rcnn_stage", "fast_rcnn_stage",
                                                     "rcnn_end_to_end", "fast_rcnn_end_to_end")}
    for image in images:
        t = time.perf_counter()
        boxes = selective_search(image, mode="fast", max_proposals=2000)
        times["selective_search"].append(time.perf_counter() - t)
        for key, det in (("rcnn", rcnn), ("fast_rcnn", fast)):
            t = time.perf_counter()
            det.predict(image, proposals=boxes)
            times[f"{key}_stage"].append(time.perf_counter() - t)
            t = time.perf_counter()
            det.predict(image)
            times[f"{key}_end_to_end"].append(time.perf_counter() - t)
    res = {"images": n, "ms_median": {k: round(1000 * statistics.median(v), 1) for k, v in times.items()}}
    m = res["ms_median"]
    (results_dir / "rcnn_vs_fast_rcnn.json").write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    (results_dir / "rcnn_vs_fast_rcnn.md").write_text(
        f"# R-CNN vs Fast R-CNN latency (median ms per 256 px image, {n} held-out scenes, interleaved)\n\n"
        "| | selective search | detection stage | end to end |\n|---|---|---|---|\n"
        f"| rcnn (500 proposals → 500 CNN passes) | {m['selective_search']:.0f} | {m['rcnn_stage']:.0f} | "
        f"{m['rcnn_end_to_end']:.0f} |\n"
        f"| fast-rcnn (≤ 2000 proposals, 1 backbone pass) | {m['selective_search']:.0f} | "
        f"{m['fast_rcnn_stage']:.0f} | {m['fast_rcnn_end_to_end']:.0f} |\n\n"
        "Reproduce: `python bench/train_rcnn.py --compare-latency` (1 torch thread; CPU shared with other jobs).\n",
        encoding="utf-8")
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(FILES))
    parser.add_argument("--compare-latency", action="store_true",
                        help="only time the shipped rcnn and fast-rcnn on the same images, interleaved")
    parser.add_argument("--epochs", type=int, default=None, help="default 12 (rcnn) / 3 (fast-rcnn)")
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--crops-per-epoch", type=int, default=32000, help="rcnn: crops drawn per epoch")
    parser.add_argument("--lr", type=float, default=None, help="default 2e-3 (rcnn) / 3e-4 (fast-rcnn)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-images", type=int, default=20)
    parser.add_argument("--out", default=None, help="default weights/<model>_scenes.safetensors")
    parser.add_argument("--results", default=None, help="default bench/results/<model>.json")
    parser.add_argument("--eval-only", action="store_true", help="evaluate --out without training")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    import torch

    torch.set_num_threads(args.threads)
    from vision.data.records import DetectionDataset
    from vision.models import create_model
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.weights import sha256_file

    if args.compare_latency:
        print(json.dumps(_compare_latency(args.latency_images, ROOT / "bench" / "results"), indent=2))
        return 0
    if args.model is None:
        parser.error("--model is required unless --compare-latency")
    name = args.model
    out = Path(args.out or ROOT / "weights" / FILES[name])
    results_path = Path(args.results or ROOT / "bench" / "results" / f"{name.replace('-', '_')}.json")
    results: dict = {"model": name, "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                     "torch_threads": args.threads}
    test = detection_scenes("test")
    test_props = _proposals("test", test)
    if not args.eval_only:
        train = detection_scenes("train")
        val = detection_scenes("val")
        train_props, val_props = _proposals("train", train), _proposals("val", val)
        if args.n_train < len(train):
            train = DetectionDataset(train.root, train.classes, train.images[:args.n_train])
            train_props = train_props[:args.n_train]
        t = time.perf_counter()
        if name == "rcnn":
            from vision.models.detection.rcnn_train import train_rcnn

            detector, history = train_rcnn(train, val, epochs=args.epochs or 12, lr=args.lr or 2e-3,
                                           crops_per_epoch=args.crops_per_epoch, proposals=train_props,
                                           val_proposals=val_props, seed=args.seed)
        else:
            from vision.models.detection.fast_rcnn import train_fast_rcnn

            detector, history = train_fast_rcnn(train, val, epochs=args.epochs or 3, lr=args.lr or 3e-4,
                                                proposals=train_props, val_proposals=val_props, seed=args.seed)
        results["train_seconds"] = round(time.perf_counter() - t, 1)
        results["history"] = {k: [round(v, 4) for v in vs] for k, vs in history.history.items()}
        results["test_fp32"] = _evaluate(detector, test, test_props)
        logger.info("fp32 test: %s", results["test_fp32"])
        detector.save(out)
    shipped = create_model(name, weights=str(out))
    results["test"] = _evaluate(shipped, test, test_props)
    logger.info("fp16 test: %s", results["test"])
    results["latency"] = _latency(shipped, test, test_props, args.latency_images)
    results["weights"] = {"file": out.name, "bytes": out.stat().st_size, "sha256": sha256_file(out)}
    results["config"] = shipped.config.to_dict()
    if args.eval_only and results_path.is_file():  # keep the training record of the run that made the weights
        before = json.loads(results_path.read_text(encoding="utf-8"))
        results = {**{k: before[k] for k in ("command", "train_seconds", "history", "test_fp32") if k in before},
                   **{k: v for k, v in results.items() if k != "command"}, "eval_command": results["command"]}
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    results_path.with_suffix(".md").write_text(_markdown(results), encoding="utf-8")
    print(json.dumps({k: results[k] for k in ("test", "latency", "weights")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
