"""Classification inference: ImageClassifier overhead against the raw model, and onnxruntime against PyTorch.

(a) Overhead — ``ImageClassifier("efficientnet-lite0").predict_batch`` on 16 decoded sample photos (batch 16)
against its parts, each timed alone on the same input: the preprocessing (``read_image`` check + resize + centre
crop + normalise of every photo, then the stack, exactly what ``predict_batch`` runs), the raw model call
(``model(tensor)`` under ``torch.inference_mode`` on the already preprocessed batch), and the wrapper around the
model (``_probabilities`` + ``_results``: tensor conversion, output checks, softmax, top-k, result objects), and the
same work written by hand (preprocess, stack, one forward pass). The goal is ≤ 5 % overhead on the model-call part:
wrapper / raw − 1, the two timed back to back. Also reported: predict_batch / by hand − 1 (the total), (predict_batch
− preprocessing) / raw − 1, the share of preprocessing, and the post-processing alone on stored logits.

(b) Backends — images/s of the same efficientnet-lite0 on PyTorch (eager, CPU) and on onnxruntime (the file written
by ``vision.infer.export_onnx``, CPUExecutionProvider, intra-op threads = torch's thread count), on the same
preprocessed photos at batch 1 and batch 16; plus end to end (``predict_batch`` of ImageClassifier vs
OnnxClassifier on the 16 decoded photos, preprocessing included).

Every repeat times the contenders alternately (the order rotates every repeat; the two sides of a ratio run back to
back) after a warm-up; medians over ``--repeats`` are reported, and the best (minimum) times beside them, which on a
shared machine estimate the cost without other processes' load. The machine's load average is recorded before and
after. Writes bench/results/classify.json and classify.md.

    python bench/bench_classify.py [--repeats 15] [--overhead-iters 1] [--batch1-iters 5] [--batch16-iters 1]
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
import torch

from vision.data import load_sample
from vision.demo import IMAGENET_PHOTOS
from vision.infer import OnnxClassifier, export_onnx
from vision.models.classification import ImageClassifier
from vision.models.classification.pretrained import softmax

RESULTS = Path(__file__).parent / "results"
GOAL = 0.05
BATCH = 16


def _timed(fn, iters: int = 1) -> float:
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters


def _alternate(contenders: dict, repeats: int, iters: int = 1, groups: list[list[str]] | None = None) -> list[dict]:
    """Time every contender once per repeat; two warm-up calls each first.

    The order of ``groups`` (default one contender each) rotates every repeat, and the members of a group run back
    to back (their order flipping every repeat), so the ratio of two members of one group compares calls made
    seconds apart: a burst of load from other processes falls on both.
    """
    for fn in contenders.values():
        fn()
        fn()
    groups = groups or [[name] for name in contenders]
    rows = []
    for rep in range(repeats):
        k = rep % len(groups)
        order = [name for group in groups[k:] + groups[:k] for name in (group if rep % 2 == 0 else group[::-1])]
        rows.append({"repeat": rep, **{name: _timed(contenders[name], iters) for name in order}})
    return rows


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _best(rows: list[dict], key: str) -> float:
    return min(r[key] for r in rows)


def run(args: argparse.Namespace) -> dict:
    threads = torch.get_num_threads()
    load_before = os.getloadavg()
    clf = ImageClassifier("efficientnet-lite0")
    photos = [load_sample(IMAGENET_PHOTOS[i % len(IMAGENET_PHOTOS)]) for i in range(BATCH)]

    def preprocess() -> np.ndarray:
        return np.stack([clf._prepare(p, f"sources[{i}]") for i, p in enumerate(photos)])

    x = preprocess()
    xt = torch.from_numpy(x)

    def raw() -> torch.Tensor:
        with torch.inference_mode():
            return clf.model(xt)

    def by_hand() -> torch.Tensor:  # the same work written out: preprocess every photo, stack, one forward pass
        batch = torch.from_numpy(np.stack([clf.preprocessing(p) for p in photos]))
        with torch.inference_mode():
            return clf.model(batch)

    # -- (a) overhead --------------------------------------------------------------------------------------------
    parts = ("predict_batch", "by_hand", "preprocess", "raw_model", "wrapper")
    rows_a = _alternate({
        "predict_batch": lambda: clf.predict_batch(photos, top_k=5, batch_size=BATCH),
        "by_hand": by_hand,
        "preprocess": preprocess,
        "raw_model": raw,
        "wrapper": lambda: clf._results(clf._probabilities(x), 5),
    }, args.repeats, args.overhead_iters, groups=[["predict_batch", "by_hand"], ["raw_model", "wrapper"],
                                                  ["preprocess"]])
    for r in rows_a:
        r["overhead_total"] = r["predict_batch"] / r["by_hand"] - 1
        r["overhead_direct"] = r["wrapper"] / r["raw_model"] - 1
        r["overhead_end_to_end"] = (r["predict_batch"] - r["preprocess"]) / r["raw_model"] - 1
        print(f"(a) repeat {r['repeat']}: predict_batch {r['predict_batch']:.3f} s, by hand {r['by_hand']:.3f} s, "
              f"preprocess {r['preprocess']:.3f} s, raw model {r['raw_model']:.3f} s, wrapper {r['wrapper']:.3f} s → "
              f"overhead {r['overhead_total']:+.1%} total, {r['overhead_direct']:+.1%} on the model call", flush=True)
    a = {key: _median(rows_a, key) for key in (*parts, "overhead_total", "overhead_direct", "overhead_end_to_end")}
    a["preprocess_share"] = a["preprocess"] / a["predict_batch"]
    logits = clf._logits(x)
    post = [_timed(lambda: clf._results(softmax(logits), 5), 20) for _ in range(5)]  # what wraps the model call
    a["postprocess"] = statistics.median(post)
    best = {key: _best(rows_a, key) for key in parts}
    a["postprocess_vs_raw_best"] = a["postprocess"] / best["raw_model"]
    a["best"] = {**best, "overhead_total": best["predict_batch"] / best["by_hand"] - 1,
                 "overhead_direct": best["wrapper"] / best["raw_model"] - 1,
                 "overhead_end_to_end": (best["predict_batch"] - best["preprocess"]) / best["raw_model"] - 1}

    # -- (b) backends --------------------------------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        onx = OnnxClassifier(export_onnx(clf, Path(tmp) / "efficientnet-lite0.onnx"), threads=threads)
    with torch.inference_mode():
        ref = clf.model(xt).numpy()
    got = onx.session.run(None, {onx.input_name: x})[0]
    parity = {"max_abs_logit_diff": float(np.abs(got - ref).max()),
              "same_top5": int(sum(np.array_equal(np.argsort(-r_)[:5], np.argsort(-g_)[:5])
                                   for r_, g_ in zip(ref, got))),
              "images": BATCH}
    b: dict[str, dict] = {}
    for bs, iters in ((1, args.batch1_iters), (BATCH, args.batch16_iters)):
        xb, xbt = x[:bs].copy(), xt[:bs].clone()

        def torch_call(xbt=xbt):
            with torch.inference_mode():
                return clf.model(xbt)

        rows = _alternate({"torch": torch_call,
                           "onnxruntime": lambda xb=xb: onx.session.run(None, {onx.input_name: xb})},
                          args.repeats, iters)
        for r in rows:
            r["ratio"] = r["torch"] / r["onnxruntime"]
        b[f"model_batch{bs}"] = {"rows": rows, "iters": iters, "batch": bs,
                                 "torch_images_s": bs / _median(rows, "torch"),
                                 "onnxruntime_images_s": bs / _median(rows, "onnxruntime"),
                                 "speedup_median": _median(rows, "ratio"),
                                 "torch_images_s_best": bs / _best(rows, "torch"),
                                 "onnxruntime_images_s_best": bs / _best(rows, "onnxruntime")}
        print(f"(b) batch {bs}: torch {b[f'model_batch{bs}']['torch_images_s']:.1f} images/s, onnxruntime "
              f"{b[f'model_batch{bs}']['onnxruntime_images_s']:.1f} images/s, onnxruntime/torch speed "
              f"{b[f'model_batch{bs}']['speedup_median']:.2f}×", flush=True)
    rows = _alternate({"torch": lambda: clf.predict_batch(photos, top_k=5, batch_size=BATCH),
                       "onnxruntime": lambda: onx.predict_batch(photos, top_k=5, batch_size=BATCH)}, args.repeats)
    for r in rows:
        r["ratio"] = r["torch"] / r["onnxruntime"]
    b["end_to_end_batch16"] = {"rows": rows, "batch": BATCH, "torch_images_s": BATCH / _median(rows, "torch"),
                               "onnxruntime_images_s": BATCH / _median(rows, "onnxruntime"),
                               "speedup_median": _median(rows, "ratio"),
                               "torch_images_s_best": BATCH / _best(rows, "torch"),
                               "onnxruntime_images_s_best": BATCH / _best(rows, "onnxruntime")}
    print(f"(b) end to end: torch {b['end_to_end_batch16']['torch_images_s']:.1f} images/s, onnxruntime "
          f"{b['end_to_end_batch16']['onnxruntime_images_s']:.1f} images/s", flush=True)

    import onnxruntime

    result = {
        "meta": {"machine": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                 "onnxruntime": onnxruntime.__version__, "threads": threads, "repeats": args.repeats,
                 "iters": {"overhead": args.overhead_iters, "batch1": args.batch1_iters, "batch16": args.batch16_iters},
                 "model": "efficientnet-lite0", "photos": list(IMAGENET_PHOTOS), "batch": BATCH,
                 "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "overhead": {"rows": rows_a, **a, "goal": GOAL, "met": a["overhead_direct"] <= GOAL},
        "backends": b, "parity": parity,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "classify.json").write_text(json.dumps(result, indent=2))
    (RESULTS / "classify.md").write_text(_markdown(result))
    print(f"overhead on the model call: {a['overhead_direct']:+.1%} (goal ≤ {GOAL:.0%}); total vs by hand "
          f"{a['overhead_total']:+.1%}; (total − preprocess) / raw − 1 {a['overhead_end_to_end']:+.1%}; "
          f"post-processing alone {a['postprocess'] * 1000:.2f} ms "
          f"({a['postprocess_vs_raw_best']:.2%} of the best raw call); preprocessing {a['preprocess_share']:.0%} of "
          "predict_batch")
    return result


def _markdown(r: dict) -> str:
    m, a, b, p = r["meta"], r["overhead"], r["backends"], r["parity"]
    load = (f"load average {m['load_average_before'][0]:.1f} before, {m['load_average_after'][0]:.1f} after "
            f"({m['cpus']} CPUs)")
    lines = [
        "# Classification inference (efficientnet-lite0, CPU)",
        "",
        (f"{m['batch']} decoded sample photos ({', '.join(m['photos'])}, cycled), torch {m['torch']} with "
         f"{m['threads']} threads, onnxruntime {m['onnxruntime']}, {m['repeats']} repeats with the contenders "
         f"alternating (order rotated each repeat), medians; {load}. `python bench/bench_classify.py`."),
        "",
        "## (a) ImageClassifier.predict_batch against the raw model (batch 16)",
        "",
        "| part | median s | best s | share of predict_batch (medians) |",
        "|---|---|---|---|",
        f"| predict_batch (total) | {a['predict_batch']:.3f} | {a['best']['predict_batch']:.3f} | 100 % |",
        (f"| the same by hand (preprocess, stack, `model(tensor)`) | {a['by_hand']:.3f} | "
         f"{a['best']['by_hand']:.3f} | {a['by_hand'] / a['predict_batch']:.0%} |"),
        (f"| preprocessing (read_image check, resize 256, crop 224, normalise, stack) | {a['preprocess']:.3f} | "
         f"{a['best']['preprocess']:.3f} | {a['preprocess'] / a['predict_batch']:.0%} |"),
        (f"| raw model call `model(tensor)` | {a['raw_model']:.3f} | {a['best']['raw_model']:.3f} | "
         f"{a['raw_model'] / a['predict_batch']:.0%} |"),
        (f"| model part of predict_batch (`_probabilities` + `_results`) | {a['wrapper']:.3f} | "
         f"{a['best']['wrapper']:.3f} | {a['wrapper'] / a['predict_batch']:.0%} |"),
        "",
        (f"Overhead on the model-call part (median of the per-repeat ratios, the two timed back to back): "
         f"**{a['overhead_direct']:+.1%}** (wrapper / raw − 1; {a['best']['overhead_direct']:+.1%} from the best "
         f"times). Goal ≤ {a['goal']:.0%}: {'met' if a['met'] else 'NOT met'}. Total against the same work by hand: "
         f"{a['overhead_total']:+.1%} (predict_batch / by hand − 1; {a['best']['overhead_total']:+.1%} from the best "
         f"times). Total minus preprocessing against the raw call: {a['overhead_end_to_end']:+.1%} ((predict_batch − "
         f"preprocessing) / raw − 1, timed apart, so noisier; {a['best']['overhead_end_to_end']:+.1%} from the best "
         "times). On this shared 2-core machine a PyTorch model call takes either ~0.5 s or up to 6× that, depending "
         "on what else runs: only ratios of calls made back to back are meaningful here."),
        "",
        (f"What the wrapper adds around the model call (tensor from/to numpy without copies, output checks, softmax, "
         f"top-5 of 16 × 1000, 16 Classification objects), timed alone on stored logits: "
         f"{a['postprocess'] * 1000:.2f} ms per batch of 16 = {a['postprocess_vs_raw_best']:.2%} of the fastest "
         f"raw model call — the overhead without the noise of the model's own timing."),
        "",
        "## (b) onnxruntime against PyTorch",
        "",
        (f"Parity on the {p['images']} photos: max |logit difference| {p['max_abs_logit_diff']:.1e}, identical "
         f"top-5 on {p['same_top5']} of {p['images']}."),
        "",
        ("| what | batch | PyTorch images/s | onnxruntime images/s | onnxruntime speed-up (median of ratios) | "
         "best PyTorch / onnxruntime images/s |"),
        "|---|---|---|---|---|---|",
    ]
    for key, what in (("model_batch1", "model call"), ("model_batch16", "model call"),
                      ("end_to_end_batch16", "predict_batch (preprocessing included)")):
        row = b[key]
        lines.append(f"| {what} | {row['batch']} | {row['torch_images_s']:.1f} | {row['onnxruntime_images_s']:.1f} | "
                     f"{row['speedup_median']:.2f}× | {row['torch_images_s_best']:.1f} / "
                     f"{row['onnxruntime_images_s_best']:.1f} |")
    lines += ["", "### every repeat (seconds per call)", "", "| bench | repeat | PyTorch | onnxruntime | ratio |",
              "|---|---|---|---|---|"]
    for key, row in b.items():
        lines += [f"| {key} | {x['repeat']} | {x['torch']:.4f} | {x['onnxruntime']:.4f} | {x['ratio']:.2f} |"
                  for x in row["rows"]]
    lines += ["", ("| (a) repeat | predict_batch | by hand | preprocess | raw model | wrapper | overhead total | "
                   "overhead on the model call | (total − preprocess) / raw − 1 |"),
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {x['repeat']} | {x['predict_batch']:.3f} | {x['by_hand']:.3f} | {x['preprocess']:.3f} | "
              f"{x['raw_model']:.3f} | {x['wrapper']:.3f} | {x['overhead_total']:+.1%} | {x['overhead_direct']:+.1%} | "
              f"{x['overhead_end_to_end']:+.1%} |" for x in a["rows"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--overhead-iters", type=int, default=1, help="calls per timed sample in (a)")
    ap.add_argument("--batch1-iters", type=int, default=5, help="batch-1 calls per timed sample")
    ap.add_argument("--batch16-iters", type=int, default=1, help="batch-16 calls per timed sample")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
