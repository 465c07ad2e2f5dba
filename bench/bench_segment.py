"""Learned vs classic segmentation on the held-out synthetic scenes, and FCN predict overhead.

    python bench/bench_segment.py --weights weights/fcn_scenes.safetensors [--n 200] [--threads 2]

On the held-out test scenes (seed 9; never used for training or selection) it scores:

* the FCN: mIoU over background + 5 shapes, pixel accuracy, and foreground IoU (any shape vs background);
* classic baselines from ``vision.classic`` (they know no classes, so they are scored on foreground vs
  background): Otsu threshold, adaptive threshold and the Otsu-marker watershed, each with the polarity
  (objects brighter or darker) that scores best on the validation scenes (seed 1), so the comparison is fair to them;
* latency: ``FCNSegmenter.predict`` on an array vs the raw network call on a prepared tensor (interleaved, median),
  the overhead goal being ≤ 5 %.

Writes ``bench/results/segment.json`` / ``segment.md`` and a sheet ``bench/results/segment_sheet.png`` (image, truth,
FCN, best classic) to look at.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLASSIC = {"otsu": ("threshold_otsu", {}), "adaptive": ("threshold_adaptive", {}), "watershed": ("watershed", {})}


def _binary_iou(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    return int(np.logical_and(pred, truth).sum()), int(np.logical_or(pred, truth).sum())


def _classic_mask(op: str, params: dict, image: np.ndarray, invert: bool) -> np.ndarray:
    from vision.classic import apply_op

    out = apply_op(op, image, invert=invert, **params) if op != "threshold_adaptive" else apply_op(op, image, **params)
    labels = np.asarray(getattr(out, "labels", out))
    mask = labels > 0
    return ~mask if (invert and op == "threshold_adaptive") else mask


def _classic_scores(data, names: list[str]) -> dict[str, dict[bool, float]]:
    scores: dict[str, dict[bool, float]] = {}
    for name in names:
        op, params = CLASSIC[name]
        scores[name] = {}
        for invert in (False, True):
            inter = union = 0
            for i in range(len(data)):
                image, truth = data.read(i)
                a, b = _binary_iou(_classic_mask(op, params, image, invert), truth > 0)
                inter, union = inter + a, union + b
            scores[name][invert] = inter / max(union, 1)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(ROOT / "weights" / "fcn_scenes.safetensors"))
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)

    import torch

    from vision.io import write_image
    from vision.metrics.segmentation import evaluate_segmentation
    from vision.models import create_model
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.models.segmentation.data import SemanticMaskDataset
    from vision.types import Segmentation
    from vision.viz import annotate, tile

    torch.set_num_threads(args.threads)
    test = SemanticMaskDataset(detection_scenes("test", n=args.n))
    val = SemanticMaskDataset(detection_scenes("val", n=100))
    fcn = create_model("fcn", weights=args.weights)
    images, truths = zip(*(test.read(i) for i in range(len(test))))
    preds = fcn.predict_batch(list(images))
    report = evaluate_segmentation(preds, truths, names=test.names)
    inter = union = 0
    for p, t in zip(preds, truths):
        a, b = _binary_iou(p.mask > 0, t > 0)
        inter, union = inter + a, union + b
    result: dict = {"images": len(test), "threads": args.threads, "weights": Path(args.weights).name,
                    "fcn": {"miou": round(report.miou, 4), "pixel_accuracy": round(report.pixel_accuracy, 4),
                            "foreground_iou": round(inter / max(union, 1), 4),
                            "iou": {k: round(v, 4) for k, v in report.iou.items()}}}

    polarity = {name: max(s, key=s.get) for name, s in _classic_scores(val, list(CLASSIC)).items()}
    result["classic"] = {}
    for name, (op, params) in CLASSIC.items():
        inter = union = 0
        for image, truth in zip(images, truths):
            a, b = _binary_iou(_classic_mask(op, params, image, polarity[name]), truth > 0)
            inter, union = inter + a, union + b
        result["classic"][name] = {"foreground_iou": round(inter / max(union, 1), 4), "invert": polarity[name]}

    # latency: vision predict(array) vs the raw network on a prepared tensor, interleaved
    net = fcn.model.eval()
    ours, raw = [], []
    for k in range(args.repeats + 1):
        image = images[k % len(images)]
        t = time.perf_counter()
        fcn.predict(image)
        t1 = time.perf_counter()
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float().div_(255.0)
        with torch.inference_mode():
            net(x).softmax(dim=1).max(dim=1)
        t2 = time.perf_counter()
        if k:
            ours.append(t1 - t)
            raw.append(t2 - t1)
    result["latency"] = {"vision_ms": round(1e3 * statistics.median(ours), 2),
                         "raw_ms": round(1e3 * statistics.median(raw), 2),
                         "ratio": round(statistics.median(ours) / statistics.median(raw), 3)}

    best = max(result["classic"], key=lambda n: result["classic"][n]["foreground_iou"])
    op, params = CLASSIC[best]
    cells, captions = [], []
    for i in range(4):
        image, truth = images[i], truths[i]
        classic = _classic_mask(op, params, image, polarity[best]).astype(np.int64)
        cells += [image, annotate(image, Segmentation(truth, names=test.names)), annotate(image, preds[i]),
                  annotate(image, Segmentation(classic, names=("background", "foreground")))]
        captions += ["image", "truth", "fcn", best]
    out = ROOT / "bench" / "results"
    write_image(out / "segment_sheet.png", tile(cells, cols=4, cell=256, captions=captions))
    (out / "segment.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = ["| method | mIoU (6 classes) | foreground IoU |", "|---|---:|---:|",
            f"| FCN-8s (`{result['weights']}`) | {result['fcn']['miou']:.3f} | {result['fcn']['foreground_iou']:.3f} |"]
    rows += [f"| {n} (classic, invert={c['invert']}) | — | {c['foreground_iou']:.3f} |" for n, c in result["classic"].items()]
    lat = result["latency"]
    text = (f"# Segmentation on {len(test)} held-out scenes\n\n" + "\n".join(rows) +
            f"\n\nFCN predict {lat['vision_ms']} ms vs raw network {lat['raw_ms']} ms → {lat['ratio']}× "
            f"({args.threads} threads)\n")
    (out / "segment.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
