"""Batches for the fit loop: in-memory tensors by slicing a seeded permutation, or a DataLoader.

Small datasets live as tensors on the training device; a per-sample ``DataLoader`` over them
costs 5-40% of throughput in Python overhead (see shared/conventions.md), so one permutation
per epoch is drawn and each batch is an ``index_select`` on the device. Image folders are read
from their decode-once cache a batch at a time (:class:`PixelBatches`: uint8 pixels copied out of
the memory map, made floats and preprocessed on the device); other streaming datasets go through a
``DataLoader`` with worker processes. Either way the order of an epoch is a pure function of
``(seed, epoch)``, so a fit can resume at any batch exactly.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from studio.core.data.preprocess import Preprocessing
from studio.core.data.stream import PreprocessedSubset

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


def batch_length(n: int, batch_size: int, index: int) -> int:
    """Samples in global batch ``index`` (0-based) of an epoch of ``n``."""
    return max(0, min(batch_size, n - index * batch_size))


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """The part ``[start, stop)`` of ``n`` items that process ``rank`` of ``world`` takes.

    Contiguous, and the sizes differ by at most one (the first ``n % world`` processes take one more).
    """
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


Shard = tuple[int, int]  # (rank, world size); (0, 1) for one process


class TensorBatches:
    """Batches of tensors that already sit on the training device (this process's share of each, under torchrun)."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        shuffle: bool,
        seed: int,
        shard: Shard = (0, 1),
        channels_last: bool = False,
    ) -> None:
        # Images for a channels_last network are kept as (N, H, W, C), so that every batch (a slice or an
        # index_select, which would return NCHW-contiguous rows) is a channels_last view without a copy.
        self.channels_last = channels_last and x.dim() == 4
        self.x = x.permute(0, 2, 3, 1).contiguous() if self.channels_last else x
        self.y = y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.shard = shard
        self.n = len(x)

    def __len__(self) -> int:
        return batch_count(self.n, self.batch_size)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """The batches of ``epoch``, from batch index ``start`` on (for resuming mid-epoch)."""
        bs, (rank, world) = self.batch_size, self.shard
        order = epoch_order(self.n, self.seed, epoch, True).to(self.x.device) if self.shuffle else None
        x, y = self.x, self.y
        for i in range(start * bs, self.n, bs):
            lo, hi = shard_bounds(min(bs, self.n - i), rank, world)
            if order is None:
                yield self._layout(x[i + lo : i + hi]), y[i + lo : i + hi]
            else:
                index = order[i + lo : i + hi]
                yield self._layout(x.index_select(0, index)), y.index_select(0, index)

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2) if self.channels_last else x


