"""Video clip classification: CNN + temporal heads vs the frame-averaging baseline on synthetic action clips.

Trains every head on ``make_action_videos`` (direction classes by default) with the shared trainer, measures
accuracy on a held-out seed and inference throughput (clips/s), and writes bench/results/video.json and video.md.

With ``--encoders`` it compares per-frame encoders under the same CNN + LSTM head instead (the suite's tiny frame
CNN from scratch, ``"resnet-small"`` fine-tuned, ``"efficientnet-lite0"`` with its ImageNet weights frozen and
fine-tuned; ``"resnet-small"`` also with its global average pool kept, to show what the 4×4 grid pool brings) and
writes bench/results/video_encoders.json and video_encoders.md.

    python bench/bench_video.py [--train 1200] [--test 1000] [--epochs 6] [--device cpu] [--threads 1]
    python bench/bench_video.py --encoders [--size 32]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

HEADS = {"video-cnn-lstm": "CNN + LSTM", "video-cnn-gru": "CNN + GRU", "video-cnn-attention": "CNN + LSTM + attention",
         "video-cnn-transformer": "CNN + transformer", "video-frame-avg": "frame averaging (baseline)"}

#: --encoders rows: (row name, what, VideoClassifierConfig overrides of the CNN + LSTM model)
ENCODERS = (
    ("small", "tiny frame CNN (scratch)", {}),
    ("resnet-small", "resnet-small (scratch, fine-tuned)", {"encoder": "resnet-small"}),
    ("resnet-small-global", "resnet-small (scratch), global pool",
     {"encoder": "resnet-small", "encoder_pool": "global"}),
    ("lite0-frozen", "efficientnet-lite0 ImageNet, frozen", {"encoder": "efficientnet-lite0", "freeze_encoder": True}),
    ("lite0-finetuned", "efficientnet-lite0 ImageNet, fine-tuned", {"encoder": "efficientnet-lite0"}),
)


def main() -> None:
    from vision.data.action_videos import DIRECTION_ACTIONS, make_action_videos
    from vision.models import create_model
    from vision.nn.recurrent import input_gradient_norm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", default=",".join(HEADS))
    ap.add_argument("--encoders", action="store_true", help="compare frame encoders (CNN + LSTM) instead of heads")
    ap.add_argument("--size", type=int, default=32, help="frame side (--encoders)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = Path(__file__).parent / "results"
    if args.encoders:
        encoders(args, Path(args.out) if args.out else results / "video_encoders")
        return
    train = make_action_videos(args.train, seed=1)
    test = make_action_videos(args.test, seed=2)
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = create_model(name, weights=None, num_classes=len(DIRECTION_ACTIONS))
        rows.append({"model": name, "what": HEADS.get(name, name), **_fit_and_measure(model, train, test, args)})
        print(json.dumps(rows[-1]), flush=True)
    grads = {k: input_gradient_norm(k) for k in ("rnn", "lstm", "gru")}
    grads["lstm_forget_bias_1"] = input_gradient_norm("lstm", forget_bias=1.0)
    doc = {"task": "4 motion directions, T=8, 32×32", "train_clips": args.train, "test_clips": args.test,
           "epochs": args.epochs, "device": args.device, "threads": args.threads, "torch": torch.__version__,
           "machine": platform.processor() or platform.machine(), "rows": rows,
           "grad_norm_100_steps": grads}
    out = Path(args.out) if args.out else results / "video"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=2))
    lines = [f"# Video clip classification ({doc['task']}, held-out seed, {args.device}, {args.threads} thread(s))",
             "", "| model | accuracy | train s | clips/s |", "|---|---|---|---|"]
    lines += [f"| {r['what']} | {r['accuracy']:.3f} | {r['train_s']:.0f} | {r['clips_per_s']:.0f} |" for r in rows]
    lines += ["", "‖∂h_100/∂x_0‖ (float64, seed 0): " + ", ".join(f"{k} {v:.2g}" for k, v in grads.items())]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


def _fit_and_measure(model, train, test, args) -> dict:
    from vision.models.video import clips_per_second, evaluate_video_classifier, train_video_classifier

    start = time.perf_counter()
    train_video_classifier(model, train, epochs=args.epochs, batch_size=32, device=args.device)
    fit_s = time.perf_counter() - start
    acc = evaluate_video_classifier(model, test)
    cps = clips_per_second(model, test.videos[:512], batch_size=64, device=args.device)
    return {"accuracy": acc, "train_s": fit_s, "clips_per_s": cps}


def encoders(args, out: Path) -> None:
    """Frame encoders under the same CNN + LSTM head: accuracy, train seconds and clips/s per row."""
    from vision.data.action_videos import DIRECTION_ACTIONS, make_action_videos
    from vision.models import create_model

    train = make_action_videos(args.train, size=args.size, seed=1)
    test = make_action_videos(args.test, size=args.size, seed=2)
    rows = []
    for name, what, overrides in ENCODERS:
        torch.manual_seed(0)
        model = create_model("video-cnn-lstm", weights=None, num_classes=len(DIRECTION_ACTIONS),
                             frame_size=args.size, **overrides)
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in model.parameters())
        rows.append({"encoder": name, "what": what, "params": total, "trainable": trainable,
                     **_fit_and_measure(model, train, test, args)})
        print(json.dumps(rows[-1]), flush=True)
    doc = {"task": f"4 motion directions, T=8, {args.size}×{args.size}, CNN + LSTM head", "train_clips": args.train,
           "test_clips": args.test, "epochs": args.epochs, "device": args.device, "threads": args.threads,
           "torch": torch.__version__, "machine": platform.processor() or platform.machine(), "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=2))
    lines = [f"# Video frame encoders ({doc['task']}, {args.train} train / {args.test} held-out clips, "
             f"{args.epochs} epochs, {args.device}, {args.threads} thread(s))", "",
             "| encoder | params (trainable) | accuracy | train s | clips/s |", "|---|---|---|---|---|"]
    lines += [f"| {r['what']} | {r['params'] / 1e6:.2f} M ({r['trainable'] / 1e6:.2f} M) | {r['accuracy']:.3f} | "
              f"{r['train_s']:.0f} | {r['clips_per_s']:.0f} |" for r in rows]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
