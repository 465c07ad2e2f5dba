"""Train, evaluate and export the shipped FCN (``fcn``, variant 8s) on the synthetic shape scenes' semantic masks.

Reproduce the shipped weights (CPU)::

    python bench/train_fcn.py --epochs 20 --threads 2 --out weights/fcn_scenes.safetensors

The scenes of :mod:`vision.models.detection.scenes_preset` (train seed 0, n=1000; val seed 1, n=100; held-out test
seed 9, n=200 — never used for training or model selection), :func:`vision.models.segmentation.fcn.train_fcn`
(AdamW + one-cycle, flips, the shared Trainer), then the test split scored with
:func:`vision.metrics.segmentation.evaluate_segmentation` in float32 and again after the float16 safetensors export
is loaded back through the registry. Results go to ``bench/results/fcn.json``. ``--eval-only`` evaluates ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _evaluate(segmenter, dataset) -> dict:
    from vision.metrics.segmentation import evaluate_segmentation
    from vision.models.segmentation.data import SemanticMaskDataset

    data = SemanticMaskDataset(dataset)
    t = time.perf_counter()
    preds = segmenter.predict_batch([dataset.image_path(i) for i in range(len(dataset))])
    seconds = time.perf_counter() - t
    report = evaluate_segmentation(preds, [data.read(i)[1] for i in range(len(data))], names=data.names)
    return {"miou": round(report.miou, 4), "pixel_accuracy": round(report.pixel_accuracy, 4),
            "mdice": round(report.mdice, 4), "iou": {k: round(v, 4) for k, v in report.iou.items()},
            "images": len(dataset), "seconds_per_image": round(seconds / len(dataset), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--variant", default="8s")
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "weights" / "fcn_scenes.safetensors"))
    parser.add_argument("--eval-only", action="store_true")
    args = parser.parse_args(argv)

    import hashlib

    import torch

    from vision.models import create_model
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.models.segmentation.fcn import train_fcn

    torch.set_num_threads(args.threads)
    test = detection_scenes("test", n=200)
    result: dict = {"command": "python bench/train_fcn.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                    "threads": args.threads}
    out = Path(args.out)
    if not args.eval_only:
        train, val = detection_scenes("train", n=args.n_train), detection_scenes("val", n=100)
        t = time.perf_counter()
        seg, history = train_fcn(train, val, config={"classes": tuple(train.classes), "variant": args.variant},
                                 epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, progress=True)
        result["train_seconds"] = round(time.perf_counter() - t, 1)
        result["history"] = {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()}
        result["test_fp32"] = _evaluate(seg, test)
        seg.save(out, half=True)
    shipped = create_model("fcn", weights=str(out))
    result["test_fp16"] = _evaluate(shipped, test)
    data = out.read_bytes()
    result.update(file=out.name, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                  classes=list(shipped.config.classes), config=shipped.config.to_dict())
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "fcn.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
