"""Training under torchrun: one process per device, gradients averaged by DistributedDataParallel.

``torchrun --nproc-per-node N main.py train PROJECT.json`` starts N copies of the command line;
torchrun tells each its place through environment variables (:class:`Launch`). Every process
computes the same epoch order from ``(seed, epoch)`` and takes its share of each *global* batch
(``training.batch_size``), so N processes compute the same updates as one: each process's loss
is weighted by its share of the batch before DDP averages the gradients, batch norm layers
normalise over the global batch (:mod:`studio.core.engine.sync_norm`, or ``nn.SyncBatchNorm`` on
CUDA), and the losses, accuracies and validation metrics are summed over all processes.
Rank 0 alone writes (run folder, checkpoints, events). Stop and pause requests are agreed on
by all processes at the same step. A process that dies makes the next collective fail on the
others, which stop with one clear line (:class:`RankFailed`) instead of waiting forever.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from studio.core.device import absent_reason, available_devices, cuda_count
from studio.core.engine import sync_norm
from studio.core.engine.batching import shard_bounds
from studio.core.errors import ConfigError, StudioError

# The communication library for each kind of device.
BACKENDS = {"cuda": "nccl", "cpu": "gloo"}
# How long a process waits in a collective for the others (a hung, not dead, peer on another node).
TIMEOUT = timedelta(minutes=10)
# Words in the error of a collective whose peer is gone (gloo: "Connection closed by peer"; NCCL: "NCCL error").
_PEER_GONE = ("connection closed", "connection reset", "read error", "gloo", "nccl", "timed out", "broken pipe")


class RankFailed(StudioError):
    """Another process of the same torchrun job died or stopped answering; this one stops too."""

    exit_code = 1


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun job, from the environment torchrun sets."""

    rank: int
    local_rank: int
    world_size: int
    local_world_size: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Launch | None:
        """The launch torchrun describes, or None for a plain single process (torchrun with one process too)."""
        env = os.environ if env is None else env
        if "RANK" not in env or "WORLD_SIZE" not in env or int(env["WORLD_SIZE"]) < 2:
            return None
        world = int(env["WORLD_SIZE"])
        local = int(env.get("LOCAL_RANK", env["RANK"]))
        return cls(int(env["RANK"]), local, world, int(env.get("LOCAL_WORLD_SIZE", world)))

    @property
    def writer(self) -> bool:
        """Only rank 0 writes files and events."""
        return self.rank == 0


def check_launch(device: str, batch_size: int, world_size: int, local_world_size: int) -> str:
    """The device kind N processes train on; a :class:`ConfigError` when this machine or project cannot.

    Run before any process group exists (and by ``train --nproc-per-node`` before torchrun starts), so a
    bad setting is one line, not N tracebacks.
    """
    kinds = available_devices()
    # "auto" takes the best device several processes can share the work on (CUDA, else the CPU; never MPS).
    kind = next(k for k in kinds if k in BACKENDS) if device == "auto" else device.split(":")[0]
    if kind not in kinds:
        raise ConfigError(f"{world_size} processes need the project's device '{device}', but this computer has"
                          f" no {kind.upper()} device ({absent_reason(kind)}); choose 'auto' or 'cpu'", field="device")
    if kind not in BACKENDS:
        raise ConfigError(f"{kind.upper()} trains in one process only; choose 'cpu' or 'cuda' for several processes",
                          field="device")
    if ":" in device:
        raise ConfigError(f"the project is pinned to {device}; with several processes each takes its own GPU:"
                          " choose 'cuda' or 'auto'", field="device")
    if kind == "cuda" and local_world_size > cuda_count():
        raise ConfigError(f"{local_world_size} processes on this computer need a GPU each, but it has"
                          f" {cuda_count()}; start at most {cuda_count()}", field="device")
    if world_size > batch_size:
        raise ConfigError(f"the batch size ({batch_size}) is smaller than the number of processes ({world_size}):"
                          " each process needs at least one sample per step", field="batch_size")
    return kind


class Group:
    """This process's process group: its rank, the collectives the trainer needs, and DDP wrapping.

    Every collective goes through here so that a failure of another process becomes a
    :class:`RankFailed` with one clear line.
    """

    def __init__(self, launch: Launch, device: torch.device, timeout: timedelta = TIMEOUT) -> None:
        self.launch = launch
        self.device = device
        self.backend = BACKENDS[device.type]
        if not dist.is_initialized():
            dist.init_process_group(self.backend, timeout=timeout, device_id=_device_id(device))

    @property
    def rank(self) -> int:
        return self.launch.rank

    @property
    def world_size(self) -> int:
        return self.launch.world_size

    @property
    def writer(self) -> bool:
        return self.launch.writer

    def shard(self, n: int) -> tuple[int, int]:
        """This process's ``[start, stop)`` of ``n`` items (a global batch, the validation set)."""
        return shard_bounds(n, self.rank, self.world_size)

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over all processes, in place."""
        with guarded():
            dist.all_reduce(tensor)
        return tensor

    def agree(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag is true everywhere when it is true in any process (a stop asked of one rank stops all)."""
        votes = torch.tensor([float(flag) for flag in flags], device=self.device)
        with guarded():
            dist.all_reduce(votes, op=dist.ReduceOp.MAX)
        return tuple(bool(v) for v in votes.tolist())

    def barrier(self) -> None:
        with guarded():
            dist.barrier(device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def wrap(self, model: nn.Module, sync_batchnorm: bool) -> nn.Module:
        """``model`` in DDP, its batch norm layers synchronised first unless ``sync_batchnorm`` is off."""
        if sync_batchnorm:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model) if self.device.type == "cuda" else \
                sync_norm.convert(model)
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def peer_failure(exc: BaseException) -> RankFailed | None:
    """The :class:`RankFailed` that ``exc`` means, when it is a collective that lost a peer (else None)."""
    if isinstance(exc, RankFailed):
        return exc
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    if not any(word in text.lower() for word in _PEER_GONE):
        return None
    detail = text.splitlines()[0] if text else type(exc).__name__
    detail = detail.split("] ", 1)[-1].split(". This is typically")[0]  # drop gloo's source path and advice
    return RankFailed(f"another process of this run failed or was killed ({detail}); this one stops too."
                      " The checkpoints written so far are intact: resume from the newest")


@contextmanager
def guarded() -> Iterator[None]:
    """Turn a collective that lost a peer (inside the block) into :class:`RankFailed`."""
    try:
        yield
    except RuntimeError as exc:
        failure = peer_failure(exc)
        if failure is None:
            raise
        raise failure from None


def _device_id(device: torch.device) -> torch.device | None:
    """NCCL binds a process group to this process's GPU (so collectives never touch another process's GPU)."""
    if device.type != "cuda":
        return None
    torch.cuda.set_device(device)
    return device


def rank_device(kind: str, launch: Launch) -> torch.device:
    """This process's device: its own GPU (``cuda:LOCAL_RANK``) or the CPU."""
    return torch.device("cuda", launch.local_rank) if kind == "cuda" else torch.device("cpu")
