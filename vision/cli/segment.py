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


def _open_segmenter(name: str, weights: str | None) -> Any:
    from vision.models import create_model, model_spec

    if model_spec(name).task != "segment":
        raise InputError(f"--model {name}: a {model_spec(name).task!r} model; expected a segmentation model "
                         "(vision models list --task segment)")
    return create_model(name, **({"weights": weights} if weights else {}))


def _summary(seg: Any) -> str:
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
    model = _open_segmenter(args.model, args.weights)
    log.info("%r on %d image(s), %d video(s)", model, len(plan.images), len(plan.videos))
    return run_predict(args, model, task="segment", sources=plan,
                       meta={"model": args.model, "weights": args.weights},
                       line=lambda r: f"{r.item.key}: {_summary(r.result)}",
                       legacy=lambda r: {"image": r.item.key, "error": r.error} if r.error else
                       {"image": r.item.key, **r.result.to_dict()})


def add_predict_parser(pr: Any) -> None:
    """``vision predict segment`` under the ``predict`` sub-commands ``pr``."""
    from vision.cli.detect import add_batch_options

    s = pr.add_parser("segment", help="per-pixel classes of images (files, folders, globs, .txt lists, videos)",
                      description="Semantic segmentation with a registered model (vision models list --task segment). "
                                  "Prints the share of each class per image; --save DIR writes colour overlays; with "
                                  "--out DIR results (class maps as RLE) stream to DIR/results.jsonl and a rerun "
                                  "resumes.")
    s.add_argument("sources", nargs="+", metavar="SOURCE", help="image files, folders, globs, .txt lists, videos")
    s.add_argument("--model", default=DEFAULT_MODEL, help=f"registered segmentation model (default {DEFAULT_MODEL})")
    s.add_argument("--weights", help="a weights file or manifest name (default: the model's own)")
    s.add_argument("--save", metavar="DIR", help="write colour overlays here (runs without --out)")
    s.add_argument("--json", action="store_true", help="print one JSON list of the results")
    add_batch_options(s, batch_size=8, formats="csv")
    s.set_defaults(func=cmd_predict_segment)


def cmd_train_segment(args: argparse.Namespace) -> int:
    from vision.cli.detect import training_inputs
    from vision.models.segmentation.fcn import train_fcn

    out, train, val, _ = training_inputs(args, "runs/train/segment/fcn")
    options = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr))
               if v is not None}
    config = {"classes": tuple(train.classes), "variant": args.variant}
    segmenter, history = train_fcn(train, val, config=config, seed=args.seed, progress=True, **options)
    out.mkdir(parents=True, exist_ok=True)
    weights = segmenter.save(out / "fcn.safetensors")
    last = {k: v[-1] for k, v in history.history.items() if k.startswith("val_") and v}
    if last:
        print("validation: " + ", ".join(f"{k} {v:.4f}" for k, v in last.items()))
    print(f"trained fcn-{args.variant} on {args.data} ({len(train)} images) in {out}")
    print(f"weights: {weights}")
    print(f"  vision predict segment IMAGES --model fcn --weights {weights}")
    return 0


def add_train_parser(t: Any) -> None:
    """``vision train segment`` under the ``train`` sub-commands ``t``."""
    s = t.add_parser("segment", help="train an FCN on a dataset with semantic masks (or the synthetic scenes)",
                     description="Train an FCN (8s / 16s / 32s) from scratch on a dataset whose records carry semantic "
                                 "masks (a folder written by `vision data make-scenes`), or --data scenes.")
    s.add_argument("--data", required=True, metavar="DIR|scenes",
                   help="a scenes folder (COCO + masks/semantic), or scenes (= scenes-train, seed 0)")
    s.add_argument("--val", metavar="DIR|scenes-val", help="validation data (default scenes-val with --data scenes)")
    s.add_argument("--n", type=int, metavar="N", help="training scenes with --data scenes (default 1000)")
    s.add_argument("--variant", default="8s", choices=("8s", "16s", "32s"))
    s.add_argument("--epochs", type=int, help="epochs (default 20)")
    s.add_argument("--batch-size", type=int, help="images per batch (default 8)")
    s.add_argument("--lr", type=float, help="peak learning rate of the one-cycle schedule (default 3e-3)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", metavar="DIR", help="run folder (default runs/train/segment/fcn)")
    s.add_argument("--overwrite", action="store_true", help="train into a non-empty --out")
    s.set_defaults(func=cmd_train_segment)
