"""Batching: the order of an epoch is a pure function of (seed, epoch); tensors and DataLoader agree."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from studio.core.data import PreparedData, Preprocessing
from studio.core.engine import Trainer
from studio.core.engine.batching import (
    LoaderBatches,
    TensorBatches,
    batch_count,
    batch_length,
    epoch_order,
    pin_memory,
    shard_bounds,
)
from tests.core.test_engine import blobs, metrics, mlp_project

X = torch.arange(22.0).reshape(11, 2)
Y = torch.arange(11)


def order(batches, epoch: int, start: int = 0) -> list[int]:
    return [int(v) for _, y in batches.epoch(epoch, start) for v in y]


def test_each_epoch_is_a_seeded_permutation() -> None:
    batches = TensorBatches(X, Y, batch_size=4, shuffle=True, seed=3)
    assert len(batches) == batch_count(11, 4) == 3
    sizes = [len(y) for _, y in batches.epoch(0)]
    assert sizes == [4, 4, 3]
    first = order(batches, 0)
    assert sorted(first) == list(range(11))
    assert first == order(TensorBatches(X, Y, 4, True, seed=3), 0)  # same seed and epoch: same order
    assert first != order(batches, 1) and first != order(TensorBatches(X, Y, 4, True, seed=4), 0)
    for x, y in batches.epoch(0):
        assert torch.equal(x, X[y])  # inputs stay paired with their targets
    assert order(batches, 0, start=1) == first[4:]  # resuming skips whole batches


def test_without_shuffle_batches_are_views_in_order() -> None:
    batches = TensorBatches(X, Y, batch_size=5, shuffle=False, seed=0)
    assert order(batches, 0) == order(batches, 1) == list(range(11))
    x, _ = next(iter(batches.epoch(0)))
    assert x.data_ptr() == X.data_ptr()  # a slice, not a copy


def test_dataloader_batches_follow_the_same_order() -> None:
    loader = LoaderBatches(TensorDataset(X, Y), 4, shuffle=True, seed=3, device=torch.device("cpu"), num_workers=0)
    tensors = TensorBatches(X, Y, 4, True, seed=3)
    assert len(loader) == 3
    for epoch in (0, 1):
        assert order(loader, epoch) == order(tensors, epoch) == epoch_order(11, 3, epoch, True).tolist()
    assert order(loader, 1, start=2) == order(tensors, 1)[8:]


def test_streaming_data_trains_like_in_memory_data() -> None:
    data = blobs()
    streaming = PreparedData(
        None, None, None, None, data.input_shape, data.task, data.num_classes, data.class_names, 0,
        Preprocessing("none"), streaming=True,
        train_set=TensorDataset(data.x_train, data.y_train), val_set=TensorDataset(data.x_val, data.y_val),
    )
    in_memory = Trainer(mlp_project(), data=data).fit()
    streamed = Trainer(mlp_project(), data=streaming).fit()
    assert metrics(streamed.history) == metrics(in_memory.history)


def test_shards_split_a_batch_contiguously_and_evenly() -> None:
    assert [shard_bounds(10, r, 3) for r in range(3)] == [(0, 4), (4, 7), (7, 10)]
    assert [shard_bounds(1, r, 2) for r in range(2)] == [(0, 1), (1, 1)]  # a share may be empty
    assert [batch_length(11, 4, i) for i in range(4)] == [4, 4, 3, 0]


def test_the_shards_of_every_batch_make_up_the_one_process_batch() -> None:
    """Two processes (shuffled or not, tensors or a loader) together see exactly one process's batches."""
    for shuffle in (True, False):
        whole = [y.tolist() for _, y in TensorBatches(X, Y, 4, shuffle, seed=3).epoch(1, start=1)]
        parts = [TensorBatches(X, Y, 4, shuffle, seed=3, shard=(r, 2)) for r in range(2)]
        loaders = [LoaderBatches(TensorDataset(X, Y), 4, shuffle, 3, torch.device("cpu"), 0, shard=(r, 2))
                   for r in range(2)]
        for shards in (parts, loaders):
            batches = [[y.tolist() for _, y in shard.epoch(1, start=1)] for shard in shards]
            assert [a + b for a, b in zip(*batches, strict=True)] == whole
            assert [len(b) for b in batches[0]] == [2, 2]


def test_an_empty_share_is_still_a_step() -> None:
    """With 9 samples in batches of 4 on 2 processes, the last batch has 1 sample: process 1 gets an empty batch."""
    x, y = X[:9], Y[:9]
    for batches in (TensorBatches(x, y, 4, True, 0, shard=(1, 2)),
                    LoaderBatches(TensorDataset(x, y), 4, True, 0, torch.device("cpu"), 0, shard=(1, 2))):
        sizes = [(tuple(bx.shape), len(by)) for bx, by in batches.epoch(0)]
        assert sizes == [((2, 2), 2), ((2, 2), 2), ((0, 2), 0)]


def test_only_a_cuda_device_gets_pinned_batches() -> None:
    assert pin_memory(torch.device("cuda", 0))
    assert not pin_memory(torch.device("cpu")) and not pin_memory(torch.device("mps"))
    loader = LoaderBatches(TensorDataset(X, Y), 4, True, 0, torch.device("cpu"), 0)
    assert not loader.pinned and not loader.loader.pin_memory
    on_gpu = LoaderBatches(TensorDataset(X, Y), 4, True, 0, torch.device("cuda", 0), 0)  # built, never read here
    assert on_gpu.pinned and on_gpu.loader.pin_memory  # and its copies to the GPU are non_blocking


def test_channels_last_batches_are_the_same_numbers_in_the_other_layout() -> None:
    images = torch.arange(5 * 3 * 2 * 2, dtype=torch.float32).reshape(5, 3, 2, 2)
    labels = torch.arange(5)
    plain = TensorBatches(images, labels, 2, True, seed=1)
    last = TensorBatches(images, labels, 2, True, seed=1, channels_last=True)
    loader = LoaderBatches(TensorDataset(images, labels), 2, True, 1, torch.device("cpu"), 0, channels_last=True)
    for (a, ya), (b, yb), (c, yc) in zip(plain.epoch(0), last.epoch(0), loader.epoch(0), strict=True):
        assert torch.equal(a, b) and torch.equal(a, c) and torch.equal(ya, yb) and torch.equal(ya, yc)
        assert b.is_contiguous(memory_format=torch.channels_last) and c.is_contiguous(memory_format=torch.channels_last)
    flat = TensorBatches(X, Y, 4, True, seed=0, channels_last=True)  # not images: left as they are
    assert torch.equal(next(iter(flat.epoch(0)))[0], next(iter(TensorBatches(X, Y, 4, True, seed=0).epoch(0)))[0])
