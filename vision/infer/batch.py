"""Batch inference over files, folders, globs, path lists and videos: streaming, batched, resumable, sharded.

:func:`run_batch` is what ``vision predict classify|detect SOURCE`` runs. It is task-agnostic: any model with
``predict_batch(images, batch_size=...)`` (or only ``predict(image)``) returning result objects with ``to_dict()``
(:class:`~vision.types.Classification`, :class:`~vision.types.Detections`, :class:`~vision.types.Segmentation`).

How it runs:

* **Streaming.** A producer thread walks the sources (:mod:`vision.infer.sources`) and hands each image file to a
  small thread pool that decodes it (:func:`vision.io.read_image`: OpenCV / Pillow release the GIL, so decoding
  runs beside the model); decoded images wait in a bounded queue (``prefetch`` items) and in the size groups
  below (at most ``prefetch`` more), so the images in memory are bounded by ``prefetch`` and ``batch_size``, not by
  the folder's size. Results are written as they come, in source order.
* **Batched.** The model is called on up to ``batch_size`` images of one size at a time (``predict_batch``): items
  wait in a group per image size, so a folder mixing landscape and portrait photos still makes full calls
  (:class:`_Batches`); when a batch raises, its images are retried one by one so one bad image fails alone.
* **Safe and resumable.** With ``out=``, results go to an :class:`~vision.infer.sinks.OutputFolder`: JSON lines
  (always), CSV, COCO, YOLO txt, annotated images; a done-list makes a rerun after an interrupt (even SIGKILL) skip
  finished items and complete, with no duplicates and no half-written files. Corrupt, zero-byte, non-image and
  oversized files are recorded with their reason (``ImageDecodeError: ...``) and skipped.
* **Sharded.** ``shard=(k, n)`` runs every n-th item, so n machines split one folder with no overlap.

Why not onnxruntime for YOLO: ``vision predict classify --backend onnx`` uses it (classifiers export with their
preprocessing inside). For the shipped YOLO, ultralytics exports ONNX offline in about 1 s and its ``AutoBackend``
runs it with the same pre- and post-processing (boxes within 2.5e-4 px of torch's), but on this 2-core machine
onnxruntime was the slower one: 43–51 images/s against torch's 53–69 (1 thread, batch 8, 192 px, 24 1080p photos,
three alternating rounds). The engine's gains come from decoding beside the model, same-size batches, and
inference lanes (:mod:`vision.infer.lanes`: two single-threaded replicas side by side); see bench/results/predict.md.

Example:
    >>> from vision.infer.batch import run_batch                               # doctest: +SKIP
    >>> from vision.models import create_model                                 # doctest: +SKIP
    >>> summary = run_batch(create_model("yolov8n"), ["photos/"], out="runs/predict", formats="jsonl,coco")
    >>> summary.failed, round(summary.images_per_second)                       # doctest: +SKIP
    (0, 41)
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from vision.errors import InputError, VisionError
from vision.infer.lanes import Lanes, compute_threads, default_lanes, default_workers, replicas
from vision.infer.sinks import OutputFolder, parse_formats, yolo_label_text
from vision.infer.sources import SourceItem, SourcePlan, expand_sources

__all__ = ["BatchSummary", "ItemResult", "run_batch"]

log = logging.getLogger(__name__)

_END = object()


@dataclass
class ItemResult:
    """What the engine hands to ``on_result`` for each item, in source order.

    Attributes:
        item: the source item. record: the JSON-able record written to results.jsonl (``"error"`` when it failed).
        result: the model's result object, or None when the item failed. image: the decoded RGB image, or None.
        error: ``"ImageDecodeError: ..."`` when it failed, else None.
    """

    item: SourceItem
    record: dict[str, Any]
    result: Any = None
    image: np.ndarray | None = None
    error: str | None = None


@dataclass
class BatchSummary:
    """The end of a run: counts, speed, failures (with reasons) and the files written.

    ``processed`` and ``failed`` count this run; ``skipped`` the items found finished by an earlier run;
    ``failures`` lists every failed item of the output folder (earlier runs included), so the exit code of a resumed
    run still says that something failed.
    """

    processed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    shard: str | None = None

    @property
    def images_per_second(self) -> float:
        """Items (images or frames, failures included) finished per second of this run."""
        return (self.processed + self.failed) / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"processed": self.processed, "failed": self.failed, "skipped": self.skipped,
                "seconds": round(self.seconds, 3), "images_per_second": round(self.images_per_second, 2),
                "shard": self.shard, "failures": [{"item": k, "error": e} for k, e in self.failures],
                "files": self.files}


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or repr(exc)
    return f"{type(exc).__name__}: {text}"


def _predict(model: Any, images: list[np.ndarray], options: dict[str, Any]) -> list[Any]:
    if hasattr(model, "predict_batch"):
        return list(model.predict_batch(images, batch_size=max(1, len(images)), **options))
    return [model.predict(image, **options) for image in images]


def _record(item: SourceItem, result: Any = None, error: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"item": item.key, "path": str(item.path), "rel": item.rel}
    if item.frame is not None:
        record["frame"] = item.frame
    if error is not None:
        record["error"] = error
        return record
    data = result.to_dict() if hasattr(result, "to_dict") else {"result": result}
    data.pop("names", None)  # once per run in names.json: an ImageNet line would carry 1000 names
    return {**record, **data}


class _Producer(threading.Thread):
    """Walks the sources, submits image decoding to the pool and queues (item, future | image | error) in order."""

    def __init__(self, plan: SourcePlan, pool: ThreadPoolExecutor, q: queue.Queue, skip: Callable[[str], bool],
                 read: Callable[[Path], np.ndarray]) -> None:
        super().__init__(name="vision-batch-producer", daemon=True)
        self.plan, self.pool, self.q, self.skip, self.read = plan, pool, q, skip, read
        self.stop = threading.Event()
        self.skipped = 0
        self.error: BaseException | None = None

    def _put(self, entry: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            for item in self.plan.images:
                if self.skip(item.key):
                    self.skipped += 1
                    continue
                if not self._put((item, self.pool.submit(self.read, item.path))):
                    return
            for video in self.plan.videos:
                if self.skip(str(video)):  # a video that could not be opened in an earlier run
                    self.skipped += 1
                    continue
                frames = 0
                try:
                    for item in self.plan.frames(video):
                        frames += 1
                        if self.skip(item.key):
                            self.skipped += 1
                            continue
                        if not self._put((item, item.image)):
                            return
                    if not frames:
                        raise InputError(f"{video}: no frame could be read; expected a video with at least one frame")
                except VisionError as exc:
                    bad = SourceItem(str(video), video, video.name)
                    if not self._put((bad, exc)):
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, which re-raises it
            self.error = exc
        finally:
            self._put(_END)


class _Entry(NamedTuple):
    """One decoded item on its way to the model: ``seq`` is its place in the source order; ``shape`` the image's
    (kept when the image itself is let go after inference)."""

    seq: int
    item: SourceItem
    image: np.ndarray | None
    error: str | None
    shape: tuple[int, ...] | None = None

    @classmethod
    def of(cls, seq: int, item: SourceItem, image: np.ndarray | None, error: str | None) -> _Entry:
        return cls(seq, item, image, error, None if image is None else image.shape)


class _Batches:
    """Cuts the decoded items into model calls of one image size each (a network pads a mixed batch to a common,
    square size, which costs compute and changes the boxes; same-size calls give the boxes of one-by-one calls).

    Items wait in a group per image size until the group holds ``size`` of them; when more than ``window`` items
    wait, the group holding the oldest goes out as it is (so a lone portrait among landscapes waits at most
    ``window`` items, and memory stays bounded). Failed items go out at once. Measured on 100 1080p JPEGs, one in
    four portrait, batch 8: 14 model calls instead of the 48 that cutting at every size change made, and 1.5–1.7×
    the network's images/s at 192 px on 2 cores.
    """

    def __init__(self, size: int, window: int) -> None:
        self.size, self.window = size, max(size, window)
        self.groups: dict[Any, list[_Entry]] = {}
        self.waiting = 0

    def _take(self, key: Any) -> list[_Entry]:
        group = self.groups.pop(key)
        self.waiting -= len(group)
        return group

    def add(self, entry: _Entry) -> list[list[_Entry]]:
        """Take ``entry``; return the calls that are ready (oldest first)."""
        key = entry.shape
        self.groups.setdefault(key, []).append(entry)
        self.waiting += 1
        ready = [self._take(key)] if key is None or len(self.groups[key]) >= self.size else []
        while self.waiting > self.window:
            ready.append(self._take(min(self.groups, key=lambda k: self.groups[k][0].seq)))
        return ready

    def flush(self) -> list[list[_Entry]]:
        """Every waiting group, oldest first."""
        return [self._take(k) for k in sorted(self.groups, key=lambda k: self.groups[k][0].seq)]


class _InOrder:
    """Puts finished items back in source order: ``put`` yields ``(entry, (result, error))`` pairs as soon as every
    earlier item is finished."""

    def __init__(self) -> None:
        self.next = 0
        self.ready: dict[int, tuple[_Entry, tuple[Any, str | None]]] = {}

    def put(self, batch: list[_Entry], results: dict[int, tuple[Any, str | None]]) -> Iterator[
            tuple[_Entry, tuple[Any, str | None]]]:
        for i, entry in enumerate(batch):
            self.ready[entry.seq] = (entry, results.get(i, (None, None)))
        while self.next in self.ready:
            yield self.ready.pop(self.next)
            self.next += 1


def _resolve(entry: Any) -> tuple[np.ndarray | None, str | None]:
    value = entry.result() if isinstance(entry, Future) else entry
    return (None, _reason(value)) if isinstance(value, BaseException) else (value, None)


def _read_safely(read: Callable[[Path], np.ndarray]) -> Callable[[Path], Any]:
    def run(path: Path) -> Any:
        try:
            return read(path)
        except (VisionError, OSError, MemoryError) as exc:  # a bad file is a failed item, not a failed run
            return exc

    return run


def run_batch(model: Any, sources: Sequence[str | os.PathLike[str]] | SourcePlan, *,
              out: str | os.PathLike[str] | None = None, formats: str | Sequence[str] | None = None,
              save_images: bool = False, shard: tuple[int, int] | str | None = None, batch_size: int = 8,
              workers: int | None = None, prefetch: int | None = None, predict_options: dict[str, Any] | None = None,
              meta: dict[str, Any] | None = None, max_pixels: int | None = None, task: str | None = None,
              torch_threads: int | None = None, lanes: int | None = None,
              on_result: Callable[[ItemResult], None] | None = None) -> BatchSummary:
    """Run ``model`` over every item of ``sources``; stream the results to ``out`` and/or ``on_result``.

    Args:
        model: anything with ``predict_batch(images, batch_size=...)`` or ``predict(image)`` → results with
            ``to_dict()`` (and ``task``: ``"detect"`` enables the coco / yolo formats).
        sources: SOURCE arguments (see :func:`~vision.infer.sources.expand_sources`) or a plan from it.
        out: the output folder (see :mod:`vision.infer.sinks`); None writes nothing (use ``on_result``).
        formats: ``"jsonl"`` (default), ``"csv"``, ``"coco"``, ``"yolo"`` or a comma list (with ``out``).
        save_images: write annotated images (:func:`vision.viz.annotate`) to ``out/images``.
        shard: ``(k, n)`` or ``"k/n"``: this machine's share of the items.
        batch_size: images per model call. workers: decoding (and file-writing) threads (default half the
            cores, 2 … 8: :func:`~vision.infer.lanes.default_workers`).
        prefetch: decoded images waiting for the model (default ``2 × batch_size``): the memory bound.
        predict_options: keyword arguments for every model call (e.g. ``{"top_k": 5}``).
        meta: what runs (model name, thresholds), stored in ``out/run.json``; a resume must match it.
        task: ``"classify"``, ``"detect"``, ...; default the model's ``task`` attribute (coco / yolo need detect).
        torch_threads: torch's intra-op threads during the run; default ``(cores − workers) // lanes`` (the cores this process may use) (at least
            1), so the decoding threads get cores of their own: OpenMP threads that share cores with busy decoders
            wait at every barrier (measured here on 2 cores: 2 torch threads + 2 decoders ran ~10× slower than
            1 + 2). Restored afterwards. Not changed when torch is not imported (a model that does not use it).
        lanes: model replicas inferring side by side, each on its own batch (:class:`_Lanes`); default 2 when there
            are 2 or more cores and more than one batch of images, else 1. Only models with a ``replicate()`` method
            (YOLO) get more than one lane. Results are written in source order either way.
        max_pixels: refuse images with more pixels (default :data:`vision.io.image.DEFAULT_MAX_PIXELS` or
            ``$VISION_MAX_PIXELS``); such items fail with ``ImageTooLargeError``.
        on_result: called in the calling thread with an :class:`ItemResult` per item, in source order.
    Returns:
        A :class:`BatchSummary`.
    Raises:
        InputError: bad options, no items, or ``out`` holding a run with other settings.
        SourceNotFoundError: a source that does not exist.
    """
    from vision.io import read_image

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"--batch-size must be ≥ 1; got {batch_size}")
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"--workers must be ≥ 1; got {workers}")
    prefetch = 2 * batch_size if prefetch is None else prefetch
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 1:
        raise InputError(f"prefetch must be ≥ 1; got {prefetch}")
    task = task or getattr(model, "task", None)
    fmts = parse_formats(formats, task="detect" if getattr(model, "instances", False) else task)
    if out is None and (formats is not None and fmts != ("jsonl",) or save_images):
        raise InputError("--format and --save-images write files: expected --out DIR")
    plan = sources if isinstance(sources, SourcePlan) else expand_sources(sources, shard=shard)
    if not plan.images and not plan.videos:
        raise InputError("no image or video files found in the sources; expected image files "
                         "(.jpg .png ...), folders, globs, a .txt list or videos")
    options = dict(predict_options or {})
    shard_text = f"{plan.shard[0]}/{plan.shard[1]}" if plan.shard else None
    folder = None
    if out is not None:
        folder = OutputFolder(out, {"task": task, **(meta or {}), "shard": shard_text,
                                    "save_images": bool(save_images)}, fmts).open()
    summary = BatchSummary(shard=shard_text)
    log.info("batch: %d image(s) (of %d), %d video(s), batch %d, %d worker(s)%s", len(plan.images),
             plan.total_images, len(plan.videos), batch_size, workers, f", shard {shard_text}" if shard_text else "")
    read = _read_safely(lambda p: read_image(p, max_pixels=max_pixels))
    q: queue.Queue = queue.Queue(maxsize=prefetch)
    if lanes is None:
        lanes = default_lanes(model, enough_work=len(plan.images) > batch_size or bool(plan.videos))
    keep_images = save_images or on_result is not None

    def infer(m: Any, batch: list[_Entry]) -> dict[int, tuple[Any, str | None]]:
        results = _infer(m, batch, options)
        if not keep_images:  # done with the pixels: items waiting for an earlier one to finish hold no image
            batch[:] = [entry._replace(image=None) for entry in batch]
        return results

    lane = Lanes(replicas(model, lanes), infer, name="vision-infer")
    t0 = time.perf_counter()

    batches, order = _Batches(batch_size, prefetch), _InOrder()

    def emit(finished: Iterator[tuple[list, dict]]) -> None:
        for done, results in finished:
            _emit(order.put(done, results), folder, writer, pending, summary, on_result, save_images)

    with compute_threads(torch_threads, reserved=workers, lanes=lane.size), \
            ThreadPoolExecutor(workers, thread_name_prefix="vision-decode") as pool, \
            ThreadPoolExecutor(workers, thread_name_prefix="vision-write") as writer:
        producer = _Producer(plan, pool, q, folder.is_done if folder else (lambda key: False), read)
        pending: deque[tuple[str, Future]] = deque()
        try:
            producer.start()
            seq = 0
            while True:
                entry = q.get()
                if entry is not _END:
                    item, payload = entry
                    for ready in batches.add(_Entry.of(seq, item, *_resolve(payload))):
                        emit(lane.submit(ready))
                    seq += 1
                else:
                    for ready in batches.flush():
                        emit(lane.submit(ready))
                    emit(lane.drain())
                _drain(pending, folder, limit=prefetch)
                if entry is _END:
                    break
            _drain(pending, folder, limit=0)
            if producer.error is not None:
                raise producer.error
        finally:
            lane.close()
            producer.stop.set()
            producer.join()
            for _, fut, _ in pending:
                fut.cancel()
            if folder is not None:
                folder.close()
    summary.seconds = time.perf_counter() - t0
    summary.skipped = producer.skipped
    if folder is not None:
        summary.failures = folder.failures()
        summary.files = folder.finish(summary.to_dict())
    return summary


def _infer(model: Any, batch: list[_Entry], options: dict[str, Any]) -> dict[int, tuple[Any, str | None]]:
    """``{index in batch: (result, error)}`` for the decoded images of ``batch``; a failing batch is retried one
    image at a time so one bad image fails alone. A bad option (``InputError``) stops the run."""
    good = [i for i, entry in enumerate(batch) if entry.image is not None]
    results: dict[int, tuple[Any, str | None]] = {}
    if good:
        images = [batch[i].image for i in good]
        try:
            outputs = _predict(model, images, options)
            results = {i: (r, None) for i, r in zip(good, outputs)}
        except Exception as exc:  # retried one by one so one bad image fails alone
            if type(exc) is InputError:  # a bad option (top_k=0, ...), not a bad image: the run stops
                raise
            log.debug("batch of %d failed (%s); retrying one by one", len(images), _reason(exc))
            for i in good:
                try:
                    results[i] = (_predict(model, [batch[i].image], options)[0], None)
                except Exception as one:  # noqa: BLE001 - the item's failure, with its reason
                    results[i] = (None, _reason(one))
    return results


def _emit(finished: Iterator[tuple[_Entry, tuple[Any, str | None]]], folder: OutputFolder | None,
          writer: ThreadPoolExecutor, pending: deque, summary: BatchSummary,
          on_result: Callable[[ItemResult], None] | None, save_images: bool) -> None:
    """Record finished items (in source order): results.jsonl, files to write, the done-list, ``on_result``."""
    for (_, item, image, error, shape), (result, model_error) in finished:
        error = error or model_error
        record = _record(item, result, error)
        if error is None:
            summary.processed += 1
        else:
            summary.failed += 1
            log.info("%s: %s", item.key, error)
        if folder is not None:
            names = getattr(result, "names", None)
            if names:
                folder.set_names(list(names))
            folder.write_record(record)
            jobs = _item_jobs(folder, record, result, image, shape, save_images) if error is None else []
            if jobs:
                pending.append((item.key, writer.submit(_write_files, jobs), None))
            elif pending:  # after the items still writing, so the done-list keeps source order
                pending.append((item.key, _done_future(), error))
            else:
                folder.mark_done(item.key, error)
        if on_result is not None:
            on_result(ItemResult(item, record, result, image if error is None else None, error))


def _done_future() -> Future:
    fut: Future = Future()
    fut.set_result(None)
    return fut


def _item_jobs(folder: OutputFolder, record: dict[str, Any], result: Any, image: np.ndarray | None,
               shape: tuple[int, ...] | None, save_images: bool) -> list[tuple[str, Path, Any]]:
    jobs: list[tuple[str, Path, Any]] = []
    suffix = ".jpg" if record.get("frame") is not None or Path(record["rel"]).suffix.lower() in (".jpg", ".jpeg") \
        else ".png"
    paths = folder.item_files(record, suffix)
    if "labels" in paths and record.get("task") == "detect":
        if record.get("image_shape") is None and shape is not None:
            record = {**record, "image_shape": list(shape[:2])}
        jobs.append(("labels", paths["labels"], yolo_label_text(record)))
    if save_images and image is not None:
        jobs.append(("image", paths["image"], (image, result)))
    return jobs


def _write_files(jobs: list[tuple[str, Path, Any]]) -> None:
    from vision.io import write_image
    from vision.io.files import atomic_write_text
    from vision.viz import annotate

    for kind, path, payload in jobs:
        if kind == "labels":
            atomic_write_text(path, payload)
        else:
            image, result = payload
            write_image(path, annotate(image, result), quality=90)


def _drain(pending: deque, folder: OutputFolder | None, *, limit: int) -> None:
    """Mark items done whose files are written, oldest first; block while more than ``limit`` are in flight."""
    while pending and (pending[0][1].done() or len(pending) > limit):
        key, fut, error = pending.popleft()
        try:
            fut.result()
        except (VisionError, OSError) as exc:  # e.g. disk full: the item failed, the run goes on
            error = _reason(exc)
            log.info("%s: %s", key, error)
        if folder is not None:
            folder.mark_done(key, error)
