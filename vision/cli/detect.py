"""The detection commands of ``vision``: ``predict detect``, ``val detect``, ``compare`` and ``train detect``.

Argument parsing and printing only; the work is done by the registered detectors (``.predict(image) ->
Detections``), :mod:`vision.models.detection.compare` (thresholds, evaluation, side-by-side comparison) and the
families' ``train_*`` functions. ``vision.cli.main`` adds these parsers to its own.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Any

from vision.errors import InputError, VisionError
from vision.models.detection.compare import EVAL_CONF

log = logging.getLogger("vision.cli")

__all__ = ["TRAIN_FAMILIES", "VIDEO_SUFFIXES", "add_batch_options", "add_compare_parser", "add_option_argument",
           "add_predict_parser", "add_train_parser", "add_val_options", "cmd_compare", "cmd_predict_detect",
           "cmd_train_detect", "cmd_val_detect", "parse_options", "run_predict"]

#: sources with these suffixes are read as videos by ``vision predict detect`` (anything else as images)
VIDEO_SUFFIXES = (".avi", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv")

#: ``vision train detect --model`` → (module, train function, registered detector that loads the result).
TRAIN_FAMILIES: dict[str, tuple[str, str, str]] = {
    "yolo": ("vision.models.detection.yolo", "train_yolo", "yolov8n"),
    "yolov8n": ("vision.models.detection.yolo", "train_yolo", "yolov8n"),
    "yolo11n": ("vision.models.detection.yolo", "train_yolo", "yolo11n"),
    "faster_rcnn": ("vision.models.detection.faster_rcnn", "train_faster_rcnn", "faster-rcnn-lite0"),
    "fast_rcnn": ("vision.models.detection.fast_rcnn", "train_fast_rcnn", "fast-rcnn"),
    "rcnn": ("vision.models.detection.rcnn_train", "train_rcnn", "rcnn"),
}


_DATA_HELP = ("a COCO / YOLO / VOC dataset (folder, COCO .json or YOLO data.yaml), or the shipped-detector scenes: "
              "scenes-test (seed 9, held out), scenes-val, scenes-train")


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def _unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text}")
    return value


def _add_threshold_options(s: argparse.ArgumentParser, conf_default: str) -> None:
    s.add_argument("--conf", type=_unit_interval, metavar="C",
                   help=f"confidence threshold: keep boxes scoring ≥ C ({conf_default})")
    s.add_argument("--iou", type=_unit_interval, metavar="IOU", help="NMS IoU threshold (default: the model's own)")


def add_option_argument(s: argparse.ArgumentParser) -> None:
    """``--option KEY=VALUE`` (repeatable): any keyword of the detector's config, read by :func:`parse_options`."""
    s.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="a detector option (repeatable), e.g. --option imgsz=640 or --option device=cuda for yolov8n, "
                        "--option max_side=none for distant pedestrians with hog-people")


def parse_options(texts: list[str] | None) -> dict[str, Any]:
    """``--option`` texts → keywords; values are YAML (``640`` → int, ``none`` → None, ``[0, 2]`` → list)."""
    import yaml

    options: dict[str, Any] = {}
    for text in texts or []:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--option: expected KEY=VALUE (e.g. imgsz=640), got {text!r}")
        options[key.strip()] = None if value.strip().lower() in ("none", "null") else yaml.safe_load(value)
    return options


def _open_detector(name: str, *, conf: float | None, iou: float | None, weights: str | None = None,
                   options: list[str] | None = None) -> Any:
    """Build registered detector ``name`` with the thresholds, weights and ``--option`` values asked for on the
    command line."""
    from vision.models import create_model
    from vision.models.detection.compare import detector_options

    kwargs: dict[str, Any] = detector_options(name, conf=conf, iou=iou)
    if weights is not None:
        kwargs["weights"] = weights
    return create_model(name, **{**kwargs, **parse_options(options)})


def dataset_arg(text: str, *, n: int | None) -> Any:
    """``--data``: a dataset on disk, or ``scenes-<split>`` (the shipped-detector preset, generated once and cached)."""
    from vision.models.detection.scenes_preset import SPLIT_SEEDS, detection_scenes

    split = text[len("scenes-"):] if text.startswith("scenes-") else None
    if split in SPLIT_SEEDS and not Path(text).exists():
        return detection_scenes(split, n=n)
    if n is not None:
        raise InputError(f"--n: only for the scenes datasets ({', '.join('scenes-' + s for s in SPLIT_SEEDS)}); "
                         f"--data {text} is read whole")
    from vision.data import read_detection_dataset

    return read_detection_dataset(text)


