"""Train the shipped YOLO detector on the preset synthetic scenes and measure it on the held-out test split.

Reproduces ``weights/yolov8n-scenes.safetensors`` in two stages (from scratch, then a second schedule at batch 8
from the first stage's best weights; about 20 + 20 minutes on one shared CPU core):

    python bench/train_yolo.py --epochs 20 --batch 16 --imgsz 160 --threads 1 --out /tmp/yolo-s1
    python bench/train_yolo.py --init /tmp/yolo-s1/best.safetensors --epochs 20 --batch 8 --imgsz 160 \
        --threads 1 --out /tmp/yolo-s2 --ship

``nbs`` (ultralytics' nominal batch for gradient accumulation, default 64) is set to ``--batch`` so that every batch
is an optimizer step: with 1000 images and the default, an epoch would be only 16 steps.

Train: ``detection_scenes("train")`` (seed 0, 1000 scenes); model selection: ``val`` (seed 1, 100); reported mAP:
``test`` (seed 9, 200; never used for training or selection), both by ultralytics' validator and by
:func:`vision.metrics.detection.evaluate_detections` (pycocotools) on ``YoloDetector.predict`` outputs at conf 0.001.
The default inference size stored in the weights is the one of ``--imgsz`` … 256 (step 32) with the best val mAP@0.5.
Results go to ``bench/results/train_<model>.json``; ``--ship`` copies the weights to ``weights/`` and prints the
numbers for the manifest entry.

Instance segmentation (``yolov8n-seg``, default weights ``yolov8n-seg-scenes``): ``--task segment`` trains
ultralytics' ``SegmentationTrainer`` on polygons traced from the scenes' instance masks, starting from the shipped
detector (``--init yolov8n-scenes``: backbone, neck and box head transfer; only the mask head is new)::

    python bench/train_yolo.py --task segment --init yolov8n-scenes --epochs 20 --batch 16 --imgsz 160 \
        --threads 1 --out /tmp/yolo-seg --ship            # add --device 0 on a GPU machine

The inference size is then chosen by val mask mAP@0.5, and the held-out test split is scored for masks
(``iou_type="segm"`` against the instance-mask PNGs) and boxes by :func:`vision.metrics.detection.evaluate_detections`
on ``YoloSegmenter.predict_batch`` outputs at conf 0.001, and by ultralytics' ``SegmentationValidator``; results go to
``bench/results/train_yolov8n-seg.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="detect", choices=["detect", "segment"])
    ap.add_argument("--model", default=None, choices=["yolov8n", "yolo11n", "yolov8n-seg"],
                    help="architecture (default yolov8n; yolov8n-seg with --task segment)")
    ap.add_argument("--init", default=None, help="weights to start from (a .safetensors / .pt or manifest name; "
                    "--task segment accepts detection weights such as yolov8n-scenes); default: from scratch")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--imgsz", type=int, default=160)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--close-mosaic", type=int, default=None, help="last epochs without mosaic (default epochs // 4)")
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--n-val", type=int, default=100)
    ap.add_argument("--n-test", type=int, default=200, help="held-out test scenes (seed 9); 200 for reported numbers")
    ap.add_argument("--device", default=None, help="ultralytics device for training and evaluation ('cpu', '0'); "
                    "default: ultralytics' choice (first GPU, else CPU)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own count)")
    ap.add_argument("--workers", type=int, default=0, help="data-loading processes (0: in this process)")
    ap.add_argument("--no-amp", action="store_true", help="train in fp32 on a GPU (skips ultralytics' AMP check, "
                                                         "which wants to download a checkpoint)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/yolo-run")
    ap.add_argument("--ship", action="store_true", help="copy the weights to weights/ and print the manifest numbers")
    ap.add_argument("--skip-train", action="store_true", help="only evaluate the run already in --out")
    args = ap.parse_args(argv)
    seg = args.task == "segment"
    args.model = args.model or ("yolov8n-seg" if seg else "yolov8n")
    if seg != args.model.endswith("-seg"):
        ap.error(f"--model {args.model} does not match --task {args.task}")

    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from vision.metrics.detection import evaluate_detections
    from vision.models.detection.scenes_preset import detection_scenes
    from vision.models.detection.yolo import YoloDetector, save_yolo_weights
    from vision.models.detection.yolo_train import train_yolo, val_yolo
    from vision.models.segmentation.yolo_seg import YoloSegmenter
    from vision.weights import sha256_file

    Model = YoloSegmenter if seg else YoloDetector
    key = "mask_map50" if seg else "map50"  # what picks the inference size on val
    train = detection_scenes("train", n=args.n_train)
    val = detection_scenes("val", n=args.n_val)
    test = detection_scenes("test", n=args.n_test)
    close_mosaic = max(1, args.epochs // 4) if args.close_mosaic is None else args.close_mosaic
    out_dir = Path(args.out)
    train_s = None
    if not args.skip_train:
        t0 = time.perf_counter()
        run = train_yolo(train, val=val, out_dir=out_dir, model=args.init or args.model, task=args.task,
                         epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, seed=args.seed, device=args.device,
                         threads=args.threads, overwrite=True, cache="ram", close_mosaic=close_mosaic,
                         warmup_epochs=1, nbs=args.batch, plots=False, workers=args.workers,
                         **({"amp": False} if args.no_amp else {}))
        train_s = round(time.perf_counter() - t0, 1)
        transferred = run.transferred
    else:
        transferred = None
    det = Model(arch=args.model, weights=str(out_dir / "best.safetensors"), conf=0.001, device=args.device)
    # inference size: chosen on the val split only (a net trained on mosaics at 160 px often does better a bit larger)
    sizes = list(range(args.imgsz, 257, 32))
    val_map = {s: val_yolo(det, val, imgsz=s) for s in sizes}
    best = max(sizes, key=lambda s: (round(val_map[s][key], 3), -s))
    shipped = save_yolo_weights(det.model, out_dir / f"{args.model}-scenes.safetensors", imgsz=best)
    det = Model(arch=args.model, weights=str(shipped), conf=0.001, device=args.device)
    ul = val_yolo(det, test)
    t0 = time.perf_counter()
    preds = det.predict_batch([test.image_path(i) for i in range(len(test))], batch_size=16)
    predict_s = time.perf_counter() - t0
    truth = [test.detections(i, masks=True) for i in range(len(test))] if seg else test
    report = evaluate_detections(preds, truth)
    result = {
        "model": args.model, "task": args.task, "init": args.init, "epochs": args.epochs, "train_imgsz": args.imgsz,
        "batch": args.batch, "nbs": args.batch, "close_mosaic": close_mosaic, "n_train": len(train),
        "n_val": len(val), "n_test": len(test), "threads": args.threads, "device": args.device, "seed": args.seed,
        "train_seconds": train_s, f"val_{key}_by_imgsz": {s: round(m[key], 4) for s, m in val_map.items()},
        "predict_imgsz": best,
    }
    if seg:
        masks = evaluate_detections(preds, truth, iou_type="segm")
        result.update({
            "transferred_tensors": transferred,
            "test_mask_map50": round(masks.map50, 4), "test_mask_map50_95": round(masks.map50_95, 4),
            "test_box_map50": round(report.map50, 4), "test_box_map50_95": round(report.map50_95, 4),
            "test_mask_map50_ultralytics": round(ul["mask_map50"], 4),
            "test_mask_map50_95_ultralytics": round(ul["mask_map50_95"], 4),
            "test_box_map50_ultralytics": round(ul["map50"], 4),
            "test_box_map50_95_ultralytics": round(ul["map50_95"], 4),
            "test_mask_ap50": {k: round(v, 4) for k, v in masks.ap50.items()},
            "test_mask_ap50_95": {k: round(v, 4) for k, v in masks.ap50_95.items()},
        })
    else:
        result.update({
            "test_map50": round(report.map50, 4), "test_map50_95": round(report.map50_95, 4),
            "test_map50_ultralytics": round(ul["map50"], 4), "test_map50_95_ultralytics": round(ul["map50_95"], 4),
            "test_ap50": {k: round(v, 4) for k, v in report.ap50.items()},
            "test_ap50_95": {k: round(v, 4) for k, v in report.ap50_95.items()},
        })
    result.update({
        "predict_seconds_per_image": round(predict_s / len(test), 4),
        "weights_bytes": shipped.stat().st_size, "sha256": sha256_file(shipped),
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
    })
    out = ROOT / "bench" / "results" / f"train_{args.model}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    if args.ship:
        dst = ROOT / "weights" / shipped.name
        shutil.copyfile(shipped, dst)
        pre = "test_mask_" if seg else "test_"
        print(f"\ncopied to {dst}; manifest: sha256 {result['sha256']}, {pre}mAP@0.5 {result[pre + 'map50']}, "
              f"mAP@[.5:.95] {result[pre + 'map50_95']}, input_size {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
