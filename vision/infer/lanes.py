"""Inference lanes: model replicas running side by side, results taken back in submission order.

Used by the batch engine (:func:`vision.infer.batch.run_batch`) and by file streams
(:class:`vision.infer.stream.DetectionStream`). Why: on a few CPU cores a small network (yolov8n at 192 px) scales
poorly with torch's intra-op threads, and more intra-op threads than free cores stall at every OpenMP barrier while
decoder threads run; two single-threaded inferences side by side keep both cores busy with no barrier. A replica
per lane, because a model's predict is not assumed thread-safe (ultralytics' predictor keeps per-call state): only
models with a ``replicate()`` method (an independent copy: :meth:`vision.models.detection.yolo.YoloDetector.
replicate`) get more than one lane. One lane runs inline, with no thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from vision.errors import InputError, VisionError

__all__ = ["Lanes", "compute_threads", "cores", "default_lanes", "default_workers", "replicas"]

log = logging.getLogger(__name__)


def cores() -> int:
    """The CPU cores this process may run on (its affinity: ``taskset``, container cpusets), not the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


#: model → (its config when the copies were made, the copies): a later run reuses them (yolov8n: 0.14 s a copy, a
#: tenth of a 100-image run at 192 px on 2 cores); held weakly, so they go when the model goes
_SPARES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SPARES_LOCK = threading.Lock()


def replicas(model: Any, lanes: int) -> list[Any]:
    """``model`` and ``lanes − 1`` independent copies from its ``replicate()``; just ``[model]`` for a model without
    one (its thread safety unknown) or when a copy fails (logged). Copies are kept with the model for later runs
    and made again when its ``config`` has changed."""
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
        raise InputError(f"lanes must be ≥ 1; got {lanes!r}")
    if lanes == 1 or not callable(getattr(model, "replicate", None)):
        return [model]
    config = getattr(model, "config", None)
    with _SPARES_LOCK:
        try:
            made, spares = _SPARES.get(model, (config, []))
        except TypeError:  # an unhashable model: nothing kept
            made, spares = config, []
        spares = spares if made == config else []
        try:
            while len(spares) < lanes - 1:
                spares.append(model.replicate())
        except (VisionError, OSError, RuntimeError) as exc:
            log.warning("one inference lane: %s could not be replicated (%s)", type(model).__name__, exc)
            return [model]
        with contextlib.suppress(TypeError):
            _SPARES[model] = (config, spares)
    return [model, *spares[:lanes - 1]]


def default_lanes(model: Any, *, enough_work: bool) -> int:
    """2 when there are 2 or more cores, the model can be replicated and there is more than one call's work."""
    return 2 if enough_work and cores() >= 2 and callable(getattr(model, "replicate", None)) else 1


def default_workers() -> int:
    """Decoding threads for a batch run: half the cores, at least 2 and at most 8. On 16 cores (GPU hidden, 200
    1080p JPEGs, yolov8n at 192 px) 8 decoders with 2 lanes gave 140 images/s against 76–98 with 4; on 2 cores
    it is 2, as before."""
    return max(2, min(8, cores() // 2))


@contextlib.contextmanager
def compute_threads(threads: int | None, *, reserved: int = 0, lanes: int = 1) -> Iterator[None]:
    """torch's intra-op threads for a run, restored afterwards: ``threads``, or by default
    ``(cores() − reserved) // lanes`` (at least 1) so that ``reserved`` decoder threads get cores of their own.
    Nothing changes when torch is not imported (a model that does not use it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    wanted = threads if threads is not None else max(1, (cores() - reserved) // max(1, lanes))
    if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1:
        raise InputError(f"torch_threads must be ≥ 1; got {threads!r}")
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Lanes:
    """Runs ``fn(model, job)`` on ``len(models)`` replicas at once; results come back in submission order.

    ``submit(job)`` starts a job and yields the ``(job, result)`` pairs that are finished and next in order (at most
    ``size`` jobs are in flight; the call blocks on the oldest when the lanes are full); ``drain()`` yields the rest.
    An exception of ``fn`` is raised where its job's result is taken. With one model, ``fn`` runs inline.
    """

    def __init__(self, models: list[Any], fn: Callable[[Any, Any], Any], *, name: str = "vision-infer") -> None:
        self.fn = fn
        self.size = len(models)
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for m in models:
            self._free.put(m)
        self._pool = ThreadPoolExecutor(self.size, thread_name_prefix=name) if self.size > 1 else None
        self._inflight: deque[tuple[Any, Future]] = deque()

    def _run(self, job: Any) -> Any:
        model = self._free.get()
        try:
            return self.fn(model, job)
        finally:
            self._free.put(model)

    def submit(self, job: Any) -> Iterator[tuple[Any, Any]]:
        if self._pool is None:
            yield job, self._run(job)
            return
        self._inflight.append((job, self._pool.submit(self._run, job)))
        while len(self._inflight) > self.size or (self._inflight and self._inflight[0][1].done()):
            done, fut = self._inflight.popleft()
            yield done, fut.result()

    def full(self) -> bool:
        """Whether as many jobs are in flight as there are lanes."""
        return len(self._inflight) >= self.size

    def next(self) -> tuple[Any, Any] | None:
        """The oldest job in flight and its result (waiting for it), or None when nothing is in flight."""
        if not self._inflight:
            return None
        done, fut = self._inflight.popleft()
        return done, fut.result()

    def start(self, job: Any) -> None:
        """Start ``job`` without taking any result (a multi-lane pool; see :meth:`next`)."""
        if self._pool is None:
            raise VisionError("Lanes.start needs two or more lanes; with one, use submit()")
        self._inflight.append((job, self._pool.submit(self._run, job)))

    def drain(self) -> Iterator[tuple[Any, Any]]:
        while (pair := self.next()) is not None:
            yield pair

    def close(self) -> None:
        """Cancel what has not started and join the lane threads."""
        for _, fut in self._inflight:
            fut.cancel()
        self._inflight.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
