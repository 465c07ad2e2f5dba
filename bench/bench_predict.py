"""Batch detection throughput: ``vision predict detect`` against ``yolo predict`` and ultralytics' Python API.

Inputs: ``--n`` real-size JPEGs (1920×1080 and 1080×1920, quality 90) made from the offline photos (scikit-image,
scikit-learn, matplotlib, ultralytics' bus / zidane): seeded crops, flips and resizes, written to a temporary folder.
Weights: the shipped ``yolov8n-scenes`` through ``vision``; the peers get the very same network exported to an
ultralytics ``.pt`` (fp16, as ultralytics saves) in the temporary folder. Same ``imgsz``, ``conf`` and ``iou``.

Contenders, alternated within each round (``--rounds``):

* ``vision CLI`` — ``python -m vision predict detect DIR --model yolov8n --out OUT`` (subprocess; JSON lines written);
* ``yolo CLI`` — ``yolo predict model=X.pt source=DIR imgsz=… save=False`` (subprocess, ``YOLO_OFFLINE=1``);
  both CLIs are timed on a flat folder of ``--cli-n`` images (hard links to the JPEGs) and on a one-image folder,
  and the images/s is ``(n − 1) / (t_n − t_1)``, i.e. without the start-up (imports, model load) that both pay
  once (on 100 images the work is ~1.5 s against a ~5 s start-up, whose jitter swung the ratio by ±20 %);
* ``vision API`` — :func:`vision.infer.run_batch` in this process (results to an output folder);
* ``ultralytics API`` — ``YOLO(X.pt).predict(DIR, stream=True)`` in this process, iterated;
* ``model floor`` — the network alone, plus ultralytics' NMS, on the very tensors the engine feeds it (pre-decoded,
  letterboxed by the predictor, in the engine's calls of one image size ≤ ``--batch-size``), run the best of three
  ways (one call at a time on 1 or all threads, two replicas side by side): what is left when decoding and resizing
  cost nothing;
* ``decode only`` — :func:`vision.io.read_image` alone on ``--workers`` threads. When decoding and the network
  share the same cores, ``1 / (1/decode + 1/floor)`` is the most any pipeline can reach, so the floor ratio is
  also reported against that bound (on 2 cores a 1080p JPEG costs about as much CPU as yolov8n at 192 px).

Boxes: ``vision API`` against ``ultralytics API`` per image, matched greedily by class with IoU ≥ 0.99.
Memory: peak RSS of ``vision predict detect`` on the ``--cli-n`` images against ``--n`` images (each command is
started from a small launcher that reports its child's ``wait4`` peak: a child of this large process would carry this
process's own high-water mark).

Writes bench/results/predict.json and predict.md (``predict_imgsz<N>.*`` with ``--imgsz N``).

    python bench/bench_predict.py [--n 100] [--rounds 2] [--batch-size 8] [--workers 2] [--cli-n 1000] [--imgsz 640]
        [--device cuda] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
REPO = Path(__file__).resolve().parent.parent
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "bus", "zidane", "china", "flower", "grace_hopper")


def make_images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` real-size JPEGs from the offline photos: seeded crops (≥ 60 % of the photo), flips, 1080p sizes."""
    import cv2

    from vision.data import load_sample, sample_names
    from vision.io import write_image

    names = [p for p in PHOTOS if p in sample_names()]
    photos = [load_sample(p) for p in names]
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        img = photos[i % len(photos)]
        h, w = img.shape[:2]
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = img[y:y + ch, x:x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        size = (1080, 1920) if i % 4 == 3 else (1920, 1080)  # (width, height): every 4th portrait
        big = cv2.resize(np.ascontiguousarray(crop), size, interpolation=cv2.INTER_CUBIC)
        name = f"{names[i % len(names)]}_{i:04d}.jpg"  # one flat folder: `yolo predict` does not recurse
        paths.append(write_image(folder / name, big, quality=90))
    return paths


def export_pt(detector, path: Path) -> Path:
    """The detector's network as an ultralytics checkpoint (what ``yolo predict model=…`` loads)."""
    import copy
    import datetime

    import torch
    import ultralytics

    model = copy.deepcopy(detector.model).half()
    model.args = {"imgsz": detector.imgsz, "task": "detect"}
    torch.save({"model": model, "train_args": {"imgsz": detector.imgsz, "task": "detect"},
                "date": datetime.datetime.now().isoformat(), "version": ultralytics.__version__}, path)
    return path


def _env(tmp: Path) -> dict[str, str]:
    cfg = tmp / "ultralytics_cfg"
    font = cfg / "Ultralytics"
    font.mkdir(parents=True, exist_ok=True)
    import matplotlib

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not (font / "Arial.ttf").exists():
        shutil.copy(ttf, font / "Arial.ttf")
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "0", "YOLO_CONFIG_DIR": str(cfg), "YOLO_VERBOSE": "False",
            "VISION_OFFLINE": "1"}