def sequential_batches(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> Iterator[Batch]:
    """Consecutive slices (views, no copies), for validation and evaluation."""
    for i in range(0, len(x), batch_size):
        yield x[i : i + batch_size], y[i : i + batch_size]


class EpochBatchSampler(Sampler[list[int]]):
    """This process's indices of each batch of the current epoch from a start batch; ``set_epoch`` before each pass.

    Empty shares (possible only in an epoch's last batch) are left out: a loader cannot read them.
    """

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int, shard: Shard = (0, 1)) -> None:
        self.n, self.batch_size, self.shuffle, self.seed, self.shard = n, batch_size, shuffle, seed, shard
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def __iter__(self) -> Iterator[list[int]]:
        order = epoch_order(self.n, self.seed, self.epoch, self.shuffle).tolist()
        bs = self.batch_size
        for i in range(self.start * bs, self.n, bs):
            lo, hi = shard_bounds(min(bs, self.n - i), *self.shard)
            if hi > lo:
                yield order[i + lo : i + hi]

    def __len__(self) -> int:
        return sum(1 for _ in self)


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
    """Batches read from a ``Dataset`` by worker processes and moved to the training device.

    On CUDA the loader pins its batches in page-locked memory, and the copy to the GPU is
    asynchronous (``non_blocking``): the next batch is read while the GPU computes.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: int,
        shuffle: bool,
        seed: int,
        device: torch.device,
        num_workers: int | None = None,
        shard: Shard = (0, 1),
        channels_last: bool = False,
    ) -> None:
        if not isinstance(dataset, Sized):
            raise TypeError("a streaming dataset must have a length")
        self.dataset = dataset
        self.n = len(dataset)
        self.batch_size = batch_size
        self.device = device
        self.sampler = EpochBatchSampler(self.n, batch_size, shuffle, seed, shard)
        workers = default_workers() if num_workers is None else num_workers
        self.pinned = pin_memory(device)
        self.channels_last = channels_last
        self.loader = DataLoader(
            dataset,
            batch_sampler=self.sampler,
            num_workers=workers,
            persistent_workers=workers > 0,
            multiprocessing_context=worker_context() if workers > 0 else None,
            pin_memory=self.pinned,
        )

    def __len__(self) -> int:
        return batch_count(self.n, self.batch_size)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        self.sampler.set_epoch(epoch, start)
        read = 0
        for x, y in self.loader:
            read += 1
            yield self._to_device(x), self._to_device(y)
        if read < len(self) - start:  # this process's share of the last batch is empty: it still takes the step
            x, y = (torch.as_tensor(v) for v in self.dataset[0])
            yield self._to_device(x[None][:0]), self._to_device(y[None][:0])

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.to(self.device, non_blocking=self.pinned)
        if self.channels_last and tensor.dim() == 4:  # reordered on the device, where it is cheap
            return tensor.contiguous(memory_format=torch.channels_last)
        return tensor


def pin_memory(device: torch.device) -> bool:
    """Page-locked host batches (and asynchronous copies) pay off only when a CUDA device receives them."""
    return device.type == "cuda"


class PixelBatches:
    """Batches of an image cache: uint8 pixels copied out of the memory map in the training thread, then made
    floats and preprocessed on the device in one fused step (``x * scale + shift``).

    No worker processes are needed: a batch is one copy of rows that are already decoded, far cheaper
    than any step of a network on pictures (so the per-sample DataLoader path is not taken).
    """

    def __init__(
        self,
        subset: PreprocessedSubset,
        batch_size: int,
        shuffle: bool,
        seed: int,
        device: torch.device,
        shard: Shard = (0, 1),
        channels_last: bool = False,
    ) -> None:
        self.subset = subset
        self.n = len(subset)
        self.batch_size = batch_size
        self.device = device
        self.sampler = EpochBatchSampler(self.n, batch_size, shuffle, seed, shard)
        self.channels_last = channels_last
        self.scale, self.shift = pixel_transform(subset.preprocessing, device)

    def __len__(self) -> int:
        return batch_count(self.n, self.batch_size)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        self.sampler.set_epoch(epoch, start)
        read = 0
        for positions in self.sampler:
            read += 1
            yield self.batch(np.asarray(positions, dtype=np.int64))
        if read < len(self) - start:  # this process's share of the last batch is empty: it still takes the step
            yield self.batch(np.zeros(0, dtype=np.int64))

    def batch(self, positions: np.ndarray) -> Batch:
        """The samples at ``positions`` of the subset, preprocessed, on the device."""
        pixels, labels = self.subset.read(positions)
        x = pixels.to(self.device, non_blocking=pin_memory(self.device)).to(torch.float32)
        x = x.mul_(self.scale) if self.shift is None else torch.addcmul(self.shift, x, self.scale)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, labels.to(self.device)


def pixel_transform(preprocessing: Preprocessing, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(scale, shift) with ``pixels * scale + shift == preprocessing.apply(pixels / 255)`` (shift None: no mean)."""
    std = torch.as_tensor(preprocessing.std, device=device) if preprocessing.std is not None else None
    scale = (1.0 / (255.0 * std)) if std is not None else torch.tensor(1.0 / 255.0, device=device)
    if preprocessing.mean is None:
        return scale, None
    mean = torch.as_tensor(preprocessing.mean, device=device)
    return scale, (-mean / std) if std is not None else -mean


StreamBatches = LoaderBatches | PixelBatches


def stream_batches(
    dataset: Dataset[Any],
    batch_size: int,
    shuffle: bool,
    seed: int,
    device: torch.device,
    shard: Shard = (0, 1),
    channels_last: bool = False,
) -> StreamBatches:
    """Batches of a streaming dataset: :class:`PixelBatches` for an image cache, else a :class:`LoaderBatches`."""
    if isinstance(dataset, PreprocessedSubset) and dataset.pixels:
        return PixelBatches(dataset, batch_size, shuffle, seed, device, shard, channels_last)
    return LoaderBatches(dataset, batch_size, shuffle, seed, device, shard=shard, channels_last=channels_last)
