"""The ``vision`` command: argument parsing and printing only; all work is done by the library."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

from vision.errors import InputError, VisionError

log = logging.getLogger("vision.cli")


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


# ------------------------------------------------------------------------------------------------ info / demo
def cmd_info(args: argparse.Namespace) -> int:
    from vision.system import system_info

    info = system_info()
    if args.json:
        _print_json(info)
        return 0
    cv, tv = info["opencv"], info["torch"]
    print(f"vision {info['vision']}  (Python {info['python']}, {info['platform']}, {info['cpu_count']} CPUs)")
    print("packages: " + ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v))
    print(f"opencv: {cv['version']} from {', '.join(f'{k} {v}' for k, v in cv['distributions'].items())}; "
          f"GUI {cv['gui']}; CascadeClassifier {'yes' if cv['has_cascade_classifier'] else 'NO'}; "
          f"{cv['threads']} threads")
    gpus = ", ".join(tv["cuda_devices"]) or "none"
    print(f"torch: {tv['version']} on {tv['device']} (GPUs: {gpus}); {tv['threads']} threads")
    print(f"offline: VISION_OFFLINE={'1' if info['offline']['VISION_OFFLINE'] else 'unset'} "
          f"({info['offline']['note']})")
    w = info["weights"]
    print(f"weights: available {', '.join(w['available']) or 'none'}")
    print(f"         online only {', '.join(w['missing']) or 'none'}")
    print(f"         manifest {w['manifest']}; cache {w['cache']}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from vision.demo import run_demo

    report = run_demo(args.out, scenes=args.scenes, only=args.only,
                      progress=lambda name: print(f"• {name} …", flush=True))
    for step in report.steps:
        mark = "ok" if step.ok else "FAILED"
        print(f"  {mark:6s} {step.name} ({step.seconds:.1f} s, {len(step.outputs)} outputs)")
        if step.error:
            print("         " + step.error.strip().splitlines()[0], file=sys.stderr)
    print(f"\nResults in {report.out_dir}\nSummary: {report.summary}")
    return 0 if report.ok else 1


# ------------------------------------------------------------------------------------------------ weights
def cmd_weights_list(args: argparse.Namespace) -> int:
    from vision.weights import get_entry, list_weights

    rows = list_weights(task=args.task)
    if args.json:
        _print_json([{**get_entry(r.name).to_dict(), "state": r.state, "path": r.path} for r in rows])
        return 0
    width = max(len(r.name) for r in rows) if rows else 10
    for r in rows:
        e = get_entry(r.name)
        where = str(r.path) if r.path else ("built into " + e.builtin if e.builtin else "not here (online only)")
        print(f"{r.name:<{width}}  {e.task:<8} {r.state:<10} {where}")
    return 0


def cmd_weights_verify(args: argparse.Namespace) -> int:
    from vision.weights import load_manifest, verify

    names = args.names or list(load_manifest())
    bad = 0
    for name in names:
        st = verify(name)
        print(f"{name}: {st.state}" + (f" — {st.detail}" if st.detail else ""))
        bad += st.state == "mismatch"
    return 1 if bad else 0


def cmd_weights_path(args: argparse.Namespace) -> int:
    from vision.weights import resolve

    path = resolve(args.name, download=args.download, progress=True)
    print(path if path is not None else f"{args.name} is built in (no file)")
    return 0


# ------------------------------------------------------------------------------------------------ data
def cmd_make_scenes(args: argparse.Namespace) -> int:
    from vision.data import SceneConfig, make_scenes

    config = SceneConfig(image_size=(args.size, args.size))
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    ds = make_scenes(args.out, n=args.n, seed=args.seed, config=config, formats=formats, overwrite=args.overwrite,
                     progress=True)
    objects = sum(len(r.objects) for r in ds.images)
    print(f"{len(ds)} scenes, {objects} objects, classes: {', '.join(ds.classes)}")
    print(f"written to {Path(args.out).resolve()} ({', '.join(formats)})")
    return 0


def cmd_data_stats(args: argparse.Namespace) -> int:
    from vision.data.stats import dataset_stats

    stats = dataset_stats(args.path, format=args.format, plots_dir=args.plots, progress=True)
    if args.json:
        _print_json(stats.to_dict())
    else:
        print(stats.to_markdown())
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from vision.models import list_models, model_spec

    for name in list_models(args.task):
        spec = model_spec(name)
        print(f"{name:<20} {spec.task:<8} weights={spec.weights or '-':<20} {spec.description}")
    return 0


# ------------------------------------------------------------------------------------------------ classic ops
def _ops_list(category: str | None) -> int:
    from vision.classic import get_op, list_ops

    for name in list_ops(category):
        spec = get_op(name)
        params = ", ".join(f"{p.name}={p.default!r}" for p in spec.params)
        print(f"{name:<22} {spec.category:<11} {spec.summary}")
        if params:
            print(f"{'':<34} {params}")
    return 0


_OPS_FLAGS = {"-o": "output", "--output": "output", "--category": "category", "--json": "json"}


def _parse_op_args(words: list[str]) -> tuple[list[str], dict[str, str], dict[str, str | bool]]:
    """Split ``IMAGE --param value -o out.png --json`` into positional words, op parameters (as text) and the
    command's own flags. (argparse cannot know an op's parameters before the op is named.)"""
    positional: list[str] = []
    params: dict[str, str] = {}
    flags: dict[str, str | bool] = {}
    i = 0
    while i < len(words):
        w = words[i]
        if w.startswith("-") and len(w) > 1 and not w[1:2].isdigit():
            key, eq, text = w.partition("=")
            if key == "--json":
                flags["json"] = True
                i += 1
                continue
            if not eq:
                if i + 1 >= len(words):
                    raise InputError(f"{key}: expected a value after it")
                i += 1
                text = words[i]
            if key in _OPS_FLAGS:
                flags[_OPS_FLAGS[key]] = text
            elif key.startswith("--"):
                params[key[2:].replace("-", "_")] = text
            else:
                raise InputError(f"{key}: unknown option; expected --PARAM VALUE, -o FILE or --json")
        else:
            positional.append(w)
        i += 1
    return positional, params, flags


def cmd_ops(args: argparse.Namespace) -> int:
    from vision.classic import get_op
    from vision.classic.pipeline import Pipeline, Step
    from vision.io import read_image, write_image

    positional, texts, flags = _parse_op_args(args.rest)
    if args.action == "list":
        return _ops_list(flags.get("category"))
    if args.action == "run":
        if not positional:
            raise InputError("vision ops run: expected PIPELINE (a .yaml/.json file or an example name) and IMAGES")
        source, *images = positional
        pipe = Pipeline.load(source) if Path(source).suffix.lower() in (".yaml", ".yml", ".json") else Pipeline.example(source)
        if not images:
            raise InputError("vision ops run: expected at least one image, folder or glob after the pipeline")
        summary = pipe.run_many(images, flags.get("output") or "runs/ops", progress=True)
        print(f"{summary['ok']} done, {summary['failed']} failed; results in {summary['results']}")
        return 0 if summary["failed"] == 0 else 1
    spec = get_op(args.action)
    params = {key: spec.param(key).parse(text) for key, text in texts.items()}
    if len(positional) != 1:
        raise InputError(f"vision ops {spec.name}: expected one IMAGE, got {positional or 'none'}")
    src = Path(positional[0])
    result = Pipeline([Step(spec.name, params)]).run(read_image(src))
    out = write_image(flags.get("output") or f"{src.stem}_{spec.name}.png", result.output_image)
    answer = result.steps[0].to_dict()
    if flags.get("json"):
        _print_json({**answer, "output": str(out)})
    else:
        r = answer["result"]
        extra = f", {r['count']} found" if "count" in r else ""
        print(f"{spec.name}: {answer['seconds'] * 1000:.1f} ms{extra} → {out}")
    return 0


# ------------------------------------------------------------------------------------------------ predict / export
def cmd_predict_classify(args: argparse.Namespace) -> int:
    from vision.cli.detect import run_predict
    from vision.infer import open_classifier
    from vision.infer.sources import expand_sources

    if args.batch_size < 1:
        raise InputError(f"--batch-size must be ≥ 1; got {args.batch_size}")
    plan = expand_sources(args.images, shard=args.shard)
    if not plan.images and not plan.videos:
        raise InputError(f"vision predict classify: no image files found in {args.images}")
    clf = open_classifier(args.model, backend=args.backend)
    log.info("%r on %d image(s)", clf, len(plan.images))
    args.predict_options = {"top_k": args.topk}

    def record(r) -> dict:
        if r.error:
            return {"image": r.item.key, "error": r.error}
        return {"image": r.item.key, "class_ids": r.result.class_ids.tolist(),
                "scores": [round(float(v), 6) for v in r.result.scores], "labels": list(r.result.labels)}

    def line(r) -> str:
        return f"{r.item.key}: " + ", ".join(f"{label} {score:.3f}" for label, score in zip(r.result.labels,
                                                                                           r.result.scores))

    return run_predict(args, clf, task="classify", sources=plan, line=line, legacy=record,
                       meta={"model": str(args.model), "backend": args.backend, "topk": args.topk})


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from vision.infer import export_onnx, open_classifier

    clf = open_classifier(args.model)
    out = export_onnx(clf, args.out, input_size=args.input_size, opset=args.opset, dynamic_batch=not args.fixed_batch)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, opset {args.opset}, {clf.num_classes} classes, "
          f"{'fixed batch 1' if args.fixed_batch else 'dynamic batch'})")
    return 0


# ------------------------------------------------------------------------------------------------ train
def _fraction_or_path(text: str) -> float | str:
    """``--test``: a number is a fraction to hold out, anything else a folder or CSV."""
    try:
        return float(text)
    except ValueError:
        return text


def cmd_train_classify(args: argparse.Namespace) -> int:
    from vision.train.recipes import train_classifier

    run = train_classifier(data=args.data, model=args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           subset=args.subset, out_dir=args.out, seed=args.seed, progress=True,
                           pretrained=args.pretrained, freeze=args.freeze, head_epochs=args.head_epochs,
                           base_lr=args.base_lr, image_size=args.image_size, channels=args.channels,
                           augment=args.augment, val_fraction=args.val_fraction,
                           test=None if args.test is None else _fraction_or_path(args.test),
                           image_col=args.image_col, label_col=args.label_col, num_workers=args.workers)
    print(f"test accuracy {run.test['accuracy']:.4f} (best epoch {run.test['best_epoch']}, {run.test['images']} images)")
    print(f"files in {run.out_dir}: " + ", ".join(p.name for p in run.files))
    print(f"classifier bundle: {run.bundle} (vision val {run.bundle} --data ...; vision predict classify --model "
          f"{run.bundle} IMAGES)")
    return 0


def cmd_val(args: argparse.Namespace) -> int:
    from vision.train.recipes import evaluate_classifier

    if args.bundle == "detect":
        from vision.cli.detect import cmd_val_detect

        return cmd_val_detect(args)
    if args.data is None:
        args.parser.error("--data is required with a classifier BUNDLE")
    r = evaluate_classifier(args.bundle, args.data, out_dir=args.out, batch_size=args.batch_size,
                            image_col=args.image_col, label_col=args.label_col, seed=args.seed)
    if args.json:
        _print_json(r)
        return 0
    print(f"{r['model']} from {r['bundle']} on {r['data']} ({r['split']}, {r['images']} images)")
    print(f"accuracy {r['accuracy']:.4f}   macro F1 {r['macro_f1']:.4f}   macro precision "
          f"{r['macro_precision']:.4f}   macro recall {r['macro_recall']:.4f}")
    width = max(len("class"), *(len(c["class"]) for c in r["per_class"]))
    print(f"{'class':<{width}}  precision  recall     f1  support")
    for c in r["per_class"]:
        print(f"{c['class']:<{width}}  {c['precision']:9.4f}  {c['recall']:6.4f}  {c['f1']:.4f}  {c['support']:7d}")
    if r["files"]:
        print("files: " + ", ".join(r["files"]))
    return 0


# ------------------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    from vision.cli import app, detect, generate, segment, stream, video

    p = argparse.ArgumentParser(prog="vision", description="Offline-first computer vision: classic ops, training, "
                                "detection, segmentation, generative and video models.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("info", help="versions, OpenCV build, torch device, offline status, weights")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("demo", help="run every capability on shipped samples; writes runs/demo/")
    s.add_argument("--out", default="runs/demo", help="output folder (emptied first; default runs/demo)")
    s.add_argument("--scenes", type=int, default=16, help="synthetic scenes to generate (default 16)")
    s.add_argument("--only", nargs="+", metavar="WORD", help="run only steps whose name contains WORD")
    s.set_defaults(func=cmd_demo)

    w = sub.add_parser("weights", help="the weights manifest").add_subparsers(dest="action", required=True, metavar="ACTION")
    s = w.add_parser("list", help="every entry and whether it is available here")
    s.add_argument("--task")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_weights_list)
    s = w.add_parser("verify", help="check files against their sha256 (exit 1 on a mismatch)")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.set_defaults(func=cmd_weights_verify)
    s = w.add_parser("path", help="print the local path of NAME (downloads it when online)")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--no-download", dest="download", action="store_false")
    s.set_defaults(func=cmd_weights_path)

    d = sub.add_parser("data", help="datasets").add_subparsers(dest="action", required=True, metavar="ACTION")
    s = d.add_parser("make-scenes", help="generate the synthetic-scenes detection/segmentation dataset")
    s.add_argument("out", metavar="OUT_DIR")
    s.add_argument("-n", "--n", type=int, default=200, help="number of images (default 200)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=320, help="image side in pixels (default 320)")
    s.add_argument("--formats", default="coco,yolo,voc", help="comma list of coco, yolo, voc")
    s.add_argument("--overwrite", action="store_true", help="replace a scenes dataset already in OUT_DIR")
    s.set_defaults(func=cmd_make_scenes)
    s = d.add_parser("stats", help="EDA report of a dataset folder (COCO / YOLO / VOC / image folder)")
    s.add_argument("path", metavar="PATH")
    s.add_argument("--format", choices=["coco", "yolo", "voc", "folder"])
    s.add_argument("--plots", metavar="DIR", help="write PNG plots here")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_data_stats)

    s = sub.add_parser("ops", help="classic image ops: list | OP IMAGE [--param value ...] | run PIPELINE IMAGES...",
                       description="vision ops list [--category C]\n"
                                   "vision ops OP IMAGE [--param value ...] [-o out.png] [--json]\n"
                                   "vision ops run PIPELINE.yaml|EXAMPLE IMAGES... [-o DIR]",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("action", metavar="list|run|OP")
    s.add_argument("rest", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="IMAGE, --PARAM VALUE ..., -o/--output FILE|DIR, --json, --category C")
    s.set_defaults(func=cmd_ops)

    pr = sub.add_parser("predict", help="run a model on images").add_subparsers(dest="action", required=True,
                                                                               metavar="TASK")
    s = pr.add_parser("classify", help="top-k classes of images (files, folders, globs, .txt lists, videos)",
                      description="Top-k classes of every image (and video frame). Without --out each prints its "
                                  "classes; with --out DIR results stream to DIR/results.jsonl (or csv), bad files "
                                  "are listed and skipped (exit 1), and rerunning the same command resumes.")
    s.add_argument("images", nargs="+", metavar="SOURCE",
                   help="image files, folders (searched recursively), globs, .txt files of paths, videos")
    s.add_argument("--model", default="efficientnet-lite0",
                   help="registered model name, trained-classifier folder (or its model.json), or .onnx file "
                        "(default efficientnet-lite0, ImageNet)")
    s.add_argument("--topk", type=int, default=5, help="classes per image (default 5)")
    s.add_argument("--json", action="store_true", help="print one JSON list of results (with --out: the summary)")
    s.add_argument("--save", metavar="DIR", help="without --out: write annotated PNGs here")
    s.add_argument("--backend", choices=["torch", "onnx"], default="torch",
                   help="torch, or onnx (onnxruntime; a PyTorch model is exported first; default torch)")
    detect.add_batch_options(s, batch_size=16, formats="csv")
    s.set_defaults(func=cmd_predict_classify)
    detect.add_predict_parser(pr)
    segment.add_predict_parser(pr)
    video.add_predict_parser(pr)

    e = sub.add_parser("export", help="export a model").add_subparsers(dest="action", required=True, metavar="FORMAT")
    s = e.add_parser("onnx", help="write a classifier as ONNX (preprocessing and labels stored inside)")
    s.add_argument("model", metavar="MODEL", help="registered model name or trained-classifier folder")
    s.add_argument("--out", required=True, metavar="FILE", help="the .onnx file to write")
    s.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    s.add_argument("--input-size", type=int, help="input side in pixels (default the model's preprocessing)")
    s.add_argument("--fixed-batch", action="store_true", help="batch dimension fixed at 1 (default dynamic)")
    s.set_defaults(func=cmd_export_onnx)

    t = sub.add_parser("train", help="train a model").add_subparsers(dest="action", required=True, metavar="TASK")
    s = t.add_parser("classify", help="train a classifier (from scratch or transfer learning; AdamW + one-cycle)")
    s.add_argument("--data", default="fashion-mnist", metavar="fashion-mnist|digits|DIR|CSV",
                   help="built-in dataset, image folder (root/<class>/<image> or root/train|val|test/<class>/...) "
                        "or CSV of image paths and labels (default fashion-mnist)")
    s.add_argument("--model", default="fmnist-cnn",
                   help="registered classify model or backbone arch, e.g. efficientnet-lite0, resnet18 (default "
                        "fmnist-cnn)")
    s.add_argument("--pretrained", action="store_true", help="start from the model's ImageNet weights")
    s.add_argument("--freeze", type=int, metavar="N",
                   help="two-phase transfer: train the head on the frozen base, then fine-tune with the first N "
                        "blocks still frozen (0 = fine-tune all; the model's block count = head only)")
    s.add_argument("--head-epochs", type=int, metavar="N", help="phase-1 epochs with --freeze (default half)")
    s.add_argument("--base-lr", type=float, help="learning rate of the fine-tuned base (default lr/10)")
    s.add_argument("--image-size", type=int, metavar="PX", help="input side (default the model's)")
    s.add_argument("--channels", type=int, choices=[1, 3], help="1 = gray, 3 = RGB (default the model's)")
    s.add_argument("--augment", metavar="PRESET", help="augmentation preset: light, standard, strong")
    s.add_argument("--epochs", type=int, default=5)
    s.add_argument("--batch-size", type=int, default=128)
    s.add_argument("--lr", type=float, default=3e-3, help="one-cycle peak learning rate (the head's with --freeze)")
    s.add_argument("--subset", type=int, help="train on this many images")
    s.add_argument("--val-fraction", type=float, default=0.1, help="held out for validation (default 0.1)")
    s.add_argument("--test", metavar="FRACTION|DIR|CSV",
                   help="test set: a fraction to hold out or a folder/CSV (default the dataset's own, else 0.2)")
    s.add_argument("--image-col", default="filename", help="CSV column of image paths (default filename)")
    s.add_argument("--label-col", default="label", help="CSV column of labels (default label)")
    s.add_argument("--workers", type=int, default=0, help="data-loading processes (default 0)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="runs/train/classify")
    s.set_defaults(func=cmd_train_classify)
    detect.add_train_parser(t)
    segment.add_train_parser(t)
    generate.add_train_parser(t)
    video.add_train_parser(t)

    s = sub.add_parser("val", help="evaluate a trained classifier (accuracy, F1) or a detector (vision val detect: mAP)")
    s.add_argument("bundle", metavar="BUNDLE|detect",
                   help="trained-classifier folder (model.json + weights.safetensors), or the word detect")
    s.add_argument("--data", metavar="DIR|CSV|digits|fashion-mnist",
                   help="image folder (a train/val/test layout is scored on val/), CSV, or built-in test split; "
                        "with detect: a COCO/YOLO/VOC dataset or scenes-test (default)")
    s.add_argument("--out", metavar="DIR", help="write confusion_matrix.png (detect: pr_curves.png) and report.json here")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--image-col", default="filename", help="CSV column of image paths (default filename)")
    s.add_argument("--label-col", default="label", help="CSV column of labels (default label)")
    s.add_argument("--seed", type=int, default=0, help="digits split seed used in training (default 0)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_val, parser=s)
    detect.add_val_options(s)
    detect.add_compare_parser(sub)
    stream.add_stream_parser(sub)
    generate.add_generate_parser(sub)

    m = sub.add_parser("models", help="the model registry").add_subparsers(dest="action", required=True, metavar="ACTION")
    s = m.add_parser("list", help="registered models")
    s.add_argument("--task")
    s.set_defaults(func=cmd_models_list)
    app.add_app_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except VisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
