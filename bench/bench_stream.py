"""Video detection: ``vision stream --no-display`` against ultralytics ``model.predict(source=video, stream=True)``.

1. Throughput (frames/s over a whole video file, every frame processed). Same weights (the shipped ``yolov8n-scenes``;
   ultralytics gets the very same ``DetectionModel``), same ``imgsz``, ``conf`` and ``iou``; the contenders run
   alternately, ``--rounds`` times each; the median wall time per run. Videos: the shipped street cut
   ``datasets/vtest_120.avi`` (768×576, real decoding cost) and a synthetic-scenes video (256×256, objects the
   weights know). ``vision`` is :func:`vision.infer.stream.run_stream` with no display (what the command runs).
   Threads: ultralytics' CPU device selection pins torch to ``cores - 1`` threads at its first predict; each run
   here sets torch's count right after that setup, so both see the same count. Settings: ``same threads`` (1,
   then ``--threads``) and ``defaults`` (ultralytics pinned, ``vision`` at torch's own count), as a user gets them.
2. Live rate: a 30 fps file released at its own rate (``realtime=True``, a camera stand-in): the latency from a
   frame's arrival to the end of its processing, its age when picked up, and the inference time, per frame; the
   check is ``latency ≤ inference + one frame period`` (the shown frame is at most one inference old, plus the
   wait for a frame to arrive).

Writes bench/results/stream.json and stream.md.

    python bench/bench_stream.py [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
VTEST = ROOT / "datasets" / "vtest_120.avi"


def _frames(path: Path) -> int:
    from vision.io import VideoSource

    with VideoSource(path) as video:
        return sum(1 for _ in video)


def _retimed(src: Path, dst: Path, fps: float) -> Path:
    """A copy of ``src`` whose container says ``fps`` (the same frames)."""
    from vision.io import VideoSink, VideoSource

    with VideoSource(src) as video, VideoSink(dst, fps=fps) as sink:
        for frame in video:
            sink.write(frame)
    return dst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="timed runs per contender, video and setting")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scene-frames", type=int, default=120)
    ap.add_argument("--no-defaults", action="store_true", help="skip the 'defaults' setting")
    ap.add_argument("--out", default=str(RESULTS / "stream"), help="results path without suffix")
    ap.add_argument("--note", default="", help="a paragraph added to the Markdown (machine state, caveats)")
    args = ap.parse_args(argv)

    import torch

    from vision.data.scene_video import make_scene_video
    from vision.infer.stream import run_stream
    from vision.models import create_model

    default_threads = torch.get_num_threads()
    ours = create_model("yolov8n")
    from ultralytics import YOLO  # imported by create_model through the offline guard

    peer = YOLO("yolov8n.yaml", task="detect")
    peer.model = ours.model
    imgsz, conf, iou = ours.imgsz, ours.config.conf, ours.config.iou
    tmp = Path(tempfile.mkdtemp(prefix="bench_stream_"))
    scenes = make_scene_video(tmp / "scenes.mp4", frames=args.scene_frames, objects=3, seed=0, fps=30.0).path
    videos = [("vtest_120.avi 768×576", VTEST), (f"scenes {args.scene_frames} frames 256×256", scenes)]

    def run_peer(path: Path, threads: int | None) -> tuple[float, int]:
        t = time.perf_counter()
        n = 0
        for r in peer.predict(source=str(path), stream=True, imgsz=imgsz, conf=conf, iou=iou, verbose=False):
            if n == 0 and threads is not None:
                torch.set_num_threads(threads)  # after ultralytics' select_device pinned it
            n += 1
            r.boxes.xyxy.numpy()
        return time.perf_counter() - t, n

    def run_ours(path: Path, threads: int) -> tuple[float, int]:
        torch.set_num_threads(threads)
        t = time.perf_counter()
        # lanes: one per thread (at most 2), each single-threaded, so the total is the peer's thread count
        stats = run_stream(path, ours, display="none", lanes=min(2, threads))
        return time.perf_counter() - t, stats.frames

    # warm-up (and ultralytics' setup, which pins threads); the same boxes on the first frame
    run_peer(scenes, None)
    pinned = torch.get_num_threads()
    run_ours(scenes, default_threads)
    first_peer = next(iter(peer.predict(source=str(scenes), stream=True, imgsz=imgsz, conf=conf, iou=iou,
                                        verbose=False))).boxes.xyxy.numpy()
    found = []
    run_stream(scenes, ours, max_frames=1, on_frame=lambda item: found.append(item.detections.xyxy))
    assert np.allclose(found[0], first_peer, atol=1e-2), "vision and ultralytics disagree on frame 0"

    settings = [("same threads", 1, 1), ("same threads", args.threads, args.threads),
                ("defaults", pinned, default_threads)]
    settings = [s for i, s in enumerate(settings) if s[1:] not in [t[1:] for t in settings[:i]]
                and not (args.no_defaults and s[0] == "defaults")]
    rows = []
    for name, path in videos:
        n_frames = _frames(path)
        for label, t_peer, t_ours in settings:
            peer_s, our_s = [], []
            for _ in range(args.rounds):
                s, n = run_peer(path, t_peer)
                assert n == n_frames, (n, n_frames)
                peer_s.append(s)
                s, n = run_ours(path, t_ours)
                assert n == n_frames, (n, n_frames)
                our_s.append(s)
            mp, mo = statistics.median(peer_s), statistics.median(our_s)
            rows.append({"video": name, "frames": n_frames, "setting": label, "threads_ultralytics": t_peer,
                         "threads_vision": t_ours, "ultralytics_fps": round(n_frames / mp, 2),
                         "vision_fps": round(n_frames / mo, 2), "ratio": round(mp / mo, 3)})
            print(rows[-1], flush=True)

    # live rate: 30 fps file, released at its own rate
    torch.set_num_threads(args.threads)
    live = _retimed(VTEST, tmp / "vtest_30fps.avi", 30.0)
    per = []

    def record(item):
        now = time.monotonic()
        per.append((now - item.frame.captured, item.inference_s))

    stats = run_stream(live, ours, realtime=True, on_frame=record)
    lat = np.array([p[0] for p in per]) * 1e3
    inf = np.array([p[1] for p in per]) * 1e3
    period = 1000.0 / 30.0
    slack = lat - inf
    live_row = {"video": "vtest_120 re-timed to 30 fps (768×576), realtime=True", "threads": args.threads,
                "frames_shown": stats.frames, "frames_dropped": stats.dropped,
                "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 1),
                               "p95": round(float(np.percentile(lat, 95)), 1), "max": round(float(lat.max()), 1)},
                "inference_ms": {"p50": round(float(np.percentile(inf, 50)), 1),
                                 "p95": round(float(np.percentile(inf, 95)), 1), "max": round(float(inf.max()), 1)},
                "age_at_pickup_ms": stats.age_ms,
                "latency_minus_inference_ms": {"p50": round(float(np.percentile(slack, 50)), 1),
                                               "p95": round(float(np.percentile(slack, 95)), 1),
                                               "max": round(float(slack.max()), 1)},
                "within_inference_plus_one_period": round(float(np.mean(slack <= period + 1.0)), 3)}
    print(live_row, flush=True)
    torch.set_num_threads(default_threads)

    load = os.getloadavg()
    meta = {"machine": f"{platform.machine()} {os.cpu_count()} CPUs", "python": platform.python_version(),
            "torch": torch.__version__, "imgsz": imgsz, "rounds": args.rounds,
            "load_average": [round(x, 1) for x in load], "note": args.note}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "throughput": rows, "live": live_row}, indent=2))
    header = "| video | setting | threads (ultralytics / vision) | ultralytics fps | vision fps | vision / ultralytics |"
    lines = [(f"# Video detection: `vision stream --no-display` vs ultralytics `predict(stream=True)` "
              f"(yolov8n-scenes, imgsz {imgsz}, median of {args.rounds} alternating runs)"), "",
             f"Machine: {meta['machine']}; load average after the run: {', '.join(map(str, meta['load_average']))}.",
             *([""] + [args.note] if args.note else []), "", header, "|---|---|---|---:|---:|---:|"]
    lines += [f"| {r['video']} | {r['setting']} | {r['threads_ultralytics']} / {r['threads_vision']} | "
              f"{r['ultralytics_fps']} | {r['vision_fps']} | {r['ratio']} |" for r in rows]
    L = live_row
    lines += ["", f"## Live rate: {L['video']}, {L['threads']} threads", "",
              f"{L['frames_shown']} frames shown, {L['frames_dropped']} skipped to stay current.", "",
              "| ms | p50 | p95 | max |", "|---|---:|---:|---:|"]
    for key in ("latency_ms", "inference_ms", "age_at_pickup_ms", "latency_minus_inference_ms"):
        v = L[key]
        lines.append(f"| {key.replace('_ms', '').replace('_', ' ')} | {v['p50']} | {v['p95']} | {v['max']} |")
    lines += ["", (f"Frames whose latency ≤ their inference + one frame period ({period:.1f} ms): "
                   f"{L['within_inference_plus_one_period'] * 100:.1f} %.")]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
