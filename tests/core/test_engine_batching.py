"""Batching: the order of an epoch is a pure function of (seed, epoch); tensors and DataLoader agree."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from studio.core.data import PreparedData, Preprocessing
from studio.core.engine import Trainer
from studio.core.engine.batching import LoaderBatches, TensorBatches, batch_count, epoch_order
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
