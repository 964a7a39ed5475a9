"""Batches for the fit loop: in-memory tensors by slicing a seeded permutation, or a DataLoader.

Small datasets live as tensors on the training device; a per-sample ``DataLoader`` over them
costs 5-40% of throughput in Python overhead (see shared/conventions.md), so one permutation
per epoch is drawn and each batch is an ``index_select`` on the device. Large datasets (image
folders) stream through a ``DataLoader`` with worker processes. Either way the order of an
epoch is a pure function of ``(seed, epoch)``, so a fit can resume at any batch exactly.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sized

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

Batch = tuple[torch.Tensor, torch.Tensor]


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A CPU generator for the order of one epoch; independent of everything but ``seed`` and ``epoch``."""
    state = np.random.SeedSequence([seed & 0xFFFFFFFF, epoch]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool) -> torch.Tensor:
    """The sample indices of ``epoch`` (CPU, int64)."""
    if not shuffle:
        return torch.arange(n)
    return torch.randperm(n, generator=epoch_generator(seed, epoch))


def batch_count(n: int, batch_size: int) -> int:
    """Batches per epoch; the last one may be smaller (nothing is dropped)."""
    return -(-n // batch_size)


class TensorBatches:
    """Batches of tensors that already sit on the training device."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool, seed: int) -> None:
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.n = len(x)

    def __len__(self) -> int:
        return batch_count(self.n, self.batch_size)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """The batches of ``epoch``, from batch index ``start`` on (for resuming mid-epoch)."""
        bs = self.batch_size
        if not self.shuffle:
            for i in range(start * bs, self.n, bs):
                yield self.x[i : i + bs], self.y[i : i + bs]
            return
        order = epoch_order(self.n, self.seed, epoch, True).to(self.x.device)
        x, y = self.x, self.y
        for i in range(start * bs, self.n, bs):
            index = order[i : i + bs]
            yield x.index_select(0, index), y.index_select(0, index)


def sequential_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> Iterator[Batch]:
    """Consecutive slices (views, no copies), for validation and evaluation."""
    for i in range(0, len(x), batch_size):
        yield x[i : i + batch_size], y[i : i + batch_size]


class EpochSampler(Sampler[int]):
    """Indices of the current epoch from a start position; ``set_epoch`` before each pass."""

    def __init__(self, n: int, shuffle: bool, seed: int) -> None:
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __iter__(self) -> Iterator[int]:
        return iter(epoch_order(self.n, self.seed, self.epoch, self.shuffle)[self.start :].tolist())

    def __len__(self) -> int:
        return self.n - self.start


def worker_context() -> str | None:
    """Start loader workers by forkserver where it exists, never by plain fork.

    The GUI trains in a QThread: forking a process that runs other threads can copy locks held
    by them and deadlock the child. forkserver forks from a clean single-threaded server instead.
    """
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None


def default_workers() -> int:
    """Loader worker processes: leave one core for the training loop itself."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class LoaderBatches:
    """Batches read from a ``Dataset`` by worker processes and moved to the training device."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        shuffle: bool,
        seed: int,
        device: torch.device,
        num_workers: int | None = None,
    ) -> None:
        if not isinstance(dataset, Sized):
            raise TypeError("a streaming dataset must have a length")
        self.n = len(dataset)
        self.batch_size = batch_size
        self.device = device
        self.sampler = EpochSampler(self.n, shuffle, seed)
        workers = default_workers() if num_workers is None else num_workers
        self.loader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=self.sampler,
            num_workers=workers,
            persistent_workers=workers > 0,
            multiprocessing_context=worker_context() if workers > 0 else None,
            pin_memory=device.type == "cuda",
        )

    def __len__(self) -> int:
        return batch_count(self.n, self.batch_size)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        self.sampler.set_epoch(epoch, start * self.batch_size)
        non_blocking = self.device.type == "cuda"
        for x, y in self.loader:
            yield x.to(self.device, non_blocking=non_blocking), y.to(self.device, non_blocking=non_blocking)