def _summary(det: Any) -> str:
    if not len(det):
        return "no boxes"
    return f"{len(det)} box{'es' if len(det) != 1 else ''}: " + ", ".join(
        f"{label} {score:.2f}" for label, score in zip(det.labels, det.scores))


def _unique_stem(stem: str, used: set[str]) -> str:
    while stem in used:
        stem += "_"
    used.add(stem)
    return stem


# ------------------------------------------------------------------------------------------------ predict detect
def _predict_video(detector: Any, path: Path, save: Path | None, used: set[str]) -> dict[str, Any]:
    """Detect on every frame of a video; with ``save``, write the annotated video and one JSON line per frame."""
    import time

    from vision.io import VideoSink, VideoSource
    from vision.io.files import atomic_write_text
    from vision.io.video_sink import SINK_CODECS
    from vision.viz import annotate

    lines: list[str] = []
    frames = boxes = 0
    t0 = time.perf_counter()
    with VideoSource(path) as video:
        sink = None
        stem = _unique_stem(path.stem, used) if save is not None else ""
        if save is not None:
            suffix = path.suffix.lower() if path.suffix.lower() in SINK_CODECS else ".avi"
            sink = VideoSink(save / f"{stem}{suffix}", fps=video.fps or 25.0)
        try:
            for frame in video:
                det = detector.predict(frame.image)
                frames, boxes = frames + 1, boxes + len(det)
                if sink is not None:
                    drawn = annotate(frame.image, det)
                    h, w = drawn.shape[:2]
                    sink.write(drawn[:h - h % 2, :w - w % 2])  # video writers need even sizes
                    lines.append(json.dumps({"frame": frame.index, "timestamp": round(frame.timestamp, 4),
                                             **det.to_dict()}))
            if not frames:
                raise InputError(f"{path}: no frame could be read; expected a video with at least one frame")
            seconds = time.perf_counter() - t0
            record: dict[str, Any] = {"video": str(path), "frames": frames, "boxes": boxes,
                                      "frames_per_second": round(frames / seconds, 2) if seconds > 0 else None}
            if sink is not None:
                jsonl = atomic_write_text(save / f"{stem}.jsonl", "".join(x + "\n" for x in lines))
                try:
                    record["saved"] = str(sink.close())
                except BaseException:
                    jsonl.unlink(missing_ok=True)  # the video failed: no result file without it
                    raise
                record["jsonl"] = str(jsonl)
        except BaseException:
            if sink is not None:
                sink.abort()
            raise
    return record


def add_batch_options(s: argparse.ArgumentParser, *, batch_size: int, formats: str) -> None:
    """The batch-engine options shared by ``vision predict classify|detect`` (see :mod:`vision.infer.batch`)."""
    g = s.add_argument_group("batch runs", "with --out, results stream to files in DIR and a rerun after an interrupt "
                                           "resumes where it stopped (done.jsonl)")
    g.add_argument("--out", metavar="DIR", help="write results.jsonl (+ other formats), done.jsonl and summary.json "
                                                "here; rerun the same command to resume")
    g.add_argument("--format", metavar="F[,F]", help=f"result files besides results.jsonl: {formats}")
    g.add_argument("--save-images", action="store_true", help="write annotated images to DIR/images")
    g.add_argument("--shard", metavar="K/N", help="this machine's share: every N-th item from the K-th (1-based)")
    g.add_argument("--batch-size", type=int, default=batch_size, help=f"images per model call (default {batch_size})")
    g.add_argument("--workers", type=int, help="image-decoding threads (default half the cores, 2 … 8)")
    g.add_argument("--lanes", type=int, help="model replicas inferring side by side (default 2 on 2+ cores for models "
                                            "that can be replicated, e.g. YOLO; else 1)")


