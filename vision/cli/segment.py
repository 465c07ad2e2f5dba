"""``vision predict segment`` and ``vision train segment``: thin over :mod:`vision.models.segmentation` and the batch
engine (:func:`vision.cli.detect.run_predict`). ``vision.cli.main`` adds these parsers to its own."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from vision.errors import InputError

__all__ = ["add_predict_parser", "add_train_parser", "cmd_predict_segment", "cmd_train_segment"]

log = logging.getLogger("vision.cli")

#: what ``--model`` offers by default: the shipped FCN
DEFAULT_MODEL = "fcn"


def _open_segmenter(name: str, weights: str | None, conf: float | None = None, iou: float | None = None) -> Any:
    from vision.models import create_model, model_spec

    if model_spec(name).task != "segment":
        raise InputError(f"--model {name}: a {model_spec(name).task!r} model; expected a segmentation model "
                         "(vision models list --task segment)")
    options = {}
    if conf is not None or iou is not None:
        from vision.models.detection.compare import detector_options

        try:
            options = detector_options(name, conf=conf, iou=iou)
        except InputError as exc:
            raise InputError(f"--conf / --iou apply to instance segmenters (mask-rcnn-lite0, ...): {exc}") from exc
    return create_model(name, **({"weights": weights} if weights else {}), **options)


def _summary(seg: Any) -> str:
    from vision.types import Detections

    if isinstance(seg, Detections):  # an instance model: one mask per object
        if not len(seg):
            return "no objects"
        return f"{len(seg)} object{'s' if len(seg) != 1 else ''}: " + ", ".join(
            f"{label} {score:.2f}" for label, score in zip(seg.labels, seg.scores))
    counts = seg.pixel_counts()  # class name → pixels
    total = sum(counts.values()) or 1
    shown = [f"{name} {100 * n / total:.1f}%" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return ", ".join(shown)


def cmd_predict_segment(args: argparse.Namespace) -> int:
    from vision.cli.detect import run_predict
    from vision.infer.sources import expand_sources

    plan = expand_sources(args.sources, shard=args.shard)
    if not plan.images and not plan.videos:
        raise InputError(f"vision predict segment: no image or video files found in {args.sources}")
    model = _open_segmenter(args.model, args.weights, args.conf, args.iou)
    log.info("%r on %d image(s), %d video(s)", model, len(plan.images), len(plan.videos))
    return run_predict(args, model, task="segment", sources=plan,
                       meta={"model": args.model, "weights": args.weights, "conf": args.conf, "iou": args.iou},
                       line=lambda r: f"{r.item.key}: {_summary(r.result)}",
                       legacy=lambda r: {"image": r.item.key, "error": r.error} if r.error else
                       {"image": r.item.key, **r.result.to_dict()})


def add_predict_parser(pr: Any) -> None:
    """``vision predict segment`` under the ``predict`` sub-commands ``pr``."""
    from vision.cli.detect import add_batch_options

    s = pr.add_parser("segment", help="per-pixel classes or object masks of images (files, folders, globs, .txt "
                                      "lists, videos)",
                      description="Semantic (fcn: a class per pixel) or instance (mask-rcnn-lite0: a mask per object) "
                                  "segmentation with a registered model (vision models list --task segment). Prints "
                                  "the share of each class (semantic) or the objects (instance) per image; --save DIR "
                                  "writes colour overlays; with --out DIR results (masks as RLE) stream to "
                                  "DIR/results.jsonl and a rerun resumes.")
    s.add_argument("sources", nargs="+", metavar="SOURCE", help="image files, folders, globs, .txt lists, videos")
    s.add_argument("--model", default=DEFAULT_MODEL, help=f"registered segmentation model (default {DEFAULT_MODEL})")
    s.add_argument("--weights", help="a weights file or manifest name (default: the model's own)")
    s.add_argument("--conf", type=float, help="instance models: keep objects scoring at least this (default: the "
                                              "model's)")
    s.add_argument("--iou", type=float, help="instance models: NMS IoU threshold (default: the model's)")
    s.add_argument("--save", metavar="DIR", help="write colour overlays here (runs without --out)")
    s.add_argument("--json", action="store_true", help="print one JSON list of the results")
    add_batch_options(s, batch_size=8, formats="csv")
    s.set_defaults(func=cmd_predict_segment)


def cmd_train_segment(args: argparse.Namespace) -> int:
    from vision.cli.detect import training_inputs

    out, train, val, _ = training_inputs(args, f"runs/train/segment/{args.model}")
    options = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr))
               if v is not None}
    if args.model == "fcn":
        from vision.models.segmentation.fcn import train_fcn

        config = {"classes": tuple(train.classes), "variant": args.variant}
        segmenter, history = train_fcn(train, val, config=config, seed=args.seed, progress=True, **options)
        out.mkdir(parents=True, exist_ok=True)
        weights = segmenter.save(out / "fcn.safetensors")
        what = f"fcn-{args.variant}"
        last = {k: v[-1] for k, v in history.history.items() if k.startswith("val_") and v}
    elif args.model == "yolov8n-seg":
        from vision.models.detection.yolo_train import train_yolo

        yolo = {k: v for k, v in (("epochs", args.epochs), ("batch", args.batch_size), ("lr0", args.lr),
                                  ("imgsz", args.imgsz)) if v is not None}
        run = train_yolo(train, val=val, out_dir=out, model=args.init or "yolov8n-seg", task="segment",
                         seed=args.seed, progress=True, overwrite=args.overwrite,
                         device=None if args.device == "cpu" else args.device, **yolo)
        last = {f"val_{k}": v for k, v in run.metrics.items() if isinstance(v, float)}
        weights, what = run.weights, f"yolov8n-seg (from {args.init or 'scratch'})"
    else:
        from vision.models.segmentation.mask_rcnn import train_mask_rcnn

        segmenter, history = train_mask_rcnn(train, val, model=args.model, seed=args.seed, progress=True,
                                             device=args.device, **options)
        out.mkdir(parents=True, exist_ok=True)
        weights = segmenter.to("cpu").save_weights(out / f"{args.model.replace('-', '_')}.safetensors")
        what = args.model
        last = {k: v[-1] for k, v in history.history.items() if k.startswith("val_") and v}
    if last:
        print("validation: " + ", ".join(f"{k} {v:.4f}" for k, v in last.items()))
    print(f"trained {what} on {args.data} ({len(train)} images) in {out}")
    print(f"weights: {weights}")
    print(f"  vision predict segment IMAGES --model {args.model} --weights {weights}")
    return 0


def add_train_parser(t: Any) -> None:
    """``vision train segment`` under the ``train`` sub-commands ``t``."""
    s = t.add_parser("segment", help="train an FCN (semantic masks) or a Mask R-CNN (instance masks) on a dataset "
                                     "or the synthetic scenes",
                     description="Train an FCN (8s / 16s / 32s, from scratch) on a dataset whose records carry semantic "
                                 "masks, or a Mask R-CNN (--model mask-rcnn-lite0: ImageNet backbone, new heads) on "
                                 "their instance masks — a folder written by `vision data make-scenes`, or --data "
                                 "scenes.")
    s.add_argument("--model", default="fcn", choices=("fcn", "mask-rcnn-lite0", "mask-rcnn-resnet50", "yolov8n-seg"),
                   help="what to train (default fcn)")
    s.add_argument("--init", metavar="WEIGHTS", help="yolov8n-seg: start from these weights (e.g. yolov8n-scenes, the "
                                                      "shipped detector: its layers transfer); default from scratch")
    s.add_argument("--imgsz", type=int, help="yolov8n-seg: training size (default 256)")
    s.add_argument("--data", required=True, metavar="DIR|scenes",
                   help="a scenes folder (COCO + masks/semantic), or scenes (= scenes-train, seed 0)")
    s.add_argument("--val", metavar="DIR|scenes-val", help="validation data (default scenes-val with --data scenes)")
    s.add_argument("--n", type=int, metavar="N", help="training scenes with --data scenes (default 1000)")
    s.add_argument("--variant", default="8s", choices=("8s", "16s", "32s"), help="FCN variant")
    s.add_argument("--device", default="cpu", help="Mask R-CNN / YOLO: where to train (cpu, cuda, 0)")
    s.add_argument("--epochs", type=int, help="epochs (default 20)")
    s.add_argument("--batch-size", type=int, help="images per batch (default 8)")
    s.add_argument("--lr", type=float, help="peak learning rate (default: FCN 3e-3 one-cycle, Mask R-CNN 1e-3)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", metavar="DIR", help="run folder (default runs/train/segment/MODEL)")
    s.add_argument("--overwrite", action="store_true", help="train into a non-empty --out")
    s.set_defaults(func=cmd_train_segment)
