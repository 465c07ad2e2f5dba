"""``vision stream SOURCE``: real-time detection on a webcam, video file or RTSP/HTTP stream.

Argument parsing and printing only; the loop is :func:`vision.infer.stream.run_stream`. ``vision.cli.main`` adds
this parser to its own.

Exit codes: 0 the source ended (or ``--max-frames``, q, a closed window); 1 the source was lost mid-run (after the
reconnect attempts); 2 it could not be opened or an option is wrong; 130 Ctrl-C (the stats are printed first).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from vision.errors import InputError

__all__ = ["add_stream_parser", "cmd_stream"]


def _fmt(ms: dict[str, Any]) -> str:
    if not ms or ms.get("p50") is None:
        return "–"
    return f"p50 {ms['p50']:.0f} ms, p95 {ms['p95']:.0f} ms, max {ms['max']:.0f} ms"


def _print_stats(stats: Any) -> None:
    d = stats.to_dict()
    print(f"{d['frames']} frames in {d['seconds']:.1f} s ({d['fps']:.1f} fps), {d['dropped']} dropped to stay "
          f"current; ended: {d['ended']}")
    note = " (every frame read ahead; --realtime for live-rate latency)" if d["mode"] == "file" else ""
    print(f"latency (capture → shown): {_fmt(d['latency_ms'])}{note}")
    print(f"inference: {_fmt(d['inference_ms'])}")
    if "counts" in d:
        print(f"line crossings: {d['counts']['in']} in, {d['counts']['out']} out")
    for key, value in d["outputs"].items():
        print(f"{key}: {value}")


def cmd_stream(args: argparse.Namespace) -> int:
    from vision.cli.detect import _open_detector
    from vision.infer.stream import run_stream
    from vision.infer.temporal import parse_line

    if args.smooth is not None and args.smooth < 1:
        raise InputError(f"--smooth: expected a number of frames ≥ 1, got {args.smooth}")
    if args.count_line is not None:  # the syntax now (exit 2 before the model loads); fractions need the frame
        parse_line(args.count_line, image_shape=(1, 1))
    source: Any = int(args.source) if args.source.strip().isdigit() else args.source
    detector = _open_detector(args.model, conf=args.conf, iou=args.iou, options=args.option)
    display = "none" if args.no_display else args.display

    def started(outputs: dict[str, str]) -> None:
        if "url" in outputs:
            print(f"MJPEG view: {outputs['url']} (Ctrl-C to stop)", flush=True)
        elif "window" in outputs:
            print("showing in a window (q or Esc to stop)", flush=True)

    stats = run_stream(source, detector, display=display, record=args.save, realtime=args.realtime,
                       tracker=args.track, max_frames=args.max_frames, reconnect=args.reconnect, host=args.host,
                       port=args.port, on_start=started, lanes=args.lanes, smooth=args.smooth,
                       count_line=args.count_line)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
    else:
        _print_stats(stats)
    if stats.ended == "error":
        print(f"error: {stats.error}", file=sys.stderr)
        return 1
    if stats.ended == "interrupted":
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def add_stream_parser(sub: Any) -> None:
    """Register ``vision stream`` on the top-level sub-parsers."""
    from vision.cli.detect import _add_threshold_options, add_option_argument

    s = sub.add_parser(
        "stream", help="real-time detection on a webcam, video file or RTSP/HTTP stream",
        description="Detect (and optionally track) objects on live video without lag build-up: the newest frame is "
                    "always the one processed. Shows an OpenCV window when OpenCV has a GUI, else an MJPEG page on "
                    "http://127.0.0.1:PORT/; prints frames, fps, latency percentiles and dropped frames at the end. "
                    "Exit 0 when the source ends, 1 when it is lost mid-run, 2 when it cannot be opened.")
    s.add_argument("source", metavar="SOURCE", help="camera index (0, 1, …), video file, or rtsp:// / http(s):// URL")
    s.add_argument("--model", default="hog-people",
                   help="registered detector (default hog-people; yolov8n, haar-face, faster-rcnn-lite0, …)")
    _add_threshold_options(s, "default: the model's own")
    add_option_argument(s)
    s.add_argument("--track", choices=["bytetrack", "botsort"],
                   help="give objects stable ids across frames (default bytetrack with --smooth / --count-line)")
    s.add_argument("--smooth", type=int, metavar="N",
                   help="average each tracked box and score over its last N frames (less jitter; lags (N-1)/2 frames)")
    s.add_argument("--count-line", metavar="X1,Y1,X2,Y2",
                   help="count objects whose box bottom centre crosses this line; pixels (384,0,384,576) or, with a "
                        "decimal point, fractions of the frame (0.5,0,0.5,1). For a line drawn top to bottom, "
                        "left to right counts as in; the arrow on the line points in")
    s.add_argument("--display", choices=["auto", "window", "http", "none"], default="auto",
                   help="auto (default): a window when OpenCV has a GUI and a display, else the MJPEG page")
    s.add_argument("--no-display", action="store_true", help="show nothing (same as --display none)")
    s.add_argument("--host", default="127.0.0.1", help="address of the MJPEG page (default 127.0.0.1: this machine)")
    s.add_argument("--port", type=int, default=8090, help="port of the MJPEG page (default 8090; 0 = any free one)")
    s.add_argument("--save", metavar="FILE", help="record the annotated video here (.mp4, .avi, .mkv)")
    s.add_argument("--realtime", action="store_true",
                   help="for files: release frames at the file's frame rate, like a camera (frames that arrive "
                        "during an inference are skipped)")
    s.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    s.add_argument("--lanes", type=int, metavar="N", help="files: detector replicas on consecutive frames side by side "
                                                          "(default 2 on 2+ cores for YOLO; live sources use 1)")
    s.add_argument("--reconnect", type=int, default=3, metavar="N",
                   help="reopen attempts for cameras and network streams after reads fail (default 3)")
    s.add_argument("--json", action="store_true", help="print the stats as JSON")
    s.set_defaults(func=cmd_stream)