def run_predict(args: argparse.Namespace, model: Any, *, task: str, meta: dict[str, Any], line: Any, legacy: Any,
                sources: Any = None, after: Any = None) -> int:
    """Run ``model`` over ``args.sources`` with :func:`vision.infer.batch.run_batch` and print; the exit code.

    Without ``--out`` every item prints ``line(item_result)`` (or, with ``--json``, one JSON list of
    ``legacy(item_result)`` records, streamed) and ``--save DIR`` writes annotated PNGs named by stem; with ``--out``
    results stream to files and a summary prints at the end. ``after()`` (without ``--out``) runs last and returns
    (exit code, more JSON records).
    """
    from vision.infer.batch import run_batch
    from vision.io import write_image
    from vision.viz import annotate

    out = getattr(args, "out", None)
    save = Path(args.save) if getattr(args, "save", None) and out is None else None
    if getattr(args, "save", None) and out is not None:
        raise InputError("--save is for runs without --out; with --out use --save-images (written to DIR/images)")
    used: set[str] = set()
    state = {"first": True}

    def on_result(r: Any) -> None:
        if r.error is not None:
            print(f"error: {r.error.split(': ', 1)[-1]}", file=sys.stderr)
        if out is not None:
            return
        record = legacy(r)
        if save is not None and r.error is None:
            stem = _unique_stem(Path(r.item.rel).stem if r.item.frame is None else Path(r.item.rel).as_posix()
                                .replace("/", "_"), used)
            record["saved"] = str(write_image(save / f"{stem}.png", annotate(r.image, r.result)))
        if args.json:
            print(("[" if state["first"] else ",") + json.dumps(record, default=str), flush=True)
            state["first"] = False
        elif r.error is None:
            print(line(r), flush=True)

    plan = sources if sources is not None else args.sources
    failed = 0
    if out is not None or plan.images or plan.videos:
        summary = run_batch(model, plan, out=out, formats=args.format, save_images=args.save_images, shard=args.shard,
                            batch_size=args.batch_size, workers=args.workers, meta=meta, on_result=on_result, task=task,
                            lanes=getattr(args, "lanes", None),
                            predict_options=getattr(args, "predict_options", None))
        failed = summary.failed
    if out is None:
        code, more = after() if after is not None else (0, [])
        if args.json:
            for record in more:
                print(("[" if state["first"] else ",") + json.dumps(record, default=str))
                state["first"] = False
            print("[]" if state["first"] else "]")
        return 1 if failed or code else 0
    if args.json:
        _print_json(summary.to_dict())
    else:
        again = f", {summary.skipped} done before" if summary.skipped else ""
        print(f"{summary.processed} item(s) done, {summary.failed} failed{again} in {summary.seconds:.1f} s "
              f"({summary.images_per_second:.1f} images/s){f', shard {summary.shard}' if summary.shard else ''}")
        if summary.failures:
            print(f"{len(summary.failures)} failure(s) in {out}:")
            for key, error in summary.failures[:20]:
                print(f"  {key}: {error}")
            if len(summary.failures) > 20:
                print(f"  ... and {len(summary.failures) - 20} more (summary.json)")
        print("files: " + ", ".join(v for k, v in summary.files.items() if k != "done"))
    return 1 if summary.failures else 0


def cmd_predict_detect(args: argparse.Namespace) -> int:
    from vision.infer.sources import expand_sources

    plan = expand_sources(args.sources, shard=args.shard)
    if not plan.images and not plan.videos:
        raise InputError(f"vision predict detect: no image or video files found in {args.sources}")
    detector = _open_detector(args.model, conf=args.conf, iou=args.iou, weights=args.weights, options=args.option)
    log.info("%r on %d image(s), %d video(s)", detector, len(plan.images), len(plan.videos))
    videos: list[Path] = []
    if args.out is None and args.shard is None:  # a video is one item: an annotated video + frame lines (--save)
        videos, plan.videos = plan.videos, []

    def run_videos() -> tuple[int, list[dict[str, Any]]]:
        code, records = 0, []
        save = Path(args.save) if args.save else None
        for path in videos:
            try:
                record = _predict_video(detector, path, save, set())
            except VisionError as exc:
                code = 1
                print(f"error: {exc}", file=sys.stderr)
                records.append({"video": str(path), "error": f"{type(exc).__name__}: {exc}"})
                continue
            records.append(record)
            if not args.json:
                where = f" → {record['saved']}, {record['jsonl']}" if "saved" in record else ""
                print(f"{path}: {record['frames']} frames, {record['boxes']} boxes "
                      f"({record['frames_per_second']} frames/s){where}")
        return code, records

    return run_predict(args, detector, task="detect", sources=plan, after=run_videos,
                       meta={"model": args.model, "weights": args.weights, "conf": args.conf, "iou": args.iou},
                       line=lambda r: f"{r.item.key}: {_summary(r.result)}",
                       legacy=lambda r: {"image": r.item.key, "error": r.error} if r.error else
                       {"image": r.item.key, **r.result.to_dict()})


