"""YOLO predict latency: ``vision`` (``create_model("yolov8n").predict``) against ultralytics' own ``model.predict``.

Same weights (the shipped ``yolov8n-scenes``; ultralytics gets the very same ``DetectionModel``), same ``imgsz``,
same single images (held-out test scenes, plus ultralytics' ``bus.jpg`` when installed), called alternately, one
image per call; the median of ``--n`` calls per contender and setting. Inputs: an in-memory image (RGB for
``vision``, the BGR array ultralytics expects) and a file path (both decode it).

Threads. ultralytics' CPU device selection pins torch to ``cores - 1`` threads (1 on a 2-core machine) on its first
predict; ``vision`` puts the count back. So two comparisons:

* ``same threads`` — torch set to the same count (1, then ``--threads``) before every call of either: the cost of
  the ``vision`` wrapper itself (the goal: ≤ 1.05×);
* ``defaults`` — each as a user gets it out of the box (ultralytics pinned, ``vision`` at torch's own count).

Writes bench/results/yolo.json and yolo.md.

    python bench/bench_yolo.py [--n 60] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def _images(k: int) -> list[tuple[str, Path]]:
    from vision.data.photos import sample_path
    from vision.models.detection.scenes_preset import detection_scenes

    test = detection_scenes("test")
    out = [("scene 256×256", test.image_path(i)) for i in range(k)]
    bus = sample_path("bus")  # None when ultralytics' assets are not installed: scenes only
    if bus is not None:
        out.append(("bus.jpg 1080×810", Path(bus)))
    return out


def _time(fn, arg) -> float:
    t = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="timed calls per contender and setting")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="yolov8n")
    ap.add_argument("--no-defaults", action="store_true",
                    help="skip the 'defaults' comparison (on a machine shared with other jobs 2 threads crawl)")
    args = ap.parse_args(argv)

    import torch

    from vision.io import read_image
    from vision.models import create_model

    default_threads = torch.get_num_threads()
    ours = create_model(args.model)
    from ultralytics import YOLO  # imported by create_model through the offline guard

    peer = YOLO(f"{args.model}.yaml", task="detect")
    peer.model = ours.model  # the same weights
    imgsz = ours.imgsz

    def peer_predict(src):
        return peer.predict(src, imgsz=imgsz, conf=ours.config.conf, iou=ours.config.iou, verbose=False)

    sources = _images(8)
    arrays = [(read_image(p), name) for name, p in sources]
    peer_predict(np.ascontiguousarray(arrays[0][0][..., ::-1]))  # ultralytics' setup (select_device pins threads)
    pinned = torch.get_num_threads()
    ours.predict(arrays[0][0])
    # the same boxes
    a = ours.predict(arrays[0][0])
    b = peer_predict(np.ascontiguousarray(arrays[0][0][..., ::-1]))[0].boxes.xyxy.numpy()
    assert np.allclose(a.xyxy, b, atol=1e-3), "vision and ultralytics disagree"

    rows = []
    settings = [("same threads", 1, 1), ("same threads", args.threads, args.threads),
                ("defaults", pinned, default_threads)]
    settings = [s for i, s in enumerate(settings) if s[1:] not in [t[1:] for t in settings[:i]]
                and not (args.no_defaults and s[0] == "defaults")]
    for kind in ("array", "path"):
        for label, t_peer, t_ours in settings:
            for group in sorted({name for name, _ in sources}):
                # each image as the user holds it (RGB for vision, BGR for ultralytics), made once: neither input
                # is fresher in the CPU cache than the other
                items = [(img, np.ascontiguousarray(img[..., ::-1]), p)
                         for (img, name), (_, p) in zip(arrays, sources) if name == group]
                tp, to = [], []
                for i in range(args.n + 3):
                    img, bgr, path = items[i % len(items)]
                    src_ours = img if kind == "array" else path
                    src_peer = bgr if kind == "array" else str(path)
                    order = [("peer", t_peer), ("ours", t_ours)] if i % 2 else [("ours", t_ours), ("peer", t_peer)]
                    for who, th in order:
                        torch.set_num_threads(th)
                        dt = _time(peer_predict, src_peer) if who == "peer" else _time(ours.predict, src_ours)
                        if i >= 3:  # warm-up
                            (tp if who == "peer" else to).append(dt)
                mp, mo = statistics.median(tp), statistics.median(to)
                rows.append({"input": kind, "setting": label, "threads_ultralytics": t_peer, "threads_vision": t_ours,
                             "images": group, "ultralytics_ms": round(mp * 1e3, 2), "vision_ms": round(mo * 1e3, 2),
                             "ratio": round(mo / mp, 3)})
                print(rows[-1], flush=True)
    torch.set_num_threads(default_threads)

    result = {"load_average": [round(v, 2) for v in __import__("os").getloadavg()], "model": args.model, "weights": str(ours.config.weights or f"{args.model}-scenes"), "imgsz": imgsz,
              "n": args.n, "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
              "cores": __import__("os").cpu_count(), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "yolo.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    title = (f"# YOLO predict: vision vs ultralytics ({args.model}, imgsz {imgsz}, median of {args.n} single-image "
             f"calls, alternating)")
    load = ", ".join(f"{v:.1f}" for v in result["load_average"])
    note = (f"Load average during the run: {load} on {result['cores']} cores (ratios drift ±10 % when the machine is "
            f"shared; rerun on an idle one).")
    lines = [title, "", note, "",
             "| input | setting | threads (ultralytics / vision) | images | ultralytics ms | vision ms | ratio |",
             "|---|---|---|---|---:|---:|---:|"]
    lines += [f"| {r['input']} | {r['setting']} | {r['threads_ultralytics']} / {r['threads_vision']} | {r['images']} | "
              f"{r['ultralytics_ms']} | {r['vision_ms']} | {r['ratio']} |" for r in rows]
    (RESULTS / "yolo.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
