"""Classic ops against scikit-image and raw OpenCV, in one run, on 1024×1024 photos.

For every op with a peer entry in ``bench/classic_peers/*.py`` (``PEERS = {op: {"params", "skimage", "opencv"}}``),
time ``apply_op(op, image, **params)`` (what a user of vision calls) against the peer callables on the same image,
and report ratios: ``skimage / vision`` (goal ≥ 1) and ``vision / opencv − 1`` (the overhead; goal ≤ 5 %).
Medians of repeated runs, interleaved so that machine noise hits all three alike.

    python bench/bench_classic.py [--repeat 7] [--only canny sobel] [--size 1024] [--out classic]

Writes bench/results/classic.json and classic.md (or NAME.json / NAME.md with --out NAME).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so that classic_peers imports as a package from a checkout

from vision.classic import apply_op, get_op  # noqa: E402
from vision.data import load_sample  # noqa: E402


def photo(size: int) -> np.ndarray:
    """A real photo resized to size×size (astronaut: faces, edges, flat areas and texture)."""
    return cv2.resize(load_sample("astronaut"), (size, size), interpolation=cv2.INTER_CUBIC)


def load_peers() -> dict[str, dict]:
    peers: dict[str, dict] = {}
    for path in sorted((HERE / "classic_peers").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"classic_peers.{path.stem}")
        peers.update(getattr(module, "PEERS", {}))
    return peers


def _time(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--out", default="classic", help="results name: bench/results/NAME.json and NAME.md")
    args = ap.parse_args()
    img = photo(args.size)
    peers = load_peers()
    rows = []
    for op, entry in sorted(peers.items()):
        if args.only and op not in args.only:
            continue
        get_op(op)  # unknown names fail loudly
        params = entry.get("params", {})
        image = entry["prepare"](img) if entry.get("prepare") else img
        calls = {"vision": lambda: apply_op(op, image, **params)}
        for peer in ("skimage", "opencv"):
            if entry.get(peer) is not None:
                calls[peer] = (lambda f: (lambda: f(image)))(entry[peer])
        for fn in calls.values():  # warm-up (imports, caches, thread pools)
            fn()
        times: dict[str, list[float]] = {k: [] for k in calls}
        for _ in range(args.repeat):  # interleaved
            for k, fn in calls.items():
                times[k] += _time(fn, 1)
        med = {k: statistics.median(v) for k, v in times.items()}
        row = {"op": op, "vision_ms": med["vision"] * 1e3}
        if "skimage" in med:
            row["skimage_ms"] = med["skimage"] * 1e3
            row["skimage_over_vision"] = med["skimage"] / med["vision"]
        if "opencv" in med:
            row["opencv_ms"] = med["opencv"] * 1e3
            row["overhead_vs_opencv"] = med["vision"] / med["opencv"] - 1
        rows.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "size": args.size, "repeat": args.repeat,
            "opencv_threads": cv2.getNumThreads()}
    (out / f"{args.out}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [f"1024×1024 RGB astronaut, median of {args.repeat}, {os.cpu_count()} CPUs.", "",
             "| op | vision ms | scikit-image ms | skimage / vision | OpenCV ms | overhead vs OpenCV |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        sk = f"{r['skimage_ms']:.2f} | {r['skimage_over_vision']:.2f}×" if "skimage_ms" in r else "— | —"
        cv = f"{r['opencv_ms']:.2f} | {r['overhead_vs_opencv'] * 100:+.1f}%" if "opencv_ms" in r else "— | —"
        lines.append(f"| {r['op']} | {r['vision_ms']:.2f} | {sk} | {cv} |")
    (out / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