def add_predict_parser(pr: Any) -> None:
    """``vision predict detect`` under the ``predict`` sub-commands ``pr``."""
    s = pr.add_parser("detect", help="boxes in images (files, folders, globs, .txt lists) and videos",
                      description="Detect objects with a registered detector (vision models list --task detect). "
                                  "Without --out, images print their boxes and videos (" + " ".join(VIDEO_SUFFIXES) +
                                  ") run frame by frame (with --save: an annotated video + one JSON line per frame). "
                                  "With --out DIR, every image and video frame is an item: results stream to "
                                  "DIR/results.jsonl (and csv / coco / yolo), decoding runs in parallel with batched "
                                  "inference, bad files are listed and skipped (exit 1), and rerunning the same "
                                  "command after an interrupt resumes.")
    s.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="image files, folders (recursive), globs, .txt files of paths, video files")
    s.add_argument("--model", required=True, metavar="NAME",
                   help="registered detector: yolov8n, faster-rcnn-lite0, rcnn, haar-face, hog-people, ...")
    s.add_argument("--weights", metavar="NAME|FILE",
                   help="weights manifest name or file (e.g. the best.safetensors of `vision train detect`)")
    _add_threshold_options(s, "default: the model's own")
    add_option_argument(s)
    s.add_argument("--save", metavar="DIR", help="without --out: write annotated PNGs (and videos + .jsonl "
                                                 "per-frame results) here")
    s.add_argument("--json", action="store_true", help="print one JSON list of results (with --out: the summary)")
    add_batch_options(s, batch_size=8, formats="csv, coco, yolo (comma list)")
    s.set_defaults(func=cmd_predict_detect)


# ------------------------------------------------------------------------------------------------ val detect
def add_val_options(s: argparse.ArgumentParser) -> None:
    """The options of ``vision val detect`` on the ``val`` parser (``--data``, ``--out``, ``--json`` are shared)."""
    g = s.add_argument_group("vision val detect --model NAME [--data DIR|scenes-test] [--out DIR]",
                             "mAP@0.5, mAP@[.5:.95], per-class AP and precision–recall curves of a detector")
    g.add_argument("--model", metavar="NAME", help="registered detector to evaluate")
    g.add_argument("--weights", metavar="NAME|FILE", help="its weights (manifest name or file); default its own")
    g.add_argument("--conf", type=_unit_interval, metavar="C",
                   help=f"confidence threshold (default {EVAL_CONF}, as `yolo val`: mAP counts low-score boxes)")
    g.add_argument("--iou", type=_unit_interval, metavar="IOU", help="NMS IoU threshold (default: the model's own)")
    g.add_argument("--n", type=int, metavar="N", help="number of scenes of a scenes-* dataset (default its size)")


def cmd_val_detect(args: argparse.Namespace) -> int:
    from vision.io.files import atomic_write_text
    from vision.models.detection.compare import evaluate_detector

    if not args.model:
        raise InputError("vision val detect: expected --model NAME (vision models list --task detect)")
    data = args.data or "scenes-test"
    dataset = dataset_arg(data, n=args.n)
    conf = EVAL_CONF if args.conf is None else args.conf
    detector = _open_detector(args.model, conf=conf, iou=args.iou, weights=args.weights)
    out = Path(args.out) if args.out else None
    curves = out / "pr_curves.png" if out is not None and any(r.objects for r in dataset.images) else None
    report = evaluate_detector(detector, dataset, path=curves, progress=sys.stderr.isatty() and not args.json)
    result = {"model": args.model, "weights": args.weights, "data": data, "root": str(dataset.root), "conf": conf,
              **report.to_dict()}
    files = []
    if out is not None:
        files = [str(atomic_write_text(out / "report.json", json.dumps(result, indent=2, allow_nan=False)))]
        if curves is not None:
            files.insert(0, str(curves))
    if args.json:
        _print_json({**{k: v for k, v in result.items() if k != "pr_curves"}, "files": files})
        return 0
    print(f"{args.model} on {data} ({report.num_images} images, {report.num_targets} objects) at conf {conf:g}")
    print(f"mAP50 {_num(report.map50)}   mAP50-95 {_num(report.map50_95)}   best F1 {_num(report.f1)} at conf "
          f"{_num(report.confidence)} (P {_num(report.precision)}, R {_num(report.recall)})")
    print(report.table())
    if files:
        print("files: " + ", ".join(files))
    return 0


def _num(value: float | None) -> str:
    import math

    return "—" if value is None or math.isnan(value) else f"{value:.3f}"


