"""Image decode speed: ``vision.read_image`` against the peers a user would otherwise call, in the same run.

Ratios (peer time / our time; > 1 means we are faster) are what matter: the machines are noisy.
Writes bench/results/io.json and io.md.

    python bench/bench_io.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from vision.data.photos import load_sample
from vision.io import read_image, write_image


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("astronaut", "bus"):
            for suffix in (".jpg", ".png"):
                path = write_image(Path(tmp) / f"{name}{suffix}", load_sample(name))
                ours = _best(lambda: read_image(path), args.repeat)
                peers = {
                    "cv2.imread+cvtColor": _best(lambda: cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), args.repeat),
                    "PIL open+exif_transpose+asarray": _best(
                        lambda: np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")), args.repeat),
                }
                for peer, t in peers.items():
                    rows.append({"image": f"{name}{suffix}", "peer": peer, "ours_ms": ours * 1e3, "peer_ms": t * 1e3,
                                 "ratio": t / ours})
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    meta = {"machine": platform.platform(), "cpus": __import__("os").cpu_count(), "repeat": args.repeat}
    (out / "io.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = ["| image | peer | vision ms | peer ms | peer/vision |", "|---|---|---|---|---|"]
    lines += [f"| {r['image']} | {r['peer']} | {r['ours_ms']:.2f} | {r['peer_ms']:.2f} | {r['ratio']:.2f} |" for r in rows]
    (out / "io.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