#: runs a command as its child and reports the child's own peak RSS: ``wait4`` on a child of this (large) process
#: would not do, because Linux carries the parent's RSS high-water mark into a child across fork / vfork + exec
_LAUNCH = ("import os, sys\n"
           "pid = os.fork()\n"
           "if pid == 0:\n"
           "    os.execvp(sys.argv[1], sys.argv[1:])\n"
           "_, status, usage = os.wait4(pid, 0)\n"
           "sys.stderr.write(f'\\nmax-rss-kib {usage.ru_maxrss}\\n')\n"
           "sys.exit(os.waitstatus_to_exitcode(status))\n")


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one command (started from a small launcher, see ``_LAUNCH``); raises on a
    non-zero exit."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _LAUNCH, *cmd], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - t
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])}… exited {proc.returncode}: {err[-2000:]}")
    return seconds, int(err.rsplit("max-rss-kib ", 1)[1].split()[0])


def vision_cli(src: Path, out: Path, args) -> list[str]:
    return [sys.executable, "-m", "vision", "predict", "detect", str(src), "--model", "yolov8n", "--out", str(out),
            "--batch-size", str(args.batch_size), "--workers", str(args.workers)] + \
        (["--option", f"imgsz={args.imgsz}"] if args.imgsz else []) + \
        (["--option", f"device={args.device}"] if args.device else [])


def yolo_cli(src: Path, pt: Path, imgsz: int, device: str | None) -> list[str]:
    exe = shutil.which("yolo") or "yolo"
    return [exe, "predict", f"model={pt}", f"source={src}", f"imgsz={imgsz}", "save=False", "verbose=False",
            "conf=0.25", "iou=0.7"] + ([f"device={_ultralytics_device(device)}"] if device else [])


def _ultralytics_device(device: str | None) -> str | None:
    """``cuda`` / ``cuda:1`` → ultralytics' ``0`` / ``1``; anything else as it is."""
    if device and device.startswith("cuda"):
        return device.partition(":")[2] or "0"
    return device


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match(ours: dict[str, tuple[np.ndarray, np.ndarray]], theirs: dict[str, tuple[np.ndarray, np.ndarray]],
          thr: float = 0.99) -> dict[str, float]:
    """Greedy per-class matching at IoU ≥ thr: matched boxes over the larger box count, per image summed."""
    matched = total = 0
    worst = 1.0
    for key, (boxes_a, cls_a) in ours.items():
        boxes_b, cls_b = theirs[key]
        total += max(len(boxes_a), len(boxes_b))
        if not len(boxes_a) or not len(boxes_b):
            continue
        iou = _iou(boxes_a, boxes_b) * (cls_a[:, None] == cls_b[None, :])
        used = set()
        for i in np.argsort(-iou.max(axis=1)):
            j = int(np.argmax([iou[i, k] if k not in used else -1 for k in range(len(boxes_b))]))
            if iou[i, j] >= thr:
                used.add(j)
                matched += 1
                worst = min(worst, float(iou[i, j]))
    return {"boxes": total, "matched": matched, "fraction": matched / total if total else 1.0,
            "worst_matched_iou": worst}


