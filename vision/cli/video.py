"""``vision predict video FILE`` and ``vision train video``: thin over :mod:`vision.models.video`.
``vision.cli.main`` adds these parsers to its own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vision.errors import InputError

__all__ = ["add_predict_parser", "add_train_parser", "cmd_predict_video", "cmd_train_video"]

#: --actions choices → the action names trained on. "motion" (the default) leaves out rotation: its direction was
#: not learned (held-out accuracy 0.49–0.54 on rotate_cw vs rotate_ccw alone, with three frame encoders and with
#: frame differences as extra channels), so a model trained on "all" confuses the two rotations
_ACTION_SETS = {"directions": ("left", "right", "up", "down"),
                "motion": ("left", "right", "up", "down", "appear", "disappear"),
                "all": ("left", "right", "up", "down", "rotate_cw", "rotate_ccw", "appear", "disappear")}


def _open(name: str, weights: str | None) -> Any:
    from vision.models import create_model, model_spec

    if model_spec(name).task != "video":
        raise InputError(f"--model {name}: a {model_spec(name).task!r} model; expected a video model "
                         "(vision models list --task video)")
    return create_model(name, **({"weights": weights} if weights else {}))


def _clock(seconds: float | None, frame: int) -> str:
    return f"frame {frame}" if seconds is None else f"{seconds:6.2f} s"


def cmd_predict_video(args: argparse.Namespace) -> int:
    from vision.io.files import atomic_write_text
    from vision.models.video.predict import classify_video, plot_timeline

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; expected a folder")
    model = _open(args.model, args.weights)
    result = classify_video(model, args.source, stride=args.stride, max_frames=args.max_frames)
    out.mkdir(parents=True, exist_ok=True)
    records = list(result.records())
    atomic_write_text(out / "clips.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    segments = result.segments()
    summary = {"source": str(args.source), "model": args.model, "weights": model.config.weights,
               "fps": result.fps, "frames": result.frames, "clip_length": result.length,
               "stride": int(result.starts[1] - result.starts[0]) if len(result) > 1 else None,
               "clips": len(result), "segments": segments}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    png = out / "timeline.png"
    plot_timeline(result, path=png)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for seg in segments:
            print(f"{_clock(result.seconds(seg['start']), seg['start'])} – "
                  f"{_clock(result.seconds(seg['end']), seg['end'])}  {seg['label']:<12} "
                  f"{seg['score']:.2f}  ({seg['clips']} clip{'s' if seg['clips'] > 1 else ''})")
        print(f"{len(result)} clips of {result.length} frames from {result.frames} frames"
              f"{'' if result.fps else ' (no frame rate in the file: times are frame numbers)'}; "
              f"{len(segments)} segments → {out / 'clips.jsonl'}, {png}")
    return 0


def add_predict_parser(pr: Any) -> None:
    """``vision predict video`` under the ``predict`` sub-commands ``pr``."""
    s = pr.add_parser("video", help="label every clip of a video (CNN + LSTM action classifier) and draw a timeline",
                      description="Cut a video into clips of the model's length (every --stride frames), classify "
                                  "each, and write clips.jsonl (one line a clip), summary.json (segments of equal "
                                  "labels) and timeline.png.")
    s.add_argument("source", metavar="FILE", help="a video file (.mp4, .avi, .mkv, …)")
    s.add_argument("--model", default="video-cnn-lstm", help="registered video model (default video-cnn-lstm)")
    s.add_argument("--weights", help="a weights file or manifest name (default: the model's own)")
    s.add_argument("--stride", type=int, help="frames between clip starts (default half the clip length)")
    s.add_argument("--max-frames", type=int, metavar="N", help="read at most N frames")
    s.add_argument("--out", default="runs/predict/video", metavar="DIR",
                   help="output folder (default runs/predict/video)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=cmd_predict_video)


def cmd_train_video(args: argparse.Namespace) -> int:
    import torch

    from vision.data import action_videos
    from vision.metrics.plots import plot_history
    from vision.models import create_model, model_spec
    from vision.models.video import evaluate_video_classifier, train_video_classifier
    from vision.models.video.predict import classify_video, plot_timeline

    if model_spec(args.model).task != "video":
        raise InputError(f"--model {args.model}: expected a video model (vision models list --task video)")
    from vision.cli.folders import run_folder

    out = run_folder(args.out or f"runs/train/video/{args.model}", overwrite=args.overwrite)
    actions = _ACTION_SETS[args.actions]
    for name, value in (("--train", args.train), ("--val", args.val), ("--epochs", args.epochs)):
        if value < 1:
            raise InputError(f"{name} must be ≥ 1; got {value}")
    train = action_videos.make_action_videos(args.train, actions=actions, seed=args.seed + 1)
    val = action_videos.make_action_videos(args.val, actions=actions, seed=args.seed + 2)
    torch.manual_seed(args.seed)
    model = create_model(args.model, weights=None, num_classes=len(actions), classes=actions)
    history = train_video_classifier(model, train, val, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                     seed=args.seed, device=args.device)
    out.mkdir(parents=True, exist_ok=True)
    accuracy = evaluate_video_classifier(model, val)
    weights = model.save(out / f"{args.model}.safetensors")
    (out / "history.json").write_text(json.dumps(history.history, indent=2) + "\n")
    plot_history(history.history, path=out / "history.png")
    demo = action_videos.make_action_sequence(actions, classes=actions, seed=args.seed + 3)
    plot_timeline(classify_video(model, demo.frames, stride=model.config.clip_length), truth=demo.labels,
                  path=out / "timeline.png",
                  title="held-out sequence: one segment per action")
    print(f"trained {args.model} on {args.train} synthetic clips ({', '.join(actions)}) in {out}: "
          f"val accuracy {accuracy:.3f} on {args.val} held-out clips")
    print(f"weights: {weights}; history.png; timeline.png (a held-out sequence, truth beneath)")
    print(f"  vision predict video FILE --model {args.model} --weights {weights}")
    return 0


def add_train_parser(t: Any) -> None:
    """``vision train video`` under the ``train`` sub-commands ``t``."""
    s = t.add_parser("video", help="train a clip classifier (CNN + LSTM / GRU / attention / transformer) on "
                                   "synthetic action videos",
                     description="Train a video model from scratch on generated action clips (motion direction, "
                                 "rotation, appear / disappear); writes the weights, history.json / .png and a "
                                 "timeline.png of a held-out sequence.")
    s.add_argument("--model", default="video-cnn-lstm", help="registered video model (default video-cnn-lstm)")
    s.add_argument("--actions", choices=sorted(_ACTION_SETS), default="motion",
                   help="motion: 4 directions + appear / disappear (default); directions; all (adds the two "
                        "rotations, whose direction the small models here do not learn)")
    s.add_argument("--train", type=int, default=4000, help="training clips (default 4000)")
    s.add_argument("--val", type=int, default=1000, help="held-out clips (default 1000)")
    s.add_argument("--epochs", type=int, default=8)
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--lr", type=float, default=3e-3)
    s.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", metavar="DIR", help="run folder (default runs/train/video/MODEL)")
    s.add_argument("--overwrite", action="store_true", help="train into a non-empty --out")
    s.set_defaults(func=cmd_train_video)
