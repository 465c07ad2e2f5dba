"""Temporal detection on the whole street video: HOG people + ByteTrack + box smoothing + a counting line.

What it measures, on OpenCV's ``vtest.avi`` (795 frames, 768×576, pedestrians walking left and right):

1. Throughput of :class:`vision.infer.stream.DetectionStream` with detection alone, and with tracking (ByteTrack) +
   smoothing (``supervision.DetectionsSmoother``, 5 frames) + counting (``supervision.LineZone``, a vertical line at
   x = 384, bottom centre of the boxes) — the same file, detector and drawing; the ratio is the cost of the temporal
   steps. Detector: ``hog-people`` at full resolution (``max_side=None``: the walkers are 60–130 px tall) with an
   8 px window stride (the default 4 px is ~3× slower here, ~0.6 s a frame).
2. What the temporal steps give: distinct track ids, in / out counts, track lengths, and the jitter of each track's
   box centre — the mean length of its frame-to-frame second difference ``|c[t+1] - 2 c[t] + c[t-1]|`` (0 for
   steady motion) — on the raw tracked boxes and on the smoothed ones. The raw tracked boxes come from replaying
   the detection-alone run's detections through a fresh tracker (HOG and ByteTrack are deterministic, so the replay
   gives the stream's tracks; the script checks that its counts equal the stream's), which also times each step.
3. One annotated frame of the second half (the one with the most tracked people) as a PNG.

Writes bench/results/temporal.json, temporal.md and temporal_frame.jpg.

    python bench/bench_temporal.py [--video PATH] [--smooth 5] [--line 384,0,384,576]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def _jitter(tracks: dict[int, list[tuple[int, np.ndarray]]]) -> dict[int, float]:
    """Per track: mean |second difference| of the box centre over frames where it was seen three frames running."""
    out = {}
    for tid, seq in tracks.items():
        values = []
        for (f0, b0), (f1, b1), (f2, b2) in zip(seq, seq[1:], seq[2:]):
            if f1 == f0 + 1 and f2 == f1 + 1:
                c0, c1, c2 = ((b[:2] + b[2:]) / 2 for b in (b0, b1, b2))
                values.append(float(np.linalg.norm(c2 - 2 * c1 + c0)))
        if values:
            out[tid] = float(np.mean(values))
    return out


def _collect(tracks: dict[int, list], frame: int, det) -> None:
    for tid, box in zip(det.track_ids, det.xyxy):
        tracks.setdefault(int(tid), []).append((frame, box.astype(np.float64)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(VTEST), help="video file (default: opencv-doc's vtest.avi)")
    ap.add_argument("--smooth", type=int, default=5, help="smoothing window in frames")
    ap.add_argument("--line", default="384,0,384,576", help="counting line x1,y1,x2,y2 (pixels)")
    ap.add_argument("--max-frames", type=int, default=None, help="stop early (a quick check)")
    ap.add_argument("--out", default=str(RESULTS / "temporal"), help="results path without suffix")
    ap.add_argument("--note", default="", help="a paragraph added to the Markdown (machine state, caveats)")
    args = ap.parse_args(argv)

    import cv2
    import torch

    from vision.infer.stream import DetectionStream
    from vision.infer.temporal import LineCounter, Smoother, parse_line
    from vision.infer.track import Tracker
    from vision.io import VideoSource, write_image
    from vision.models import create_model

    torch.set_num_threads(1)
    video = Path(args.video)
    if not video.exists():
        raise SystemExit(f"{video} not found; install the Debian package opencv-doc or pass --video")
    with VideoSource(video) as v:
        fps_file, size = v.fps or 10.0, (v.height, v.width)
    detector_options = {"max_side": None, "win_stride": 8}
    detector = create_model("hog-people", **detector_options)
    start, end = parse_line(args.line, image_shape=size)
    load_before = os.getloadavg()

    # 1. detection alone
    raw: list = []
    with DetectionStream(video, detector, max_frames=args.max_frames) as stream:
        for item in stream:
            raw.append(item.detections)
    alone = stream.stats
    print(f"detection alone: {alone.frames} frames, {alone.fps:.2f} fps", flush=True)

    # 2. + tracking + smoothing + counting, the stream as `vision stream --track bytetrack --smooth 5 --count-line`
    smoothed_tracks: dict[int, list] = {}
    best = (-1, -1, None)  # (people, frame, image) in the second half
    half = alone.frames // 2
    with DetectionStream(video, detector, tracker="bytetrack", smooth=args.smooth, count_line=(start, end),
                         max_frames=args.max_frames) as stream:
        for item in stream:
            i = item.frame.index
            _collect(smoothed_tracks, i, item.detections)
            if i >= half and len(item.detections) > best[0] and sum(item.counts.values()) > 0:
                best = (len(item.detections), i, item.image.copy())
    full = stream.stats
    print(f"tracked + smoothed + counted: {full.frames} frames, {full.fps:.2f} fps, counts {full.counts}", flush=True)

    # 3. replay the detections: raw tracked boxes for the jitter, each step timed
    tracker = Tracker("bytetrack", frame_rate=fps_file)  # ByteTrack does not look at the frames
    smoother, counter, raw_counter = Smoother(args.smooth), LineCounter(start, end), LineCounter(start, end)
    raw_tracks: dict[int, list] = {}
    replay_smoothed: dict[int, list] = {}
    seconds = {"track": 0.0, "smooth": 0.0, "count": 0.0}
    for i, det in enumerate(raw):
        t0 = time.perf_counter()
        tracked = tracker.update(det)
        t1 = time.perf_counter()
        smooth = smoother.update(tracked)
        t2 = time.perf_counter()
        counter.update(smooth)
        t3 = time.perf_counter()
        raw_counter.update(tracked)
        seconds["track"] += t1 - t0
        seconds["smooth"] += t2 - t1
        seconds["count"] += t3 - t2
        _collect(raw_tracks, i, tracked)
        _collect(replay_smoothed, i, smooth)
    jitter_raw, jitter_smooth = _jitter(raw_tracks), _jitter(replay_smoothed)  # the very same tracks
    common = sorted(set(jitter_raw) & set(jitter_smooth))
    jr = np.array([jitter_raw[t] for t in common])
    js = np.array([jitter_smooth[t] for t in common])
    lengths = np.array([len(seq) for seq in raw_tracks.values()])
    n = len(raw)

    result = {
        "video": str(video), "frames": full.frames, "size": f"{size[1]}x{size[0]}", "video_fps": fps_file,
        "detector": {"name": "hog-people", **detector_options},
        "tracker": "bytetrack", "smooth_frames": args.smooth,
        "line": {"start": list(start), "end": list(end), "anchor": "bottom_center",
                 "direction": "line drawn top to bottom: left to right = in"},
        "fps": {"detection_alone": round(alone.fps, 3), "tracked_smoothed_counted": round(full.fps, 3),
                "ratio_full_vs_detection": round(full.fps / alone.fps, 4) if alone.fps else None},
        "inference_ms_p50": {"detection_alone": alone.inference_ms["p50"],
                             "tracked_smoothed_counted": full.inference_ms["p50"]},
        "replay_ms_per_frame": {k: round(v / n * 1000, 3) for k, v in seconds.items()},
        "track_ids": len(smoothed_tracks), "track_ids_replay": len(raw_tracks),
        "track_length_frames": {"median": float(np.median(lengths)), "max": int(lengths.max()),
                                "tracks_10_frames_or_more": int((lengths >= 10).sum())},
        "counts": full.counts, "counts_replay_smoothed": counter.counts, "counts_replay_raw_boxes": raw_counter.counts,
        "replay_matches_stream": counter.counts == full.counts and len(raw_tracks) == len(smoothed_tracks),
        "jitter_px": {"tracks": len(common), "raw_mean": round(float(jr.mean()), 3),
                      "smoothed_mean": round(float(js.mean()), 3), "raw_median": round(float(np.median(jr)), 3),
                      "smoothed_median": round(float(np.median(js)), 3),
                      "reduction": round(float(jr.mean() / js.mean()), 3)},
        "png_frame": best[1],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "torch_threads": 1,
                    "cv2_threads": cv2.getNumThreads(), "load_before": [round(x, 2) for x in load_before],
                    "load_after": [round(x, 2) for x in os.getloadavg()]},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    if best[2] is not None:
        write_image(out.parent / f"{out.name}_frame.jpg", best[2], quality=88)
    f, j = result["fps"], result["jitter_px"]
    md = [
        "# Temporal detection: tracking, smoothing, line counting (`bench/bench_temporal.py`)", "",
        f"`{video.name}` ({full.frames} frames, {result['size']}), `hog-people` (max_side=None, win_stride=8), "
        f"ByteTrack, {args.smooth}-frame smoothing, counting line {start} → {end} (bottom centre; left → right "
        "= in). One CPU run; torch 1 thread, OpenCV its own threads.", "",
        "| | value |", "|---|---|",
        f"| fps, detection alone | {f['detection_alone']:.2f} |",
        f"| fps, + tracking + smoothing + counting | {f['tracked_smoothed_counted']:.2f} |",
        f"| ratio (full / detection alone) | {f['ratio_full_vs_detection']:.3f} |",
        f"| temporal steps, ms / frame (track / smooth / count) | {result['replay_ms_per_frame']['track']:.2f} / "
        f"{result['replay_ms_per_frame']['smooth']:.2f} / {result['replay_ms_per_frame']['count']:.2f} |",
        f"| distinct track ids | {result['track_ids']} (median length {result['track_length_frames']['median']:.0f} "
        f"frames, {result['track_length_frames']['tracks_10_frames_or_more']} of ≥ 10 frames) |",
        f"| line crossings in / out | {full.counts['in']} / {full.counts['out']} (raw boxes: "
        f"{raw_counter.counts['in']} / {raw_counter.counts['out']}) |",
        f"| box-centre jitter, px (mean over {j['tracks']} tracks), raw → smoothed | {j['raw_mean']:.2f} → "
        f"{j['smoothed_mean']:.2f} ({j['reduction']:.2f}× less) |",
        f"| replay of the detections gives the stream's tracks and counts | {result['replay_matches_stream']} |", "",
        f"Annotated frame {best[1]}: `temporal_frame.jpg`. Load average before / after: "
        f"{result['machine']['load_before'][0]} / {result['machine']['load_after'][0]} (2 shared cores).",
    ]
    if args.note:
        md += ["", args.note]
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