def pipeline_tensors(detector, src: Path, batch: int) -> list:
    """The tensors the batch engine feeds the network, made before any timing: the folder's files in the engine's
    order, cut into calls of one image size by the engine's own batcher (``vision.infer.batch._Batches``, default
    window), each call letterboxed by the predictor's own ``preprocess`` (landscape 1080p at 192 px is 192×128)."""
    import cv2

    from vision.infer.batch import _Batches, _Entry
    from vision.infer.sources import expand_sources

    detector.predict(np.zeros((32, 32, 3), np.uint8))  # the predictor sets its imgsz on its first call
    batcher, calls = _Batches(batch, 2 * batch), []
    for seq, item in enumerate(expand_sources([src]).images):
        calls += batcher.add(_Entry.of(seq, item, cv2.imread(str(item.path)), None))  # BGR, as ultralytics reads
    calls += batcher.flush()
    return [detector._predictor.preprocess([e.image for e in call]) for call in calls]


def _floor_run(net, tensors: list) -> None:
    from ultralytics.utils.nms import non_max_suppression

    for x in tensors:
        non_max_suppression(net(x), 0.25, 0.7, max_det=300)
    if tensors and tensors[0].is_cuda:
        import torch

        torch.cuda.synchronize()


def model_floor(nets: list, tensors: list) -> tuple[float, str]:
    """Images/s of the network + NMS alone on the engine's tensors (:func:`pipeline_tensors`): what is left when
    decoding and resizing cost nothing. The best of three ways to run it on this machine: one call at a time on
    1 torch thread, one at a time on all cores, and the ``nets`` (replicas) side by side on ``cores // len(nets)``
    threads each (how ``vision`` runs it). Returns (images/s, the way that won)."""
    import threading

    import torch

    lanes = len(nets)
    n = sum(len(x) for x in tensors)
    cores = os.cpu_count() or 1
    before = torch.get_num_threads()
    best = (0.0, "")
    try:
        with torch.inference_mode():
            _floor_run(nets[0], tensors[:1])
            for threads in sorted({1, cores}):
                torch.set_num_threads(threads)
                t = time.perf_counter()
                _floor_run(nets[0], tensors)
                best = max(best, (n / (time.perf_counter() - t), f"one call at a time, {threads} thread(s)"))
            torch.set_num_threads(max(1, cores // lanes))

            def lane(k: int) -> None:
                with torch.inference_mode():
                    _floor_run(nets[k], tensors[k::lanes])

            workers = [threading.Thread(target=lane, args=(k,)) for k in range(lanes)]
            t = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            best = max(best, (n / (time.perf_counter() - t),
                              f"{lanes} replicas side by side, {max(1, cores // lanes)} thread(s) each"))
        return best
    finally:
        torch.set_num_threads(before)


def decode_only(paths: list[Path], workers: int) -> float:
    """Images/s of :func:`vision.io.read_image` alone on ``workers`` threads: the decoding that the floor skips."""
    from concurrent.futures import ThreadPoolExecutor

    from vision.io import read_image

    with ThreadPoolExecutor(workers) as pool:
        t = time.perf_counter()
        for _ in pool.map(read_image, paths):
            pass
        return len(paths) / (time.perf_counter() - t)


def ratios(times: dict[str, list[float]]) -> dict[str, float]:
    """Each ratio in every round (the contenders of a round ran back to back), then the median over rounds: the
    machine's drift between rounds cancels."""

    def per_round(f) -> float:
        return round(statistics.median(f({k: v[r] for k, v in times.items()}) for r in range(len(times["vision API"]))),
                     3)

    return {
        "vision CLI / yolo CLI (goal ≥ 1.5)": per_round(lambda t: t["vision CLI"] / t["yolo CLI"]),
        "vision CLI / yolo CLI, start-up included": per_round(lambda t: t["vision CLI (with start-up)"] /
                                                              t["yolo CLI (with start-up)"]),
        "vision API / ultralytics API stream=True (goal ≥ 1.2)": per_round(lambda t: t["vision API"] /
                                                                             t["ultralytics API"]),
        "vision API / model floor (goal ≥ 0.9)": per_round(lambda t: t["vision API"] / t["model floor"]),
        "vision CLI / model floor": per_round(lambda t: t["vision CLI"] / t["model floor"]),
        # decoding and the network taking turns on all the cores: the most any pipeline can reach
        "vision API / (decode + model floor)": per_round(lambda t: t["vision API"] * (1 / t["decode only"] +
                                                                                       1 / t["model floor"])),
        "(decode + model floor) / model floor: the best ratio reachable": per_round(
            lambda t: 1 / (1 + t["model floor"] / t["decode only"])),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="JPEGs in the folder (default 100)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds; the median is reported")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cli-n", type=int, default=1000,
                    help="images the CLIs run on (hard links to the --n JPEGs; their start-up is taken out by a "
                         "one-image run); also the memory run, against one on --n images (default 1000)")
    ap.add_argument("--imgsz", type=int, help="network input size (default: the shipped model's own, 192)")
    ap.add_argument("--device", help="cuda (or cuda:N) for a GPU run of every contender (default: the CPU)")
    ap.add_argument("--tag", help="results file name: predict_<tag>.json / .md (default predict, or predict_imgsz<N>)")
    ap.add_argument("--note", default="", help="a note on the machine (load) for the results")
    args = ap.parse_args(argv)

    import torch

    from vision.infer.batch import run_batch
    from vision.models import create_model
    from vision.models.detection.yolo import ultralytics_offline

    tmp = Path(tempfile.mkdtemp(prefix="bench_predict_"))
    try:
        src, one = tmp / "src", tmp / "one"
        paths = make_images(src, args.n)
        one.mkdir()
        shutil.copy(paths[0], one / paths[0].name)
        many = tmp / "many"  # the CLIs' folder: --cli-n hard links to the n JPEGs, flat (yolo predict does not recurse)
        many.mkdir()
        for i in range(args.cli_n):
            os.link(paths[i % len(paths)], many / f"img_{i:05d}.jpg")
        det = create_model("yolov8n", **({"imgsz": args.imgsz} if args.imgsz else {}),
                           **({"device": args.device} if args.device else {}))
        peer = {"device": _ultralytics_device(args.device)} if args.device else {}
        tensors = pipeline_tensors(det, src, args.batch_size)
        floor_nets = [det._predictor.model, det.replicate()._predictor.model]  # the fused networks predictors run
        ultralytics_offline()
        from ultralytics import YOLO

        pt = export_pt(det, tmp / "yolov8n-scenes.pt")
        env = _env(tmp)
        times: dict[str, list[float]] = {k: [] for k in ("vision CLI", "yolo CLI", "vision CLI (with start-up)",
                                                         "yolo CLI (with start-up)", "vision API", "ultralytics API",
                                                         "model floor", "decode only")}
        ours: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        theirs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        floor_ways: list[str] = []
        rss: dict[str, int] = {}
        yolo = YOLO(str(pt), task="detect")
        list(yolo.predict(source=str(one), stream=True, imgsz=det.imgsz, conf=0.25, iou=0.7, verbose=False, **peer))
        print(f"{args.n} JPEGs in {src}; imgsz {det.imgsz}; torch threads {torch.get_num_threads()}; "
              f"{os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}", flush=True)
        for r in range(args.rounds):
            order = [0, 1, 2, 3] if r % 2 == 0 else [3, 2, 1, 0]
            for k in order:
                if k == 0:
                    t_n, rss["many"] = _timed(vision_cli(many, tmp / f"cli_{r}", args), env)
                    t_1, rss["one"] = _timed(vision_cli(one, tmp / f"cli1_{r}", args), env)
                    times["vision CLI"].append((args.cli_n - 1) / (t_n - t_1))
                    times["vision CLI (with start-up)"].append(args.cli_n / t_n)
                elif k == 1:
                    t_n, _ = _timed(yolo_cli(many, pt, det.imgsz, args.device), env)
                    t_1, _ = _timed(yolo_cli(one, pt, det.imgsz, args.device), env)
                    times["yolo CLI"].append((args.cli_n - 1) / (t_n - t_1))
                    times["yolo CLI (with start-up)"].append(args.cli_n / t_n)
                elif k == 2:
                    got = {}
                    t = time.perf_counter()
                    run_batch(det, [src], out=tmp / f"api_{r}", batch_size=args.batch_size, workers=args.workers,
                              on_result=lambda x: got.__setitem__(str(x.item.path), (x.result.xyxy,
                                                                                      x.result.class_ids)))
                    times["vision API"].append(args.n / (time.perf_counter() - t))
                    ours = got
                else:
                    got = {}
                    t = time.perf_counter()
                    for res in yolo.predict(source=str(src), stream=True, imgsz=det.imgsz, conf=0.25, iou=0.7,
                                            verbose=False, **peer):
                        got[str(Path(res.path))] = (res.boxes.xyxy.cpu().numpy(),
                                                    res.boxes.cls.cpu().numpy().astype(np.int64))
                    times["ultralytics API"].append(args.n / (time.perf_counter() - t))
                    theirs = got
            floor, floor_way = model_floor(floor_nets, tensors)
            times["model floor"].append(floor)
            floor_ways.append(floor_way)
            times["decode only"].append(decode_only(paths, args.workers))
            print(f"round {r + 1}: " + ", ".join(f"{n} {v[-1]:.1f}" for n, v in times.items() if len(v) > r),
                  flush=True)
        ips = {k: statistics.median(v) for k, v in times.items()}
        same = match({str(Path(k).resolve()): v for k, v in ours.items()},
                     {str(Path(k).resolve()): v for k, v in theirs.items()})
        _, rss["n"] = _timed(vision_cli(src, tmp / "mem_n", args), env)
        memory = {"peak_rss_mib_one_image": round(rss["one"] / 1024, 1), "images_small": args.n,
                  "images_big": args.cli_n, "peak_rss_mib_small": round(rss["n"] / 1024, 1),
                  "peak_rss_mib_big": round(rss["many"] / 1024, 1), "ratio": round(rss["many"] / rss["n"], 3)}
        result = {
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                        "load_average_at_end": round(os.getloadavg()[0], 2), "note": args.note},
            "settings": {"n": args.n, "rounds": args.rounds, "batch_size": args.batch_size, "workers": args.workers,
                         "device": args.device or "cpu",
                         "imgsz": det.imgsz, "image_sizes": "1920×1080 / 1080×1920 JPEG q90",
                         "network_inputs": sorted({"×".join(map(str, x.shape[2:])) for x in tensors}),
                         "model_calls": len(tensors)},
            "model_floor_way": floor_ways,
            "images_per_second": {k: round(v, 2) for k, v in ips.items()},
            "all_rounds": {k: [round(x, 2) for x in v] for k, v in times.items()},
            "ratios": ratios(times),
            "same_boxes_iou_0.99": same,
            "memory": memory,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    stem = f"predict_{args.tag}" if args.tag else "predict" if not args.imgsz else f"predict_imgsz{args.imgsz}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2))
    lines = ["# Batch detection throughput (`python bench/bench_predict.py`)", "",
             f"{args.n} JPEGs (1920×1080 / 1080×1920), shipped `yolov8n-scenes` at imgsz "
             f"{result['settings']['imgsz']}, "
             f"batch {args.batch_size}, {args.workers} decode workers, {args.rounds} alternating rounds (median), "
             f"device {args.device or 'cpu'}. "
             f"Machine: {os.cpu_count()} CPUs, load average {result['machine']['load_average_at_end']} at the end. "
             f"{args.note}", "",
             f"Network inputs {', '.join(result['settings']['network_inputs'])} in {len(tensors)} calls (one image "
             f"size each, as the engine batches). Model floor: the best of one call at a time on 1 or all threads and "
             f"two replicas side by side; the winner per round: {'; '.join(floor_ways)}.", "",
             "| contender | images/s |", "|---|---:|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in ips.items()]
    lines += ["", "| ratio (median over rounds of the ratio within each round) | value |", "|---|---:|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in result["ratios"].items()]
    lines += ["", f"Same boxes (vision API vs ultralytics API, class-matched, IoU ≥ 0.99): {same['matched']} of "
                  f"{same['boxes']} ({same['fraction']:.1%}); worst matched IoU {same['worst_matched_iou']:.4f}."]
    lines += ["", f"Peak RSS of `vision predict detect --out`: {memory['peak_rss_mib_small']} MiB on "
                  f"{memory['images_small']} images, {memory['peak_rss_mib_big']} MiB on {memory['images_big']} "
                  f"(ratio {memory['ratio']:.2f}; goal ≤ 1.2); {memory['peak_rss_mib_one_image']} MiB on one "
                  "image (the start-up: imports and model)."]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