# ------------------------------------------------------------------------------------------------ compare
def cmd_compare(args: argparse.Namespace) -> int:
    from vision.classic.pipeline import iter_image_files
    from vision.models.detection.compare import compare_detectors, shipped_detectors

    if args.images and args.data:
        raise InputError("vision compare: expected IMAGE... or --data, not both")
    if not args.images and not args.data:
        raise InputError("vision compare: expected IMAGE... (files, folders, globs) or --data scenes-test|DIR")
    names = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else shipped_detectors()
    if not names:
        raise InputError(f"--models: expected a comma list of detectors, got {args.models!r}")
    if len(set(names)) != len(names):
        raise InputError(f"--models: {args.models!r} names a detector twice")
    if args.data:
        images: Any = dataset_arg(args.data, n=args.n)
    else:
        if args.n is not None:
            raise InputError("--n: only with --data scenes-*")
        images = list(iter_image_files(args.images))
        if not images:
            raise InputError(f"vision compare: no image files found in {args.images}")
    conf = args.conf if args.conf is not None or not args.data else EVAL_CONF
    detectors = {name: _open_detector(name, conf=conf, iou=args.iou) for name in names}
    cmp = compare_detectors(images, detectors, path=args.out, sheet_images=args.sheet_images,
                            draw_min_score=args.draw_conf)
    if args.json:
        _print_json({**cmp.to_dict(), "conf": conf})
        return 0
    print(cmp.table())
    for name, note in cmp.notes.items():
        print(f"{name}: {note}")
    where = f"{args.data} (conf {conf:g})" if args.data else f"{cmp.rows[0].images} image(s)"
    print(f"on {where}; latency is the median of one predict call per image after a warm-up call")
    if cmp.path is not None:
        print(f"sheet: {cmp.path}")
    return 0


def add_compare_parser(sub: Any) -> None:
    """``vision compare`` under the top-level sub-commands ``sub``."""
    s = sub.add_parser("compare", help="several detectors on the same images: side-by-side PNG, latency, boxes, mAP",
                       description="Run several detectors on the same images and write a side-by-side sheet; "
                                   "with --data, also their mAP against the dataset's boxes.")
    s.add_argument("images", nargs="*", metavar="IMAGE", help="image files, folders or globs (or use --data)")
    s.add_argument("--models", metavar="A,B,C",
                   help="comma list of registered detectors (default: every detector whose weights are here)")
    s.add_argument("--data", metavar="DIR|scenes-test", help=_DATA_HELP + "; adds mAP columns")
    s.add_argument("--n", type=int, metavar="N", help="number of scenes of a scenes-* dataset (default its size)")
    _add_threshold_options(s, f"default: {EVAL_CONF} with --data, as `yolo val`, else each model's own")
    s.add_argument("--draw-conf", type=_unit_interval, default=0.25, metavar="C",
                   help="boxes drawn on the sheet score at least this (default 0.25; the table counts all)")
    s.add_argument("--sheet-images", type=int, default=4, metavar="K", help="rows (images) on the sheet (default 4)")
    s.add_argument("--out", default="runs/compare/compare.png", metavar="PNG",
                   help="the side-by-side sheet (default runs/compare/compare.png)")
    s.add_argument("--json", action="store_true", help="print the table, latencies and reports as JSON")
    s.set_defaults(func=cmd_compare)


# ------------------------------------------------------------------------------------------------ train detect
def _train_function(model: str) -> tuple[Any, str]:
    if model not in TRAIN_FAMILIES:
        raise InputError(f"--model: expected one of {', '.join(TRAIN_FAMILIES)}, got {model!r}")
    module_name, func_name, registered = TRAIN_FAMILIES[model]
    return getattr(importlib.import_module(module_name), func_name), registered


def _save_trained(result: Any, out: Path, model: str) -> Path | None:
    """The weights file a family's train function produced, saving the detector when it returns one."""
    weights = getattr(result, "weights", None)
    if isinstance(weights, (str, Path)):
        return Path(weights)
    detector = result[0] if isinstance(result, tuple) and result else result
    for method in ("save", "save_weights"):
        if callable(getattr(detector, method, None)):
            return Path(getattr(detector, method)(out / f"{model}.safetensors"))
    return None


