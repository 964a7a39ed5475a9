"""Torch threads per fit: one for a model too small to split, all of them otherwise, restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from studio.core.callbacks import Callback
from studio.core.engine import Trainer
from studio.core.engine.threads import SMALL_STEP_FLOPS, forward_flops, step_threads
from tests.core.test_engine import blobs, mlp_project

CPU = torch.device("cpu")


@pytest.fixture
def two_threads() -> Iterator[None]:
    """The suite runs with one thread (conftest); these tests need a choice to make."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_forward_flops_are_counted_per_batch_and_leave_the_model_as_it_was() -> None:
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    model.train()
    assert forward_flops(model, (64,), 32, CPU) == 32 * 2 * (64 * 128 + 128 * 10)  # 2 FLOPs per multiply-add
    assert model.training


def test_small_models_get_one_thread_and_big_ones_all() -> None:
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Linear(120, 10))
    big = forward_flops(lenet, (1, 28, 28), 64, CPU)
    assert big > SMALL_STEP_FLOPS and step_threads(big, 8) == 8
    assert step_threads(SMALL_STEP_FLOPS / 2, 8) == 1


class ThreadsSeen(Callback):
    def __init__(self) -> None:
        self.counts: set[int] = set()

    def on_train_batch_end(self, trainer: Trainer, event) -> None:
        self.counts.add(torch.get_num_threads())


def test_a_tiny_fit_trains_on_one_thread_and_gives_the_others_back(two_threads: None) -> None:
    seen = ThreadsSeen()
    trainer = Trainer(mlp_project(), data=blobs(), callbacks=[seen])
    assert trainer.threads == 1
    trainer.fit()
    assert seen.counts == {1}
    assert torch.get_num_threads() == 2

