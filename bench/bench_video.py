"""Video clip classification: CNN + temporal heads vs the frame-averaging baseline on synthetic action clips.

Trains every head on ``make_action_videos`` (direction classes by default) with the shared trainer, measures
accuracy on a held-out seed and inference throughput (clips/s), and writes bench/results/video.json and video.md.

    python bench/bench_video.py [--train 1200] [--test 1000] [--epochs 6] [--device cpu] [--threads 1]
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


def main() -> None:
    from vision.data.action_videos import DIRECTION_ACTIONS, make_action_videos
    from vision.models import create_model
    from vision.models.video import clips_per_second, evaluate_video_classifier, train_video_classifier
    from vision.nn.recurrent import input_gradient_norm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", default=",".join(HEADS))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "video"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    train = make_action_videos(args.train, seed=1)
    test = make_action_videos(args.test, seed=2)
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = create_model(name, weights=None, num_classes=len(DIRECTION_ACTIONS))
        start = time.perf_counter()
        train_video_classifier(model, train, epochs=args.epochs, batch_size=32, device=args.device)
        fit_s = time.perf_counter() - start
        acc = evaluate_video_classifier(model, test)
        cps = clips_per_second(model, test.videos[:512], batch_size=64, device=args.device)
        rows.append({"model": name, "what": HEADS.get(name, name), "accuracy": acc, "train_s": fit_s,
                     "clips_per_s": cps})
        print(json.dumps(rows[-1]), flush=True)
    grads = {k: input_gradient_norm(k) for k in ("rnn", "lstm", "gru")}
    grads["lstm_forget_bias_1"] = input_gradient_norm("lstm", forget_bias=1.0)
    doc = {"task": "4 motion directions, T=8, 32×32", "train_clips": args.train, "test_clips": args.test,
           "epochs": args.epochs, "device": args.device, "threads": args.threads, "torch": torch.__version__,
           "machine": platform.processor() or platform.machine(), "rows": rows,
           "grad_norm_100_steps": grads}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=2))
    lines = [f"# Video clip classification ({doc['task']}, held-out seed, {args.device}, {args.threads} thread(s))",
             "", "| model | accuracy | train s | clips/s |", "|---|---|---|---|"]
    lines += [f"| {r['what']} | {r['accuracy']:.3f} | {r['train_s']:.0f} | {r['clips_per_s']:.0f} |" for r in rows]
    lines += ["", "‖∂h_100/∂x_0‖ (float64, seed 0): " + ", ".join(f"{k} {v:.2g}" for k, v in grads.items())]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
