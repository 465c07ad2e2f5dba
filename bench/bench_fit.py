"""Trainer overhead: ``Trainer.fit`` epoch time against a hand-written PyTorch loop, and a Fashion-MNIST run.

Overhead mode (default): the same model (one seeded init, deep-copied), the same Fashion-MNIST tensors in
memory, the same ``DataLoader`` settings (batch size, a generator seeded identically), the same optimizer
(``torch.optim.Adam``, lr 1e-3). The two are timed alternately (A, B, A, B, …; the order flips every repeat) in one
process; each repeat trains ``--epochs`` epochs from the same init. The hand loop tracks loss and accuracy like
the Trainer does (``loss.item()`` and an argmax count per batch). The goal is ratio = Trainer / hand ≤ 1.03.
When the ratio is over 1.03 (or with ``--profile``), one Trainer epoch runs under cProfile and the hot spots go
into the report. Writes bench/results/fit.json and fit.md.

Fashion-MNIST mode (``--fashion-run``): the registered ``fmnist-cnn`` trained on all 60 000 images with the
Trainer (AdamW + one-cycle, random flips, optional random shifts), evaluated on the 10 000 test images after each epoch.
Writes bench/results/fashion_mnist.json and fashion_mnist.md.

    python bench/bench_fit.py [--epochs 1] [--subset 10000] [--batch-size 128] [--repeats 3] [--profile]
    python bench/bench_fit.py --fashion-run [--epochs 16] [--batch-size 128] [--shift 0] [--time-budget 480]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from vision.data.mnist import load_fashion_mnist
from vision.models import create_model
from vision.train import ClassificationTask, Trainer, make_optimizer, make_schedule

RESULTS = Path(__file__).parent / "results"
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-set pixel mean / std (of x / 255)
GOAL = 1.03


def _tensors(split: str, subset: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels, _ = load_fashion_mnist(split)
    if subset is not None:
        images, labels = images[:subset], labels[:subset]
    x = (torch.from_numpy(images).float().div_(255.0).sub_(MEAN).div_(STD)).unsqueeze(1)
    return x.contiguous(), torch.from_numpy(labels)


def _loader(x: torch.Tensor, y: torch.Tensor, batch_size: int, *, seed: int, shuffle: bool = True,
            collate_fn=None) -> DataLoader:
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=gen,
                      collate_fn=collate_fn)


# --------------------------------------------------------------------------------------------------
# A: the Trainer; B: the hand-written loop
# --------------------------------------------------------------------------------------------------
def _trainer_epochs(model: torch.nn.Module, loader: DataLoader, epochs: int) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, ClassificationTask(), optimizer=opt)
    t0 = time.perf_counter()
    trainer.fit(loader, epochs=epochs)
    return (time.perf_counter() - t0) / epochs


def _hand_epochs(model: torch.nn.Module, loader: DataLoader, epochs: int) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total, correct, count = 0.0, 0, 0
        for x, y in loader:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            correct += int((logits.detach().argmax(1) == y).sum())
            count += len(y)
        _ = (total / count, correct / count)
    return (time.perf_counter() - t0) / epochs


def _profile_trainer(model: torch.nn.Module, loader: DataLoader, top: int = 25) -> tuple[str, float]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, ClassificationTask(), optimizer=opt)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    trainer.fit(loader, epochs=1)
    prof.disable()
    wall = time.perf_counter() - t0
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    buf.write("\n-- the library's own functions (vision/), by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(r"vision/", top)
    return buf.getvalue(), wall


def run_overhead(args: argparse.Namespace) -> dict:
    x, y = _tensors("train", args.subset)
    torch.manual_seed(0)
    base = create_model("fmnist-cnn")
    rows = []
    for rep in range(args.repeats):
        order = ("trainer", "hand") if rep % 2 == 0 else ("hand", "trainer")
        row = {"repeat": rep}
        for who in order:
            model = copy.deepcopy(base)
            loader = _loader(x, y, args.batch_size, seed=1234)
            torch.manual_seed(rep)  # same dropout draws for both sides
            fn = _trainer_epochs if who == "trainer" else _hand_epochs
            row[f"{who}_s"] = fn(model, loader, args.epochs)
        row["ratio"] = row["trainer_s"] / row["hand_s"]
        rows.append(row)
        print(f"repeat {rep}: trainer {row['trainer_s']:.3f} s/epoch, hand {row['hand_s']:.3f} s/epoch, "
              f"ratio {row['ratio']:.3f}", flush=True)
    trainer_s = statistics.median(r["trainer_s"] for r in rows)
    hand_s = statistics.median(r["hand_s"] for r in rows)
    ratio = statistics.median(r["ratio"] for r in rows)
    result = {
        "meta": {"machine": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                 "threads": torch.get_num_threads(), "epochs": args.epochs, "subset": args.subset,
                 "batch_size": args.batch_size, "repeats": args.repeats, "images": len(y),
                 "model": "fmnist-cnn", "optimizer": "Adam lr=1e-3"},
        "rows": rows, "trainer_epoch_s": trainer_s, "hand_epoch_s": hand_s, "ratio_median": ratio, "goal": GOAL,
    }
    profile_text = None
    if ratio > GOAL or args.profile:
        profile_text, wall = _profile_trainer(copy.deepcopy(base), _loader(x, y, args.batch_size, seed=1234))
        result["profile_wall_s"] = wall
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fit.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Trainer.fit vs a hand-written loop",
        "",
        (f"{len(y)} Fashion-MNIST images, batch {args.batch_size}, {args.epochs} epoch(s) per repeat, "
        f"{args.repeats} repeats alternating, model fmnist-cnn, Adam lr 1e-3, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}."),
        "",
        "| repeat | Trainer s/epoch | hand s/epoch | ratio |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['repeat']} | {r['trainer_s']:.3f} | {r['hand_s']:.3f} | {r['ratio']:.3f} |" for r in rows]
    lines += [f"| median | {trainer_s:.3f} | {hand_s:.3f} | {ratio:.3f} |", "",
              f"Goal ratio ≤ {GOAL}: {'met' if ratio <= GOAL else 'NOT met'}."]
    if profile_text is not None:
        lines += ["", "## cProfile of one Trainer epoch (sorted by own time)", "", "```", profile_text.strip(), "```"]
    (RESULTS / "fit.md").write_text("\n".join(lines) + "\n")
    print(f"median: trainer {trainer_s:.3f} s/epoch, hand {hand_s:.3f} s/epoch, ratio {ratio:.3f} (goal ≤ {GOAL})")
    if profile_text is not None:
        print(profile_text)
    return result


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST accuracy run
# --------------------------------------------------------------------------------------------------
class _FlipShift:
    """Collate (x, y) pairs into a batch, then flip half the images left-right and shift each by up to ±pad px."""

    def __init__(self, pad: int, seed: int) -> None:
        self.pad = pad
        self.gen = torch.Generator().manual_seed(seed)

    def __call__(self, items):
        x = torch.stack([i[0] for i in items])
        y = torch.stack([i[1] for i in items])
        n, _, h, w = x.shape
        flip = torch.rand(n, generator=self.gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        p = self.pad
        xp = F.pad(x, (p, p, p, p), value=float(-MEAN / STD))  # pad with the normalised value of black
        dy = torch.randint(0, 2 * p + 1, (n,), generator=self.gen)
        dx = torch.randint(0, 2 * p + 1, (n,), generator=self.gen)
        rows = (dy[:, None] + torch.arange(h))[:, :, None]
        cols = (dx[:, None] + torch.arange(w))[:, None, :]
        x = xp[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
        return x, y


def run_fashion(args: argparse.Namespace) -> dict:
    x, y = _tensors("train", args.subset)
    xt, yt = _tensors("test", None)
    torch.manual_seed(0)
    overrides = {k: v for k, v in (("dropout", args.dropout), ("head_dropout", args.head_dropout)) if v is not None}
    model = create_model("fmnist-cnn", **overrides)
    train = _loader(x, y, args.batch_size, seed=1234, collate_fn=_FlipShift(args.shift, seed=99))
    test = _loader(xt, yt, 512, seed=0, shuffle=False)
    opt = make_optimizer(model, "adamw", lr=args.lr / 25, weight_decay=5e-4)
    schedule = make_schedule(opt, "onecycle", max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(train))
    trainer = Trainer(model, ClassificationTask(), optimizer=opt, schedule=schedule)
    rows, elapsed = [], 0.0
    params = sum(p.numel() for p in model.parameters())
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "model": "fmnist-cnn", "config": model.config.to_dict(),
            "parameters": params, "train_images": len(y), "test_images": len(yt),
            "batch_size": args.batch_size, "epochs_planned": args.epochs,
            "optimizer": f"AdamW weight_decay 5e-4, one-cycle max_lr {args.lr} over the planned epochs",
            "augmentation": f"random horizontal flip, random shift ±{args.shift} px", "time_budget_s": args.time_budget}
    result: dict = {}
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        trainer.fit(train, test, epochs=epoch)
        dt = time.perf_counter() - t0
        elapsed += dt
        h = trainer.history.history
        rows.append({"epoch": epoch, "seconds": dt, "elapsed_s": elapsed, "loss": h["loss"][-1],
                     "train_accuracy": h["accuracy"][-1], "test_loss": h["val_loss"][-1],
                     "test_accuracy": h["val_accuracy"][-1], "lr": h["lr"][-1]})
        print(f"epoch {epoch}: {dt:.1f} s (total {elapsed:.0f} s), loss {rows[-1]['loss']:.4f}, "
              f"train acc {rows[-1]['train_accuracy']:.4f}, test acc {rows[-1]['test_accuracy']:.4f}", flush=True)
        stopped = args.time_budget is not None and elapsed >= args.time_budget and epoch < args.epochs
        result = _write_fashion(meta, rows, elapsed, args, stopped=stopped)  # after every epoch: partial runs count
        if stopped:
            break
    return result


def _write_fashion(meta: dict, rows: list[dict], elapsed: float, args: argparse.Namespace, *, stopped: bool) -> dict:
    result = {"meta": meta, "rows": rows, "epochs_done": len(rows), "stopped_by_time_budget": stopped,
              "final_test_accuracy": rows[-1]["test_accuracy"],
              "best_test_accuracy": max(r["test_accuracy"] for r in rows), "total_s": elapsed}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fashion_mnist.json").write_text(json.dumps(result, indent=2))
    lines = [
        "# Fashion-MNIST with fmnist-cnn and the Trainer (CPU)",
        "",
        (f"{meta['parameters']} parameters, {meta['train_images']} train / {meta['test_images']} test images, "
        f"batch {args.batch_size}, AdamW (weight decay 5e-4) with one-cycle to lr {args.lr} over "
        f"{args.epochs} planned epochs, flips and ±{args.shift} px shifts, dropout {meta['config']['dropout']} / "
        f"head {meta['config']['head_dropout']}, {meta['threads']} threads, torch {meta['torch']}. "
        "Time per epoch includes the test evaluation."),
        "",
        "| epoch | seconds | elapsed s | train loss | train acc | test loss | test acc |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['epoch']} | {r['seconds']:.1f} | {r['elapsed_s']:.0f} | {r['loss']:.4f} | "
              f"{r['train_accuracy']:.4f} | {r['test_loss']:.4f} | {r['test_accuracy']:.4f} |" for r in rows]
    done = f"{len(rows)} of {args.epochs} planned epochs" + (" (stopped by the time budget)" if stopped else "")
    lines += ["", f"Test accuracy {result['final_test_accuracy']:.4f} after {done}, {elapsed:.0f} s."]
    (RESULTS / "fashion_mnist.md").write_text("\n".join(lines) + "\n")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fashion-run", action="store_true", help="train fmnist-cnn on all of Fashion-MNIST instead")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per repeat (default 1), or of the run (16)")
    ap.add_argument("--subset", type=int, default=None,
                    help="first N training images (default 10000 for the overhead bench, all for the run)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of the Fashion-MNIST run")
    ap.add_argument("--time-budget", type=float, default=None,
                    help="Fashion-MNIST run: stop after the epoch that passes this many seconds of training")
    ap.add_argument("--shift", type=int, default=0, help="Fashion-MNIST run: random shift in pixels (0 = none)")
    ap.add_argument("--dropout", type=float, default=None, help="Fashion-MNIST run: fmnist-cnn dropout override")
    ap.add_argument("--head-dropout", type=float, default=None,
                    help="Fashion-MNIST run: fmnist-cnn head_dropout override")
    ap.add_argument("--profile", action="store_true", help="cProfile one Trainer epoch even when the goal is met")
    args = ap.parse_args()
    np.random.seed(0)
    if args.fashion_run:
        args.epochs = args.epochs or 16
        run_fashion(args)
    else:
        args.epochs = args.epochs or 1
        args.subset = 10000 if args.subset is None else args.subset
        run_overhead(args)


if __name__ == "__main__":
    main()