def training_inputs(args: argparse.Namespace, default_out: str) -> tuple[Path, Any, Any, bool]:
    """``vision train detect|segment``'s checked inputs: (run folder, train data, val data or None, --data is the
    scenes preset). Refuses a non-empty ``--out`` (without ``--overwrite``) and the held-out ``scenes-test``."""
    from vision.cli.folders import run_folder

    out = run_folder(args.out or default_out, overwrite=args.overwrite)
    scenes = args.data in ("scenes", "scenes-train") and not Path(args.data).exists()
    if "scenes-test" in (args.data, args.val) and not Path("scenes-test").exists():
        raise InputError("scenes-test is the held-out set (seed 9), never used "
                         "for training or model selection; train on scenes, validate on scenes-val")
    train = dataset_arg("scenes-train" if scenes else args.data, n=args.n)
    val_text = args.val or ("scenes-val" if scenes else None)
    return out, train, dataset_arg(val_text, n=None) if val_text else None, scenes


def cmd_train_detect(args: argparse.Namespace) -> int:
    func, registered = _train_function(args.model)
    out, train_data, val, scenes = training_inputs(args, f"runs/train/detect/{args.model}")
    params = inspect.signature(func).parameters
    wanted = {"val": val, "epochs": args.epochs, "seed": args.seed, "progress": True, "out_dir": out,
              "overwrite": args.overwrite, "lr": args.lr, "imgsz": args.imgsz, "model": registered,
              "batch": args.batch_size, "batch_size": args.batch_size}
    kwargs = {k: v for k, v in wanted.items() if k in params and v is not None}
    accepts = {"lr": {"lr"}, "imgsz": {"imgsz"}, "batch_size": {"batch_size", "batch"}}
    ignored = [f"--{k.replace('_', '-')}" for k, names in accepts.items()
               if getattr(args, k) is not None and not names & set(params)]
    if ignored:
        raise InputError(f"vision train detect --model {args.model}: {', '.join(ignored)} do not apply to "
                         f"{func.__module__}.{func.__name__}")
    log.info("%s(%s, %s)", func.__name__, train_data.root, kwargs)
    result = func(train_data, **kwargs)
    weights = _save_trained(result, out, args.model)
    metrics = getattr(result, "metrics", None)  # YOLO's run; the others return (detector, History)
    if not isinstance(metrics, dict) and isinstance(result, tuple) and len(result) > 1:
        history = getattr(result[1], "history", {})
        metrics = {k: v[-1] for k, v in history.items() if k.startswith("val_") and v}
    shown = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
    if shown:
        print("validation: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                        for k, v in shown.items()))
    print(f"trained {args.model} on {args.data} ({len(train_data)} images) in {out}")
    if weights is not None:
        print(f"weights: {weights}")
        print(f"  vision val detect --model {registered} --weights {weights} --data "
              f"{'scenes-test' if scenes else args.val or args.data}")
        print(f"  vision predict detect IMAGES --model {registered} --weights {weights}")
    return 0


def add_train_parser(t: Any) -> None:
    """``vision train detect`` under the ``train`` sub-commands ``t``."""
    s = t.add_parser("detect", help="train a detector (YOLO, Faster R-CNN, Fast R-CNN, R-CNN) on COCO/YOLO/VOC or scenes",
                     description="Train a detector family on a dataset (checked first: degenerate boxes, unknown "
                                 "classes). --data scenes trains on the shipped-detector scenes (train split, "
                                 "validated on scenes-val).")
    s.add_argument("--model", required=True, metavar="yolo|faster_rcnn|fast_rcnn|rcnn",
                   help="detector family (also yolov8n, yolo11n)")
    s.add_argument("--data", required=True, metavar="DIR|scenes",
                   help="a COCO / YOLO / VOC dataset (folder, COCO .json or YOLO data.yaml), or scenes (= scenes-train: "
                        "the shipped-detector scenes, seed 0)")
    s.add_argument("--val", metavar="DIR|scenes-val", help="validation dataset (default scenes-val with --data scenes, "
                                                            "else the family's default)")
    s.add_argument("--n", type=int, metavar="N", help="training scenes with --data scenes (default 1000)")
    s.add_argument("--epochs", type=int, help="epochs (default: the family's)")
    s.add_argument("--batch-size", type=int, help="images (or crops) per batch (default: the family's)")
    s.add_argument("--lr", type=float, help="learning rate (default: the family's)")
    s.add_argument("--imgsz", type=int, help="YOLO input size (multiple of 32)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", metavar="DIR", help="run folder (default runs/train/detect/MODEL)")
    s.add_argument("--overwrite", action="store_true", help="train into a non-empty --out")
    s.set_defaults(func=cmd_train_detect)
