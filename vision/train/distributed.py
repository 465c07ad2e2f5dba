"""Several training processes (``torchrun``) through ``torch.distributed``: what the :class:`Trainer` needs and no more.

``torchrun --nproc-per-node N script.py`` starts N copies of a script with ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set. :func:`distributed_context` joins that process group
(gloo on CPU, NCCL on CUDA) the first time a trainer is built, so an unchanged single-process script runs under
torchrun. The trainer then wraps the model in ``DistributedDataParallel``, gives each process its share of a
``DataLoader`` (:func:`shard_loader`, a ``DistributedSampler`` seeded from the loader's generator), sums the
epoch's loss over processes, gathers the task's metric state, and writes files (checkpoints, logs) on rank 0 only.
Everything else is torch's own; these are the few joins between it and the loop.
"""

from __future__ import annotations

import atexit
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch

from vision.errors import InputError

__all__ = ["DistributedContext", "distributed_context", "shard_loader"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: ``rank`` of ``world_size`` processes (``local_rank`` on this machine)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files."""
        return self.rank == 0

    def sum(self, values: list[float]) -> list[float]:
        """``values`` summed element-wise over all processes (unchanged with one process)."""
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def any(self, flag: bool) -> bool:
        """True when ``flag`` is True in any process (so all processes stop together)."""
        return bool(self.sum([float(flag)])[0]) if self.enabled else bool(flag)

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` from every process, in rank order (``[obj]`` with one process)."""
        if not self.enabled:
            return [obj]
        out: list[Any] = [None] * self.world_size
        torch.distributed.all_gather_object(out, obj)
        return out


def distributed_context(device: torch.device) -> DistributedContext:
    """This process's :class:`DistributedContext`, joining torchrun's process group if it is not joined yet.

    Args:
        device: the training device; CUDA uses the NCCL backend, anything else gloo.

    Raises:
        InputError: ``WORLD_SIZE`` > 1 without the other torchrun variables.
    """
    dist = torch.distributed
    if not dist.is_available():
        return DistributedContext()
    if not dist.is_initialized():
        world = int(os.environ.get("WORLD_SIZE", "1") or 1)
        if world <= 1:
            return DistributedContext()
        missing = [k for k in ("RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise InputError(f"WORLD_SIZE={world} but {missing} are not set; expected the variables torchrun sets "
                             "(start the script with `torchrun --nproc-per-node N script.py`)")
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        # The group we joined is ours to leave: a process that exits with gloo's threads still alive aborts
        # ("terminate called without an active exception", SIGABRT) instead of exiting 0.
        atexit.register(_leave_group)
        logger.info("joined process group: rank %d of %d (%s)", dist.get_rank(), world, backend)
    return DistributedContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0") or 0))


def _leave_group() -> None:
    """At interpreter exit: wait for the other processes, then destroy the process group we joined.

    Without the barrier, gloo's worker threads can still hold finished work (and its tensors) while the interpreter
    is torn down, and one process aborts at exit about one run in three (torch 2.14, CPU, two processes).
    """
    dist = torch.distributed
    if not dist.is_initialized():
        return
    try:
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=timedelta(seconds=60))  # a peer that died is named, not waited for
        else:
            dist.barrier()
    except RuntimeError as exc:
        logger.warning("rank %d: the other processes did not reach the end (%s)", dist.get_rank(), exc)
    finally:
        dist.destroy_process_group()


def shard_loader(loader: Any, ctx: DistributedContext) -> Any:
    """``loader`` rebuilt so that each process reads its own 1/world_size of the data each epoch.

    A ``DataLoader`` with a ``DistributedSampler`` already is returned as is. Otherwise the dataset gets a
    ``DistributedSampler`` that shuffles when the original loader shuffled, seeded from the loader's generator
    (so every process draws the same permutation and resuming replays it), with the same batch size, workers,
    collate function and ``drop_last``. Any other iterable is returned unchanged (each process then trains on all
    of it; a warning says so).

    Raises:
        InputError: a ``DataLoader`` with its own ``batch_sampler`` (give it a ``DistributedSampler`` yourself).
    """
    from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

    if not ctx.enabled:
        return loader
    if not isinstance(loader, DataLoader):
        logger.warning("training data is a %s, not a DataLoader: each of the %d processes trains on all of it",
                       type(loader).__name__, ctx.world_size)
        return loader
    if isinstance(loader.sampler, DistributedSampler):
        return loader
    if loader.batch_size is None:
        raise InputError("the training DataLoader uses its own batch_sampler; under torchrun give it a "
                         "DistributedSampler-based sampler yourself (expected batch_size= and shuffle=)")
    gen = loader.generator if isinstance(loader.generator, torch.Generator) else None
    seed = int(gen.initial_seed()) % 2**63 if gen is not None else 0
    sampler = DistributedSampler(loader.dataset, num_replicas=ctx.world_size, rank=ctx.rank,
                                 shuffle=isinstance(loader.sampler, RandomSampler), seed=seed,
                                 drop_last=loader.drop_last)
    extra: dict[str, Any] = {}
    if loader.num_workers > 0:
        extra = {"prefetch_factor": loader.prefetch_factor, "persistent_workers": loader.persistent_workers}
    return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler, num_workers=loader.num_workers,
                      collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last,
                      timeout=loader.timeout, worker_init_fn=loader.worker_init_fn, **extra)
